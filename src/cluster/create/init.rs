//! "Starting control-plane": `kubeadm init` on the bootstrap control plane with kindling's
//! PKI already in place; a one-container cluster then has its control-plane taint removed.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::kubeadm;
use anyhow::Context as _;

/// Runs `kubeadm init` and, for single-node clusters, the untaint commands.
pub(super) async fn run(ctx: &Ctx, nodes: &[Node], kube: &Kube) -> anyhow::Result<()> {
    let version = kube.bootstrap_version();
    if let Some(node) = nodes.iter().find(|n| n.name == kube.bootstrap) {
        node.ready().await?;
    }
    let out = ctx
        .engine
        .exec_ok(&kube.bootstrap, &kubeadm::init_command(version), None)
        .await
        .context("failed to init node with kubeadm")?;
    ctx.reporter
        .debug(3, &String::from_utf8_lossy(&out.combined));
    if nodes.len() == 1 {
        // kind's commands in kind's order, in one exec: each exec is a round trip on the
        // critical path of a one-node create.
        let script = kubeadm::untaint_commands(version)
            .iter()
            .map(|argv| crate::util::shell_join(argv))
            .collect::<Vec<_>>()
            .join(" && ");
        let argv = vec!["sh".to_string(), "-c".to_string(), script];
        ctx.engine
            .exec_ok(&kube.bootstrap, &argv, None)
            .await
            .context("failed to remove control plane taint")?;
    }
    Ok(())
}

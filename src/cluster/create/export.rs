//! Writing the user's kubeconfig at the end of create (kind-facts §5): `kind-<name>` entries
//! merged into the right file, under its lock, waiting for other writers instead of failing.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::{access, context_name};
use crate::kubeconfig::{self, LockOptions};
use std::path::PathBuf;

/// Where the kubeconfig went.
pub(super) struct Exported {
    pub path: PathBuf,
    pub context: String,
    pub server: String,
}

/// Builds the kubeconfig from the cluster's admin.conf and merges it into the user's file.
pub(super) async fn run(ctx: &Ctx, nodes: &[Node], kube: &Kube) -> anyhow::Result<Exported> {
    let endpoint = nodes
        .iter()
        .find(|n| n.role == crate::config::NodeRole::ExternalLoadBalancer)
        .or_else(|| {
            nodes
                .iter()
                .find(|n| n.role == crate::config::NodeRole::ControlPlane)
        })
        .map(|n| n.name.clone())
        .unwrap_or_default();
    let server = format!(
        "https://{}",
        access::host_endpoint(&ctx.engine, &endpoint).await?
    );
    // kind reads admin.conf back from the node; it is the file kindling wrote there.
    let kubeconfig =
        crate::kubeconfig::kind_kubeconfig(&kube.admin_conf, &ctx.name, Some(&server))?;
    let path = ctx.request.kubeconfig.merge_target().to_path_buf();
    let written = ctx.kubeconfig_written.clone();
    let target = path.clone();
    let lock = LockOptions::reporting_to(ctx.reporter.clone());
    // On the tracker: a rollback must know whether the entry landed before it looks.
    let merge = ctx.tracker.spawn_blocking(move || {
        let result = kubeconfig::merge_into_file(&target, &kubeconfig, &lock);
        if result.is_ok() {
            *written.lock().unwrap_or_else(|p| p.into_inner()) = Some(target);
        }
        result
    });
    match merge.await {
        Ok(result) => {
            result.map_err(|e| anyhow::Error::new(e).context("failed to export kubeconfig"))?
        }
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => anyhow::bail!("failed to export kubeconfig: {e}"),
    }
    ctx.reporter.info(&format!(
        "Set kubectl context to \"{}\"",
        context_name(&ctx.name)
    ));
    Ok(Exported {
        path,
        context: context_name(&ctx.name),
        server,
    })
}

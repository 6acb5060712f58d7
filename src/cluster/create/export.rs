//! Writing the user's kubeconfig at the end of create (kind-facts §5): `kind-<name>` entries
//! merged into the right file, under its lock, waiting for other writers instead of failing.

use super::{Ctx, Node};
use crate::cluster::{access, context_name};
use crate::kubeconfig::{self, LockOptions};
use crate::pki::ClusterPki;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the kubeconfig went.
pub(super) struct Exported {
    pub path: PathBuf,
    pub context: String,
    pub server: String,
}

/// Builds the kubeconfig from the cluster's admin.conf and merges it into the user's file.
pub(super) async fn run(
    ctx: &Ctx,
    nodes: &[Node],
    _pki: &Arc<ClusterPki>,
) -> anyhow::Result<Exported> {
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
    let kubeconfig = access::cluster_kubeconfig(&ctx.engine, &ctx.name, false).await?;
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

//! "Installing StorageClass": the node image's `/kind/manifests/default-storage.yaml`, or kind's
//! host-path fallback when the image has none.

use super::cni::argv;
use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::manifests;
use anyhow::Context as _;

/// Applies `/kind/manifests/default-storage.yaml`, or kind's host-path fallback.
pub(super) async fn run(ctx: &Ctx, _nodes: &[Node], kube: &Kube) -> anyhow::Result<()> {
    let read = ctx
        .engine
        .exec_ok(
            &kube.bootstrap,
            &argv(&["cat", "/kind/manifests/default-storage.yaml"]),
            None,
        )
        .await;
    let manifest = match read {
        Ok(out) => out.stdout_text(),
        Err(_) => {
            ctx.reporter.warn(
                "Could not read storage manifest, falling back on old k8s.io/host-path default ...",
            );
            manifests::FALLBACK_STORAGE_MANIFEST.to_string()
        }
    };
    super::kubectl::apply(ctx, &kube.bootstrap, manifest)
        .await
        .context("failed to add default storage class")?;
    Ok(())
}

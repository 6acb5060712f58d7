//! "Installing StorageClass": the node image's `/kind/manifests/default-storage.yaml`, or kind's
//! host-path fallback when the image has none.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::manifests;
use anyhow::Context as _;

/// Applies `/kind/manifests/default-storage.yaml`, or kind's host-path fallback.
pub(super) async fn run(ctx: &Ctx, _nodes: &[Node], kube: &Kube) -> anyhow::Result<()> {
    // Read from the node image while the nodes booted (config.rs).
    let manifest = match &kube.storage_manifest {
        Some(manifest) => manifest.clone(),
        None => {
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

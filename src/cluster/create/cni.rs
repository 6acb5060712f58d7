//! "Installing CNI": the node image's `/kind/manifests/default-cni.yaml`, templated and patched
//! as kind does, applied with the control plane's kubectl (skipped with `disableDefaultCNI`).

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::manifests;
use anyhow::Context as _;
use bytes::Bytes;

/// kubectl's flag pointing at the control plane's admin kubeconfig.
pub(super) const ADMIN_KUBECONFIG: &str = "--kubeconfig=/etc/kubernetes/admin.conf";

/// An argv from string slices.
pub(super) fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Applies `/kind/manifests/default-cni.yaml`, templated and patched as kind does.
pub(super) async fn run(ctx: &Ctx, _nodes: &[Node], kube: &Kube) -> anyhow::Result<()> {
    // Read from the node image while the nodes booted (config.rs).
    let Some(manifest) = &kube.cni_manifest else {
        return Ok(());
    };
    let rendered =
        manifests::render_cni(manifest, &ctx.config.networking.pod_subnet, &kube.endpoint)
            .context("failed to read CNI manifest")?;
    ctx.engine
        .exec_ok(
            &kube.bootstrap,
            &argv(&["kubectl", "create", ADMIN_KUBECONFIG, "-f", "-"]),
            Some(Bytes::from(rendered)),
        )
        .await
        .context("failed to apply overlay network")?;
    Ok(())
}

//! "Installing CNI" and "Installing StorageClass": the node image's manifests, applied with
//! the control plane's kubectl.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::manifests;
use anyhow::Context as _;
use bytes::Bytes;

const ADMIN_KUBECONFIG: &str = "--kubeconfig=/etc/kubernetes/admin.conf";

fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Applies `/kind/manifests/default-cni.yaml`, templated and patched as kind does.
pub(super) async fn install_cni(ctx: &Ctx, _nodes: &[Node], kube: &Kube) -> anyhow::Result<()> {
    let manifest = ctx
        .engine
        .exec_ok(
            &kube.bootstrap,
            &argv(&["cat", "/kind/manifests/default-cni.yaml"]),
            None,
        )
        .await
        .context("failed to read CNI manifest")?;
    let rendered = manifests::render_cni(
        &manifest.stdout_text(),
        &ctx.config.networking.pod_subnet,
        &kube.endpoint,
    )
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

/// Applies `/kind/manifests/default-storage.yaml`, or kind's host-path fallback.
pub(super) async fn install_storage(ctx: &Ctx, _nodes: &[Node], kube: &Kube) -> anyhow::Result<()> {
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
    ctx.engine
        .exec_ok(
            &kube.bootstrap,
            &argv(&["kubectl", ADMIN_KUBECONFIG, "apply", "-f", "-"]),
            Some(Bytes::from(manifest)),
        )
        .await
        .context("failed to add default storage class")?;
    Ok(())
}

//! The control plane's own kubectl, as kind uses it for add-ons.

use super::Ctx;
use super::cni::{ADMIN_KUBECONFIG, argv};
use bytes::Bytes;

/// `kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -` in `node`, with `manifest` on
/// its stdin; a non-zero exit is an error carrying kubectl's output.
pub(super) async fn apply(
    ctx: &Ctx,
    node: &str,
    manifest: String,
) -> Result<(), crate::docker::DockerError> {
    ctx.engine
        .exec_ok(
            node,
            &argv(&["kubectl", ADMIN_KUBECONFIG, "apply", "-f", "-"]),
            Some(Bytes::from(manifest)),
        )
        .await
        .map(|_| ())
}

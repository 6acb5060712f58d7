//! The shared `kind` Docker network (or the one `KIND_EXPERIMENTAL_DOCKER_NETWORK` names),
//! created like kind's when missing and never removed.

use super::Ctx;
use anyhow::Context as _;
use std::time::Instant;

/// Makes sure the network exists.
pub(super) async fn ensure(ctx: &Ctx) -> anyhow::Result<()> {
    if ctx.request.network_override.is_some() {
        // kind's two lines, word for word (kindling's reporter adds the `WARNING: ` prefix).
        ctx.reporter
            .warn("Overriding docker network due to KIND_EXPERIMENTAL_DOCKER_NETWORK");
        ctx.reporter
            .warn("Here be dragons! This is not supported currently.");
    }
    let network = ctx.request.network();
    let t0 = Instant::now();
    let outcome = ctx
        .engine
        .ensure_network(network)
        .await
        .context("failed to ensure docker network")?;
    ctx.reporter
        .debug(1, &format!("network {network}: {outcome:?}"));
    ctx.record("Ensuring network", t0.elapsed());
    Ok(())
}

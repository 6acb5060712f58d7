//! The shared `kind` Docker network, created like kind's when missing and never removed.

use super::Ctx;
use crate::cluster::DEFAULT_NETWORK;
use anyhow::Context as _;
use std::time::Instant;

/// Makes sure the network exists.
pub(super) async fn ensure(ctx: &Ctx) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let outcome = ctx
        .engine
        .ensure_network(DEFAULT_NETWORK)
        .await
        .context("failed to ensure docker network")?;
    ctx.reporter
        .debug(1, &format!("network {DEFAULT_NETWORK}: {outcome:?}"));
    ctx.record("Ensuring network", t0.elapsed());
    Ok(())
}

//! Generating the cluster's certificate authorities, service-account key and join material,
//! before any node exists (leaf certificates follow once node addresses are known).

use super::Ctx;
use crate::pki::{ClusterPki, NodeClock, PkiSettings};
use anyhow::Context as _;
use std::time::Instant;

/// Makes the shared PKI on a blocking thread (RSA keys take tens of milliseconds each), dated
/// by the engine's clock, which the nodes share.
pub(super) async fn generate(ctx: &Ctx) -> anyhow::Result<ClusterPki> {
    let t0 = Instant::now();
    let clock = match ctx.info.answered_at {
        Some(host) => NodeClock::from_engine(ctx.info.system_time, host),
        None => NodeClock::default(),
    };
    if let Some(warning) = clock.skew_warning() {
        ctx.reporter.warn(&warning);
    }
    let settings = PkiSettings::new(ctx.request.key_algorithm);
    let pki = crate::util::blocking(move || ClusterPki::generate_with(settings, clock))
        .await
        .context("failed to generate the cluster's certificate authorities")?;
    ctx.record("Generating certificate authorities", t0.elapsed());
    Ok(pki)
}

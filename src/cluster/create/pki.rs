//! Generating the cluster's certificate authorities, service-account key and join material,
//! before any node exists (leaf certificates follow once node addresses are known).

use super::Ctx;
use crate::pki::ClusterPki;
use anyhow::Context as _;
use std::time::Instant;

/// Makes the shared PKI on a blocking thread (RSA keys take tens of milliseconds each).
pub(super) async fn generate(ctx: &Ctx) -> anyhow::Result<ClusterPki> {
    let t0 = Instant::now();
    let algorithm = ctx.request.key_algorithm;
    let pki = crate::util::blocking(move || ClusterPki::generate(algorithm))
        .await
        .context("failed to generate the cluster's certificate authorities")?;
    ctx.record("Generating certificate authorities", t0.elapsed());
    Ok(pki)
}

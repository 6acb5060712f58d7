//! `--wait`: poll the control plane's readiness like kind; a timeout is a warning, not an error.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::kubeadm;
use crate::util::format_go_duration;
use std::time::{Duration, Instant};

/// Pause between readiness queries (each one is a `kubectl` run in the node).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Waits up to `--wait` for every control-plane node to be Ready; returns whether it was.
pub(super) async fn run(ctx: &Ctx, _nodes: &[Node], kube: &Kube) -> anyhow::Result<bool> {
    let wait = ctx.request.wait;
    let shown = Duration::from_secs(wait.as_secs_f64().round() as u64);
    let title = format!(
        "Waiting ≤ {} for control-plane = Ready ⏳",
        format_go_duration(shown)
    );
    ctx.reporter.start(&title);
    let start = Instant::now();
    // --wait is at most ~292 years (parsing caps it), but never let the addition overflow.
    let deadline = start
        .checked_add(wait)
        .unwrap_or_else(|| start + Duration::from_secs(u32::MAX.into()));
    let argv = kubeadm::ready_command(kube.bootstrap_version());
    loop {
        // A query that hangs must not outlive the deadline: the wait is bounded by --wait.
        let query = tokio::time::timeout_at(
            deadline.into(),
            ctx.engine.exec(&kube.bootstrap, &argv, None),
        );
        let ready = match query.await {
            Ok(Ok(out)) => out.exit_code == 0 && kubeadm::is_ready_output(&out.stdout_text()),
            Ok(Err(e)) => {
                ctx.reporter
                    .debug(1, &format!("readiness query failed: {e}"));
                false
            }
            Err(_) => false,
        };
        if ready {
            ctx.reporter.end(true);
            ctx.record(&title, start.elapsed());
            let elapsed = Duration::from_secs(start.elapsed().as_secs());
            ctx.reporter.info(&format!(
                " • Ready after {} 💚",
                format_go_duration(elapsed)
            ));
            return Ok(true);
        }
        if Instant::now() >= deadline {
            ctx.reporter.end(false);
            ctx.record(&title, start.elapsed());
            ctx.reporter
                .info(" • WARNING: Timed out waiting for Ready ⚠️");
            return Ok(false);
        }
        tokio::time::sleep(POLL_INTERVAL.min(deadline.saturating_duration_since(Instant::now())))
            .await;
    }
}

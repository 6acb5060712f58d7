//! Joining nodes with `kubeadm join`: secondary control planes one at a time (etcd membership
//! changes must not overlap), then every worker at once. The joins run alongside the
//! CNI/StorageClass steps; they publish which phase is running so the orchestrator can show
//! kind's status lines for them once those steps are done.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::kubeadm;
use crate::config::NodeRole;
use anyhow::Context as _;
use futures_util::future::try_join_all;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const CONTROL_PLANES_TITLE: &str = "Joining more control-plane nodes 🎮";
const WORKERS_TITLE: &str = "Joining worker nodes 🚜";

/// Which joins are running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Nothing started yet, or nothing to do.
    Idle,
    /// Secondary control planes are joining.
    ControlPlanes,
    /// Workers are joining.
    Workers,
}

impl Phase {
    fn title(self) -> Option<&'static str> {
        match self {
            Phase::Idle => None,
            Phase::ControlPlanes => Some(CONTROL_PLANES_TITLE),
            Phase::Workers => Some(WORKERS_TITLE),
        }
    }
}

/// How the joins ended: the phases that completed (title, time), and the one that failed.
pub(super) struct Joined {
    completed: Vec<(&'static str, Duration)>,
    failed: Option<(&'static str, anyhow::Error)>,
}

/// Joins every node except the bootstrap control plane, publishing the running phase.
pub(super) async fn run_all(
    ctx: &Ctx,
    nodes: &[Node],
    kube: &Kube,
    phase: watch::Sender<Phase>,
) -> Joined {
    let mut secondaries: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::ControlPlane && n.name != kube.bootstrap)
        .collect();
    secondaries.sort_by(|a, b| a.name.cmp(&b.name));
    let workers: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::Worker)
        .collect();
    let mut joined = Joined {
        completed: Vec::new(),
        failed: None,
    };
    if !secondaries.is_empty() {
        let _ = phase.send(Phase::ControlPlanes);
        let t0 = Instant::now();
        for node in secondaries {
            if let Err(e) = join(ctx, node, kube).await {
                joined.failed = Some((CONTROL_PLANES_TITLE, e));
                return joined;
            }
        }
        joined.completed.push((CONTROL_PLANES_TITLE, t0.elapsed()));
    }
    if !workers.is_empty() {
        let _ = phase.send(Phase::Workers);
        let t0 = Instant::now();
        if let Err(e) = try_join_all(workers.into_iter().map(|n| join(ctx, n, kube))).await {
            joined.failed = Some((WORKERS_TITLE, e));
            return joined;
        }
        joined.completed.push((WORKERS_TITLE, t0.elapsed()));
    }
    let _ = phase.send(Phase::Idle);
    joined
}

/// Shows the join status lines once the add-on steps are done: ✓/✗ lines for joins that
/// already ended, a live status for the phase still running.
pub(super) async fn show(
    ctx: &Ctx,
    finished: Option<Joined>,
    pending: impl Future<Output = Joined>,
    mut phase: watch::Receiver<Phase>,
) -> anyhow::Result<()> {
    let mut live: Option<&'static str> = None;
    // Lines already ended with ✓ while the joins were shown live.
    let mut ended: Vec<&'static str> = Vec::new();
    let joined = match finished {
        Some(joined) => joined,
        None => {
            tokio::pin!(pending);
            loop {
                let title = phase.borrow_and_update().title();
                if title != live {
                    if let Some(previous) = live {
                        ctx.reporter.end(true);
                        ended.push(previous);
                    }
                    if let Some(t) = title {
                        ctx.reporter.start(t);
                    }
                    live = title;
                }
                tokio::select! {
                    joined = &mut pending => break joined,
                    changed = phase.changed() => {
                        if changed.is_err() {
                            // The joins are over; their result is ready.
                            break pending.await;
                        }
                    }
                }
            }
        }
    };
    for (title, took) in &joined.completed {
        ctx.record(title, *took);
        if ended.contains(title) {
            continue;
        }
        if live != Some(*title) {
            ctx.reporter.start(title);
        }
        ctx.reporter.end(true);
        live = None;
    }
    if let Some((title, error)) = joined.failed {
        if live != Some(title) {
            ctx.reporter.start(title);
        }
        ctx.reporter.end(false);
        return Err(error);
    }
    Ok(())
}

async fn join(ctx: &Ctx, node: &Node, kube: &Kube) -> anyhow::Result<()> {
    node.ready().await?;
    let version = kube.written(&node.name).await?;
    let out = ctx
        .engine
        .exec_ok(&node.name, &kubeadm::join_command(&version), None)
        .await
        .context("failed to join node with kubeadm")?;
    ctx.reporter
        .debug(3, &String::from_utf8_lossy(&out.combined));
    Ok(())
}

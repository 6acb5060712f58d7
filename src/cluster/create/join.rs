//! Joining nodes with `kubeadm join`: secondary control planes one at a time (etcd membership
//! changes must not overlap), then every worker at once. Runs alongside the CNI/StorageClass
//! steps, so its status lines are printed once it has finished.

use super::config::Kube;
use super::{Ctx, Node};
use crate::cluster::kubeadm;
use crate::config::NodeRole;
use anyhow::Context as _;
use futures_util::future::try_join_all;
use std::time::{Duration, Instant};

const CONTROL_PLANES_TITLE: &str = "Joining more control-plane nodes 🎮";
const WORKERS_TITLE: &str = "Joining worker nodes 🚜";

/// How long each kind of join took (`None` when there was nothing to join).
pub(super) struct JoinOutcome {
    control_planes: Option<Duration>,
    workers: Option<Duration>,
}

impl JoinOutcome {
    /// Prints kind's status lines for the joins that happened and records their times.
    pub fn report(&self, ctx: &Ctx) {
        for (title, took) in [
            (CONTROL_PLANES_TITLE, self.control_planes),
            (WORKERS_TITLE, self.workers),
        ] {
            if let Some(took) = took {
                ctx.reporter.start(title);
                ctx.reporter.end(true);
                ctx.record(title, took);
            }
        }
    }
}

/// Joins every node except the bootstrap control plane.
pub(super) async fn run_all(ctx: &Ctx, nodes: &[Node], kube: &Kube) -> anyhow::Result<JoinOutcome> {
    let mut secondaries: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::ControlPlane && n.name != kube.bootstrap)
        .collect();
    secondaries.sort_by(|a, b| a.name.cmp(&b.name));
    let workers: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::Worker)
        .collect();
    let mut outcome = JoinOutcome {
        control_planes: None,
        workers: None,
    };
    if !secondaries.is_empty() {
        let t0 = Instant::now();
        for node in secondaries {
            join(ctx, node, kube).await?;
        }
        outcome.control_planes = Some(t0.elapsed());
    }
    if !workers.is_empty() {
        let t0 = Instant::now();
        try_join_all(workers.into_iter().map(|n| join(ctx, n, kube))).await?;
        outcome.workers = Some(t0.elapsed());
    }
    Ok(outcome)
}

async fn join(ctx: &Ctx, node: &Node, kube: &Kube) -> anyhow::Result<()> {
    let version = kube
        .versions
        .get(&node.name)
        .context("node without a Kubernetes version")?;
    let out = ctx
        .engine
        .exec_ok(&node.name, &kubeadm::join_command(version), None)
        .await
        .context("failed to join node with kubeadm")?;
    ctx.reporter
        .debug(3, &String::from_utf8_lossy(&out.combined));
    Ok(())
}

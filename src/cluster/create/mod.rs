//! `create cluster`: an ordered list of steps (one file each), run under a cancellation token,
//! with rollback of everything this run made on any failure, SIGINT or SIGTERM.
//!
//! Order: (images ∥ network → nodes created and started) ∥ CA generation → load balancer →
//! the bootstrap node's configuration → init as soon as that node is ready → (CNI →
//! StorageClass) ∥ (control-plane joins → worker joins, each as soon as its node is ready and
//! written; every other node is written while it boots) → wait → kubeconfig. A node failing to
//! boot or to be written stops the create at any point.

mod cni;
mod config;
mod export;
mod images;
mod init;
mod join;
mod kubectl;
pub mod loadbalancer;
mod network;
mod nodes;
mod pki;
pub mod plan;
mod privileges;
mod registry;
mod storage;
mod wait;

use crate::cluster::CLUSTER_LABEL;
use crate::config::{Cluster, NodeRole};
use crate::docker::{Engine, EngineInfo};
use crate::kubeconfig::KubeconfigPaths;
use crate::pki::KeyAlgorithm;
use crate::report::Reporter;
use futures_util::FutureExt as _;
use futures_util::future::try_join_all;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use registry::{MirrorReport, RegistryReport};

/// Default load-balancer image for clusters with several control planes.
pub const DEFAULT_LOAD_BALANCER_IMAGE: &str = "docker.io/library/haproxy:3.2";
/// Cluster names longer than this get kind's warning.
const NAME_WARN_LENGTH: usize = 50;

/// What to create and how.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Cluster name (flags, environment and config already resolved).
    pub name: String,
    /// The config, with `--image` applied and defaults filled in (validated by `create`).
    pub config: Cluster,
    /// Keep the nodes when create fails.
    pub retain: bool,
    /// `--wait`: how long to wait for the control plane to be Ready (0 = don't).
    pub wait: Duration,
    /// Where the user's kubeconfig lives.
    pub kubeconfig: KubeconfigPaths,
    /// Key algorithm of the cluster's PKI.
    pub key_algorithm: KeyAlgorithm,
    /// Image of the external load balancer.
    pub load_balancer_image: String,
    /// Directory relative `hostPath`s are resolved against.
    pub working_dir: PathBuf,
    /// Host environment relevant to nodes (proxy variables, snapshotter).
    pub host_env: BTreeMap<String, String>,
    /// `proxies` entry of the Docker CLI config (`httpProxy`, `httpsProxy`, `noProxy`).
    pub docker_config_proxies: BTreeMap<String, String>,
    /// `KIND_EXPERIMENTAL_DOCKER_NETWORK` when set: the Docker network for the nodes instead of
    /// `kind` (see [`CreateRequest::network`]).
    pub network_override: Option<String>,
    /// Local registry and pull-through caches to set up (`--registry`, `--registry-mirror`).
    pub registry: crate::registry::Options,
    /// kindling's cache directory (`$XDG_CACHE_HOME/kindling`), where what the engine allows
    /// is remembered; `None` disables remembering.
    pub cache_dir: Option<PathBuf>,
}

impl CreateRequest {
    /// The Docker network the nodes join.
    pub fn network(&self) -> &str {
        self.network_override
            .as_deref()
            .unwrap_or(crate::cluster::DEFAULT_NETWORK)
    }
}

/// One node of a created cluster, for the summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeReport {
    /// Container name.
    pub name: String,
    /// Role label.
    pub role: NodeRole,
    /// Image it runs.
    pub image: String,
    /// IPv4 address on the cluster network.
    pub ipv4: String,
    /// IPv6 address on the cluster network (empty when none).
    pub ipv6: String,
}

/// How long one step took.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StepTiming {
    /// The step's status title.
    pub step: String,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// What a successful create made (printed as JSON with `--output json`).
#[derive(Debug, Clone, Serialize)]
pub struct CreateReport {
    /// Cluster name.
    pub name: String,
    /// Every container, load balancer included.
    pub nodes: Vec<NodeReport>,
    /// The kubeconfig file written.
    pub kubeconfig: PathBuf,
    /// The context set in it.
    pub context: String,
    /// The API server URL in that context.
    pub server: String,
    /// Whether `--wait` saw the control plane Ready (`None` when not waited for).
    pub ready: Option<bool>,
    /// Per-step wall times.
    pub steps: Vec<StepTiming>,
    /// Total wall time in seconds.
    pub total_seconds: f64,
    /// The local registry, when one was set up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryReport>,
    /// The pull-through caches set up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<MirrorReport>,
}

/// What happened to the containers a stopped create had made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// Kept, because of `--retain`.
    Retained,
    /// All removed (containers, volumes, kubeconfig entry).
    Removed,
    /// Removal failed part-way; the message says what is left.
    Incomplete(String),
}

/// The create was stopped by the cancellation token (a signal).
#[derive(Debug, thiserror::Error)]
#[error("cluster creation was interrupted")]
pub struct Cancelled {
    /// What became of what the run had made.
    pub cleanup: Cleanup,
}

/// State shared by the steps that does not change while they run.
pub(crate) struct Ctx {
    pub engine: Engine,
    pub reporter: Arc<dyn Reporter>,
    pub name: String,
    pub config: Arc<Cluster>,
    pub create_id: String,
    pub info: EngineInfo,
    pub request: CreateRequest,
    /// Docker mutations (create/start/remove, kubeconfig writes) run here so that a dropped
    /// pipeline never leaves one half-done: rollback waits for them first.
    pub tracker: TaskTracker,
    pub kubeconfig_written: Arc<Mutex<Option<PathBuf>>>,
    pub timings: Mutex<Vec<StepTiming>>,
    /// Registries and caches this run made, which rollback keeps (they are shared).
    pub registries_made: registry::Made,
}

impl Ctx {
    /// Runs `f` as a status step: spinner/bullet line, ✓/✗, and its wall time recorded.
    pub async fn step<T>(
        &self,
        title: &str,
        f: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        self.reporter.start(title);
        let t0 = Instant::now();
        let result = f.await;
        self.reporter.end(result.is_ok());
        self.record(title, t0.elapsed());
        result
    }

    /// Records a step's duration without a status line.
    pub fn record(&self, title: &str, elapsed: Duration) {
        self.timings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(StepTiming {
                step: title.to_string(),
                seconds: elapsed.as_secs_f64(),
            });
    }
}

/// A container created by this run, with what later steps need to know about it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub name: String,
    pub role: NodeRole,
    pub config_index: Option<usize>,
    pub image: String,
    pub ipv4: String,
    pub ipv6: String,
    /// Its boot, to wait for before running anything in it (`None` for the load balancer).
    pub boot: Option<nodes::Boot>,
}

impl Node {
    /// Waits until the node can run kubeadm (systemd has started containerd).
    pub async fn ready(&self) -> anyhow::Result<()> {
        self.reached(nodes::Stage::Ready).await
    }

    /// Waits until commands may run in the node (systemd is PID 1).
    pub async fn usable(&self) -> anyhow::Result<()> {
        self.reached(nodes::Stage::Systemd).await
    }

    async fn reached(&self, stage: nodes::Stage) -> anyhow::Result<()> {
        match &self.boot {
            Some(boot) => boot.reached(stage).await,
            None => Ok(()),
        }
    }
}

/// Creates a cluster; on failure or cancellation removes what it made (unless `retain`).
pub async fn create(
    engine: &Engine,
    request: CreateRequest,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> anyhow::Result<CreateReport> {
    let started = Instant::now();
    let name = request.name.clone();
    let existing = engine
        .list_containers(&format!("{CLUSTER_LABEL}={name}"))
        .await?;
    if !existing.is_empty() {
        anyhow::bail!("node(s) already exist for a cluster with the name \"{name}\"");
    }
    if name.len() > NAME_WARN_LENGTH {
        reporter.warn(&format!("cluster name \"{name}\" is probably too long, this might not work properly on some systems"));
    }
    request.config.validate()?;
    // The kubeconfig is written last; find an unusable one before anything is made.
    crate::kubeconfig::check_create_target(&request.kubeconfig, reporter.clone(), cancel.clone())
        .await?;
    let info = engine.info().await?;
    preflight(&info, &*reporter)?;
    reporter.info(&format!("Creating cluster \"{name}\" ..."));
    let ctx = Arc::new(Ctx {
        engine: engine.clone(),
        reporter: reporter.clone(),
        name: name.clone(),
        // With a registry, the nodes' containerd gets `config_path` (registry.rs).
        config: Arc::new(registry::node_config(&request, &*reporter)),
        create_id: random_id(),
        info,
        request: request.clone(),
        tracker: TaskTracker::new(),
        kubeconfig_written: Arc::new(Mutex::new(None)),
        timings: Mutex::new(Vec::new()),
        registries_made: Default::default(),
    });
    // A panic in a step is a bug, but it must still not leave containers behind.
    let steps = std::panic::AssertUnwindSafe(run_steps(&ctx)).catch_unwind();
    let (outcome, cancelled) = tokio::select! {
        result = steps => match result {
            Ok(result) => (result, false),
            Err(panic) => {
                reporter.end(false);
                if !request.retain {
                    let _ = rollback(&ctx).await;
                }
                std::panic::resume_unwind(panic);
            }
        },
        () = cancel.cancelled() => (Err(anyhow::anyhow!("interrupted")), true),
    };
    match outcome {
        Ok(mut report) => {
            report.total_seconds = started.elapsed().as_secs_f64();
            report.steps = ctx
                .timings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            Ok(report)
        }
        Err(err) => {
            // A step cut short by cancellation never ended its status line.
            reporter.end(false);
            let cleanup = if request.retain {
                reporter.info(&format!(
                    "Keeping the nodes because of --retain; remove them with: kindling delete cluster --name {name}"
                ));
                Cleanup::Retained
            } else {
                match rollback(&ctx).await {
                    Ok(()) => Cleanup::Removed,
                    Err(left) => Cleanup::Incomplete(left),
                }
            };
            if cancelled {
                Err(anyhow::Error::new(Cancelled { cleanup }))
            } else {
                Err(err)
            }
        }
    }
}

/// Checks the engine can run nodes at all (kind's provider validation).
fn preflight(info: &EngineInfo, reporter: &dyn Reporter) -> anyhow::Result<()> {
    if info.rootless {
        if info.cgroup_version != "2" {
            anyhow::bail!(
                "running kind with rootless provider requires cgroup v2, see https://kind.sigs.k8s.io/docs/user/rootless/"
            );
        }
    } else if info.cgroup_version == "1" {
        reporter.warn("cgroup v1 is deprecated in Kubernetes and will not be supported in a future kind release, please upgrade to cgroup v2");
    }
    Ok(())
}

async fn run_steps(ctx: &Arc<Ctx>) -> anyhow::Result<CreateReport> {
    let config = ctx.config.clone();
    let plan_containers = plan::plan(
        &ctx.name,
        &config,
        &plan::HostFacts::default(),
        ctx.request.network(),
        &ctx.request.load_balancer_image,
        &ctx.create_id,
    );

    // Local registry and caches: conflicts fail here, before any other step starts (making
    // them then overlaps the next steps).
    let registries = registry::prepare(ctx).await?;
    let privileges = privileges::Privileges::load(ctx);
    // The CAs are needed only once nodes are up: they are made while the nodes are created.
    let pki = pki::generate(ctx);
    let nodes = async {
        tokio::try_join!(
            network::ensure(ctx),
            images::ensure(ctx, &config, &plan_containers)
        )?;
        let host = host_facts(ctx, &plan_containers).await?;
        let planned = plan::plan(
            &ctx.name,
            &config,
            &host,
            ctx.request.network(),
            &ctx.request.load_balancer_image,
            &ctx.create_id,
        );
        let boxes = "📦 ".repeat(config.nodes.len());
        ctx.step(
            &format!("Preparing nodes {boxes}"),
            nodes::create_all(ctx, planned, &privileges),
        )
        .await
    };
    let (pki, nodes) = tokio::try_join!(pki, nodes)?;
    let pki = Arc::new(pki);
    let registries = registry::connect(ctx, registries, &nodes).await?;

    if let Some(lb) = nodes
        .iter()
        .find(|n| n.role == NodeRole::ExternalLoadBalancer)
    {
        ctx.step(
            "Configuring the external load balancer ⚖️",
            loadbalancer::configure(ctx, lb, &nodes),
        )
        .await?;
    }
    // The line ends once the bootstrap node is written; the others are written as they boot.
    let (kube, pending) = ctx
        .step("Writing configuration 📜", config::write(ctx, &nodes, &pki))
        .await?;
    // From here on each step waits for the node it uses; a node that fails to boot or to be
    // written meanwhile fails the create at once, whatever step is running.
    let booted = async {
        try_join_all(nodes.iter().map(Node::ready)).await?;
        anyhow::Ok(())
    };
    let bootstrapped = bootstrap(ctx, &config, &nodes, &kube, &registries);
    tokio::try_join!(bootstrapped, booted, pending.finish())?;

    let ready = if ctx.request.wait > Duration::ZERO {
        Some(wait::run(ctx, &nodes, &kube).await?)
    } else {
        None
    };
    let exported = export::run(ctx, &nodes, &kube).await?;
    let (registry, mirrors) = registry::report(&registries);
    Ok(CreateReport {
        name: ctx.name.clone(),
        nodes: nodes
            .iter()
            .map(|n| NodeReport {
                name: n.name.clone(),
                role: n.role,
                image: n.image.clone(),
                ipv4: n.ipv4.clone(),
                ipv6: n.ipv6.clone(),
            })
            .collect(),
        kubeconfig: exported.path,
        context: exported.context,
        server: exported.server,
        ready,
        steps: Vec::new(),
        total_seconds: 0.0,
        registry,
        mirrors,
    })
}

/// `kubeadm init`, then the add-ons alongside the joins, each node used as soon as it is ready.
async fn bootstrap(
    ctx: &Arc<Ctx>,
    config: &Cluster,
    nodes: &[Node],
    kube: &config::Kube,
    registries: &crate::registry::manage::Plan,
) -> anyhow::Result<()> {
    ctx.step("Starting control-plane 🕹️", init::run(ctx, nodes, kube))
        .await?;

    // Joins need only the API server and the bootstrap token, both there once init returns,
    // so they run alongside the CNI and StorageClass installation.
    let addons = async {
        if !config.networking.disable_default_cni {
            ctx.step("Installing CNI 🔌", cni::run(ctx, nodes, kube))
                .await?;
        }
        ctx.step("Installing StorageClass 💾", storage::run(ctx, nodes, kube))
            .await?;
        registry::document(ctx, registries, kube).await
    };
    let (phase_tx, phase_rx) = tokio::sync::watch::channel(join::Phase::Idle);
    let joins = join::run_all(ctx, nodes, kube, phase_tx);
    tokio::pin!(addons, joins);
    let mut joined = None;
    let addons_done = loop {
        tokio::select! {
            result = &mut addons => break result,
            result = &mut joins, if joined.is_none() => joined = Some(result),
        }
    };
    // An add-on failure wins; otherwise the joins' lines follow the add-ons', as in kind.
    addons_done?;
    join::show(ctx, joined, joins, phase_rx).await?;
    Ok(())
}

/// Engine facts, proxies and the working directory, needed for the final container plan.
async fn host_facts(ctx: &Ctx, first_plan: &plan::Plan) -> anyhow::Result<plan::HostFacts> {
    let subnets = if ctx
        .request
        .host_env
        .keys()
        .any(|k| k.to_uppercase().ends_with("_PROXY"))
        || !ctx.request.docker_config_proxies.is_empty()
    {
        ctx.engine.network_subnets(ctx.request.network()).await?
    } else {
        Vec::new()
    };
    let names: Vec<String> = first_plan
        .containers
        .iter()
        .map(|c| c.spec.name.clone())
        .collect();
    let proxy_env = plan::proxy_env(
        &ctx.request.host_env,
        &ctx.request.docker_config_proxies,
        &subnets,
        &ctx.config,
        &names,
    );
    Ok(plan::HostFacts {
        engine: ctx.info.clone(),
        working_dir: ctx.request.working_dir.clone(),
        proxy_env,
        containerd_snapshotter: ctx
            .request
            .host_env
            .get("KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER")
            .cloned(),
    })
}

/// Removes every container this run created (found by its create-id label, so containers of
/// any other cluster are never touched) and the kubeconfig entry it wrote, if any. Each Docker
/// wait is bounded by the engine's cleanup bound; what could not be removed is named.
async fn rollback(ctx: &Ctx) -> Result<(), String> {
    let mut problems = Vec::new();
    // Let in-flight creates/starts finish so nothing appears after we look.
    ctx.tracker.close();
    let in_flight = ctx
        .engine
        .within_cleanup_bound("finish this run's Docker calls", async {
            ctx.tracker.wait().await;
            Ok(())
        });
    if let Err(e) = in_flight.await {
        problems.push(format!(
            "{e}; a container they make after this is not removed"
        ));
    }
    let label = format!("{}={}", plan::CREATE_ID_LABEL, ctx.create_id);
    let listed = ctx.engine.within_cleanup_bound(
        "list this run's containers",
        ctx.engine.list_containers(&label),
    );
    match listed.await {
        Ok(containers) if !containers.is_empty() => {
            let names: Vec<String> = containers.into_iter().map(|c| c.name).collect();
            ctx.reporter.info(&format!(
                "Deleting the {} container(s) this create made ...",
                names.len()
            ));
            if let Err(left) = crate::cluster::delete::remove_containers(&ctx.engine, &names).await
            {
                problems.push(format!("{left} (or remove them with: {})", left.command()));
            }
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("listing this run's containers failed: {e}")),
    }
    registry::rollback(ctx);
    let written = ctx
        .kubeconfig_written
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if let Some(path) = written {
        let name = ctx.name.clone();
        let removed = crate::util::blocking(move || {
            crate::kubeconfig::remove_from_file(
                &path,
                &name,
                &crate::kubeconfig::LockOptions::default(),
            )
        })
        .await;
        if let Err(e) = removed {
            problems.push(format!(
                "removing the kubeconfig entry failed: {:#}",
                anyhow::Error::new(e)
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let summary = problems.join("; ");
    ctx.reporter.warn(&format!(
        "cleanup incomplete: {summary}; finish it with: kindling delete cluster --name {}",
        ctx.name
    ));
    Err(summary)
}

/// A random id for labels and temporary names.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 8];
    // The OS random source failing is not something a CLI can recover from; fall back to time.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = (nanos as u64).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

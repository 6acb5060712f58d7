//! "Preparing nodes": free host ports chosen, containers created and started concurrently with
//! the security the engine allows (privileges.rs). Nodes are not waited for here: each one's
//! boot is followed in the background ([`Boot`]) and every later step waits for exactly the
//! node it is about to use, so configuration is written while the nodes boot.

use super::plan::{Plan, PlannedContainer};
use super::privileges::{Privileges, refuses_privileged, refuses_privileged_message};
use super::{Ctx, Node};
use crate::config::NodeRole;
use crate::docker::{ContainerSpec, DockerError, Engine, Security};
use crate::util::AbortOnDrop;
use anyhow::Context as _;
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long a node may take to boot to the point kubeadm can use it.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a boot failure waits for the node's whole log.
const LOG_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many log lines a boot failure shows.
const LOG_TAIL: usize = 25;

/// Creates and starts every planned container and returns them with their addresses.
pub(super) async fn create_all(
    ctx: &Arc<Ctx>,
    mut plan: Plan,
    privileges: &Privileges,
) -> anyhow::Result<Vec<Node>> {
    // Hold the probe listeners until the specs are final so two mappings never get one port.
    let mut listeners = Vec::new();
    for container in &mut plan.containers {
        for (i, pick) in container.pick_ports.iter().enumerate() {
            if let Some(req) = pick {
                let (port, guard) =
                    free_port(&req.listen_address, &req.protocol).with_context(|| {
                        format!(
                            "failed to find a free host port on {} for node \"{}\"",
                            req.listen_address, container.spec.name
                        )
                    })?;
                container.spec.ports[i].host_port = port;
                listeners.push(guard);
            }
        }
    }
    drop(listeners);
    try_join_all(
        plan.containers
            .into_iter()
            .map(|c| create_one(ctx, c, privileges)),
    )
    .await
}

async fn create_one(
    ctx: &Arc<Ctx>,
    planned: PlannedContainer,
    privileges: &Privileges,
) -> anyhow::Result<Node> {
    let mut spec = planned.spec;
    let internal = planned.node.role != NodeRole::ExternalLoadBalancer;
    let wants_privileged = spec.security == Security::Privileged;
    let mut remembered = false;
    if wants_privileged {
        let choice = privileges.choose(ctx, &spec.image).await?;
        spec.security = choice.security;
        remembered = choice.remembered;
    }
    let mut launched = launch(ctx, &spec, internal).await;
    if remembered
        && let Err(failed) = &launched
        && failed.is_capability_problem()
    {
        // The engine changed since the set was remembered: start over as on a new engine.
        privileges.forget(ctx, &format!("{:#}", failed.error));
        failed.clean_up(ctx, &spec.name).await?;
        spec.security = privileges.choose(ctx, &spec.image).await?.security;
        launched = launch(ctx, &spec, internal).await;
    }
    if let Err(failed) = &launched
        && spec.security == Security::Privileged
        && failed.created
        && let Some(refusal) = failed
            .error
            .downcast_ref::<DockerError>()
            .filter(|d| refuses_privileged(d))
    {
        let why = refusal.message();
        failed.clean_up(ctx, &spec.name).await?;
        spec.security = privileges.refused(ctx, &spec.image, &why).await?;
        if remembered {
            // The remembered set failed and --privileged too: the probe just remembered anew.
            ctx.reporter
                .debug(1, "probed the engine again after a remembered set failed");
        }
        launched = launch(ctx, &spec, internal).await;
    } else if remembered && spec.security == Security::Privileged && launched.is_ok() {
        // The engine now grants --privileged: what was remembered no longer applies.
        privileges.forget_on_disk(ctx);
    }
    launched.map_err(|failed| failed.error)?;
    let details = ctx.engine.inspect_container(&spec.name).await?;
    if ctx.config.has_ipv6() && details.ipv6.is_empty() && internal {
        anyhow::bail!(
            "failed to get IPv6 address for node {}; is docker configured to use IPv6 correctly?",
            spec.name
        );
    }
    Ok(Node {
        name: spec.name.clone(),
        role: planned.node.role,
        config_index: planned.node.config_index,
        image: spec.image.clone(),
        ipv4: details.ipv4,
        ipv6: details.ipv6,
        boot: internal.then(|| Boot::follow(ctx.engine.clone(), spec.name.clone())),
    })
}

/// Creates the container, writes what must be in place before it boots, and starts it.
async fn launch(ctx: &Ctx, spec: &ContainerSpec, internal: bool) -> Result<(), Launch> {
    let engine = ctx.engine.clone();
    let created = spec.clone();
    tracked(ctx, async move {
        engine.create_container(&created).await.map(|_| ())
    })
    .await
    .map_err(|e| Launch {
        created: false,
        error: e.into(),
    })?;
    let after_create = async {
        if internal {
            // Before systemd starts containerd, so the patched config needs no restart.
            super::config::patch_containerd(ctx, &spec.name).await?;
        }
        let engine = ctx.engine.clone();
        let name = spec.name.clone();
        tracked(ctx, async move { engine.start_container(&name).await }).await?;
        anyhow::Ok(())
    };
    after_create.await.map_err(|error| Launch {
        created: true,
        error,
    })
}

/// A failed [`launch`]: whether the container was made (so it is this run's to remove).
struct Launch {
    created: bool,
    error: anyhow::Error,
}

impl Launch {
    /// The engine would not grant the security asked for: an unknown capability at create
    /// (`invalid CapAdd`), or the runtime unable to apply the set at start.
    fn is_capability_problem(&self) -> bool {
        let message = match self.error.downcast_ref::<DockerError>() {
            Some(e) => e.message(),
            None => return false,
        };
        if self.created {
            refuses_privileged_message(&message) || message.contains("operation not permitted")
        } else {
            message.contains("capabilit") || message.contains("CapAdd")
        }
    }

    /// Removes the container when this run made it; never one of the same name it did not.
    async fn clean_up(&self, ctx: &Ctx, name: &str) -> Result<(), DockerError> {
        if self.created {
            remove(ctx, name).await?;
        }
        Ok(())
    }
}

async fn remove(ctx: &Ctx, name: &str) -> Result<(), DockerError> {
    let engine = ctx.engine.clone();
    let name = name.to_string();
    tracked(ctx, async move { engine.remove_container(&name).await }).await
}

/// How far a node has booted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The entrypoint is still preparing the container (mounts, cgroups).
    Booting,
    /// systemd runs as PID 1: the entrypoint is done, commands may run in the node.
    Systemd,
    /// systemd has started containerd: kubeadm can run (see [`ready_line`]).
    Ready,
    /// It will not get there; the message says why.
    Failed(String),
}

/// A node's boot, followed from its log by a background task; any number of waiters.
#[derive(Clone)]
pub(crate) struct Boot {
    stage: tokio::sync::watch::Receiver<Stage>,
    _follower: Arc<AbortOnDrop<()>>,
}

impl Boot {
    /// Starts following `node`'s log, allowing [`BOOT_TIMEOUT`] from now.
    fn follow(engine: Engine, node: String) -> Boot {
        let deadline = Instant::now() + BOOT_TIMEOUT;
        let (tx, rx) = tokio::sync::watch::channel(Stage::Booting);
        let task = tokio::spawn(async move {
            if let Err(e) = follow_boot(&engine, &node, deadline, &tx).await {
                tx.send_replace(Stage::Failed(format!("{e:#}")));
            }
        });
        Boot {
            stage: rx,
            _follower: Arc::new(AbortOnDrop(task)),
        }
    }

    /// Waits until the node has reached `stage` (`Systemd` or `Ready`).
    pub async fn reached(&self, stage: Stage) -> anyhow::Result<()> {
        let mut rx = self.stage.clone();
        let rank = |s: &Stage| match s {
            Stage::Booting => 0,
            Stage::Systemd => 1,
            Stage::Ready => 2,
            Stage::Failed(_) => 3,
        };
        let wanted = rank(&stage);
        let reached = rx
            .wait_for(|s| rank(s) >= wanted)
            .await
            .map(|s| s.clone())
            .map_err(|_| anyhow::anyhow!("the boot of a node stopped being followed"))?;
        match reached {
            Stage::Failed(why) => Err(anyhow::Error::msg(why)),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Debug for Boot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Boot({:?})", *self.stage.borrow())
    }
}

/// Runs one Docker mutation on the tracker so rollback can wait for it.
pub(super) async fn tracked<T: Send + 'static>(
    ctx: &Ctx,
    f: impl std::future::Future<Output = Result<T, DockerError>> + Send + 'static,
) -> Result<T, DockerError> {
    match ctx.tracker.spawn(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(DockerError::Api {
            operation: "run a Docker call".into(),
            status: None,
            message: e.to_string(),
        }),
    }
}

/// Follows the node's log, publishing each [`Stage`] it reaches, until it is ready.
async fn follow_boot(
    engine: &Engine,
    name: &str,
    deadline: Instant,
    stage: &tokio::sync::watch::Sender<Stage>,
) -> anyhow::Result<()> {
    let mut log = String::new();
    let follow = async {
        let mut stream = std::pin::pin!(engine.follow_logs(name));
        // Lines may arrive split across chunks: look at complete lines only.
        let mut checked = 0;
        while let Some(chunk) = stream.next().await {
            log.push_str(&String::from_utf8_lossy(&chunk?));
            let complete = log.rfind('\n').map_or(0, |i| i + 1);
            for line in log[checked..complete].lines() {
                if ready_line(line) {
                    stage.send_replace(Stage::Ready);
                    return anyhow::Ok(true);
                }
                if systemd_line(line) {
                    stage.send_replace(Stage::Systemd);
                }
            }
            checked = complete;
        }
        anyhow::Ok(false)
    };
    let outcome = tokio::time::timeout_at(deadline, follow).await;
    let why = match outcome {
        Ok(Ok(true)) => return Ok(()),
        Ok(Err(e)) => return Err(e.context(format!("failed to read the log of node \"{name}\""))),
        Ok(Ok(false)) => "stopped before systemd had started containerd".to_string(),
        Err(_) => format!(
            "did not start systemd and containerd within {}s",
            BOOT_TIMEOUT.as_secs()
        ),
    };
    // The engine may be what hangs: the full log is worth a few seconds, no more.
    let full = match tokio::time::timeout(LOG_READ_TIMEOUT, engine.container_logs(name)).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => log,
    };
    let lines: Vec<&str> = full.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n");
    anyhow::bail!("node \"{name}\" {why}; last lines of its log:\n{tail}")
}

/// systemd's banner as PID 1 (`systemd 252 running in system mode (…)`): the entrypoint has
/// finished changing mounts and cgroups, so commands may run in the node without racing it.
fn systemd_line(line: &str) -> bool {
    let plain = without_escapes(line);
    let plain = plain.trim();
    plain.starts_with("systemd ") && plain.contains(" running in system mode")
}

/// The log line after which a node can run kubeadm: systemd (PID 1, so it can start the
/// kubelet unit kubeadm asks for) reports containerd started. containerd's unit is
/// `Type=notify`, so "started" means its socket answers, which is what the kubelet and
/// kubeadm's CRI calls need. systemd reaching its multi-user target implies the same (targets
/// are ordered after the units they want) and is the line kind waits for.
fn ready_line(line: &str) -> bool {
    let plain = without_escapes(line);
    plain.contains("] Started containerd")
        || (plain.contains("] Reached target") && plain.contains("Multi-User System"))
}

/// `line` without terminal colour sequences (`ESC [ … letter`), which systemd puts between
/// the words.
fn without_escapes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Finds a free port by binding to port 0; the returned guard keeps it reserved until dropped.
fn free_port(address: &str, protocol: &str) -> std::io::Result<(u16, PortGuard)> {
    let ip: std::net::IpAddr = address.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("invalid listen address {address:?}"),
        )
    })?;
    let addr = std::net::SocketAddr::new(ip, 0);
    if protocol == "udp" {
        let socket = std::net::UdpSocket::bind(addr)?;
        Ok((socket.local_addr()?.port(), PortGuard::Udp(socket)))
    } else {
        let listener = std::net::TcpListener::bind(addr)?;
        Ok((listener.local_addr()?.port(), PortGuard::Tcp(listener)))
    }
}

/// A bound socket holding a port until the container is about to be created.
#[allow(dead_code)] // held only for its Drop
enum PortGuard {
    Tcp(std::net::TcpListener),
    Udp(std::net::UdpSocket),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_line_detection() {
        // systemd 252 on a terminal, colours included, and older systemd without unit names.
        assert!(ready_line(
            "[\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mcontainerd.service\x1b[0m - containerd container runtime."
        ));
        assert!(ready_line("[  OK  ] Started containerd container runtime."));
        assert!(ready_line(
            "[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mmulti-user.target\x1b[0m - Multi-User System."
        ));
        assert!(!ready_line(
            "         Starting \x1b[0;1;39mcontainerd.service\x1b[0m - containerd container runtime..."
        ));
        assert!(!ready_line("INFO: detected cgroup v1"));
        assert!(systemd_line(
            "systemd 252.39-1~deb12u2 running in system mode (+PAM +AUDIT default-hierarchy=unified)"
        ));
        assert!(!systemd_line("INFO: starting init"));
        assert!(systemd_line(
            "\x1b[0m\rsystemd 256.5-2 running in system mode (+PAM)"
        ));
        assert!(!ready_line(
            "[  OK  ] Reached target basic.target - Basic System."
        ));
    }

    #[test]
    fn free_ports_are_distinct_while_held() {
        let (a, _ga) = free_port("127.0.0.1", "tcp").unwrap();
        let (b, _gb) = free_port("127.0.0.1", "tcp").unwrap();
        assert_ne!(a, b);
        assert!(free_port("not-an-ip", "tcp").is_err());
    }
}

//! "Preparing nodes": free host ports chosen, containers created and started concurrently
//! (falling back from `--privileged` to an explicit capability set on engines that refuse it),
//! each node then waited for until systemd reaches its multi-user target.

use super::plan::{CREATE_ID_LABEL, Plan, PlannedContainer};
use super::{Ctx, Node};
use crate::cluster::HELPER_LABEL;
use crate::config::NodeRole;
use crate::docker::{ContainerSpec, DockerError, Security};
use anyhow::Context as _;
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long a node may take to boot to systemd's multi-user target.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);
/// How many log lines a boot failure shows.
const LOG_TAIL: usize = 25;

/// Shared across the nodes of one create: whether the engine refused `--privileged`, and the
/// capability set found for it (probed once).
#[derive(Default)]
struct PrivilegeFallback {
    refused: AtomicBool,
    warned: AtomicBool,
    restricted: OnceCell<Security>,
}

/// Creates every planned container and returns them with their addresses.
pub(super) async fn create_all(ctx: &Arc<Ctx>, mut plan: Plan) -> anyhow::Result<Vec<Node>> {
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
    let fallback = Arc::new(PrivilegeFallback::default());
    let nodes = try_join_all(
        plan.containers
            .into_iter()
            .map(|c| create_one(ctx, c, fallback.clone())),
    )
    .await?;
    Ok(nodes)
}

async fn create_one(
    ctx: &Arc<Ctx>,
    planned: PlannedContainer,
    fallback: Arc<PrivilegeFallback>,
) -> anyhow::Result<Node> {
    let mut spec = planned.spec;
    if spec.security == Security::Privileged && fallback.refused.load(Ordering::SeqCst) {
        spec.security = restricted_security(ctx, &spec, &fallback).await?;
    }
    match create_and_start(ctx, &spec).await {
        Ok(()) => {}
        Err(e) if spec.security == Security::Privileged && refuses_privileged(&e) => {
            fallback.refused.store(true, Ordering::SeqCst);
            tracked(ctx, {
                let engine = ctx.engine.clone();
                let name = spec.name.clone();
                async move { engine.remove_container(&name).await }
            })
            .await?;
            spec.security = restricted_security(ctx, &spec, &fallback).await?;
            if let Security::Restricted { capabilities, .. } = &spec.security
                && !fallback.warned.swap(true, Ordering::SeqCst)
            {
                {
                    ctx.reporter.warn(&format!(
                        "the Docker engine refused --privileged ({}); creating nodes with the {} capabilities it allows instead",
                        privileged_refusal(&e.message()),
                        capabilities.len()
                    ));
                }
            }
            create_and_start(ctx, &spec).await?;
        }
        Err(e) => return Err(e.into()),
    }
    if planned.node.role != NodeRole::ExternalLoadBalancer {
        wait_for_boot(ctx, &spec.name).await?;
    }
    let details = ctx.engine.inspect_container(&spec.name).await?;
    if ctx.config.has_ipv6()
        && details.ipv6.is_empty()
        && planned.node.role != NodeRole::ExternalLoadBalancer
    {
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
    })
}

/// Runs one Docker mutation on the tracker so rollback can wait for it.
async fn tracked<T: Send + 'static>(
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

async fn create_and_start(ctx: &Ctx, spec: &ContainerSpec) -> Result<(), DockerError> {
    let engine = ctx.engine.clone();
    let spec = spec.clone();
    tracked(ctx, async move {
        engine.create_container(&spec).await?;
        engine.start_container(&spec.name).await
    })
    .await
}

/// The runtime's answer when it cannot grant every capability `--privileged` asks for.
fn refuses_privileged(err: &DockerError) -> bool {
    err.message().contains("apply caps")
}

async fn restricted_security(
    ctx: &Ctx,
    node: &ContainerSpec,
    fallback: &PrivilegeFallback,
) -> anyhow::Result<Security> {
    let security = fallback
        .restricted
        .get_or_try_init(|| async {
            let held = probe_capabilities(ctx, &node.image).await?;
            let capabilities = known_capabilities(ctx, &node.image, held).await?;
            anyhow::Ok(Security::Restricted {
                capabilities,
                host_cgroups: ctx.info.cgroup_version != "2",
            })
        })
        .await?;
    Ok(security.clone())
}

/// Asks the engine which capabilities its runtime holds: a throwaway container in the host PID
/// namespace reads the bounding set of its parent, the runtime shim that would start the nodes.
async fn probe_capabilities(ctx: &Ctx, image: &str) -> anyhow::Result<Vec<String>> {
    let mut spec = ContainerSpec::new(
        &format!("{}-capability-probe-{}", ctx.name, super::random_id()),
        image,
        "none",
    );
    spec.tty = false;
    spec.restart_on_failure = None;
    spec.pid_host = true;
    spec.entrypoint = Some(vec![
        "sh".into(),
        "-c".into(),
        "grep CapBnd /proc/$PPID/status".into(),
    ]);
    spec.labels
        .insert(CREATE_ID_LABEL.to_string(), ctx.create_id.clone());
    spec.labels
        .insert(HELPER_LABEL.to_string(), ctx.name.clone());
    let engine = ctx.engine.clone();
    let (code, log) = tracked(ctx, async move { engine.run_to_completion(&spec).await }).await?;
    let text = String::from_utf8_lossy(&log);
    let caps = (code == 0).then(|| parse_cap_bnd(&text)).flatten();
    caps.ok_or_else(|| {
        anyhow::anyhow!(
            "the Docker engine refused --privileged and kindling could not read which capabilities it allows (exit {code}): {}",
            text.trim()
        )
    })
}

/// Drops the capabilities the engine does not know by name (older engines reject e.g.
/// `CAP_PERFMON`): creates, without starting, a container asking for them, and removes each
/// name the engine reports as unknown until it accepts the set.
async fn known_capabilities(
    ctx: &Ctx,
    image: &str,
    mut caps: Vec<String>,
) -> anyhow::Result<Vec<String>> {
    for _ in 0..CAPABILITIES.len() {
        let mut spec = ContainerSpec::new(
            &format!("{}-capability-check-{}", ctx.name, super::random_id()),
            image,
            "none",
        );
        spec.restart_on_failure = None;
        spec.security = Security::Restricted {
            capabilities: caps.clone(),
            host_cgroups: false,
        };
        spec.labels
            .insert(CREATE_ID_LABEL.to_string(), ctx.create_id.clone());
        spec.labels
            .insert(HELPER_LABEL.to_string(), ctx.name.clone());
        let engine = ctx.engine.clone();
        let created = tracked(ctx, async move {
            let result = engine.create_container(&spec).await;
            if result.is_ok() {
                engine.remove_container(&spec.name).await?;
            }
            result
        })
        .await;
        match created {
            Ok(_) => return Ok(caps),
            Err(e) => match unknown_capability(&e.message()) {
                Some(name) if caps.contains(&name) => caps.retain(|c| c != &name),
                _ => return Err(e.into()),
            },
        }
    }
    anyhow::bail!("the Docker engine accepted none of the capabilities its runtime holds")
}

/// The capability named in the engine's `unknown capability: "CAP_X"` answer.
fn unknown_capability(message: &str) -> Option<String> {
    let rest = &message[message.find("unknown capability: ")? + "unknown capability: ".len()..];
    Some(rest.trim().trim_matches('"').split('"').next()?.to_string())
}

/// The part of the runtime's error that says why `--privileged` failed.
fn privileged_refusal(message: &str) -> &str {
    const KNOWN: &str = "unable to apply caps: operation not permitted";
    if message.contains(KNOWN) {
        KNOWN
    } else {
        message.lines().last().unwrap_or(message).trim()
    }
}

/// Linux capability names by bit number.
const CAPABILITIES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Parses `CapBnd:\t000001fffeffffff` into `CAP_…` names (unknown high bits ignored).
fn parse_cap_bnd(status: &str) -> Option<Vec<String>> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))?
        .trim();
    let mask = u64::from_str_radix(hex, 16).ok()?;
    let caps: Vec<String> = CAPABILITIES
        .iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, name)| format!("CAP_{name}"))
        .collect();
    (!caps.is_empty()).then_some(caps)
}

/// Follows the node's log until systemd reports the multi-user target.
async fn wait_for_boot(ctx: &Ctx, name: &str) -> anyhow::Result<()> {
    let mut log = String::new();
    let follow = async {
        let mut stream = std::pin::pin!(ctx.engine.follow_logs(name));
        while let Some(chunk) = stream.next().await {
            log.push_str(&String::from_utf8_lossy(&chunk?));
            if booted(&log) {
                return anyhow::Ok(true);
            }
        }
        anyhow::Ok(false)
    };
    let outcome = tokio::time::timeout(BOOT_TIMEOUT, follow).await;
    let why = match outcome {
        Ok(Ok(true)) => return Ok(()),
        Ok(Err(e)) => return Err(e.context(format!("failed to read the log of node \"{name}\""))),
        Ok(Ok(false)) => "stopped before systemd reached its multi-user target".to_string(),
        Err(_) => format!(
            "did not reach systemd's multi-user target within {}s",
            BOOT_TIMEOUT.as_secs()
        ),
    };
    let full = ctx
        .engine
        .container_logs(name)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or(log);
    let lines: Vec<&str> = full.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n");
    anyhow::bail!("node \"{name}\" {why}; last lines of its log:\n{tail}")
}

/// systemd's line once the node is up (kind waits for the same target).
fn booted(log: &str) -> bool {
    log.lines()
        .any(|l| l.contains("Reached target") && l.contains("Multi-User System"))
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
    fn parses_restricted_bounding_set() {
        let caps = parse_cap_bnd("Name:\tcontainerd-shim\nCapBnd:\t000001fffeffffff\n").unwrap();
        assert_eq!(caps.len(), 40);
        assert!(!caps.contains(&"CAP_SYS_RESOURCE".to_string()));
        assert!(caps.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(caps.contains(&"CAP_CHECKPOINT_RESTORE".to_string()));
        assert_eq!(parse_cap_bnd("no such line"), None);
    }

    #[test]
    fn engine_answers() {
        assert_eq!(
            unknown_capability("invalid CapAdd: unknown capability: \"CAP_PERFMON\"").as_deref(),
            Some("CAP_PERFMON")
        );
        assert_eq!(unknown_capability("something else"), None);
        assert_eq!(
            privileged_refusal(
                "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown"
            ),
            "unable to apply caps: operation not permitted"
        );
    }

    #[test]
    fn boot_line_detection() {
        assert!(booted(
            "INFO: starting init\n[  OK  ] Reached target Multi-User System.\n"
        ));
        assert!(booted(
            "Reached target multi-user.target - Multi-User System.\n"
        ));
        assert!(!booted("INFO: detected cgroup v1\n"));
    }

    #[test]
    fn free_ports_are_distinct_while_held() {
        let (a, _ga) = free_port("127.0.0.1", "tcp").unwrap();
        let (b, _gb) = free_port("127.0.0.1", "tcp").unwrap();
        assert_ne!(a, b);
        assert!(free_port("not-an-ip", "tcp").is_err());
    }
}

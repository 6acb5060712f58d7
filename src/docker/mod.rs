//! The only module that talks to the Docker engine (through bollard). Callers see plain types:
//! [`ContainerSpec`] in, names/addresses/bytes out, and [`DockerError`]s that name what failed.

mod auth;
mod container;
mod error;
mod exec;
mod files;
mod image;
mod network;
mod registry;
mod spec;

pub use container::{ContainerDetails, ContainerSummary};
pub use error::{CommandError, CommandTimeout, DockerError};
pub use exec::ExecOutput;
pub use files::FileToWrite;
pub use image::{ImageInfo, ImageRef};
pub use network::{NetworkOutcome, ula_subnet};
pub use registry::{ContainerListing, registry_credentials};
pub use spec::{ContainerSpec, PortPublish, Security};

use std::time::Duration;

/// Where the engine is when `DOCKER_HOST` is unset.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// Variable that sets the bound on each command kindling runs in a node.
pub const NODE_COMMAND_TIMEOUT_VAR: &str = "KINDLING_NODE_COMMAND_TIMEOUT";
/// Variable that sets the bound on each Docker call of a cleanup (delete, rollback).
pub const CLEANUP_TIMEOUT_VAR: &str = "KINDLING_CLEANUP_TIMEOUT";
/// Default bound on a command run in a node. kubeadm gives up on its own after at most 5 min in
/// any one wait (discovery and TLS bootstrap 5 min, kubelet and control-plane health 4 min each):
/// twice that leaves room for the rest of a slow run, so kubeadm's own, more useful, error comes
/// first, while a command that never returns still fails a CI job in minutes, not hours.
pub const DEFAULT_NODE_COMMAND_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Default bound on a Docker call of a cleanup: removing a node (SIGKILL, then its volumes) takes
/// seconds even on a loaded machine; a minute without an answer means it is stuck.
pub const DEFAULT_CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How long kindling waits for work whose end it cannot otherwise see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Each command run in a node, from creating the exec to reading its exit code (`None`: no
    /// bound).
    pub node_command: Option<Duration>,
    /// Each Docker call of a cleanup: listing and removing containers in `delete cluster` and in
    /// create's rollback (`None`: no bound).
    pub cleanup: Option<Duration>,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            node_command: Some(DEFAULT_NODE_COMMAND_TIMEOUT),
            cleanup: Some(DEFAULT_CLEANUP_TIMEOUT),
        }
    }
}

impl Bounds {
    /// The defaults, changed by [`NODE_COMMAND_TIMEOUT_VAR`] and [`CLEANUP_TIMEOUT_VAR`] when set.
    pub fn from_env() -> Result<Bounds, DockerError> {
        let read = |variable: &'static str| match std::env::var_os(variable) {
            None => Ok(None),
            Some(value) => value
                .into_string()
                .map(Some)
                .map_err(|raw| DockerError::Setting {
                    variable,
                    value: raw.to_string_lossy().into_owned(),
                    reason: "not valid UTF-8".to_string(),
                }),
        };
        Bounds::from_values(
            read(NODE_COMMAND_TIMEOUT_VAR)?.as_deref(),
            read(CLEANUP_TIMEOUT_VAR)?.as_deref(),
        )
    }

    /// The defaults, changed by the given variable values (unset or empty: the default; `0`: no
    /// bound; otherwise a Go duration such as `30s`, `5m` or `1h30m`).
    pub fn from_values(
        node_command: Option<&str>,
        cleanup: Option<&str>,
    ) -> Result<Bounds, DockerError> {
        let defaults = Bounds::default();
        Ok(Bounds {
            node_command: parse_bound(NODE_COMMAND_TIMEOUT_VAR, node_command)?
                .unwrap_or(defaults.node_command),
            cleanup: parse_bound(CLEANUP_TIMEOUT_VAR, cleanup)?.unwrap_or(defaults.cleanup),
        })
    }
}

/// One bound variable: `None` when unset or empty, `Some(None)` for `0` (no bound).
fn parse_bound(
    variable: &'static str,
    value: Option<&str>,
) -> Result<Option<Option<Duration>>, DockerError> {
    let Some(text) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let duration = crate::util::parse_go_duration(text).map_err(|_| DockerError::Setting {
        variable,
        value: text.to_string(),
        reason: "use a duration with a unit, e.g. 30s, 5m or 1h30m (0 means no bound)".into(),
    })?;
    Ok(Some((!duration.is_zero()).then_some(duration)))
}

/// A connection to a Docker engine, with the address it was made to.
#[derive(Clone)]
pub struct Engine {
    docker: bollard::Docker,
    address: String,
    bounds: Bounds,
    /// API calls made through this connection (and its clones), for `-v 3` and benchmarks.
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Facts about the engine that change how nodes are created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineInfo {
    /// Engine id (stable per daemon).
    pub id: String,
    /// `1` or `2`.
    pub cgroup_version: String,
    /// `cgroupfs`, `systemd` or `none`.
    pub cgroup_driver: String,
    /// The engine runs rootless.
    pub rootless: bool,
    /// The engine remaps user namespaces.
    pub userns_remap: bool,
    /// Storage driver (`overlay2`, `fuse-overlayfs`, `btrfs`, …).
    pub storage_driver: String,
    /// The storage driver's backing filesystem, when reported.
    pub backing_filesystem: String,
    /// Engine version, e.g. `20.10.24+dfsg1`.
    pub server_version: String,
    /// The engine's clock (`SystemTime`) when it answered, if it reported a readable one. The
    /// nodes share it: certificates are dated by it.
    pub system_time: Option<time::OffsetDateTime>,
    /// This machine's clock when that answer arrived.
    pub answered_at: Option<time::OffsetDateTime>,
}

impl Engine {
    /// Connects to `DOCKER_HOST` (or the default socket) and checks that the engine answers;
    /// the bounds come from the environment ([`Bounds::from_env`]), checked first.
    pub async fn connect() -> Result<Engine, DockerError> {
        let bounds = Bounds::from_env()?;
        let address = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_string());
        Ok(Engine::connect_to(&address).await?.with_bounds(bounds))
    }

    /// Connects to an explicit address (`unix://…`, `tcp://…`, `http://…`).
    pub async fn connect_to(address: &str) -> Result<Engine, DockerError> {
        let fail = |reason: String| DockerError::Connect {
            address: address.to_string(),
            reason,
        };
        let client =
            bollard::Docker::connect_with_host(address).map_err(|e| fail(e.to_string()))?;
        // The version call doubles as the reachability check; a hung engine must not hang us.
        let negotiated = tokio::time::timeout(Duration::from_secs(30), client.negotiate_version())
            .await
            .map_err(|_| fail("no answer within 30s".to_string()))?
            .map_err(|e| fail(connect_reason(&e)))?;
        Ok(Engine {
            docker: negotiated,
            address: address.to_string(),
            bounds: Bounds::default(),
            // The version negotiation above was one.
            calls: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(1)),
        })
    }

    /// The client, counting the API call about to be made with it.
    fn client(&self) -> &bollard::Docker {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.docker
    }

    /// How many API calls this connection has made so far (a stream counts once).
    pub fn api_calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The same connection with other bounds.
    pub fn with_bounds(mut self, bounds: Bounds) -> Engine {
        self.bounds = bounds;
        self
    }

    /// The bounds this connection applies.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Runs a Docker call of a cleanup under the cleanup bound; past it, the call is dropped and
    /// the error names `operation` (the engine may still finish it).
    pub async fn within_cleanup_bound<T>(
        &self,
        operation: impl Into<String>,
        call: impl std::future::Future<Output = Result<T, DockerError>>,
    ) -> Result<T, DockerError> {
        let Some(bound) = self.bounds.cleanup else {
            return call.await;
        };
        match tokio::time::timeout(bound, call).await {
            Ok(result) => result,
            Err(_) => Err(DockerError::Timeout {
                operation: operation.into(),
                bound,
                variable: CLEANUP_TIMEOUT_VAR,
            }),
        }
    }

    /// The address this connection was made to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Reads the engine facts that affect node creation.
    pub async fn info(&self) -> Result<EngineInfo, DockerError> {
        let info = self
            .client()
            .info()
            .await
            .map_err(|e| DockerError::api("read engine info", e))?;
        let answered_at = time::OffsetDateTime::now_utc();
        let security = info.security_options.unwrap_or_default();
        let backing_filesystem = info
            .driver_status
            .unwrap_or_default()
            .into_iter()
            .find(|kv| kv.first().map(String::as_str) == Some("Backing Filesystem"))
            .and_then(|kv| kv.get(1).cloned())
            .unwrap_or_default();
        Ok(EngineInfo {
            id: info.id.unwrap_or_default(),
            cgroup_version: info
                .cgroup_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            cgroup_driver: info
                .cgroup_driver
                .map(|v| v.to_string())
                .unwrap_or_default(),
            rootless: security.iter().any(|o| o.contains("name=rootless")),
            userns_remap: security.iter().any(|o| o.contains("name=userns")),
            storage_driver: info.driver.unwrap_or_default(),
            backing_filesystem,
            server_version: info.server_version.unwrap_or_default(),
            system_time: info.system_time.as_deref().and_then(parse_system_time),
            answered_at: Some(answered_at),
        })
    }
}

/// The engine's `SystemTime`: RFC 3339 with up to nanoseconds (Go's `time.RFC3339Nano`).
fn parse_system_time(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Turns a transport error into a short reason ("connection refused", "no such socket").
fn connect_reason(err: &bollard::errors::Error) -> String {
    let mut reason = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        reason = s.to_string();
        source = s.source();
    }
    reason
}

impl Engine {
    /// The engine's `info` document, as JSON (for `export logs`).
    pub async fn info_json(&self) -> Result<serde_json::Value, DockerError> {
        let info = self
            .client()
            .info()
            .await
            .map_err(|e| DockerError::api("read engine info", e))?;
        serde_json::to_value(info).map_err(|e| DockerError::Api {
            operation: "encode engine info".into(),
            status: None,
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod clock_tests {
    use super::parse_system_time;

    #[test]
    fn engine_system_time_is_read_as_go_writes_it() {
        // Go's time.RFC3339Nano, in UTC and with a zone offset.
        let utc = parse_system_time("2026-03-04T05:06:07.123456789Z").unwrap();
        assert_eq!(utc.unix_timestamp(), 1_772_600_767);
        assert_eq!(utc.nanosecond(), 123_456_789);
        let zoned = parse_system_time("2026-03-04T06:06:07.5+01:00").unwrap();
        assert_eq!(zoned.unix_timestamp(), 1_772_600_767);
        assert_eq!(
            parse_system_time("2026-03-04T05:06:07Z"),
            Some(utc.replace_nanosecond(0).unwrap())
        );
        assert_eq!(parse_system_time(""), None);
        assert_eq!(parse_system_time("yesterday"), None);
    }
}

#[cfg(test)]
mod bounds_tests {
    use super::*;

    #[test]
    fn bounds_default_when_unset_or_empty() {
        let defaults = Bounds {
            node_command: Some(Duration::from_secs(600)),
            cleanup: Some(Duration::from_secs(60)),
        };
        assert_eq!(Bounds::default(), defaults);
        assert_eq!(Bounds::from_values(None, None).unwrap(), defaults);
        assert_eq!(Bounds::from_values(Some(""), Some(" ")).unwrap(), defaults);
    }

    #[test]
    fn bounds_take_go_durations_and_zero_means_none() {
        let b = Bounds::from_values(Some("30s"), Some("1m30s")).unwrap();
        assert_eq!(b.node_command, Some(Duration::from_secs(30)));
        assert_eq!(b.cleanup, Some(Duration::from_secs(90)));
        let b = Bounds::from_values(Some("1.5h"), Some("250ms")).unwrap();
        assert_eq!(b.node_command, Some(Duration::from_secs(5400)));
        assert_eq!(b.cleanup, Some(Duration::from_millis(250)));
        let b = Bounds::from_values(Some("0"), Some("0s")).unwrap();
        assert_eq!(b.node_command, None);
        assert_eq!(b.cleanup, None);
    }

    #[test]
    fn bad_bound_names_the_variable_and_the_value() {
        for bad in ["10", "5 minutes", "-1s", "1x", "abc"] {
            let err = Bounds::from_values(Some(bad), None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid KINDLING_NODE_COMMAND_TIMEOUT={bad:?}: use a duration with a unit, e.g. 30s, 5m or 1h30m (0 means no bound)"
                )
            );
        }
        let err = Bounds::from_values(Some("5m"), Some("soon")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid KINDLING_CLEANUP_TIMEOUT=\"soon\": "),
            "{err}"
        );
    }
}

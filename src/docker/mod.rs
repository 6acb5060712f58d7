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
pub use error::{CommandError, DockerError};
pub use exec::ExecOutput;
pub use files::FileToWrite;
pub use image::{ImageInfo, ImageRef};
pub use network::{NetworkOutcome, ula_subnet};
pub use registry::{ContainerListing, registry_credentials};
pub use spec::{ContainerSpec, PortPublish, Security};

use std::time::Duration;

/// Where the engine is when `DOCKER_HOST` is unset.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// A connection to a Docker engine, with the address it was made to.
#[derive(Clone)]
pub struct Engine {
    client: bollard::Docker,
    address: String,
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
    /// Connects to `DOCKER_HOST` (or the default socket) and checks that the engine answers.
    pub async fn connect() -> Result<Engine, DockerError> {
        let address = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_string());
        Engine::connect_to(&address).await
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
            client: negotiated,
            address: address.to_string(),
        })
    }

    /// The address this connection was made to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Reads the engine facts that affect node creation.
    pub async fn info(&self) -> Result<EngineInfo, DockerError> {
        let info = self
            .client
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
            .client
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

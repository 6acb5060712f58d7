//! Container lifecycle: create, start, inspect, logs, remove, list by label.

use super::{ContainerSpec, DockerError, Engine};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::{Stream, StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap};

/// A container as listed by label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    /// Container id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `running`, `exited`, `created`, …
    pub state: String,
    /// Creation time (Unix seconds).
    pub created: i64,
}

/// What kindling reads back from a created container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDetails {
    /// Container id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Whether it is running.
    pub running: bool,
    /// Image reference it was created from.
    pub image: String,
    /// IPv4 address on its network (empty when none).
    pub ipv4: String,
    /// Global IPv6 address on its network (empty when none).
    pub ipv6: String,
    /// Number of networks it is attached to.
    pub network_count: usize,
    /// Published ports: `"6443/tcp"` → `[(host_ip, host_port)]`.
    pub ports: BTreeMap<String, Vec<(String, String)>>,
}

impl Engine {
    /// Lists containers (running or not) carrying `label` (`key` or `key=value`).
    pub async fn list_containers(&self, label: &str) -> Result<Vec<ContainerSummary>, DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .client()
            .list_containers(Some(options))
            .await
            .map_err(|e| DockerError::api(format!("list containers with label {label}"), e))?;
        Ok(list
            .into_iter()
            .map(|c| ContainerSummary {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .unwrap_or_default()
                    .first()
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_default(),
                labels: c.labels.unwrap_or_default().into_iter().collect(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                created: c.created.unwrap_or_default(),
            })
            .collect())
    }

    /// Creates a container (not started); returns its id.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = self
            .client()
            .create_container(Some(options), spec.to_create_body())
            .await
            .map_err(|e| DockerError::api(format!("create container \"{}\"", spec.name), e))?;
        Ok(created.id)
    }

    /// Starts a created container.
    pub async fn start_container(&self, name: &str) -> Result<(), DockerError> {
        self.client()
            .start_container(name, None)
            .await
            .map_err(|e| DockerError::api(format!("start container \"{name}\""), e))
    }

    /// Removes a container and its anonymous volumes, killing it first if needed (a paused one
    /// too: the engine thaws it to deliver the kill). A container that does not exist is not an
    /// error. Bounded by [`Bounds::cleanup`](super::Bounds::cleanup).
    pub async fn remove_container(&self, name: &str) -> Result<(), DockerError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        let op = format!("remove container \"{name}\"");
        let call = async {
            self.client()
                .remove_container(name, Some(options))
                .await
                .map_err(|e| DockerError::api(op.clone(), e))
        };
        match self.within_cleanup_bound(op.clone(), call).await {
            Ok(()) => Ok(()),
            // 404: already gone; 409 "removal already in progress": someone else is on it.
            Err(err)
                if err.is_not_found()
                    || (err.is_conflict() && err.message().contains("in progress")) =>
            {
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Inspects a container.
    pub async fn inspect_container(&self, name: &str) -> Result<ContainerDetails, DockerError> {
        let c = self
            .client()
            .inspect_container(name, None)
            .await
            .map_err(|e| DockerError::api(format!("inspect container \"{name}\""), e))?;
        let settings = c.network_settings.unwrap_or_default();
        let networks = settings.networks.unwrap_or_default();
        let (ipv4, ipv6) = networks
            .values()
            .next()
            .map(|n| {
                (
                    n.ip_address.clone().unwrap_or_default(),
                    n.global_ipv6_address.clone().unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        let ports = settings
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|(port, bindings)| {
                let bindings = bindings
                    .unwrap_or_default()
                    .into_iter()
                    .map(|b| {
                        (
                            b.host_ip.unwrap_or_default(),
                            b.host_port.unwrap_or_default(),
                        )
                    })
                    .collect();
                (port, bindings)
            })
            .collect();
        let config = c.config.unwrap_or_default();
        Ok(ContainerDetails {
            id: c.id.unwrap_or_default(),
            name: c
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            running: c.state.and_then(|s| s.running).unwrap_or(false),
            image: config.image.unwrap_or_default(),
            ipv4,
            ipv6,
            network_count: networks.len(),
            ports,
        })
    }

    /// The container's whole log (stdout and stderr, as written).
    pub async fn container_logs(&self, name: &str) -> Result<Vec<u8>, DockerError> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .build();
        let mut out = Vec::new();
        let mut stream = self.client().logs(name, Some(options));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| DockerError::api(format!("read logs of container \"{name}\""), e))?;
            out.extend_from_slice(&chunk.into_bytes());
        }
        Ok(out)
    }

    /// Follows a container's log from its start; the stream ends when the container stops.
    pub fn follow_logs(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<bytes::Bytes, DockerError>> + use<> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(true)
            .build();
        let op = format!("follow logs of container \"{name}\"");
        self.client()
            .logs(name, Some(options))
            .map_ok(|chunk| chunk.into_bytes())
            .map_err(move |e| DockerError::api(op.clone(), e))
    }

    /// Creates, starts and waits for a short-lived container; returns its exit code and log.
    /// The container is removed afterwards in every case.
    pub async fn run_to_completion(
        &self,
        spec: &ContainerSpec,
    ) -> Result<(i64, Vec<u8>), DockerError> {
        self.create_container(spec).await?;
        let result = async {
            self.start_container(&spec.name).await?;
            let options = WaitContainerOptionsBuilder::default()
                .condition("not-running")
                .build();
            let mut wait = self.client().wait_container(&spec.name, Some(options));
            let mut code = 0;
            while let Some(item) = wait.next().await {
                match item {
                    Ok(resp) => code = resp.status_code,
                    // bollard reports a non-zero exit as an error carrying the code.
                    Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => {
                        code = c
                    }
                    Err(e) => {
                        return Err(DockerError::api(
                            format!("wait for container \"{}\"", spec.name),
                            e,
                        ));
                    }
                }
            }
            let logs = self.container_logs(&spec.name).await?;
            Ok((code, logs))
        }
        .await;
        let removed = self.remove_container(&spec.name).await;
        let out = result?;
        removed?;
        Ok(out)
    }
}

impl Engine {
    /// The engine's full inspect document of a container (for `export logs`).
    pub async fn inspect_container_json(
        &self,
        name: &str,
    ) -> Result<serde_json::Value, DockerError> {
        let c = self
            .client()
            .inspect_container(name, None)
            .await
            .map_err(|e| DockerError::api(format!("inspect container \"{name}\""), e))?;
        serde_json::to_value(c).map_err(|e| DockerError::Api {
            operation: format!("encode inspect of container \"{name}\""),
            status: None,
            message: e.to_string(),
        })
    }

    /// Streams a tar of `path` in the container (the engine's archive API).
    pub fn download_path(
        &self,
        name: &str,
        path: &str,
    ) -> impl Stream<Item = Result<bytes::Bytes, DockerError>> + use<> {
        let options = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let op = format!("copy {path} out of container \"{name}\"");
        self.client()
            .download_from_container(name, Some(options))
            .map_err(move |e| DockerError::api(op.clone(), e))
    }
}

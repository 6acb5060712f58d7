//! Engine calls that local registries and pull-through caches need: every container with its
//! image, networks and published ports; attaching a container to a network; named volumes;
//! and the Docker CLI credentials a cache uses for its upstream.

use super::{DockerError, Engine};
use bollard::models::{NetworkConnectRequest, VolumeCreateRequest};
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveVolumeOptionsBuilder};
use std::collections::BTreeMap;

/// A container as the engine lists it, with what registry management looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerListing {
    /// Name without the leading `/`.
    pub name: String,
    /// Image reference it was created from.
    pub image: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `running`, `exited`, `created`, …
    pub state: String,
    /// Networks it is attached to, sorted.
    pub networks: Vec<String>,
    /// Published ports of a running container: (host address, host port, container port).
    pub ports: Vec<(String, u16, u16)>,
}

impl ContainerListing {
    /// The host port published for `container_port`, preferring an IPv4 binding.
    pub fn host_port(&self, container_port: u16) -> Option<u16> {
        let mut bindings: Vec<&(String, u16, u16)> = self
            .ports
            .iter()
            .filter(|(_, host, inner)| *inner == container_port && *host != 0)
            .collect();
        bindings.sort_by_key(|(ip, _, _)| ip.contains(':'));
        bindings.first().map(|(_, host, _)| *host)
    }
}

impl Engine {
    /// Every container on the engine (stopped ones included), or only the one named `name`.
    pub async fn list_all_containers(
        &self,
        name: Option<&str>,
    ) -> Result<Vec<ContainerListing>, DockerError> {
        let mut builder = ListContainersOptionsBuilder::default().all(true);
        let filters;
        if let Some(name) = name {
            filters =
                std::collections::HashMap::from([("name".to_string(), vec![name.to_string()])]);
            builder = builder.filters(&filters);
        }
        let list = self
            .client()
            .list_containers(Some(builder.build()))
            .await
            .map_err(|e| DockerError::api("list containers", e))?;
        let mut out: Vec<ContainerListing> = list
            .into_iter()
            .map(|c| {
                let mut networks: Vec<String> = c
                    .network_settings
                    .and_then(|n| n.networks)
                    .map(|n| n.into_keys().collect())
                    .unwrap_or_default();
                networks.sort();
                ContainerListing {
                    name: c
                        .names
                        .unwrap_or_default()
                        .first()
                        .map(|n| n.trim_start_matches('/').to_string())
                        .unwrap_or_default(),
                    image: c.image.unwrap_or_default(),
                    labels: c.labels.unwrap_or_default().into_iter().collect(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    networks,
                    ports: c
                        .ports
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| {
                            Some((p.ip.unwrap_or_default(), p.public_port?, p.private_port))
                        })
                        .collect(),
                }
            })
            .collect();
        // The engine's name filter matches substrings; keep the exact name only.
        if let Some(name) = name {
            out.retain(|c| c.name == name);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Attaches `container` to `network`; already being attached is success.
    pub async fn connect_network(&self, network: &str, container: &str) -> Result<(), DockerError> {
        let request = NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: None,
        };
        match self.client().connect_network(network, request).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let err = DockerError::api(
                    format!("connect container \"{container}\" to network \"{network}\""),
                    e,
                );
                // Another create attached it first (the engine's words vary by version).
                let msg = err.message();
                if msg.contains("already exists") || msg.contains("already attached") {
                    Ok(())
                } else {
                    Err(err)
                }
            }
        }
    }

    /// The labels of volume `name`, or `None` when there is no such volume.
    pub async fn volume_labels(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, DockerError> {
        match self.client().inspect_volume(name).await {
            Ok(v) => Ok(Some(v.labels.into_iter().collect())),
            Err(e) => {
                let err = DockerError::api(format!("inspect volume \"{name}\""), e);
                if err.is_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// Creates a named local volume with labels.
    pub async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), DockerError> {
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.client()
            .create_volume(request)
            .await
            .map_err(|e| DockerError::api(format!("create volume \"{name}\""), e))?;
        Ok(())
    }

    /// Removes a named volume; one that does not exist is not an error.
    pub async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        let options = RemoveVolumeOptionsBuilder::default().force(false).build();
        match self.client().remove_volume(name, Some(options)).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let err = DockerError::api(format!("remove volume \"{name}\""), e);
                if err.is_not_found() { Ok(()) } else { Err(err) }
            }
        }
    }
}

/// Username and password for `registry_host` from the Docker CLI config (helpers included), as
/// `docker pull` would use them; `None` when there are none or only an identity token (which a
/// registry's pull-through cache cannot use). May run a credential helper: call off the async
/// workers.
pub fn registry_credentials(registry_host: &str) -> Option<(String, String)> {
    let creds = super::auth::credentials_for(&format!("{registry_host}/library/x"))?;
    match (creds.username, creds.password) {
        (Some(user), Some(password)) if !user.is_empty() && !password.is_empty() => {
            Some((user, password))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_prefers_ipv4_and_the_right_container_port() {
        let c = ContainerListing {
            ports: vec![
                ("::".into(), 6001, 5000),
                ("127.0.0.1".into(), 5001, 5000),
                ("0.0.0.0".into(), 8080, 80),
            ],
            ..Default::default()
        };
        assert_eq!(c.host_port(5000), Some(5001));
        assert_eq!(c.host_port(80), Some(8080));
        assert_eq!(c.host_port(443), None);
    }
}

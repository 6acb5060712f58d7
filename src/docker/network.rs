//! The shared `kind` network, created exactly as kind creates it and safe under racing creates.

use super::{DockerError, Engine};
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptionsBuilder;
use std::collections::HashMap;
use std::net::Ipv6Addr;

/// What `ensure_network` found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkOutcome {
    /// The network already existed and was reused as is.
    Existing,
    /// kindling created it; `ipv6` says whether it got an IPv6 subnet.
    Created {
        /// Whether the IPv6 ULA subnet was accepted.
        ipv6: bool,
    },
}

const MTU_OPTION: &str = "com.docker.network.driver.mtu";
const ATTEMPTS: i32 = 5;
/// How long a network another process is creating may take to become visible: 20 × 100 ms.
const APPEAR_POLLS: u32 = 20;
const APPEAR_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// Takes this host's turn to create network `name` (a lock file in the temporary directory);
/// `None` when no lock can be had (another user's file), in which case creation goes ahead and
/// relies on the engine's answers and duplicate pruning.
async fn host_lock(name: &str) -> Option<std::fs::File> {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = std::env::temp_dir().join(format!("kindling-network-{safe}.lock"));
    crate::util::blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .or_else(|_| std::fs::File::open(&path))
            .ok()?;
        file.lock().ok()?;
        Some(file)
    })
    .await
}

/// The IPv6 ULA /64 kind derives from a network name: `fc00:` + bytes 2..8 of
/// SHA-1(name ‖ attempt as little-endian i32).
pub fn ula_subnet(name: &str, attempt: i32) -> String {
    let mut input = name.as_bytes().to_vec();
    input.extend_from_slice(&attempt.to_le_bytes());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    let h = digest.as_ref();
    let mut addr = [0u8; 16];
    addr[0] = 0xfc;
    addr[2..8].copy_from_slice(&h[2..8]);
    format!("{}/64", Ipv6Addr::from(addr))
}

fn is_ipv6_unavailable(msg: &str) -> bool {
    msg.contains("Cannot read IPv6 setup for bridge")
        || (msg.contains("ip6tables")
            && (msg.contains("Unable to enable NAT rule")
                || msg.contains("setting default policy to DROP")))
}

fn is_pool_overlap(msg: &str) -> bool {
    msg.contains("Pool overlaps with other one on this address space")
        || msg.contains("networks have overlapping")
}

impl Engine {
    /// Makes sure the bridge network `name` exists (kind-facts §3.2); never removes it.
    pub async fn ensure_network(&self, name: &str) -> Result<NetworkOutcome, DockerError> {
        // Engines on API 1.41 accept a second network with the same name; kindling processes on
        // this host take turns so at most one creates it.
        let _turn = host_lock(name).await;
        self.ensure_network_unlocked(name).await
    }

    /// What [`Engine::ensure_network`] does once it has this host's turn; on its own it relies
    /// only on the engine's answers (for creators on other hosts sharing one engine): overlap
    /// and duplicate-name answers, a grace period for networks being created, and pruning.
    pub async fn ensure_network_unlocked(&self, name: &str) -> Result<NetworkOutcome, DockerError> {
        if !self.network_ids(name).await?.is_empty() {
            self.prune_duplicate_networks(name).await?;
            return Ok(NetworkOutcome::Existing);
        }
        let mtu = self.bridge_mtu().await;
        for attempt in 0..ATTEMPTS {
            match self
                .create_network(name, mtu.clone(), Some(ula_subnet(name, attempt)))
                .await
            {
                Ok(()) => {
                    self.prune_duplicate_networks(name).await?;
                    return Ok(NetworkOutcome::Created { ipv6: true });
                }
                Err(e) if e.message().contains("already exists") => {
                    self.prune_duplicate_networks(name).await?;
                    return Ok(NetworkOutcome::Existing);
                }
                Err(e) if is_ipv6_unavailable(&e.message()) => {
                    return match self.create_network(name, mtu.clone(), None).await {
                        Ok(()) => {
                            self.prune_duplicate_networks(name).await?;
                            Ok(NetworkOutcome::Created { ipv6: false })
                        }
                        Err(e) if e.message().contains("already exists") => {
                            Ok(NetworkOutcome::Existing)
                        }
                        Err(e) => Err(e),
                    };
                }
                Err(e) if is_pool_overlap(&e.message()) => {
                    // Another create may have won the race with the same subnet; its network can
                    // take a moment to become visible, so look for a little while.
                    if self.appears(name).await? {
                        self.prune_duplicate_networks(name).await?;
                        return Ok(NetworkOutcome::Existing);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(DockerError::Api {
            operation: format!("create network \"{name}\""),
            status: None,
            message: "exhausted attempts trying to find a non-overlapping IPv6 subnet".into(),
        })
    }

    /// The IPAM subnets of a network (for NO_PROXY).
    pub async fn network_subnets(&self, name: &str) -> Result<Vec<String>, DockerError> {
        let net = self
            .client()
            .inspect_network(name, None)
            .await
            .map_err(|e| DockerError::api(format!("inspect network \"{name}\""), e))?;
        Ok(net
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.subnet)
            .collect())
    }

    async fn network_ids(&self, name: &str) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([(
            "name".to_string(),
            vec![format!("^{}$", regex_escape(name))],
        )]);
        let options = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        let list = self
            .client()
            .list_networks(Some(options))
            .await
            .map_err(|e| DockerError::api(format!("list networks named \"{name}\""), e))?;
        // The engine's name filter is a pattern match; keep exact names only.
        Ok(list
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .filter_map(|n| n.id)
            .collect())
    }

    /// Whether a network named `name` shows up within a short grace period.
    async fn appears(&self, name: &str) -> Result<bool, DockerError> {
        for _ in 0..APPEAR_POLLS {
            if !self.network_ids(name).await?.is_empty() {
                return Ok(true);
            }
            tokio::time::sleep(APPEAR_INTERVAL).await;
        }
        Ok(false)
    }

    async fn bridge_mtu(&self) -> Option<String> {
        let bridge = self.client().inspect_network("bridge", None).await.ok()?;
        let mtu = bridge.options?.get(MTU_OPTION)?.clone();
        (mtu.parse::<u32>().ok()? > 0).then_some(mtu)
    }

    async fn create_network(
        &self,
        name: &str,
        mtu: Option<String>,
        ipv6_subnet: Option<String>,
    ) -> Result<(), DockerError> {
        let mut options = HashMap::from([(
            "com.docker.network.bridge.enable_ip_masquerade".to_string(),
            "true".to_string(),
        )]);
        if let Some(mtu) = mtu {
            options.insert(MTU_OPTION.to_string(), mtu);
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".to_string()),
            enable_ipv6: Some(ipv6_subnet.is_some()),
            ipam: ipv6_subnet.map(|subnet| Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(subnet),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            options: Some(options),
            ..Default::default()
        };
        // API 1.41 accepts a second network with the same name (it only warns); the caller's
        // prune right after, with one rule for every racer, decides which network stays.
        // Deleting "our" duplicate here instead could remove the one another racer's prune kept.
        self.client()
            .create_network(request)
            .await
            .map_err(|e| DockerError::api(format!("create network \"{name}\""), e))?;
        Ok(())
    }

    /// When racing creates made several networks with the same name, keep the one with the most
    /// containers (then the lowest id) and remove the others.
    async fn prune_duplicate_networks(&self, name: &str) -> Result<(), DockerError> {
        let ids = self.network_ids(name).await?;
        if ids.len() < 2 {
            return Ok(());
        }
        let mut ranked = Vec::new();
        for id in ids {
            match self.client().inspect_network(&id, None).await {
                Ok(net) => ranked.push((net.containers.map(|c| c.len()).unwrap_or(0), id)),
                Err(e) => {
                    let err = DockerError::api(format!("inspect network {id}"), e);
                    if !err.is_not_found() {
                        return Err(err);
                    }
                }
            }
        }
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, id) in ranked.into_iter().skip(1) {
            if let Err(e) = self.client().remove_network(&id).await {
                let err = DockerError::api(format!("remove duplicate network {id}"), e);
                if !err.is_not_found() {
                    return Err(err);
                }
            }
        }
        Ok(())
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ula_subnets_match_kind() {
        assert_eq!(ula_subnet("kind", 0), "fc00:f853:ccd:e793::/64");
        assert_eq!(ula_subnet("kind", 1), "fc00:8866:27d0:bd7e::/64");
        assert_eq!(ula_subnet("kind", 2), "fc00:ddd9:fcae:c61c::/64");
        assert_eq!(ula_subnet("kind", 3), "fc00:aa7c:42e1:abd3::/64");
        assert_eq!(ula_subnet("kind", 4), "fc00:3131:6ea8:d73a::/64");
    }

    #[test]
    fn recognises_engine_errors() {
        assert!(is_ipv6_unavailable(
            "Error response from daemon: Cannot read IPv6 setup for bridge br-1"
        ));
        assert!(is_pool_overlap(
            "Pool overlaps with other one on this address space"
        ));
        assert!(!is_pool_overlap("network with name kind already exists"));
        assert_eq!(regex_escape("a.b"), "a\\.b");
    }
}

//! kind's config defaults (kind-facts §2.3, §9.4) and the `--image` override.

use super::types::{API_VERSION, Cluster, DEFAULT_CLUSTER_NAME, DEFAULT_NODE_IMAGE, KIND, Node};

/// The config kind uses without `--config`: an empty `Cluster` with every default applied.
pub fn default_config() -> Cluster {
    let mut cluster = Cluster {
        kind: KIND.to_string(),
        api_version: API_VERSION.to_string(),
        ..Cluster::default()
    };
    cluster.apply_defaults();
    cluster
}

/// The node kind adds when a config has none.
fn default_node() -> Node {
    Node {
        role: "control-plane".to_string(),
        image: DEFAULT_NODE_IMAGE.to_string(),
        ..Node::default()
    }
}

impl Cluster {
    /// Fills every unset field with kind's default; fields already set are kept, so applying it
    /// twice changes nothing. Provider-time defaults (listen address, protocol, absolute host
    /// paths) are not applied here: the Docker plan owns them.
    pub fn apply_defaults(&mut self) {
        if self.name.is_empty() {
            self.name = DEFAULT_CLUSTER_NAME.to_string();
        }
        if self.nodes.is_empty() {
            self.nodes.push(default_node());
        }
        for node in &mut self.nodes {
            if node.image.is_empty() {
                node.image = DEFAULT_NODE_IMAGE.to_string();
            }
            if node.role.is_empty() {
                node.role = "control-plane".to_string();
            }
        }

        let net = &mut self.networking;
        if net.ip_family.is_empty() {
            net.ip_family = "ipv4".to_string();
        }
        // An unknown family gets the IPv4 values; validation reports the family itself.
        let (address, pods, services) = match net.ip_family.as_str() {
            "ipv6" => ("::1", "fd00:10:244::/56", "fd00:10:96::/112"),
            // dual keeps the IPv4 loopback for the API server (kind-facts §9.4).
            "dual" => (
                "127.0.0.1",
                "10.244.0.0/16,fd00:10:244::/56",
                "10.96.0.0/16,fd00:10:96::/112",
            ),
            _ => ("127.0.0.1", "10.244.0.0/16", "10.96.0.0/16"),
        };
        if net.api_server_address.is_empty() {
            net.api_server_address = address.to_string();
        }
        if net.pod_subnet.is_empty() {
            net.pod_subnet = pods.to_string();
        }
        if net.service_subnet.is_empty() {
            net.service_subnet = services.to_string();
        }
        if net.kube_proxy_mode.is_empty() {
            net.kube_proxy_mode = "iptables".to_string();
        }
    }

    /// kind's `--image`: sets `image` on every node. A config without nodes first gets kind's
    /// default node, because kind decodes (and so defaults the node list) before overriding.
    /// An empty `image` changes nothing, like an unset flag.
    pub fn image_override(&mut self, image: &str) {
        if image.is_empty() {
            return;
        }
        if self.nodes.is_empty() {
            self.nodes.push(default_node());
        }
        for node in &mut self.nodes {
            node.image = image.to_string();
        }
    }
}

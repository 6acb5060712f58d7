//! Cluster lifecycle: naming and labels shared by every command, and the create/delete flows.

pub mod access;
pub mod containerd;
pub mod create;
pub mod delete;
pub mod kubeadm;
pub mod load;
pub mod logs;
pub mod manifests;

use crate::config::{Cluster, NodeRole};
use crate::docker::{ContainerSummary, DockerError, Engine};

/// Label on every container of a cluster; its value is the cluster name.
pub const CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";
/// Label with the container's role (`control-plane`, `worker`, `external-load-balancer`).
pub const ROLE_LABEL: &str = "io.x-k8s.kind.role";
/// Label on kindling's short-lived helper containers of a create (the capability probe); its
/// value is the cluster name, so `delete cluster` finds them even after a SIGKILL.
pub const HELPER_LABEL: &str = "io.x-k8s.kindling.helper-of";
/// The API server's port inside a node.
pub const API_SERVER_INTERNAL_PORT: u16 = 6443;
/// Name of the Docker network shared by all clusters.
pub const DEFAULT_NETWORK: &str = "kind";

/// A node container as planned from the config, before it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedNode {
    /// Container name, which is also its hostname and Kubernetes node name.
    pub name: String,
    /// Role label value.
    pub role: NodeRole,
    /// Index of the config node it comes from; `None` for the load balancer.
    pub config_index: Option<usize>,
}

/// Names every node the way kind does: `<cluster>-<role>[N]`, N counted per role from 2, in
/// config order; the load balancer (`<cluster>-external-load-balancer`) comes last.
pub fn plan_node_names(cluster_name: &str, config: &Cluster) -> Vec<PlannedNode> {
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    let mut out = Vec::with_capacity(config.nodes.len() + 1);
    for (index, node) in config.nodes.iter().enumerate() {
        let count = counts.entry(node.role.as_str()).or_insert(0);
        *count += 1;
        let suffix = if *count == 1 {
            String::new()
        } else {
            count.to_string()
        };
        out.push(PlannedNode {
            name: format!("{cluster_name}-{}{suffix}", node.role),
            role: NodeRole::parse(&node.role).unwrap_or(NodeRole::Worker),
            config_index: Some(index),
        });
    }
    if config.needs_load_balancer() {
        out.push(PlannedNode {
            name: load_balancer_name(cluster_name),
            role: NodeRole::ExternalLoadBalancer,
            config_index: None,
        });
    }
    out
}

/// Container name of a cluster's load balancer.
pub fn load_balancer_name(cluster_name: &str) -> String {
    format!("{cluster_name}-external-load-balancer")
}

/// The kubeconfig context (and cluster and user) name kind uses: `kind-<cluster>`.
pub fn context_name(cluster_name: &str) -> String {
    format!("kind-{cluster_name}")
}

/// Every cluster name found on container labels (stopped containers included), sorted, unique.
pub async fn list_clusters(engine: &Engine) -> Result<Vec<String>, DockerError> {
    let mut names: Vec<String> = engine
        .list_containers(CLUSTER_LABEL)
        .await?
        .into_iter()
        .filter_map(|c| c.labels.get(CLUSTER_LABEL).cloned())
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// The containers of one cluster, or of every cluster when `name` is `None`.
pub async fn list_nodes(
    engine: &Engine,
    name: Option<&str>,
) -> Result<Vec<ContainerSummary>, DockerError> {
    let filter = match name {
        Some(n) => format!("{CLUSTER_LABEL}={n}"),
        None => CLUSTER_LABEL.to_string(),
    };
    engine.list_containers(&filter).await
}

/// The role label of a node container.
pub fn role_of(node: &ContainerSummary) -> Option<NodeRole> {
    node.labels.get(ROLE_LABEL).and_then(|r| NodeRole::parse(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Node;

    fn node(role: &str) -> Node {
        Node {
            role: role.into(),
            ..Default::default()
        }
    }

    #[test]
    fn names_follow_kind() {
        let cfg = Cluster {
            nodes: vec![
                node("control-plane"),
                node("worker"),
                node("control-plane"),
                node("worker"),
                node("worker"),
            ],
            ..Default::default()
        };
        let names: Vec<_> = plan_node_names("kind", &cfg)
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(
            names,
            [
                "kind-control-plane",
                "kind-worker",
                "kind-control-plane2",
                "kind-worker2",
                "kind-worker3",
                "kind-external-load-balancer"
            ]
        );
    }

    #[test]
    fn no_load_balancer_for_one_control_plane() {
        let cfg = Cluster {
            nodes: vec![node("control-plane"), node("worker")],
            ..Default::default()
        };
        let planned = plan_node_names("x", &cfg);
        assert_eq!(planned.len(), 2);
        assert!(
            planned
                .iter()
                .all(|n| n.role != NodeRole::ExternalLoadBalancer)
        );
    }
}

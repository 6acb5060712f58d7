//! How users reach a cluster: the API server's host endpoint and the `kind-<name>` kubeconfig
//! built from the control plane's `admin.conf` (kind-facts §3.7, §5.1).

use super::{API_SERVER_INTERNAL_PORT, ROLE_LABEL, list_nodes};
use crate::config::NodeRole;
use crate::docker::{ContainerSummary, Engine};
use crate::kubeconfig::{self, Kubeconfig};
use anyhow::Context as _;

/// Docker Desktop publishes the real host endpoint in this label.
const DESKTOP_PORT_LABEL: &str = "desktop.docker.io/ports/6443/tcp";

/// The node users' API traffic enters through: the load balancer, else the only control plane.
pub fn endpoint_node(nodes: &[ContainerSummary]) -> anyhow::Result<&ContainerSummary> {
    let role = |r: NodeRole| {
        nodes
            .iter()
            .filter(move |n| n.labels.get(ROLE_LABEL).map(String::as_str) == Some(r.as_str()))
    };
    if let Some(lb) = role(NodeRole::ExternalLoadBalancer).next() {
        return Ok(lb);
    }
    let cps: Vec<_> = role(NodeRole::ControlPlane).collect();
    match cps.as_slice() {
        [one] => Ok(one),
        _ => anyhow::bail!(
            "expected one control plane node or a load balancer, not {} and none",
            cps.len()
        ),
    }
}

/// `host:port` on which the API server of `node` is published (IPv6 hosts bracketed).
pub async fn host_endpoint(engine: &Engine, node: &str) -> anyhow::Result<String> {
    let details = engine.inspect_container(node).await?;
    if let Some(desktop) = details
        .labels
        .get(DESKTOP_PORT_LABEL)
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(desktop.trim().to_string());
    }
    let key = format!("{API_SERVER_INTERNAL_PORT}/tcp");
    let (host, port) = details
        .ports
        .get(&key)
        .and_then(|b| b.first())
        .cloned()
        .with_context(|| format!("node \"{node}\" does not publish the API server port {key}"))?;
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// The first control plane by name (where `kubeadm init` ran).
pub fn bootstrap_control_plane(nodes: &[ContainerSummary]) -> Option<&ContainerSummary> {
    nodes
        .iter()
        .filter(|n| {
            n.labels.get(ROLE_LABEL).map(String::as_str) == Some(NodeRole::ControlPlane.as_str())
        })
        .min_by(|a, b| a.name.cmp(&b.name))
}

/// The `kind-<name>` kubeconfig of a running cluster: external (host port) or internal
/// (in-network name, as written by kubeadm) server.
pub async fn cluster_kubeconfig(
    engine: &Engine,
    name: &str,
    internal: bool,
) -> anyhow::Result<Kubeconfig> {
    let nodes = list_nodes(engine, Some(name)).await?;
    let bootstrap = bootstrap_control_plane(&nodes).with_context(|| {
        format!("could not locate any control plane nodes for cluster named '{name}'. Use the --name option to select a different cluster")
    })?;
    let admin = engine
        .exec_ok(
            &bootstrap.name,
            &["cat".to_string(), "/etc/kubernetes/admin.conf".to_string()],
            None,
        )
        .await
        .context("failed to get cluster internal kubeconfig")?;
    let server = if internal {
        None
    } else {
        Some(format!(
            "https://{}",
            host_endpoint(engine, &endpoint_node(&nodes)?.name).await?
        ))
    };
    Ok(kubeconfig::kind_kubeconfig(
        &admin.stdout_text(),
        name,
        server.as_deref(),
    )?)
}

//! Planning the containers of a cluster (pure): names, labels, mounts, published ports,
//! environment and privilege settings, exactly as kind sets them (kind-facts §3.3–§3.5, §9).

use crate::cluster::{
    API_SERVER_INTERNAL_PORT, CLUSTER_LABEL, PlannedNode, ROLE_LABEL, plan_node_names,
};
use crate::config::{Cluster, Mount, NodeRole, PortMapping};
use crate::docker::{ContainerSpec, EngineInfo, PortPublish, Security};
use std::collections::BTreeMap;
use std::path::Path;

/// Label kindling adds to every container of one create run, so a rollback removes exactly
/// what that run made (and never a container of a cluster that already existed).
pub const CREATE_ID_LABEL: &str = "io.x-k8s.kindling.create-id";

/// Everything about the host that shapes the node containers.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The engine's facts.
    pub engine: EngineInfo,
    /// Working directory, for relative `hostPath`s.
    pub working_dir: std::path::PathBuf,
    /// Proxy and other variables passed to every container (already computed).
    pub proxy_env: BTreeMap<String, String>,
    /// `KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER` from the host, when set.
    pub containerd_snapshotter: Option<String>,
}

/// A host port that is still to be chosen (`0` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    /// Address to find a free port on.
    pub listen_address: String,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

/// A planned container plus the host ports kindling must pick for it before creating it.
#[derive(Debug, Clone)]
pub struct PlannedContainer {
    /// Name and role.
    pub node: PlannedNode,
    /// The container (ports still 0 where `pick_ports[i]` is `Some`).
    pub spec: ContainerSpec,
    /// For each entry of `spec.ports`: `Some` when kindling must choose a free port.
    pub pick_ports: Vec<Option<PortRequest>>,
}

/// What `--dry-run` prints and what create provisions.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Cluster name.
    pub name: String,
    /// Containers in creation order (load balancer last).
    pub containers: Vec<PlannedContainer>,
}

/// Plans every container of the cluster. `config` must be defaulted and validated.
pub fn plan(
    name: &str,
    config: &Cluster,
    host: &HostFacts,
    network: &str,
    lb_image: &str,
    create_id: &str,
) -> Plan {
    let nodes = plan_node_names(name, config);
    let ha = config.needs_load_balancer();
    let containers = nodes
        .into_iter()
        .map(|node| {
            let (spec, pick_ports) = match node.config_index {
                Some(i) => node_spec(name, config, &config.nodes[i], &node, ha, host, network),
                None => lb_spec(name, config, &node, lb_image, host, network),
            };
            let mut spec = spec;
            spec.labels
                .insert(CREATE_ID_LABEL.to_string(), create_id.to_string());
            PlannedContainer {
                node,
                spec,
                pick_ports,
            }
        })
        .collect();
    Plan {
        name: name.to_string(),
        containers,
    }
}

fn common(
    name: &str,
    config: &Cluster,
    node: &PlannedNode,
    image: &str,
    host: &HostFacts,
    network: &str,
) -> ContainerSpec {
    let mut spec = ContainerSpec::new(&node.name, image, network);
    spec.labels
        .insert(CLUSTER_LABEL.to_string(), name.to_string());
    spec.labels
        .insert(ROLE_LABEL.to_string(), node.role.as_str().to_string());
    if config.has_ipv6() {
        spec.sysctls
            .insert("net.ipv6.conf.all.disable_ipv6".into(), "0".into());
        spec.sysctls
            .insert("net.ipv6.conf.all.forwarding".into(), "1".into());
    }
    spec.env
        .extend(host.proxy_env.iter().map(|(k, v)| format!("{k}={v}")));
    spec.userns_host = host.engine.userns_remap;
    spec
}

fn node_spec(
    name: &str,
    config: &Cluster,
    cfg_node: &crate::config::Node,
    node: &PlannedNode,
    ha: bool,
    host: &HostFacts,
    network: &str,
) -> (ContainerSpec, Vec<Option<PortRequest>>) {
    let mut spec = common(name, config, node, &cfg_node.image, host, network);
    spec.security = Security::Privileged;
    spec.tmpfs = vec!["/tmp".into(), "/run".into()];
    spec.volumes = vec!["/var".into()];
    spec.binds.push("/lib/modules:/lib/modules:ro".into());
    if let Some(s) = &host.containerd_snapshotter {
        spec.env
            .push(format!("KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER={s}"));
    }
    let engine = &host.engine;
    if !engine.rootless
        && (matches!(
            engine.storage_driver.as_str(),
            "btrfs" | "zfs" | "devicemapper"
        ) || matches!(engine.backing_filesystem.as_str(), "btrfs" | "zfs" | "xfs"))
    {
        spec.binds.push("/dev/mapper:/dev/mapper".into());
    }
    if engine.rootless {
        spec.devices.push("/dev/fuse".into());
    }
    if let Some(search) = &config.networking.dns_search {
        spec.env
            .push(format!("KIND_DNS_SEARCH={}", search.join(" ")));
    }
    spec.binds.extend(
        cfg_node
            .extra_mounts
            .iter()
            .map(|m| bind_for(m, &host.working_dir)),
    );
    let mut picks = Vec::new();
    for pm in &cfg_node.extra_port_mappings {
        let (publish, pick) = publish_for(pm, config);
        spec.ports.push(publish);
        picks.push(pick);
    }
    if node.role == NodeRole::ControlPlane {
        let (address, port) = if ha {
            // Behind a load balancer each control plane publishes on loopback only.
            let loopback = if config.networking.ip_family == "ipv6" {
                "::1"
            } else {
                "127.0.0.1"
            };
            (loopback.to_string(), 0)
        } else {
            (
                config.networking.api_server_address.clone(),
                config.networking.api_server_port,
            )
        };
        let (publish, pick) = api_publish(&address, port);
        spec.ports.push(publish);
        picks.push(pick);
        spec.env
            .push("KUBECONFIG=/etc/kubernetes/admin.conf".into());
    }
    (spec, picks)
}

fn lb_spec(
    name: &str,
    config: &Cluster,
    node: &PlannedNode,
    image: &str,
    host: &HostFacts,
    network: &str,
) -> (ContainerSpec, Vec<Option<PortRequest>>) {
    let mut spec = common(name, config, node, image, host, network);
    spec.tty = false;
    spec.user = Some("root".into());
    spec.entrypoint = Some(vec![
        "sh".into(),
        "-c".into(),
        crate::cluster::create::loadbalancer::BOOTSTRAP_SCRIPT.into(),
    ]);
    let (publish, pick) = api_publish(
        &config.networking.api_server_address,
        config.networking.api_server_port,
    );
    spec.ports.push(publish);
    (spec, vec![pick])
}

fn api_publish(address: &str, port: i32) -> (PortPublish, Option<PortRequest>) {
    let publish = PortPublish {
        host_ip: address.to_string(),
        host_port: u16::try_from(port.max(0)).unwrap_or(0),
        container_port: API_SERVER_INTERNAL_PORT,
        protocol: "tcp".into(),
    };
    let pick = (port == 0).then(|| PortRequest {
        listen_address: address.to_string(),
        protocol: "tcp".into(),
    });
    (publish, pick)
}

/// Docker's `host:container[:opts]` for an extra mount; opts in kind's order: ro, Z, propagation.
pub fn bind_for(mount: &Mount, working_dir: &Path) -> String {
    // join() keeps an absolute host path as it is.
    let host_path = clean_path(&working_dir.join(&mount.host_path));
    let mut opts = Vec::new();
    if mount.read_only {
        opts.push("ro");
    }
    if mount.selinux_relabel {
        opts.push("Z");
    }
    match mount.propagation.as_str() {
        "Bidirectional" => opts.push("rshared"),
        "HostToContainer" => opts.push("rslave"),
        _ => {}
    }
    let mut bind = format!("{}:{}", host_path.display(), mount.container_path);
    if !opts.is_empty() {
        bind.push(':');
        bind.push_str(&opts.join(","));
    }
    bind
}

/// Lexically cleans an absolute path (`.` dropped, `..` applied), as Go's `filepath.Abs` does.
fn clean_path(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The publish for one `extraPortMappings` entry, with kind's provider-time defaults.
fn publish_for(pm: &PortMapping, config: &Cluster) -> (PortPublish, Option<PortRequest>) {
    let listen = if pm.listen_address.is_empty() {
        if config.networking.ip_family == "ipv6" {
            "::".to_string()
        } else {
            "0.0.0.0".to_string()
        }
    } else {
        pm.listen_address.clone()
    };
    let protocol = if pm.protocol.is_empty() {
        "tcp".to_string()
    } else {
        pm.protocol.to_lowercase()
    };
    let publish = PortPublish {
        host_ip: listen.clone(),
        host_port: u16::try_from(pm.host_port.max(0)).unwrap_or(0),
        container_port: u16::try_from(pm.container_port.max(0)).unwrap_or(0),
        protocol: protocol.clone(),
    };
    let pick = (pm.host_port == 0).then_some(PortRequest {
        listen_address: listen,
        protocol,
    });
    (publish, pick)
}

/// Computes kind's proxy variables for the nodes (kind-facts §9.3): both cases of each
/// variable, with NO_PROXY extended by the network subnets, the cluster CIDRs, every
/// container name and the cluster-local suffixes. Empty when no proxy is configured.
pub fn proxy_env(
    host_env: &BTreeMap<String, String>,
    docker_config: &BTreeMap<String, String>,
    network_subnets: &[String],
    config: &Cluster,
    container_names: &[String],
) -> BTreeMap<String, String> {
    let get = |k: &str| {
        host_env
            .get(k)
            .or_else(|| host_env.get(&k.to_lowercase()))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let mut vars: BTreeMap<&str, String> = BTreeMap::new();
    for key in ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"] {
        if let Some(v) = get(key) {
            vars.insert(key, v);
        }
    }
    let env_has_proxy = vars.contains_key("HTTP_PROXY") || vars.contains_key("HTTPS_PROXY");
    let from_docker = |k: &str| docker_config.get(k).filter(|v| !v.is_empty()).cloned();
    if !env_has_proxy {
        for (key, field) in [
            ("HTTP_PROXY", "httpProxy"),
            ("HTTPS_PROXY", "httpsProxy"),
            ("NO_PROXY", "noProxy"),
        ] {
            if let Some(v) = from_docker(field) {
                vars.insert(key, v);
            }
        }
    }
    if vars.is_empty() {
        return BTreeMap::new();
    }
    let mut no_proxy: Vec<String> = network_subnets.to_vec();
    if let Some(existing) = vars.get("NO_PROXY") {
        no_proxy.push(existing.clone());
    }
    no_proxy.push(config.networking.service_subnet.clone());
    no_proxy.push(config.networking.pod_subnet.clone());
    no_proxy.extend(container_names.iter().cloned());
    no_proxy.extend([
        ".svc".to_string(),
        ".svc.cluster".to_string(),
        ".svc.cluster.local".to_string(),
    ]);
    vars.insert(
        "NO_PROXY",
        no_proxy
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(","),
    );
    let mut out = BTreeMap::new();
    for (k, v) in vars {
        out.insert(k.to_string(), v.clone());
        out.insert(k.to_lowercase(), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Node;

    fn cfg(nodes: Vec<Node>) -> Cluster {
        let mut c = Cluster {
            nodes,
            ..Default::default()
        };
        c.networking.ip_family = "ipv4".into();
        c.networking.api_server_address = "127.0.0.1".into();
        c.networking.pod_subnet = "10.244.0.0/16".into();
        c.networking.service_subnet = "10.96.0.0/16".into();
        c
    }

    fn node(role: &str) -> Node {
        Node {
            role: role.into(),
            image: "img:1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn single_control_plane_publishes_api_server_last() {
        let mut cp = node("control-plane");
        cp.extra_port_mappings = vec![PortMapping {
            container_port: 80,
            host_port: 8080,
            ..Default::default()
        }];
        let p = plan(
            "kind",
            &cfg(vec![cp]),
            &HostFacts::default(),
            "kind",
            "lb",
            "id1",
        );
        let spec = &p.containers[0].spec;
        assert_eq!(spec.name, "kind-control-plane");
        assert_eq!(spec.security, Security::Privileged);
        assert_eq!(spec.labels[CLUSTER_LABEL], "kind");
        assert_eq!(spec.labels[ROLE_LABEL], "control-plane");
        assert_eq!(spec.labels[CREATE_ID_LABEL], "id1");
        assert_eq!(spec.ports.len(), 2);
        assert_eq!(
            (
                spec.ports[0].host_ip.as_str(),
                spec.ports[0].host_port,
                spec.ports[0].container_port
            ),
            ("0.0.0.0", 8080, 80)
        );
        assert_eq!(
            (spec.ports[1].host_ip.as_str(), spec.ports[1].container_port),
            ("127.0.0.1", 6443)
        );
        assert_eq!(
            p.containers[0].pick_ports,
            vec![
                None,
                Some(PortRequest {
                    listen_address: "127.0.0.1".into(),
                    protocol: "tcp".into()
                })
            ]
        );
        assert!(
            spec.env
                .contains(&"KUBECONFIG=/etc/kubernetes/admin.conf".to_string())
        );
        assert_eq!(spec.tmpfs, ["/tmp", "/run"]);
        assert_eq!(spec.volumes, ["/var"]);
        assert!(
            spec.binds
                .contains(&"/lib/modules:/lib/modules:ro".to_string())
        );
    }

    #[test]
    fn ha_control_planes_publish_on_loopback_and_lb_on_api_address() {
        let mut c = cfg(vec![
            node("control-plane"),
            node("control-plane"),
            node("worker"),
        ]);
        c.networking.api_server_port = 6443;
        let p = plan("ha", &c, &HostFacts::default(), "kind", "haproxy:x", "id");
        let names: Vec<_> = p.containers.iter().map(|c| c.spec.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ha-control-plane",
                "ha-control-plane2",
                "ha-worker",
                "ha-external-load-balancer"
            ]
        );
        let cp = &p.containers[0];
        assert_eq!(cp.spec.ports[0].host_ip, "127.0.0.1");
        assert!(cp.pick_ports[0].is_some());
        let worker = &p.containers[2].spec;
        assert!(worker.ports.is_empty());
        assert!(!worker.env.iter().any(|e| e.starts_with("KUBECONFIG=")));
        let lb = &p.containers[3];
        assert_eq!(lb.spec.security, Security::Default);
        assert_eq!(lb.spec.image, "haproxy:x");
        assert_eq!(lb.spec.labels[ROLE_LABEL], "external-load-balancer");
        assert_eq!(
            (
                lb.spec.ports[0].host_ip.as_str(),
                lb.spec.ports[0].host_port
            ),
            ("127.0.0.1", 6443)
        );
        assert_eq!(lb.pick_ports, vec![None]);
        assert!(lb.spec.tmpfs.is_empty() && lb.spec.volumes.is_empty());
    }

    #[test]
    fn mounts_and_port_defaults() {
        let m = Mount {
            host_path: "data".into(),
            container_path: "/data".into(),
            read_only: true,
            selinux_relabel: true,
            propagation: "HostToContainer".into(),
        };
        assert_eq!(
            bind_for(&m, Path::new("/work")),
            "/work/data:/data:ro,Z,rslave"
        );
        let m = Mount {
            host_path: "/abs".into(),
            container_path: "/x".into(),
            propagation: "None".into(),
            ..Default::default()
        };
        assert_eq!(bind_for(&m, Path::new("/work")), "/abs:/x");
        let mut c = cfg(vec![]);
        c.networking.ip_family = "ipv6".into();
        let (p, pick) = publish_for(
            &PortMapping {
                container_port: 53,
                host_port: -1,
                protocol: "UDP".into(),
                ..Default::default()
            },
            &c,
        );
        assert_eq!(
            (p.host_ip.as_str(), p.host_port, p.protocol.as_str()),
            ("::", 0, "udp")
        );
        assert!(pick.is_none(), "-1 lets the engine pick");
    }

    #[test]
    fn ipv6_sysctls_and_dns_search() {
        let mut c = cfg(vec![node("control-plane")]);
        c.networking.ip_family = "dual".into();
        c.networking.dns_search = Some(vec![]);
        let p = plan("d", &c, &HostFacts::default(), "kind", "lb", "id");
        let spec = &p.containers[0].spec;
        assert_eq!(spec.sysctls["net.ipv6.conf.all.disable_ipv6"], "0");
        assert!(spec.env.contains(&"KIND_DNS_SEARCH=".to_string()));
    }

    #[test]
    fn proxies_follow_kind() {
        let c = cfg(vec![]);
        let none = proxy_env(&BTreeMap::new(), &BTreeMap::new(), &[], &c, &[]);
        assert!(none.is_empty());
        let env = BTreeMap::from([
            ("https_proxy".to_string(), "http://p:3128".to_string()),
            ("NO_PROXY".to_string(), "corp".to_string()),
        ]);
        let vars = proxy_env(
            &env,
            &BTreeMap::new(),
            &["172.18.0.0/16".into()],
            &c,
            &["kind-control-plane".into()],
        );
        assert_eq!(vars["HTTPS_PROXY"], "http://p:3128");
        assert_eq!(vars["https_proxy"], "http://p:3128");
        assert!(!vars.contains_key("HTTP_PROXY"));
        assert_eq!(
            vars["NO_PROXY"],
            "172.18.0.0/16,corp,10.96.0.0/16,10.244.0.0/16,kind-control-plane,.svc,.svc.cluster,.svc.cluster.local"
        );
        assert_eq!(vars["no_proxy"], vars["NO_PROXY"]);
        // Docker CLI config is only used when the environment has no HTTP(S) proxy.
        let docker = BTreeMap::from([("httpProxy".to_string(), "http://d:1".to_string())]);
        assert!(!proxy_env(&env, &docker, &[], &c, &[]).contains_key("HTTP_PROXY"));
        assert_eq!(
            proxy_env(&BTreeMap::new(), &docker, &[], &c, &[])["HTTP_PROXY"],
            "http://d:1"
        );
    }
}

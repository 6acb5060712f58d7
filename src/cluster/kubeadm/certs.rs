//! Reads back, from the rendered `/kind/kubeadm.conf` files, the values kubeadm derives
//! control-plane certificates from, as kubeadm itself sees them after its dynamic defaults, so
//! kindling's PKI matches them even after user patches.
//!
//! The cluster-wide part comes from the bootstrap node's ClusterConfiguration for every node:
//! `kubeadm init` uploads that document to the `kubeadm-config` ConfigMap, and `kubeadm join`
//! validates a joining control plane's certificates against it, not against the joiner's own
//! file (cmd/join.go `fetchInitConfigurationFromJoinConfiguration`: the cluster's
//! ClusterConfiguration with the joiner's nodeRegistration and localAPIEndpoint).

use super::KubeadmError;
use crate::k8s_version::KubeVersion;
use crate::pki::{KeyAlgorithm, NodeCertInputs, PkiOverrides};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kubeadm config API whose ClusterConfiguration has `encryptionAlgorithm` and the
/// validity periods.
const V1BETA4: &str = "kubeadm.k8s.io/v1beta4";
/// Fields only v1beta4 has; kubeadm warns about and ignores them in older documents
/// (util/config `documentMapToInitConfiguration`: strict decoding errors are warnings).
const V1BETA4_ONLY: [&str; 3] = [
    "encryptionAlgorithm",
    "caCertificateValidityPeriod",
    "certificateValidityPeriod",
];

/// Which kubeadm command will consume the file on this node, so the right document gives the
/// node's own endpoint and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeadmCommand {
    /// `kubeadm init` on the bootstrap control plane: InitConfiguration.
    Init,
    /// `kubeadm join` of a further control plane: JoinConfiguration's `controlPlane`.
    Join,
}

/// A node's addresses on the `kind` network. Its default routes go through that network, so
/// these are what kubeadm's address detection finds when `advertiseAddress` is left empty or
/// unspecified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeAddresses {
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// Global IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
}

/// What every control plane's certificates take from the cluster's ClusterConfiguration (the
/// bootstrap node's, as `kubeadm init` stores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterCertConfig {
    cluster_name: String,
    control_plane_endpoint: String,
    service_subnet: String,
    dns_domain: String,
    cert_sans: Vec<String>,
    etcd_server_cert_sans: Vec<String>,
    etcd_peer_cert_sans: Vec<String>,
    certificates_dir: String,
    kubelet_local_mode: Option<bool>,
    /// Key algorithm and lifetimes the configuration sets explicitly.
    pub pki: PkiOverrides,
    /// Settings in the file that kubeadm ignores, one sentence each (for warnings).
    pub ignored: Vec<String>,
}

/// Reads the cluster-wide certificate settings from the bootstrap control plane's rendered
/// config. `version` is that node's Kubernetes version.
pub fn cluster_cert_config(
    bootstrap_rendered: &str,
    bootstrap_node: &str,
    version: &KubeVersion,
) -> Result<ClusterCertConfig, KubeadmError> {
    let read_back = |message: String| KubeadmError::ReadBack {
        node: bootstrap_node.to_string(),
        message,
    };
    let docs = crate::yaml::documents(bootstrap_rendered)?;
    let cluster = find(&docs, "ClusterConfiguration").map_err(read_back)?;
    let init = find(&docs, "InitConfiguration").map_err(read_back)?;
    let cc = "ClusterConfiguration";
    let string = |path: &str| opt_string(cluster, cc, path).map_err(read_back);
    let list = |path: &str| string_list(cluster, cc, path).map_err(read_back);

    // kubeadm init gives a port-less controlPlaneEndpoint its own bindPort before it uploads
    // the configuration (util/config `SetClusterDynamicDefaults`), so joiners see that port.
    let init_port =
        bind_port(init, "InitConfiguration", "/localAPIEndpoint/bindPort").map_err(read_back)?;
    let control_plane_endpoint = string("/controlPlaneEndpoint")?.unwrap_or_default();
    let control_plane_endpoint = with_default_port(&control_plane_endpoint, init_port);

    let mut ignored = Vec::new();
    let pki = pki_overrides(cluster, version, &mut ignored).map_err(read_back)?;
    let kubelet_local_mode = match cluster.pointer("/featureGates/ControlPlaneKubeletLocalMode") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(read_back(format!(
                "{cc} /featureGates/ControlPlaneKubeletLocalMode must be true or false, found \
                 {other}"
            )));
        }
    };
    Ok(ClusterCertConfig {
        cluster_name: string("/clusterName")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "kubernetes".to_string()),
        control_plane_endpoint,
        service_subnet: string("/networking/serviceSubnet")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "10.96.0.0/12".to_string()),
        dns_domain: string("/networking/dnsDomain")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "cluster.local".to_string()),
        cert_sans: list("/apiServer/certSANs")?,
        etcd_server_cert_sans: list("/etcd/local/serverCertSANs")?,
        etcd_peer_cert_sans: list("/etcd/local/peerCertSANs")?,
        certificates_dir: string("/certificatesDir")?.unwrap_or_default(),
        kubelet_local_mode,
        pki,
        ignored,
    })
}

/// The certificate inputs of one control-plane node: the cluster's settings from `cluster`,
/// the node's name and API endpoint from its own rendered (patched) config. `node_name` is used
/// when `nodeRegistration.name` is unset, as kubeadm falls back to the hostname, which is the
/// container name; `addresses` stand in for kubeadm's address detection.
pub fn cert_inputs(
    cluster: &ClusterCertConfig,
    rendered: &str,
    node_name: &str,
    kubernetes_version: &KubeVersion,
    command: KubeadmCommand,
    addresses: NodeAddresses,
) -> Result<NodeCertInputs, KubeadmError> {
    let node = node_name;
    let read_back = |message: String| KubeadmError::ReadBack {
        node: node.to_string(),
        message,
    };
    let docs = crate::yaml::documents(rendered)?;
    let (doc_kind, endpoint_path) = match command {
        KubeadmCommand::Init => ("InitConfiguration", "/localAPIEndpoint"),
        KubeadmCommand::Join => ("JoinConfiguration", "/controlPlane/localAPIEndpoint"),
    };
    let node_doc = find(&docs, doc_kind).map_err(read_back)?;
    if command == KubeadmCommand::Join && node_doc.get("controlPlane").is_none() {
        return Err(read_back(
            "JoinConfiguration has no controlPlane section: the node joins as a worker and \
             gets no control-plane certificates"
                .to_string(),
        ));
    }

    // kubeadm trims and lowercases the node name, whether set or taken from the hostname
    // (component-helpers `GetHostname`).
    let name = opt_string(node_doc, doc_kind, "/nodeRegistration/name")
        .map_err(read_back)?
        .unwrap_or_default();
    let name = match name.trim() {
        "" => node_name.trim().to_lowercase(),
        set => set.to_lowercase(),
    };
    let address_path = format!("{endpoint_path}/advertiseAddress");
    let address = opt_string(node_doc, doc_kind, &address_path)
        .map_err(read_back)?
        .unwrap_or_default();
    let advertise_address = advertise_address(&address, addresses)
        .map_err(|reason| read_back(format!("{doc_kind} {address_path} {address:?}: {reason}")))?;
    let port_path = format!("{endpoint_path}/bindPort");
    let bind_port = bind_port(node_doc, doc_kind, &port_path).map_err(read_back)?;

    Ok(NodeCertInputs {
        node_name: name,
        advertise_address,
        bind_port,
        cluster_name: cluster.cluster_name.clone(),
        control_plane_endpoint: cluster.control_plane_endpoint.clone(),
        service_subnet: cluster.service_subnet.clone(),
        dns_domain: cluster.dns_domain.clone(),
        cert_sans: cluster.cert_sans.clone(),
        etcd_server_cert_sans: cluster.etcd_server_cert_sans.clone(),
        etcd_peer_cert_sans: cluster.etcd_peer_cert_sans.clone(),
        certificates_dir: cluster.certificates_dir.clone(),
        kubelet_local_mode: cluster.kubelet_local_mode,
        kubernetes_version: kubernetes_version.clone(),
    })
}

/// kubeadm's `SetAPIEndpointDynamicDefaults` (util/config/initconfiguration.go): an address
/// that is not an IP is an error; a loopback address selects a global address on the loopback
/// interface, which kind nodes do not have, so kubeadm fails; empty or unspecified (`0.0.0.0`,
/// `::`) becomes the address of the default route's interface, IPv4 first unless the
/// unspecified address is IPv6 (apimachinery `ResolveBindAddress`).
fn advertise_address(raw: &str, node: NodeAddresses) -> Result<IpAddr, String> {
    let v4 = node.ipv4.map(IpAddr::V4);
    let v6 = node.ipv6.map(IpAddr::V6);
    let detected = |prefer_v6: bool| {
        let found = if prefer_v6 { v6.or(v4) } else { v4.or(v6) };
        found.ok_or_else(|| {
            "kubeadm would use the node's default-route address, but the node has no address \
             on the kind network"
                .to_string()
        })
    };
    if raw.is_empty() {
        return detected(false);
    }
    let ip = raw
        .parse::<IpAddr>()
        .map_err(|_| "not an IPv4 or IPv6 address (kubeadm refuses it too)".to_string())?
        .to_canonical();
    if ip.is_loopback() {
        return Err(
            "a loopback advertise address makes kubeadm look for a global address on the \
             node's loopback interface, and kind nodes have none, so kubeadm init would fail; \
             leave it empty (or 0.0.0.0) to advertise the node's own address"
                .to_string(),
        );
    }
    if ip.is_unspecified() {
        return detected(ip.is_ipv6());
    }
    Ok(ip)
}

/// `host:port` as written, or with `port` added when it has none (IPv6 in brackets).
fn with_default_port(endpoint: &str, port: u16) -> String {
    let raw = endpoint.trim();
    if raw.is_empty() {
        return String::new();
    }
    let has_port = match raw.strip_prefix('[') {
        Some(rest) => rest.contains("]:"),
        None => raw.parse::<Ipv6Addr>().is_err() && raw.contains(':'),
    };
    if has_port {
        raw.to_string()
    } else if raw.parse::<Ipv6Addr>().is_ok() {
        format!("[{raw}]:{port}")
    } else {
        format!("{raw}:{port}")
    }
}

/// The v1beta4 key and lifetime settings and the `PublicKeysECDSA` feature gate, which wins
/// over `encryptionAlgorithm` when set (kubeadm `ClusterConfiguration.EncryptionAlgorithmType`).
/// In older documents the v1beta4 fields are listed in `ignored`, as kubeadm ignores them.
fn pki_overrides(
    cluster: &Value,
    version: &KubeVersion,
    ignored: &mut Vec<String>,
) -> Result<PkiOverrides, String> {
    let cc = "ClusterConfiguration";
    let api = cluster
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut out = PkiOverrides::default();
    if api == V1BETA4 {
        if let Some(name) =
            opt_string(cluster, cc, "/encryptionAlgorithm")?.filter(|s| !s.is_empty())
        {
            let alg = KeyAlgorithm::from_kubeadm_name(&name).ok_or_else(|| {
                let known: Vec<&str> = KeyAlgorithm::ALL.iter().map(|a| a.kubeadm_name()).collect();
                format!(
                    "{cc} encryptionAlgorithm {name:?} is not one kubeadm accepts: use one of {}",
                    known.join(", ")
                )
            })?;
            if let Some(minimum) = alg.minimum_version()
                && !version.reaches(minimum)
            {
                return Err(format!(
                    "{cc} encryptionAlgorithm {name} needs Kubernetes {minimum} or newer; this \
                     node runs {version}"
                ));
            }
            out.algorithm = Some(alg);
        }
        out.ca_validity = validity(cluster, "caCertificateValidityPeriod")?;
        out.leaf_validity = validity(cluster, "certificateValidityPeriod")?;
    } else {
        for field in V1BETA4_ONLY {
            if cluster.get(field).is_some_and(|v| !v.is_null()) {
                ignored.push(format!(
                    "{cc} {field} is ignored: kubeadm reads it only from {V1BETA4} (which kind \
                     writes for Kubernetes 1.36 and newer), and this ClusterConfiguration is \
                     {api}; kindling ignores it too"
                ));
            }
        }
    }
    match cluster.pointer("/featureGates/PublicKeysECDSA") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(true)) => out.algorithm = Some(KeyAlgorithm::EcdsaP256),
        Some(Value::Bool(false)) => out.algorithm = Some(KeyAlgorithm::Rsa2048),
        Some(other) => {
            return Err(format!(
                "{cc} /featureGates/PublicKeysECDSA must be true or false, found {other}"
            ));
        }
    }
    Ok(out)
}

/// A v1beta4 validity period: a Go duration string such as `8760h`, longer than zero.
fn validity(cluster: &Value, field: &str) -> Result<Option<time::Duration>, String> {
    let cc = "ClusterConfiguration";
    let Some(text) = opt_string(cluster, cc, &format!("/{field}"))? else {
        return Ok(None);
    };
    let bad = |why: String| format!("{cc} {field} {text:?}: {why}");
    let period = crate::util::parse_go_duration(&text).map_err(bad)?;
    if period.is_zero() {
        return Err(bad(
            "must be longer than zero, or certificates would expire as they are made".to_string(),
        ));
    }
    let period = time::Duration::try_from(period).map_err(|e| bad(e.to_string()))?;
    Ok(Some(period))
}

fn find<'a>(docs: &'a [Value], kind: &str) -> Result<&'a Value, String> {
    docs.iter()
        .find(|d| d.get("kind").and_then(Value::as_str) == Some(kind))
        .ok_or_else(|| format!("no {kind} document"))
}

/// A `bindPort`, where kubeadm treats absent and 0 as its default.
fn bind_port(doc: &Value, kind: &str, path: &str) -> Result<u16, String> {
    match doc.pointer(path) {
        None | Some(Value::Null) => Ok(crate::cluster::API_SERVER_INTERNAL_PORT),
        Some(v) => match v.as_u64().and_then(|p| u16::try_from(p).ok()) {
            Some(0) => Ok(crate::cluster::API_SERVER_INTERNAL_PORT),
            Some(p) => Ok(p),
            None => Err(format!("{kind} {path} must be a port number, found {v}")),
        },
    }
}

fn opt_string(doc: &Value, kind: &str, path: &str) -> Result<Option<String>, String> {
    match doc.pointer(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{kind} {path} must be a string, found {other}")),
    }
}

fn string_list(doc: &Value, kind: &str, path: &str) -> Result<Vec<String>, String> {
    let bad = || format!("{kind} {path} must be a list of strings");
    match doc.pointer(path) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        Some(_) => Err(bad()),
    }
}

//! Reads back, from a node's final `/kind/kubeadm.conf`, the values kubeadm derives
//! control-plane certificates from, so kindling's PKI matches them even after user patches.

use super::KubeadmError;
use crate::k8s_version::KubeVersion;
use crate::pki::NodeCertInputs;
use serde_json::Value;
use std::net::IpAddr;

/// Which kubeadm command will consume the file on this node, so the right document gives the
/// node's own endpoint and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeadmCommand {
    /// `kubeadm init` on the bootstrap control plane: InitConfiguration.
    Init,
    /// `kubeadm join` of a further control plane: JoinConfiguration's `controlPlane`.
    Join,
}

/// Extracts the certificate inputs of a control-plane node from its rendered (patched)
/// config. `node_name` is used when `nodeRegistration.name` is unset, as kubeadm falls back
/// to the hostname, which is the container name.
///
/// For [`KubeadmCommand::Join`] the ClusterConfiguration is read from the same file; kubeadm
/// itself takes it from the cluster (the bootstrap node's), which is identical unless
/// node-level patches change it.
pub fn cert_inputs(
    rendered: &str,
    node_name: &str,
    kubernetes_version: &KubeVersion,
    command: KubeadmCommand,
) -> Result<NodeCertInputs, KubeadmError> {
    let node = node_name;
    let read_back = |message: String| KubeadmError::ReadBack {
        node: node.to_string(),
        message,
    };
    let docs = crate::yaml::documents(rendered)?;
    let find = |kind: &str| {
        docs.iter()
            .find(|d| d.get("kind").and_then(Value::as_str) == Some(kind))
            .ok_or_else(|| read_back(format!("no {kind} document")))
    };
    let cluster = find("ClusterConfiguration")?;
    let (doc_kind, endpoint_path) = match command {
        KubeadmCommand::Init => ("InitConfiguration", "/localAPIEndpoint"),
        KubeadmCommand::Join => ("JoinConfiguration", "/controlPlane/localAPIEndpoint"),
    };
    let node_doc = find(doc_kind)?;
    if command == KubeadmCommand::Join && node_doc.get("controlPlane").is_none() {
        return Err(read_back(
            "JoinConfiguration has no controlPlane section: the node joins as a worker and \
             gets no control-plane certificates"
                .to_string(),
        ));
    }

    let node_name = opt_string(node_doc, doc_kind, "/nodeRegistration/name")
        .map_err(read_back)?
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| node_name.to_string());
    let address_path = format!("{endpoint_path}/advertiseAddress");
    let address = opt_string(node_doc, doc_kind, &address_path)
        .map_err(read_back)?
        .unwrap_or_default();
    let advertise_address: IpAddr = address.parse().map_err(|_| {
        read_back(format!(
            "{doc_kind} {address_path} {address:?} is not an IP address (kindling cannot \
             guess the address kubeadm would detect)"
        ))
    })?;
    let port_path = format!("{endpoint_path}/bindPort");
    let bind_port = match node_doc.pointer(&port_path) {
        None | Some(Value::Null) => crate::cluster::API_SERVER_INTERNAL_PORT,
        Some(v) => match v.as_u64().and_then(|p| u16::try_from(p).ok()) {
            // kubeadm treats 0 as unset.
            Some(0) => crate::cluster::API_SERVER_INTERNAL_PORT,
            Some(p) => p,
            None => {
                return Err(read_back(format!(
                    "{doc_kind} {port_path} must be a port number, found {v}"
                )));
            }
        },
    };

    let cc = "ClusterConfiguration";
    Ok(NodeCertInputs {
        node_name,
        advertise_address,
        bind_port,
        cluster_name: opt_string(cluster, cc, "/clusterName")
            .map_err(read_back)?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "kubernetes".to_string()),
        control_plane_endpoint: opt_string(cluster, cc, "/controlPlaneEndpoint")
            .map_err(read_back)?
            .unwrap_or_default(),
        service_subnet: opt_string(cluster, cc, "/networking/serviceSubnet")
            .map_err(read_back)?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "10.96.0.0/12".to_string()),
        dns_domain: opt_string(cluster, cc, "/networking/dnsDomain")
            .map_err(read_back)?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "cluster.local".to_string()),
        cert_sans: string_list(cluster, cc, "/apiServer/certSANs").map_err(read_back)?,
        etcd_server_cert_sans: string_list(cluster, cc, "/etcd/local/serverCertSANs")
            .map_err(read_back)?,
        etcd_peer_cert_sans: string_list(cluster, cc, "/etcd/local/peerCertSANs")
            .map_err(read_back)?,
        kubernetes_version: kubernetes_version.clone(),
    })
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

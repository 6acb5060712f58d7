//! kubeadm configuration rendering (pure): the five documents kind writes to
//! `/kind/kubeadm.conf`, kind's patch rules, and the inputs the PKI needs from them.

mod certs;
mod documents;
pub(crate) mod patch;

pub use certs::{
    ClusterCertConfig, KubeadmCommand, NodeAddresses, cert_inputs, cluster_cert_config,
};

use crate::config::{Cluster, Node, NodeRole};
use crate::k8s_version::KubeVersion;
use crate::yaml::YamlError;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Where kindling writes the rendered configuration inside every node.
pub const CONFIG_PATH: &str = "/kind/kubeadm.conf";
/// The admin kubeconfig kubeadm writes on control-plane nodes; kubectl calls use it.
const ADMIN_KUBECONFIG_FLAG: &str = "--kubeconfig=/etc/kubernetes/admin.conf";

/// Everything needed to render one node's `/kind/kubeadm.conf`.
#[derive(Debug, Clone)]
pub struct RenderInput<'a> {
    /// The defaulted and validated cluster config.
    pub cluster: &'a Cluster,
    /// The config node this container was created from (its patches and labels apply).
    pub node: &'a Node,
    /// Container name, which is also the hostname and the Kubernetes node name.
    pub node_name: &'a str,
    /// `ControlPlane` or `Worker`.
    pub role: NodeRole,
    /// The version in the node's `/kind/version`.
    pub kubernetes_version: &'a KubeVersion,
    /// The node's IPv4 address on the `kind` network.
    pub node_ipv4: Option<Ipv4Addr>,
    /// The node's global IPv6 address on the `kind` network.
    pub node_ipv6: Option<Ipv6Addr>,
    /// `<cluster>-control-plane:6443` or `<cluster>-external-load-balancer:6443`.
    pub control_plane_endpoint: &'a str,
    /// kindling's random bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`).
    pub bootstrap_token: &'a str,
    /// `sha256:<hex>` of kindling's cluster CA public key, pinned by joining nodes.
    pub ca_cert_hash: &'a str,
    /// Docker runs rootless (adds `KubeletInUserNamespace` and conntrack tweaks).
    pub rootless: bool,
}

/// Which configuration level a patch belongs to, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchLevel {
    /// `Cluster.kubeadmConfigPatches*`.
    Cluster,
    /// `nodes[].kubeadmConfigPatches*` of the named node.
    Node(String),
}

impl std::fmt::Display for PatchLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatchLevel::Cluster => f.write_str("cluster-level"),
            PatchLevel::Node(name) => write!(f, "node-level (node {name})"),
        }
    }
}

/// Why a kubeadm configuration could not be rendered, patched or read back.
#[derive(Debug, thiserror::Error)]
pub enum KubeadmError {
    /// The node image's Kubernetes is older than the oldest kubeadm API kindling writes.
    #[error(
        "Kubernetes {version} is not supported: kindling writes kubeadm config API v1beta3 or \
         v1beta4, which need Kubernetes v1.23.0 or newer; use a newer node image"
    )]
    UnsupportedVersion {
        /// The node's version as read from `/kind/version`.
        version: String,
    },
    /// The node has no IPv4 address on the cluster network.
    #[error("failed to get IPv4 address for node {node}; is it attached to the kind network?")]
    MissingIpv4 {
        /// Node name.
        node: String,
    },
    /// The cluster wants IPv6 but the node has no IPv6 address.
    #[error(
        "failed to get IPv6 address for node {node}; is docker configured to use IPv6 correctly?"
    )]
    MissingIpv6 {
        /// Node name.
        node: String,
    },
    /// The first service subnet is not a CIDR (the config should have been validated).
    #[error("failed to parse primary service subnet {subnet:?} (of {service_subnet:?})")]
    InvalidServiceSubnet {
        /// The first comma-separated entry.
        subnet: String,
        /// The whole `networking.serviceSubnet` value.
        service_subnet: String,
    },
    /// A merge patch is not YAML, or one of its documents is not a mapping.
    #[error("{level} kubeadmConfigPatches[{index}] is invalid: {message}")]
    MergePatchInvalid {
        /// Cluster or node level.
        level: PatchLevel,
        /// Index in the patch list.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A JSON 6902 patch is not YAML/JSON or not a list of RFC 6902 operations.
    #[error("{level} kubeadmConfigPatchesJSON6902[{index}] is invalid: {message}")]
    Json6902Invalid {
        /// Cluster or node level.
        level: PatchLevel,
        /// Index in the patch list.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A JSON 6902 patch matched a document but one of its operations failed.
    #[error("failed to apply {level} kubeadmConfigPatchesJSON6902[{index}] to {kind}: {source}")]
    Json6902Apply {
        /// Cluster or node level.
        level: PatchLevel,
        /// Index in the patch list.
        index: usize,
        /// The `kind` of the document it was applied to.
        kind: String,
        /// The failing operation.
        #[source]
        source: json_patch::PatchError,
    },
    /// The rendered configuration could not be read back (for `cert_inputs`).
    #[error("kubeadm config of node {node}: {message}")]
    ReadBack {
        /// Node name.
        node: String,
        /// What is missing or malformed.
        message: String,
    },
    /// YAML encoding or decoding of the configuration failed.
    #[error("kubeadm config YAML: {0}")]
    Yaml(#[from] YamlError),
}

/// The kubeadm config API kind uses for a Kubernetes version: `kubeadm.k8s.io/v1beta3` from
/// 1.23, `kubeadm.k8s.io/v1beta4` from 1.36 (pre-releases count as their release).
pub fn api_version(v: &KubeVersion) -> Result<&'static str, KubeadmError> {
    if v.at_least(1, 36, 0) {
        Ok("kubeadm.k8s.io/v1beta4")
    } else if v.at_least(1, 23, 0) {
        Ok("kubeadm.k8s.io/v1beta3")
    } else {
        // kind would write v1beta2 here; kindling does not implement that older API.
        Err(KubeadmError::UnsupportedVersion {
            version: v.to_string(),
        })
    }
}

/// Renders one node's multi-document `/kind/kubeadm.conf`: kind's five documents, the
/// cluster-level then node-level patches, `metadata.name: config` stripped, keys sorted.
///
/// Deliberate differences from kind: the JoinConfiguration pins the CA with `caCertHashes`
/// instead of `unsafeSkipCAVerification: true`, and the token is kindling's random one.
/// Where kind's output depends on Go map order (node labels, map-style extraArgs patches
/// converted for v1beta4) kindling uses key order, so the file is deterministic.
pub fn render(input: &RenderInput) -> Result<String, KubeadmError> {
    let mut docs = documents::build(input)?;
    let cluster = input.cluster;
    patch::apply_level(
        &mut docs,
        &PatchLevel::Cluster,
        &cluster.kubeadm_config_patches,
        &cluster.kubeadm_config_patches_json6902,
    )?;
    patch::apply_level(
        &mut docs,
        &PatchLevel::Node(input.node_name.to_string()),
        &input.node.kubeadm_config_patches,
        &input.node.kubeadm_config_patches_json6902,
    )?;
    let mut out = Vec::with_capacity(docs.len());
    for mut doc in docs {
        strip_patch_metadata(&mut doc);
        out.push(crate::yaml::to_string(&doc)?);
    }
    Ok(out.join("---\n"))
}

/// Removes the `metadata: {name: config}` kind adds only so patches have a name to match;
/// kubeadm rejects it. Like kind, a metadata block the user extended is left alone.
fn strip_patch_metadata(doc: &mut serde_json::Value) {
    let Some(map) = doc.as_object_mut() else {
        return;
    };
    if map.get("metadata") == Some(&serde_json::json!({ "name": "config" })) {
        map.remove("metadata");
    }
}

/// `kubeadm init` on the bootstrap control plane. The phases to skip are in the file for
/// every version kindling supports (>= 1.23), so the command never depends on the version.
pub fn init_command(_kubernetes_version: &KubeVersion) -> Vec<String> {
    strings(&[
        "kubeadm",
        "init",
        "--config=/kind/kubeadm.conf",
        "--skip-token-print",
        "--v=6",
    ])
}

/// `kubeadm join` on every other node; whether it joins as a control plane is decided by the
/// `controlPlane` section of the node's JoinConfiguration.
pub fn join_command(_kubernetes_version: &KubeVersion) -> Vec<String> {
    strings(&["kubeadm", "join", "--config", CONFIG_PATH, "--v=6"])
}

/// The kubectl calls kind makes after init when the cluster is a single container: remove the
/// control-plane taint(s) (which ones depends on the version) and the label that excludes
/// control-plane nodes from external load balancers.
pub fn untaint_commands(v: &KubeVersion) -> Vec<Vec<String>> {
    const MASTER: &str = "node-role.kubernetes.io/master-";
    const CONTROL_PLANE: &str = "node-role.kubernetes.io/control-plane-";
    // The commits in which kubeadm started adding the control-plane taint and stopped
    // adding the master one.
    let taints: &[&str] = if v.is_before("v1.24.0-alpha.1.592+370031cadac624") {
        &[MASTER]
    } else if v.is_before("v1.25.0-alpha.0.557+84c8afeba39ec9") {
        &[CONTROL_PLANE, MASTER]
    } else {
        &[CONTROL_PLANE]
    };
    let mut taint = strings(&["kubectl", ADMIN_KUBECONFIG_FLAG, "taint", "nodes", "--all"]);
    taint.extend(taints.iter().map(|t| t.to_string()));
    let label = strings(&[
        "kubectl",
        ADMIN_KUBECONFIG_FLAG,
        "label",
        "nodes",
        "--all",
        "node.kubernetes.io/exclude-from-external-load-balancers-",
    ]);
    vec![taint, label]
}

/// The readiness probe kind runs on the first control plane: the status of the last
/// condition of every control-plane node. The single quotes are part of the jsonpath
/// argument (kind passes them through), so the output is quoted too.
pub fn ready_command(v: &KubeVersion) -> Vec<String> {
    // The control-plane role label replaced the master one in this 1.24 pre-release.
    let selector = if v.is_before("v1.24.0-alpha.1.591+a3d5e5598290df") {
        "node-role.kubernetes.io/master"
    } else {
        "node-role.kubernetes.io/control-plane"
    };
    vec![
        "kubectl".to_string(),
        ADMIN_KUBECONFIG_FLAG.to_string(),
        "get".to_string(),
        "nodes".to_string(),
        format!("--selector={selector}"),
        "-o=jsonpath='{.items..status.conditions[-1:].status}'".to_string(),
    ]
}

/// True when the output of [`ready_command`] shows every control-plane node Ready: at least
/// one whitespace-separated token, and each contains `True` (tokens may carry the quotes).
pub fn is_ready_output(stdout: &str) -> bool {
    let mut tokens = stdout.split_whitespace().peekable();
    tokens.peek().is_some() && tokens.all(|t| t.contains("True"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests;

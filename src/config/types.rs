//! The `kind.x-k8s.io/v1alpha4` `Cluster` document, field for field (YAML keys as kind spells them).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The only accepted `apiVersion`.
pub const API_VERSION: &str = "kind.x-k8s.io/v1alpha4";
/// The only accepted `kind`.
pub const KIND: &str = "Cluster";
/// kind's default node image (kind-facts §2.3).
pub const DEFAULT_NODE_IMAGE: &str =
    "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5";
/// Default cluster name.
pub const DEFAULT_CLUSTER_NAME: &str = "kind";

/// A whole cluster configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// Must be `Cluster`.
    #[serde(default)]
    pub kind: String,
    /// Must be `kind.x-k8s.io/v1alpha4`.
    #[serde(default)]
    pub api_version: String,
    /// Cluster name; `--name` and `KIND_CLUSTER_NAME` override it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Nodes in config order; empty means one control-plane node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
    /// Cluster networking.
    #[serde(default)]
    pub networking: Networking,
    /// Feature gates for every component.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub feature_gates: BTreeMap<String, bool>,
    /// kube-apiserver `--runtime-config` entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_config: BTreeMap<String, String>,
    /// Cluster-level kubeadm merge patches (YAML, possibly multi-document).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubeadm_config_patches: Vec<String>,
    /// Cluster-level kubeadm RFC 6902 patches.
    #[serde(
        default,
        rename = "kubeadmConfigPatchesJSON6902",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub kubeadm_config_patches_json6902: Vec<PatchJson6902>,
    /// TOML merge patches for `/etc/containerd/config.toml`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containerd_config_patches: Vec<String>,
    /// RFC 6902 patches (YAML or JSON) against the JSON form of the containerd config.
    #[serde(
        default,
        rename = "containerdConfigPatchesJSON6902",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub containerd_config_patches_json6902: Vec<String>,
}

/// One node container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Node {
    /// `control-plane` or `worker` (validated, not decoded, so all errors are reported together).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
    /// Node image.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    /// Kubernetes node labels (kubelet `node-labels`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Bind mounts into the node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_mounts: Vec<Mount>,
    /// Host ports published to the node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_port_mappings: Vec<PortMapping>,
    /// Node-level kubeadm merge patches, applied after the cluster-level ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubeadm_config_patches: Vec<String>,
    /// Node-level kubeadm RFC 6902 patches.
    #[serde(
        default,
        rename = "kubeadmConfigPatchesJSON6902",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub kubeadm_config_patches_json6902: Vec<PatchJson6902>,
}

/// A bind mount (`extraMounts` entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mount {
    /// Path inside the node.
    #[serde(default)]
    pub container_path: String,
    /// Path on the host; relative paths are made absolute against the working directory.
    #[serde(default)]
    pub host_path: String,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Ask Docker to relabel for SELinux (`:Z`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub selinux_relabel: bool,
    /// `None`, `HostToContainer` or `Bidirectional` (empty = private); checked while decoding.
    #[serde(
        default,
        deserialize_with = "de_propagation",
        skip_serializing_if = "String::is_empty"
    )]
    pub propagation: String,
}

/// A published port (`extraPortMappings` entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortMapping {
    /// Port inside the node.
    #[serde(default)]
    pub container_port: i32,
    /// Host port: 0 = kindling picks a free one, -1 = the engine picks.
    #[serde(default)]
    pub host_port: i32,
    /// Host address to listen on (default `0.0.0.0`, `::` for IPv6 clusters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub listen_address: String,
    /// `TCP`, `UDP` or `SCTP` (case-insensitive; upper-cased and checked while decoding).
    #[serde(
        default,
        deserialize_with = "de_protocol",
        skip_serializing_if = "String::is_empty"
    )]
    pub protocol: String,
}

/// An RFC 6902 patch and the documents it targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchJson6902 {
    /// API group of the target (empty for the core group).
    #[serde(default)]
    pub group: String,
    /// API version of the target.
    #[serde(default)]
    pub version: String,
    /// Kind of the target.
    #[serde(default)]
    pub kind: String,
    /// The patch, as YAML or JSON text.
    #[serde(default)]
    pub patch: String,
}

/// Cluster networking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Networking {
    /// `ipv4`, `ipv6` or `dual`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ip_family: String,
    /// Host address the API server is published on.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_server_address: String,
    /// Host port the API server is published on: 0 = random free port, -1 = engine picks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub api_server_port: i32,
    /// Pod CIDR(s), comma-separated for dual-stack.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pod_subnet: String,
    /// Service CIDR(s), comma-separated for dual-stack.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service_subnet: String,
    /// Skip installing the default CNI.
    #[serde(
        default,
        rename = "disableDefaultCNI",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub disable_default_cni: bool,
    /// `iptables`, `ipvs`, `nftables` or `none`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_proxy_mode: String,
    /// DNS search domains for the nodes: unset inherits the host's, `[]` removes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_search: Option<Vec<String>>,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

/// Mount propagation values kind accepts; empty means unset (private).
pub const MOUNT_PROPAGATIONS: [&str; 4] = ["", "None", "HostToContainer", "Bidirectional"];
/// Port protocols kind accepts after upper-casing; empty means unset (TCP at run time).
pub const PORT_PROTOCOLS: [&str; 4] = ["", "TCP", "UDP", "SCTP"];

// kind rejects these while decoding (not in validation), so the error carries the YAML position.
fn de_propagation<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_string(OneOf {
        what: "MountPropagation",
        allowed: &MOUNT_PROPAGATIONS,
        upper_case: false,
    })
}

fn de_protocol<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_string(OneOf {
        what: "PortMappingProtocol",
        allowed: &PORT_PROTOCOLS,
        upper_case: true,
    })
}

/// A string that must be one of `allowed` (after upper-casing, if asked); null reads as "" (the
/// YAML decoder gives a string field's zero value for null). Checking inside the visitor makes the
/// decoder report the value's own line and column.
struct OneOf {
    what: &'static str,
    allowed: &'static [&'static str],
    upper_case: bool,
}

impl<'de> Visitor<'de> for OneOf {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} string", self.what)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        let value = if self.upper_case {
            v.to_uppercase()
        } else {
            v.to_string()
        };
        if self.allowed.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(E::custom(format!("Unknown {}: {value:?}", self.what)))
        }
    }
}

/// The role of a node container, including the implicit load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    /// Runs the Kubernetes control plane.
    ControlPlane,
    /// Runs workloads only.
    Worker,
    /// The HAProxy container in front of several control planes.
    ExternalLoadBalancer,
}

impl NodeRole {
    /// The role as written in configs and in the `io.x-k8s.kind.role` label.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::ControlPlane => "control-plane",
            NodeRole::Worker => "worker",
            NodeRole::ExternalLoadBalancer => "external-load-balancer",
        }
    }

    /// Parses a label or config value.
    pub fn parse(s: &str) -> Option<NodeRole> {
        match s {
            "control-plane" => Some(NodeRole::ControlPlane),
            "worker" => Some(NodeRole::Worker),
            "external-load-balancer" => Some(NodeRole::ExternalLoadBalancer),
            _ => None,
        }
    }
}

impl std::fmt::Display for NodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Cluster {
    /// True for `ipv6` and `dual` clusters.
    pub fn has_ipv6(&self) -> bool {
        matches!(self.networking.ip_family.as_str(), "ipv6" | "dual")
    }

    /// Number of control-plane nodes in the (defaulted) config.
    pub fn control_plane_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.role == "control-plane")
            .count()
    }

    /// More than one control plane means an external load balancer is created.
    pub fn needs_load_balancer(&self) -> bool {
        self.control_plane_count() > 1
    }
}

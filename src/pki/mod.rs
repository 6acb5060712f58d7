//! The cluster's PKI, made by kindling instead of kubeadm: CAs, leaf certificates, the
//! service-account key pair, kubeadm's kubeconfig files and the join material. Pure: no Docker.
//!
//! CONTRACT (filled in by the PKI work; signatures are fixed, bodies may change):

use crate::k8s_version::KubeVersion;
use std::net::IpAddr;

/// Key algorithm for every key of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 (kindling's default: fast to generate).
    #[default]
    EcdsaP256,
    /// RSA 2048 (kubeadm's default).
    Rsa2048,
}

/// What kubeadm would derive a control-plane node's certificates from. Filled from the node's
/// rendered kubeadm config (`cluster::kubeadm::cert_inputs`) so both always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCertInputs {
    /// `nodeRegistration.name` (the container name).
    pub node_name: String,
    /// `localAPIEndpoint.advertiseAddress`.
    pub advertise_address: IpAddr,
    /// `localAPIEndpoint.bindPort` (6443).
    pub bind_port: u16,
    /// `ClusterConfiguration.clusterName` (names the cluster inside kubeadm's kubeconfigs).
    pub cluster_name: String,
    /// `controlPlaneEndpoint` as `host:port` (empty = advertise address and bind port).
    pub control_plane_endpoint: String,
    /// `networking.serviceSubnet` (comma list; the first CIDR gives the API service IP).
    pub service_subnet: String,
    /// `networking.dnsDomain` (default `cluster.local`).
    pub dns_domain: String,
    /// `apiServer.certSANs`.
    pub cert_sans: Vec<String>,
    /// `etcd.local.serverCertSANs`.
    pub etcd_server_cert_sans: Vec<String>,
    /// `etcd.local.peerCertSANs`.
    pub etcd_peer_cert_sans: Vec<String>,
    /// The node's Kubernetes version (decides organisations and super-admin.conf).
    pub kubernetes_version: KubeVersion,
}

/// One file to place in a node.
#[derive(Clone, PartialEq, Eq)]
pub struct PkiFile {
    /// Absolute path in the node, e.g. `/etc/kubernetes/pki/ca.crt`.
    pub path: String,
    /// File contents (PEM or kubeconfig YAML).
    pub contents: Vec<u8>,
    /// Unix mode: 0644 for certificates, 0600 for keys and kubeconfigs.
    pub mode: u32,
}

impl std::fmt::Debug for PkiFile {
    // Never print key material, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiFile")
            .field("path", &self.path)
            .field("len", &self.contents.len())
            .field("mode", &format_args!("{:o}", self.mode))
            .finish()
    }
}

// TEMPORARY STUB: replaced by the pki branch.
#[allow(missing_docs, clippy::todo, unused_variables, dead_code)]
mod stub {
    use super::*;
    #[derive(Debug, thiserror::Error)]
    #[error("pki stub")]
    pub struct PkiError;
    pub struct ClusterPki;
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ControlPlaneRole {
        Init,
        Join,
    }
    impl ClusterPki {
        pub fn generate(alg: KeyAlgorithm) -> Result<ClusterPki, PkiError> {
            todo!()
        }
        pub fn ca_cert_pem(&self) -> &str {
            todo!()
        }
        pub fn ca_cert_hash(&self) -> &str {
            todo!()
        }
        pub fn bootstrap_token(&self) -> &str {
            todo!()
        }
        pub fn control_plane_files(
            &self,
            node: &NodeCertInputs,
            role: ControlPlaneRole,
        ) -> Result<Vec<PkiFile>, PkiError> {
            todo!()
        }
    }
}
pub use stub::*;

//! kubeadm's certificate list: the three CAs and the leaves each control-plane node gets, with
//! the subjects, usages and SANs of pki-facts §1 and §4.

use super::cert::{CLIENT, LeafSpec, SERVER, SERVER_AND_CLIENT};
use super::names::{AltNames, apiserver_alt_names, etcd_alt_names};
use super::{NodeCertInputs, PkiError};

/// The certificate authorities of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CaKind {
    /// `ca`: the cluster CA (API server, kubelets, kubeconfig users).
    Cluster,
    /// `front-proxy-ca`: the aggregation layer's client CA.
    FrontProxy,
    /// `etcd/ca`: etcd's own trust domain.
    Etcd,
}

impl CaKind {
    /// Every CA, in the order kubeadm creates them.
    pub const ALL: [CaKind; 3] = [CaKind::Cluster, CaKind::FrontProxy, CaKind::Etcd];

    /// Path under `/etc/kubernetes/pki` without extension.
    pub fn base(self) -> &'static str {
        match self {
            CaKind::Cluster => "ca",
            CaKind::FrontProxy => "front-proxy-ca",
            CaKind::Etcd => "etcd/ca",
        }
    }

    /// Subject common name.
    pub fn common_name(self) -> &'static str {
        match self {
            CaKind::Cluster => "kubernetes",
            CaKind::FrontProxy => "front-proxy-ca",
            CaKind::Etcd => "etcd-ca",
        }
    }
}

/// One leaf certificate of a node: where it goes, who signs it, what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Leaf {
    /// Path under `/etc/kubernetes/pki` without extension.
    pub base: &'static str,
    /// Signing CA.
    pub ca: CaKind,
    /// Subject, usages and SANs.
    pub spec: LeafSpec,
}

/// The leaves of one control-plane node with stacked etcd.
pub(super) fn node_leaves(node: &NodeCertInputs) -> Result<Vec<Leaf>, PkiError> {
    // kubeadm 1.29 dropped system:masters from the etcd clients and moved the kubelet client
    // to kubeadm:cluster-admins (k/k#119859, #120521, #121837).
    let new_identities = node.kubernetes_version.at_least(1, 29, 0);
    let (kubelet_client_org, etcd_client_orgs) = if new_identities {
        ("kubeadm:cluster-admins", vec![])
    } else {
        ("system:masters", vec!["system:masters"])
    };
    let client = |cn: &str, orgs: Vec<&'static str>| LeafSpec {
        cn: cn.to_string(),
        orgs,
        usages: CLIENT,
        sans: AltNames::default(),
    };
    let etcd_serving = |extra: &[String]| LeafSpec {
        cn: node.node_name.clone(),
        orgs: vec![],
        usages: SERVER_AND_CLIENT,
        sans: etcd_alt_names(node, extra),
    };
    Ok(vec![
        Leaf {
            base: "apiserver",
            ca: CaKind::Cluster,
            spec: LeafSpec {
                cn: "kube-apiserver".into(),
                orgs: vec![],
                usages: SERVER,
                sans: apiserver_alt_names(node)?,
            },
        },
        Leaf {
            base: "apiserver-kubelet-client",
            ca: CaKind::Cluster,
            spec: client("kube-apiserver-kubelet-client", vec![kubelet_client_org]),
        },
        Leaf {
            base: "front-proxy-client",
            ca: CaKind::FrontProxy,
            spec: client("front-proxy-client", vec![]),
        },
        Leaf {
            base: "etcd/server",
            ca: CaKind::Etcd,
            spec: etcd_serving(&node.etcd_server_cert_sans),
        },
        Leaf {
            base: "etcd/peer",
            ca: CaKind::Etcd,
            spec: etcd_serving(&node.etcd_peer_cert_sans),
        },
        Leaf {
            base: "etcd/healthcheck-client",
            ca: CaKind::Etcd,
            spec: client("kube-etcd-healthcheck-client", etcd_client_orgs.clone()),
        },
        Leaf {
            base: "apiserver-etcd-client",
            ca: CaKind::Etcd,
            spec: client("kube-apiserver-etcd-client", etcd_client_orgs),
        },
    ])
}

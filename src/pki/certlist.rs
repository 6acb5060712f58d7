//! kubeadm's certificate list: the three CAs and the leaves each control-plane node gets, with
//! the subjects, usages and SANs of pki-facts §1 and §4.

use super::cert::{CLIENT, LeafSpec, SERVER, SERVER_AND_CLIENT};
use super::names::{AltNames, apiserver_alt_names, etcd_alt_names};
use super::{NodeCertInputs, PkiError, gates};

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
    // to kubeadm:cluster-admins, each at its own commit (see `gates`).
    let v = &node.kubernetes_version;
    let masters_until = |gate: &str| {
        if v.reaches(gate) {
            vec![]
        } else {
            vec!["system:masters"]
        }
    };
    let kubelet_client_org = if v.reaches(gates::KUBELET_CLIENT_CLUSTER_ADMINS) {
        "kubeadm:cluster-admins"
    } else {
        "system:masters"
    };
    let client = |cn: &str, orgs: Vec<&'static str>| LeafSpec {
        cn: cn.to_string(),
        orgs,
        usages: CLIENT,
        sans: AltNames::default(),
    };
    let etcd_serving = |field, extra: &[String]| -> Result<LeafSpec, PkiError> {
        Ok(LeafSpec {
            cn: node.node_name.clone(),
            orgs: vec![],
            usages: SERVER_AND_CLIENT,
            sans: etcd_alt_names(node, field, extra)?,
        })
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
            spec: etcd_serving("etcd.local.serverCertSANs", &node.etcd_server_cert_sans)?,
        },
        Leaf {
            base: "etcd/peer",
            ca: CaKind::Etcd,
            spec: etcd_serving("etcd.local.peerCertSANs", &node.etcd_peer_cert_sans)?,
        },
        Leaf {
            base: "etcd/healthcheck-client",
            ca: CaKind::Etcd,
            spec: client(
                "kube-etcd-healthcheck-client",
                masters_until(gates::ETCD_HEALTHCHECK_WITHOUT_ORG),
            ),
        },
        Leaf {
            base: "apiserver-etcd-client",
            ca: CaKind::Etcd,
            spec: client(
                "kube-apiserver-etcd-client",
                masters_until(gates::APISERVER_ETCD_CLIENT_WITHOUT_ORG),
            ),
        },
    ])
}

//! The Kubernetes versions at which kubeadm changed what it writes, compared strictly
//! ([`KubeVersion::reaches`](crate::k8s_version::KubeVersion::reaches)): a pre-release counts as
//! new only from the first tagged pre-release whose release notes (CHANGELOG/CHANGELOG-1.NN.md)
//! list the change. CI builds between the merge and that tag get the older behaviour, which
//! kubeadm accepts in every case here (system:masters always works; super-admin.conf and the
//! local kubelet endpoint are only needed once kubeadm relies on them).
//!
//! kind has no gate of its own for these (it does not write certificates).

/// k/k#119859, v1.29.0-alpha.1: `etcd/healthcheck-client` no longer carries O=system:masters.
pub(super) const ETCD_HEALTHCHECK_WITHOUT_ORG: &str = "v1.29.0-alpha.1";
/// k/k#120521, v1.29.0-alpha.1: `apiserver-etcd-client` no longer carries O=system:masters.
pub(super) const APISERVER_ETCD_CLIENT_WITHOUT_ORG: &str = "v1.29.0-alpha.1";
/// k/k#121305, v1.29.0-alpha.3: admin.conf moves to O=kubeadm:cluster-admins (bound by a
/// ClusterRoleBinding init creates) and init writes super-admin.conf with O=system:masters.
pub(super) const SUPER_ADMIN: &str = "v1.29.0-alpha.3";
/// k/k#121837, v1.29.0-rc.0: `apiserver-kubelet-client` moves to O=kubeadm:cluster-admins.
pub(super) const KUBELET_CLIENT_CLUSTER_ADMINS: &str = "v1.29.0-rc.0";
/// k/k#129956, v1.33.0-alpha.1: ControlPlaneKubeletLocalMode on by default, so the init node's
/// kubelet.conf points at its own API server.
pub(super) const KUBELET_LOCAL_MODE: &str = "v1.33.0-alpha.1";
/// k/k#131677, v1.34.0-alpha.1: `encryptionAlgorithm: ECDSA-P384` accepted.
pub(super) const ECDSA_P384: &str = "v1.34.0-alpha.1";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s_version::KubeVersion;

    #[test]
    fn every_gate_parses_and_orders_pre_releases_below_it() {
        for gate in [
            ETCD_HEALTHCHECK_WITHOUT_ORG,
            APISERVER_ETCD_CLIENT_WITHOUT_ORG,
            SUPER_ADMIN,
            KUBELET_CLIENT_CLUSTER_ADMINS,
            KUBELET_LOCAL_MODE,
            ECDSA_P384,
        ] {
            let g = KubeVersion::parse(gate).unwrap();
            assert!(g.reaches(gate), "{gate}");
            let release = format!("v{}.{}.0", g.major, g.minor);
            assert!(KubeVersion::parse(&release).unwrap().reaches(gate));
            let earlier = format!("v{}.{}.0-alpha.0", g.major, g.minor);
            assert!(!KubeVersion::parse(&earlier).unwrap().reaches(gate));
        }
    }
}

//! kubeadm's kubeconfig files in `/etc/kubernetes` (pki-facts §2): which ones a node gets, the
//! identity and server of each, and their YAML.

use super::names::{control_plane_endpoint, local_endpoint};
use super::{ControlPlaneRole, NodeCertInputs, PkiError, gates};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;

/// One kubeconfig kubeadm would write, before its client certificate exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KubeconfigSpec {
    /// File name in `/etc/kubernetes`.
    pub file: &'static str,
    /// Client certificate CN, also the user name.
    pub cn: String,
    /// Client certificate organisations.
    pub orgs: Vec<&'static str>,
    /// API server URL.
    pub server: String,
}

/// The kubeconfigs of one control-plane node: admin, controller-manager and scheduler always;
/// super-admin (1.29+) and kubelet.conf only on the init node, since kubeadm makes
/// super-admin.conf at init only and joining kubelets get theirs by TLS bootstrap.
pub(super) fn specs(
    node: &NodeCertInputs,
    role: ControlPlaneRole,
) -> Result<Vec<KubeconfigSpec>, PkiError> {
    let version = &node.kubernetes_version;
    let cpe = control_plane_endpoint(node)?.url();
    let local = local_endpoint(node).url();
    // admin.conf's group and super-admin.conf came together (k/k#121305, see `gates`).
    let super_admin = version.reaches(gates::SUPER_ADMIN);
    let admin_org = if super_admin {
        "kubeadm:cluster-admins"
    } else {
        "system:masters"
    };
    let spec = |file, cn: &str, orgs: Vec<&'static str>, server: &str| KubeconfigSpec {
        file,
        cn: cn.to_string(),
        orgs,
        server: server.to_string(),
    };
    let mut out = vec![spec(
        "admin.conf",
        "kubernetes-admin",
        vec![admin_org],
        &cpe,
    )];
    if role == ControlPlaneRole::Init {
        if super_admin {
            out.push(spec(
                "super-admin.conf",
                "kubernetes-super-admin",
                vec!["system:masters"],
                &cpe,
            ));
        }
        // With ControlPlaneKubeletLocalMode (on by default from 1.33, or as set in the
        // ClusterConfiguration's featureGates) the control-plane kubelet talks to its own API
        // server (phases/kubeconfig `getKubeConfigSpecsBase`).
        let local_mode = node
            .kubelet_local_mode
            .unwrap_or_else(|| version.reaches(gates::KUBELET_LOCAL_MODE));
        let kubelet_server = if local_mode { &local } else { &cpe };
        out.push(spec(
            "kubelet.conf",
            &format!("system:node:{}", node.node_name),
            vec!["system:nodes"],
            kubelet_server,
        ));
    }
    out.push(spec(
        "controller-manager.conf",
        "system:kube-controller-manager",
        vec![],
        &local,
    ));
    out.push(spec(
        "scheduler.conf",
        "system:kube-scheduler",
        vec![],
        &local,
    ));
    Ok(out)
}

/// Renders a kubeconfig with one cluster, one certificate user and one current context named
/// `<user>@<cluster>`, as kubeadm lays it out.
pub(super) fn render(
    cluster_name: &str,
    server: &str,
    ca_pem: &str,
    user: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<String, crate::yaml::YamlError> {
    let context = format!("{user}@{cluster_name}");
    let config = Config {
        api_version: "v1",
        kind: "Config",
        clusters: vec![Named {
            name: cluster_name,
            cluster: Some(Cluster {
                server,
                certificate_authority_data: BASE64.encode(ca_pem.as_bytes()),
            }),
            context: None,
            user: None,
        }],
        contexts: vec![Named {
            name: &context,
            cluster: None,
            context: Some(Context {
                cluster: cluster_name,
                user,
            }),
            user: None,
        }],
        current_context: &context,
        preferences: Preferences {},
        users: vec![Named {
            name: user,
            cluster: None,
            context: None,
            user: Some(User {
                client_certificate_data: BASE64.encode(cert_pem.as_bytes()),
                client_key_data: BASE64.encode(key_pem.as_bytes()),
            }),
        }],
    };
    crate::yaml::to_string(&config)
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    clusters: Vec<Named<'a>>,
    contexts: Vec<Named<'a>>,
    current_context: &'a str,
    preferences: Preferences,
    users: Vec<Named<'a>>,
}

/// A `{name, cluster|context|user}` list entry.
#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<Cluster<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<Context<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster<'a> {
    certificate_authority_data: String,
    server: &'a str,
}

#[derive(Serialize)]
struct Context<'a> {
    cluster: &'a str,
    user: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct User {
    client_certificate_data: String,
    client_key_data: String,
}

#[derive(Serialize)]
struct Preferences {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s_version::KubeVersion;

    fn node(version: &str) -> NodeCertInputs {
        NodeCertInputs {
            node_name: "kind-control-plane".into(),
            advertise_address: "fc00:f853::3".parse().unwrap(),
            bind_port: 6443,
            cluster_name: "kind".into(),
            control_plane_endpoint: "kind-external-load-balancer:6443".into(),
            service_subnet: "fd00:10:96::/112".into(),
            dns_domain: "cluster.local".into(),
            cert_sans: vec![],
            etcd_server_cert_sans: vec![],
            etcd_peer_cert_sans: vec![],
            certificates_dir: String::new(),
            kubelet_local_mode: None,
            kubernetes_version: KubeVersion::parse(version).unwrap(),
        }
    }

    fn by_file<'a>(specs: &'a [KubeconfigSpec], file: &str) -> Option<&'a KubeconfigSpec> {
        specs.iter().find(|s| s.file == file)
    }

    #[test]
    fn init_node_files_by_version() {
        let lb = "https://kind-external-load-balancer:6443";
        let local = "https://[fc00:f853::3]:6443";

        let new = specs(&node("v1.36.1"), ControlPlaneRole::Init).unwrap();
        let admin = by_file(&new, "admin.conf").unwrap();
        assert_eq!(
            (admin.cn.as_str(), admin.orgs.clone()),
            ("kubernetes-admin", vec!["kubeadm:cluster-admins"])
        );
        assert_eq!(admin.server, lb);
        let sa = by_file(&new, "super-admin.conf").unwrap();
        assert_eq!(sa.orgs, vec!["system:masters"]);
        assert_eq!(sa.server, lb);
        let kubelet = by_file(&new, "kubelet.conf").unwrap();
        assert_eq!(kubelet.cn, "system:node:kind-control-plane");
        assert_eq!(kubelet.orgs, vec!["system:nodes"]);
        assert_eq!(
            kubelet.server, local,
            "ControlPlaneKubeletLocalMode from 1.33"
        );
        assert_eq!(
            by_file(&new, "controller-manager.conf").unwrap().server,
            local
        );
        assert_eq!(
            by_file(&new, "scheduler.conf").unwrap().cn,
            "system:kube-scheduler"
        );

        let v132 = specs(&node("v1.32.5"), ControlPlaneRole::Init).unwrap();
        assert_eq!(by_file(&v132, "kubelet.conf").unwrap().server, lb);

        let old = specs(&node("v1.28.15"), ControlPlaneRole::Init).unwrap();
        assert!(by_file(&old, "super-admin.conf").is_none());
        assert_eq!(
            by_file(&old, "admin.conf").unwrap().orgs,
            vec!["system:masters"]
        );
    }

    #[test]
    fn pre_releases_follow_the_commit_that_changed_kubeadm() {
        let lb = "https://kind-external-load-balancer:6443";
        let local = "https://[fc00:f853::3]:6443";
        let files = |v: &str| specs(&node(v), ControlPlaneRole::Init).unwrap();
        // Before k/k#121305 (first in v1.29.0-alpha.3): admin.conf is system:masters, no
        // super-admin.conf. Both a tagged pre-release and a CI build in between.
        for v in ["v1.29.0-alpha.2", "v1.29.0-alpha.2.417+0123456789abcd"] {
            let old = files(v);
            assert!(by_file(&old, "super-admin.conf").is_none(), "{v}");
            assert_eq!(
                by_file(&old, "admin.conf").unwrap().orgs,
                vec!["system:masters"],
                "{v}"
            );
        }
        let new = files("v1.29.0-alpha.3");
        assert!(by_file(&new, "super-admin.conf").is_some());
        assert_eq!(
            by_file(&new, "admin.conf").unwrap().orgs,
            vec!["kubeadm:cluster-admins"]
        );
        // The local kubelet endpoint became the default in v1.33.0-alpha.1 (k/k#129956).
        assert_eq!(
            by_file(&files("v1.33.0-alpha.0.9+abc"), "kubelet.conf")
                .unwrap()
                .server,
            lb
        );
        assert_eq!(
            by_file(&files("v1.33.0-alpha.1"), "kubelet.conf")
                .unwrap()
                .server,
            local
        );
    }

    #[test]
    fn kubelet_local_mode_feature_gate_overrides_the_version() {
        let lb = "https://kind-external-load-balancer:6443";
        let local = "https://[fc00:f853::3]:6443";
        let mut n = node("v1.32.3");
        n.kubelet_local_mode = Some(true);
        let s = specs(&n, ControlPlaneRole::Init).unwrap();
        assert_eq!(by_file(&s, "kubelet.conf").unwrap().server, local);
        let mut n = node("v1.34.1");
        n.kubelet_local_mode = Some(false);
        let s = specs(&n, ControlPlaneRole::Init).unwrap();
        assert_eq!(by_file(&s, "kubelet.conf").unwrap().server, lb);
    }

    #[test]
    fn join_node_never_gets_kubelet_or_super_admin() {
        let join = specs(&node("v1.36.1"), ControlPlaneRole::Join).unwrap();
        let files: Vec<_> = join.iter().map(|s| s.file).collect();
        assert_eq!(
            files,
            ["admin.conf", "controller-manager.conf", "scheduler.conf"]
        );
    }

    #[test]
    fn rendered_yaml_has_kubectl_field_names() {
        let yaml = render("kind", "https://[::1]:6443", "CA\n", "u", "C\n", "K\n").unwrap();
        let doc: serde_json::Value = crate::yaml::from_str(&yaml).unwrap();
        assert_eq!(doc["apiVersion"], "v1");
        assert_eq!(doc["kind"], "Config");
        assert_eq!(doc["current-context"], "u@kind");
        assert_eq!(doc["clusters"][0]["name"], "kind");
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "https://[::1]:6443"
        );
        // base64("CA\n") per RFC 4648.
        assert_eq!(
            doc["clusters"][0]["cluster"]["certificate-authority-data"],
            "Q0EK"
        );
        assert_eq!(doc["contexts"][0]["name"], "u@kind");
        assert_eq!(doc["contexts"][0]["context"]["cluster"], "kind");
        assert_eq!(doc["contexts"][0]["context"]["user"], "u");
        assert_eq!(doc["users"][0]["name"], "u");
        assert_eq!(doc["users"][0]["user"]["client-certificate-data"], "Qwo=");
        assert_eq!(doc["users"][0]["user"]["client-key-data"], "Swo=");
    }
}

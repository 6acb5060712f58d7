use super::*;
use crate::config::{Cluster, Networking, Node, PatchJson6902};
use serde_json::{Value, json};

const TOKEN: &str = "k1ndl1.ng0123456789abcd";
const CA_HASH: &str = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const CP_V4: Ipv4Addr = Ipv4Addr::new(172, 18, 0, 2);
const WORKER_V4: Ipv4Addr = Ipv4Addr::new(172, 18, 0, 3);
const CP_V6: Ipv6Addr = Ipv6Addr::new(0xfc00, 0xf853, 0xccd, 0xe793, 0, 0, 0, 2);
const WORKER_V6: Ipv6Addr = Ipv6Addr::new(0xfc00, 0xf853, 0xccd, 0xe793, 0, 0, 0, 3);

fn version(v: &str) -> KubeVersion {
    KubeVersion::parse(v).unwrap()
}

/// A config as kind's defaulting leaves it: one control plane and one worker.
fn cluster(ip_family: &str) -> Cluster {
    let node = |role: &str| Node {
        role: role.to_string(),
        image: "kindest/node:test".to_string(),
        ..Default::default()
    };
    let mut cluster = Cluster {
        kind: "Cluster".into(),
        api_version: "kind.x-k8s.io/v1alpha4".into(),
        nodes: vec![node("control-plane"), node("worker")],
        networking: Networking {
            ip_family: ip_family.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    cluster.apply_defaults();
    cluster
}

/// The patches of the snapshot matrix: a cluster-level merge patch adding API server SANs,
/// a cluster-level JSON 6902 patch that only matches v1beta3, a node-level multi-document
/// merge patch on kubelet args (map form, no apiVersion, so it works on both APIs) and a
/// node-level JSON 6902 patch on the KubeletConfiguration.
fn with_patches(mut c: Cluster) -> Cluster {
    c.kubeadm_config_patches = vec![
        "kind: ClusterConfiguration\napiServer:\n  certSANs:\n  - api.kind.test\n  - localhost\n"
            .to_string(),
    ];
    c.kubeadm_config_patches_json6902 = vec![PatchJson6902 {
        group: "kubeadm.k8s.io".into(),
        version: "v1beta3".into(),
        kind: "ClusterConfiguration".into(),
        patch: "- op: add\n  path: /apiServer/extraArgs/audit-log-maxage\n  value: \"30\"\n".into(),
    }];
    for node in &mut c.nodes {
        node.kubeadm_config_patches = vec![
            "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: \"ingress-ready=true\"\n    max-pods: \"150\"\n---\nkind: JoinConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: \"ingress-ready=true\"\n    max-pods: \"150\"\n".to_string(),
        ];
        node.kubeadm_config_patches_json6902 = vec![PatchJson6902 {
            group: "kubelet.config.k8s.io".into(),
            version: "v1beta1".into(),
            kind: "KubeletConfiguration".into(),
            patch: "- op: add\n  path: /evictionHard/memory.available\n  value: 100Mi\n".into(),
        }];
    }
    c
}

/// Renders node `index` of `c` (0 = control plane, 1 = worker) for Kubernetes `v`.
fn render_node(c: &Cluster, index: usize, v: &str) -> Result<String, KubeadmError> {
    render_with(c, index, v, false)
}

fn render_with(c: &Cluster, index: usize, v: &str, rootless: bool) -> Result<String, KubeadmError> {
    let v = version(v);
    let (name, role, v4, v6) = if c.nodes[index].role == "control-plane" {
        ("kind-control-plane", NodeRole::ControlPlane, CP_V4, CP_V6)
    } else {
        ("kind-worker", NodeRole::Worker, WORKER_V4, WORKER_V6)
    };
    render(&RenderInput {
        cluster: c,
        node: &c.nodes[index],
        node_name: name,
        role,
        kubernetes_version: &v,
        node_ipv4: Some(v4),
        node_ipv6: c.has_ipv6().then_some(v6),
        control_plane_endpoint: "kind-control-plane:6443",
        bootstrap_token: TOKEN,
        ca_cert_hash: CA_HASH,
        rootless,
    })
}

fn docs(rendered: &str) -> Vec<Value> {
    crate::yaml::documents(rendered).unwrap()
}

fn doc<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

// ---------------------------------------------------------------------------------------
// Snapshots (reviewed by hand against kind-facts §4.2; differences from kind: see `render`)

mod snapshots {
    use super::*;

    fn snap(name: &str, c: &Cluster, index: usize, v: &str) {
        let rendered = render_node(c, index, v).unwrap();
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, rendered);
        });
    }

    fn matrix(tag: &str, v: &str) {
        let plain = cluster("ipv4");
        let patched = with_patches(cluster("ipv4"));
        snap(&format!("{tag}_control_plane"), &plain, 0, v);
        snap(&format!("{tag}_worker"), &plain, 1, v);
        snap(&format!("{tag}_control_plane_patched"), &patched, 0, v);
        snap(&format!("{tag}_worker_patched"), &patched, 1, v);
    }

    #[test]
    fn v1_29() {
        matrix("v1_29", "v1.29.14");
    }

    #[test]
    fn v1_31() {
        matrix("v1_31", "v1.31.12");
    }

    #[test]
    fn v1_35() {
        matrix("v1_35", "v1.35.1");
    }

    #[test]
    fn v1_36() {
        matrix("v1_36", "v1.36.1");
    }

    #[test]
    fn ip_families_and_kube_proxy_none() {
        for (tag, v) in [("v1_35", "v1.35.1"), ("v1_36", "v1.36.1")] {
            snap(&format!("{tag}_ipv6_control_plane"), &cluster("ipv6"), 0, v);
            snap(&format!("{tag}_dual_control_plane"), &cluster("dual"), 0, v);
            let mut none = cluster("ipv4");
            none.networking.kube_proxy_mode = "none".into();
            snap(&format!("{tag}_proxy_none_control_plane"), &none, 0, v);
        }
    }

    #[test]
    fn gates_runtime_config_labels_rootless_nftables() {
        let mut c = cluster("ipv4");
        c.feature_gates
            .insert("InPlacePodVerticalScaling".into(), true);
        c.feature_gates.insert("AllAlpha".into(), false);
        c.runtime_config.insert("api/alpha".into(), "false".into());
        c.runtime_config.insert("api/beta".into(), "true".into());
        c.networking.kube_proxy_mode = "nftables".into();
        c.nodes[1].labels.insert("tier".into(), "frontend".into());
        c.nodes[1]
            .labels
            .insert("ingress-ready".into(), "true".into());
        for (tag, v) in [("v1_31", "v1.31.12"), ("v1_36", "v1.36.1")] {
            snap(&format!("{tag}_features_worker"), &c, 1, v);
            let rendered = render_with(&c, 1, v, true).unwrap();
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(format!("{tag}_features_rootless_worker"), rendered);
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// API version

#[test]
fn api_version_by_kubernetes_version() {
    for (v, want) in [
        ("v1.23.0", "kubeadm.k8s.io/v1beta3"),
        ("v1.29.14", "kubeadm.k8s.io/v1beta3"),
        ("v1.35.99", "kubeadm.k8s.io/v1beta3"),
        // Pre-releases count as their release, as in kind.
        ("v1.36.0-alpha.1", "kubeadm.k8s.io/v1beta4"),
        ("v1.36.0", "kubeadm.k8s.io/v1beta4"),
        ("v1.37.0-rc.1", "kubeadm.k8s.io/v1beta4"),
    ] {
        assert_eq!(api_version(&version(v)).unwrap(), want, "{v}");
    }
}

#[test]
fn old_versions_are_rejected_naming_version_and_minimum() {
    for v in ["v1.22.17", "v1.22.0-alpha.0", "v1.19.1"] {
        let err = api_version(&version(v)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(v) && msg.contains("v1.23.0"), "{msg}");
        let err = render_node(&cluster("ipv4"), 0, v).unwrap_err();
        assert!(
            matches!(err, KubeadmError::UnsupportedVersion { .. }),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Rendering facts (each checked against kind-facts §4.2.2 independently of the snapshots)

#[test]
fn every_document_has_kinds_values_and_kindlings_join_pinning() {
    let out = render_node(&cluster("ipv4"), 1, "v1.31.12").unwrap();
    let d = docs(&out);
    let kinds: Vec<_> = d.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ClusterConfiguration",
            "InitConfiguration",
            "JoinConfiguration",
            "KubeletConfiguration",
            "KubeProxyConfiguration"
        ]
    );
    assert!(d.iter().all(|d| d.get("metadata").is_none()), "{out}");
    assert!(!out.contains('#'), "no comments: {out}");

    let cc = doc(&d, "ClusterConfiguration");
    assert_eq!(cc["kubernetesVersion"], "v1.31.12");
    assert_eq!(cc["clusterName"], "kind");
    assert_eq!(cc["controlPlaneEndpoint"], "kind-control-plane:6443");
    assert_eq!(
        cc["apiServer"]["certSANs"],
        json!(["localhost", "127.0.0.1"])
    );
    assert_eq!(
        cc["apiServer"]["extraArgs"],
        json!({ "runtime-config": "" })
    );
    assert_eq!(
        cc["controllerManager"]["extraArgs"],
        json!({ "enable-hostpath-provisioner": "true" })
    );
    assert_eq!(cc["scheduler"]["extraArgs"], Value::Null);
    assert_eq!(
        cc["networking"],
        json!({ "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/16" })
    );

    let join = doc(&d, "JoinConfiguration");
    assert_eq!(
        join["discovery"],
        json!({ "bootstrapToken": {
            "apiServerEndpoint": "kind-control-plane:6443",
            "token": TOKEN,
            "caCertHashes": [CA_HASH],
        }})
    );
    assert!(join.get("controlPlane").is_none(), "worker joins as worker");
    assert_eq!(join["skipPhases"], json!(["preflight"]));
    assert_eq!(
        join["nodeRegistration"],
        json!({
            "criSocket": "unix:///run/containerd/containerd.sock",
            "kubeletExtraArgs": {
                "node-ip": "172.18.0.3",
                "provider-id": "kind://docker/kind/kind-worker",
                "node-labels": "",
            },
        })
    );
    let init = doc(&d, "InitConfiguration");
    assert_eq!(init["bootstrapTokens"], json!([{ "token": TOKEN }]));
    assert_eq!(
        init["localAPIEndpoint"],
        json!({ "advertiseAddress": "172.18.0.3", "bindPort": 6443 })
    );
    assert_eq!(init["skipPhases"], json!(["preflight"]));

    let kubelet = doc(&d, "KubeletConfiguration");
    assert_eq!(kubelet["apiVersion"], "kubelet.config.k8s.io/v1beta1");
    assert_eq!(kubelet["cgroupDriver"], "systemd");
    assert_eq!(kubelet["cgroupRoot"], "/kubelet");
    assert_eq!(kubelet["failSwapOn"], false);
    assert_eq!(kubelet["imageGCHighThresholdPercent"], 100);
    assert_eq!(
        kubelet["evictionHard"],
        json!({ "nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%" })
    );
    assert!(kubelet.get("featureGates").is_none() && kubelet.get("address").is_none());

    let proxy = doc(&d, "KubeProxyConfiguration");
    assert_eq!(proxy["apiVersion"], "kubeproxy.config.k8s.io/v1alpha1");
    assert_eq!(proxy["mode"], "iptables");
    assert_eq!(proxy["iptables"], json!({ "minSyncPeriod": "1s" }));
    assert_eq!(proxy["conntrack"], json!({ "maxPerCore": 0 }));
}

#[test]
fn keys_are_sorted_in_the_output() {
    let out = render_node(&cluster("ipv4"), 0, "v1.36.1").unwrap();
    let first = out.split("---\n").next().unwrap();
    let top: Vec<&str> = first
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('-'))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let mut sorted = top.clone();
    sorted.sort();
    assert_eq!(top, sorted);
    assert!(first.starts_with("apiServer:"), "{first}");
}

#[test]
fn control_plane_join_has_local_endpoint() {
    let d = docs(&render_node(&cluster("ipv4"), 0, "v1.29.14").unwrap());
    assert_eq!(
        doc(&d, "JoinConfiguration")["controlPlane"],
        json!({ "localAPIEndpoint": { "advertiseAddress": "172.18.0.2", "bindPort": 6443 } })
    );
}

#[test]
fn v1beta4_uses_name_value_lists_in_kinds_order() {
    let mut c = cluster("ipv6");
    c.feature_gates.insert("B".into(), false);
    c.feature_gates.insert("A".into(), true);
    let d = docs(&render_node(&c, 0, "v1.36.1").unwrap());
    let cc = doc(&d, "ClusterConfiguration");
    assert_eq!(cc["apiVersion"], "kubeadm.k8s.io/v1beta4");
    assert_eq!(
        cc["apiServer"]["extraArgs"],
        json!([
            { "name": "runtime-config", "value": "" },
            { "name": "feature-gates", "value": "A=true,B=false" },
        ])
    );
    assert_eq!(
        cc["controllerManager"]["extraArgs"],
        json!([
            { "name": "feature-gates", "value": "A=true,B=false" },
            { "name": "enable-hostpath-provisioner", "value": "true" },
            { "name": "bind-address", "value": "::" },
        ])
    );
    assert_eq!(
        cc["scheduler"]["extraArgs"],
        json!([
            { "name": "feature-gates", "value": "A=true,B=false" },
            { "name": "bind-address", "value": "::1" },
        ])
    );
    assert_eq!(
        doc(&d, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"],
        json!([
            { "name": "node-ip", "value": "fc00:f853:ccd:e793::2" },
            { "name": "provider-id", "value": "kind://docker/kind/kind-control-plane" },
            { "name": "node-labels", "value": "" },
        ])
    );
    let gates = json!({ "A": true, "B": false });
    assert_eq!(doc(&d, "KubeletConfiguration")["featureGates"], gates);
    assert_eq!(doc(&d, "KubeProxyConfiguration")["featureGates"], gates);
    assert!(
        doc(&d, "ClusterConfiguration")
            .get("featureGates")
            .is_none()
    );
}

#[test]
fn runtime_config_and_labels_are_sorted_joined() {
    let mut c = cluster("ipv4");
    c.runtime_config.insert("b/v1".into(), "false".into());
    c.runtime_config.insert("a/v1".into(), "true".into());
    c.nodes[0].labels.insert("z".into(), "1".into());
    c.nodes[0].labels.insert("a".into(), "2".into());
    let d = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    assert_eq!(
        doc(&d, "ClusterConfiguration")["apiServer"]["extraArgs"]["runtime-config"],
        "a/v1=true,b/v1=false"
    );
    assert_eq!(
        doc(&d, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"]["node-labels"],
        "a=2,z=1"
    );
}

#[test]
fn kube_proxy_none_drops_the_document_and_skips_the_addon() {
    let mut c = cluster("ipv4");
    c.networking.kube_proxy_mode = "none".into();
    let d = docs(&render_node(&c, 0, "v1.36.1").unwrap());
    assert_eq!(d.len(), 4);
    assert!(d.iter().all(|d| d["kind"] != "KubeProxyConfiguration"));
    assert_eq!(
        doc(&d, "InitConfiguration")["skipPhases"],
        json!(["preflight", "addon/kube-proxy"])
    );
    assert_eq!(
        doc(&d, "JoinConfiguration")["skipPhases"],
        json!(["preflight"])
    );
}

#[test]
fn ipv6_sets_bind_addresses_and_dual_orders_node_ip_by_service_family() {
    let d = docs(&render_node(&cluster("ipv6"), 1, "v1.35.1").unwrap());
    let kubelet = doc(&d, "KubeletConfiguration");
    assert_eq!(
        (
            kubelet["address"].as_str(),
            kubelet["healthzBindAddress"].as_str()
        ),
        (Some("::"), Some("::"))
    );
    let cc = doc(&d, "ClusterConfiguration");
    assert_eq!(cc["controllerManager"]["extraArgs"]["bind-address"], "::");
    assert_eq!(cc["scheduler"]["extraArgs"]["bind-address"], "::1");
    assert_eq!(cc["apiServer"]["certSANs"], json!(["localhost", "::1"]));

    let dual = cluster("dual");
    let d = docs(&render_node(&dual, 1, "v1.35.1").unwrap());
    let init = doc(&d, "InitConfiguration");
    assert_eq!(
        init["nodeRegistration"]["kubeletExtraArgs"]["node-ip"],
        "172.18.0.3,fc00:f853:ccd:e793::3"
    );
    assert_eq!(init["localAPIEndpoint"]["advertiseAddress"], "172.18.0.3");
    // Dual-stack keeps the default (IPv4) bind addresses.
    assert!(doc(&d, "KubeletConfiguration").get("address").is_none());
    assert_eq!(
        doc(&d, "ClusterConfiguration")["scheduler"]["extraArgs"],
        Value::Null
    );

    let mut v6_first = cluster("dual");
    v6_first.networking.service_subnet = "fd00:10:96::/112,10.96.0.0/16".into();
    let d = docs(&render_node(&v6_first, 1, "v1.35.1").unwrap());
    let init = doc(&d, "InitConfiguration");
    assert_eq!(
        init["nodeRegistration"]["kubeletExtraArgs"]["node-ip"],
        "fc00:f853:ccd:e793::3,172.18.0.3"
    );
    assert_eq!(
        init["localAPIEndpoint"]["advertiseAddress"],
        "fc00:f853:ccd:e793::3"
    );
}

#[test]
fn missing_addresses_are_reported_per_node() {
    let c = cluster("ipv6");
    let v = version("v1.35.1");
    let input = RenderInput {
        cluster: &c,
        node: &c.nodes[1],
        node_name: "kind-worker",
        role: NodeRole::Worker,
        kubernetes_version: &v,
        node_ipv4: Some(WORKER_V4),
        node_ipv6: None,
        control_plane_endpoint: "kind-control-plane:6443",
        bootstrap_token: TOKEN,
        ca_cert_hash: CA_HASH,
        rootless: false,
    };
    let err = render(&input).unwrap_err().to_string();
    assert_eq!(
        err,
        "failed to get IPv6 address for node kind-worker; is docker configured to use IPv6 correctly?"
    );
    let c4 = cluster("ipv4");
    let err = render(&RenderInput {
        cluster: &c4,
        node: &c4.nodes[1],
        node_ipv4: None,
        ..input
    })
    .unwrap_err();
    assert!(matches!(err, KubeadmError::MissingIpv4 { ref node } if node == "kind-worker"));
}

#[test]
fn rootless_adds_gate_and_conntrack_timeouts_instead_of_be_liberal() {
    let mut c = cluster("ipv4");
    c.networking.kube_proxy_mode = "nftables".into();
    let plain = docs(&render_with(&c, 0, "v1.31.12", false).unwrap());
    assert_eq!(
        doc(&plain, "KubeProxyConfiguration")["conntrack"],
        json!({ "maxPerCore": 0, "tcpBeLiberal": true })
    );
    let rootless = docs(&render_with(&c, 0, "v1.31.12", true).unwrap());
    assert_eq!(
        doc(&rootless, "KubeProxyConfiguration")["conntrack"],
        json!({ "maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s" })
    );
    let gate = "KubeletInUserNamespace=true";
    let cc = doc(&rootless, "ClusterConfiguration");
    assert_eq!(cc["apiServer"]["extraArgs"]["feature-gates"], gate);
    assert_eq!(cc["scheduler"]["extraArgs"]["feature-gates"], gate);
    assert_eq!(
        doc(&rootless, "KubeletConfiguration")["featureGates"],
        json!({ "KubeletInUserNamespace": true })
    );
}

#[test]
fn cgroup_driver_is_cgroupfs_before_1_24() {
    let driver = |v| {
        let d = docs(&render_node(&cluster("ipv4"), 0, v).unwrap());
        doc(&d, "KubeletConfiguration")["cgroupDriver"].clone()
    };
    assert_eq!(driver("v1.23.17"), "cgroupfs");
    assert_eq!(driver("v1.24.0"), "systemd");
}

// ---------------------------------------------------------------------------------------
// Patches (kind-facts §4.2.3)

fn cluster_with_cluster_patches(merge: &[&str], json6902: Vec<PatchJson6902>) -> Cluster {
    let mut c = cluster("ipv4");
    c.kubeadm_config_patches = merge.iter().map(|s| s.to_string()).collect();
    c.kubeadm_config_patches_json6902 = json6902;
    c
}

#[test]
fn cert_sans_are_unioned_anywhere_in_the_patch() {
    let c = cluster_with_cluster_patches(
        &[
            "kind: ClusterConfiguration\napiServer:\n  certSANs: [127.0.0.1, a.test]\n\
           somewhere:\n  deeper:\n    certSANs: [x]\n",
        ],
        vec![],
    );
    for v in ["v1.35.1", "v1.36.1"] {
        let d = docs(&render_node(&c, 0, v).unwrap());
        let cc = doc(&d, "ClusterConfiguration");
        assert_eq!(
            cc["apiServer"]["certSANs"],
            json!(["localhost", "127.0.0.1", "a.test"]),
            "{v}"
        );
        assert_eq!(cc["somewhere"]["deeper"]["certSANs"], json!(["x"]), "{v}");
    }
}

#[test]
fn other_lists_are_replaced_as_in_rfc_7386() {
    let c = cluster_with_cluster_patches(
        &["kind: InitConfiguration\nskipPhases: [addon/coredns]\n"],
        vec![],
    );
    let d = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    assert_eq!(
        doc(&d, "InitConfiguration")["skipPhases"],
        json!(["addon/coredns"])
    );
}

#[test]
fn v1beta4_extra_args_merge_by_name() {
    let list_patch = r#"apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
  - name: runtime-config
    value: api/all=true
  - name: audit-log-maxage
    value: "30"
controllerManager:
  extraArgs:
  - name: enable-hostpath-provisioner
    value: null
"#;
    let c = cluster_with_cluster_patches(&[list_patch], vec![]);
    let d = docs(&render_node(&c, 0, "v1.36.1").unwrap());
    let cc = doc(&d, "ClusterConfiguration");
    assert_eq!(
        cc["apiServer"]["extraArgs"],
        json!([
            { "name": "runtime-config", "value": "api/all=true" },
            { "name": "audit-log-maxage", "value": "30" },
        ])
    );
    // Deleting the only entry leaves an empty list.
    assert_eq!(cc["controllerManager"]["extraArgs"], json!([]));
}

#[test]
fn v1beta4_map_style_patch_is_converted_only_without_api_version() {
    let map_patch = "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    \
        node-labels: a=b\n    v: \"4\"\n    provider-id: null\n";
    let c = cluster_with_cluster_patches(&[map_patch], vec![]);
    let d = docs(&render_node(&c, 0, "v1.36.1").unwrap());
    assert_eq!(
        doc(&d, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"],
        json!([
            { "name": "node-ip", "value": "172.18.0.2" },
            { "name": "node-labels", "value": "a=b" },
            { "name": "v", "value": "4" },
        ])
    );

    // With an apiVersion kind drops a map-style value for a v1beta4 target.
    let versioned = format!("apiVersion: kubeadm.k8s.io/v1beta4\n{map_patch}");
    let c = cluster_with_cluster_patches(&[&versioned], vec![]);
    let d = docs(&render_node(&c, 0, "v1.36.1").unwrap());
    let args = &doc(&d, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"];
    assert_eq!(args.as_array().map(Vec::len), Some(3), "{args}");
    assert_eq!(args[2], json!({ "name": "node-labels", "value": "" }));
}

#[test]
fn v1beta3_extra_args_use_the_ordinary_map_merge() {
    let map_patch = "kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    \
        node-labels: a=b\n    provider-id: null\n";
    let c = cluster_with_cluster_patches(&[map_patch], vec![]);
    let d = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    assert_eq!(
        doc(&d, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"],
        json!({ "node-ip": "172.18.0.2", "node-labels": "a=b" })
    );
}

#[test]
fn merge_patches_match_kind_and_optional_api_version() {
    let patches = [
        // Wrong apiVersion: ignored.
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: wrong\n",
        // Right apiVersion.
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  dnsDomain: k8s.test\n",
        // No apiVersion matches any; several documents in one patch.
        "kind: KubeletConfiguration\nmaxPods: 50\n---\nkind: KubeProxyConfiguration\nmode: ipvs\n",
        // Unknown kind: ignored.
        "kind: Nothing\nfoo: bar\n",
    ];
    let c = cluster_with_cluster_patches(&patches, vec![]);
    let d = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    let cc = doc(&d, "ClusterConfiguration");
    assert_eq!(cc["clusterName"], "kind");
    assert_eq!(cc["networking"]["dnsDomain"], "k8s.test");
    assert_eq!(doc(&d, "KubeletConfiguration")["maxPods"], 50);
    assert_eq!(doc(&d, "KubeProxyConfiguration")["mode"], "ipvs");
    assert!(d.iter().all(|d| d.get("foo").is_none()));
}

#[test]
fn json6902_matches_group_version_and_runs_after_merge_patches() {
    let op = |group: &str, version: &str, patch: &str| PatchJson6902 {
        group: group.into(),
        version: version.into(),
        kind: "KubeletConfiguration".into(),
        patch: patch.into(),
    };
    let c = cluster_with_cluster_patches(
        // The merge patch adds maxPods; the JSON patch listed before it still sees it.
        &["kind: KubeletConfiguration\nmaxPods: 50\n"],
        vec![
            op(
                "kubelet.config.k8s.io",
                "v1beta1",
                r#"[{"op": "replace", "path": "/maxPods", "value": 60}]"#,
            ),
            op(
                "kubelet.config.k8s.io",
                "v1",
                "- op: add\n  path: /ignored\n  value: 1\n",
            ),
            op("", "", "- op: add\n  path: /anyVersion\n  value: true\n"),
        ],
    );
    let d = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    let kubelet = doc(&d, "KubeletConfiguration");
    assert_eq!(kubelet["maxPods"], 60);
    assert!(kubelet.get("ignored").is_none());
    assert_eq!(kubelet["anyVersion"], true);
}

#[test]
fn node_level_patches_apply_after_cluster_level() {
    let mut c = cluster_with_cluster_patches(
        &["kind: KubeletConfiguration\nmaxPods: 50\nserializeImagePulls: false\n"],
        vec![PatchJson6902 {
            kind: "KubeletConfiguration".into(),
            patch: r#"[{"op": "add", "path": "/podsPerCore", "value": 4}]"#.into(),
            ..Default::default()
        }],
    );
    c.nodes[1].kubeadm_config_patches =
        vec!["kind: KubeletConfiguration\nmaxPods: 70\npodsPerCore: null\n".into()];
    let worker = docs(&render_node(&c, 1, "v1.35.1").unwrap());
    let kubelet = doc(&worker, "KubeletConfiguration");
    assert_eq!(kubelet["maxPods"], 70);
    assert_eq!(kubelet["serializeImagePulls"], false);
    assert!(
        kubelet.get("podsPerCore").is_none(),
        "node level removed it: {kubelet}"
    );
    // The control plane has no node patches.
    let cp = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    assert_eq!(doc(&cp, "KubeletConfiguration")["maxPods"], 50);
}

#[test]
fn patch_errors_name_level_and_index() {
    let c = cluster_with_cluster_patches(&["kind: KubeletConfiguration\n", "a: [1\n"], vec![]);
    let err = render_node(&c, 0, "v1.35.1").unwrap_err().to_string();
    assert!(
        err.starts_with("cluster-level kubeadmConfigPatches[1] is invalid"),
        "{err}"
    );

    let c = cluster_with_cluster_patches(&["- just\n- a list\n"], vec![]);
    let err = render_node(&c, 0, "v1.35.1").unwrap_err().to_string();
    assert!(
        err.contains("kubeadmConfigPatches[0]") && err.contains("not a YAML mapping"),
        "{err}"
    );

    let mut c = cluster("ipv4");
    c.nodes[1].kubeadm_config_patches_json6902 = vec![
        PatchJson6902 {
            kind: "JoinConfiguration".into(),
            patch: "[]".into(),
            ..Default::default()
        },
        PatchJson6902 {
            kind: "JoinConfiguration".into(),
            patch: r#"[{"op": "remove", "path": "/no/such/field"}]"#.into(),
            ..Default::default()
        },
    ];
    let err = render_node(&c, 1, "v1.35.1").unwrap_err().to_string();
    assert!(
        err.starts_with(
            "failed to apply node-level (node kind-worker) kubeadmConfigPatchesJSON6902[1] to JoinConfiguration"
        ),
        "{err}"
    );

    c.nodes[1].kubeadm_config_patches_json6902[1].patch = "{not: a list}".into();
    let err = render_node(&c, 1, "v1.35.1").unwrap_err().to_string();
    assert!(
        err.starts_with("node-level (node kind-worker) kubeadmConfigPatchesJSON6902[1] is invalid"),
        "{err}"
    );
}

#[test]
fn user_extended_metadata_is_kept_like_kind() {
    let c = cluster_with_cluster_patches(
        &["kind: KubeletConfiguration\nmetadata:\n  labels:\n    a: b\n"],
        vec![],
    );
    let d = docs(&render_node(&c, 0, "v1.35.1").unwrap());
    assert_eq!(
        doc(&d, "KubeletConfiguration")["metadata"],
        json!({ "name": "config", "labels": { "a": "b" } })
    );
    assert!(doc(&d, "ClusterConfiguration").get("metadata").is_none());
}

// ---------------------------------------------------------------------------------------
// cert_inputs

const ADDRESSES: NodeAddresses = NodeAddresses {
    ipv4: Some(CP_V4),
    ipv6: Some(CP_V6),
};

/// The certificate inputs of a node whose cluster settings come from `bootstrap`.
fn inputs_from(
    bootstrap: &str,
    rendered: &str,
    v: &str,
    command: KubeadmCommand,
    addresses: NodeAddresses,
) -> Result<crate::pki::NodeCertInputs, KubeadmError> {
    let kv = version(v);
    let cluster = cluster_cert_config(bootstrap, "kind-control-plane", &kv)?;
    let name = if rendered.contains("kind://docker/kind/kind-control-plane2") {
        "kind-control-plane2"
    } else {
        "kind-control-plane"
    };
    cert_inputs(&cluster, rendered, name, &kv, command, addresses)
}

/// `inputs_from` for the bootstrap node itself.
fn init_inputs(rendered: &str, v: &str) -> Result<crate::pki::NodeCertInputs, KubeadmError> {
    inputs_from(rendered, rendered, v, KubeadmCommand::Init, ADDRESSES)
}

#[test]
fn cert_inputs_follow_patched_sans_and_dns_domain() {
    let c = cluster_with_cluster_patches(
        &[
            "kind: ClusterConfiguration\napiServer:\n  certSANs: [api.kind.test, 10.0.0.9]\n\
           networking:\n  dnsDomain: k8s.test\netcd:\n  local:\n    serverCertSANs: [etcd.test]\n",
        ],
        vec![],
    );
    for v in ["v1.35.1", "v1.36.1"] {
        let kv = version(v);
        let rendered = render_node(&c, 0, v).unwrap();
        let got = init_inputs(&rendered, v).unwrap();
        assert_eq!(got.node_name, "kind-control-plane");
        assert_eq!(got.advertise_address, std::net::IpAddr::V4(CP_V4));
        assert_eq!(got.bind_port, 6443);
        assert_eq!(got.cluster_name, "kind");
        assert_eq!(got.control_plane_endpoint, "kind-control-plane:6443");
        assert_eq!(got.service_subnet, "10.96.0.0/16");
        assert_eq!(got.dns_domain, "k8s.test");
        assert_eq!(
            got.cert_sans,
            ["localhost", "127.0.0.1", "api.kind.test", "10.0.0.9"]
        );
        assert_eq!(got.etcd_server_cert_sans, ["etcd.test"]);
        assert!(got.etcd_peer_cert_sans.is_empty());
        assert_eq!(got.certificates_dir, "");
        assert_eq!(got.kubelet_local_mode, None);
        assert_eq!(got.kubernetes_version, kv);
    }
}

#[test]
fn cert_inputs_defaults_and_node_name_override() {
    let rendered = render_node(&cluster("ipv4"), 0, "v1.35.1").unwrap();
    let got = init_inputs(&rendered, "v1.35.1").unwrap();
    assert_eq!(got.dns_domain, "cluster.local");
    assert!(got.etcd_server_cert_sans.is_empty());

    let mut c = cluster("ipv4");
    c.nodes[0].kubeadm_config_patches = vec![
        "kind: JoinConfiguration\nnodeRegistration:\n  name: ' Custom '\ncontrolPlane:\n  \
         localAPIEndpoint:\n    advertiseAddress: 10.1.2.3\n    bindPort: 7443\n"
            .into(),
    ];
    let rendered = render_node(&c, 0, "v1.35.1").unwrap();
    let join = inputs_from(
        &rendered,
        &rendered,
        "v1.35.1",
        KubeadmCommand::Join,
        ADDRESSES,
    )
    .unwrap();
    // kubeadm trims and lowercases node names (component-helpers GetHostname).
    assert_eq!(join.node_name, "custom");
    assert_eq!(join.advertise_address.to_string(), "10.1.2.3");
    assert_eq!(join.bind_port, 7443);
    let init = init_inputs(&rendered, "v1.35.1").unwrap();
    assert_eq!(init.node_name, "kind-control-plane");
    assert_eq!(init.bind_port, 6443);

    let worker = render_node(&cluster("ipv4"), 1, "v1.35.1").unwrap();
    let err = inputs_from(
        &rendered,
        &worker,
        "v1.35.1",
        KubeadmCommand::Join,
        ADDRESSES,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no controlPlane section"), "{err}");
}

/// A cluster of two control planes whose second one (the joiner) has node-level patches that
/// change cluster-wide settings, which kubeadm join ignores.
fn two_control_planes_with_joiner_patches() -> Cluster {
    let mut c = cluster("ipv4");
    c.nodes[1].role = "control-plane".into();
    c.kubeadm_config_patches =
        vec!["kind: ClusterConfiguration\napiServer:\n  certSANs: [cluster.example]\n".into()];
    c.nodes[1].kubeadm_config_patches = vec![
        "kind: ClusterConfiguration\napiServer:\n  certSANs: [joiner-only.example]\n\
         networking:\n  dnsDomain: joiner.local\n  serviceSubnet: 10.200.0.0/16\n\
         etcd:\n  local:\n    serverCertSANs: [etcd-joiner.example]\n\
         certificatesDir: /joiner/pki\n\
         controlPlaneEndpoint: joiner-lb:7443\n"
            .into(),
    ];
    c
}

fn render_joiner(c: &Cluster, v: &str) -> String {
    let kv = version(v);
    render(&RenderInput {
        cluster: c,
        node: &c.nodes[1],
        node_name: "kind-control-plane2",
        role: NodeRole::ControlPlane,
        kubernetes_version: &kv,
        node_ipv4: Some(WORKER_V4),
        node_ipv6: None,
        control_plane_endpoint: "kind-external-load-balancer:6443",
        bootstrap_token: TOKEN,
        ca_cert_hash: CA_HASH,
        rootless: false,
    })
    .unwrap()
}

#[test]
fn joiners_take_cluster_settings_from_the_bootstrap_node_not_their_own_patches() {
    let c = two_control_planes_with_joiner_patches();
    let v = "v1.36.1";
    let bootstrap = render_node(&c, 0, v).unwrap();
    let joiner = render_joiner(&c, v);
    // The joiner's own file does carry its patches (kind renders them)...
    let own = docs(&joiner);
    assert_eq!(
        doc(&own, "ClusterConfiguration")["networking"]["dnsDomain"],
        "joiner.local"
    );
    // ...but its certificates follow the ClusterConfiguration kubeadm init uploaded.
    let addresses = NodeAddresses {
        ipv4: Some(WORKER_V4),
        ipv6: None,
    };
    let got = inputs_from(&bootstrap, &joiner, v, KubeadmCommand::Join, addresses).unwrap();
    let init = init_inputs(&bootstrap, v).unwrap();
    assert_eq!(got.cert_sans, init.cert_sans);
    assert!(got.cert_sans.contains(&"cluster.example".to_string()));
    assert!(!got.cert_sans.contains(&"joiner-only.example".to_string()));
    assert_eq!(got.dns_domain, "cluster.local");
    assert_eq!(got.service_subnet, init.service_subnet);
    assert!(got.etcd_server_cert_sans.is_empty());
    assert_eq!(got.certificates_dir, "");
    assert_eq!(got.control_plane_endpoint, "kind-control-plane:6443");
    // The node's own part still comes from its JoinConfiguration.
    assert_eq!(got.node_name, "kind-control-plane2");
    assert_eq!(got.advertise_address, std::net::IpAddr::V4(WORKER_V4));
}

#[test]
fn advertise_address_gets_kubeadms_dynamic_defaults() {
    let patched = |address: &str| {
        let mut c = cluster("ipv4");
        c.nodes[0].kubeadm_config_patches = vec![format!(
            "kind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: {address:?}\n"
        )];
        render_node(&c, 0, "v1.36.1").unwrap()
    };
    let v4_only = NodeAddresses {
        ipv4: Some(CP_V4),
        ipv6: None,
    };
    let resolve = |address: &str, addresses: NodeAddresses| {
        let rendered = patched(address);
        inputs_from(
            &rendered,
            &rendered,
            "v1.36.1",
            KubeadmCommand::Init,
            addresses,
        )
        .map(|i| i.advertise_address.to_string())
    };
    // Empty and 0.0.0.0: the default route's address, IPv4 first.
    assert_eq!(resolve("", ADDRESSES).unwrap(), CP_V4.to_string());
    assert_eq!(resolve("0.0.0.0", ADDRESSES).unwrap(), CP_V4.to_string());
    // "::" prefers IPv6, falling back to IPv4.
    assert_eq!(resolve("::", ADDRESSES).unwrap(), CP_V6.to_string());
    assert_eq!(resolve("::", v4_only).unwrap(), CP_V4.to_string());
    // An IPv4-mapped address is the IPv4 address, as in Go.
    assert_eq!(resolve("::ffff:10.1.2.3", ADDRESSES).unwrap(), "10.1.2.3");
    assert_eq!(resolve("10.9.8.7", ADDRESSES).unwrap(), "10.9.8.7");
    // Loopback makes kubeadm look on the loopback interface, which has no global address.
    for loopback in ["127.0.0.1", "::1", "127.1.2.3"] {
        let err = resolve(loopback, ADDRESSES).unwrap_err().to_string();
        assert!(
            err.contains("loopback") && err.contains("advertiseAddress"),
            "{err}"
        );
    }
    let err = resolve("node.example", ADDRESSES).unwrap_err().to_string();
    assert!(
        err.contains("node.example") && err.contains("not an IPv4 or IPv6"),
        "{err}"
    );
    let none = NodeAddresses::default();
    let err = resolve("", none).unwrap_err().to_string();
    assert!(err.contains("no address"), "{err}");

    // A joiner's controlPlane.localAPIEndpoint gets the same defaults.
    let mut c = cluster("ipv4");
    c.nodes[0].kubeadm_config_patches = vec![
        "kind: JoinConfiguration\ncontrolPlane:\n  localAPIEndpoint:\n    advertiseAddress: ''\n"
            .into(),
    ];
    let rendered = render_node(&c, 0, "v1.36.1").unwrap();
    let join = inputs_from(
        &rendered,
        &rendered,
        "v1.36.1",
        KubeadmCommand::Join,
        ADDRESSES,
    )
    .unwrap();
    assert_eq!(join.advertise_address, std::net::IpAddr::V4(CP_V4));
}

#[test]
fn control_plane_endpoint_without_port_gets_the_bootstrap_bind_port() {
    let c = cluster_with_cluster_patches(
        &[
            "kind: ClusterConfiguration\ncontrolPlaneEndpoint: lb.example\n---\n\
             kind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: 7443\n",
        ],
        vec![],
    );
    let bootstrap = render_node(&c, 0, "v1.36.1").unwrap();
    let joiner = render_joiner(&c, "v1.36.1");
    let got = inputs_from(
        &bootstrap,
        &joiner,
        "v1.36.1",
        KubeadmCommand::Join,
        ADDRESSES,
    )
    .unwrap();
    assert_eq!(got.control_plane_endpoint, "lb.example:7443");
    assert_eq!(got.bind_port, 6443, "the joiner keeps its own bind port");
}

#[test]
fn certificates_dir_and_kubelet_local_mode_come_from_the_cluster() {
    let c = cluster_with_cluster_patches(
        &[
            "kind: ClusterConfiguration\ncertificatesDir: /etc/kubernetes/custom-pki\n\
             featureGates:\n  ControlPlaneKubeletLocalMode: false\n",
        ],
        vec![],
    );
    let rendered = render_node(&c, 0, "v1.35.1").unwrap();
    let got = init_inputs(&rendered, "v1.35.1").unwrap();
    assert_eq!(got.certificates_dir, "/etc/kubernetes/custom-pki");
    assert_eq!(got.kubelet_local_mode, Some(false));
}

fn pki_of(patch: &str, v: &str) -> Result<ClusterCertConfig, KubeadmError> {
    let c = cluster_with_cluster_patches(&[patch], vec![]);
    let rendered = render_node(&c, 0, v).unwrap();
    cluster_cert_config(&rendered, "kind-control-plane", &version(v))
}

#[test]
fn v1beta4_key_and_lifetime_settings_are_read() {
    use crate::pki::{KeyAlgorithm, PkiOverrides};
    let patch = "kind: ClusterConfiguration\nencryptionAlgorithm: ECDSA-P384\n\
                 caCertificateValidityPeriod: 1000h\ncertificateValidityPeriod: 48h30m\n";
    let got = pki_of(patch, "v1.36.1").unwrap();
    assert_eq!(
        got.pki,
        PkiOverrides {
            algorithm: Some(KeyAlgorithm::EcdsaP384),
            ca_validity: Some(time::Duration::hours(1000)),
            leaf_validity: Some(time::Duration::minutes(48 * 60 + 30)),
        }
    );
    assert!(got.ignored.is_empty());
    for (alg, name) in KeyAlgorithm::ALL.map(|a| (a, a.kubeadm_name())) {
        let got = pki_of(
            &format!("kind: ClusterConfiguration\nencryptionAlgorithm: {name}\n"),
            "v1.36.1",
        )
        .unwrap();
        assert_eq!(got.pki.algorithm, Some(alg));
    }
    // Nothing set: kindling keeps its own choices.
    let got = pki_of("kind: ClusterConfiguration\n", "v1.36.1").unwrap();
    assert_eq!(got.pki, PkiOverrides::default());
}

#[test]
fn v1beta4_settings_in_an_older_document_are_reported_as_ignored() {
    let patch = "kind: ClusterConfiguration\nencryptionAlgorithm: RSA-4096\n\
                 certificateValidityPeriod: 48h\n";
    let got = pki_of(patch, "v1.35.1").unwrap();
    assert_eq!(got.pki, crate::pki::PkiOverrides::default());
    assert_eq!(got.ignored.len(), 2, "{:?}", got.ignored);
    assert!(got.ignored[0].contains("encryptionAlgorithm"));
    assert!(got.ignored[0].contains("kubeadm.k8s.io/v1beta3"));
    assert!(got.ignored[1].contains("certificateValidityPeriod"));
}

#[test]
fn public_keys_ecdsa_gate_decides_the_algorithm_like_kubeadm() {
    use crate::pki::KeyAlgorithm;
    let gate = |value: &str, v: &str| {
        pki_of(
            &format!(
                "kind: ClusterConfiguration\nencryptionAlgorithm: RSA-3072\n\
                 featureGates:\n  PublicKeysECDSA: {value}\n"
            ),
            v,
        )
        .unwrap()
        .pki
        .algorithm
    };
    // The gate wins over encryptionAlgorithm (ClusterConfiguration.EncryptionAlgorithmType).
    assert_eq!(gate("true", "v1.36.1"), Some(KeyAlgorithm::EcdsaP256));
    assert_eq!(gate("false", "v1.36.1"), Some(KeyAlgorithm::Rsa2048));
    assert_eq!(gate("false", "v1.30.4"), Some(KeyAlgorithm::Rsa2048));
}

#[test]
fn bad_key_and_lifetime_settings_are_rejected_naming_the_field() {
    for (patch, v, want) in [
        ("encryptionAlgorithm: ECDSA-P521", "v1.36.1", "RSA-2048"),
        ("encryptionAlgorithm: rsa-2048", "v1.36.1", "ECDSA-P256"),
        (
            "certificateValidityPeriod: 0s",
            "v1.36.1",
            "longer than zero",
        ),
        (
            "caCertificateValidityPeriod: 10y",
            "v1.36.1",
            "caCertificateValidityPeriod",
        ),
        (
            "certificateValidityPeriod: -1h",
            "v1.36.1",
            "certificateValidityPeriod",
        ),
        (
            "certificateValidityPeriod: 3600",
            "v1.36.1",
            "must be a string",
        ),
    ] {
        let err = pki_of(&format!("kind: ClusterConfiguration\n{patch}\n"), v)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{patch}: {err}");
        assert!(err.contains("kind-control-plane"), "{patch}: {err}");
    }
}

// ---------------------------------------------------------------------------------------
// Commands

#[test]
fn init_and_join_commands() {
    let v = version("v1.36.1");
    assert_eq!(
        init_command(&v),
        [
            "kubeadm",
            "init",
            "--config=/kind/kubeadm.conf",
            "--skip-token-print",
            "--v=6"
        ]
    );
    assert_eq!(
        join_command(&v),
        ["kubeadm", "join", "--config", "/kind/kubeadm.conf", "--v=6"]
    );
}

#[test]
fn untaint_commands_by_version() {
    let taints = |v: &str| -> Vec<String> {
        let cmds = untaint_commands(&version(v));
        assert_eq!(cmds.len(), 2);
        assert_eq!(
            cmds[1],
            [
                "kubectl",
                "--kubeconfig=/etc/kubernetes/admin.conf",
                "label",
                "nodes",
                "--all",
                "node.kubernetes.io/exclude-from-external-load-balancers-"
            ]
        );
        assert_eq!(
            cmds[0][..5],
            [
                "kubectl",
                "--kubeconfig=/etc/kubernetes/admin.conf",
                "taint",
                "nodes",
                "--all"
            ]
        );
        cmds[0][5..].to_vec()
    };
    let master = ["node-role.kubernetes.io/master-"];
    let both = [
        "node-role.kubernetes.io/control-plane-",
        "node-role.kubernetes.io/master-",
    ];
    let cp = ["node-role.kubernetes.io/control-plane-"];
    assert_eq!(taints("v1.23.17"), master);
    assert_eq!(taints("v1.24.0-alpha.1.591"), master);
    assert_eq!(taints("v1.24.0-alpha.1.592"), both);
    assert_eq!(taints("v1.24.17"), both);
    assert_eq!(taints("v1.25.0-alpha.0.556"), both);
    assert_eq!(taints("v1.25.0-alpha.0.557"), cp);
    assert_eq!(taints("v1.25.0"), cp);
    assert_eq!(taints("v1.36.1"), cp);
}

#[test]
fn ready_command_selector_by_version() {
    let selector = |v: &str| ready_command(&version(v))[4].clone();
    assert_eq!(
        selector("v1.23.17"),
        "--selector=node-role.kubernetes.io/master"
    );
    assert_eq!(
        selector("v1.24.0-alpha.1.590"),
        "--selector=node-role.kubernetes.io/master"
    );
    assert_eq!(
        selector("v1.24.0-alpha.1.591"),
        "--selector=node-role.kubernetes.io/control-plane"
    );
    let cmd = ready_command(&version("v1.36.1"));
    assert_eq!(
        cmd,
        [
            "kubectl",
            "--kubeconfig=/etc/kubernetes/admin.conf",
            "get",
            "nodes",
            "--selector=node-role.kubernetes.io/control-plane",
            "-o=jsonpath='{.items..status.conditions[-1:].status}'"
        ]
    );
}

#[test]
fn ready_output_needs_every_token_true() {
    assert!(is_ready_output("'True'"));
    assert!(is_ready_output("'True True True'\n"));
    assert!(!is_ready_output("'True False True'"));
    assert!(!is_ready_output("'Unknown'"));
    assert!(!is_ready_output("''"));
    assert!(!is_ready_output(""));
    assert!(!is_ready_output("  \n"));
}

// ---------------------------------------------------------------------------------------
// What kubeadm reads is what kindling meant: every rendered value reads back the same under
// go-yaml v2 (kubeadm), go-yaml v3 and YAML 1.2, including strings YAML 1.1 would misread.

#[test]
fn every_rendered_value_reads_back_the_same_for_every_reader() {
    let awkward = [
        "on",
        "y",
        "N",
        "off",
        "~",
        "null",
        "1_000",
        "0x1F",
        "017",
        "1:20",
        ".inf",
        "1e3",
        "2001-12-14",
        "<<",
        "=",
        " lead",
        "",
        "two\nlines",
    ];
    let mut special = with_patches(cluster("dual"));
    special.feature_gates = [("On".to_string(), true), ("Y".to_string(), false)].into();
    special.runtime_config = [("api/alpha".to_string(), "on".to_string())].into();
    special.nodes[0].labels = [("y".to_string(), "off".to_string())].into();
    let list = awkward
        .iter()
        .map(|s| serde_json::to_string(s).unwrap())
        .collect::<Vec<_>>()
        .join(", ");
    special.kubeadm_config_patches.push(format!(
        "kind: KubeletConfiguration\nclusterDomain: \"on\"\nstaticPodPath: \"0x1F\"\nkindlingTest: [{list}]\n"
    ));
    for v in ["1.29.14", "1.31.0", "1.35.0", "1.36.0"] {
        for c in [
            cluster("ipv4"),
            cluster("ipv6"),
            with_patches(cluster("ipv4")),
            special.clone(),
        ] {
            for index in [0, 1] {
                let rendered = render_node(&c, index, v).unwrap();
                crate::yaml::tests::read_back_everywhere(&rendered);
            }
        }
        let rendered = render_node(&special, 0, v).unwrap();
        let docs = crate::yaml::tests::read_back_everywhere(&rendered);
        let kubelet = doc(&docs, "KubeletConfiguration");
        assert_eq!(kubelet["clusterDomain"], "on", "{rendered}");
        assert_eq!(kubelet["staticPodPath"], "0x1F");
        assert_eq!(kubelet["kindlingTest"], serde_json::json!(awkward));
        assert_eq!(kubelet["featureGates"]["On"], true);
        let mut strings = Vec::new();
        crate::yaml::tests::strings_in(&serde_json::json!(docs), &mut strings);
        assert!(
            strings.iter().any(|s| s.contains("api/alpha=on")),
            "{rendered}"
        );
    }
}

/// kind reads RFC 6902 patches with sigs.k8s.io/yaml (YAML 1.1): `value: on` is the boolean.
#[test]
fn json6902_patch_values_are_read_as_kind_reads_them() {
    let mut c = cluster("ipv4");
    c.kubeadm_config_patches_json6902 = vec![PatchJson6902 {
        group: "kubelet.config.k8s.io".into(),
        version: "v1beta1".into(),
        kind: "KubeletConfiguration".into(),
        patch: "- op: replace\n  path: /failSwapOn\n  value: on\n- op: add\n  path: /maxPods\n  value: 0x10\n".into(),
    }];
    let docs = docs(&render_node(&c, 0, "1.36.0").unwrap());
    let kubelet = doc(&docs, "KubeletConfiguration");
    assert_eq!(kubelet["failSwapOn"], true);
    assert_eq!(kubelet["maxPods"], 16);
}

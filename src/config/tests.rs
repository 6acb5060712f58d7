//! Decoding, defaulting and validation of whole config files (fixtures in tests/fixtures/config).

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/config/",
            $name
        ))
    };
}

/// The create flow's steps: decode, default, validate; panics with the errors if any step fails.
fn load(text: &str) -> Cluster {
    let mut cluster = parse(text).unwrap_or_else(|e| panic!("parse failed: {e}"));
    cluster.apply_defaults();
    if let Err(e) = cluster.validate() {
        panic!("validation failed:\n{e}");
    }
    cluster
}

/// Messages of a config that decodes but does not validate.
fn validation_errors(text: &str) -> Vec<String> {
    let mut cluster = parse(text).unwrap_or_else(|e| panic!("parse failed: {e}"));
    cluster.apply_defaults();
    cluster.validate().expect_err("config should be invalid").0
}

// ---- valid configs -----------------------------------------------------------------------

#[test]
fn minimal_config_is_kinds_default() {
    let raw = parse(fixture!("valid-minimal.yaml")).unwrap();
    // parse keeps what was written: no defaults yet.
    assert!(raw.name.is_empty() && raw.nodes.is_empty());
    assert_eq!(raw.networking, Networking::default());

    let cluster = load(fixture!("valid-minimal.yaml"));
    assert_eq!(cluster, default_config());
    assert_eq!(cluster.name, "kind");
    assert_eq!(cluster.nodes.len(), 1);
    assert_eq!(cluster.nodes[0].role, "control-plane");
    assert_eq!(cluster.nodes[0].image, DEFAULT_NODE_IMAGE);
    let net = &cluster.networking;
    assert_eq!(net.ip_family, "ipv4");
    assert_eq!(net.api_server_address, "127.0.0.1");
    assert_eq!(net.api_server_port, 0);
    assert_eq!(net.pod_subnet, "10.244.0.0/16");
    assert_eq!(net.service_subnet, "10.96.0.0/16");
    assert_eq!(net.kube_proxy_mode, "iptables");
    assert!(!net.disable_default_cni);
    assert_eq!(net.dns_search, None);
}

#[test]
fn default_config_is_a_valid_document() {
    let cluster = default_config();
    cluster.validate().unwrap();
    // Written out and read back, it is the same config.
    let text = crate::yaml::to_string(&cluster).unwrap();
    assert_eq!(parse(&text).unwrap(), cluster);
}

#[test]
fn two_nodes() {
    let cluster = load(fixture!("valid-two-nodes.yaml"));
    assert_eq!(cluster.name, "dev");
    let roles: Vec<_> = cluster.nodes.iter().map(|n| n.role.as_str()).collect();
    assert_eq!(roles, ["control-plane", "worker"]);
    assert!(cluster.nodes.iter().all(|n| n.image == DEFAULT_NODE_IMAGE));
    assert!(!cluster.needs_load_balancer());
}

#[test]
fn full_ha() {
    let cluster = load(fixture!("valid-ha.yaml"));
    assert_eq!(cluster.name, "ha-test");
    assert_eq!(cluster.nodes.len(), 6);
    assert_eq!(cluster.control_plane_count(), 3);
    assert!(cluster.needs_load_balancer());
    assert!(
        cluster
            .nodes
            .iter()
            .all(|n| n.image == "kindest/node:v1.35.0")
    );
}

#[test]
fn patches_at_cluster_and_node_level() {
    let cluster = load(fixture!("valid-patches.yaml"));
    assert_eq!(cluster.kubeadm_config_patches.len(), 2);
    // Patch strings are kept verbatim: the second holds two YAML documents.
    let docs = crate::yaml::documents(&cluster.kubeadm_config_patches[1]).unwrap();
    let kinds: Vec<_> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["KubeletConfiguration", "KubeProxyConfiguration"]);
    assert_eq!(docs[0]["maxPods"], 150);

    let json6902 = &cluster.kubeadm_config_patches_json6902;
    assert_eq!(json6902.len(), 1);
    assert_eq!(json6902[0].group, "kubeadm.k8s.io");
    assert_eq!(json6902[0].version, "v1beta4");
    assert_eq!(json6902[0].kind, "ClusterConfiguration");
    let ops = crate::yaml::documents(&json6902[0].patch).unwrap();
    assert_eq!(ops[0][0]["op"], "add");
    assert_eq!(ops[0][0]["value"], "api.dev.example.com");

    let control_plane = &cluster.nodes[0];
    assert_eq!(control_plane.kubeadm_config_patches.len(), 1);
    assert!(control_plane.kubeadm_config_patches[0].contains("node-labels: \"zone=a\""));
    let worker = &cluster.nodes[1];
    assert!(worker.kubeadm_config_patches[0].starts_with("kind: JoinConfiguration\n"));
    assert_eq!(worker.kubeadm_config_patches_json6902.len(), 1);
    let patch: serde_json::Value =
        serde_json::from_str(&worker.kubeadm_config_patches_json6902[0].patch).unwrap();
    assert_eq!(patch[0]["path"], "/nodeRegistration/taints");
}

#[test]
fn ingress_config() {
    let cluster = load(fixture!("valid-ingress.yaml"));
    let node = &cluster.nodes[0];
    assert!(node.kubeadm_config_patches[0].contains("ingress-ready=true"));
    let published: Vec<_> = node
        .extra_port_mappings
        .iter()
        .map(|m| (m.container_port, m.host_port, m.protocol.as_str()))
        .collect();
    assert_eq!(published, [(80, 80, "TCP"), (443, 443, "TCP")]);
}

#[test]
fn port_mappings_and_mounts() {
    let cluster = load(fixture!("valid-ports-and-mounts.yaml"));
    let cp = &cluster.nodes[0];

    let mounts = &cp.extra_mounts;
    assert_eq!(mounts.len(), 3);
    // Relative host paths are made absolute by the Docker plan, not here.
    assert_eq!(mounts[0].host_path, "./manifests");
    assert_eq!(mounts[0].container_path, "/manifests");
    assert!(!mounts[0].read_only && !mounts[0].selinux_relabel);
    assert_eq!(mounts[0].propagation, "");
    assert!(mounts[1].read_only);
    assert_eq!(mounts[1].propagation, "HostToContainer");
    assert_eq!(mounts[2].propagation, "Bidirectional");

    let ports = &cp.extra_port_mappings;
    assert_eq!(ports.len(), 8);
    assert_eq!(ports[0].listen_address, "127.0.0.1");
    // Protocols are upper-cased while decoding; unset stays unset (TCP is a run-time default).
    assert_eq!(ports[0].protocol, "");
    assert_eq!(ports[2].protocol, "UDP");
    assert_eq!(ports[3].protocol, "SCTP");
    assert_eq!((ports[4].host_port, ports[6].host_port), (0, -1));

    let worker = &cluster.nodes[1];
    assert_eq!(worker.labels["tier"], "frontend");
    assert_eq!(worker.labels["ingress-ready"], "true");
    assert_eq!(worker.extra_mounts[0].propagation, "None");
    assert_eq!(worker.extra_port_mappings[0].listen_address, "::1");
}

#[test]
fn dual_stack_defaults() {
    let cluster = load(fixture!("valid-dual-stack.yaml"));
    let net = &cluster.networking;
    assert_eq!(net.ip_family, "dual");
    // dual keeps the IPv4 loopback for the API server.
    assert_eq!(net.api_server_address, "127.0.0.1");
    assert_eq!(net.pod_subnet, "10.244.0.0/16,fd00:10:244::/56");
    assert_eq!(net.service_subnet, "10.96.0.0/16,fd00:10:96::/112");
    assert!(cluster.has_ipv6());
}

#[test]
fn ipv6_defaults() {
    let cluster = load(fixture!("valid-ipv6.yaml"));
    let net = &cluster.networking;
    assert_eq!(net.api_server_address, "::1");
    assert_eq!(net.pod_subnet, "fd00:10:244::/56");
    assert_eq!(net.service_subnet, "fd00:10:96::/112");
    assert_eq!(net.kube_proxy_mode, "iptables");
    assert!(cluster.has_ipv6());
}

#[test]
fn every_field_decodes_and_round_trips() {
    let cluster = load(fixture!("valid-all-fields.yaml"));
    assert!(cluster.feature_gates["InPlacePodVerticalScaling"]);
    assert!(!cluster.feature_gates["UserNamespacesSupport"]);
    assert_eq!(cluster.runtime_config["api/alpha"], "false");
    let net = &cluster.networking;
    assert_eq!(net.api_server_address, "0.0.0.0");
    assert_eq!(net.api_server_port, 6443);
    assert_eq!(net.pod_subnet, "10.100.0.0/16,fd00:100::/56");
    assert!(net.disable_default_cni);
    assert_eq!(net.kube_proxy_mode, "ipvs");
    assert_eq!(net.dns_search, Some(vec!["corp.example.com".to_string()]));
    assert!(cluster.containerd_config_patches[0].contains("config_path"));
    assert!(cluster.containerd_config_patches_json6902[0].contains("snapshotter"));
    assert_eq!(cluster.kubeadm_config_patches_json6902.len(), 1);
    let cp = &cluster.nodes[0];
    assert_eq!(cp.labels["disk"], "ssd");
    assert!(cp.extra_mounts[0].selinux_relabel);
    assert_eq!(
        cp.kubeadm_config_patches_json6902[0].kind,
        "InitConfiguration"
    );

    // Every key written back under the name kind uses, so the output decodes strictly again.
    let text = crate::yaml::to_string(&cluster).unwrap();
    assert_eq!(parse(&text).unwrap(), cluster);
}

#[test]
fn kinds_documented_examples_are_accepted() {
    let examples = [
        fixture!("valid-docs-example-config.yaml"),
        fixture!("valid-docs-mounts.yaml"),
        fixture!("valid-docs-port-mapping.yaml"),
        fixture!("valid-docs-networking.yaml"),
        fixture!("valid-docs-ipv6-loopback.yaml"),
        fixture!("valid-docs-gates-and-runtime-config.yaml"),
        fixture!("valid-docs-node-patches.yaml"),
        fixture!("valid-docs-auditing.yaml"),
        fixture!("valid-docs-local-registry.yaml"),
    ];
    for text in examples {
        load(text);
    }
    // A few values that show the documents were read as intended.
    let ipv6 = load(fixture!("valid-docs-ipv6-loopback.yaml"));
    assert_eq!(ipv6.networking.api_server_address, "127.0.0.1");
    assert_eq!(ipv6.networking.pod_subnet, "fd00:10:244::/56");
    let net = load(fixture!("valid-docs-networking.yaml")).networking;
    assert_eq!(
        (net.api_server_port, net.kube_proxy_mode.as_str()),
        (16443, "nftables")
    );
    let ports = load(fixture!("valid-docs-port-mapping.yaml"));
    assert_eq!(ports.nodes[0].extra_port_mappings[1].protocol, "UDP");
    let patched = load(fixture!("valid-docs-node-patches.yaml"));
    assert_eq!(patched.control_plane_count(), 2);
    let example = load(fixture!("valid-docs-example-config.yaml"));
    assert_eq!(example.nodes.len(), 4);
}

// ---- decode errors ------------------------------------------------------------------------

#[test]
fn bogus_field_names_the_field_and_its_position() {
    let err = parse(fixture!("invalid-bogus-field.yaml")).unwrap_err();
    assert!(matches!(err, ConfigError::Decode(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("unable to decode config: "), "{msg}");
    assert!(
        msg.contains(
            r#"nodes[0]: unknown field "extraPortMapping"; did you mean "extraPortMappings"?"#
        ),
        "{msg}"
    );
    // The typo is the key on line 5, indented by two spaces.
    assert_eq!(err.location(), Some((5, 3)));
    assert!(msg.contains("line 5, column 3"), "{msg}");
}

#[test]
fn bad_indentation_has_line_and_column() {
    let err = parse(fixture!("invalid-bad-indentation.yaml")).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax(_)), "{err:?}");
    // `image:` is indented one column past `role:`; the parser stops at its colon.
    assert_eq!(err.location(), Some((5, 9)));
    let msg = err.to_string();
    assert!(
        msg.starts_with("could not determine kind / apiVersion for config: line 5, column 9: "),
        "{msg}"
    );
}

#[test]
fn wrong_api_version() {
    let err = parse(fixture!("invalid-wrong-api-version.yaml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown apiVersion: kind.x-k8s.io/v1alpha3"
    );
}

#[test]
fn wrong_kind() {
    let err = parse(fixture!("invalid-wrong-kind.yaml")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown kind ClusterConfiguration for apiVersion: kind.x-k8s.io/v1alpha4"
    );
}

#[test]
fn type_fields_are_checked_before_the_strict_decode() {
    // A bogus field in a config for another version reports the version, as kind does.
    let err = parse("apiVersion: kind.x-k8s.io/v1alpha3\nkind: Cluster\nbogus: 1\n").unwrap_err();
    assert_eq!(
        err,
        ConfigError::UnknownApiVersion("kind.x-k8s.io/v1alpha3".into())
    );
    let err = parse("kind: Cluster\nnodes: []\n").unwrap_err();
    assert_eq!(err, ConfigError::MissingApiVersion);
    assert!(
        err.to_string()
            .contains("apiVersion: kind.x-k8s.io/v1alpha4")
    );
    let err = parse("apiVersion: kind.x-k8s.io/v1alpha4\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown kind  for apiVersion: kind.x-k8s.io/v1alpha4"
    );
}

#[test]
fn empty_config_names_what_is_missing() {
    for text in [fixture!("invalid-empty.yaml"), "", "\n\n", "---\n"] {
        let err = parse(text).unwrap_err();
        assert_eq!(err, ConfigError::Empty, "{text:?}");
        assert!(err.to_string().contains("apiVersion"), "{err}");
    }
}

#[test]
fn a_document_that_is_not_a_mapping_is_a_syntax_error() {
    let err = parse("- kind: Cluster\n").unwrap_err();
    assert!(matches!(err, ConfigError::Syntax(_)), "{err:?}");
    assert_eq!(err.location(), Some((1, 1)));
}

#[test]
fn bad_protocol_is_a_decode_error_with_position() {
    let err = parse(fixture!("invalid-protocol.yaml")).unwrap_err();
    let msg = err.to_string();
    // The value is upper-cased before the check, as kind does.
    assert!(
        msg.contains(r#"Unknown PortMappingProtocol: "HTTP""#),
        "{msg}"
    );
    assert!(msg.starts_with("unable to decode config: "), "{msg}");
    assert_eq!(err.location().map(|l| l.0), Some(8));
}

#[test]
fn bad_propagation_is_a_decode_error_with_position() {
    let err = parse(fixture!("invalid-propagation.yaml")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(r#"Unknown MountPropagation: "rshared""#),
        "{msg}"
    );
    assert_eq!(err.location().map(|l| l.0), Some(8));
    // Propagation is case-sensitive (unlike protocols).
    let lower = fixture!("invalid-propagation.yaml").replace("rshared", "none");
    assert!(parse(&lower).is_err());
}

#[test]
fn wrong_value_type_has_position() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n  extraPortMappings:\n  - containerPort: eighty\n";
    let err = parse(text).unwrap_err();
    assert!(matches!(err, ConfigError::Decode(_)), "{err:?}");
    assert_eq!(err.location().map(|l| l.0), Some(6));
}

#[test]
fn null_and_empty_values_decode_as_unset() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: ~\nnetworking:\nfeatureGates:\nnodes:\n- role: null\n  image:\n  labels:\n  extraMounts:\n  - hostPath: /a\n    containerPath: /a\n    propagation: ~\n  extraPortMappings:\n  - containerPort: 80\n    protocol:\n";
    let cluster = load(text);
    // Null is unset (so defaulted), not the word "null" or "~".
    assert_eq!(cluster.name, "kind");
    assert_eq!(cluster.nodes[0].role, "control-plane");
    assert_eq!(cluster.nodes[0].image, DEFAULT_NODE_IMAGE);
    assert_eq!(cluster.nodes[0].extra_mounts[0].propagation, "");
    assert_eq!(cluster.nodes[0].extra_port_mappings[0].protocol, "");
}

#[test]
fn yaml_1_1_booleans_are_accepted_like_kinds_decoder() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nfeatureGates:\n  A: yes\n  B: off\n  C: True\nnetworking:\n  disableDefaultCNI: on\nnodes:\n- extraMounts:\n  - hostPath: /a\n    containerPath: /a\n    readOnly: Y\n";
    let cluster = load(text);
    let gates: Vec<_> = cluster.feature_gates.values().copied().collect();
    assert_eq!(gates, [true, false, true]);
    assert!(cluster.networking.disable_default_cni);
    assert!(cluster.nodes[0].extra_mounts[0].read_only);
    // Anything else is still a type error.
    let bad = text.replace("readOnly: Y", "readOnly: maybe");
    let err = parse(&bad).unwrap_err();
    assert_eq!(err.location().map(|l| l.0), Some(13), "{err}");
}

#[test]
fn only_the_first_document_is_read() {
    let base = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: first\n";
    for text in [
        format!("{base}---\n"),
        format!("---\n{base}"),
        format!("# leading comment\n--- # start\n{base}...\n"),
        format!("{base}---\nkind: Pod\napiVersion: v1\nbogus: true\n"),
        format!("%YAML 1.1\n---\n{base}--- \nanything: else\n"),
        format!("{base}---\n: [broken\n"),
    ] {
        assert_eq!(load(&text).name, "first", "{text}");
    }
    // A `---` indented inside a patch string is content, not a document marker.
    let cluster = load(fixture!("valid-patches.yaml"));
    assert!(cluster.kubeadm_config_patches[1].contains("\n---\n"));
    // Line numbers of errors in the first document are unchanged.
    let err = parse("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nbogus: 1\n---\nx: 1\n")
        .unwrap_err();
    assert_eq!(err.location(), Some((3, 1)));
    // An empty first document is empty, whatever follows.
    assert_eq!(
        parse(format!("---\n---\n{base}")).unwrap_err(),
        ConfigError::Empty
    );
}

// ---- YAML as kind's decoder reads it (go-yaml v3) ------------------------------------------

const HEAD: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";

#[test]
fn explicit_null_is_unset_at_every_level() {
    let text = format!(
        "{HEAD}name:\nfeatureGates: ~\nruntimeConfig: {{api/alpha: ~}}\nnetworking:\n  apiServerPort:\n  apiServerAddress: null\n  dnsSearch: ~\n  disableDefaultCNI: ~\nkubeadmConfigPatches: [~]\ncontainerdConfigPatches:\n- ~\n- 'x = 1'\nnodes:\n- ~\n- role: control-plane\n  image: ~\n  labels: ~\n  extraMounts: ~\n  extraPortMappings:\n  - ~\n  - containerPort: 80\n    hostPort: ~\n    listenAddress: ~\n    protocol: ~\n- null\n"
    );
    let raw = parse(&text).unwrap();
    // The null node is dropped (as kind drops it), so there is one node, not three.
    assert_eq!(raw.nodes.len(), 1);
    assert_eq!(raw.nodes[0].extra_port_mappings.len(), 1);
    let port = &raw.nodes[0].extra_port_mappings[0];
    assert_eq!((port.container_port, port.host_port), (80, 0));
    assert!(port.listen_address.is_empty() && port.protocol.is_empty());
    assert_eq!(raw.networking.api_server_port, 0);
    assert_eq!(raw.networking.dns_search, None);
    assert!(raw.kubeadm_config_patches.is_empty());
    assert_eq!(raw.containerd_config_patches, ["x = 1"]);
    assert_eq!(raw.runtime_config["api/alpha"], "");
    let cluster = load(&text);
    assert_eq!(cluster.name, "kind");
    assert_eq!(cluster.nodes[0].image, DEFAULT_NODE_IMAGE);
    assert_eq!(cluster.networking.api_server_address, "127.0.0.1");
    // dnsSearch: a list of nulls is an empty list (no search domains), not unset.
    let text = format!("{HEAD}networking:\n  dnsSearch: [~]\n");
    assert_eq!(load(&text).networking.dns_search, Some(vec![]));
    // Only null nodes: kind's single default node.
    let text = format!("{HEAD}nodes: [~]\n");
    assert_eq!(load(&text).nodes.len(), 1);
}

#[test]
fn duplicate_keys_are_errors_at_every_level() {
    for (text, line, col) in [
        (format!("{HEAD}name: a\nname: b\n"), 4, 1),
        (
            format!("{HEAD}featureGates:\n  A: true\n  B: true\n  A: false\n"),
            6,
            3,
        ),
        (
            format!("{HEAD}runtimeConfig:\n  api/all: 'true'\n  api/all: 'false'\n"),
            5,
            3,
        ),
        (
            format!(
                "{HEAD}nodes:\n- role: worker\n  labels:\n    tier: a\n    tier: b\n- role: control-plane\n"
            ),
            7,
            5,
        ),
        (
            format!("{HEAD}networking:\n  podSubnet: 10.0.0.0/16\n  podSubnet: 10.1.0.0/16\n"),
            5,
            3,
        ),
        (
            format!("{HEAD}nodes:\n- role: control-plane\n  role: worker\n"),
            5,
            3,
        ),
    ] {
        let err = parse(&text).unwrap_err();
        assert_eq!(err.location(), Some((line, col)), "{text}\n{err}");
        assert!(err.to_string().contains("already defined at line"), "{err}");
    }
    // At the top level it fails in the first pass, as kind's does.
    let err = parse(format!("{HEAD}name: a\nname: b\n")).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax(_)), "{err:?}");
    let err = parse(format!(
        "{HEAD}nodes:\n- role: control-plane\n  role: worker\n"
    ))
    .unwrap_err();
    assert!(matches!(err, ConfigError::Decode(_)), "{err:?}");
    assert!(
        err.to_string().contains("nodes[0]: mapping key \"role\""),
        "{err}"
    );
}

#[test]
fn encodings_kind_reads() {
    let text = format!("{HEAD}name: enc\nnodes:\n- role: control-plane\n");
    let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    assert_eq!(load_bytes(&bom).name, "enc");
    for little_endian in [true, false] {
        let mut bytes: Vec<u8> = if little_endian {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if little_endian {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        assert_eq!(load_bytes(&bytes).name, "enc");
    }
    // Old Mac line endings, with a second document that is not read.
    let cr = format!("{HEAD}name: cr\n---\nkind: Pod\n").replace('\n', "\r");
    assert_eq!(load(&cr).name, "cr");
    let err = parse(format!("{HEAD}bogus: 1\n").replace('\n', "\r")).unwrap_err();
    assert_eq!(err.location(), Some((3, 1)));
    // Bytes that are neither: a clear error with the position.
    let err = parse(b"kind: Cluster\nname: \xFF\n").unwrap_err();
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    assert_eq!(err.location(), Some((2, 7)));
}

fn load_bytes(bytes: &[u8]) -> Cluster {
    let mut cluster = parse(bytes).unwrap_or_else(|e| panic!("parse failed: {e}"));
    cluster.apply_defaults();
    cluster.validate().unwrap();
    cluster
}

#[test]
fn numbers_for_ports_as_kind_reads_them() {
    for (written, port) in [
        ("6443.0", 6443),
        ("6.443e3", 6443),
        ("014453", 6443),
        ("0x192b", 6443),
        ("0o14453", 6443),
        ("6_443", 6443),
        ("+6443", 6443),
        ("!!int \"6443\"", 6443),
    ] {
        let text = format!(
            "{HEAD}networking:\n  apiServerPort: {written}\nnodes:\n- extraPortMappings:\n  - containerPort: {written}\n    hostPort: {written}\n"
        );
        let cluster = load(&text);
        assert_eq!(cluster.networking.api_server_port, port, "{written}");
        let mapping = &cluster.nodes[0].extra_port_mappings[0];
        assert_eq!(
            (mapping.container_port, mapping.host_port),
            (port, port),
            "{written}"
        );
    }
    let err = parse(format!("{HEAD}networking:\n  apiServerPort: 6443.7\n")).unwrap_err();
    assert!(matches!(err, ConfigError::Decode(_)), "{err:?}");
    assert_eq!(err.location(), Some((4, 18)));
    let msg = err.to_string();
    assert!(
        msg.contains("networking.apiServerPort: 6443.7 is not a whole number"),
        "{msg}"
    );
    assert!(
        msg.contains("kind would silently truncate it to 6443"),
        "{msg}"
    );
    for bad in ["\"6443\"", "!!str 6443", "1:20", "3e9", ".inf", "six"] {
        let err = parse(format!("{HEAD}networking:\n  apiServerPort: {bad}\n")).unwrap_err();
        assert_eq!(err.location(), Some((4, 18)), "{bad}: {err}");
    }
}

#[test]
fn tags_and_merge_keys_as_kind_reads_them() {
    let text = format!(
        "{HEAD}name: !!binary a2luZC10YWdz\nnodes:\n- &cp\n  role: control-plane\n  labels: {{zone: a, disk: ssd}}\n  image: !!str my/node:1\n- <<: *cp\n  role: worker\n- role: !!null\n"
    );
    let cluster = load(&text);
    assert_eq!(cluster.name, "kind-tags");
    assert_eq!(cluster.nodes[1].role, "worker");
    assert_eq!(cluster.nodes[1].image, "my/node:1");
    assert_eq!(cluster.nodes[1].labels["zone"], "a");
    // `name: !!null` is unset, so defaulted.
    assert_eq!(cluster.nodes[2].role, "control-plane");
    let err = parse(format!("{HEAD}name: !!int abc\n")).unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot decode !!str `abc` as a !!int"),
        "{err}"
    );
}

#[test]
fn decode_messages_use_yaml_words_and_the_right_line() {
    for (text, line) in [
        (
            format!("{HEAD}networking:\n  apiServerPort:\n    a: 1\n"),
            5,
        ),
        (
            format!("{HEAD}nodes:\n- role: control-plane\n  extraMounts:\n  - readOnly: 2\n"),
            6,
        ),
        (format!("{HEAD}nodes: node\n"), 3),
        (format!("{HEAD}featureGates: [a]\n"), 3),
        (format!("{HEAD}featureGates:\n  A: maybe\n"), 4),
        (format!("{HEAD}networking:\n  dnsSearch: {{a: 1}}\n"), 4),
        (format!("{HEAD}name: [x]\n"), 3),
        (format!("{HEAD}nodes:\n- labels:\n    a: [1]\n"), 5),
    ] {
        let err = parse(&text).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.location().map(|l| l.0), Some(line), "{text}\n{msg}");
        for rust in [
            "unit value",
            "i32",
            "invalid type",
            "bool`",
            "map<",
            "sequence of",
        ] {
            assert!(!msg.contains(rust), "{msg}");
        }
        assert!(msg.contains("expected "), "{msg}");
    }
}

// ---- validation errors ---------------------------------------------------------------------

#[test]
fn bad_name() {
    assert_eq!(
        validation_errors(fixture!("invalid-bad-name.yaml")),
        ["'My_Cluster' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`"]
    );
}

#[test]
fn bad_role() {
    assert_eq!(
        validation_errors(fixture!("invalid-bad-role.yaml")),
        [r#"invalid configuration for node 1: "master" is not a valid node role"#]
    );
}

#[test]
fn no_control_plane() {
    assert_eq!(
        validation_errors(fixture!("invalid-no-control-plane.yaml")),
        ["must have at least one control-plane node"]
    );
}

#[test]
fn bad_subnets() {
    assert_eq!(
        validation_errors(fixture!("invalid-bad-subnets.yaml")),
        [
            r#"invalid pod subnet failed to parse cidr value:"10.244.0.0/33" with error: invalid CIDR address: 10.244.0.0/33"#,
            r#"invalid service subnet failed to parse cidr value:"10.96.0.0" with error: invalid CIDR address: 10.96.0.0"#,
        ]
    );
}

#[test]
fn single_stack_with_two_cidrs() {
    assert_eq!(
        validation_errors(fixture!("invalid-single-stack-two-cidrs.yaml")),
        ["invalid pod subnet only one CIDR allowed for single-stack networking"]
    );
    // The same subnets are fine once the family says dual.
    let dual = fixture!("invalid-single-stack-two-cidrs.yaml")
        .replace("networking:\n", "networking:\n  ipFamily: dual\n");
    load(&dual);
}

#[test]
fn family_mismatch() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: ipv6\n  serviceSubnet: 10.96.0.0/16\n";
    assert_eq!(
        validation_errors(text),
        ["invalid service subnet expected IPv6 CIDR for IPv6 family"]
    );
}

#[test]
fn duplicate_host_ports() {
    assert_eq!(
        validation_errors(fixture!("invalid-duplicate-host-ports.yaml")),
        [
            "invalid configuration for node 0: invalid portMapping: port mapping with same listen address, port and protocol already configured: 127.0.0.1:8080/TCP"
        ]
    );
}

#[test]
fn bad_listen_address() {
    assert_eq!(
        validation_errors(fixture!("invalid-listen-address.yaml")),
        [
            "invalid configuration for node 0: invalid portMapping: invalid listen address: localhost"
        ]
    );
}

#[test]
fn ports_out_of_range() {
    assert_eq!(
        validation_errors(fixture!("invalid-port-out-of-range.yaml")),
        [
            "invalid apiServerPort: invalid port number: 99999",
            "invalid configuration for node 0: invalid hostPort: invalid port number: 70000",
            "invalid configuration for node 0: invalid containerPort: invalid port number: -5",
        ]
    );
}

#[test]
fn api_server_port_minus_one_and_container_port_zero_pass() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  apiServerPort: -1\nnodes:\n- extraPortMappings:\n  - containerPort: 0\n    hostPort: -1\n";
    load(text);
}

#[test]
fn all_errors_are_reported_together_in_kinds_order() {
    let errors = validation_errors(fixture!("invalid-many-errors.yaml"));
    assert_eq!(
        errors,
        [
            "'Team_A' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`",
            "invalid ipFamily: ipv5",
            "invalid kubeProxyMode: userspace",
            r#"invalid configuration for node 0: "master" is not a valid node role"#,
            "invalid configuration for node 1: invalid portMapping: port mapping with same listen address, port and protocol already configured: :::80/",
            "must have at least one control-plane node",
        ]
    );
    // Display: one problem per line.
    let err = ValidationErrors(errors.clone());
    assert_eq!(err.to_string().lines().collect::<Vec<_>>(), errors);
}

#[test]
fn repeated_messages_are_reported_once() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- extraPortMappings:\n  - containerPort: 80\n    hostPort: 70000\n  - containerPort: 81\n    hostPort: 70000\n";
    assert_eq!(
        validation_errors(text),
        [
            "invalid configuration for node 0: invalid hostPort: invalid port number: 70000",
            "invalid configuration for node 0: invalid portMapping: port mapping with same listen address, port and protocol already configured: 0.0.0.0:70000/",
        ]
    );
}

#[test]
fn validate_without_defaults_reports_unset_fields() {
    let errors = Cluster {
        nodes: vec![Node::default()],
        ..Cluster::default()
    }
    .validate()
    .unwrap_err()
    .0;
    assert!(errors.contains(
        &"'' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`".to_string()
    ));
    assert!(
        errors.contains(&"invalid configuration for node 0: image is a required field".to_string())
    );
    assert!(
        errors.contains(
            &r#"invalid configuration for node 0: "" is not a valid node role"#.to_string()
        )
    );
    assert!(errors.contains(&"invalid ipFamily: ".to_string()));
}

// ---- defaults and overrides ----------------------------------------------------------------

#[test]
fn defaults_keep_explicit_values_and_are_idempotent() {
    let mut cluster = parse(fixture!("valid-docs-ipv6-loopback.yaml")).unwrap();
    cluster.apply_defaults();
    // Set by the user: kept, even though ipv6 would default to ::1.
    assert_eq!(cluster.networking.api_server_address, "127.0.0.1");
    let once = cluster.clone();
    cluster.apply_defaults();
    assert_eq!(cluster, once);

    let mut ha = parse(fixture!("valid-ha.yaml")).unwrap();
    let before = ha.nodes.clone();
    ha.apply_defaults();
    assert_eq!(ha.nodes, before);
}

#[test]
fn node_role_and_image_default_per_node() {
    let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- image: my/node:1\n- role: worker\n";
    let cluster = load(text);
    assert_eq!(cluster.nodes[0].role, "control-plane");
    assert_eq!(cluster.nodes[0].image, "my/node:1");
    assert_eq!(cluster.nodes[1].image, DEFAULT_NODE_IMAGE);
}

#[test]
fn image_override_sets_every_node() {
    let mut cluster = parse(fixture!("valid-ha.yaml")).unwrap();
    cluster.image_override("kindest/node:v1.34.0");
    cluster.apply_defaults();
    assert!(
        cluster
            .nodes
            .iter()
            .all(|n| n.image == "kindest/node:v1.34.0")
    );

    // Without nodes, kind's default node gets the image (not the default image).
    let mut minimal = parse(fixture!("valid-minimal.yaml")).unwrap();
    minimal.image_override("my/node:dev");
    minimal.apply_defaults();
    assert_eq!(minimal.nodes.len(), 1);
    assert_eq!(minimal.nodes[0].role, "control-plane");
    assert_eq!(minimal.nodes[0].image, "my/node:dev");

    // An empty override is no override.
    let mut untouched = parse(fixture!("valid-ha.yaml")).unwrap();
    untouched.image_override("");
    assert_eq!(untouched, parse(fixture!("valid-ha.yaml")).unwrap());
}

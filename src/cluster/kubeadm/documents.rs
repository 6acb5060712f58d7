//! The five unpatched documents kind generates for a node, as JSON values.

use super::{KubeadmError, RenderInput, api_version};
use crate::cluster::API_SERVER_INTERNAL_PORT;
use crate::config::NodeRole;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;

const CRI_SOCKET: &str = "unix:///run/containerd/containerd.sock";
const KUBELET_API: &str = "kubelet.config.k8s.io/v1beta1";
const KUBE_PROXY_API: &str = "kubeproxy.config.k8s.io/v1alpha1";

/// Builds ClusterConfiguration, InitConfiguration, JoinConfiguration, KubeletConfiguration and
/// (unless kube-proxy is disabled) KubeProxyConfiguration, each with `metadata.name: config`.
pub(super) fn build(input: &RenderInput) -> Result<Vec<Value>, KubeadmError> {
    let api = api_version(input.kubernetes_version)?;
    let v1beta4 = api.ends_with("v1beta4");
    let cluster = input.cluster;
    let net = &cluster.networking;
    // Only the pure IPv6 family gets IPv6 bind addresses; dual-stack keeps the defaults.
    let ipv6_only = net.ip_family == "ipv6";
    let proxy_mode = net.kube_proxy_mode.as_str();

    let mut feature_gates = cluster.feature_gates.clone();
    if input.rootless {
        feature_gates.insert("KubeletInUserNamespace".to_string(), true);
    }
    let gates_arg = feature_gates
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let gates_map = || -> Value {
        Value::Object(
            feature_gates
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bool(*v)))
                .collect(),
        )
    };
    let has_gates = !feature_gates.is_empty();
    let runtime_config = cluster
        .runtime_config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");

    let args = |pairs: Vec<(&str, &str)>| extra_args(v1beta4, pairs);
    let gate_pair = || has_gates.then_some(("feature-gates", gates_arg.as_str()));

    let mut api_server_args = vec![("runtime-config", runtime_config.as_str())];
    api_server_args.extend(gate_pair());
    let mut controller_args: Vec<(&str, &str)> = gate_pair().into_iter().collect();
    controller_args.push(("enable-hostpath-provisioner", "true"));
    let mut scheduler_args: Vec<(&str, &str)> = gate_pair().into_iter().collect();
    if ipv6_only {
        controller_args.push(("bind-address", "::"));
        scheduler_args.push(("bind-address", "::1"));
    }

    let cluster_configuration = json!({
        "apiVersion": api,
        "kind": "ClusterConfiguration",
        "metadata": { "name": "config" },
        "kubernetesVersion": input.kubernetes_version.as_str(),
        "clusterName": cluster.name,
        "controlPlaneEndpoint": input.control_plane_endpoint,
        "apiServer": {
            "certSANs": ["localhost", net.api_server_address],
            "extraArgs": args(api_server_args),
        },
        "controllerManager": { "extraArgs": args(controller_args) },
        "scheduler": { "extraArgs": args(scheduler_args) },
        "networking": {
            "podSubnet": net.pod_subnet,
            "serviceSubnet": net.service_subnet,
        },
    });

    let node_ip = node_ip(input)?;
    let advertise_address = node_ip.split(',').next().unwrap_or_default().to_string();
    let local_api_endpoint = json!({
        "advertiseAddress": advertise_address,
        "bindPort": API_SERVER_INTERNAL_PORT,
    });
    let provider_id = format!("kind://docker/{}/{}", cluster.name, input.node_name);
    let node_labels = input
        .node
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let node_registration = json!({
        "criSocket": CRI_SOCKET,
        "kubeletExtraArgs": args(vec![
            ("node-ip", node_ip.as_str()),
            ("provider-id", provider_id.as_str()),
            ("node-labels", node_labels.as_str()),
        ]),
    });

    let mut init_skip_phases = vec!["preflight"];
    if proxy_mode == "none" {
        init_skip_phases.push("addon/kube-proxy");
    }
    let init_configuration = json!({
        "apiVersion": api,
        "kind": "InitConfiguration",
        "metadata": { "name": "config" },
        "bootstrapTokens": [{ "token": input.bootstrap_token }],
        "localAPIEndpoint": local_api_endpoint,
        "nodeRegistration": node_registration,
        "skipPhases": init_skip_phases,
    });

    // kindling's difference from kind: joins pin kindling's CA instead of skipping the check.
    let mut join_configuration = json!({
        "apiVersion": api,
        "kind": "JoinConfiguration",
        "metadata": { "name": "config" },
        "nodeRegistration": node_registration,
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": input.control_plane_endpoint,
                "token": input.bootstrap_token,
                "caCertHashes": [input.ca_cert_hash],
            },
        },
        "skipPhases": ["preflight"],
    });
    if input.role == NodeRole::ControlPlane {
        join_configuration["controlPlane"] = json!({ "localAPIEndpoint": local_api_endpoint });
    }

    // Kubernetes before 1.24 ran with the cgroupfs driver in kind's images.
    let cgroup_driver = if input.kubernetes_version.at_least(1, 24, 0) {
        "systemd"
    } else {
        "cgroupfs"
    };
    let mut kubelet_configuration = json!({
        "apiVersion": KUBELET_API,
        "kind": "KubeletConfiguration",
        "metadata": { "name": "config" },
        "cgroupDriver": cgroup_driver,
        "cgroupRoot": "/kubelet",
        "failSwapOn": false,
        // The kubelet sees the host's disk through the node container; never garbage
        // collect images or evict for disk pressure.
        "imageGCHighThresholdPercent": 100,
        "evictionHard": {
            "nodefs.available": "0%",
            "nodefs.inodesFree": "0%",
            "imagefs.available": "0%",
        },
    });
    if ipv6_only {
        kubelet_configuration["address"] = json!("::");
        kubelet_configuration["healthzBindAddress"] = json!("::");
    }
    if has_gates {
        kubelet_configuration["featureGates"] = gates_map();
    }

    let mut docs = vec![
        cluster_configuration,
        init_configuration,
        join_configuration,
        kubelet_configuration,
    ];

    if proxy_mode != "none" {
        let mut conntrack = json!({ "maxPerCore": 0 });
        if proxy_mode == "nftables" && !input.rootless {
            conntrack["tcpBeLiberal"] = json!(true);
        }
        if input.rootless {
            // These sysctls cannot be set from a user namespace.
            conntrack["tcpEstablishedTimeout"] = json!("0s");
            conntrack["tcpCloseWaitTimeout"] = json!("0s");
        }
        let mut kube_proxy = json!({
            "apiVersion": KUBE_PROXY_API,
            "kind": "KubeProxyConfiguration",
            "metadata": { "name": "config" },
            "mode": proxy_mode,
            "iptables": { "minSyncPeriod": "1s" },
            "conntrack": conntrack,
        });
        if has_gates {
            kube_proxy["featureGates"] = gates_map();
        }
        docs.push(kube_proxy);
    }
    Ok(docs)
}

/// kubeadm `extraArgs`: a map before v1beta4, a `name`/`value` list from v1beta4. kind's
/// template leaves an empty section as YAML null, which survives the round trip.
fn extra_args(v1beta4: bool, pairs: Vec<(&str, &str)>) -> Value {
    if pairs.is_empty() {
        Value::Null
    } else if v1beta4 {
        Value::Array(
            pairs
                .into_iter()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect(),
        )
    } else {
        let map: BTreeMap<&str, &str> = pairs.into_iter().collect();
        Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect::<Map<_, _>>(),
        )
    }
}

/// The kubelet `node-ip` value: the address of the cluster's family, or both for dual-stack
/// ordered by the family of the first service subnet (its first entry is advertised).
fn node_ip(input: &RenderInput) -> Result<String, KubeadmError> {
    let node = || input.node_name.to_string();
    let net = &input.cluster.networking;
    let v4 = || {
        input
            .node_ipv4
            .ok_or_else(|| KubeadmError::MissingIpv4 { node: node() })
    };
    let v6 = || {
        input
            .node_ipv6
            .ok_or_else(|| KubeadmError::MissingIpv6 { node: node() })
    };
    match net.ip_family.as_str() {
        "ipv6" => Ok(v6()?.to_string()),
        "dual" => {
            let (v4, v6) = (v4()?, v6()?);
            let primary = net.service_subnet.split(',').next().unwrap_or_default();
            let primary_ip: IpAddr = primary
                .split('/')
                .next()
                .unwrap_or_default()
                .trim()
                .parse()
                .map_err(|_| KubeadmError::InvalidServiceSubnet {
                    subnet: primary.to_string(),
                    service_subnet: net.service_subnet.clone(),
                })?;
            Ok(if primary_ip.is_ipv4() {
                format!("{v4},{v6}")
            } else {
                format!("{v6},{v4}")
            })
        }
        _ => Ok(v4()?.to_string()),
    }
}

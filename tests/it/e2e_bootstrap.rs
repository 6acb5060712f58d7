//! End-to-end: bringing Kubernetes up with the stand-in node image (issue 5), read back from
//! what the stand-in tools recorded: the exact commands and their order, the kubeadm config
//! each node read, the PKI kindling placed, CA-pinned joins, rollback, `--wait`, kubeconfigs.

use crate::common::*;
use serde_json::Value;
use std::process::Command;

/// kubeletExtraArgs in either API shape (v1beta3 map, v1beta4 name/value list).
fn kubelet_arg(registration: &Value, name: &str) -> String {
    let args = &registration["kubeletExtraArgs"];
    if let Some(list) = args.as_array() {
        list.iter()
            .find(|a| a["name"] == name)
            .and_then(|a| a["value"].as_str())
            .unwrap_or_default()
            .to_string()
    } else {
        args[name].as_str().unwrap_or_default().to_string()
    }
}

/// `sha256:<hex>` of the SubjectPublicKeyInfo of the CA in the node, computed with openssl.
fn ca_hash_in(node: &str) -> String {
    let pem = node_exec(node, &["cat", "/etc/kubernetes/pki/ca.crt"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.crt");
    std::fs::write(&path, pem).unwrap();
    let out = run(Command::new("sh").arg("-c").arg(format!(
        "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | sha256sum",
        path.display()
    )))
    .ok();
    format!("sha256:{}", out.stdout.split_whitespace().next().unwrap())
}

fn kubernetes_calls(node: &str) -> Vec<String> {
    call_lines(&standin_calls(node))
        .into_iter()
        .filter(|l| l.starts_with("kubeadm ") || l.starts_with("kubectl "))
        .collect()
}

#[test]
fn single_node_runs_kinds_commands_with_kindlings_pki() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("boot1");
    c.create(&[]).ok();
    let node = format!("{}-control-plane", c.name);
    assert_eq!(
        kubernetes_calls(&node),
        [
            "kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6",
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf taint nodes --all node-role.kubernetes.io/control-plane-",
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf label nodes --all node.kubernetes.io/exclude-from-external-load-balancers-",
            "kubectl create --kubeconfig=/etc/kubernetes/admin.conf -f -",
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -",
        ]
    );
    let calls = standin_calls(&node);
    let docs = kubeadm_docs(&calls[calls.iter().position(|c| c["tool"] == "kubeadm").unwrap()]);
    let ip = container_ip(&node);
    let version = node_exec(&node, &["cat", "/kind/version"])
        .trim()
        .to_string();
    let cluster = doc(&docs, "ClusterConfiguration");
    assert_eq!(cluster["controlPlaneEndpoint"], format!("{node}:6443"));
    assert_eq!(cluster["kubernetesVersion"], version);
    assert_eq!(cluster["clusterName"], c.name);
    let init = doc(&docs, "InitConfiguration");
    assert_eq!(init["localAPIEndpoint"]["advertiseAddress"], ip);
    assert_eq!(kubelet_arg(&init["nodeRegistration"], "node-ip"), ip);
    assert_eq!(
        kubelet_arg(&init["nodeRegistration"], "provider-id"),
        format!("kind://docker/{}/{node}", c.name)
    );
    let token = init["bootstrapTokens"][0]["token"].as_str().unwrap();
    assert!(
        token.len() == 23
            && token.as_bytes()[6] == b'.'
            && token
                .chars()
                .all(|ch| ch == '.' || ch.is_ascii_lowercase() || ch.is_ascii_digit()),
        "{token}"
    );
    assert_ne!(
        token, "abcdef.0123456789abcdef",
        "kindling's own random token"
    );
    // Every file kubeadm would make, with kubeadm's modes.
    let listing = node_exec(
        &node,
        &[
            "sh",
            "-c",
            "cd /etc/kubernetes && find . -type f | sort | xargs stat -c '%a %n'",
        ],
    );
    for (mode, file) in [
        ("644", "./pki/ca.crt"),
        ("600", "./pki/ca.key"),
        ("644", "./pki/apiserver.crt"),
        ("600", "./pki/apiserver.key"),
        ("644", "./pki/apiserver-kubelet-client.crt"),
        ("644", "./pki/front-proxy-ca.crt"),
        ("644", "./pki/front-proxy-client.crt"),
        ("644", "./pki/etcd/ca.crt"),
        ("600", "./pki/etcd/ca.key"),
        ("644", "./pki/etcd/server.crt"),
        ("644", "./pki/etcd/peer.crt"),
        ("644", "./pki/etcd/healthcheck-client.crt"),
        ("644", "./pki/apiserver-etcd-client.crt"),
        ("600", "./pki/sa.key"),
        ("600", "./pki/sa.pub"),
        ("600", "./admin.conf"),
        ("600", "./super-admin.conf"),
        ("600", "./controller-manager.conf"),
        ("600", "./scheduler.conf"),
        ("600", "./kubelet.conf"),
    ] {
        assert!(
            listing.lines().any(|l| l == format!("{mode} {file}")),
            "{mode} {file} missing in:\n{listing}"
        );
    }
    // The CNI manifest went through kind's template (pod subnet) and patch (endpoint) rules.
    let cni = calls
        .iter()
        .find(|c| c["tool"] == "kubectl" && c["argv"][0] == "create")
        .unwrap()["stdin"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cni.contains("10.244.0.0/16"),
        "pod subnet templated in:\n{cni}"
    );
    assert!(!cni.contains("{{"), "no template left:\n{cni}");
    assert!(
        cni.contains("CONTROL_PLANE_ENDPOINT") && cni.contains(&format!("{node}:6443")),
        "{cni}"
    );
    let storage = calls
        .iter()
        .find(|c| {
            c["tool"] == "kubectl" && c["argv"].as_array().unwrap().iter().any(|a| a == "apply")
        })
        .unwrap()["stdin"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(storage.contains("StorageClass"), "{storage}");
    // The user's kubeconfig: kind-<name> at the published port, read by real kubectl.
    let port = run(Command::new("docker").args([
        "inspect",
        "-f",
        "{{range (index .NetworkSettings.Ports \"6443/tcp\")}}{{.HostPort}}{{end}}",
        &node,
    ]))
    .ok()
    .stdout
    .trim()
    .to_string();
    let kubeconfig = read(&c.kubeconfig());
    assert!(
        kubeconfig.contains(&format!("server: https://127.0.0.1:{port}")),
        "{kubeconfig}"
    );
    assert!(
        kubeconfig.contains(&format!("current-context: kind-{}", c.name)),
        "{kubeconfig}"
    );
    let kubectl = kubectl().expect("kubectl");
    let version_json = run(Command::new(&kubectl)
        .args(["--kubeconfig"])
        .arg(c.kubeconfig())
        .args(["get", "--raw", "/version"]))
    .ok()
    .stdout;
    let version_json: Value = serde_json::from_str(&version_json).unwrap();
    assert_eq!(version_json["gitVersion"], version);
    let whoami: Value = serde_json::from_str(
        &run(Command::new(&kubectl)
            .args(["--kubeconfig"])
            .arg(c.kubeconfig())
            .args(["get", "--raw", "/standin/whoami"]))
        .ok()
        .stdout,
    )
    .unwrap();
    assert_eq!(whoami["client_cn"], "kubernetes-admin");
    // get kubeconfig: the same entry on stdout; --internal keeps kubeadm's in-network server.
    let printed = run(&mut c.kindling(&["get", "kubeconfig", "--name", &c.name]))
        .ok()
        .stdout;
    assert!(
        printed.contains(&format!("server: https://127.0.0.1:{port}")) && printed.ends_with("\n\n"),
        "{printed}"
    );
    let internal = run(&mut c.kindling(&["get", "kubeconfig", "--name", &c.name, "--internal"]))
        .ok()
        .stdout;
    assert!(
        internal.contains(&format!("server: https://{node}:6443")),
        "{internal}"
    );
    // export kubeconfig into another file: created 0600 with the context set.
    let other = c.dir.path().join("nested/other-config");
    let out = run(&mut c.kindling(&[
        "export",
        "kubeconfig",
        "--name",
        &c.name,
        "--kubeconfig",
        other.to_str().unwrap(),
    ]))
    .ok();
    assert!(
        out.stderr
            .contains(&format!("Set kubectl context to \"kind-{}\"", c.name))
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&other).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let ctx = run(Command::new(&kubectl)
        .args(["config", "current-context", "--kubeconfig"])
        .arg(&other))
    .ok();
    assert_eq!(ctx.stdout.trim(), format!("kind-{}", c.name));
}

#[test]
fn workers_join_with_the_ca_pinned() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("boot3");
    let config = c.write_config("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n");
    c.create(&["--config", config.to_str().unwrap()]).ok();
    let cp = format!("{}-control-plane", c.name);
    // Three containers: no untaint, kind's order otherwise.
    assert_eq!(
        kubernetes_calls(&cp),
        [
            "kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6",
            "kubectl create --kubeconfig=/etc/kubernetes/admin.conf -f -",
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f -",
        ]
    );
    let cp_calls = standin_calls(&cp);
    let init_call = cp_calls.iter().find(|c| c["tool"] == "kubeadm").unwrap();
    let init_time = init_call["time_ms"].as_i64().unwrap();
    let token =
        doc(&kubeadm_docs(init_call), "InitConfiguration")["bootstrapTokens"][0]["token"].clone();
    let ca_hash = ca_hash_in(&cp);
    for worker in [format!("{}-worker", c.name), format!("{}-worker2", c.name)] {
        assert_eq!(
            kubernetes_calls(&worker),
            ["kubeadm join --config /kind/kubeadm.conf --v=6"]
        );
        let calls = standin_calls(&worker);
        let join_call = calls.iter().find(|c| c["tool"] == "kubeadm").unwrap();
        assert!(
            join_call["time_ms"].as_i64().unwrap() >= init_time,
            "workers join after init"
        );
        let docs = kubeadm_docs(join_call);
        let join = doc(&docs, "JoinConfiguration");
        let discovery = &join["discovery"]["bootstrapToken"];
        assert_eq!(discovery["apiServerEndpoint"], format!("{cp}:6443"));
        assert_eq!(
            discovery["caCertHashes"],
            serde_json::json!([ca_hash]),
            "the CA is pinned to the control plane's"
        );
        assert!(
            discovery.get("unsafeSkipCAVerification").is_none(),
            "{discovery}"
        );
        assert_eq!(discovery["token"], token);
        assert!(join.get("controlPlane").is_none());
        let ip = container_ip(&worker);
        assert_eq!(kubelet_arg(&join["nodeRegistration"], "node-ip"), ip);
        // kindling placed nothing on workers: ca.crt is what the pinned discovery fetched.
        let files = node_exec(
            &worker,
            &["sh", "-c", "find /etc/kubernetes -type f | sort"],
        );
        assert_eq!(files.trim(), "/etc/kubernetes/pki/ca.crt", "{files}");
        assert_eq!(ca_hash_in(&worker), ca_hash);
    }
}

#[test]
fn a_failing_kubeadm_rolls_back_and_shows_its_output() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("kfail");
    let config = c.config_with_directives("fail kubeadm init\n", "- role: worker\n");
    let out = c.create(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("ERROR: failed to create cluster: failed to init node with kubeadm"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("kubeadm init --config=/kind/kubeadm.conf"),
        "names the command:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Command Output:")
            && out
                .stderr
                .contains("standin: failing on request: kubeadm init"),
        "shows kubeadm's output:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(" ✗ Starting control-plane"),
        "{}",
        out.stderr
    );
    assert!(
        c.containers().is_empty(),
        "rolled back: {:?}",
        c.containers()
    );
    assert!(
        !std::fs::read_to_string(c.kubeconfig())
            .unwrap_or_default()
            .contains(&c.name)
    );
}

#[test]
fn wait_reports_ready_or_warns_on_timeout() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("wait");
    let out = c.create(&["--wait", "1m"]).ok();
    assert!(
        out.stderr
            .contains("Waiting ≤ 1m0s for control-plane = Ready ⏳"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(" • Ready after "), "{}", out.stderr);
    let c = TestCluster::new("notready");
    let config = c.config_with_directives("notready\n", "");
    let out = c
        .create(&[
            "--config",
            config.to_str().unwrap(),
            "--wait",
            "2s",
            "-o",
            "json",
        ])
        .ok();
    assert!(
        out.stderr
            .contains(" • WARNING: Timed out waiting for Ready ⚠️"),
        "{}",
        out.stderr
    );
    let summary: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(summary["ready"], false);
    assert_eq!(c.containers().len(), 1, "a timeout is not a failure");
}

#[test]
fn kind_sees_and_deletes_kindling_clusters() {
    if !docker_available() {
        return;
    }
    let Some(kind) = std::env::var_os("KINDLING_TEST_KIND")
        .map(std::path::PathBuf::from)
        .or_else(|| which("kind"))
    else {
        assert_ne!(
            std::env::var("KINDLING_REQUIRE_PEERS").as_deref(),
            Ok("1"),
            "kind is required (KINDLING_TEST_KIND)"
        );
        eprintln!("skipping: no kind binary (set KINDLING_TEST_KIND)");
        return;
    };
    let c = TestCluster::new("interop");
    c.create(&[]).ok();
    let kind_run = |args: &[&str]| {
        run(Command::new(&kind)
            .args(args)
            .env("KUBECONFIG", c.kubeconfig()))
    };
    assert!(
        kind_run(&["get", "clusters"])
            .ok()
            .stdout
            .lines()
            .any(|l| l == c.name)
    );
    assert_eq!(
        kind_run(&["get", "nodes", "--name", &c.name])
            .ok()
            .stdout
            .trim(),
        format!("{}-control-plane", c.name)
    );
    let node = format!("{}-control-plane", c.name);
    let privileged =
        run(Command::new("docker").args(["inspect", "-f", "{{.HostConfig.Privileged}}", &node]))
            .ok()
            .stdout
            .trim()
            == "true";
    let from_kind = kind_run(&["get", "kubeconfig", "--name", &c.name]);
    if privileged {
        let from_kindling = run(&mut c.kindling(&["get", "kubeconfig", "--name", &c.name]))
            .ok()
            .stdout;
        assert_eq!(
            from_kind.ok().stdout.trim(),
            from_kindling.trim(),
            "kind and kindling print the same kubeconfig"
        );
    } else {
        // kind always runs `docker exec --privileged`, which such engines refuse (kindling does not).
        assert!(
            from_kind.stderr.contains("unable to apply caps"),
            "{}",
            from_kind.stderr
        );
    }
    let out = kind_run(&["delete", "cluster", "--name", &c.name]).ok();
    assert!(out.stderr.contains("Deleted nodes"), "{}", out.stderr);
    assert!(c.containers().is_empty());
    assert!(
        !read(&c.kubeconfig()).contains(&format!("kind-{}", c.name)),
        "kind removed kindling's kubeconfig entry"
    );
}

/// Opt-in (machines that can pull): a real `kindest/node` cluster, checked with kubectl.
/// Set KINDLING_REAL_NODE_IMAGE, e.g. `kindest/node:v1.36.1`. Not run on this project's machines.
#[test]
fn real_node_image_when_available() {
    let Ok(image) = std::env::var("KINDLING_REAL_NODE_IMAGE") else {
        eprintln!(
            "skipping: set KINDLING_REAL_NODE_IMAGE to a kindest/node image to run a real cluster"
        );
        return;
    };
    assert!(
        docker_available(),
        "KINDLING_REAL_NODE_IMAGE is set but no engine answers"
    );
    let c = TestCluster::new("real");
    let config = c.write_config("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n");
    let out = run(&mut c.kindling(&[
        "create",
        "cluster",
        "--name",
        &c.name,
        "--image",
        &image,
        "--config",
        config.to_str().unwrap(),
        "--wait",
        "5m",
    ]))
    .ok();
    assert!(out.stderr.contains("Ready after"), "{}", out.stderr);
    let kubectl = kubectl().expect("kubectl");
    let k = |args: &[&str]| {
        run(Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(c.kubeconfig())
            .args(args))
    };
    k(&[
        "wait",
        "--for=condition=Ready",
        "nodes",
        "--all",
        "--timeout=300s",
    ])
    .ok();
    k(&[
        "run",
        "kindling-smoke",
        "--image=registry.k8s.io/pause:3.10",
        "--restart=Never",
    ])
    .ok();
    k(&[
        "wait",
        "--for=condition=Ready",
        "pod/kindling-smoke",
        "--timeout=300s",
    ])
    .ok();
}

#[test]
fn rsa_keys_work_end_to_end() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("rsa");
    c.create(&["--key-algorithm", "rsa-2048"]).ok();
    let node = format!("{}-control-plane", c.name);
    let key_type = node_exec(
        &node,
        &[
            "sh",
            "-c",
            "openssl pkey -in /etc/kubernetes/pki/apiserver.key -noout -text | head -n1",
        ],
    );
    assert!(key_type.contains("2048 bit"), "RSA-2048 key: {key_type}");
    let out = run(Command::new(kubectl().expect("kubectl"))
        .arg("--kubeconfig")
        .arg(c.kubeconfig())
        .args(["get", "--raw", "/standin/whoami"]))
    .ok();
    assert!(out.stdout.contains("kubernetes-admin"), "{}", out.stdout);
}

#[test]
fn containerd_patches_are_applied_and_containerd_restarted() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("ctrd");
    let config = c.write_config(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\ncontainerdConfigPatches:\n- |-\n  [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"registry.example:5000\"]\n    endpoint = [\"http://registry.example:5000\"]\nnodes:\n- role: control-plane\n- role: worker\n",
    );
    c.create(&["--config", config.to_str().unwrap()]).ok();
    for node in [
        format!("{}-control-plane", c.name),
        format!("{}-worker", c.name),
    ] {
        let toml = node_exec(&node, &["cat", "/etc/containerd/config.toml"]);
        assert!(
            toml.contains("registry.example:5000") && toml.contains("http://registry.example:5000"),
            "{node}:\n{toml}"
        );
        assert!(
            toml.contains("SystemdCgroup = true"),
            "the base config is kept:\n{toml}"
        );
        // containerd restarted with the patched file and still answers.
        assert_eq!(
            node_exec(&node, &["systemctl", "is-active", "containerd"]).trim(),
            "active"
        );
        let dump = node_exec(&node, &["containerd", "config", "dump"]);
        assert!(
            dump.contains("registry.example:5000"),
            "{node}: the running containerd sees the patch"
        );
        node_exec(&node, &["ctr", "version"]);
    }
}

#[test]
fn a_failing_worker_join_is_shown_on_the_join_line() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("jfail");
    let directives = c.dir.path().join("worker-directives");
    std::fs::write(&directives, "fail kubeadm join\n").unwrap();
    let config = c.write_config(&format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind/standin/directives\n",
        directives.display()
    ));
    let out = c.create(&["--config", config.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(" ✓ Installing CNI 🔌"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(" ✓ Installing StorageClass 💾"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(" ✗ Joining worker nodes 🚜"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("failed to join node with kubeadm"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("standin: failing on request: kubeadm join"),
        "{}",
        out.stderr
    );
    assert!(
        c.containers().is_empty(),
        "rolled back: {:?}",
        c.containers()
    );
}

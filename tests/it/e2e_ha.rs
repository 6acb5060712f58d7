//! End-to-end: several control planes behind the locally built HAProxy load balancer (issue 6):
//! call order (init, one control-plane join at a time, then workers), shared CA material, the
//! balancer's config, real TCP forwarding with failover, and the balancer in other commands.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

fn kubeadm_exit(node: &str) -> (i64, i64) {
    let e = standin_exits(node)
        .into_iter()
        .find(|e| e["tool"] == "kubeadm")
        .unwrap_or_else(|| panic!("no kubeadm run in {node}"));
    assert_eq!(e["exit_code"], 0, "{node}: {e}");
    (
        e["start_ms"].as_i64().unwrap(),
        e["end_ms"].as_i64().unwrap(),
    )
}

fn whoami(kubeconfig: &std::path::Path) -> Option<String> {
    let out = run(Command::new(kubectl().expect("kubectl"))
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/standin/whoami", "--request-timeout=5s"]));
    (out.code == 0)
        .then(|| serde_json::from_str::<Value>(&out.stdout).ok())
        .flatten()
        .and_then(|v| v["node"].as_str().map(str::to_string))
}

#[test]
fn three_control_planes_and_two_workers_behind_haproxy() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("ha");
    let lb_image = haproxy_image();
    let config = c.write_config("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: control-plane\n- role: control-plane\n- role: worker\n- role: worker\n");
    let out = c
        .create(&[
            "--config",
            config.to_str().unwrap(),
            "--load-balancer-image",
            &lb_image,
            "-o",
            "json",
        ])
        .ok();
    let n = |s: &str| format!("{}-{s}", c.name);
    let (cp1, cp2, cp3, w1, w2, lb) = (
        n("control-plane"),
        n("control-plane2"),
        n("control-plane3"),
        n("worker"),
        n("worker2"),
        n("external-load-balancer"),
    );
    let mut all = vec![
        cp1.clone(),
        cp2.clone(),
        cp3.clone(),
        lb.clone(),
        w1.clone(),
        w2.clone(),
    ];
    all.sort();
    assert_eq!(c.containers(), all);
    assert!(
        out.stderr
            .contains("Configuring the external load balancer ⚖️"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Joining more control-plane nodes 🎮"),
        "{}",
        out.stderr
    );
    assert_eq!(
        inspect(&lb, "{{index .Config.Labels \"io.x-k8s.kind.role\"}}"),
        "external-load-balancer"
    );
    assert_eq!(inspect(&lb, "{{.Config.Image}}"), lb_image);
    // Control planes publish on loopback only; users reach the cluster through the balancer.
    for cp in [&cp1, &cp2, &cp3] {
        assert_eq!(
            inspect(
                cp,
                "{{range (index .NetworkSettings.Ports \"6443/tcp\")}}{{.HostIp}}{{end}}"
            ),
            "127.0.0.1"
        );
    }
    let lb_port = inspect(
        &lb,
        "{{range (index .NetworkSettings.Ports \"6443/tcp\")}}{{.HostPort}}{{end}}",
    );
    assert!(read(&c.kubeconfig()).contains(&format!("server: https://127.0.0.1:{lb_port}")));
    let summary: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        summary["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["role"] == "external-load-balancer")
    );

    // Every node registered with one of the stand-in API servers (through the balancer for
    // joins), exactly once: each stand-in keeps what reached it.
    let mut registered: Vec<String> = [&cp1, &cp2, &cp3]
        .iter()
        .flat_map(|cp| {
            node_exec(
                cp,
                &[
                    "sh",
                    "-c",
                    "ls /var/lib/kindling-standin/apiserver/nodes 2>/dev/null || true",
                ],
            )
            .lines()
            .map(|f| f.trim_end_matches(".json").to_string())
            .collect::<Vec<_>>()
        })
        .collect();
    registered.sort();
    let mut internal: Vec<String> = all.iter().filter(|n| **n != lb).cloned().collect();
    internal.sort();
    assert_eq!(registered, internal);

    // Order: init on the first, then one control-plane join at a time, then the workers.
    let kubeadm_calls = |node: &str| {
        call_lines(&standin_calls(node))
            .into_iter()
            .filter(|l| l.starts_with("kubeadm"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        kubeadm_calls(&cp1),
        ["kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6"]
    );
    for node in [&cp2, &cp3, &w1, &w2] {
        assert_eq!(
            kubeadm_calls(node),
            ["kubeadm join --config /kind/kubeadm.conf --v=6"],
            "{node}"
        );
    }
    let (_, init_end) = kubeadm_exit(&cp1);
    let (cp2_start, cp2_end) = kubeadm_exit(&cp2);
    let (cp3_start, cp3_end) = kubeadm_exit(&cp3);
    assert!(cp2_start >= init_end, "control planes join after init");
    assert!(
        cp3_start >= cp2_end,
        "control planes join one at a time ({cp2_start}-{cp2_end} vs {cp3_start})"
    );
    for w in [&w1, &w2] {
        assert!(
            kubeadm_exit(w).0 >= cp3_end,
            "workers join after the control planes"
        );
    }
    // Secondary control planes: the shared CA material, their own leaves, no init-only files.
    for file in [
        "ca.crt",
        "ca.key",
        "sa.key",
        "sa.pub",
        "front-proxy-ca.key",
        "etcd/ca.key",
    ] {
        let path = format!("/etc/kubernetes/pki/{file}");
        let first = node_exec(&cp1, &["cat", &path]);
        assert_eq!(node_exec(&cp2, &["cat", &path]), first, "{file} shared");
        assert_eq!(node_exec(&cp3, &["cat", &path]), first, "{file} shared");
    }
    let san = |node: &str| {
        node_exec(
            node,
            &[
                "sh",
                "-c",
                "openssl x509 -in /etc/kubernetes/pki/apiserver.crt -noout -ext subjectAltName",
            ],
        )
    };
    assert!(
        san(&cp2).contains(&format!("DNS:{cp2}")) && !san(&cp2).contains(&format!("DNS:{cp1},"))
    );
    assert!(
        san(&cp2).contains(&format!("DNS:{lb}")),
        "the endpoint host is in every apiserver cert"
    );
    for node in [&cp2, &cp3] {
        let files = node_exec(node, &["sh", "-c", "ls /etc/kubernetes"]);
        assert!(
            !files.contains("kubelet.conf") && !files.contains("super-admin.conf"),
            "{node}: {files}"
        );
        let join_call = standin_calls(node)
            .into_iter()
            .find(|c| c["tool"] == "kubeadm")
            .unwrap();
        let docs = kubeadm_docs(&join_call);
        let (cluster, join) = (
            doc(&docs, "ClusterConfiguration"),
            doc(&docs, "JoinConfiguration"),
        );
        assert_eq!(cluster["controlPlaneEndpoint"], format!("{lb}:6443"));
        assert_eq!(
            join["discovery"]["bootstrapToken"]["apiServerEndpoint"],
            format!("{lb}:6443")
        );
        let ip = container_ip(node);
        assert_eq!(
            join["controlPlane"]["localAPIEndpoint"]["advertiseAddress"],
            ip
        );
    }

    // The balancer's config lists every control plane.
    let cfg = node_exec(&lb, &["cat", "/usr/local/etc/haproxy/haproxy.cfg"]);
    for cp in [&cp1, &cp2, &cp3] {
        assert!(cfg.contains(&format!("server {cp} {cp}:6443")), "{cfg}");
    }

    // Images go to the Kubernetes nodes, never to the balancer.
    let tag = format!("kindling-test/{}:ha", c.name);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("payload"), c.name.as_bytes()).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY payload /payload\n",
    )
    .unwrap();
    run(Command::new("docker")
        .args(["build", "-q", "-t", &tag])
        .arg(dir.path()))
    .ok();
    let load = run(&mut c.kindling(&["load", "docker-image", &tag, "--name", &c.name]));
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    let load = load.ok();
    assert_eq!(
        load.stderr.matches("not yet present on node").count(),
        5,
        "every node but the balancer:\n{}",
        load.stderr
    );
    assert!(!load.stderr.contains(&lb), "{}", load.stderr);

    // Real forwarding: every control plane answers through the balancer's port ...
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "not every control plane answered: {seen:?}"
        );
        if let Some(node) = whoami(&c.kubeconfig()) {
            seen.insert(node);
        }
    }
    // ... and when one stops, traffic moves to the others.
    run(Command::new("docker").args(["stop", "-t", "1", &cp2])).ok();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut streak = 0;
    while streak < 6 {
        assert!(
            Instant::now() < deadline,
            "traffic did not move off the stopped control plane"
        );
        match whoami(&c.kubeconfig()) {
            Some(node) if node != cp2 => streak += 1,
            _ => streak = 0,
        }
    }

    // The balancer is a node of the cluster, but not a Kubernetes node.
    let nodes = run(&mut c.kindling(&["get", "nodes", "--name", &c.name]))
        .ok()
        .stdout;
    assert!(nodes.lines().any(|l| l == lb), "{nodes}");
    let logs = c.dir.path().join("logs");
    run(&mut c.kindling(&["export", "logs", logs.to_str().unwrap(), "--name", &c.name])).ok();
    assert!(logs.join(&cp1).is_dir() && logs.join(&w1).is_dir());
    assert!(
        !logs.join(&lb).exists(),
        "no logs are collected from the balancer"
    );
    let out = run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    assert!(out.stderr.contains(&lb), "{}", out.stderr);
    assert!(c.containers().is_empty());
}

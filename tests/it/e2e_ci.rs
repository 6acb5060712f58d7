//! End-to-end: what CI pipelines run around create and delete (issue 7): loading images into
//! the nodes' real containerd, exporting logs, machine-readable output and quiet mode.

use crate::common::*;
use serde_json::Value;
use std::process::Command;

/// Builds a small image locally (`FROM scratch` plus a file) under a unique tag.
fn build_image(tag: &str, payload_bytes: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut payload = vec![0u8; payload_bytes];
    getrandom::fill(&mut payload).unwrap();
    std::fs::write(dir.path().join("payload"), payload).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY payload /payload\n",
    )
    .unwrap();
    run(Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(dir.path()))
    .ok();
}

fn images_in(node: &str) -> Vec<String> {
    node_exec(node, &["ctr", "--namespace=k8s.io", "images", "ls", "-q"])
        .lines()
        .map(str::to_string)
        .collect()
}

struct RemoveImages(Vec<String>);

impl Drop for RemoveImages {
    fn drop(&mut self) {
        for image in &self.0 {
            let _ = Command::new("docker").args(["rmi", "-f", image]).output();
        }
    }
}

#[test]
fn images_logs_and_json_for_ci() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("ci");
    let config = c.write_config("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n");
    let created = c
        .create(&["--config", config.to_str().unwrap(), "-o", "json"])
        .ok();
    let (cp, w1, w2) = (
        format!("{}-control-plane", c.name),
        format!("{}-worker", c.name),
        format!("{}-worker2", c.name),
    );

    // The create summary is the only thing on stdout and matches the cluster.
    let summary: Value =
        serde_json::from_str(&created.stdout).expect("create -o json prints one JSON document");
    assert_eq!(summary["name"], c.name);
    assert_eq!(summary["context"], format!("kind-{}", c.name));
    assert_eq!(summary["kubeconfig"], c.kubeconfig().display().to_string());
    let nodes = summary["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for n in nodes {
        let name = n["name"].as_str().unwrap();
        assert_eq!(n["ipv4"], container_ip(name), "{name}");
        assert_eq!(
            n["role"],
            if name == cp {
                "control-plane"
            } else {
                "worker"
            }
        );
    }
    assert!(
        read(&c.kubeconfig()).contains(&format!("server: {}", summary["server"].as_str().unwrap()))
    );
    let steps: Vec<&str> = summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    for expected in [
        "Preparing nodes",
        "Starting control-plane",
        "Joining worker nodes",
    ] {
        assert!(
            steps.iter().any(|s| s.starts_with(expected)),
            "{expected} in {steps:?}"
        );
    }
    assert!(
        summary["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["seconds"].as_f64().unwrap() >= 0.0)
    );
    assert!(summary["total_seconds"].as_f64().unwrap() > 0.0);

    // get clusters / get nodes as JSON.
    let clusters: Vec<String> = serde_json::from_str(
        &run(&mut c.kindling(&["get", "clusters", "-o", "json"]))
            .ok()
            .stdout,
    )
    .unwrap();
    assert!(clusters.contains(&c.name));
    let listed: Value = serde_json::from_str(
        &run(&mut c.kindling(&["get", "nodes", "--name", &c.name, "-o", "json"]))
            .ok()
            .stdout,
    )
    .unwrap();
    let mut names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [cp.as_str(), w1.as_str(), w2.as_str()]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["cluster"] == c.name.as_str() && n["state"] == "running")
    );

    // load docker-image: into every node's containerd, then nothing transferred the second time.
    let tag = format!("kindling-test/{}:v1", c.name);
    let _cleanup = RemoveImages(vec![
        tag.clone(),
        format!("kindling-test/{}:v2", c.name),
        format!("kindling-test/{}:only-worker", c.name),
    ]);
    build_image(&tag, 64 << 10);
    let qualified = format!("docker.io/{tag}");
    let out = run(&mut c.kindling(&["load", "docker-image", &tag, "--name", &c.name])).ok();
    assert_eq!(
        out.stderr.matches("not yet present on node").count(),
        3,
        "{}",
        out.stderr
    );
    for node in [&cp, &w1, &w2] {
        assert!(
            images_in(node).contains(&qualified),
            "{qualified} in {node}"
        );
    }
    let again = run(&mut c.kindling(&["load", "docker-image", &tag, "--name", &c.name])).ok();
    assert!(
        again
            .stderr
            .contains("found to be already present on all nodes"),
        "{}",
        again.stderr
    );
    assert!(
        !again.stderr.contains("loading"),
        "nothing is transferred again:\n{}",
        again.stderr
    );
    // Same image under a second tag: re-tagged in place, not transferred.
    let v2 = format!("kindling-test/{}:v2", c.name);
    run(Command::new("docker").args(["tag", &tag, &v2])).ok();
    let retag = run(&mut c.kindling(&["load", "docker-image", &v2, "--name", &c.name])).ok();
    assert_eq!(
        retag.stderr.matches("re-tagging").count(),
        3,
        "{}",
        retag.stderr
    );
    assert!(images_in(&w2).contains(&format!("docker.io/{v2}")));

    // Several images in one call: one export, each node gets what it lacks.
    let (first, second) = (
        format!("kindling-test/{}:multi-a", c.name),
        format!("kindling-test/{}:multi-b", c.name),
    );
    let _cleanup_multi = RemoveImages(vec![first.clone(), second.clone()]);
    build_image(&first, 16 << 10);
    build_image(&second, 16 << 10);
    let out = run(&mut c.kindling(&[
        "load",
        "docker-image",
        &first,
        &second,
        &first,
        "--name",
        &c.name,
    ]))
    .ok();
    assert_eq!(
        out.stderr.matches("not yet present on node").count(),
        6,
        "two images, three nodes, duplicates ignored:\n{}",
        out.stderr
    );
    for node in [&cp, &w1, &w2] {
        let images = images_in(node);
        assert!(
            images.contains(&format!("docker.io/{first}"))
                && images.contains(&format!("docker.io/{second}")),
            "{node}: {images:?}"
        );
    }

    // --nodes limits the targets.
    let only = format!("kindling-test/{}:only-worker", c.name);
    build_image(&only, 32 << 10);
    run(&mut c.kindling(&[
        "load",
        "docker-image",
        &only,
        "--name",
        &c.name,
        "--nodes",
        &w1,
    ]))
    .ok();
    assert!(images_in(&w1).contains(&format!("docker.io/{only}")));
    assert!(!images_in(&cp).contains(&format!("docker.io/{only}")));
    assert!(!images_in(&w2).contains(&format!("docker.io/{only}")));

    // load image-archive, limited to the control plane.
    let archive = c.dir.path().join("only.tar");
    run(Command::new("docker")
        .args(["save", "-o"])
        .arg(&archive)
        .arg(&only))
    .ok();
    run(&mut c.kindling(&[
        "load",
        "image-archive",
        archive.to_str().unwrap(),
        "--name",
        &c.name,
        "--nodes",
        &cp,
    ]))
    .ok();
    assert!(images_in(&cp).contains(&format!("docker.io/{only}")));
    assert!(!images_in(&w2).contains(&format!("docker.io/{only}")));
    let two = run(&mut c.kindling(&[
        "load",
        "image-archive",
        archive.to_str().unwrap(),
        archive.to_str().unwrap(),
        "--name",
        &c.name,
        "--nodes",
        &w2,
    ]))
    .ok();
    assert!(
        two.stderr
            .contains("save multiple images into a common archive"),
        "{}",
        two.stderr
    );
    assert!(images_in(&w2).contains(&format!("docker.io/{only}")));

    // kind's errors for bad input.
    let missing = run(&mut c.kindling(&[
        "load",
        "docker-image",
        "kindling-test/absent:nope",
        "--name",
        &c.name,
    ]));
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("image: \"kindling-test/absent:nope\" not present locally"),
        "{}",
        missing.stderr
    );
    let unknown = run(&mut c.kindling(&[
        "load",
        "docker-image",
        &tag,
        "--name",
        &c.name,
        "--nodes",
        "nope",
    ]));
    assert!(
        unknown.stderr.contains("unknown node: \"nope\""),
        "{}",
        unknown.stderr
    );
    let no_archive = run(&mut c.kindling(&[
        "load",
        "image-archive",
        "/nonexistent.tar",
        "--name",
        &c.name,
    ]));
    assert_eq!(no_archive.code, 1);
    assert!(
        no_archive.stderr.contains("/nonexistent.tar"),
        "{}",
        no_archive.stderr
    );

    // export logs: the directory on stdout, kind's layout underneath; links inside /var/log
    // are followed like kind's `tar -h` (containers/*.log point into pods/).
    node_exec(
        &w1,
        &[
            "sh",
            "-c",
            "mkdir -p /var/log/pods/ns_p/c /var/log/containers && echo pod-log-line > /var/log/pods/ns_p/c/0.log && ln -sf /var/log/pods/ns_p/c/0.log /var/log/containers/p_ns_c.log",
        ],
    );
    let dir = c.dir.path().join("logs");
    let out =
        run(&mut c.kindling(&["export", "logs", dir.to_str().unwrap(), "--name", &c.name])).ok();
    assert_eq!(out.stdout.trim(), dir.display().to_string());
    assert_eq!(
        read(&dir.join("kind-version.txt")).trim(),
        run(kindling().arg("version")).ok().stdout.trim(),
        "kind-version.txt holds what `version` prints"
    );
    let info: Value = serde_json::from_str(&read(&dir.join("docker-info.txt"))).unwrap();
    assert!(info["ServerVersion"].is_string());
    for node in [&cp, &w1, &w2] {
        let d = dir.join(node);
        for file in [
            "serial.log",
            "journal.log",
            "kubelet.log",
            "containerd.log",
            "images.log",
            "kubernetes-version.txt",
        ] {
            assert!(d.join(file).is_file(), "{node}/{file}");
        }
        assert_eq!(
            read(&d.join("kubernetes-version.txt")).trim(),
            node_exec(node, &["cat", "/kind/version"]).trim()
        );
        // `docker inspect`'s array, one element, as kind writes it.
        let inspect: Value = serde_json::from_str(&read(&d.join("inspect.json"))).unwrap();
        let inspect = inspect.as_array().expect("inspect.json is an array");
        assert_eq!(inspect.len(), 1);
        assert_eq!(inspect[0]["Name"], format!("/{node}"));
        assert!(
            read(&d.join("images.log")).contains(&qualified),
            "images.log lists the loaded image"
        );
        if node == &w1 {
            assert_eq!(
                read(&d.join("containers/p_ns_c.log")),
                "pod-log-line\n",
                "a link into /var/log/pods is copied"
            );
        }
        // /var/log came along: the stand-in's call log lives there.
        assert!(read(&d.join("kindling-standin/calls.jsonl")).contains("\"tool\""));
    }
    let unknown = run(&mut c.kindling(&["export", "logs", "--name", "kt-no-such-cluster"]));
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("unknown cluster \"kt-no-such-cluster\""),
        "{}",
        unknown.stderr
    );
}

#[test]
fn quiet_prints_nothing_but_errors() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("quiet");
    let out = c.create(&["-q"]).ok();
    assert_eq!(out.stderr, "", "quiet create prints nothing");
    assert_eq!(out.stdout, "");
    let out = run(&mut c.kindling(&["-q", "delete", "cluster", "--name", &c.name])).ok();
    assert_eq!(out.stderr, "");
    let failed =
        run(&mut c.kindling(&["-q", "create", "cluster", "--name", "Bad_Name", "--dry-run"]));
    assert_eq!(failed.code, 1);
    assert!(
        failed.stderr.starts_with("ERROR: "),
        "errors are still shown: {:?}",
        failed.stderr
    );
}

//! End-to-end: the getting-started walk of README.md's quick start (kind's tutorial steps plus
//! `kindling get nodes`), run as written with real kubectl against 1 control plane + 2 workers.

use crate::common::*;
use std::process::Command;

/// The walk, word for word as README.md has it (`demo` is replaced by a unique name).
const WALK: [&str; 5] = [
    r#"kindling create cluster --name demo --image "$image" --config demo.yaml"#,
    "kubectl cluster-info --context kind-demo",
    "kubectl get pods -A",
    "kindling get nodes --name demo",
    "kindling delete cluster --name demo",
];

const DEMO_CONFIG: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n";

#[test]
fn readme_walks_the_tutorial_steps() {
    let readme = read(&repo_root().join("README.md"));
    let lines: Vec<&str> = readme
        .lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim_end())
        .collect();
    let mut at = 0;
    for step in WALK {
        let found = lines[at..].iter().position(|l| *l == step);
        assert!(
            found.is_some(),
            "README.md's quick start lacks, in this order: {step}"
        );
        at += found.unwrap_or(0) + 1;
    }
    assert!(
        readme.contains(&format!("```yaml\n{DEMO_CONFIG}```")),
        "README.md shows demo.yaml"
    );
}

#[test]
fn getting_started_walk_with_real_kubectl() {
    if !docker_available() {
        return;
    }
    let kubectl = kubectl().expect("kubectl (set KINDLING_TEST_KUBECTL)");
    let c = TestCluster::new("walk");
    let home = c.dir.path().join("home");
    let bin = c.dir.path().join("bin");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kindling"), bin.join("kindling")).unwrap();
    std::os::unix::fs::symlink(&kubectl, bin.join("kubectl")).unwrap();
    std::fs::write(c.dir.path().join(format!("{}.yaml", c.name)), DEMO_CONFIG).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Each step as the user types it, in the shell, from the directory holding the config.
    let step = |line: &str| {
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &line.replace("demo", &c.name)])
            .current_dir(c.dir.path())
            .env("PATH", &path)
            .env("image", standin_image())
            .env("KUBECONFIG", c.kubeconfig())
            .env("HOME", &home)
            .env("NO_COLOR", "1")
            .env_remove("KIND_CLUSTER_NAME")
            .env_remove("KIND_EXPERIMENTAL_PROVIDER")
            .env_remove("KIND_EXPERIMENTAL_DOCKER_NETWORK");
        run(&mut cmd)
    };
    let context = format!("kind-{}", c.name);

    let created = step(WALK[0]).ok();
    assert!(
        created
            .stderr
            .contains(&format!("Set kubectl context to \"{context}\"")),
        "{}",
        created.stderr
    );
    let server = step(&format!(
        "kubectl config view -o jsonpath='{{.clusters[?(@.name==\"{context}\")].cluster.server}}'"
    ))
    .ok()
    .stdout;
    assert!(server.starts_with("https://127.0.0.1:"), "{server}");

    let info = step(WALK[1]).ok();
    assert_eq!(
        info.stdout.lines().next(),
        Some(format!("Kubernetes control plane is running at {server}").as_str()),
        "{}",
        info.stdout
    );
    assert_eq!(info.stderr, "", "no discovery errors");

    let pods = step(WALK[2]).ok();
    assert_eq!(pods.stdout, "", "no made-up workloads");
    assert_eq!(pods.stderr.trim(), "No resources found");

    let nodes = step(WALK[3]).ok();
    let mut listed: Vec<&str> = nodes.stdout.lines().collect();
    listed.sort();
    let expected = [
        format!("{}-control-plane", c.name),
        format!("{}-worker", c.name),
        format!("{}-worker2", c.name),
    ];
    assert_eq!(listed, expected);

    // What the API server knows: the three nodes that registered, with their roles, and the
    // namespaces every API server has.
    let api_nodes = step("kubectl get nodes --no-headers").ok();
    let rows: Vec<Vec<&str>> = api_nodes
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(names, expected, "{}", api_nodes.stdout);
    let roles: Vec<&str> = rows.iter().map(|r| r[2]).collect();
    assert_eq!(roles, ["control-plane", "<none>", "<none>"]);
    let version = node_exec(&expected[0], &["cat", "/kind/version"]);
    assert!(
        rows.iter()
            .all(|r| r[1] == "Ready" && r[4] == version.trim())
    );
    let wide = step("kubectl get nodes -o wide --no-headers").ok().stdout;
    for node in &expected {
        assert!(
            wide.lines()
                .any(|l| l.starts_with(node.as_str()) && l.contains(&container_ip(node))),
            "{node} with its address: {wide}"
        );
    }
    let namespaces = step("kubectl get namespaces -o name").ok().stdout;
    assert!(namespaces.lines().any(|l| l == "namespace/kube-system"));
    // ConfigMaps: only what kubectl in the node sent (the StorageClass manifest's one).
    let configmaps = step("kubectl get configmaps -A --no-headers").ok().stdout;
    let configmaps: Vec<Vec<&str>> = configmaps
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        configmaps.iter().map(|r| &r[..3]).collect::<Vec<_>>(),
        [["local-path-storage", "local-path-config", "1"]]
    );
    let missing = step("kubectl get secrets -A");
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("the server doesn't have a resource type \"secrets\""),
        "{}",
        missing.stderr
    );

    step(WALK[4]).ok();
    assert!(c.containers().is_empty());
    let contexts = step("kubectl config get-contexts -o name").ok().stdout;
    assert!(
        !contexts.lines().any(|l| l == context),
        "kubectl still has {context}: {contexts}"
    );
    let gone = step(WALK[1]);
    assert_ne!(gone.code, 0);
    assert!(
        gone.stderr
            .contains(&format!("context \"{context}\" does not exist")),
        "{}",
        gone.stderr
    );
}

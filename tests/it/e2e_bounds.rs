//! End-to-end: bounds on what kindling waits for (issue 10, item 12). A `kubeadm` that never
//! returns or a paused node fails `create cluster` within `KINDLING_NODE_COMMAND_TIMEOUT`, naming
//! the node and the command, and rolls back (a paused node included); a removal the engine
//! never answers ends `delete cluster` and the rollback within `KINDLING_CLEANUP_TIMEOUT`, naming
//! what is left and the command that removes it. Every kindling run here has an outer limit, so
//! a build that hangs fails the test instead of hanging CI.

use crate::common::docker_proxy::{DockerProxy, ProxyMode};
use crate::common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Far above what any run here needs (node boot, a few-second bound, rollback); reached only
/// by a build that hangs.
const OUTER_LIMIT: Duration = Duration::from_secs(240);

/// Runs `cmd` to completion, or kills it (by its pid) and fails the test once `OUTER_LIMIT`
/// has passed.
fn run_limited(cmd: &mut Command, what: &str) -> Run {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(OUTER_LIMIT) {
        Ok(out) => Run::from(out.expect("wait for kindling")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("{what} still running after {OUTER_LIMIT:?}: it hangs");
        }
    }
}

/// `kindling create cluster` of `c` with the stand-in image and `config`, plus `extra` flags.
fn create_cmd(c: &TestCluster, config: &std::path::Path, extra: &[&str]) -> Command {
    let mut cmd = c.create_cmd(&["--config", config.to_str().unwrap()]);
    cmd.args(extra);
    cmd
}

/// Waits until the stand-in in `node` logged a call starting with `prefix` (so the command is
/// certainly running in the node).
fn wait_for_call(node: &str, prefix: &str) {
    eventually(
        &format!("\"{prefix}\" to run in {node}"),
        Duration::from_secs(120),
        || {
            call_lines(&standin_calls(node))
                .iter()
                .any(|l| l.starts_with(prefix))
        },
    );
}

/// The volumes of `node` once it exists (read while it is there, to check they go with it),
/// after the stand-in in it started `prefix`.
fn volumes_once_running(node: &str, prefix: &str) -> Vec<String> {
    let mut volumes = Vec::new();
    eventually(
        &format!("node {node} with its volumes"),
        Duration::from_secs(120),
        || {
            volumes = volumes_of(node);
            !volumes.is_empty()
        },
    );
    wait_for_call(node, prefix);
    volumes
}

#[test]
fn bad_bound_values_are_refused_naming_the_variable() {
    for (variable, value) in [
        ("KINDLING_NODE_COMMAND_TIMEOUT", "10"),
        ("KINDLING_CLEANUP_TIMEOUT", "soon"),
    ] {
        // Checked before the engine is contacted: no engine is needed to see it.
        let out = run(kindling()
            .args(["get", "clusters"])
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .env(variable, value));
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "ERROR: invalid {variable}=\"{value}\": use a duration with a unit, e.g. 30s, 5m or 1h30m (0 means no bound)\n"
            )
        );
    }
}

#[test]
fn hung_kubeadm_init_fails_create_within_the_bound_and_rolls_back() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("hang-init");
    let config = c.config_with_directives("hang kubeadm init\n", "");
    let node = format!("{}-control-plane", c.name);
    let mut cmd = create_cmd(&c, &config, &[]);
    cmd.env("KINDLING_NODE_COMMAND_TIMEOUT", "5s");
    let (volumes, out) = std::thread::scope(|s| {
        let create = s.spawn(|| run_limited(&mut cmd, "create cluster"));
        let volumes = volumes_once_running(&node, "kubeadm init");
        (volumes, create.join().unwrap())
    });
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "failed to init node with kubeadm: command \"kubeadm init\" in node \"{node}\" did not finish within 5s"
        )) && out
            .stderr
            .contains("set KINDLING_NODE_COMMAND_TIMEOUT"),
        "{}",
        out.stderr
    );
    // The command's arguments are not shown.
    assert!(!out.stderr.contains("--config=/kind"), "{}", out.stderr);
    assert!(!volumes.is_empty(), "the node had no volume to check");
    assert_left_nothing(&c, &volumes);
}

#[test]
fn hung_kubeadm_join_names_the_joining_node() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("hang-join");
    // The directives go to the worker only: init succeeds, the worker's join hangs.
    let directives = c.dir.path().join("directives");
    std::fs::write(&directives, "hang kubeadm join\n").unwrap();
    let config = c.write_config(&format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind/standin/directives\n",
        directives.display()
    ));
    let worker = format!("{}-worker", c.name);
    let mut cmd = create_cmd(&c, &config, &[]);
    cmd.env("KINDLING_NODE_COMMAND_TIMEOUT", "20s");
    let (volumes, out) = std::thread::scope(|s| {
        let create = s.spawn(|| run_limited(&mut cmd, "create cluster"));
        let volumes = volumes_once_running(&worker, "kubeadm join");
        (volumes, create.join().unwrap())
    });
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "command \"kubeadm join\" in node \"{worker}\" did not finish within 20s"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("✗ Joining worker nodes"),
        "{}",
        out.stderr
    );
    assert_left_nothing(&c, &volumes);
}

#[test]
fn node_paused_during_a_command_fails_create_and_is_removed() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("paused-create");
    let config = c.config_with_directives("hang kubeadm init\n", "");
    let node = format!("{}-control-plane", c.name);
    let mut cmd = create_cmd(&c, &config, &[]);
    // Long enough that the pause below lands well before it.
    cmd.env("KINDLING_NODE_COMMAND_TIMEOUT", "15s");
    let (volumes, out) = std::thread::scope(|s| {
        let create = s.spawn(|| run_limited(&mut cmd, "create cluster"));
        let volumes = volumes_once_running(&node, "kubeadm init");
        run(Command::new("docker").args(["pause", &node])).ok();
        (volumes, create.join().unwrap())
    });
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "command \"kubeadm init\" in node \"{node}\" did not finish within 15s, the bound on each command kindling runs in a node (the node is paused: docker unpause {node})"
        )),
        "{}",
        out.stderr
    );
    // The paused node went with the rollback.
    assert!(!out.stderr.contains("cleanup incomplete"), "{}", out.stderr);
    assert_left_nothing(&c, &volumes);
}

/// Creates `c` (one control plane) with `--retain` and a failing `kubeadm init`, which keeps
/// the node. Returns the node's name.
fn kept_node(c: &TestCluster) -> String {
    let config = c.config_with_directives("fail kubeadm init\n", "");
    let out = run_limited(
        &mut create_cmd(c, &config, &["--retain"]),
        "create cluster --retain",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let node = format!("{}-control-plane", c.name);
    assert_eq!(c.containers(), vec![node.clone()], "{}", out.stderr);
    node
}

#[test]
fn delete_removes_a_paused_node() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("paused-delete");
    let node = kept_node(&c);
    let volumes = volumes_of(&node);
    // Docker 20.10 removes a paused container with force (it thaws it to deliver the kill), so
    // this holds without the bounds too; it guards against a removal that would unpause first
    // or refuse.
    run(Command::new("docker").args(["pause", &node])).ok();
    assert_eq!(inspect(&node, "{{.State.Status}}"), "paused");
    let out = run_limited(
        &mut c.kindling(&["delete", "cluster", "--name", &c.name]),
        "delete cluster",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("Deleted nodes: [\"{node}\"]")),
        "{}",
        out.stderr
    );
    assert_left_nothing(&c, &volumes);
}

#[test]
fn delete_whose_removal_never_answers_ends_within_the_bound() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("stuck-delete");
    let node = kept_node(&c);
    let proxy = DockerProxy::start();
    proxy.set(ProxyMode::HoldRemovals);
    let out = run_limited(
        c.kindling(&["delete", "cluster", "--name", &c.name])
            .env("DOCKER_HOST", proxy.docker_host())
            .env("KINDLING_CLEANUP_TIMEOUT", "3s"),
        "delete cluster",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(proxy.held() >= 1, "nothing was held");
    assert!(
        out.stderr.contains(&format!(
            "failed to delete cluster \"{}\": failed to delete nodes: could not remove 1 container(s) \"{node}\"; failed to remove container \"{node}\": the Docker engine did not finish within 3s",
            c.name
        )) && out
            .stderr
            .contains(&format!("remove it with: docker rm -f -v {node}")),
        "{}",
        out.stderr
    );
    assert_eq!(c.containers(), vec![node.clone()]);
    drop(proxy);
    // What the message says to run finishes the job.
    run(Command::new("docker").args(["rm", "-f", "-v", &node])).ok();
    assert!(c.containers().is_empty());
}

#[test]
fn rollback_whose_removal_never_answers_ends_within_the_bound() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("stuck-rollback");
    let config = c.config_with_directives("hang kubeadm init\n", "");
    let node = format!("{}-control-plane", c.name);
    let proxy = DockerProxy::start();
    let host = proxy.docker_host();
    let mut cmd = create_cmd(&c, &config, &[]);
    cmd.env("DOCKER_HOST", &host)
        .env("KINDLING_NODE_COMMAND_TIMEOUT", "15s")
        .env("KINDLING_CLEANUP_TIMEOUT", "3s");
    let out = std::thread::scope(|s| {
        let create = s.spawn(|| run_limited(&mut cmd, "create cluster"));
        // Removals made before init (the capability probe) pass; the rollback's do not.
        wait_for_call(&node, "kubeadm init");
        proxy.set(ProxyMode::HoldRemovals);
        create.join().unwrap()
    });
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cleanup incomplete: could not remove 1 container(s) \"{node}\"; failed to remove container \"{node}\": the Docker engine did not finish within 3s"
        )) && out.stderr.contains(&format!(
            "finish it with: kindling delete cluster --name {}",
            c.name
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("command \"kubeadm init\" in node \"{node}\"")),
        "{}",
        out.stderr
    );
    assert_eq!(c.containers(), vec![node]);
    drop(proxy);
    // What the message says to run finishes the job.
    run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    assert!(c.containers().is_empty());
}

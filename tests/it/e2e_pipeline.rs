//! The pipelined create (issue 12): nodes used only once ready, a node failing to boot while
//! `kubeadm init` runs, init not waiting for a worker still booting, what the engine allows
//! remembered per engine, names up to kind's limit on engines that refuse `--privileged`, and
//! no secret in any output at `-v 9`.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn cache_file(dir: &Path) -> std::path::PathBuf {
    dir.join("kindling").join("engines.json")
}

/// A worker image whose entrypoint is `script` (sh), a cluster for it, and the host directory
/// the control plane's stand-in logs its calls into, which the worker sees at `/shared`.
fn watching_worker(what: &str, script: &str) -> (DerivedImage, TestCluster, PathBuf) {
    let entrypoint = serde_json::json!(["/bin/sh", "-c", script]);
    let worker = DerivedImage::build(what, &format!("ENTRYPOINT {entrypoint}\n"));
    let c = TestCluster::new(what);
    let shared = c.dir.path().join("calls");
    std::fs::create_dir(&shared).unwrap();
    (worker, c, shared)
}

/// The config of the stand-in control plane (with `more_mounts`, YAML list items) and that
/// worker.
fn one_plus_watching_worker(
    c: &TestCluster,
    worker: &DerivedImage,
    shared: &Path,
    more_mounts: &str,
) -> PathBuf {
    c.write_config(&format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n\
         - role: control-plane\n  image: {i}\n  extraMounts:\n{more_mounts}  - hostPath: {s}\n    containerPath: /var/log/kindling-standin\n\
         - role: worker\n  image: {w}\n  extraMounts:\n  - hostPath: {s}\n    containerPath: /shared\n",
        s = shared.display(),
        w = worker.0,
        i = standin_image(),
    ))
}

/// `create cluster` from `config` without `--image`, which would replace the worker's.
fn create_without_image(c: &TestCluster, config: &Path) -> Command {
    c.kindling(&[
        "create",
        "cluster",
        "--name",
        &c.name,
        "--config",
        config.to_str().unwrap(),
    ])
}

#[test]
fn kubeadm_runs_only_on_nodes_whose_containerd_answers() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("ready");
    let config = c.write_config(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n",
    );
    c.create(&["--config", config.to_str().unwrap()]).ok();
    let mut kubeadm_calls = 0;
    for node in c.containers() {
        for call in standin_calls(&node) {
            if call["tool"] == "kubeadm" {
                kubeadm_calls += 1;
                assert_eq!(
                    call["containerd_ready"], true,
                    "kubeadm ran in {node} before containerd answered: {call}"
                );
            }
        }
    }
    assert_eq!(kubeadm_calls, 3, "one init and two joins");
}

#[test]
fn a_worker_failing_to_boot_while_init_runs_stops_the_create() {
    if !docker_available() {
        return;
    }
    // The worker boots as far as systemd's banner (so its configuration is written), then waits
    // until the control plane's stand-in logged `kubeadm init`, and dies. init hangs meanwhile:
    // only a create that watches every node during init can end before the test's timeout.
    let (worker, c, shared) = watching_worker(
        "dies",
        "echo 'systemd 252 running in system mode (stand-in)'; \
         until grep -qs '\"kubeadm\"' /shared/calls.jsonl; do sleep 0.05; done; \
         echo 'this worker dies while init runs'; exit 3",
    );
    let directives = c.dir.path().join("directives");
    std::fs::write(&directives, "hang kubeadm init\n").unwrap();
    let config = one_plus_watching_worker(
        &c,
        &worker,
        &shared,
        &format!(
            "  - hostPath: {}\n    containerPath: /kind/standin/directives\n",
            directives.display()
        ),
    );
    let mut cmd = create_without_image(&c, &config);
    // A create that did not notice would wait for the hung init until this bound.
    cmd.env("KINDLING_NODE_COMMAND_TIMEOUT", "5m");
    let mut bounded = Command::new("timeout");
    bounded
        .arg("120")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => bounded.env(key, v),
            None => bounded.env_remove(key),
        };
    }
    let out = run(&mut bounded);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let node = format!("{}-worker", c.name);
    assert!(
        out.stderr.contains(&format!(
            "node \"{node}\" stopped before systemd had started containerd"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("this worker dies while init runs"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(" ✗ Starting control-plane"),
        "{}",
        out.stderr
    );
    let log = std::fs::read_to_string(shared.join("calls.jsonl")).unwrap_or_default();
    assert!(log.contains("\"init\""), "kubeadm init had started: {log}");
    assert!(c.containers().is_empty(), "{:?}", c.containers());
}

#[test]
fn init_does_not_wait_for_a_worker_still_booting() {
    if !docker_available() {
        return;
    }
    // The worker starts booting only once the control plane's stand-in logged `kubeadm init`:
    // a create that wrote every node before init would wait for it until the boot limit.
    let (worker, c, shared) = watching_worker(
        "late",
        "until grep -qs '\"init\"' /shared/calls.jsonl; do sleep 0.05; done; \
         exec /usr/local/bin/entrypoint /sbin/init",
    );
    let config = one_plus_watching_worker(&c, &worker, &shared, "");
    let out = run(&mut create_without_image(&c, &config));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let calls = standin_calls(&format!("{}-worker", c.name));
    let join = calls
        .iter()
        .find(|call| call["tool"] == "kubeadm")
        .unwrap_or_else(|| panic!("the worker never ran kubeadm: {calls:?}"));
    assert!(join.to_string().contains("join"), "{join}");
    assert_eq!(join["containerd_ready"], true, "{join}");
}

#[test]
fn what_the_engine_allows_is_remembered_and_a_stale_or_corrupt_cache_is_survived() {
    if !docker_available() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let create = |what: &str, verbosity: &str| {
        let c = TestCluster::new(what);
        let out = run(c
            .create_cmd(&["-v", verbosity])
            .env("XDG_CACHE_HOME", cache.path()));
        (c, out)
    };
    let (first, out) = create("cache1", "1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let privileged = inspect(&first.containers()[0], "{{.HostConfig.Privileged}}") == "true";
    drop(first);
    if privileged {
        // Nothing worth remembering on an engine that grants --privileged.
        assert!(!cache_file(cache.path()).exists());
        return;
    }
    assert!(
        out.stderr.contains("unable to apply caps"),
        "the first create on a new engine probes: {}",
        out.stderr
    );
    let remembered = read(&cache_file(cache.path()));
    assert!(remembered.contains("CAP_SYS_ADMIN"), "{remembered}");

    // Later creates use the remembered set: no refused --privileged attempt, no probe.
    let (_second, out) = create("cache2", "1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("remembered for this engine"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("unable to apply caps"),
        "{}",
        out.stderr
    );

    // A set the engine no longer accepts: probed again, and the cache rewritten.
    // (CAP_BPF is a real capability this engine's API does not know.)
    let stale = remembered.replace("\"CAP_CHOWN\"", "\"CAP_BPF\"");
    std::fs::write(cache_file(cache.path()), &stale).unwrap();
    let (_third, out) = create("cache3", "1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("probing the engine again"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&cache_file(cache.path())), remembered);

    // A corrupt cache is ignored (and replaced), never fatal.
    std::fs::write(cache_file(cache.path()), "{ not json").unwrap();
    let (_fourth, out) = create("cache4", "1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(read(&cache_file(cache.path())), remembered);
}

#[test]
fn a_long_name_works_on_an_engine_that_refuses_privileged() {
    if !docker_available() {
        return;
    }
    // 49 characters: the longest name whose `-control-plane` node name is still a DNS label
    // (63), which every resolver in the node needs (kubeadm's kubeconfigs name the node). The
    // probe container on engines that refuse --privileged is named after the cluster (83
    // characters here), so its hostname must not be: sethostname(2) takes at most 64.
    let mut c = TestCluster::new("long");
    c.name = format!("{}-{}", c.name, "x".repeat(49 - c.name.len() - 1));
    assert_eq!(c.name.len(), 49);
    let cache = tempfile::tempdir().unwrap();
    let out = run(c.create_cmd(&[]).env("XDG_CACHE_HOME", cache.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("sethostname"), "{}", out.stderr);
}

#[test]
fn no_secret_reaches_any_output_at_verbosity_nine() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("secrets");
    let config = c.write_config(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n",
    );
    let out = c
        .create(&["--config", config.to_str().unwrap(), "-v", "9"])
        .ok();
    let node = format!("{}-control-plane", c.name);
    let kubeadm_conf = node_exec(&node, &["cat", "/kind/kubeadm.conf"]);
    let token = kubeadm_conf
        .lines()
        .find_map(|l| l.trim().strip_prefix("token:"))
        .map(|t| t.trim().trim_matches('"').to_string())
        .expect("the kubeadm config holds a bootstrap token");
    assert_eq!(token.len(), 23, "{token}");
    let everything = format!("{}{}", out.stdout, out.stderr);
    assert!(
        everything.contains("kubeadm config for"),
        "-v 9 shows the configs: {everything}"
    );
    assert!(!everything.contains(&token), "the bootstrap token leaked");
    assert!(
        !everything.contains(&token[7..]),
        "the token's secret leaked"
    );
    assert!(!everything.contains("PRIVATE KEY"), "a private key leaked");
    // The exported kubeconfig holds the admin's key; the output never shows it.
    let kubeconfig = read(&c.kubeconfig());
    let key = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("client-key-data:"))
        .expect("admin key in the kubeconfig")
        .trim()
        .to_string();
    assert!(!everything.contains(&key[..40]));
}

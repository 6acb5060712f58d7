//! The user's kubeconfig files on disk: unknown fields kept, removal scoped to one cluster,
//! 20 writer processes racing on one file, stale and held locks, and real kubectl reading the
//! result.
//!
//! Helper processes are this test binary itself, re-run with `--exact <helper test>`; the
//! helper tests return at once unless their environment variable is set.

use kindling::kubeconfig::{
    KubeconfigError, KubeconfigLock, LockOptions, kind_kubeconfig, merge_into_file,
    remove_from_file,
};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ADMIN_CONF: &str = include_str!("../fixtures/kubeconfig/admin.conf");
const FOREIGN: &str = include_str!("../fixtures/kubeconfig/foreign.yaml");

/// Env vars that turn the helper tests below into real work.
const WRITER_PATH: &str = "KINDLING_IT_KUBECONFIG_WRITER_PATH";
const WRITER_CLUSTER: &str = "KINDLING_IT_KUBECONFIG_WRITER_CLUSTER";
const HOLDER_PATH: &str = "KINDLING_IT_KUBECONFIG_HOLDER_PATH";
const HOLDER_MODE: &str = "KINDLING_IT_KUBECONFIG_HOLDER_MODE";

fn server_for(cluster: &str) -> String {
    // A distinct, recognisable port per cluster name.
    let port = 30000 + cluster.bytes().map(u32::from).sum::<u32>();
    format!("https://127.0.0.1:{port}")
}

fn entry(cluster: &str) -> kindling::kubeconfig::Kubeconfig {
    kind_kubeconfig(ADMIN_CONF, cluster, Some(&server_for(cluster))).unwrap()
}

/// Parses YAML into a plain JSON value, independent of kindling's kubeconfig types.
fn value_of(text: &str) -> Value {
    let mut docs = kindling::yaml::documents(text).unwrap();
    assert_eq!(docs.len(), 1, "{text}");
    docs.remove(0)
}

fn file_value(path: &Path) -> Value {
    value_of(&std::fs::read_to_string(path).unwrap())
}

/// What a `kind-<cluster>` entry must look like, derived from admin.conf by kind's rules.
fn expected_entries(cluster: &str) -> (Value, Value, Value) {
    let admin = value_of(ADMIN_CONF);
    let key = format!("kind-{cluster}");
    let mut c = admin["clusters"][0].clone();
    c["name"] = json!(key);
    c["cluster"]["server"] = json!(server_for(cluster));
    let mut u = admin["users"][0].clone();
    u["name"] = json!(key);
    let ctx = json!({"name": key, "context": {"cluster": key, "user": key}});
    (c, u, ctx)
}

fn push_entries(config: &mut Value, cluster: &str) {
    let (c, u, ctx) = expected_entries(cluster);
    config["clusters"].as_array_mut().unwrap().push(c);
    config["users"].as_array_mut().unwrap().push(u);
    config["contexts"].as_array_mut().unwrap().push(ctx);
}

fn names(config: &Value, list: &str) -> Vec<String> {
    let mut names: Vec<String> = config[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn this_test_binary(helper: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", helper, "--nocapture", "--test-threads=1"]);
    cmd.env_remove(WRITER_PATH)
        .env_remove(WRITER_CLUSTER)
        .env_remove(HOLDER_PATH)
        .env_remove(HOLDER_MODE);
    cmd
}

/// Checks the helper exited cleanly and really ran (a wrong test name would run nothing).
fn assert_helper_ran(output: &Output, marker: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.lines().any(|l| l.ends_with(marker)),
        "helper did not finish ({:?}); stdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Helper process: merges one `kind-<cluster>` entry into a file, with the default lock wait.
#[test]
fn writer_process() {
    let (Some(path), Some(cluster)) = (
        std::env::var_os(WRITER_PATH),
        std::env::var(WRITER_CLUSTER).ok(),
    ) else {
        return;
    };
    merge_into_file(Path::new(&path), &entry(&cluster), &LockOptions::default())
        .unwrap_or_else(|err| panic!("writer {cluster}: {:#}", anyhow::Error::from(err)));
    println!("WRITER-OK {cluster}");
}

/// Helper process: takes the lock, says so, then either dies holding it (`exit`) or releases
/// it after a line on stdin (`wait`).
#[test]
fn lock_holder_process() {
    let (Some(path), Ok(mode)) = (std::env::var_os(HOLDER_PATH), std::env::var(HOLDER_MODE)) else {
        return;
    };
    let lock = KubeconfigLock::acquire(Path::new(&path), &LockOptions::default()).unwrap();
    println!("LOCKED");
    std::io::stdout().flush().unwrap();
    if mode == "exit" {
        // Like a crash: no destructor runs, so the lock file stays behind.
        std::process::exit(0);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    lock.release().unwrap();
    println!("RELEASED");
}

#[test]
fn twenty_writer_processes_each_add_their_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kube").join("config");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, FOREIGN).unwrap();

    let clusters: Vec<String> = (0..20).map(|i| format!("w{i:02}")).collect();
    let start = Instant::now();
    let children: Vec<_> = clusters
        .iter()
        .map(|cluster| {
            this_test_binary("kubeconfig_files::writer_process")
                .env(WRITER_PATH, &path)
                .env(WRITER_CLUSTER, cluster)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (cluster, child) in clusters.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        assert_helper_ran(&output, &format!("WRITER-OK {cluster}"));
    }
    eprintln!("20 writer processes finished in {:?}", start.elapsed());

    let result = file_value(&path);
    let mut expected_names: Vec<String> = clusters.iter().map(|c| format!("kind-{c}")).collect();
    expected_names.push("prod".into());
    expected_names.sort();
    assert_eq!(names(&result, "contexts"), expected_names);
    assert_eq!(names(&result, "clusters"), expected_names);
    let mut users = expected_names.clone();
    users.retain(|n| n != "prod");
    users.push("prod-admin".into());
    users.sort();
    assert_eq!(names(&result, "users"), users);
    let current = result["current-context"].as_str().unwrap();
    assert!(current.starts_with("kind-w"), "current-context {current}");
    // Each writer's own entry is intact (no writer overwrote another's half-written state).
    for cluster in &clusters {
        let (c, _, _) = expected_entries(cluster);
        assert!(
            result["clusters"].as_array().unwrap().contains(&c),
            "{cluster}"
        );
    }
    // No lock or temp file left behind.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "config")
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");

    if let Some(kubectl) = kubectl() {
        assert_eq!(kubectl_contexts(&kubectl, &path), expected_names);
    }
}

#[test]
fn twenty_writers_through_a_symlink_and_its_target_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // ~/.kube/config as a link into a dotfiles directory: another directory, so the two names
    // would get different `.lock` files if the link were not resolved.
    let target = dir.path().join("dotfiles").join("kubeconfig");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, FOREIGN).unwrap();
    let link = dir.path().join("kube").join("config");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("../dotfiles/kubeconfig", &link).unwrap();

    let clusters: Vec<String> = (0..20).map(|i| format!("s{i:02}")).collect();
    let children: Vec<_> = clusters
        .iter()
        .enumerate()
        .map(|(i, cluster)| {
            let path = if i % 2 == 0 { &link } else { &target };
            this_test_binary("kubeconfig_files::writer_process")
                .env(WRITER_PATH, path)
                .env(WRITER_CLUSTER, cluster)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (cluster, child) in clusters.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        assert_helper_ran(&output, &format!("WRITER-OK {cluster}"));
    }
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let result = file_value(&target);
    let mut expected: Vec<String> = clusters.iter().map(|c| format!("kind-{c}")).collect();
    expected.push("prod".into());
    expected.sort();
    assert_eq!(
        names(&result, "contexts"),
        expected,
        "no writer's entry lost"
    );
    assert_eq!(names(&result, "clusters"), expected);
    for sub in ["dotfiles", "kube"] {
        let left: Vec<_> = std::fs::read_dir(dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "kubeconfig" && n != "config")
            .collect();
        assert!(left.is_empty(), "left behind in {sub}: {left:?}");
    }
}

#[test]
fn unknown_fields_survive_and_removal_touches_only_its_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, FOREIGN).unwrap();
    let original = value_of(FOREIGN);
    let opts = LockOptions::default();

    merge_into_file(&path, &entry("a"), &opts).unwrap();
    let mut expected = original.clone();
    push_entries(&mut expected, "a");
    expected["current-context"] = json!("kind-a");
    assert_eq!(
        file_value(&path),
        expected,
        "merge kept every foreign field"
    );

    merge_into_file(&path, &entry("b"), &opts).unwrap();
    push_entries(&mut expected, "b");
    expected["current-context"] = json!("kind-b");
    assert_eq!(file_value(&path), expected);

    // The user switches back to their own context, then cluster a is deleted.
    let mut switched = file_value(&path);
    switched["current-context"] = json!("prod");
    std::fs::write(&path, kindling::yaml::to_string(&switched).unwrap()).unwrap();
    assert!(remove_from_file(&path, "a", &opts).unwrap());
    let mut expected = original.clone();
    push_entries(&mut expected, "b");
    assert_eq!(
        file_value(&path),
        expected,
        "only kind-a went; prod, kind-b and the foreign current-context stay"
    );

    // Removing b too gives back the user's file exactly (as data).
    assert!(remove_from_file(&path, "b", &opts).unwrap());
    assert_eq!(file_value(&path), original);
    assert!(
        !remove_from_file(&path, "b", &opts).unwrap(),
        "nothing left to remove"
    );
}

#[test]
fn lock_left_by_a_dead_process_is_reported_with_the_command_that_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let holder = this_test_binary("kubeconfig_files::lock_holder_process")
        .env(HOLDER_PATH, &path)
        .env(HOLDER_MODE, "exit")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let holder_pid = holder.id();
    let output = holder.wait_with_output().unwrap();
    assert_helper_ran(&output, "LOCKED");
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    assert!(lock.exists(), "the crashed holder left its lock");

    let patient = LockOptions {
        timeout: Duration::from_secs(60),
        ..LockOptions::default()
    };
    let start = Instant::now();
    let err = merge_into_file(&path, &entry("a"), &patient).unwrap_err();
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "waited {waited:?} for a dead process"
    );
    let KubeconfigError::StaleLock { pid, .. } = &err else {
        panic!("expected a stale lock error, got {err:?}");
    };
    assert_eq!(*pid, holder_pid);
    let message = err.to_string();
    assert!(message.contains("no longer running"), "{message}");
    assert!(
        lock.exists(),
        "kindling does not remove a lock it did not create"
    );
    assert!(!path.exists(), "nothing written");

    // The command in the message really clears it.
    let command = message
        .rsplit_once("remove the lock with: ")
        .map(|(_, cmd)| cmd)
        .unwrap_or_else(|| panic!("no command in: {message}"));
    let status = Command::new("sh").args(["-c", command]).status().unwrap();
    assert!(status.success(), "{command}");
    merge_into_file(&path, &entry("a"), &patient).unwrap();
    assert_eq!(file_value(&path)["current-context"], "kind-a");
}

#[test]
fn lock_held_by_another_process_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let mut holder = this_test_binary("kubeconfig_files::lock_holder_process")
        .env(HOLDER_PATH, &path)
        .env(HOLDER_MODE, "wait")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    // libtest prints "test <name> ... " on the same line before the test's own output.
    while !line.trim_end().ends_with("LOCKED") {
        line.clear();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "holder ended early"
        );
    }

    let (tx, rx) = mpsc::channel();
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || {
            tx.send(merge_into_file(&path, &entry("a"), &LockOptions::default()))
                .unwrap();
        })
    };
    // While the other process holds the lock our write must be waiting, not failing.
    match rx.recv_timeout(Duration::from_millis(500)) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        other => panic!("write did not wait for the held lock: {other:?}"),
    }
    assert!(!path.exists());
    holder.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(holder.wait().unwrap().success());
    rx.recv().unwrap().unwrap();
    writer.join().unwrap();
    assert_eq!(file_value(&path)["current-context"], "kind-a");
}

#[test]
fn kubectl_reads_merged_and_pruned_files() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("config");
    let opts = LockOptions::default();
    merge_into_file(&path, &entry("a"), &opts).unwrap();
    merge_into_file(&path, &entry("b"), &opts).unwrap();
    assert_eq!(kubectl_contexts(&kubectl, &path), ["kind-a", "kind-b"]);
    assert_eq!(
        run_kubectl(&kubectl, &path, &["config", "current-context"]),
        "kind-b"
    );
    let server = run_kubectl(
        &kubectl,
        &path,
        &[
            "config",
            "view",
            "--raw",
            "-o",
            "jsonpath={.clusters[?(@.name==\"kind-a\")].cluster.server}",
        ],
    );
    assert_eq!(server, server_for("a"));

    // Removal of our current cluster leaves a file kubectl still reads, with no current context.
    assert!(remove_from_file(&path, "b", &opts).unwrap());
    assert_eq!(kubectl_contexts(&kubectl, &path), ["kind-a"]);
    assert_eq!(
        run_kubectl(
            &kubectl,
            &path,
            &["config", "view", "-o", "jsonpath={.current-context}"]
        ),
        ""
    );

    // kubectl honours kindling's lock (same `<file>.lock` name) and fails while it is held.
    let lock = KubeconfigLock::acquire(&path, &opts).unwrap();
    let blocked = Command::new(&kubectl)
        .args(["config", "use-context", "kind-a", "--kubeconfig"])
        .arg(&path)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        !blocked.status.success(),
        "kubectl wrote while kindling held the lock"
    );
    assert!(
        String::from_utf8_lossy(&blocked.stderr).contains("config.lock"),
        "{}",
        String::from_utf8_lossy(&blocked.stderr)
    );
    lock.release().unwrap();

    // And kindling reads back what kubectl writes.
    run_kubectl(&kubectl, &path, &["config", "use-context", "kind-a"]);
    merge_into_file(&path, &entry("c"), &opts).unwrap();
    assert_eq!(kubectl_contexts(&kubectl, &path), ["kind-a", "kind-c"]);
}

/// `KINDLING_TEST_KUBECTL`, else `kubectl` on PATH; `None` (with the reason printed) when
/// there is none and peers are not required.
fn kubectl() -> Option<PathBuf> {
    let found = match std::env::var_os("KINDLING_TEST_KUBECTL").filter(|v| !v.is_empty()) {
        Some(explicit) => Some(PathBuf::from(explicit)),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("kubectl"))
                .find(|candidate| candidate.is_file())
        }),
    };
    if found.is_none() {
        assert!(
            std::env::var("KINDLING_REQUIRE_PEERS").as_deref() != Ok("1"),
            "kubectl not found (set KINDLING_TEST_KUBECTL or put kubectl on PATH); \
             KINDLING_REQUIRE_PEERS=1 makes this a failure"
        );
        eprintln!(
            "skipping the kubectl checks: no kubectl on PATH and KINDLING_TEST_KUBECTL unset"
        );
    }
    found
}

fn run_kubectl(kubectl: &Path, config: &Path, args: &[&str]) -> String {
    let output = Command::new(kubectl)
        .args(args)
        .arg("--kubeconfig")
        .arg(config)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn kubectl_contexts(kubectl: &Path, config: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        run_kubectl(kubectl, config, &["config", "get-contexts", "-o", "name"])
            .lines()
            .map(str::to_string)
            .collect();
    names.sort();
    names
}

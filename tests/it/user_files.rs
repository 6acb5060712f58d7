//! Never harm what the user owns: kubeconfig files checked before a create makes anything,
//! problems at delete reported after the nodes are gone, leftovers of killed writers removed,
//! device files and other users' files left alone, bounded reads, short quotes of absurd
//! values, and stdout write failures.
//!
//! Commands that could read without bound on a broken build run under `ulimit -v`, so a
//! regression fails the test instead of exhausting the machine's memory.

use crate::common::{
    TestCluster, dead_pid, docker_available, kindling, run, standin_image, unique_name,
};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Address space allowed to a kindling run that must stop reading early (KiB for `ulimit -v`).
const MEMORY_LIMIT_KIB: u64 = 1_500_000;

/// `kindling <args>` inside `sh -c 'ulimit -v …; exec kindling "$@"'`.
fn kindling_with_memory_limit(args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_kindling"))
        .args(args)
        .env_remove("KIND_CLUSTER_NAME")
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1");
    cmd
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A character device node like `/dev/null` (1,3) or `/dev/zero` (1,5), but in a test's own
/// directory, so no run (even of a broken build) can touch the real ones. Needs root.
fn device_node(path: &Path, minor: u32) -> bool {
    if !is_root() {
        eprintln!("skipping the device-file checks: mknod needs root");
        return false;
    }
    run(Command::new("mknod")
        .arg(path)
        .args(["c", "1", &minor.to_string()]))
    .ok();
    true
}

/// A lock file as a kindling process on this host writes it, for a process that is gone.
fn stale_lock_text() -> String {
    kindling::kubeconfig::lock_text_of(dead_pid())
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A kubeconfig holding `kind-<name>` (so a delete of `name` must rewrite it) and another entry.
fn kubeconfig_with_entry(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kind-{name}\n  cluster:\n    server: https://127.0.0.1:1\n- name: other\n  cluster:\n    server: https://127.0.0.1:2\ncontexts:\n- name: kind-{name}\n  context:\n    cluster: kind-{name}\n    user: kind-{name}\ncurrent-context: kind-{name}\nusers:\n- name: kind-{name}\n  user: {{}}\n"
    )
}

#[test]
fn stdout_write_failures_are_errors_and_a_closed_pipe_is_quiet() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    for args in [
        &["version"][..],
        &["completion", "bash"],
        &["--help"],
        &["create", "cluster", "--dry-run", "--name", "kt-stdout"],
    ] {
        let out = crate::common::Run::from(
            kindling()
                .args(args)
                .stdin(Stdio::null())
                .stdout(full())
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, 1, "{args:?} to /dev/full: {}", out.stderr);
        assert!(
            out.stderr.contains("ERROR: ") && out.stderr.contains("failed to write to stdout"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("No space left on device"),
            "the cause is shown: {}",
            out.stderr
        );
    }
    // A reader that went away (`| head`) has what it wanted: no error.
    for args in [&["completion", "bash"][..], &["version"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = crate::common::Run::from(
            kindling()
                .args(args)
                .stdin(Stdio::null())
                .stdout(writer)
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, 0, "{args:?} into a closed pipe: {}", out.stderr);
        assert_eq!(out.stderr, "", "{args:?}");
    }
}

#[test]
fn configs_are_read_up_to_a_limit() {
    let out = run(&mut kindling_with_memory_limit(&[
        "create",
        "cluster",
        "--config",
        "/dev/zero",
    ]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error reading file: /dev/zero") && out.stderr.contains("8 MiB"),
        "names the file and the limit: {}",
        out.stderr
    );
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out = crate::common::Run::from(
        kindling_with_memory_limit(&["create", "cluster", "--config", "-"])
            .stdin(zero)
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error reading config from stdin") && out.stderr.contains("8 MiB"),
        "{}",
        out.stderr
    );
}

#[test]
fn absurd_names_and_values_are_refused_and_quoted_short() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "a".repeat(3 << 20);
    // Before use: a name of valid characters but absurd length, from the config.
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: {huge}\n"),
    )
    .unwrap();
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec!["create", "cluster", "--config", config.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = run(kindling()
            .args(&args)
            .env("DOCKER_HOST", "unix:///nonexistent.sock"));
        assert_eq!(out.code, 1, "{}", &out.stderr[..out.stderr.len().min(500)]);
        assert!(
            out.stderr.len() < 400,
            "{} bytes of stderr: {}…",
            out.stderr.len(),
            &out.stderr[..400]
        );
        assert!(
            out.stderr.contains("at most 253 characters")
                && out
                    .stderr
                    .contains(&format!("({} bytes in all)", huge.len())),
            "{}",
            out.stderr
        );
    }
    // Flags and KIND_CLUSTER_NAME of every command (the kernel caps one argument at 128 KiB).
    let long = "b".repeat(100_000);
    for args in [
        vec!["create", "cluster", "--name", &long],
        vec!["delete", "cluster", "--name", &long],
        vec!["delete", "clusters", "kind", &long],
        vec!["get", "nodes", "--name", &long],
        vec!["get", "kubeconfig", "--name", &long],
        vec!["export", "kubeconfig", "--name", &long],
        vec!["load", "docker-image", "x", "--name", &long],
    ] {
        let out = run(kindling()
            .args(&args)
            .env("DOCKER_HOST", "unix:///nonexistent.sock"));
        assert_eq!(out.code, 1, "{:?}", &args[..2]);
        assert!(
            out.stderr.len() < 400 && out.stderr.contains("at most 253 characters"),
            "{:?}: {} bytes: {}",
            &args[..2],
            out.stderr.len(),
            &out.stderr[..out.stderr.len().min(400)]
        );
    }
    // Values clap rejects are quoted short too.
    for args in [
        vec!["create", "cluster", "--wait", &long],
        vec!["get", "clusters", &long],
        vec!["create", "cluster", "--key-algorithm", &long],
    ] {
        let out = run(kindling().args(&args));
        assert_eq!(out.code, 1, "{:?}", &args[..2]);
        assert!(
            out.stderr.len() < 400 && out.stderr.contains("bytes in all)"),
            "{:?}: {} bytes: {}",
            &args[..2],
            out.stderr.len(),
            &out.stderr[..out.stderr.len().min(400)]
        );
    }
    let out = run(kindling()
        .args(["get", "nodes"])
        .env("KIND_CLUSTER_NAME", &long)
        .env("DOCKER_HOST", "unix:///nonexistent.sock"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.len() < 400 && out.stderr.contains("at most 253"),
        "{}",
        &out.stderr[..out.stderr.len().min(400)]
    );
    // Other bad values in a config are quoted short too.
    for yaml in [
        format!("kind: Cluster\napiVersion: {huge}\n"),
        format!("kind: {huge}\napiVersion: kind.x-k8s.io/v1alpha4\n"),
        format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  podSubnet: {huge}\n  kubeProxyMode: {huge}\n"
        ),
        format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  apiServerPort: \"{huge}\"\n"
        ),
    ] {
        std::fs::write(&config, &yaml).unwrap();
        let out = run(kindling().args([
            "create",
            "cluster",
            "--dry-run",
            "--config",
            config.to_str().unwrap(),
        ]));
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.len() < 1200,
            "{} bytes of stderr: {}…",
            out.stderr.len(),
            &out.stderr[..1200]
        );
    }
}

#[test]
fn create_checks_its_kubeconfig_before_making_anything() {
    if !docker_available() {
        return;
    }
    let image = standin_image();
    let dir = tempfile::tempdir().unwrap();
    let name = unique_name("kcfg-pre");
    // Each case: (kubeconfig path, what the error must say).
    let corrupt = dir.path().join("corrupt");
    std::fs::write(&corrupt, "apiVersion: v1\nclusters: [\n").unwrap();
    let stale = dir.path().join("stale");
    std::fs::write(dir.path().join("stale.lock"), stale_lock_text()).unwrap();
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, "").unwrap();
    let mut cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            corrupt.clone(),
            vec!["is not a valid kubeconfig", "line 3, column 1"],
        ),
        (stale.clone(), vec!["no longer running", "rm "]),
        (
            blocked.join("sub").join("config"),
            vec!["failed to create directory", "Not a directory"],
        ),
    ];
    let null = dir.path().join("null");
    let zero = dir.path().join("zero");
    if device_node(&null, 3) && device_node(&zero, 5) {
        cases.push((
            null.clone(),
            vec!["is a character device, not a regular file", "--kubeconfig"],
        ));
        cases.push((zero.clone(), vec!["is a character device"]));
    }
    for (kubeconfig, expected) in &cases {
        let _guard = TestCluster {
            name: name.clone(),
            dir: tempfile::tempdir().unwrap(),
        };
        let out = run(&mut kindling_with_memory_limit(&[
            "create",
            "cluster",
            "--name",
            &name,
            "--image",
            &image,
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ]));
        let what = kubeconfig.display();
        assert_eq!(out.code, 1, "{what}: {}", out.stderr);
        for text in expected {
            assert!(
                out.stderr.contains(text),
                "{what}: {text:?} in {}",
                out.stderr
            );
        }
        assert!(
            !out.stderr.contains("Ensuring node image") && !out.stderr.contains("Preparing nodes"),
            "{what}: found before any step starts: {}",
            out.stderr
        );
        assert!(
            crate::common::containers_of(&name).is_empty(),
            "{what}: no container was made"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&corrupt).unwrap(),
        "apiVersion: v1\nclusters: [\n"
    );
    // No lock (nor anything else) was created beside any of them.
    let mut expected = vec!["a-file", "corrupt", "stale.lock"];
    if null.exists() {
        expected.extend(["null", "zero"]);
        expected.sort();
    }
    assert_eq!(names_in(dir.path()), expected);
}

#[test]
fn delete_removes_the_nodes_then_reports_what_it_could_not_clean() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("kcfg-del");
    c.create(&[]).ok();
    let kubeconfig = c.kubeconfig();
    let dir = c.dir.path();
    // A writer killed while writing this kubeconfig left its temp file (credentials inside).
    let leftover = dir.join(format!(".kubeconfig.kindling-{}-Zq81Xy.tmp", dead_pid()));
    std::fs::write(&leftover, "client-key-data: c2VjcmV0\n").unwrap();
    let corrupt = dir.join("corrupt");
    std::fs::write(&corrupt, "clusters: [\n").unwrap();
    let list = std::env::join_paths([&corrupt, &kubeconfig]).unwrap();
    let out = run(c
        .kindling(&["delete", "cluster", "--name", &c.name])
        .env("KUBECONFIG", &list));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let deleted = out
        .stderr
        .find(&format!("Deleted nodes: [\"{}-control-plane\"]", c.name))
        .unwrap_or_else(|| panic!("nodes reported: {}", out.stderr));
    let error = out.stderr.find("ERROR: ").expect("an error");
    assert!(
        deleted < error,
        "nodes first, then the error: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "kubeconfig {} is not a valid kubeconfig",
            corrupt.display()
        )) && out.stderr.contains("line 2"),
        "names the file and the cause: {}",
        out.stderr
    );
    assert!(c.containers().is_empty(), "the nodes are gone");
    assert!(
        !std::fs::read_to_string(&kubeconfig)
            .unwrap()
            .contains(&c.name),
        "the good file was still cleaned"
    );
    assert_eq!(std::fs::read_to_string(&corrupt).unwrap(), "clusters: [\n");
    assert!(!leftover.exists(), "the dead writer's temp file is gone");
    assert!(
        out.stderr
            .contains(&format!("removed {}", leftover.display())),
        "and that is said: {}",
        out.stderr
    );

    // A lock left by a dead kindling process: reported with the command that clears it.
    std::fs::write(dir.join("kubeconfig.lock"), stale_lock_text()).unwrap();
    let out = run(&mut c.kindling(&["delete", "cluster", "--name", &c.name]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no longer running"), "{}", out.stderr);
    std::fs::remove_file(dir.join("kubeconfig.lock")).unwrap();

    // A device as kubeconfig: read (boundedly), never locked.
    let zero = dir.join("zero");
    if device_node(&zero, 5) {
        let out = run(
            kindling_with_memory_limit(&["delete", "cluster", "--name", &c.name])
                .env("KUBECONFIG", &zero),
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("failed to read kubeconfig {}", zero.display()))
                && out.stderr.contains("8 MiB"),
            "{}",
            out.stderr
        );
        assert!(!dir.join("zero.lock").exists());
    }
}

/// The user other-user tests run kindling as (`nobody`).
const NOBODY: u32 = 65534;

/// `kindling <args>` as uid and gid 65534, in the Docker socket's group, with `HOME` set.
fn kindling_as_nobody(home: &Path, args: &[&str]) -> Command {
    let docker_gid = std::fs::metadata("/var/run/docker.sock")
        .expect("the Docker socket")
        .gid();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        &format!("--groups={docker_gid}"),
        env!("CARGO_BIN_EXE_kindling"),
    ])
    .args(args)
    .env("HOME", home)
    .env("NO_COLOR", "1")
    .env_remove("KUBECONFIG")
    .env_remove("KIND_CLUSTER_NAME");
    cmd
}

fn owner_and_mode(path: &Path) -> (u32, u32, u32) {
    let meta = std::fs::metadata(path).unwrap();
    (meta.uid(), meta.gid(), meta.mode() & 0o7777)
}

#[test]
fn other_users_files_keep_their_owner_and_mode_and_unwritable_ones_are_refused() {
    if !docker_available() {
        return;
    }
    if !is_root() {
        eprintln!("skipping: running kindling as another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    // A cluster name no cluster has: delete only rewrites the kubeconfig.
    let name = unique_name("kcfg-user");
    let as_nobody = |kubeconfig: &Path| {
        run(&mut kindling_as_nobody(
            dir.path(),
            &[
                "delete",
                "cluster",
                "--name",
                &name,
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
            ],
        ))
    };
    let original = kubeconfig_with_entry(&name);
    let file = |what: &str, uid: u32, mode: u32| {
        let path = dir.path().join(what);
        std::fs::write(&path, &original).unwrap();
        std::os::unix::fs::chown(&path, Some(uid), Some(uid)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    };

    // Refused: the user's own read-only file, and root's file the user may not write (though
    // the directory would let the user replace it).
    for (path, owner) in [
        (file("read-only", NOBODY, 0o444), NOBODY),
        (file("roots", 0, 0o644), 0),
    ] {
        let before = owner_and_mode(&path);
        let out = as_nobody(&path);
        assert_eq!(out.code, 1, "{}: {}", path.display(), out.stderr);
        assert!(
            out.stderr.contains("is not writable for uid 65534 (mode ")
                && out.stderr.contains(&format!("owner uid {owner}")),
            "{}",
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
        assert_eq!(owner_and_mode(&path), before, "{}", path.display());
    }
    // Rewritten, keeping owner, group and mode: the user's own 0640 file, and root's file that
    // the user may write (rewritten in place, since the user cannot give a file to root).
    for (path, expected) in [
        (file("mine", NOBODY, 0o640), (NOBODY, NOBODY, 0o640)),
        (file("shared", 0, 0o666), (0, 0, 0o666)),
    ] {
        let out = as_nobody(&path);
        assert_eq!(out.code, 0, "{}: {}", path.display(), out.stderr);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&name) && text.contains("other"), "{text}");
        assert_eq!(owner_and_mode(&path), expected, "{}", path.display());
    }
    // No temp file or lock was left behind.
    assert_eq!(
        names_in(dir.path()),
        ["mine", "read-only", "roots", "shared"]
    );
}

#[test]
fn another_users_uncreatable_directory_fails_early_and_a_link_into_a_locked_directory_works() {
    if !docker_available() {
        return;
    }
    if !is_root() {
        eprintln!("skipping: running kindling as another user needs root");
        return;
    }
    let image = standin_image();
    let dir = tempfile::tempdir().unwrap();
    // Root's directories, which the user may search but not write (like /etc/kubernetes).
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let roots = dir.path().join("roots");
    std::fs::create_dir(&roots).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    for d in [&home, &home.join(".kube")] {
        std::os::unix::fs::chown(d, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    let name = unique_name("kcfg-dirs");
    let _guard = TestCluster {
        name: name.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let create_as_nobody = |kubeconfig: &Path| {
        run(&mut kindling_as_nobody(
            &home,
            &[
                "create",
                "cluster",
                "--name",
                &name,
                "--image",
                &image,
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
            ],
        ))
    };
    let assert_nothing_made = |out: &crate::common::Run| {
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            !out.stderr.contains("Ensuring node image") && !out.stderr.contains("Preparing nodes"),
            "found before any step starts: {}",
            out.stderr
        );
        assert!(
            crate::common::containers_of(&name).is_empty(),
            "no container was made"
        );
    };

    // The kubeconfig's directory is missing and the user may not create it: found before any
    // container is made, not at the end.
    let missing = roots.join("new");
    let out = create_as_nobody(&missing.join("config"));
    assert_nothing_made(&out);
    assert!(
        out.stderr
            .contains(&format!("failed to create directory {}", missing.display()))
            && out.stderr.contains("Permission denied"),
        "{}",
        out.stderr
    );
    assert!(!missing.exists());

    // `~/.kube/config -> <root's dir>/admin.conf`, a file the user may write in a directory the
    // user may not: as with kubectl, the link's lock guards the write, done in place.
    let admin = roots.join("admin.conf");
    std::fs::write(&admin, kubeconfig_with_entry(&name)).unwrap();
    std::os::unix::fs::chown(&admin, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(&admin, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = home.join(".kube/config");
    std::os::unix::fs::symlink(&admin, &link).unwrap();
    let before = (
        owner_and_mode(&admin),
        std::fs::metadata(&admin).unwrap().ino(),
    );

    // The check before a create takes the link's lock: here one a killed kindling left.
    let link_lock = home.join(".kube/config.lock");
    std::fs::write(&link_lock, stale_lock_text()).unwrap();
    std::os::unix::fs::chown(&link_lock, Some(NOBODY), Some(NOBODY)).unwrap();
    let out = create_as_nobody(&link);
    assert_nothing_made(&out);
    assert!(
        out.stderr.contains(&format!(
            "the kubeconfig lock {} was left by process",
            link_lock.display()
        )),
        "{}",
        out.stderr
    );
    std::fs::remove_file(&link_lock).unwrap();

    let out = run(&mut kindling_as_nobody(
        &home,
        &["delete", "cluster", "--name", &name],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&admin).unwrap();
    assert!(!text.contains(&name) && text.contains("other"), "{text}");
    assert_eq!(
        (
            owner_and_mode(&admin),
            std::fs::metadata(&admin).unwrap().ino()
        ),
        before,
        "rewritten in place"
    );
    assert_eq!(names_in(&roots), ["admin.conf"]);
    assert_eq!(names_in(&home.join(".kube")), ["config"]);
}

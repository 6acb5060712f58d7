//! The CLI's contract without a Docker engine: help, exit codes, stdout/stderr discipline,
//! config errors, `--dry-run`, and every config example in the docs.

use crate::common::{kindling, repo_root, run};
use std::io::Write;
use std::process::{Command, Stdio};

fn with_stdin(cmd: &mut Command, input: &str) -> crate::common::Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kindling");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    crate::common::Run::from(child.wait_with_output().expect("wait kindling"))
}

#[test]
fn unreachable_engine_is_one_clear_line_and_exit_1() {
    let out = run(kindling()
        .args(["get", "clusters"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock"));
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "", "nothing on stdout");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", out.stderr);
    assert!(lines[0].starts_with("ERROR: "), "{}", lines[0]);
    assert!(
        lines[0].contains("unix:///nonexistent.sock"),
        "names the address: {}",
        lines[0]
    );
    assert!(
        lines[0].contains("Docker daemon is running"),
        "says what to do: {}",
        lines[0]
    );
}

#[test]
fn unknown_flags_and_missing_subcommands_exit_1_on_stderr() {
    let out = run(kindling().args(["get", "clusters", "--bogus"]));
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.starts_with("ERROR: ") && out.stderr.contains("--bogus"),
        "{}",
        out.stderr
    );

    let out = run(kindling().args(["get"]));
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("ERROR: Subcommand is required"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("clusters"),
        "group help is shown: {}",
        out.stderr
    );
}

#[test]
fn help_and_version_go_to_stdout() {
    let out = run(kindling().arg("--help")).ok();
    for cmd in [
        "create",
        "delete",
        "get",
        "export",
        "load",
        "version",
        "completion",
    ] {
        assert!(
            out.stdout.contains(cmd),
            "help lists {cmd}:\n{}",
            out.stdout
        );
    }
    let out = run(kindling().arg("version")).ok();
    assert!(out.stdout.starts_with("kind v0.33.0 "), "{}", out.stdout);
    assert_eq!(out.stderr, "");
}

/// Tools read kind's version shapes: ctlptl the second word of `kind version`, cluster-api
/// `v$(kind version -q)`, operator-sdk `kind --version | cut -d' ' -f3`.
#[test]
fn version_output_has_kinds_shapes() {
    let own = env!("CARGO_PKG_VERSION");
    // Go's GOOS/GOARCH names for the machines this runs on.
    let platform = match std::env::consts::ARCH {
        "x86_64" => "linux/amd64",
        "aarch64" => "linux/arm64",
        other => panic!("add Go's name for {other} to this test"),
    };
    let out = run(kindling().arg("version")).ok();
    let fields: Vec<&str> = out.stdout.trim_end().split(' ').collect();
    assert_eq!(
        fields,
        ["kind", "v0.33.0", &format!("kindling-v{own}"), platform],
        "{:?}",
        out.stdout
    );
    assert!(out.stdout.ends_with('\n'));
    for args in [
        &["version", "-q"][..],
        &["-q", "version"],
        &["version", "--quiet"],
    ] {
        assert_eq!(
            run(kindling().args(args)).ok().stdout,
            "0.33.0\n",
            "{args:?}"
        );
    }
    let out = run(kindling().arg("--version")).ok();
    assert_eq!(out.stdout, "kind version 0.33.0\n");
    assert_eq!(out.stdout.split(' ').nth(2), Some("0.33.0\n"));
    // kindling's own version stays reachable.
    let out = run(kindling().args(["version", "--kindling"])).ok();
    assert_eq!(out.stdout, format!("kindling v{own} {platform}\n"));
    let out = run(kindling().args(["version", "--kindling", "-q"])).ok();
    assert_eq!(out.stdout, format!("{own}\n"));
}

/// cobra's `help` command: `help get` is `get --help`; an unknown topic says so, exit 0.
#[test]
fn help_command_works_like_kinds() {
    let via_flag = run(kindling().args(["get", "--help"])).ok();
    let out = run(kindling().args(["help", "get"])).ok();
    assert_eq!(out.stdout, via_flag.stdout);
    assert_eq!(out.stderr, "");
    let nodes = run(kindling().args(["get", "nodes", "--help"])).ok();
    assert_eq!(
        run(kindling().args(["help", "get", "nodes"])).ok().stdout,
        nodes.stdout
    );
    // cobra stops at the first word that is not a subcommand.
    assert_eq!(
        run(kindling().args(["help", "get", "bogus"])).ok().stdout,
        via_flag.stdout
    );
    let root = run(kindling().arg("--help")).ok();
    assert_eq!(run(kindling().arg("help")).ok().stdout, root.stdout);
    assert!(
        root.stdout.contains("help "),
        "help is listed: {}",
        root.stdout
    );
    let out = run(kindling().args(["help", "bogus"])).ok();
    assert!(
        out.stdout.starts_with("Unknown help topic [`bogus`]\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("completion"), "{}", out.stdout);
}

/// Installed as `kind`, completion must register for `kind`, not `kindling`.
#[test]
fn completion_registers_for_the_name_it_was_invoked_as() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kind");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kindling"), &link).unwrap();
    let as_kind = |shell: &str| {
        let mut cmd = Command::new(&link);
        cmd.args(["completion", shell]);
        run(&mut cmd).ok().stdout
    };
    let bash = as_kind("bash");
    assert!(
        bash.contains("complete -F _kind -o nosort -o bashdefault -o default kind\n"),
        "{bash}"
    );
    assert!(
        !bash.contains("_kindling") && !bash.contains("default kindling"),
        "nothing registers kindling"
    );
    assert!(as_kind("zsh").starts_with("#compdef kind\n"));
    assert!(as_kind("fish").contains("complete -c kind "));
    assert!(as_kind("powershell").contains("-CommandName 'kind'"));
    let own = run(kindling().args(["completion", "bash"])).ok().stdout;
    assert!(own.contains("default kindling\n"), "{own}");
}

/// kind's `KIND_EXPERIMENTAL_PROVIDER`: `docker` announced, unknown values ignored with kind's
/// message; providers kindling lacks fail before anything is touched, naming the provider.
#[test]
fn experimental_provider_other_than_docker_fails_naming_it() {
    for provider in ["podman", "nerdctl", "finch", "nerdctl.lima"] {
        for args in [
            &["get", "clusters"][..],
            &["create", "cluster", "--dry-run"],
            &["delete", "cluster"],
            &["load", "docker-image", "x"],
        ] {
            let out = run(kindling()
                .args(args)
                .env("KIND_EXPERIMENTAL_PROVIDER", provider)
                .env("DOCKER_HOST", "unix:///nonexistent.sock"));
            assert_eq!(out.code, 1, "{provider} {args:?}: {}", out.stderr);
            assert_eq!(out.stdout, "");
            assert!(
                out.stderr.starts_with(&format!(
                    "ERROR: KIND_EXPERIMENTAL_PROVIDER={provider} asks for the {provider} provider"
                )) && out.stderr.contains("does not support"),
                "{}",
                out.stderr
            );
            assert!(
                !out.stderr.contains("nonexistent.sock"),
                "no engine contacted"
            );
        }
    }
    let out = run(kindling()
        .args(["get", "clusters"])
        .env("KIND_EXPERIMENTAL_PROVIDER", "docker")
        .env("DOCKER_HOST", "unix:///nonexistent.sock"));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .starts_with("using docker due to KIND_EXPERIMENTAL_PROVIDER\nERROR: "),
        "{}",
        out.stderr
    );
    let out = run(kindling()
        .args(["create", "cluster", "--dry-run"])
        .env("KIND_EXPERIMENTAL_PROVIDER", "Podman"))
    .ok();
    assert!(
        out.stderr
            .starts_with("ignoring unknown value \"Podman\" for KIND_EXPERIMENTAL_PROVIDER\n"),
        "{}",
        out.stderr
    );
    // Commands without a provider ignore it, as in kind.
    run(kindling()
        .arg("version")
        .env("KIND_EXPERIMENTAL_PROVIDER", "podman"))
    .ok();
}

#[test]
fn experimental_docker_network_is_the_planned_network() {
    let out = run(kindling()
        .args(["create", "cluster", "--dry-run", "-o", "json"])
        .env("KIND_EXPERIMENTAL_DOCKER_NETWORK", "my-net"))
    .ok();
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON plan");
    assert_eq!(plan["network"], "my-net");
    let out = run(kindling()
        .args(["create", "cluster", "--dry-run", "-o", "json"])
        .env("KIND_EXPERIMENTAL_DOCKER_NETWORK", ""))
    .ok();
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON plan");
    assert_eq!(plan["network"], "kind", "an empty value is unset");
}

#[test]
fn completion_scripts_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef"),
        ("fish", "complete -c kindling"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = run(kindling().args(["completion", shell])).ok();
        assert!(
            out.stdout.contains(marker),
            "{shell} completion lacks {marker:?}"
        );
    }
    assert_eq!(run(kindling().args(["completion"])).code, 1);
}

#[test]
fn dry_run_prints_the_plan_on_stdout_and_touches_nothing() {
    // An unreachable engine proves the dry run never talks to Docker.
    let out = run(kindling()
        .args(["create", "cluster", "--dry-run", "--name", "plan-me"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock"))
    .ok();
    assert!(
        out.stdout.contains("plan-me-control-plane"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("127.0.0.1:random->6443/tcp"),
        "{}",
        out.stdout
    );
    let config = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n  extraMounts:\n  - hostPath: ./data\n    containerPath: /data\n    readOnly: true\n- role: worker\n";
    let out = with_stdin(
        kindling()
            .args([
                "create",
                "cluster",
                "--dry-run",
                "--config",
                "-",
                "-o",
                "json",
            ])
            .env("KIND_CLUSTER_NAME", "from-env")
            .current_dir(std::env::temp_dir()),
        config,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON plan");
    assert_eq!(plan["name"], "from-env");
    let nodes = plan["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["ports"][0], "0.0.0.0:8080->80/tcp");
    let tmp = std::env::temp_dir().canonicalize().unwrap();
    assert_eq!(
        nodes[0]["mounts"][0],
        format!("{}/data:/data:ro", tmp.display())
    );
    assert_eq!(nodes[1]["name"], "from-env-worker");
    // --name beats KIND_CLUSTER_NAME.
    let out = with_stdin(
        kindling()
            .args([
                "create",
                "cluster",
                "--dry-run",
                "--config",
                "-",
                "--name",
                "flag",
            ])
            .env("KIND_CLUSTER_NAME", "from-env"),
        config,
    );
    assert!(out.stdout.contains("flag-control-plane"), "{}", out.stdout);
}

#[test]
fn invalid_config_reports_every_problem_and_exits_1() {
    let config = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: Bad_Name\nnetworking:\n  ipFamily: ipv5\nnodes:\n- role: master\n";
    let out = with_stdin(
        kindling().args(["create", "cluster", "--dry-run", "--config", "-"]),
        config,
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.starts_with("ERROR: failed to create cluster: "),
        "{}",
        out.stderr
    );
    for expected in [
        "'Bad_Name' is not a valid cluster name",
        "invalid ipFamily: ipv5",
        "\"master\" is not a valid node role",
        "must have at least one control-plane node",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing {expected:?} in:\n{}",
            out.stderr
        );
    }
    let out = with_stdin(
        kindling().args(["create", "cluster", "--dry-run", "--config", "-"]),
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: worker\n  bogus: true\n",
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("bogus") && out.stderr.contains("line 5"),
        "{}",
        out.stderr
    );
    let out = run(kindling().args([
        "create",
        "cluster",
        "--dry-run",
        "--config",
        "/nonexistent/kind.yaml",
    ]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("/nonexistent/kind.yaml"),
        "{}",
        out.stderr
    );
}

/// Every `yaml` code block in README.md and docs/ that is a kind `Cluster` must be accepted.
#[test]
fn every_config_example_in_the_docs_is_valid() {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("docs entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read doc");
        let mut block: Option<String> = None;
        for line in text.lines() {
            match (&mut block, line.trim_start()) {
                (None, l) if l.starts_with("```yaml") => block = Some(String::new()),
                (Some(b), l) if l.starts_with("```") => {
                    if b.contains("kind: Cluster") {
                        let out = with_stdin(
                            kindling()
                                .args(["create", "cluster", "--dry-run", "--config", "-"])
                                .current_dir(std::env::temp_dir()),
                            b,
                        );
                        assert_eq!(
                            out.code,
                            0,
                            "example in {} is rejected:\n{b}\n{}",
                            file.display(),
                            out.stderr
                        );
                        checked += 1;
                    }
                    block = None;
                }
                (Some(b), _) => {
                    b.push_str(line);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
    }
    assert!(
        checked >= 5,
        "expected the docs to hold config examples, found {checked}"
    );
}

#[test]
fn key_algorithm_accepts_the_documented_names() {
    for value in ["ecdsa-p256", "rsa-2048"] {
        let out =
            run(kindling().args(["create", "cluster", "--dry-run", "--key-algorithm", value]));
        assert_eq!(out.code, 0, "--key-algorithm {value}: {}", out.stderr);
        let out = run(kindling()
            .args(["create", "cluster", "--dry-run"])
            .env("KINDLING_KEY_ALGORITHM", value));
        assert_eq!(
            out.code, 0,
            "KINDLING_KEY_ALGORITHM={value}: {}",
            out.stderr
        );
    }
    let out = run(kindling().args(["create", "cluster", "--dry-run", "--key-algorithm", "dsa"]));
    assert_eq!(out.code, 1);
}

/// kind 0.33.0's default node image (its `pkg/apis/config/defaults/image.go`).
const KIND_0_33_DEFAULT_IMAGE: &str =
    "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5";

#[test]
fn default_node_image_is_kind_0_33s() {
    let out = run(kindling().args(["create", "cluster", "--dry-run", "-o", "json"])).ok();
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON plan");
    assert_eq!(plan["nodes"][0]["image"], KIND_0_33_DEFAULT_IMAGE);
}

/// Side by side with the real kind binary the tests fetch: the same version answers, and its
/// default node image is the one kindling uses.
#[test]
fn version_and_default_image_match_the_real_kind() {
    let Some(kind) = std::env::var_os("KINDLING_TEST_KIND")
        .map(std::path::PathBuf::from)
        .or_else(|| crate::common::which("kind"))
    else {
        assert_ne!(
            std::env::var("KINDLING_REQUIRE_PEERS").as_deref(),
            Ok("1"),
            "kind is required (KINDLING_TEST_KIND)"
        );
        eprintln!("skipping: no kind binary (set KINDLING_TEST_KIND)");
        return;
    };
    let real = |args: &[&str]| run(Command::new(&kind).args(args)).ok().stdout;
    let ours = |args: &[&str]| run(kindling().args(args)).ok().stdout;
    assert_eq!(ours(&["version", "-q"]), real(&["version", "-q"]));
    assert_eq!(ours(&["--version"]), real(&["--version"]));
    let (o, r) = (ours(&["version"]), real(&["version"]));
    let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&o).len(), words(&r).len(), "{o} / {r}");
    assert_eq!(words(&o)[..2], words(&r)[..2], "{o} / {r}");
    assert_eq!(words(&o)[3], words(&r)[3], "{o} / {r}");
    // The default image is a constant compiled into kind.
    let binary = std::fs::read(&kind).expect("read the kind binary");
    let needle = KIND_0_33_DEFAULT_IMAGE.as_bytes();
    assert!(
        binary.windows(needle.len()).any(|w| w == needle),
        "{} does not hold {KIND_0_33_DEFAULT_IMAGE}",
        kind.display()
    );
}

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
    let fields: Vec<&str> = out.stdout.split_whitespace().collect();
    assert_eq!(fields[0], "kindling");
    assert_eq!(fields[1], format!("v{}", env!("CARGO_PKG_VERSION")));
    let out = run(kindling().args(["-q", "version"])).ok();
    assert_eq!(out.stdout, format!("{}\n", env!("CARGO_PKG_VERSION")));
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

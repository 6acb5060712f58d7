//! Shared helpers for the integration tests: the kindling binary, the stand-in node image,
//! unique cluster names and guards that delete what a test created, even when it fails.

#![allow(dead_code)]

pub mod docker_proxy;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The label every kind/kindling container carries.
pub const CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";

/// The kindling binary under test.
pub fn kindling() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
    cmd.env_remove("KIND_CLUSTER_NAME")
        .env_remove("KUBECONFIG")
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .env_remove("KIND_EXPERIMENTAL_DOCKER_NETWORK")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs a command and returns its output, with stdout/stderr as text.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Run::from(out)
}

/// A finished command.
#[derive(Debug, Clone)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Panics with both streams unless the command succeeded.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Whether end-to-end tests can run. With `KINDLING_E2E=require` (the README's test command)
/// a missing engine is a failure; otherwise the test prints why it is skipped.
pub fn docker_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let ok = *AVAILABLE.get_or_init(|| {
        Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !ok {
        if std::env::var("KINDLING_E2E").as_deref() == Ok("require") {
            panic!("KINDLING_E2E=require but no Docker engine answers (docker version failed)");
        }
        eprintln!(
            "skipping end-to-end test: no Docker engine answers (run the README's test command to run them)"
        );
    }
    ok
}

/// Repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The image a repository build script (`images/*/build`, `tests/standin/build`) makes, built on
/// first use (the scripts do nothing when it is up to date); the reference is the last line of
/// the script's stdout. Each script runs once per test process, one at a time.
pub fn built_image(script: &str) -> String {
    static BUILT: std::sync::Mutex<std::collections::BTreeMap<String, String>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(image) = built.get(script) {
        return image.clone();
    }
    let out = Command::new(repo_root().join(script))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    assert!(out.status.success(), "{script} failed");
    let image = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_else(|| panic!("{script} printed no image reference"))
        .trim()
        .to_string();
    built.insert(script.to_string(), image.clone());
    image
}

/// The stand-in node image, built by `tests/standin/build` on first use (a no-op when present).
pub fn standin_image() -> String {
    built_image("tests/standin/build")
}

/// The locally built load-balancer image, built by `images/haproxy/build` on first use.
pub fn haproxy_image() -> String {
    built_image("images/haproxy/build")
}

/// A cluster name nobody else uses: `kt-<what>-<random>`.
pub fn unique_name(what: &str) -> String {
    let mut bytes = [0u8; 3];
    getrandom::fill(&mut bytes).expect("random bytes");
    format!(
        "kt-{what}-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A cluster a test owns: deleted (with its kubeconfig dir) when dropped, pass or fail.
pub struct TestCluster {
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl TestCluster {
    /// A new name and a private directory (kubeconfig, config files) for it.
    pub fn new(what: &str) -> Self {
        TestCluster {
            name: unique_name(what),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The private kubeconfig file every command of this test uses.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// `kindling <args>` with this cluster's kubeconfig in the environment.
    pub fn kindling(&self, args: &[&str]) -> Command {
        let mut cmd = kindling();
        cmd.args(args).env("KUBECONFIG", self.kubeconfig());
        cmd
    }

    /// `kindling create cluster --name <name> --image <stand-in> <extra>`, run.
    pub fn create(&self, extra: &[&str]) -> Run {
        run(&mut self.create_cmd(extra))
    }

    /// `kindling create cluster --name <name> --image <stand-in> <extra>`, to run.
    pub fn create_cmd(&self, extra: &[&str]) -> Command {
        let mut cmd = self.kindling(&["create", "cluster", "--name", &self.name, "--image"]);
        cmd.arg(standin_image()).args(extra);
        cmd
    }

    /// Writes a kind config into the test's directory and returns its path.
    pub fn write_config(&self, yaml: &str) -> PathBuf {
        let path = self.dir.path().join("config.yaml");
        std::fs::write(&path, yaml).expect("write config");
        path
    }

    /// Names of this cluster's containers.
    pub fn containers(&self) -> Vec<String> {
        containers_of(&self.name)
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _ = kindling()
            .args(["delete", "cluster", "--name", &self.name, "--kubeconfig"])
            .arg(self.kubeconfig())
            .output();
        // Belt and braces: remove anything still labelled with this cluster.
        for c in containers_of(&self.name) {
            let _ = Command::new("docker").args(["rm", "-f", "-v", &c]).output();
        }
    }
}

/// Container names with `io.x-k8s.kind.cluster=<name>`, stopped ones included.
pub fn containers_of(name: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label={CLUSTER_LABEL}={name}"),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .expect("docker ps");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// Anonymous volumes still attached to nothing that were created by containers of `name`
/// are impossible to find by label; this returns the volumes of the given containers instead.
pub fn volumes_of(container: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}} {{end}}{{end}}",
            container,
        ])
        .output()
        .expect("docker inspect");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Whether a Docker volume exists.
pub fn volume_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["volume", "inspect", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `docker exec <node> <argv>`; panics on failure.
pub fn node_exec(node: &str, argv: &[&str]) -> String {
    let out = run(Command::new("docker").arg("exec").arg(node).args(argv));
    assert_eq!(
        out.code, 0,
        "docker exec {node} {argv:?} failed: {}",
        out.stderr
    );
    out.stdout
}

/// Every invocation the stand-in tools logged in a node, oldest first.
pub fn standin_calls(node: &str) -> Vec<serde_json::Value> {
    standin_log(node, "calls.jsonl")
}

/// Every invocation of a stand-in tool that returned in a node (start, end, exit code).
pub fn standin_exits(node: &str) -> Vec<serde_json::Value> {
    standin_log(node, "exits.jsonl")
}

/// One of the stand-in's JSON-lines logs in a node (empty when it does not exist yet).
fn standin_log(node: &str, file: &str) -> Vec<serde_json::Value> {
    let path = format!("/var/log/kindling-standin/{file}");
    let out = run(Command::new("docker").args(["exec", node, "cat", &path]));
    if out.code != 0 {
        return Vec::new();
    }
    out.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("bad stand-in log line {l:?}: {e}"))
        })
        .collect()
}

/// `tool argv...` of each stand-in call, for order assertions.
pub fn call_lines(calls: &[serde_json::Value]) -> Vec<String> {
    calls
        .iter()
        .map(|c| {
            let argv: Vec<&str> = c["argv"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            format!("{} {}", c["tool"].as_str().unwrap_or("?"), argv.join(" "))
        })
        .collect()
}

/// The real kubectl used by tests: `KINDLING_TEST_KUBECTL`, else `kubectl` on PATH.
pub fn kubectl() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KINDLING_TEST_KUBECTL") {
        return Some(PathBuf::from(p));
    }
    which("kubectl")
}

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// Reads a file to a string, panicking with its path.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `docker inspect -f <format> <container>`, trimmed; panics when it fails.
pub fn inspect(container: &str, format: &str) -> String {
    run(Command::new("docker").args(["inspect", "-f", format, container]))
        .ok()
        .stdout
        .trim()
        .to_string()
}

/// A container's IPv4 address on its network.
pub fn container_ip(node: &str) -> String {
    inspect(
        node,
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    )
}

/// Waits (bounded) for a condition that another process makes true.
pub fn eventually(what: &str, timeout: std::time::Duration, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The documents of the kubeadm config a stand-in kubeadm call read.
pub fn kubeadm_docs(call: &serde_json::Value) -> Vec<serde_json::Value> {
    let text = call["files"]["/kind/kubeadm.conf"]
        .as_str()
        .expect("the kubeadm call names its config file");
    kindling::yaml::documents(text).expect("the config kubeadm read is YAML")
}

/// The document of a given kind among kubeadm's documents.
pub fn doc<'a>(docs: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} document"))
}

impl TestCluster {
    /// Writes a config whose first node is a control plane with the stand-in directives file
    /// (`fail <prefix>`, `hang <prefix>`, `notready`) mounted; `more_nodes` are further list
    /// entries (e.g. `"- role: worker\n"`).
    pub fn config_with_directives(&self, directives: &str, more_nodes: &str) -> PathBuf {
        let file = self.dir.path().join("directives");
        std::fs::write(&file, directives).expect("write directives");
        self.write_config(&format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind/standin/directives\n{more_nodes}",
            file.display()
        ))
    }
}

/// A pid that no process has any more.
pub fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

/// The engine socket this machine's tests use: `DOCKER_HOST`'s path when it is a `unix://`
/// address, the default socket when it is unset; `None` for any other address.
pub fn engine_socket() -> Option<PathBuf> {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h.strip_prefix("unix://").map(PathBuf::from),
        _ => Some(PathBuf::from("/var/run/docker.sock")),
    }
}

/// Asserts that `c` left nothing: no container, none of `volumes`, no kubeconfig entry.
pub fn assert_left_nothing(c: &TestCluster, volumes: &[String]) {
    assert!(
        c.containers().is_empty(),
        "containers left: {:?}",
        c.containers()
    );
    for v in volumes {
        assert!(!volume_exists(v), "volume {v} left behind");
    }
    let kubeconfig = std::fs::read_to_string(c.kubeconfig()).unwrap_or_default();
    assert!(
        !kubeconfig.contains(&c.name),
        "kubeconfig entry left:\n{kubeconfig}"
    );
}

/// A throwaway image built `FROM` the stand-in with a Dockerfile tail; removed on drop.
pub struct DerivedImage(pub String);

impl DerivedImage {
    /// `kindling-test/<what>:<unique tag>` from the stand-in with `dockerfile_tail` appended.
    pub fn build(what: &str, dockerfile_tail: &str) -> DerivedImage {
        let tag = format!("kindling-test/{what}:{}", unique_name("img"));
        DerivedImage::build_as(tag, dockerfile_tail, &[])
    }

    /// `tag` from the stand-in with `dockerfile_tail` appended, `files` (name, contents) in its
    /// build context.
    pub fn build_as(tag: String, dockerfile_tail: &str, files: &[(&str, &[u8])]) -> DerivedImage {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!("FROM {}\n{dockerfile_tail}", standin_image()),
        )
        .unwrap();
        run(Command::new("docker")
            .args(["build", "-q", "-t", &tag])
            .arg(dir.path()))
        .ok();
        DerivedImage(tag)
    }
}

impl Drop for DerivedImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

//! End-to-end: the built-in local registry and pull-through caches (issue 14). Images are
//! pushed on the host and pulled inside real nodes through containerd's CRI image service (the
//! way a kubelet pulls), by `localhost:PORT/…`, by `NAME:5000/…` and through a cache whose
//! upstream is then stopped. Registries run kindling's own image (Debian's docker-registry).

use crate::common::*;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// kindling's registry image, built by `images/registry/build` on first use.
fn registry_image() -> String {
    built_image("images/registry/build")
}

/// Removes the registry containers, volumes and images a test made, pass or fail.
#[derive(Default)]
struct Leftovers {
    containers: Vec<String>,
    volumes: Vec<String>,
    images: Vec<String>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("docker").args(["rm", "-f", "-v", c]).output();
        }
        for v in &self.volumes {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", v])
                .output();
        }
        for i in &self.images {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Builds a one-file image with unique content and pushes it as `reference`.
fn push_image(reference: &str, leftovers: &mut Leftovers) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("payload"), unique_name("payload")).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY payload /payload\n",
    )
    .unwrap();
    leftovers.images.push(reference.to_string());
    run(Command::new("docker")
        .args(["build", "-q", "-t", reference])
        .arg(dir.path()))
    .ok();
    run(Command::new("docker").args(["push", "-q", reference])).ok();
}

/// Pulls `image` in `node` through containerd's CRI image service (see `cri_pull.py`).
fn cri_pull(node: &str, image: &str) -> Result<String, String> {
    let mut child = Command::new("docker")
        .args(["exec", "-i", node, "python3", "-", image])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(include_str!("common/cri_pull.py").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    let journal = run(Command::new("docker").args([
        "exec",
        node,
        "journalctl",
        "-u",
        "containerd",
        "--no-pager",
        "-n",
        "8",
    ]));
    Err(format!(
        "{}\ncontainerd's last lines:\n{}",
        String::from_utf8_lossy(&out.stderr).trim(),
        journal.stdout
    ))
}

fn assert_pulls(node: &str, image: &str) {
    if let Err(e) = cri_pull(node, image) {
        panic!("CRI pull of {image} in {node} failed: {e}");
    }
    let listed = node_exec(node, &["ctr", "--namespace=k8s.io", "images", "ls", "-q"]);
    assert!(
        listed.lines().any(|l| l == image),
        "{image} not in {node}'s images:\n{listed}"
    );
}

/// Blob files a registry container stores (manifests, configs and layers).
fn stored_blobs(container: &str) -> usize {
    node_exec(
        container,
        &[
            "find",
            "/var/lib/registry/docker/registry/v2/blobs",
            "-name",
            "data",
        ],
    )
    .lines()
    .count()
}

/// Waits (bounded) until a registry published on `port` answers `/v2/`.
fn wait_for_registry(port: u16) {
    use std::io::{BufRead, BufReader};
    eventually(
        &format!("the registry on port {port}"),
        Duration::from_secs(30),
        || {
            let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                return false;
            };
            let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
            let mut head = String::new();
            let _ = BufReader::new(s).read_line(&mut head);
            head.contains(" 200 ")
        },
    );
}

fn exists(container: &str) -> bool {
    run(Command::new("docker").args(["inspect", container])).code == 0
}

#[test]
fn registry_and_cache_serve_every_node_and_outlive_the_cluster() {
    if !docker_available() {
        return;
    }
    let image = registry_image();
    let c = TestCluster::new("reg");
    let mut leftovers = Leftovers::default();
    let registry = format!("{}-registry", c.name);
    let upstream = format!("{}-upstream", c.name);
    let mirror_host = format!("{upstream}:5000");
    let cache = format!("kindling-mirror-{upstream}-5000");
    leftovers.containers = vec![registry.clone(), upstream.clone(), cache.clone()];
    leftovers.volumes = vec![cache.clone()];
    let port = free_port();

    // A second registry plays the upstream of a cache. distribution's proxy mode needs its
    // upstream reachable when it starts, so it exists first, on the default bridge (as the
    // cache is when made), reached by address; nodes pull from it by the name given here.
    // The registry is not PID 1, so it can be stopped with the address still answering
    // (connections refused at once, as from a host that is up without its registry).
    let up_port = free_port();
    run(Command::new("docker").args([
        "run",
        "-d",
        "--name",
        &upstream,
        "-p",
        &format!("127.0.0.1:{up_port}:5000"),
        "--entrypoint",
        "sh",
        &image,
        "-c",
        "docker-registry serve /etc/docker/registry/config.yml & echo $! > /run/registry.pid; wait; exec sleep infinity",
    ]))
    .ok();
    wait_for_registry(up_port);
    push_image(
        &format!("localhost:{up_port}/kt/upstream:1"),
        &mut leftovers,
    );
    let up_ip = inspect(&upstream, "{{.NetworkSettings.IPAddress}}");

    let config = c.write_config(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n",
    );
    let created = c
        .create(&[
            "--config",
            config.to_str().unwrap(),
            &format!("--registry={registry}:{port}"),
            "--registry-image",
            &image,
            "--registry-mirror",
            &format!("{mirror_host}=http://{up_ip}:5000"),
            "-o",
            "json",
        ])
        .ok();
    let (cp, worker) = (
        format!("{}-control-plane", c.name),
        format!("{}-worker", c.name),
    );

    // The summary reports what was set up.
    let summary: Value = serde_json::from_str(&created.stdout).unwrap();
    assert_eq!(summary["registry"]["name"], registry.as_str());
    assert_eq!(summary["registry"]["host"], format!("localhost:{port}"));
    assert_eq!(
        summary["registry"]["host_from_cluster_network"],
        format!("{registry}:5000")
    );
    assert_eq!(summary["registry"]["created"], true);
    assert_eq!(summary["mirrors"][0]["upstream"], mirror_host.as_str());
    assert_eq!(summary["mirrors"][0]["name"], cache.as_str());
    assert_eq!(summary["mirrors"][0]["created"], true);

    // The registry container: kind's documented settings, labels other tools recognise, on
    // the cluster network.
    assert_eq!(
        inspect(&registry, "{{.HostConfig.RestartPolicy.Name}}"),
        "always"
    );
    assert_eq!(
        inspect(
            &registry,
            "{{index .Config.Labels \"dev.tilt.ctlptl.role\"}}"
        ),
        "registry"
    );
    assert_eq!(
        inspect(
            &registry,
            "{{(index (index .HostConfig.PortBindings \"5000/tcp\") 0).HostIp}}:{{(index (index .HostConfig.PortBindings \"5000/tcp\") 0).HostPort}}"
        ),
        format!("127.0.0.1:{port}")
    );
    assert!(
        inspect(&registry, "{{json .Config.Env}}").contains("REGISTRY_STORAGE_DELETE_ENABLED=true")
    );
    for container in [&registry, &cache] {
        assert!(
            inspect(container, "{{json .NetworkSettings.Networks}}").contains("\"kind\""),
            "{container} is not on the kind network"
        );
        // Shared: another create may adopt it at once, so it must not carry this create's id
        // (rollback removes what does).
        assert_eq!(
            inspect(
                container,
                "{{index .Config.Labels \"io.x-k8s.kindling.create-id\"}}"
            ),
            "",
            "{container} carries the create's id"
        );
    }
    assert_eq!(
        run(Command::new("docker").args([
            "volume",
            "inspect",
            "-f",
            "{{index .Labels \"io.x-k8s.kindling.create-id\"}}",
            &cache,
        ]))
        .ok()
        .stdout
        .trim(),
        "",
        "the cache volume carries the create's id"
    );
    // containerd in every node reads hosts.toml files (config_path), never registry.mirrors.
    for node in [&cp, &worker] {
        let toml = node_exec(node, &["cat", "/etc/containerd/config.toml"]);
        assert!(
            toml.contains("config_path = \"/etc/containerd/certs.d\""),
            "{toml}"
        );
        assert!(!toml.contains("mirrors"), "{toml}");
    }

    // Pushed on the host, pulled in every node by both names, the kubelet's way.
    let pushed = format!("localhost:{port}/kt/app:1");
    push_image(&pushed, &mut leftovers);
    for node in [&cp, &worker] {
        assert_pulls(node, &pushed);
        assert_pulls(node, &format!("{registry}:5000/kt/app:1"));
    }

    // The KEP-1755 ConfigMap as the API server received it: the stand-in kubectl sent the
    // applied manifest to the stand-in API server over TLS, and real kubectl reads it back.
    let kubectl = kubectl().expect("kubectl (set KINDLING_TEST_KUBECTL)");
    let got = run(Command::new(&kubectl).args([
        "--kubeconfig",
        c.kubeconfig().to_str().unwrap(),
        "--context",
        &format!("kind-{}", c.name),
        "get",
        "configmap",
        "-n",
        "kube-public",
        "local-registry-hosting",
        "-o",
        "json",
    ]))
    .ok();
    let configmap: Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(configmap["kind"], "ConfigMap", "{configmap}");
    assert_eq!(configmap["metadata"]["namespace"], "kube-public");
    assert_eq!(configmap["metadata"]["name"], "local-registry-hosting");
    assert_eq!(
        configmap["data"].as_object().map(|d| d.len()),
        Some(1),
        "{configmap}"
    );
    let hosting = kindling::yaml::documents(
        configmap["data"]["localRegistryHosting.v1"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(hosting[0]["host"], format!("localhost:{port}"));
    assert_eq!(
        hosting[0]["hostFromClusterNetwork"],
        format!("{registry}:5000")
    );
    assert_eq!(
        hosting[0]["hostFromContainerRuntime"],
        format!("localhost:{port}")
    );
    assert!(hosting[0]["help"].as_str().unwrap().starts_with("https://"));

    // The cache: a pull by the upstream's name goes through it.
    let by_upstream_name = format!("{mirror_host}/kt/upstream:1");
    assert_pulls(&cp, &by_upstream_name);
    // The cache stores what it served (blobs are written alongside serving them).
    let upstream_blobs = stored_blobs(&upstream);
    eventually(
        "the cache to hold every blob of the upstream's image",
        Duration::from_secs(30),
        || stored_blobs(&cache) >= upstream_blobs,
    );
    // Without the upstream, a node that never had the image still gets it: from the cache.
    node_exec(&upstream, &["sh", "-c", "kill $(cat /run/registry.pid)"]);
    eventually(
        "the upstream registry to stop",
        Duration::from_secs(10),
        || {
            std::net::TcpStream::connect(("127.0.0.1", up_port))
                .and_then(|mut s| {
                    s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n")?;
                    let mut buf = [0u8; 1];
                    std::io::Read::read(&mut s, &mut buf)
                })
                .map_or(true, |n| n == 0)
        },
    );
    assert!(
        cri_pull(&worker, &format!("{registry}:5000/kt/nothing-here:1")).is_err(),
        "a missing image must not pull"
    );
    assert_pulls(&worker, &by_upstream_name);

    // Deleting the cluster leaves the registry and the cache running.
    run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    for container in [&registry, &cache] {
        assert_eq!(
            inspect(container, "{{.State.Running}}"),
            "true",
            "{container}"
        );
    }
    assert!(volume_exists(&cache));

    // A failed create reuses both and makes one new cache. Its rollback removes the nodes but
    // keeps every registry: the ones that existed before, and also the cache it made (shared:
    // another create may already use it), naming it with the command that removes it.
    let c2 = TestCluster::new("reg2");
    let new_cache = format!("kindling-mirror-{}-5000", c2.name);
    leftovers.containers.push(new_cache.clone());
    leftovers.volumes.push(new_cache.clone());
    let failing = c2.config_with_directives("fail kubeadm init\n", "");
    let failed = c2.create(&[
        "--config",
        failing.to_str().unwrap(),
        &format!("--registry={registry}:{port}"),
        "--registry-image",
        &image,
        "--registry-mirror",
        &format!("{mirror_host}=http://{up_ip}:5000"),
        "--registry-mirror",
        &format!("{0}:5000=http://{0}:5000", c2.name),
    ]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        c2.containers().is_empty(),
        "nodes left: {:?}",
        c2.containers()
    );
    for container in [&registry, &cache, &new_cache] {
        assert_eq!(
            inspect(container, "{{.State.Running}}"),
            "true",
            "{container}"
        );
    }
    assert!(volume_exists(&cache));
    assert!(
        volume_exists(&new_cache),
        "the new cache's volume was removed"
    );
    let kept: Vec<&str> = failed
        .stderr
        .lines()
        .filter(|l| l.contains("Keeping"))
        .collect();
    assert_eq!(kept.len(), 1, "{}", failed.stderr);
    assert!(
        kept[0].contains(&format!("\"{new_cache}\" and its volume"))
            && kept[0].ends_with(&format!("kindling registry delete {new_cache}")),
        "{}",
        failed.stderr
    );
    // The cleanup hint is true: nothing is left that `delete cluster` would have to finish.
    assert!(
        !failed.stderr.contains("cleanup incomplete"),
        "{}",
        failed.stderr
    );
    // And the command it names removes the cache with its volume.
    run(kindling().args(["registry", "delete", &new_cache])).ok();
    assert!(!exists(&new_cache) && !volume_exists(&new_cache));
}

#[test]
fn registry_conflicts_fail_before_any_node_is_made() {
    if !docker_available() {
        return;
    }
    let image = registry_image();
    let c = TestCluster::new("regbad");
    let mut leftovers = Leftovers::default();
    let busy = format!("{}-busy", c.name);
    leftovers.containers.push(busy.clone());
    let busy_port = free_port();
    // Something that is not a registry, holding a name and a published port.
    run(Command::new("docker").args([
        "create",
        "--name",
        &busy,
        "-p",
        &format!("127.0.0.1:{busy_port}:6443"),
        &haproxy_image(),
    ]))
    .ok();
    run(Command::new("docker").args(["start", &busy])).ok();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let free = free_port();
    let fresh = format!("{}-registry", c.name);
    leftovers.containers.push(fresh.clone());

    let cases = [
        (format!("--registry={busy}:{free}"), "is not a registry"),
        (
            format!("--registry={fresh}:{busy_port}"),
            "which is not a registry",
        ),
        (
            format!("--registry={fresh}:{held_port}"),
            "in use by another program",
        ),
        ("--registry=bad_name".to_string(), "invalid registry name"),
        (format!("--registry={fresh}:99999"), "invalid registry port"),
    ];
    for (flag, message) in cases {
        let out = c.create(&[&flag, "--registry-image", &image]);
        assert_eq!(out.code, 1, "{flag}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{flag}: {}", out.stderr);
        // Before any node is made, not rolled back afterwards: the node step never started
        // (and neither did the image step that precedes it).
        for step in ["Preparing nodes", "Ensuring node image"] {
            assert!(
                !out.stderr.contains(step),
                "{flag}: got as far as {step:?}: {}",
                out.stderr
            );
        }
        assert!(c.containers().is_empty(), "{flag}: nodes were made");
        assert!(!exists(&fresh), "{flag}: a registry was made");
        assert!(
            !c.kubeconfig().exists() || !read(&c.kubeconfig()).contains(&c.name),
            "{flag}: kubeconfig entry left"
        );
    }
    // The environment variable and mirror values are checked the same way.
    let standin = standin_image();
    let mut env_cmd = c.kindling(&["create", "cluster", "--name", &c.name, "--image", &standin]);
    env_cmd.env("KINDLING_REGISTRY", "bad_name");
    let mut mirror_cmd = c.kindling(&[
        "create",
        "cluster",
        "--name",
        &c.name,
        "--image",
        &standin,
        "--registry-mirror",
        "docker.io/library",
    ]);
    for (cmd, message) in [
        (&mut env_cmd, "invalid KINDLING_REGISTRY"),
        (&mut mirror_cmd, "invalid --registry-mirror"),
    ] {
        let out = run(cmd);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains(message), "{}", out.stderr);
        assert!(c.containers().is_empty());
    }
    assert_eq!(inspect(&busy, "{{.State.Running}}"), "true");
    drop(held);
}

#[test]
fn registry_wired_by_the_config_is_left_to_it() {
    if !docker_available() {
        return;
    }
    let image = registry_image();
    let c = TestCluster::new("regown");
    let mut leftovers = Leftovers::default();
    let registry = format!("{}-registry", c.name);
    leftovers.containers.push(registry.clone());
    let directives = c.dir.path().join("directives");
    std::fs::write(&directives, "fail kubeadm init\n").unwrap();
    // ctlptl's way: config_path in containerdConfigPatches, hosts.toml written afterwards.
    let config = c.write_config(&format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\ncontainerdConfigPatches:\n- |-\n  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n    config_path = \"/etc/containerd/certs.d\"\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind/standin/directives\n",
        directives.display()
    ));
    let port = free_port();
    let out = c.create(&[
        "--config",
        config.to_str().unwrap(),
        "--retain",
        &format!("--registry={registry}:{port}"),
        "--registry-image",
        &image,
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--registry and --registry-mirror are ignored"),
        "{}",
        out.stderr
    );
    assert!(!exists(&registry), "kindling made a registry anyway");
    let cp = format!("{}-control-plane", c.name);
    let dirs = node_exec(
        &cp,
        &["sh", "-c", "ls /etc/containerd/certs.d 2>/dev/null; true"],
    );
    assert!(
        dirs.trim().is_empty(),
        "kindling wrote hosts.toml files: {dirs}"
    );
}

#[test]
fn registry_command_creates_lists_and_deletes() {
    if !docker_available() {
        return;
    }
    let image = registry_image();
    let id = unique_name("regcli");
    let mut leftovers = Leftovers::default();
    let local = format!("{id}-registry");
    let cache = format!("kindling-mirror-{id}-5000");
    let other = format!("{id}-other");
    let raced = format!("{id}-raced");
    leftovers.containers = vec![local.clone(), cache.clone(), other.clone(), raced.clone()];
    leftovers.volumes = vec![cache.clone()];

    // Without a port, 5001 when free, else a free port: here 5001 is held (by this test, or
    // by someone else), so the registry lands elsewhere.
    let hold_5001 = std::net::TcpListener::bind("127.0.0.1:5001");
    let out = run(kindling().args([
        "registry", "create", &local, "--image", &image, "-o", "json",
    ]))
    .ok();
    let made: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(made["name"], local.as_str());
    assert_eq!(made["role"], "local");
    let host = made["host"].as_str().unwrap().to_string();
    assert!(
        host.starts_with("localhost:") && host != "localhost:5001",
        "{host}"
    );
    drop(hold_5001);
    assert_eq!(
        inspect(&local, "{{.HostConfig.RestartPolicy.Name}}"),
        "always"
    );
    // Creating it again reuses it.
    let again = run(kindling().args(["registry", "create", &local, "--image", &image])).ok();
    assert!(again.stderr.contains("Reusing"), "{}", again.stderr);

    let out = run(kindling().args([
        "registry",
        "create",
        "--mirror",
        &format!("{id}:5000=http://{id}:5000"),
        "--image",
        &image,
    ]))
    .ok();
    assert!(out.stderr.contains(&cache), "{}", out.stderr);
    assert!(volume_exists(&cache));

    let listed: Value = serde_json::from_str(
        &run(kindling().args(["registry", "list", "-o", "json"]))
            .ok()
            .stdout,
    )
    .unwrap();
    let find = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {listed}"))
    };
    assert_eq!(find(&local)["host"], host.as_str());
    assert_eq!(find(&cache)["role"], "mirror");
    assert_eq!(find(&cache)["upstream"], format!("http://{id}:5000"));
    let text = run(kindling().args(["registry", "list"])).ok().stdout;
    assert!(
        text.lines()
            .any(|l| l.starts_with(&local) && l.contains(&host)),
        "{text}"
    );

    // Two creates of one registry at once: both succeed, one container, one port.
    let racers: Vec<_> = (0..2)
        .map(|_| {
            kindling()
                .args([
                    "registry", "create", &raced, "--image", &image, "-o", "json",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let hosts: Vec<Value> = racers
        .into_iter()
        .map(|child| {
            let out = Run::from(child.wait_with_output().unwrap()).ok();
            serde_json::from_str::<Value>(&out.stdout).unwrap()["host"].clone()
        })
        .collect();
    assert_eq!(hosts[0], hosts[1]);
    let same_name = run(Command::new("docker").args([
        "ps",
        "-a",
        "--filter",
        &format!("name=^/{raced}$"),
        "--format",
        "{{.Names}}",
    ]))
    .ok();
    assert_eq!(same_name.stdout.lines().count(), 1, "{}", same_name.stdout);

    // Only registries are deleted; a missing one is not an error.
    run(Command::new("docker").args(["create", "--name", &other, &haproxy_image()])).ok();
    let refused = run(kindling().args(["registry", "delete", &other]));
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("is not a registry"),
        "{}",
        refused.stderr
    );
    assert!(exists(&other));
    run(kindling().args(["registry", "delete", &local, &cache, &raced])).ok();
    assert!(!exists(&local) && !exists(&cache) && !exists(&raced));
    assert!(
        !volume_exists(&cache),
        "the cache volume kindling made stays"
    );
    run(kindling().args(["registry", "delete", &local])).ok();
}

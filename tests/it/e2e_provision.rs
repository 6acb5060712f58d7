//! End-to-end: creating and deleting node containers with the stand-in node image (issues 2
//! and 3): kind-identical containers, published ports, mounts, the privileged fallback, pulls
//! from a real registry, atomic rollback on signals, concurrent creates and idempotent deletes.

use crate::common::docker_proxy::{DockerProxy, ProxyMode};
use crate::common::registry::{Registry, StallingProxy};
use crate::common::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

#[test]
fn node_boots_to_running_and_is_listed() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("node");
    c.create(&[]).ok();
    let node = format!("{}-control-plane", c.name);
    // systemd in the node reached "running" (not starting/degraded).
    assert_eq!(
        node_exec(&node, &["systemctl", "is-system-running"]).trim(),
        "running"
    );
    let out = run(&mut c.kindling(&["get", "nodes", "--name", &c.name])).ok();
    assert_eq!(out.stdout, format!("{node}\n"));
    let out = run(&mut c.kindling(&["get", "clusters"])).ok();
    assert!(out.stdout.lines().any(|l| l == c.name), "{}", out.stdout);
    // KIND_CLUSTER_NAME selects the cluster when --name is absent.
    let out = run(c
        .kindling(&["get", "nodes"])
        .env("KIND_CLUSTER_NAME", &c.name))
    .ok();
    assert_eq!(out.stdout, format!("{node}\n"));
    let out = run(&mut c.kindling(&["get", "nodes", "--name", "kt-no-such-cluster"])).ok();
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("No kind nodes found for cluster \"kt-no-such-cluster\"."),
        "{}",
        out.stderr
    );
}

#[test]
fn single_node_container_is_set_up_like_kinds() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("one");
    let out = c.create(&[]).ok();
    let node = format!("{}-control-plane", c.name);
    assert_eq!(c.containers(), vec![node.clone()]);
    assert_eq!(inspect(&node, "{{.Config.Hostname}}"), node);
    assert_eq!(
        inspect(&node, "{{index .Config.Labels \"io.x-k8s.kind.cluster\"}}"),
        c.name
    );
    assert_eq!(
        inspect(&node, "{{index .Config.Labels \"io.x-k8s.kind.role\"}}"),
        "control-plane"
    );
    assert_eq!(
        inspect(
            &node,
            "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
        ),
        "on-failure:1"
    );
    assert_eq!(
        inspect(&node, "{{json .HostConfig.Tmpfs}}"),
        r#"{"/run":"","/tmp":""}"#
    );
    assert_eq!(inspect(&node, "{{.HostConfig.NetworkMode}}"), "kind");
    assert!(
        inspect(&node, "{{json .Config.Env}}").contains("KUBECONFIG=/etc/kubernetes/admin.conf")
    );
    assert!(inspect(&node, "{{json .HostConfig.Binds}}").contains("/lib/modules:/lib/modules:ro"));
    let var_volume = volumes_of(&node);
    assert_eq!(var_volume.len(), 1, "one anonymous /var volume");
    assert_eq!(
        inspect(
            &node,
            "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Destination}}{{end}}{{end}}"
        ),
        "/var"
    );
    // The API server is published on 127.0.0.1 at a port kindling chose.
    let binding = inspect(
        &node,
        "{{range (index .NetworkSettings.Ports \"6443/tcp\")}}{{.HostIp}}:{{.HostPort}}{{end}}",
    );
    assert!(
        binding.starts_with("127.0.0.1:") && !binding.ends_with(":0"),
        "{binding}"
    );
    // Privileged where the engine allows it, the restricted fallback (with one warning) where not.
    if inspect(&node, "{{.HostConfig.Privileged}}") == "true" {
        assert_eq!(inspect(&node, "{{.HostConfig.CgroupnsMode}}"), "private");
        assert!(!out.stderr.contains("refused --privileged"));
    } else {
        assert_eq!(
            out.stderr
                .matches("the Docker engine refused --privileged")
                .count(),
            1,
            "{}",
            out.stderr
        );
        let caps = inspect(&node, "{{json .HostConfig.CapAdd}}");
        assert!(
            caps.contains("CAP_SYS_ADMIN") && caps.contains("CAP_NET_ADMIN"),
            "{caps}"
        );
        assert!(inspect(&node, "{{json .HostConfig.SecurityOpt}}").contains("seccomp=unconfined"));
    }
    // stdout carries nothing in text mode; status lines go to stderr in kind's order.
    assert_eq!(out.stdout, "");
    let order = [
        "Creating cluster",
        "Ensuring node image",
        "Preparing nodes",
        "Writing configuration",
        "Starting control-plane",
        "Installing CNI",
        "Installing StorageClass",
        "Set kubectl context to",
    ];
    let mut at = 0;
    for step in order {
        let pos = out.stderr[at..]
            .find(step)
            .unwrap_or_else(|| panic!("{step:?} missing or out of order in:\n{}", out.stderr));
        at += pos;
    }
    // Delete removes the container and its volume, and is idempotent.
    let del = run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    assert!(
        del.stderr.contains(&format!("Deleted nodes: [\"{node}\"]")),
        "{}",
        del.stderr
    );
    assert!(c.containers().is_empty());
    assert!(
        !volume_exists(&var_volume[0]),
        "the /var volume is removed with the node"
    );
    let again = run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    assert!(!again.stderr.contains("Deleted nodes"), "{}", again.stderr);
}

#[test]
fn control_plane_and_three_workers() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("four");
    let config = c.write_config("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n- role: worker\n");
    c.create(&["--config", config.to_str().unwrap()]).ok();
    let expected: Vec<String> = ["control-plane", "worker", "worker2", "worker3"]
        .iter()
        .map(|s| format!("{}-{s}", c.name))
        .collect();
    assert_eq!(c.containers(), expected);
    for node in &expected {
        assert_eq!(inspect(node, "{{.State.Running}}"), "true", "{node}");
        let role = if node.ends_with("control-plane") {
            "control-plane"
        } else {
            "worker"
        };
        assert_eq!(
            inspect(node, "{{index .Config.Labels \"io.x-k8s.kind.role\"}}"),
            role
        );
    }
    // Workers publish nothing.
    assert_eq!(
        inspect(&expected[1], "{{json .NetworkSettings.Ports}}"),
        "{}"
    );
    let out = run(&mut c.kindling(&["delete", "clusters", &c.name, "kt-never-existed"])).ok();
    assert!(
        out.stderr.contains(&format!(
            "Deleted clusters: [\"{}\" \"kt-never-existed\"]",
            c.name
        )),
        "{}",
        out.stderr
    );
    assert!(c.containers().is_empty());
}

#[test]
fn port_mappings_and_mounts_reach_the_node() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("ports");
    let shared = c.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("hello.txt"), "from the host\n").unwrap();
    let config = c.write_config(&format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 8080\n    hostPort: 0\n    listenAddress: 127.0.0.1\n  extraMounts:\n  - hostPath: {}\n    containerPath: /shared\n    readOnly: true\n",
        shared.display()
    ));
    c.create(&["--config", config.to_str().unwrap()]).ok();
    let node = format!("{}-control-plane", c.name);
    assert_eq!(
        node_exec(&node, &["cat", "/shared/hello.txt"]),
        "from the host\n"
    );
    let write = run(Command::new("docker").args(["exec", &node, "touch", "/shared/nope"]));
    assert_ne!(write.code, 0, "the mount is read-only");
    // Serve something on 8080 in the node and fetch it through the published host port.
    node_exec(
        &node,
        &[
            "sh",
            "-c",
            "mkdir -p /srv && echo served-by-node > /srv/index.html && (cd /srv && nohup python3 -m http.server 8080 >/dev/null 2>&1 &)",
        ],
    );
    let port = inspect(
        &node,
        "{{range (index .NetworkSettings.Ports \"8080/tcp\")}}{{.HostPort}}{{end}}",
    );
    assert!(
        port.parse::<u16>().is_ok_and(|p| p > 0),
        "kindling picked a real port: {port:?}"
    );
    let mut body = String::new();
    eventually("the node's web server", Duration::from_secs(20), || {
        body = run(
            Command::new("curl").args(["-fsS", &format!("http://127.0.0.1:{port}/index.html")])
        )
        .stdout;
        body.contains("served-by-node")
    });
}

#[test]
fn create_over_an_existing_name_fails_and_leaves_it_intact() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("dup");
    c.create(&[]).ok();
    let node = format!("{}-control-plane", c.name);
    let id_before = inspect(&node, "{{.Id}}");
    let kubeconfig_before = read(&c.kubeconfig());
    let out = c.create(&[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(&format!(
            "node(s) already exist for a cluster with the name \"{}\"",
            c.name
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        inspect(&node, "{{.Id}}"),
        id_before,
        "the existing node is untouched"
    );
    assert_eq!(inspect(&node, "{{.State.Running}}"), "true");
    assert_eq!(
        read(&c.kubeconfig()),
        kubeconfig_before,
        "its kubeconfig entry is untouched"
    );
}

#[test]
fn three_creates_at_once_share_one_kubeconfig() {
    if !docker_available() {
        return;
    }
    let clusters: Vec<TestCluster> = (0..3)
        .map(|i| TestCluster::new(&format!("par{i}")))
        .collect();
    let shared = clusters[0].kubeconfig();
    let image = standin_image();
    let children: Vec<Child> = clusters
        .iter()
        .map(|c| {
            kindling()
                .args(["create", "cluster", "--name", &c.name, "--image", &image])
                .env("KUBECONFIG", &shared)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        Run::from(child.wait_with_output().unwrap()).ok();
    }
    let kubeconfig = read(&shared);
    for c in &clusters {
        assert!(
            kubeconfig.contains(&format!("name: kind-{}", c.name)),
            "context for {} in:\n{kubeconfig}",
            c.name
        );
        assert_eq!(c.containers().len(), 1);
    }
    let out = run(Command::new(kubectl().expect("kubectl"))
        .args(["config", "get-contexts", "-o", "name"])
        .env("KUBECONFIG", &shared))
    .ok();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    for c in &clusters {
        run(kindling()
            .args(["delete", "cluster", "--name", &c.name])
            .env("KUBECONFIG", &shared))
        .ok();
    }
    assert!(!read(&shared).contains("kind-kt-"), "every entry removed");
}

/// Spawns `kindling create` and reads its stderr until `marker`; the caller waits for it
/// through `finish`.
fn create_until(
    c: &TestCluster,
    extra: &[&str],
    marker: &str,
) -> (Child, BufReader<std::process::ChildStderr>, String) {
    let mut args = vec!["create", "cluster", "--name", &c.name];
    args.extend_from_slice(extra);
    spawn_until(c.kindling(&args), marker)
}

/// Spawns `cmd` and reads its stderr until `marker`.
#[allow(clippy::zombie_processes)]
fn spawn_until(
    mut cmd: Command,
    marker: &str,
) -> (Child, BufReader<std::process::ChildStderr>, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    if !read_until(&mut reader, &mut seen, marker) {
        let status = child.wait();
        panic!("create ended ({status:?}) before {marker:?}:\n{seen}");
    }
    (child, reader, seen)
}

/// Reads stderr lines into `seen` until one contains `marker`; false if the stream ended first.
fn read_until(
    reader: &mut BufReader<std::process::ChildStderr>,
    seen: &mut String,
    marker: &str,
) -> bool {
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            return false;
        }
        seen.push_str(&line);
        if line.contains(marker) {
            return true;
        }
    }
}

/// Starts a create whose stand-in `kubeadm init` hangs, and returns once init is running (so a
/// signal certainly lands after the nodes are up), with the control plane's name. `env` is
/// added to kindling's environment.
fn create_hung_in_init(
    c: &TestCluster,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Child, BufReader<std::process::ChildStderr>, String, String) {
    let config = c.config_with_directives("hang kubeadm init\n", "");
    let mut cmd = c.create_cmd(&["--config", config.to_str().unwrap()]);
    cmd.args(extra).envs(env.iter().copied());
    let (child, reader, seen) = spawn_until(cmd, "Starting control-plane");
    let node = format!("{}-control-plane", c.name);
    eventually(
        "kubeadm init to be running",
        Duration::from_secs(30),
        || {
            call_lines(&standin_calls(&node))
                .iter()
                .any(|l| l.starts_with("kubeadm init"))
        },
    );
    (child, reader, seen, node)
}

fn signal(child: &Child, sig: &str) {
    run(Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()])).ok();
}

fn finish(
    mut child: Child,
    mut reader: BufReader<std::process::ChildStderr>,
    mut seen: String,
) -> (i32, String) {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    seen.push_str(&rest);
    (child.wait().unwrap().code().unwrap_or(-1), seen)
}

#[test]
fn sigterm_while_nodes_start_removes_them() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("term-start");
    let image = standin_image();
    let config = c.write_config("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n");
    let (child, reader, seen) = create_until(
        &c,
        &["--image", &image, "--config", config.to_str().unwrap()],
        "Preparing nodes",
    );
    // Interrupt once the containers exist but before they have booted.
    eventually("node containers", Duration::from_secs(30), || {
        c.containers().len() == 2
    });
    let volumes: Vec<String> = c.containers().iter().flat_map(|n| volumes_of(n)).collect();
    signal(&child, "TERM");
    let (code, stderr) = finish(child, reader, seen);
    assert_eq!(code, 143, "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert_left_nothing(&c, &volumes);
}

#[test]
fn every_stop_signal_after_nodes_are_up_removes_everything() {
    if !docker_available() {
        return;
    }
    // A closed terminal (SIGHUP) and Ctrl-\ (SIGQUIT) would otherwise kill the process mid-way.
    let cases = [("INT", 130), ("TERM", 143), ("HUP", 129), ("QUIT", 131)];
    // One cluster per signal, all at once.
    std::thread::scope(|scope| {
        for (sig, code) in cases {
            scope.spawn(move || {
                let c = TestCluster::new(&format!("{}-up", sig.to_lowercase()));
                // The stand-in kubeadm hangs in init, so the signal lands after the nodes are up.
                let (child, reader, seen, node) = create_hung_in_init(&c, &[], &[]);
                let volumes = volumes_of(&node);
                assert_eq!(volumes.len(), 1);
                signal(&child, sig);
                let (exit, stderr) = finish(child, reader, seen);
                assert_eq!(exit, code, "SIG{sig}:\n{stderr}");
                assert!(
                    stderr.contains(&format!("Received SIG{sig}: stopping")),
                    "{stderr}"
                );
                assert!(
                    stderr.contains("everything this run made has been removed"),
                    "{stderr}"
                );
                assert_left_nothing(&c, &volumes);
            });
        }
    });
}

#[test]
fn signals_while_waiting_for_the_kubeconfig_lock_and_signals_ignored_at_start() {
    if !docker_available() {
        return;
    }
    // (signals ignored when kindling starts, signals sent in order, exit code, the one it names)
    let cases: [(&str, &[&str], i32, &str); 6] = [
        ("", &["INT"], 130, "INT"),
        ("", &["TERM"], 143, "TERM"),
        ("", &["HUP"], 129, "HUP"),
        ("", &["QUIT"], 131, "QUIT"),
        // `nohup kindling …`: closing the terminal does not stop it.
        ("HUP", &["HUP", "INT"], 130, "INT"),
        // `kindling … &` in a script: Ctrl-C and Ctrl-\ at the terminal do not stop it.
        ("INT QUIT", &["INT", "QUIT", "TERM"], 143, "TERM"),
    ];
    for (ignored, sent, code, named) in cases {
        let c = TestCluster::new("lock-sig");
        // Held as kind and kubectl hold it (an empty file): waited for, up to 30 s.
        std::fs::write(c.dir.path().join("kubeconfig.lock"), "").unwrap();
        // Ignored signals stay ignored across exec, as with `nohup` and `&`.
        let ignore = if ignored.is_empty() {
            String::new()
        } else {
            format!("trap '' {ignored}; ")
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{ignore}exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_kindling"))
            .args(["create", "cluster", "--name", &c.name, "--image"])
            .arg(standin_image())
            .env_remove("KIND_CLUSTER_NAME")
            .env("KUBECONFIG", c.kubeconfig())
            .env("NO_COLOR", "1");
        let (child, reader, seen) = spawn_until(cmd, "Waiting up to 30s for the kubeconfig lock");
        for sig in sent {
            signal(&child, sig);
        }
        let (exit, stderr) = finish(child, reader, seen);
        let case = format!("trap '' {ignored}; kill {sent:?}");
        assert_eq!(exit, code, "{case}:\n{stderr}");
        assert!(
            stderr.contains(&format!("Received SIG{named}: stopping"))
                && stderr.contains(&format!(
                    "cluster \"{}\" was not created: nothing was made",
                    c.name
                )),
            "{case}:\n{stderr}"
        );
        assert_eq!(
            stderr.matches("Received SIG").count(),
            1,
            "{case}: ignored signals stay ignored:\n{stderr}"
        );
        assert!(c.containers().is_empty(), "{case}");
    }
}

#[test]
fn sigquit_abandons_a_cleanup_that_hangs() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("quit-stuck");
    let proxy = DockerProxy::start();
    let host = proxy.docker_host();
    let (child, mut reader, mut seen, node) =
        create_hung_in_init(&c, &[], &[("DOCKER_HOST", host.as_str())]);
    // From now on the engine never answers kindling, so its cleanup hangs.
    proxy.set(ProxyMode::HoldAll);
    // Bound for a build where SIGQUIT does not end the cleanup: the engine answers again after
    // a minute, the cleanup completes, and the exit code below is wrong instead of a hang.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let switch = proxy.switch();
    let watchdog = std::thread::spawn(move || {
        if wait.recv_timeout(Duration::from_secs(60)).is_err() {
            switch(ProxyMode::Pass);
        }
    });
    signal(&child, "INT");
    assert!(
        read_until(&mut reader, &mut seen, "Received SIGINT"),
        "{seen}"
    );
    // Later signals are ignored, and the message says how to abandon the cleanup.
    signal(&child, "TERM");
    assert!(
        read_until(&mut reader, &mut seen, "Cleanup in progress"),
        "{seen}"
    );
    assert!(
        seen.contains("press Ctrl-\\ (SIGQUIT) to abandon it"),
        "{seen}"
    );
    signal(&child, "QUIT");
    let (code, stderr) = finish(child, reader, seen);
    let _ = done.send(());
    watchdog.join().unwrap();
    assert_eq!(code, 131, "{stderr}");
    assert!(
        stderr.contains("SIGQUIT during the cleanup: stopped at once")
            && stderr.contains(&format!(
                "may be left behind (and the kubeconfig's lock, if it was being written); remove them with: kindling delete cluster --name {}",
                c.name
            )),
        "{stderr}"
    );
    assert_eq!(
        c.containers(),
        vec![node],
        "the cleanup had not removed the node"
    );
    drop(proxy);
    // What the message says to run cleans up.
    run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    assert!(c.containers().is_empty());
}

/// Builds an image that must really be pulled: the stand-in plus a layer of random bytes.
fn unique_image(tag: &str) -> DerivedImage {
    let mut noise = vec![0u8; 4 << 20];
    getrandom::fill(&mut noise).unwrap();
    DerivedImage::build_as(tag.to_string(), "COPY noise /noise\n", &[("noise", &noise)])
}

#[test]
fn pulls_from_a_registry_and_sigint_during_pull_leaves_nothing() {
    if !docker_available() {
        return;
    }
    let registry = Registry::start();
    let proxy = StallingProxy::start(registry.port);
    let tag = unique_name("img");
    let pushed = format!("127.0.0.1:{}/kindling/pulltest:{tag}", registry.port);
    let _image = unique_image(&pushed);
    run(Command::new("docker").args(["push", &pushed])).ok();
    run(Command::new("docker").args(["rmi", &pushed])).ok();
    // Interrupted pull: the proxy holds the blob downloads, so the pull is certainly running.
    let via_proxy = format!("127.0.0.1:{}/kindling/pulltest:{tag}", proxy.port);
    let c = TestCluster::new("pull-int");
    let (child, reader, seen) = create_until(&c, &["--image", &via_proxy], "Ensuring node image");
    eventually("a blob download to start", Duration::from_secs(60), || {
        proxy.held_one.load(Ordering::SeqCst)
    });
    signal(&child, "INT");
    let (code, stderr) = finish(child, reader, seen);
    proxy.hold.store(false, Ordering::SeqCst);
    assert_eq!(code, 130, "{stderr}");
    assert!(
        !stderr.contains("Preparing nodes"),
        "interrupted during the pull:\n{stderr}"
    );
    assert_left_nothing(&c, &[]);
    // A real pull through the registry, then a cluster from the pulled image.
    let c = TestCluster::new("pull");
    let out = c
        .kindling(&["create", "cluster", "--name", &c.name, "--image", &pushed])
        .output()
        .unwrap();
    let out = Run::from(out).ok();
    assert!(
        out.stderr.contains(&format!("Pulling {pushed}")),
        "pull progress shown:\n{}",
        out.stderr
    );
    assert_eq!(
        inspect(&format!("{}-control-plane", c.name), "{{.Config.Image}}"),
        pushed
    );
    drop(c);
    // A missing image names the image and the registry's answer, and creates nothing.
    let c = TestCluster::new("pull-missing");
    let missing = format!("127.0.0.1:{}/kindling/absent:nope", registry.port);
    let out = run(&mut c.kindling(&["create", "cluster", "--name", &c.name, "--image", &missing]));
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains(&format!("failed to pull image \"{missing}\"")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("manifest unknown") || out.stderr.contains("not found"),
        "{}",
        out.stderr
    );
    assert_left_nothing(&c, &[]);
    let _ = Command::new("docker")
        .args(["rmi", "-f", &via_proxy])
        .output();
}

#[test]
fn sigint_with_retain_keeps_the_nodes_and_says_so() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("retain");
    let (child, reader, seen, node) = create_hung_in_init(&c, &["--retain"], &[]);
    signal(&child, "INT");
    let (code, stderr) = finish(child, reader, seen);
    assert_eq!(code, 130, "{stderr}");
    assert!(
        stderr.contains("its nodes were kept because of --retain"),
        "{stderr}"
    );
    assert!(!stderr.contains("has been removed"), "{stderr}");
    assert_eq!(c.containers(), vec![node], "--retain keeps the node");
}

#[test]
fn a_node_that_never_boots_is_named_with_its_log_and_rolled_back() {
    if !docker_available() {
        return;
    }
    // An image whose entrypoint prints a line and exits instead of starting systemd.
    let image = DerivedImage::build(
        "noboot",
        "ENTRYPOINT [\"/bin/sh\", \"-c\", \"echo this node cannot boot; exit 3\"]\n",
    );
    let c = TestCluster::new("noboot");
    let out = run(&mut c.kindling(&["create", "cluster", "--name", &c.name, "--image", &image.0]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let node = format!("{}-control-plane", c.name);
    assert!(
        out.stderr.contains(&format!(
            "node \"{node}\" stopped before systemd had started containerd"
        )),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("this node cannot boot"),
        "the node's last log lines are shown:\n{}",
        out.stderr
    );
    // Found by the step that first needs the node (it is not waited for while others boot).
    assert!(
        out.stderr.contains(" ✗ Writing configuration"),
        "{}",
        out.stderr
    );
    assert!(c.containers().is_empty());
}

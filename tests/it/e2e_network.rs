//! End-to-end: the shared network, created as kind creates it and only once when creates race;
//! `KIND_EXPERIMENTAL_DOCKER_NETWORK`.

use crate::common::*;
use std::process::Command;

#[test]
fn racing_network_creates_leave_one_network_like_kinds() {
    race(false);
}

/// Without this host's lock, as when creators on several hosts share one engine: the engine's
/// answers and pruning alone must still leave one network.
#[test]
fn racing_network_creates_without_the_host_lock_still_leave_one() {
    race(true);
}

/// Removes every network with the name, by id (a name shared by duplicates is ambiguous).
struct RemoveNetwork(String);

impl Drop for RemoveNetwork {
    fn drop(&mut self) {
        let filter = format!("name=^{}$", self.0);
        if let Ok(out) = Command::new("docker")
            .args(["network", "ls", "-q", "--filter", &filter])
            .output()
        {
            for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("docker").args(["network", "rm", id]).output();
            }
        }
    }
}

/// `KIND_EXPERIMENTAL_DOCKER_NETWORK`: the nodes join that network, created like kind's `kind`
/// network when missing, with kind's two warnings; delete leaves the network, as kind does.
#[test]
fn experimental_docker_network_holds_the_nodes() {
    if !docker_available() {
        return;
    }
    let network = unique_name("envnet");
    // Declared first so it drops last: the cluster's containers go before the network.
    let _network_guard = RemoveNetwork(network.clone());
    let c = TestCluster::new("envnet");
    let mut create = c.kindling(&["create", "cluster", "--name", &c.name, "--image"]);
    create
        .arg(standin_image())
        .env("KIND_EXPERIMENTAL_DOCKER_NETWORK", &network);
    let out = run(&mut create).ok();
    let warnings = "WARNING: Overriding docker network due to KIND_EXPERIMENTAL_DOCKER_NETWORK\n\
                    WARNING: Here be dragons! This is not supported currently.\n";
    assert!(out.stderr.contains(warnings), "{}", out.stderr);

    assert_eq!(inspect(&network, "{{.Driver}}"), "bridge");
    assert_eq!(
        inspect(
            &network,
            "{{index .Options \"com.docker.network.bridge.enable_ip_masquerade\"}}"
        ),
        "true"
    );
    let node = format!("{}-control-plane", c.name);
    assert_eq!(
        inspect(
            &node,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}"
        ),
        network,
        "the node is on that network only"
    );
    assert_eq!(inspect(&node, "{{.HostConfig.NetworkMode}}"), network);
    let listed = run(&mut c.kindling(&["get", "nodes", "--name", &c.name])).ok();
    assert_eq!(listed.stdout.trim(), node);

    let out = run(&mut c.kindling(&["delete", "cluster", "--name", &c.name])).ok();
    assert!(!out.stderr.contains("network"), "{}", out.stderr);
    assert!(c.containers().is_empty());
    assert_eq!(
        inspect(&network, "{{.Name}}"),
        network,
        "delete leaves the network, as kind does"
    );
}

fn race(unlocked: bool) {
    if !docker_available() {
        return;
    }
    // A private name so the real `kind` network, used by other tests, is never touched.
    let name = unique_name("net");
    let _cleanup = RemoveNetwork(name.clone());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcomes = runtime.block_on(async {
        let engine = kindling::docker::Engine::connect().await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let engine = engine.clone();
                let name = name.clone();
                tokio::spawn(async move {
                    if unlocked {
                        engine.ensure_network_unlocked(&name).await
                    } else {
                        engine.ensure_network(&name).await
                    }
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap().unwrap());
        }
        outcomes
    });
    let ids = run(Command::new("docker").args([
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("name=^{name}$"),
    ]))
    .ok()
    .stdout;
    assert_eq!(
        ids.lines().count(),
        1,
        "exactly one network named {name} after 8 racing creates ({outcomes:?})"
    );
    assert_eq!(inspect(&name, "{{.Driver}}"), "bridge");
    assert_eq!(
        inspect(
            &name,
            "{{index .Options \"com.docker.network.bridge.enable_ip_masquerade\"}}"
        ),
        "true"
    );
    assert!(
        inspect(&name, "{{json .Labels}}") == "{}" || inspect(&name, "{{json .Labels}}") == "null",
        "kind sets no labels"
    );
    if inspect(&name, "{{.EnableIPv6}}") == "true" {
        let subnets = inspect(&name, "{{range .IPAM.Config}}{{.Subnet}} {{end}}");
        // The first IPv6 attempt, unless another network on this engine already holds it.
        let expected: Vec<String> = (0..5)
            .map(|i| kindling::docker::ula_subnet(&name, i))
            .collect();
        assert!(
            expected.iter().any(|e| subnets.contains(e.as_str())),
            "{subnets} is one of kind's ULA subnets {expected:?}"
        );
    }
    // Ensuring again reuses it as it is.
    let again = runtime.block_on(async {
        kindling::docker::Engine::connect()
            .await
            .unwrap()
            .ensure_network(&name)
            .await
            .unwrap()
    });
    assert_eq!(again, kindling::docker::NetworkOutcome::Existing);
}

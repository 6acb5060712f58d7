//! End-to-end: the shared network, created as kind creates it and only once when creates race.

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

fn race(unlocked: bool) {
    if !docker_available() {
        return;
    }
    // A private name so the real `kind` network, used by other tests, is never touched.
    let name = unique_name("net");
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

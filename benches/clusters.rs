//! Create and delete wall time with the stand-in node image (`cargo bench --bench clusters`).
//! Prints median, min, max and spread over N runs (default 5; `KINDLING_BENCH_RUNS`) for a
//! single node, 1 control plane + 3 workers, and 3 control planes + 2 workers behind HAProxy.
//! Set `KINDLING_BENCH_SCENARIOS` to e.g. `1,1+3` to run a subset.

// A benchmark program: failing loudly on a broken setup is the right behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

const SCENARIOS: [(&str, &str); 3] = [
    ("1", "- role: control-plane\n"),
    (
        "1+3",
        "- role: control-plane\n- role: worker\n- role: worker\n- role: worker\n",
    ),
    (
        "3+2",
        "- role: control-plane\n- role: control-plane\n- role: control-plane\n- role: worker\n- role: worker\n",
    ),
];

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("KINDLING_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let wanted =
        std::env::var("KINDLING_BENCH_SCENARIOS").unwrap_or_else(|_| "1,1+3,3+2".to_string());
    let image = build_image("tests/standin/build");
    let lb = build_image("images/haproxy/build");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    println!("kindling create/delete wall time, stand-in image {image}, {runs} runs each");
    println!(
        "{:<6} {:<7} {:>8} {:>8} {:>8} {:>8}",
        "nodes", "op", "median", "min", "max", "spread"
    );
    for (label, nodes) in SCENARIOS
        .iter()
        .filter(|(l, _)| wanted.split(',').any(|w| w == *l))
    {
        let config = dir.path().join(format!("{label}.yaml"));
        std::fs::write(
            &config,
            format!("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n{nodes}"),
        )
        .expect("config");
        let (mut creates, mut deletes) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let guard = Named(unique(&label.replace('+', "p")), kubeconfig.clone());
            let name = guard.0.clone();
            creates.push(kindling(
                &kubeconfig,
                &[
                    "create",
                    "cluster",
                    "--name",
                    &name,
                    "--image",
                    &image,
                    "--config",
                    config.to_str().unwrap_or_default(),
                    "--load-balancer-image",
                    &lb,
                ],
            ));
            deletes.push(kindling(
                &kubeconfig,
                &["delete", "cluster", "--name", &name],
            ));
        }
        for (op, samples) in [("create", &creates), ("delete", &deletes)] {
            let (median, min, max) = stats(samples);
            println!(
                "{label:<6} {op:<7} {median:>7.2}s {min:>7.2}s {max:>7.2}s {:>7.2}s",
                max - min
            );
        }
    }
}

//! Loading a 300 MB image into 3 nodes (`cargo bench --bench load`): wall time, kindling's peak
//! memory (VmHWM) and the bytes kindling itself wrote to disk (`/proc/<pid>/io` write_bytes),
//! sampled while it runs. Size with `KINDLING_BENCH_IMAGE_MB` (default 300).

// A benchmark program: failing loudly on a broken setup is the right behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Reads one `Key: value` field from a /proc file of `pid`.
fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mb: usize = std::env::var("KINDLING_BENCH_IMAGE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let image = build_image("tests/standin/build");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    // A locally built image of random bytes (incompressible), in one layer.
    let ctx = dir.path().join("image");
    std::fs::create_dir(&ctx).expect("mkdir");
    let mut payload = vec![0u8; mb << 20];
    getrandom::fill(&mut payload).expect("random");
    std::fs::write(ctx.join("payload"), &payload).expect("payload");
    drop(payload);
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY payload /payload\n",
    )
    .expect("Dockerfile");
    let tag = format!(
        "kindling-bench/load:{}",
        unique("img").replace("bench-img-", "")
    );
    assert!(
        Command::new("docker")
            .args(["build", "-q", "-t", &tag])
            .arg(&ctx)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "docker build"
    );
    std::fs::remove_dir_all(&ctx).expect("rm payload");

    let guard = Named(unique("load"), kubeconfig.clone());
    let config = dir.path().join("three.yaml");
    std::fs::write(&config, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n").expect("config");
    kindling(
        &kubeconfig,
        &[
            "create",
            "cluster",
            "--name",
            &guard.0,
            "--image",
            &image,
            "--config",
            config.to_str().unwrap_or_default(),
        ],
    );

    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(["load", "docker-image", &tag, "--name", &guard.0])
        .env("KUBECONFIG", &kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let (mut peak_kb, mut written) = (0, 0);
    let status = loop {
        if let Some(v) = proc_field(child.id(), "status", "VmHWM:") {
            peak_kb = peak_kb.max(v);
        }
        if let Some(v) = proc_field(child.id(), "io", "write_bytes:") {
            written = written.max(v);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    assert!(status.success(), "load failed");
    let again = kindling(
        &kubeconfig,
        &["load", "docker-image", &tag, "--name", &guard.0],
    );
    println!("kindling load docker-image: {mb} MB image into 3 nodes");
    println!(
        "  wall time          {:>8.2} s ({:.0} MB/s of image per node)",
        took.as_secs_f64(),
        mb as f64 / took.as_secs_f64()
    );
    println!("  peak memory (RSS)  {:>8.1} MB", peak_kb as f64 / 1024.0);
    println!(
        "  bytes written      {:>8} (by kindling itself; no temporary file)",
        written
    );
    println!(
        "  second load        {:>8.2} s (already present: nothing transferred)",
        again.as_secs_f64()
    );
    drop(guard);
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
}

//! Helpers shared by the cluster benchmarks.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs one of the repository's image build scripts and returns the image it printed last.
pub fn build_image(script: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join(script))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("{script}: {e}"));
    assert!(out.status.success(), "{script} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `kindling <args>` with a private kubeconfig; panics with stderr on failure; returns wall time.
pub fn kindling(kubeconfig: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run kindling");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "kindling {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// Median, minimum and maximum of some durations, in seconds.
pub fn stats(samples: &[Duration]) -> (f64, f64, f64) {
    let mut s: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    let median = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    (median, s[0], s[s.len() - 1])
}

/// A cluster name for benchmarks; removed on drop if a run failed half-way.
pub struct Named(pub String, pub PathBuf);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_kindling"))
            .args(["delete", "cluster", "--name", &self.0])
            .env("KUBECONFIG", &self.1)
            .output();
    }
}

/// A unique benchmark cluster name.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("bench-{prefix}-{}-{nanos:x}", std::process::id())
}

//! Time to generate a full cluster PKI (CAs, sa, token, and every control-plane node's files):
//! `cargo bench --bench pki` prints median, min and max over several runs.

use kindling::k8s_version::KubeVersion;
use kindling::pki::{ClusterPki, ControlPlaneRole, KeyAlgorithm, NodeCertInputs};
use std::time::{Duration, Instant};

const RUNS: usize = 10;

fn node(index: usize, version: &KubeVersion) -> NodeCertInputs {
    let suffix = if index == 0 {
        String::new()
    } else {
        (index + 1).to_string()
    };
    NodeCertInputs {
        node_name: format!("kind-control-plane{suffix}"),
        advertise_address: [172, 18, 0, 3 + index as u8].into(),
        bind_port: 6443,
        cluster_name: "kind".into(),
        control_plane_endpoint: "kind-external-load-balancer:6443".into(),
        service_subnet: "10.96.0.0/16".into(),
        dns_domain: "cluster.local".into(),
        cert_sans: vec!["localhost".into(), "127.0.0.1".into()],
        etcd_server_cert_sans: vec![],
        etcd_peer_cert_sans: vec![],
        certificates_dir: String::new(),
        kubelet_local_mode: None,
        kubernetes_version: version.clone(),
    }
}

/// One full generation: shared material plus the files of every control plane.
fn generate(
    alg: KeyAlgorithm,
    nodes: &[NodeCertInputs],
) -> Result<usize, Box<dyn std::error::Error>> {
    let pki = ClusterPki::generate(alg)?;
    let mut files = 0;
    for (i, node) in nodes.iter().enumerate() {
        let role = if i == 0 {
            ControlPlaneRole::Init
        } else {
            ControlPlaneRole::Join
        };
        files += pki.control_plane_files(node, role)?.len();
    }
    Ok(files)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let version = KubeVersion::parse("v1.36.1")?;
    println!(
        "{:<10} {:>14} {:>6} {:>12} {:>12} {:>12}",
        "keys", "control planes", "files", "median", "min", "max"
    );
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        for count in [1, 3] {
            let nodes: Vec<_> = (0..count).map(|i| node(i, &version)).collect();
            let mut times = Vec::with_capacity(RUNS);
            // One untimed run first, so one-time initialisation is not counted.
            let mut files = generate(alg, &nodes)?;
            for _ in 0..RUNS {
                let start = Instant::now();
                files = generate(alg, &nodes)?;
                times.push(start.elapsed());
            }
            times.sort();
            let median = (times[RUNS / 2 - 1] + times[RUNS / 2]) / 2;
            let name = alg.kubeadm_name();
            println!(
                "{name:<10} {count:>14} {files:>6} {:>12} {:>12} {:>12}",
                ms(median),
                ms(times[0]),
                ms(times[RUNS - 1])
            );
        }
    }
    println!("({RUNS} runs each; median of an even count is the mean of the middle two)");
    Ok(())
}

//! kindling's PKI checked by real TLS peers: Debian's etcd and etcdctl, kubectl and openssl.
//!
//! A missing tool skips the test with a message, or fails it when `KINDLING_REQUIRE_PEERS=1`.
//! kubectl is `$KINDLING_TEST_KUBECTL` when set, else `kubectl` on PATH.

use kindling::k8s_version::KubeVersion;
use kindling::pki::{ClusterPki, ControlPlaneRole, KeyAlgorithm, NodeCertInputs, PkiFile};
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a freshly started etcd may take to answer.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// Resolves a tool, or returns from the test (skip) / panics (`KINDLING_REQUIRE_PEERS=1`).
macro_rules! require_tool {
    ($name:expr) => {
        match find_tool(&$name) {
            Some(path) => path,
            None => {
                missing_tool(&$name);
                return;
            }
        }
    };
}

fn find_tool(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn missing_tool(name: &str) {
    let msg = format!(
        "{name} not found: install Debian's etcd-server, etcd-client and openssl, and kubectl \
         (or point KINDLING_TEST_KUBECTL at one)"
    );
    if std::env::var("KINDLING_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("KINDLING_REQUIRE_PEERS=1 but {msg}");
    }
    eprintln!("skipping: {msg}");
}

fn kubectl_name() -> String {
    std::env::var("KINDLING_TEST_KUBECTL").unwrap_or_else(|_| "kubectl".to_string())
}

/// Inputs like kind's for one control-plane node; kind puts `localhost` and its
/// apiServerAddress (127.0.0.1 by default) in certSANs.
fn node(name: &str, ip: &str) -> NodeCertInputs {
    NodeCertInputs {
        node_name: name.into(),
        advertise_address: ip.parse().unwrap(),
        bind_port: 6443,
        cluster_name: "kind".into(),
        control_plane_endpoint: "kind-control-plane:6443".into(),
        service_subnet: "10.96.0.0/16".into(),
        dns_domain: "cluster.local".into(),
        cert_sans: vec!["localhost".into(), "127.0.0.1".into()],
        etcd_server_cert_sans: vec![],
        etcd_peer_cert_sans: vec![],
        certificates_dir: String::new(),
        kubelet_local_mode: None,
        kubernetes_version: KubeVersion::parse("v1.36.1").unwrap(),
    }
}

/// Writes a node's files under `dir` (`/etc/kubernetes/x` → `dir/x`) with their modes.
fn write_files(dir: &Path, files: &[PkiFile]) {
    for f in files {
        let rel = f.path.strip_prefix("/etc/kubernetes/").unwrap();
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &f.contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(f.mode)).unwrap();
    }
}

/// A cluster's init-node files written to a fresh temp dir.
fn materialise(
    pki: &ClusterPki,
    inputs: &NodeCertInputs,
    role: ControlPlaneRole,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &pki.control_plane_files(inputs, role).unwrap());
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()))
}

fn describe(out: &Output) -> String {
    format!(
        "status {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An etcd process, killed when dropped.
struct Etcd {
    child: Child,
    log: PathBuf,
}

impl Etcd {
    /// Starts etcd with `args` (data dir and logging added), output to a log file in `dir`.
    fn start(etcd: &Path, dir: &Path, name: &str, args: &[String]) -> Etcd {
        let log = dir.join(format!("{name}.log"));
        let out = fs::File::create(&log).unwrap();
        let child = Command::new(etcd)
            .arg(format!("--name={name}"))
            .arg(format!(
                "--data-dir={}",
                dir.join(format!("{name}.etcd")).display()
            ))
            .args(args)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", etcd.display()));
        Etcd { child, log }
    }

    /// Polls `probe` until it succeeds; panics with etcd's log on deadline or early exit.
    fn wait_until(&mut self, what: &str, mut probe: impl FnMut() -> Result<(), String>) {
        let deadline = Instant::now() + READY_DEADLINE;
        let mut delay = Duration::from_millis(50);
        loop {
            let last = match probe() {
                Ok(()) => return,
                Err(e) => e,
            };
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("etcd exited ({status}) before {what}:\n{}", self.log_text());
            }
            if Instant::now() > deadline {
                panic!(
                    "etcd not {what} after {READY_DEADLINE:?}: {last}\n{}",
                    self.log_text()
                );
            }
            // Back-off between polls of a bounded wait, not synchronisation by sleeping.
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// TLS flags of an etcd client listener on `urls`.
fn client_tls_args(urls: &str, cert: &Path, key: &Path, client_ca: &Path) -> Vec<String> {
    vec![
        format!("--listen-client-urls={urls}"),
        format!(
            "--advertise-client-urls={}",
            urls.split(',').next().unwrap()
        ),
        format!("--cert-file={}", cert.display()),
        format!("--key-file={}", key.display()),
        format!("--trusted-ca-file={}", client_ca.display()),
        "--client-cert-auth".into(),
    ]
}

/// Plain-HTTP peer flags for a single-member cluster.
fn single_member_args(name: &str) -> Vec<String> {
    let peer = format!("http://127.0.0.1:{}", free_port());
    vec![
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster={name}={peer}"),
    ]
}

/// etcdctl against `endpoint` with a CA and client cert/key.
fn etcdctl(
    etcdctl: &Path,
    endpoint: &str,
    ca: &Path,
    cert: &Path,
    key: &Path,
    cmd: &[&str],
) -> Output {
    let mut args = vec![
        format!("--endpoints={endpoint}"),
        format!("--cacert={}", ca.display()),
        format!("--cert={}", cert.display()),
        format!("--key={}", key.display()),
        "--dial-timeout=3s".into(),
        "--command-timeout=5s".into(),
    ];
    args.extend(cmd.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(etcdctl, &args)
}

fn ok_or_describe(out: Output) -> Result<Output, String> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(describe(&out))
    }
}

#[test]
fn etcd_accepts_kindling_etcd_clients_and_refuses_other_cas() {
    let etcd_bin = require_tool!("etcd");
    let etcdctl_bin = require_tool!("etcdctl");
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let dir = materialise(
        &pki,
        &node("kind-control-plane", "172.18.0.3"),
        ControlPlaneRole::Init,
    );
    let other = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other_dir = materialise(
        &other,
        &node("kind-control-plane", "172.18.0.3"),
        ControlPlaneRole::Init,
    );
    let p = |rel: &str| dir.path().join("pki").join(rel);

    let endpoint = format!("https://127.0.0.1:{}", free_port());
    let mut args = client_tls_args(
        &endpoint,
        &p("etcd/server.crt"),
        &p("etcd/server.key"),
        &p("etcd/ca.crt"),
    );
    args.extend(single_member_args("kind-control-plane"));
    let mut etcd = Etcd::start(&etcd_bin, dir.path(), "kind-control-plane", &args);
    let ca = p("etcd/ca.crt");

    // The API server's etcd client reads and writes.
    let (cert, key) = (
        p("apiserver-etcd-client.crt"),
        p("apiserver-etcd-client.key"),
    );
    etcd.wait_until("serving apiserver-etcd-client", || {
        ok_or_describe(etcdctl(
            &etcdctl_bin,
            &endpoint,
            &ca,
            &cert,
            &key,
            &["put", "kindling", "ok"],
        ))
        .map(drop)
    });
    let got = etcdctl(
        &etcdctl_bin,
        &endpoint,
        &ca,
        &cert,
        &key,
        &["get", "kindling", "--print-value-only"],
    );
    assert!(got.status.success(), "{}", describe(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "ok");

    // kubeadm's health-check client.
    let health = etcdctl(
        &etcdctl_bin,
        &endpoint,
        &ca,
        &p("etcd/healthcheck-client.crt"),
        &p("etcd/healthcheck-client.key"),
        &["endpoint", "health"],
    );
    assert!(health.status.success(), "{}", describe(&health));

    // Refused: the same client from another cluster, and a client of this cluster signed by
    // the cluster CA rather than etcd/ca (separate trust domains, pki-facts §4).
    let foreign = other_dir.path().join("pki");
    for (who, cert, key) in [
        (
            "another cluster's apiserver-etcd-client",
            foreign.join("apiserver-etcd-client.crt"),
            foreign.join("apiserver-etcd-client.key"),
        ),
        (
            "apiserver-kubelet-client (signed by ca)",
            p("apiserver-kubelet-client.crt"),
            p("apiserver-kubelet-client.key"),
        ),
    ] {
        let out = etcdctl(
            &etcdctl_bin,
            &endpoint,
            &ca,
            &cert,
            &key,
            &["get", "kindling"],
        );
        assert!(
            !out.status.success(),
            "{who} was accepted:\n{}",
            describe(&out)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("ok"),
            "{who} read the key:\n{}",
            describe(&out)
        );
    }
    let log = etcd.log_text();
    assert!(
        log.contains("rejected connection")
            && log.contains("x509: certificate signed by unknown authority"),
        "etcd did not log a rejected client certificate:\n{log}"
    );
}

#[test]
fn etcd_members_talk_over_kindling_peer_certificates() {
    let etcd_bin = require_tool!("etcd");
    let etcdctl_bin = require_tool!("etcdctl");
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let members = [
        ("kind-control-plane", "172.18.0.3", ControlPlaneRole::Init),
        ("kind-control-plane2", "172.18.0.4", ControlPlaneRole::Join),
    ];
    let dirs: Vec<_> = members
        .iter()
        .map(|(name, ip, role)| materialise(&pki, &node(name, ip), *role))
        .collect();
    let ports: Vec<(u16, u16)> = members.iter().map(|_| (free_port(), free_port())).collect();
    let initial_cluster = members
        .iter()
        .zip(&ports)
        .map(|((name, ..), (_, peer))| format!("{name}=https://127.0.0.1:{peer}"))
        .collect::<Vec<_>>()
        .join(",");

    let mut procs = Vec::new();
    for (((name, ..), (client, peer)), dir) in members.iter().zip(&ports).zip(&dirs) {
        let p = |rel: &str| dir.path().join("pki").join(rel);
        let mut args = client_tls_args(
            &format!("https://127.0.0.1:{client}"),
            &p("etcd/server.crt"),
            &p("etcd/server.key"),
            &p("etcd/ca.crt"),
        );
        args.extend([
            format!("--listen-peer-urls=https://127.0.0.1:{peer}"),
            format!("--initial-advertise-peer-urls=https://127.0.0.1:{peer}"),
            format!("--initial-cluster={initial_cluster}"),
            "--initial-cluster-state=new".into(),
            format!("--peer-cert-file={}", p("etcd/peer.crt").display()),
            format!("--peer-key-file={}", p("etcd/peer.key").display()),
            format!("--peer-trusted-ca-file={}", p("etcd/ca.crt").display()),
            "--peer-client-cert-auth".into(),
        ]);
        procs.push(Etcd::start(&etcd_bin, dir.path(), name, &args));
    }

    // A write on the first member is read linearizably on the second: raft over peer TLS.
    let p0 = |rel: &str| dirs[0].path().join("pki").join(rel);
    let ca = p0("etcd/ca.crt");
    let (cert, key) = (
        p0("apiserver-etcd-client.crt"),
        p0("apiserver-etcd-client.key"),
    );
    let first = format!("https://127.0.0.1:{}", ports[0].0);
    let second = format!("https://127.0.0.1:{}", ports[1].0);
    procs[0].wait_until("accepting writes through a two-member quorum", || {
        ok_or_describe(etcdctl(
            &etcdctl_bin,
            &first,
            &ca,
            &cert,
            &key,
            &["put", "peer", "linked"],
        ))
        .map(drop)
    });
    let got = etcdctl(
        &etcdctl_bin,
        &second,
        &ca,
        &cert,
        &key,
        &["get", "peer", "--print-value-only"],
    );
    assert!(got.status.success(), "{}", describe(&got));
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "linked");
}

/// admin.conf with its server replaced (and optionally a TLS server name set).
fn rewrite_kubeconfig(src: &Path, dst: &Path, server: &str, tls_server_name: Option<&str>) {
    let mut doc: serde_json::Value =
        kindling::yaml::from_str(&fs::read_to_string(src).unwrap()).unwrap();
    let cluster = &mut doc["clusters"][0]["cluster"];
    cluster["server"] = server.into();
    if let Some(name) = tls_server_name {
        cluster["tls-server-name"] = name.into();
    }
    fs::write(dst, kindling::yaml::to_string(&doc).unwrap()).unwrap();
    fs::set_permissions(dst, fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn kubectl_trusts_the_apiserver_certificate_only_for_its_names() {
    let etcd_bin = require_tool!("etcd");
    let etcdctl_bin = require_tool!("etcdctl");
    let kubectl = require_tool!(kubectl_name());
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let dir = materialise(
        &pki,
        &node("kind-control-plane", "172.18.0.3"),
        ControlPlaneRole::Init,
    );
    let p = |rel: &str| dir.path().join("pki").join(rel);

    // etcd plays the API server: kindling's apiserver certificate, the cluster CA for clients.
    // It also listens on 127.0.0.2, an address the certificate does not name.
    let port = free_port();
    let good = format!("https://127.0.0.1:{port}");
    let unnamed = format!("https://127.0.0.2:{port}");
    let mut args = client_tls_args(
        &format!("{good},{unnamed}"),
        &p("apiserver.crt"),
        &p("apiserver.key"),
        &p("ca.crt"),
    );
    args.extend(single_member_args("kind-control-plane"));
    let mut etcd = Etcd::start(&etcd_bin, dir.path(), "kind-control-plane", &args);
    let (cert, key) = (
        p("apiserver-kubelet-client.crt"),
        p("apiserver-kubelet-client.key"),
    );
    etcd.wait_until("serving", || {
        ok_or_describe(etcdctl(
            &etcdctl_bin,
            &good,
            &p("ca.crt"),
            &cert,
            &key,
            &["endpoint", "health"],
        ))
        .map(drop)
    });

    let kubectl_raw = |config: &Path| {
        run(
            &kubectl,
            &[
                "--kubeconfig",
                config.to_str().unwrap(),
                "--request-timeout=10s",
                "get",
                "--raw",
                "/version",
            ],
        )
    };
    let admin = dir.path().join("admin.conf");
    let cfg = dir.path().join("admin-local.conf");

    rewrite_kubeconfig(&admin, &cfg, &good, None);
    let out = kubectl_raw(&cfg);
    assert!(
        out.status.success(),
        "kubectl refused kindling's certificates:\n{}",
        describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("etcdserver"),
        "{}",
        describe(&out)
    );

    for (server, name, why) in [
        (&unnamed, None, "127.0.0.2"),
        (
            &good,
            Some("not-in-the-cert.example"),
            "not-in-the-cert.example",
        ),
    ] {
        rewrite_kubeconfig(&admin, &cfg, server, name);
        let out = kubectl_raw(&cfg);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "kubectl accepted {why}:\n{}",
            describe(&out)
        );
        assert!(
            err.contains("x509: certificate is valid for") && err.contains(why),
            "expected a hostname mismatch for {why}:\n{}",
            describe(&out)
        );
    }

    // Another cluster's admin.conf does not trust this server.
    let other = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let other_dir = materialise(
        &other,
        &node("kind-control-plane", "172.18.0.3"),
        ControlPlaneRole::Init,
    );
    rewrite_kubeconfig(&other_dir.path().join("admin.conf"), &cfg, &good, None);
    let out = kubectl_raw(&cfg);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("x509: certificate signed by unknown authority"),
        "{}",
        describe(&out)
    );
}

/// (leaf, CA, openssl purposes) for every leaf of a node (pki-facts §1 EKUs).
const LEAVES: [(&str, &str, &[&str]); 7] = [
    ("apiserver", "ca", &["sslserver"]),
    ("apiserver-kubelet-client", "ca", &["sslclient"]),
    ("front-proxy-client", "front-proxy-ca", &["sslclient"]),
    ("etcd/server", "etcd/ca", &["sslserver", "sslclient"]),
    ("etcd/peer", "etcd/ca", &["sslserver", "sslclient"]),
    ("etcd/healthcheck-client", "etcd/ca", &["sslclient"]),
    ("apiserver-etcd-client", "etcd/ca", &["sslclient"]),
];

/// `openssl verify` a certificate against a CA for one purpose, strictly.
fn openssl_verify(openssl: &Path, ca: &Path, cert: &Path, purpose: &str) {
    let out = run(
        openssl,
        &[
            "verify",
            "-x509_strict",
            "-purpose",
            purpose,
            "-CAfile",
            ca.to_str().unwrap(),
            cert.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout)
                .trim()
                .ends_with(": OK"),
        "{} against {} ({purpose}):\n{}",
        cert.display(),
        ca.display(),
        describe(&out)
    );
}

/// `openssl pkey -pubout` of a private key, or `x509 -pubkey` of a certificate.
fn openssl_pubkey(openssl: &Path, args: &[&str]) -> String {
    let out = run(openssl, args);
    assert!(
        out.status.success(),
        "openssl {args:?}:\n{}",
        describe(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn check_with_openssl(openssl: &Path, alg: KeyAlgorithm) {
    let pki = ClusterPki::generate(alg).unwrap();
    for (name, ip, role) in [
        ("kind-control-plane", "172.18.0.3", ControlPlaneRole::Init),
        ("kind-control-plane2", "172.18.0.4", ControlPlaneRole::Join),
    ] {
        let dir = materialise(&pki, &node(name, ip), role);
        let pki_dir = dir.path().join("pki");
        let mut pairs: Vec<(PathBuf, PathBuf)> = Vec::new();
        for ca in ["ca", "front-proxy-ca", "etcd/ca"] {
            let crt = pki_dir.join(format!("{ca}.crt"));
            openssl_verify(openssl, &crt, &crt, "any");
            pairs.push((crt, pki_dir.join(format!("{ca}.key"))));
        }
        for (leaf, ca, purposes) in LEAVES {
            let crt = pki_dir.join(format!("{leaf}.crt"));
            let ca_crt = pki_dir.join(format!("{ca}.crt"));
            for purpose in purposes {
                openssl_verify(openssl, &ca_crt, &crt, purpose);
            }
            pairs.push((crt, pki_dir.join(format!("{leaf}.key"))));
        }
        // Client certificates embedded in the kubeconfigs.
        for entry in fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            let doc: serde_json::Value =
                kindling::yaml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
            let user = &doc["users"][0]["user"];
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let crt = dir.path().join(format!("{stem}-client.crt"));
            let key = dir.path().join(format!("{stem}-client.key"));
            for (field, file) in [("client-certificate-data", &crt), ("client-key-data", &key)] {
                let b64 = file.with_extension("b64");
                fs::write(&b64, user[field].as_str().unwrap()).unwrap();
                let (input, output) = (b64.to_str().unwrap(), file.to_str().unwrap());
                let out = run(
                    openssl,
                    &["base64", "-d", "-A", "-in", input, "-out", output],
                );
                assert!(out.status.success(), "{}", describe(&out));
            }
            openssl_verify(openssl, &pki_dir.join("ca.crt"), &crt, "sslclient");
            pairs.push((crt, key));
        }
        // Every key file parses in openssl and belongs to its certificate.
        for (crt, key) in pairs {
            let from_cert = openssl_pubkey(
                openssl,
                &["x509", "-pubkey", "-noout", "-in", crt.to_str().unwrap()],
            );
            let from_key =
                openssl_pubkey(openssl, &["pkey", "-pubout", "-in", key.to_str().unwrap()]);
            assert_eq!(
                from_cert,
                from_key,
                "{} does not match {}",
                key.display(),
                crt.display()
            );
        }
        let sa_pub = fs::read_to_string(pki_dir.join("sa.pub")).unwrap();
        let sa_key = pki_dir.join("sa.key");
        assert_eq!(
            sa_pub,
            openssl_pubkey(
                openssl,
                &["pkey", "-pubout", "-in", sa_key.to_str().unwrap()]
            )
        );
    }
}

#[test]
fn openssl_verifies_every_ecdsa_leaf_against_its_ca() {
    let openssl = require_tool!("openssl");
    check_with_openssl(&openssl, KeyAlgorithm::EcdsaP256);
}

#[test]
fn openssl_verifies_every_rsa_leaf_against_its_ca() {
    let openssl = require_tool!("openssl");
    check_with_openssl(&openssl, KeyAlgorithm::Rsa2048);
}

#[test]
fn discovery_hash_matches_openssl() {
    let openssl = require_tool!("openssl");
    let _ = require_tool!("sha256sum");
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let pki = ClusterPki::generate(alg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.crt");
        fs::write(&ca, pki.ca_cert_pem()).unwrap();
        let script =
            "\"$1\" x509 -pubkey -noout -in \"$2\" | \"$1\" pkey -pubin -outform der | sha256sum";
        let out = run(
            Path::new("sh"),
            &[
                "-c",
                script,
                "sh",
                openssl.to_str().unwrap(),
                ca.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", describe(&out));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let hex = stdout.split_whitespace().next().unwrap();
        assert_eq!(hex.len(), 64);
        assert_eq!(pki.ca_cert_hash(), format!("sha256:{hex}"), "{alg:?}");
    }
}

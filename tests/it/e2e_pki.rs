//! End-to-end: the pre-made PKI holds where real kubeadm's rules apply (issue 13). The stand-in
//! kubeadm repeats kubeadm's checks of existing certificates (chains at the node's time,
//! kubeconfig CAs, and for joining control planes every expected name from the cluster's
//! ClusterConfiguration), so these creates fail when kindling's files would fail real kubeadm.

use crate::common::*;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use x509_parser::prelude::{FromDer, X509Certificate};

/// A Docker API proxy on a Unix socket that reports the engine's clock (`SystemTime` of
/// `GET /info`) shifted by `shift` and passes everything else through unchanged. Every request
/// gets its own upstream connection (`Connection: close`), so no `/info` slips past on a reused
/// connection; upgraded connections (exec streams) are spliced as they are.
struct ShiftedClockEngine {
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl ShiftedClockEngine {
    fn start(upstream: PathBuf, shift: time::Duration) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let listener = UnixListener::bind(dir.path().join("docker.sock")).expect("bind proxy");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let upstream = upstream.clone();
                thread::spawn(move || {
                    let _ = serve(conn, &upstream, shift);
                });
            }
        });
        ShiftedClockEngine {
            dir,
            stop,
            accept: Some(accept),
        }
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }
}

impl Drop for ShiftedClockEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = UnixStream::connect(self.dir.path().join("docker.sock"));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// The request head (without its blank line) and whatever body bytes came with it.
fn read_head(conn: &mut UnixStream) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Ok((head, buf[end + 4..].to_vec()));
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn header_is(line: &str, name: &str) -> bool {
    line.split(':')
        .next()
        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
}

fn serve(mut client: UnixStream, upstream: &Path, shift: time::Duration) -> io::Result<()> {
    let (head, body_start) = read_head(&mut client)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<&str> = lines.collect();
    let upgrade = headers.iter().any(|h| header_is(h, "upgrade"));
    let mut out = format!("{request_line}\r\n");
    for h in &headers {
        if !upgrade && header_is(h, "connection") {
            continue;
        }
        out.push_str(h);
        out.push_str("\r\n");
    }
    if !upgrade {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut up = UnixStream::connect(upstream)?;
    up.write_all(out.as_bytes())?;
    up.write_all(&body_start)?;

    let path = request_line.split(' ').nth(1).unwrap_or_default();
    let is_info = request_line.starts_with("GET ")
        && path
            .split('?')
            .next()
            .unwrap_or_default()
            .ends_with("/info");
    if is_info {
        let mut response = Vec::new();
        up.read_to_end(&mut response)?;
        client.write_all(&shift_info(&response, shift))?;
        return Ok(());
    }
    let mut up_read = up.try_clone()?;
    let mut client_write = client.try_clone()?;
    let back = thread::spawn(move || {
        let _ = io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(std::net::Shutdown::Both);
    });
    let _ = io::copy(&mut client, &mut up);
    let _ = up.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
    Ok(())
}

/// The engine's `/info` answer with `SystemTime` moved by `shift`.
fn shift_info(response: &[u8], shift: time::Duration) -> Vec<u8> {
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP response head");
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let mut body = response[end + 4..].to_vec();
    if head
        .lines()
        .any(|l| header_is(l, "transfer-encoding") && l.to_lowercase().contains("chunked"))
    {
        body = dechunk(&body);
    }
    let mut info: serde_json::Value = serde_json::from_slice(&body).expect("engine info JSON");
    let real = info["SystemTime"].as_str().expect("SystemTime").to_string();
    let parsed = time::OffsetDateTime::parse(&real, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 SystemTime");
    let t = (parsed + shift).to_offset(time::UtcOffset::UTC);
    info["SystemTime"] = serde_json::Value::String(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    ));
    let body = serde_json::to_vec(&info).unwrap();
    let status = head.lines().next().unwrap_or("HTTP/1.1 200 OK");
    let mut out = format!(
        "{status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
            .expect("chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}

/// A PEM certificate read from a node, parsed.
fn node_cert(node: &str, path: &str) -> Vec<u8> {
    let pem = node_exec(node, &["cat", path]);
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM certificate");
    block.contents
}

fn validity(der: &[u8]) -> (i64, i64) {
    let (_, cert) = X509Certificate::from_der(der).expect("certificate");
    (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    )
}

fn organizations(der: &[u8]) -> Vec<String> {
    let (_, cert) = X509Certificate::from_der(der).expect("certificate");
    cert.subject()
        .iter_organization()
        .map(|o| o.as_str().unwrap().to_string())
        .collect()
}

/// The client certificate of a kubeconfig file in a node.
fn kubeconfig_cert(node: &str, file: &str) -> Vec<u8> {
    use base64::Engine as _;
    let text = node_exec(node, &["cat", file]);
    let doc: serde_json::Value = kindling::yaml::from_str(&text).unwrap();
    let pem = base64::engine::general_purpose::STANDARD
        .decode(
            doc["users"][0]["user"]["client-certificate-data"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    block.contents
}

fn kubeadm_exit_code(node: &str) -> Option<i64> {
    standin_exits(node)
        .into_iter()
        .find(|e| e["tool"] == "kubeadm")
        .and_then(|e| e["exit_code"].as_i64())
}

/// Items 1 and 5: an engine (and so node) clock three hours behind this machine, and a
/// pre-release node version between kubeadm's identity changes.
#[test]
fn certificates_follow_the_engine_clock_and_pre_release_gates() {
    if !docker_available() {
        return;
    }
    let Some(socket) = engine_socket() else {
        eprintln!("skipped: the clock-shifting proxy needs a unix:// DOCKER_HOST");
        return;
    };
    let c = TestCluster::new("clock");
    let shift = time::Duration::hours(-3);
    let engine = ShiftedClockEngine::start(socket, shift);
    let version = c.dir.path().join("version");
    std::fs::write(&version, "v1.29.0-alpha.2\n").unwrap();
    let offset = c.dir.path().join("clock-offset");
    std::fs::write(&offset, format!("{}\n", shift.whole_seconds())).unwrap();
    let config = c.write_config(&format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  \
         extraMounts:\n  - hostPath: {}\n    containerPath: /kind/version\n    readOnly: true\n  \
         - hostPath: {}\n    containerPath: /kind/standin/clock-offset\n    readOnly: true\n",
        version.display(),
        offset.display()
    ));
    let out = run(c
        .create_cmd(&["--config", config.to_str().unwrap()])
        .env("DOCKER_HOST", engine.docker_host()));
    let cp = format!("{}-control-plane", c.name);
    assert_eq!(
        out.code, 0,
        "create failed (the stand-in verifies at the node's clock, 3h behind): {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("clock is 3h0m") && out.stderr.contains("behind"),
        "no clock warning: {}",
        out.stderr
    );
    assert_eq!(kubeadm_exit_code(&cp), Some(0));

    // Every certificate is valid at the node's time, backdated five minutes from it.
    let node_now = (time::OffsetDateTime::now_utc() + shift).unix_timestamp();
    for path in [
        "/etc/kubernetes/pki/ca.crt",
        "/etc/kubernetes/pki/apiserver.crt",
        "/etc/kubernetes/pki/etcd/peer.crt",
    ] {
        let (nb, _) = validity(&node_cert(&cp, path));
        assert!(
            nb <= node_now - 300 && nb >= node_now - 300 - 600,
            "{path}: not before {nb}, node time {node_now}"
        );
    }

    // v1.29.0-alpha.2 lies after the etcd-client changes (alpha.1) and before super-admin.conf
    // (alpha.3) and the kubelet client's new group (rc.0).
    assert!(
        run(Command::new("docker").args([
            "exec",
            &cp,
            "test",
            "-e",
            "/etc/kubernetes/super-admin.conf"
        ]))
        .code
            != 0,
        "no super-admin.conf before v1.29.0-alpha.3"
    );
    assert_eq!(
        organizations(&kubeconfig_cert(&cp, "/etc/kubernetes/admin.conf")),
        ["system:masters"]
    );
    assert_eq!(
        organizations(&node_cert(
            &cp,
            "/etc/kubernetes/pki/apiserver-kubelet-client.crt"
        )),
        ["system:masters"]
    );
    assert!(
        organizations(&node_cert(
            &cp,
            "/etc/kubernetes/pki/apiserver-etcd-client.crt"
        ))
        .is_empty()
    );
}

/// Items 2, 3, 4 and 6: two control planes; cluster-level patches set an upper-case certSAN,
/// another certificatesDir, ECDSA P-384 keys and short lifetimes; the joiner's own patches try
/// to change cluster-wide settings (kubeadm join ignores them) and leave its advertise address
/// unspecified (kubeadm uses the node's address).
#[test]
fn joiners_follow_the_cluster_configuration_and_its_pki_settings() {
    if !docker_available() {
        return;
    }
    let c = TestCluster::new("kpki");
    let shared = c.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let mount = format!(
        "  extraMounts:\n  - hostPath: {}\n    containerPath: /kind/standin-shared\n",
        shared.display()
    );
    let config = c.write_config(&format!(
        "kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    certSANs: [API.Example.TEST]
  certificatesDir: /etc/kubernetes/custom-pki
  encryptionAlgorithm: ECDSA-P384
  caCertificateValidityPeriod: 1000h
  certificateValidityPeriod: 48h
nodes:
- role: control-plane
{mount}- role: control-plane
{mount}  kubeadmConfigPatches:
  - |
    kind: ClusterConfiguration
    apiServer:
      certSANs: [joiner-only.example]
    networking:
      dnsDomain: joiner.local
    certificatesDir: /etc/kubernetes/joiner-pki
  - |
    kind: JoinConfiguration
    controlPlane:
      localAPIEndpoint:
        advertiseAddress: 0.0.0.0
"
    ));
    let out = c.create(&[
        "--config",
        config.to_str().unwrap(),
        "--load-balancer-image",
        &haproxy_image(),
    ]);
    let (cp1, cp2) = (
        format!("{}-control-plane", c.name),
        format!("{}-control-plane2", c.name),
    );
    assert_eq!(out.code, 0, "create failed: {}", out.stderr);
    assert_eq!(kubeadm_exit_code(&cp1), Some(0));
    assert_eq!(
        kubeadm_exit_code(&cp2),
        Some(0),
        "the stand-in join refused the PKI"
    );

    for node in [&cp1, &cp2] {
        // Everything under the cluster's certificatesDir, nothing in the default one.
        node_exec(node, &["test", "-s", "/etc/kubernetes/custom-pki/ca.key"]);
        node_exec(
            node,
            &["test", "-s", "/etc/kubernetes/custom-pki/etcd/peer.crt"],
        );
        for absent in ["/etc/kubernetes/pki", "/etc/kubernetes/joiner-pki"] {
            let status = run(Command::new("docker").args(["exec", node, "test", "-e", absent]));
            assert_ne!(status.code, 0, "{node}: {absent} exists");
        }
        // Lifetimes and key type from the v1beta4 fields.
        let ca = node_cert(node, "/etc/kubernetes/custom-pki/ca.crt");
        let (nb, na) = validity(&ca);
        assert_eq!(na - nb, 1000 * 3600 + 300, "{node}: CA lifetime");
        let leaf = node_cert(node, "/etc/kubernetes/custom-pki/apiserver.crt");
        let (nb, na) = validity(&leaf);
        assert_eq!(na - nb, 48 * 3600 + 300, "{node}: leaf lifetime");
        let (_, cert) = X509Certificate::from_der(&leaf).unwrap();
        assert_eq!(
            cert.public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .as_deref(),
            Some("1.3.132.0.34"),
            "{node}: P-384 key"
        );
        let client = kubeconfig_cert(node, "/etc/kubernetes/admin.conf");
        let (nb, na) = validity(&client);
        assert_eq!(na - nb, 48 * 3600 + 300, "{node}: admin.conf lifetime");
    }

    // The joiner's serving certificate carries the cluster's names (the upper-case SAN
    // lowercased, the cluster's DNS domain) and its own address, not its own patches.
    let text = node_exec(
        &cp2,
        &[
            "openssl",
            "x509",
            "-noout",
            "-ext",
            "subjectAltName",
            "-in",
            "/etc/kubernetes/custom-pki/apiserver.crt",
        ],
    );
    let cp2_ip = container_ip(&cp2);
    for want in [
        "DNS:api.example.test",
        "DNS:kubernetes.default.svc.cluster.local",
        &format!("IP Address:{cp2_ip}"),
    ] {
        assert!(text.contains(want), "missing {want}: {text}");
    }
    for unwanted in [
        "joiner-only.example",
        "joiner.local",
        "0.0.0.0",
        "API.Example",
    ] {
        assert!(!text.contains(unwanted), "has {unwanted}: {text}");
    }
    let controller_manager = node_exec(&cp2, &["cat", "/etc/kubernetes/controller-manager.conf"]);
    assert!(
        controller_manager.contains(&format!("server: https://{cp2_ip}:6443")),
        "{controller_manager}"
    );
}

//! Whole-PKI checks: every generated file parsed back with x509-parser and compared with the
//! expectations written down in pki-facts §1–§4 (not with what the generator happens to emit).

use super::*;
use rcgen::PublicKeyData;
use std::collections::{BTreeMap, BTreeSet};
use time::Duration;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

const NODE: &str = "kind-control-plane";
const ADVERTISE: &str = "172.18.0.3";

fn inputs(version: &str) -> NodeCertInputs {
    NodeCertInputs {
        node_name: NODE.into(),
        advertise_address: ADVERTISE.parse().unwrap(),
        bind_port: 6443,
        cluster_name: "kind".into(),
        control_plane_endpoint: "kind-external-load-balancer:6443".into(),
        service_subnet: "10.96.0.0/16,fd00:10:96::/112".into(),
        dns_domain: "cluster.local".into(),
        cert_sans: vec!["localhost".into(), "127.0.0.1".into()],
        etcd_server_cert_sans: vec!["etcd.example".into()],
        etcd_peer_cert_sans: vec!["10.9.9.9".into()],
        certificates_dir: String::new(),
        kubelet_local_mode: None,
        kubernetes_version: KubeVersion::parse(version).unwrap(),
    }
}

/// Generated files by absolute path.
fn by_path(files: Vec<PkiFile>) -> BTreeMap<String, PkiFile> {
    let n = files.len();
    let map: BTreeMap<_, _> = files.into_iter().map(|f| (f.path.clone(), f)).collect();
    assert_eq!(map.len(), n, "duplicate paths");
    map
}

fn text(files: &BTreeMap<String, PkiFile>, path: &str) -> String {
    let f = files.get(path).unwrap_or_else(|| panic!("missing {path}"));
    String::from_utf8(f.contents.clone()).unwrap()
}

/// DER of the single CERTIFICATE block in `pem`.
fn cert_der(pem: &str) -> Vec<u8> {
    let (rest, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    assert_eq!(block.label, "CERTIFICATE");
    assert!(rest.is_empty() || rest.iter().all(u8::is_ascii_whitespace));
    block.contents
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = X509Certificate::from_der(der).unwrap();
    assert!(rest.is_empty());
    cert
}

fn cn(cert: &X509Certificate<'_>) -> String {
    let cns: Vec<_> = cert.subject().iter_common_name().collect();
    assert_eq!(cns.len(), 1);
    cns[0].as_str().unwrap().to_string()
}

fn orgs(cert: &X509Certificate<'_>) -> Vec<String> {
    cert.subject()
        .iter_organization()
        .map(|o| o.as_str().unwrap().to_string())
        .collect()
}

fn ski(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
}

fn aki(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
}

/// (DNS names, IPs) of the SAN extension, as sets.
fn sans(cert: &X509Certificate<'_>) -> (BTreeSet<String>, BTreeSet<IpAddr>) {
    let mut dns = BTreeSet::new();
    let mut ips = BTreeSet::new();
    if let Some(ext) = cert.subject_alternative_name().unwrap() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => assert!(dns.insert(d.to_string()), "dup {d}"),
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()),
                        16 => IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()),
                        n => panic!("IP SAN of {n} bytes"),
                    };
                    assert!(ips.insert(ip), "dup {ip}");
                }
                other => panic!("unexpected SAN {other:?}"),
            }
        }
    }
    (dns, ips)
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn ips(items: &[&str]) -> BTreeSet<IpAddr> {
    items.iter().map(|s| s.parse().unwrap()).collect()
}

/// The SPKI DER of a PEM private key file (which must be PKCS#8 `PRIVATE KEY`).
fn key_spki(pem: &str) -> Vec<u8> {
    assert!(
        pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{}",
        &pem[..30]
    );
    KeyPair::from_pem(pem).unwrap().subject_public_key_info()
}

const YEAR: i64 = 365 * 24 * 3600;
const BACKDATE: i64 = 5 * 60;

/// Checks what every certificate shares: validity window, serial, key usage, basic
/// constraints, key algorithm, and that the key file holds the certificate's key.
fn check_common(
    path: &str,
    cert: &X509Certificate<'_>,
    key_pem: &str,
    is_ca: bool,
    alg: KeyAlgorithm,
) {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    // NotBefore = generation time − 5 min (generation happened within the last minute).
    assert!(
        nb <= now - BACKDATE && nb >= now - BACKDATE - 60,
        "{path}: not_before {nb} vs now {now}"
    );
    let lifetime = if is_ca { 10 * YEAR } else { YEAR };
    assert_eq!(na - nb, lifetime + BACKDATE, "{path}: validity");

    let serial = cert.raw_serial();
    assert_eq!(serial[0] & 0x80, 0, "{path}: negative serial");
    assert!(
        cert.serial.bits() >= 1 && cert.serial.bits() <= 63,
        "{path}: serial range"
    );

    let ku = cert.key_usage().unwrap().expect("key usage");
    assert!(ku.critical, "{path}");
    assert!(
        ku.value.digital_signature() && ku.value.key_encipherment(),
        "{path}"
    );
    assert_eq!(ku.value.key_cert_sign(), is_ca, "{path}: keyCertSign");
    let others = ku.value.flags & !(1 | 1 << 2 | 1 << 5);
    assert_eq!(others, 0, "{path}: extra key usages {:b}", ku.value.flags);

    let bc = cert
        .basic_constraints()
        .unwrap()
        .expect("basic constraints");
    assert!(bc.critical, "{path}");
    assert_eq!(bc.value.ca, is_ca, "{path}: CA flag");
    assert_eq!(bc.value.path_len_constraint, None, "{path}");

    check_key(path, cert, key_pem, alg);
}

/// The certificate's key and signature are of `alg` (every issuer uses the same algorithm
/// here), and the key file holds that key.
fn check_key(path: &str, cert: &X509Certificate<'_>, key_pem: &str, alg: KeyAlgorithm) {
    use x509_parser::oid_registry::{
        OID_PKCS1_SHA256WITHRSA, OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384,
    };
    use x509_parser::public_key::PublicKey;
    let (sig, key_bits) = match cert.public_key().parsed().unwrap() {
        PublicKey::EC(ec) if ec.key_size() == 384 => (OID_SIG_ECDSA_WITH_SHA384, 384),
        PublicKey::EC(ec) => (OID_SIG_ECDSA_WITH_SHA256, ec.key_size()),
        PublicKey::RSA(rsa) => (OID_PKCS1_SHA256WITHRSA, rsa.key_size()),
        other => panic!("{path}: unexpected key {other:?}"),
    };
    let want = match alg {
        KeyAlgorithm::EcdsaP256 => (OID_SIG_ECDSA_WITH_SHA256, 256),
        KeyAlgorithm::EcdsaP384 => (OID_SIG_ECDSA_WITH_SHA384, 384),
        KeyAlgorithm::Rsa2048 => (OID_PKCS1_SHA256WITHRSA, 2048),
        KeyAlgorithm::Rsa3072 => (OID_PKCS1_SHA256WITHRSA, 3072),
        KeyAlgorithm::Rsa4096 => (OID_PKCS1_SHA256WITHRSA, 4096),
    };
    assert_eq!((sig.clone(), key_bits), want, "{path}");
    // Every issuer uses the same algorithm here, so the signature must be of that kind.
    assert_eq!(
        cert.signature_algorithm.algorithm, sig,
        "{path}: signature algorithm"
    );
    assert_eq!(
        key_spki(key_pem),
        cert.public_key().raw,
        "{path}: key does not match cert"
    );
}

/// What pki-facts §1 says about one leaf.
struct ExpectedLeaf {
    base: &'static str,
    cn: &'static str,
    orgs: Vec<&'static str>,
    server_auth: bool,
    client_auth: bool,
    ca: &'static str,
}

/// The leaf table of pki-facts §1 for a version before or from 1.29.
fn expected_leaves(v129: bool) -> Vec<ExpectedLeaf> {
    let masters = if v129 { vec![] } else { vec!["system:masters"] };
    let kubelet_client = if v129 {
        "kubeadm:cluster-admins"
    } else {
        "system:masters"
    };
    let leaf = |base, cn, orgs, server_auth, client_auth, ca| ExpectedLeaf {
        base,
        cn,
        orgs,
        server_auth,
        client_auth,
        ca,
    };
    vec![
        leaf("apiserver", "kube-apiserver", vec![], true, false, "ca"),
        leaf(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            vec![kubelet_client],
            false,
            true,
            "ca",
        ),
        leaf(
            "front-proxy-client",
            "front-proxy-client",
            vec![],
            false,
            true,
            "front-proxy-ca",
        ),
        leaf("etcd/server", NODE, vec![], true, true, "etcd/ca"),
        leaf("etcd/peer", NODE, vec![], true, true, "etcd/ca"),
        leaf(
            "etcd/healthcheck-client",
            "kube-etcd-healthcheck-client",
            masters.clone(),
            false,
            true,
            "etcd/ca",
        ),
        leaf(
            "apiserver-etcd-client",
            "kube-apiserver-etcd-client",
            masters,
            false,
            true,
            "etcd/ca",
        ),
    ]
}

/// Checks every certificate of one node's files against pki-facts §1 and §4.
fn check_certificates(files: &BTreeMap<String, PkiFile>, version: &str, alg: KeyAlgorithm) {
    let v129 = KubeVersion::parse(version).unwrap().at_least(1, 29, 0);
    let pki = |base: &str, ext: &str| text(files, &format!("/etc/kubernetes/pki/{base}.{ext}"));

    let mut ca_skis = BTreeMap::new();
    for (base, want_cn) in [
        ("ca", "kubernetes"),
        ("front-proxy-ca", "front-proxy-ca"),
        ("etcd/ca", "etcd-ca"),
    ] {
        let der = cert_der(&pki(base, "crt"));
        let cert = parse(&der);
        check_common(base, &cert, &pki(base, "key"), true, alg);
        assert_eq!(cn(&cert), want_cn);
        assert!(orgs(&cert).is_empty(), "{base}");
        assert_eq!(cert.subject(), cert.issuer(), "{base} self-signed");
        assert!(
            cert.extended_key_usage().unwrap().is_none(),
            "{base}: CA has no EKU"
        );
        assert_eq!(
            sans(&cert),
            (set(&[want_cn]), ips(&[])),
            "{base}: CN copied into a DNS SAN"
        );
        let id = ski(&cert).expect("CA SKI");
        ca_skis.insert(base, (id, cert.subject().as_raw().to_vec()));
    }

    for want in expected_leaves(v129) {
        let ExpectedLeaf {
            base,
            cn: want_cn,
            orgs: want_o,
            server_auth: server,
            client_auth: client,
            ca,
        } = want;
        let der = cert_der(&pki(base, "crt"));
        let cert = parse(&der);
        check_common(base, &cert, &pki(base, "key"), false, alg);
        assert_eq!(cn(&cert), want_cn, "{base}");
        assert_eq!(orgs(&cert), want_o, "{base}");
        let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
        assert_eq!(
            (eku.server_auth, eku.client_auth),
            (server, client),
            "{base}"
        );
        assert!(
            !eku.any && eku.other.is_empty() && !eku.code_signing,
            "{base}"
        );
        let (ca_ski, ca_subject) = &ca_skis[ca];
        assert_eq!(
            cert.issuer().as_raw(),
            ca_subject.as_slice(),
            "{base}: issuer"
        );
        assert_eq!(aki(&cert).as_ref(), Some(ca_ski), "{base}: AKI = {ca} SKI");
        if !server {
            assert_eq!(
                sans(&cert),
                (set(&[]), ips(&[])),
                "{base}: client certs have no SANs"
            );
        }
    }

    // pki-facts §1.1, computed by hand for `inputs()`: node name, the four kubernetes names,
    // the control-plane endpoint host, certSANs; the first IP of the FIRST service CIDR
    // (10.96.0.0/16, not the IPv6 one), the advertise address, 127.0.0.1 from certSANs.
    let apiserver = cert_der(&pki("apiserver", "crt"));
    assert_eq!(
        sans(&parse(&apiserver)),
        (
            set(&[
                NODE,
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "kind-external-load-balancer",
                "localhost"
            ]),
            ips(&["10.96.0.1", ADVERTISE, "127.0.0.1"]),
        )
    );
    // pki-facts §1.2: node name, localhost, advertise IP, loopbacks, plus each one's extras.
    let server = cert_der(&pki("etcd/server", "crt"));
    assert_eq!(
        sans(&parse(&server)),
        (
            set(&[NODE, "localhost", "etcd.example"]),
            ips(&[ADVERTISE, "127.0.0.1", "::1"])
        )
    );
    let peer = cert_der(&pki("etcd/peer", "crt"));
    assert_eq!(
        sans(&parse(&peer)),
        (
            set(&[NODE, "localhost"]),
            ips(&[ADVERTISE, "127.0.0.1", "::1", "10.9.9.9"])
        )
    );

    // sa.pub is the SPKI of sa.key in a PUBLIC KEY block.
    let sa_pub = pki("sa", "pub");
    let (_, block) = x509_parser::pem::parse_x509_pem(sa_pub.as_bytes()).unwrap();
    assert_eq!(block.label, "PUBLIC KEY");
    assert_eq!(block.contents, key_spki(&pki("sa", "key")));
}

/// Decodes standard base64.
fn b64decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("valid base64")
}

/// Checks one kubeconfig (pki-facts §2): layout, CA bytes, client cert identity and issuer.
fn check_kubeconfig(
    files: &BTreeMap<String, PkiFile>,
    file: &str,
    want_cn: &str,
    want_o: &[&str],
    want_server: &str,
    alg: KeyAlgorithm,
) {
    let path = format!("/etc/kubernetes/{file}");
    let doc: serde_json::Value = crate::yaml::from_str(&text(files, &path)).unwrap();
    // kubeadm and kubectl (go-yaml v2) read the same values as any other reader.
    assert_eq!(
        crate::yaml::tests::read_back_everywhere(&text(files, &path)),
        std::slice::from_ref(&doc)
    );
    let context = format!("{want_cn}@kind");
    assert_eq!(doc["current-context"], context.as_str(), "{file}");
    assert_eq!(doc["contexts"].as_array().unwrap().len(), 1);
    assert_eq!(doc["contexts"][0]["name"], context.as_str());
    assert_eq!(doc["contexts"][0]["context"]["cluster"], "kind");
    assert_eq!(doc["contexts"][0]["context"]["user"], want_cn);
    assert_eq!(doc["clusters"].as_array().unwrap().len(), 1);
    assert_eq!(doc["clusters"][0]["name"], "kind");
    let cluster = &doc["clusters"][0]["cluster"];
    assert_eq!(cluster["server"], want_server, "{file}");
    let ca = b64decode(cluster["certificate-authority-data"].as_str().unwrap());
    assert_eq!(
        ca, files["/etc/kubernetes/pki/ca.crt"].contents,
        "{file}: CA must be ca.crt byte for byte"
    );
    assert_eq!(doc["users"].as_array().unwrap().len(), 1);
    assert_eq!(doc["users"][0]["name"], want_cn);
    let user = &doc["users"][0]["user"];
    let cert_pem =
        String::from_utf8(b64decode(user["client-certificate-data"].as_str().unwrap())).unwrap();
    let key_pem = String::from_utf8(b64decode(user["client-key-data"].as_str().unwrap())).unwrap();
    let der = cert_der(&cert_pem);
    let cert = parse(&der);
    check_common(file, &cert, &key_pem, false, alg);
    assert_eq!(cn(&cert), want_cn, "{file}");
    assert_eq!(orgs(&cert), want_o, "{file}");
    let eku = cert.extended_key_usage().unwrap().expect("EKU").value;
    assert!(
        eku.client_auth && !eku.server_auth && eku.other.is_empty(),
        "{file}"
    );
    assert_eq!(sans(&cert), (set(&[]), ips(&[])), "{file}");
    let ca_der = cert_der(&text(files, "/etc/kubernetes/pki/ca.crt"));
    let ca_cert = parse(&ca_der);
    assert_eq!(cert.issuer(), ca_cert.subject(), "{file}: signed by ca");
    assert_eq!(aki(&cert), ski(&ca_cert), "{file}: AKI");
}

const SHARED: [&str; 8] = [
    "pki/ca.crt",
    "pki/ca.key",
    "pki/front-proxy-ca.crt",
    "pki/front-proxy-ca.key",
    "pki/etcd/ca.crt",
    "pki/etcd/ca.key",
    "pki/sa.key",
    "pki/sa.pub",
];
const LEAVES: [&str; 7] = [
    "apiserver",
    "apiserver-kubelet-client",
    "front-proxy-client",
    "etcd/server",
    "etcd/peer",
    "etcd/healthcheck-client",
    "apiserver-etcd-client",
];

fn expected_paths(extra_confs: &[&str]) -> BTreeSet<String> {
    let mut want: BTreeSet<String> = SHARED
        .iter()
        .map(|p| format!("/etc/kubernetes/{p}"))
        .collect();
    for leaf in LEAVES {
        want.insert(format!("/etc/kubernetes/pki/{leaf}.crt"));
        want.insert(format!("/etc/kubernetes/pki/{leaf}.key"));
    }
    for conf in ["admin.conf", "controller-manager.conf", "scheduler.conf"]
        .iter()
        .chain(extra_confs)
    {
        want.insert(format!("/etc/kubernetes/{conf}"));
    }
    want
}

#[test]
fn init_node_of_a_current_version_gets_every_kubeadm_file() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let files = by_path(
        pki.control_plane_files(&inputs("v1.36.1"), ControlPlaneRole::Init)
            .unwrap(),
    );
    let paths: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(paths, expected_paths(&["super-admin.conf", "kubelet.conf"]));
    for (path, f) in &files {
        let want = if path.ends_with(".crt") { 0o644 } else { 0o600 };
        assert_eq!(f.mode, want, "{path}");
    }
    assert_eq!(
        text(&files, "/etc/kubernetes/pki/ca.crt"),
        pki.ca_cert_pem()
    );
    check_certificates(&files, "v1.36.1", KeyAlgorithm::EcdsaP256);

    let lb = "https://kind-external-load-balancer:6443";
    let local = "https://172.18.0.3:6443";
    let al = KeyAlgorithm::EcdsaP256;
    check_kubeconfig(
        &files,
        "admin.conf",
        "kubernetes-admin",
        &["kubeadm:cluster-admins"],
        lb,
        al,
    );
    check_kubeconfig(
        &files,
        "super-admin.conf",
        "kubernetes-super-admin",
        &["system:masters"],
        lb,
        al,
    );
    check_kubeconfig(
        &files,
        "kubelet.conf",
        "system:node:kind-control-plane",
        &["system:nodes"],
        local,
        al,
    );
    check_kubeconfig(
        &files,
        "controller-manager.conf",
        "system:kube-controller-manager",
        &[],
        local,
        al,
    );
    check_kubeconfig(
        &files,
        "scheduler.conf",
        "system:kube-scheduler",
        &[],
        local,
        al,
    );
}

#[test]
fn init_node_before_1_29_uses_system_masters_and_no_super_admin() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let files = by_path(
        pki.control_plane_files(&inputs("v1.28.15"), ControlPlaneRole::Init)
            .unwrap(),
    );
    let paths: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(paths, expected_paths(&["kubelet.conf"]));
    check_certificates(&files, "v1.28.15", KeyAlgorithm::EcdsaP256);
    let lb = "https://kind-external-load-balancer:6443";
    let al = KeyAlgorithm::EcdsaP256;
    check_kubeconfig(
        &files,
        "admin.conf",
        "kubernetes-admin",
        &["system:masters"],
        lb,
        al,
    );
    // Before ControlPlaneKubeletLocalMode (1.33) the kubelet uses the control-plane endpoint.
    check_kubeconfig(
        &files,
        "kubelet.conf",
        "system:node:kind-control-plane",
        &["system:nodes"],
        lb,
        al,
    );
}

#[test]
fn join_node_shares_the_ca_material_and_gets_its_own_leaves() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let init = by_path(
        pki.control_plane_files(&inputs("v1.36.1"), ControlPlaneRole::Init)
            .unwrap(),
    );
    let mut second = inputs("v1.36.1");
    second.node_name = "kind-control-plane2".into();
    second.advertise_address = "172.18.0.4".parse().unwrap();
    let join = by_path(
        pki.control_plane_files(&second, ControlPlaneRole::Join)
            .unwrap(),
    );
    let paths: BTreeSet<String> = join.keys().cloned().collect();
    assert_eq!(
        paths,
        expected_paths(&[]),
        "no kubelet.conf or super-admin.conf on join"
    );
    for p in SHARED {
        let p = format!("/etc/kubernetes/{p}");
        assert_eq!(
            init[&p].contents, join[&p].contents,
            "{p} must be identical on every control plane"
        );
    }
    for leaf in LEAVES {
        let p = format!("/etc/kubernetes/pki/{leaf}.key");
        assert_ne!(init[&p].contents, join[&p].contents, "{p} must be per node");
    }
    let der = cert_der(&text(&join, "/etc/kubernetes/pki/apiserver.crt"));
    let (dns, addrs) = sans(&parse(&der));
    assert!(dns.contains("kind-control-plane2") && !dns.contains(NODE));
    assert!(
        addrs.contains(&"172.18.0.4".parse().unwrap())
            && !addrs.contains(&ADVERTISE.parse().unwrap())
    );
    let der = cert_der(&text(&join, "/etc/kubernetes/pki/etcd/peer.crt"));
    assert_eq!(cn(&parse(&der)), "kind-control-plane2");
    check_kubeconfig(
        &join,
        "controller-manager.conf",
        "system:kube-controller-manager",
        &[],
        "https://172.18.0.4:6443",
        KeyAlgorithm::EcdsaP256,
    );
}

#[test]
fn rsa_pki_uses_2048_bit_keys_everywhere() {
    let pki = ClusterPki::generate(KeyAlgorithm::Rsa2048).unwrap();
    let files = by_path(
        pki.control_plane_files(&inputs("v1.36.1"), ControlPlaneRole::Init)
            .unwrap(),
    );
    check_certificates(&files, "v1.36.1", KeyAlgorithm::Rsa2048);
    check_kubeconfig(
        &files,
        "scheduler.conf",
        "system:kube-scheduler",
        &[],
        "https://172.18.0.3:6443",
        KeyAlgorithm::Rsa2048,
    );
}

#[test]
fn join_material_matches_the_ca() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let der = cert_der(pki.ca_cert_pem());
    let cert = parse(&der);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.public_key().raw);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(pki.ca_cert_hash(), format!("sha256:{hex}"));
    let (id, secret) = pki.bootstrap_token().split_once('.').unwrap();
    assert_eq!((id.len(), secret.len()), (6, 16));
    let other = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert_ne!(pki.ca_cert_hash(), other.ca_cert_hash());
    assert_ne!(pki.bootstrap_token(), other.bootstrap_token());
}

#[test]
fn debug_output_hides_secrets() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let shown = format!("{pki:?}");
    let secret = pki.bootstrap_token().split_once('.').unwrap().1;
    assert!(!shown.contains(secret), "{shown}");
    assert!(!shown.contains("PRIVATE"), "{shown}");
    let files = pki
        .control_plane_files(&inputs("v1.36.1"), ControlPlaneRole::Join)
        .unwrap();
    let shown = format!("{files:?}");
    assert!(
        !shown.contains("PRIVATE") && !shown.contains("client-key-data"),
        "{shown}"
    );
}

#[test]
fn bad_inputs_name_the_node_and_field() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut bad = inputs("v1.36.1");
    bad.node_name = "Kind_Control".into();
    let err = pki
        .control_plane_files(&bad, ControlPlaneRole::Init)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Kind_Control") && err.contains("nodeRegistration.name"),
        "{err}"
    );

    let mut bad = inputs("v1.36.1");
    bad.service_subnet = "10.96.0.0".into();
    let err = pki
        .control_plane_files(&bad, ControlPlaneRole::Init)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(NODE) && err.contains("networking.serviceSubnet"),
        "{err}"
    );

    let mut bad = inputs("v1.36.1");
    bad.control_plane_endpoint = "lb:99999".into();
    let err = pki
        .control_plane_files(&bad, ControlPlaneRole::Join)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("controlPlaneEndpoint") && err.contains("99999"),
        "{err}"
    );
}

#[test]
fn cluster_pki_can_be_shared_across_threads() {
    // The create flow may hand it to tasks that write nodes' files concurrently.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ClusterPki>();
}

/// The certificate's (NotBefore, NotAfter) as Unix seconds.
fn window_of(pem: &str) -> (i64, i64) {
    let der = cert_der(pem);
    let cert = parse(&der);
    (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    )
}

/// The client certificate and key of a kubeconfig file.
fn kubeconfig_client(files: &BTreeMap<String, PkiFile>, path: &str) -> (String, String) {
    let doc: serde_json::Value = crate::yaml::from_str(&text(files, path)).unwrap();
    let user = &doc["users"][0]["user"];
    let field = |name: &str| String::from_utf8(b64decode(user[name].as_str().unwrap())).unwrap();
    (field("client-certificate-data"), field("client-key-data"))
}

#[test]
fn certificates_dir_moves_every_pki_file_but_not_the_kubeconfigs() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut node = inputs("v1.36.1");
    node.certificates_dir = "/srv//kube/./pki/../certs/".into();
    let files = by_path(
        pki.control_plane_files(&node, ControlPlaneRole::Init)
            .unwrap(),
    );
    let want: BTreeSet<String> = expected_paths(&["super-admin.conf", "kubelet.conf"])
        .into_iter()
        .map(|p| p.replace("/etc/kubernetes/pki/", "/srv/kube/certs/"))
        .collect();
    let paths: BTreeSet<String> = files.keys().cloned().collect();
    assert_eq!(paths, want);
    // The kubeconfigs still carry exactly the CA certificate kubeadm finds in that directory.
    let doc: serde_json::Value =
        crate::yaml::from_str(&text(&files, "/etc/kubernetes/admin.conf")).unwrap();
    let ca = b64decode(
        doc["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(ca, files["/srv/kube/certs/ca.crt"].contents);

    for bad in ["relative/pki", "pki"] {
        node.certificates_dir = bad.into();
        let err = pki
            .control_plane_files(&node, ControlPlaneRole::Init)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("certificatesDir") && err.contains(bad) && err.contains("absolute"),
            "{err}"
        );
    }
}

#[test]
fn settings_decide_key_type_and_lifetimes_of_everything() {
    let settings = PkiSettings {
        algorithm: KeyAlgorithm::EcdsaP384,
        ca_validity: Duration::hours(1000),
        leaf_validity: Duration::hours(48),
    };
    let pki = ClusterPki::generate_with(settings, NodeClock::default()).unwrap();
    assert_eq!(pki.settings(), settings);
    let files = by_path(
        pki.control_plane_files(&inputs("v1.36.1"), ControlPlaneRole::Init)
            .unwrap(),
    );
    let pki_text =
        |base: &str, ext: &str| text(&files, &format!("/etc/kubernetes/pki/{base}.{ext}"));
    let cas = ["ca", "front-proxy-ca", "etcd/ca"].map(|base| (base, 1000));
    let leaves = LEAVES.map(|base| (base, 48));
    for (base, hours) in cas.into_iter().chain(leaves) {
        let (nb, na) = window_of(&pki_text(base, "crt"));
        assert_eq!(na - nb, hours * 3600 + BACKDATE, "{base}");
        let der = cert_der(&pki_text(base, "crt"));
        check_key(
            base,
            &parse(&der),
            &pki_text(base, "key"),
            settings.algorithm,
        );
    }
    for conf in [
        "admin.conf",
        "super-admin.conf",
        "kubelet.conf",
        "scheduler.conf",
    ] {
        let (cert, key) = kubeconfig_client(&files, &format!("/etc/kubernetes/{conf}"));
        let (nb, na) = window_of(&cert);
        assert_eq!(na - nb, 48 * 3600 + BACKDATE, "{conf}");
        let der = cert_der(&cert);
        check_key(conf, &parse(&der), &key, settings.algorithm);
    }
    // The service-account key follows the algorithm too.
    let sa = KeyPair::from_pem(&pki_text("sa", "key")).unwrap();
    assert_eq!(sa.algorithm(), &rcgen::PKCS_ECDSA_P384_SHA384);
}

#[test]
fn with_settings_remakes_the_cas_but_keeps_the_join_token() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let settings = PkiSettings::new(KeyAlgorithm::EcdsaP384);
    let remade = pki.with_settings(settings).unwrap();
    assert_eq!(remade.settings(), settings);
    assert_eq!(remade.bootstrap_token(), pki.bootstrap_token());
    assert_ne!(remade.ca_cert_hash(), pki.ca_cert_hash());
    assert_ne!(remade.ca_cert_pem(), pki.ca_cert_pem());
    // The hash matches the new CA.
    let der = cert_der(remade.ca_cert_pem());
    let cert = parse(&der);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.public_key().raw);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(remade.ca_cert_hash(), format!("sha256:{hex}"));
}

#[test]
fn every_certificate_is_dated_by_the_nodes_clock() {
    // The engine reported a clock 3 hours behind this machine's.
    let host = OffsetDateTime::now_utc();
    let clock = NodeClock::from_engine(Some(host - Duration::hours(3)), host);
    let pki = ClusterPki::generate_with(PkiSettings::new(KeyAlgorithm::EcdsaP256), clock).unwrap();
    let files = by_path(
        pki.control_plane_files(&inputs("v1.36.1"), ControlPlaneRole::Init)
            .unwrap(),
    );
    let node_now = (OffsetDateTime::now_utc() - Duration::hours(3)).unix_timestamp();
    let mut pems: Vec<(String, String)> = files
        .iter()
        .filter(|(p, _)| p.ends_with(".crt"))
        .map(|(p, f)| (p.clone(), String::from_utf8(f.contents.clone()).unwrap()))
        .collect();
    for conf in ["admin.conf", "kubelet.conf", "controller-manager.conf"] {
        let (cert, _) = kubeconfig_client(&files, &format!("/etc/kubernetes/{conf}"));
        pems.push((conf.to_string(), cert));
    }
    for (path, pem) in pems {
        let (nb, na) = window_of(&pem);
        // Valid at the node's time already (kubeadm 1.31+ verifies there), and backdated
        // five minutes from it; expiry counted from the node's time too.
        assert!(nb <= node_now - BACKDATE, "{path}: {nb} vs node {node_now}");
        assert!(
            nb >= node_now - BACKDATE - 60,
            "{path}: {nb} vs node {node_now}"
        );
        let lifetime = if path.ends_with("ca.crt") {
            10 * YEAR
        } else {
            YEAR
        };
        assert_eq!(na - nb, lifetime + BACKDATE, "{path}");
    }
}

#[test]
fn pre_release_identities_follow_the_commits_that_changed_them() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let orgs_of = |version: &str| {
        let files = by_path(
            pki.control_plane_files(&inputs(version), ControlPlaneRole::Init)
                .unwrap(),
        );
        let org = |base: &str| {
            let der = cert_der(&text(&files, &format!("/etc/kubernetes/pki/{base}.crt")));
            orgs(&parse(&der))
        };
        (
            org("apiserver-kubelet-client"),
            org("apiserver-etcd-client"),
            org("etcd/healthcheck-client"),
            files.contains_key("/etc/kubernetes/super-admin.conf"),
        )
    };
    let masters = vec!["system:masters".to_string()];
    let admins = vec!["kubeadm:cluster-admins".to_string()];
    // A CI build before v1.29.0-alpha.1: everything as in 1.28.
    assert_eq!(
        orgs_of("v1.29.0-alpha.0.812+deadbeef"),
        (masters.clone(), masters.clone(), masters.clone(), false)
    );
    // v1.29.0-alpha.2: etcd clients without O (k/k#119859, #120521), nothing else yet.
    assert_eq!(
        orgs_of("v1.29.0-alpha.2"),
        (masters.clone(), vec![], vec![], false)
    );
    // v1.29.0-alpha.3: super-admin.conf (k/k#121305); the kubelet client still system:masters.
    assert_eq!(
        orgs_of("v1.29.0-alpha.3"),
        (masters.clone(), vec![], vec![], true)
    );
    // v1.29.0-rc.0: the kubelet client moved to kubeadm:cluster-admins (k/k#121837).
    assert_eq!(
        orgs_of("v1.29.0-rc.0"),
        (admins.clone(), vec![], vec![], true)
    );
    assert_eq!(orgs_of("v1.29.0"), (admins, vec![], vec![], true));
}

#[test]
fn overrides_replace_only_what_the_config_sets() {
    let base = PkiSettings::new(KeyAlgorithm::EcdsaP256);
    assert_eq!(base.ca_validity, Duration::hours(87_600));
    assert_eq!(base.leaf_validity, Duration::hours(8_760));
    assert_eq!(base.with(&PkiOverrides::default()), base);
    let alg_only = PkiOverrides {
        algorithm: Some(KeyAlgorithm::Rsa3072),
        ..Default::default()
    };
    assert_eq!(
        base.with(&alg_only),
        PkiSettings {
            algorithm: KeyAlgorithm::Rsa3072,
            ..base
        }
    );
    let lifetimes = PkiOverrides {
        ca_validity: Some(Duration::hours(5)),
        leaf_validity: Some(Duration::hours(2)),
        ..Default::default()
    };
    assert_eq!(
        base.with(&lifetimes),
        PkiSettings {
            ca_validity: Duration::hours(5),
            leaf_validity: Duration::hours(2),
            ..base
        }
    );
}

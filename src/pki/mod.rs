//! The cluster's PKI, made by kindling instead of kubeadm: CAs, leaf certificates, the
//! service-account key pair, kubeadm's kubeconfig files and the join material. Pure: no Docker.

mod cert;
mod certlist;
mod clock;
mod gates;
mod kubeconfig;
mod names;
#[cfg(test)]
mod tests;
mod token;

pub use clock::NodeClock;

use crate::k8s_version::KubeVersion;
use cert::Ca;
use certlist::CaKind;
use rcgen::KeyPair;
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

/// kubeadm's default `certificatesDir`.
const DEFAULT_CERTIFICATES_DIR: &str = "/etc/kubernetes/pki";
/// Directory of kubeadm's kubeconfig files in a node.
const KUBECONFIG_DIR: &str = "/etc/kubernetes";
/// Mode of certificates.
const PUBLIC_MODE: u32 = 0o644;
/// Mode of private keys, `sa.pub` and kubeconfigs.
const PRIVATE_MODE: u32 = 0o600;

/// kubeadm's `CACertificateValidityPeriod` default (87600h).
const CA_VALIDITY: Duration = Duration::hours(87_600);
/// kubeadm's `CertificateValidityPeriod` default (8760h).
const LEAF_VALIDITY: Duration = Duration::hours(8_760);

/// Key algorithm for every key of a cluster: the values of kubeadm's v1beta4
/// `encryptionAlgorithm` (pkiutil `GeneratePrivateKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 (kindling's default: fast to generate).
    #[default]
    EcdsaP256,
    /// ECDSA P-384 (kubeadm 1.34+).
    EcdsaP384,
    /// RSA 2048 (kubeadm's default).
    Rsa2048,
    /// RSA 3072.
    Rsa3072,
    /// RSA 4096.
    Rsa4096,
}

impl KeyAlgorithm {
    /// Every algorithm, in the order kubeadm's validation lists them.
    pub const ALL: [KeyAlgorithm; 5] = [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
    ];

    /// The `encryptionAlgorithm` value, e.g. `RSA-2048`.
    pub fn kubeadm_name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => "ECDSA-P256",
            KeyAlgorithm::EcdsaP384 => "ECDSA-P384",
            KeyAlgorithm::Rsa2048 => "RSA-2048",
            KeyAlgorithm::Rsa3072 => "RSA-3072",
            KeyAlgorithm::Rsa4096 => "RSA-4096",
        }
    }

    /// Parses an `encryptionAlgorithm` value (exact spelling, as kubeadm's validation wants).
    pub fn from_kubeadm_name(name: &str) -> Option<KeyAlgorithm> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|alg| alg.kubeadm_name() == name)
    }

    /// The first Kubernetes version whose kubeadm accepts this value, if not all do.
    pub fn minimum_version(self) -> Option<&'static str> {
        (self == KeyAlgorithm::EcdsaP384).then_some(gates::ECDSA_P384)
    }
}

/// Key type and lifetimes of everything kindling generates for a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PkiSettings {
    /// Algorithm of every key (CAs, leaves, service-account key, kubeconfig users).
    pub algorithm: KeyAlgorithm,
    /// Lifetime of the three CAs (`caCertificateValidityPeriod`).
    pub ca_validity: Duration,
    /// Lifetime of every other certificate (`certificateValidityPeriod`).
    pub leaf_validity: Duration,
}

impl PkiSettings {
    /// `algorithm` with kubeadm's default lifetimes (10 years for CAs, 1 year otherwise).
    pub fn new(algorithm: KeyAlgorithm) -> Self {
        PkiSettings {
            algorithm,
            ca_validity: CA_VALIDITY,
            leaf_validity: LEAF_VALIDITY,
        }
    }

    /// These settings with what a kubeadm config sets explicitly.
    pub fn with(self, overrides: &PkiOverrides) -> Self {
        PkiSettings {
            algorithm: overrides.algorithm.unwrap_or(self.algorithm),
            ca_validity: overrides.ca_validity.unwrap_or(self.ca_validity),
            leaf_validity: overrides.leaf_validity.unwrap_or(self.leaf_validity),
        }
    }
}

/// What a cluster's ClusterConfiguration sets explicitly about keys and lifetimes (v1beta4
/// `encryptionAlgorithm`, `caCertificateValidityPeriod`, `certificateValidityPeriod`, or the
/// older `PublicKeysECDSA` feature gate); unset fields keep kindling's choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PkiOverrides {
    /// Key algorithm.
    pub algorithm: Option<KeyAlgorithm>,
    /// CA lifetime.
    pub ca_validity: Option<Duration>,
    /// Leaf lifetime.
    pub leaf_validity: Option<Duration>,
}

/// What kubeadm would derive a control-plane node's certificates from, after its dynamic
/// defaults. Filled from the rendered kubeadm configs (`cluster::kubeadm::cert_inputs`: the
/// cluster-wide fields from the bootstrap node's ClusterConfiguration, the rest from the node's
/// own file) so both always agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCertInputs {
    /// `nodeRegistration.name` (the container name).
    pub node_name: String,
    /// `localAPIEndpoint.advertiseAddress`.
    pub advertise_address: IpAddr,
    /// `localAPIEndpoint.bindPort` (6443).
    pub bind_port: u16,
    /// `ClusterConfiguration.clusterName` (names the cluster inside kubeadm's kubeconfigs).
    pub cluster_name: String,
    /// `controlPlaneEndpoint` as `host:port` (empty = advertise address and bind port).
    pub control_plane_endpoint: String,
    /// `networking.serviceSubnet` (comma list; the first CIDR gives the API service IP).
    pub service_subnet: String,
    /// `networking.dnsDomain` (default `cluster.local`).
    pub dns_domain: String,
    /// `apiServer.certSANs`.
    pub cert_sans: Vec<String>,
    /// `etcd.local.serverCertSANs`.
    pub etcd_server_cert_sans: Vec<String>,
    /// `etcd.local.peerCertSANs`.
    pub etcd_peer_cert_sans: Vec<String>,
    /// `certificatesDir` (empty = kubeadm's default, `/etc/kubernetes/pki`).
    pub certificates_dir: String,
    /// `featureGates.ControlPlaneKubeletLocalMode` when set; otherwise the version decides.
    pub kubelet_local_mode: Option<bool>,
    /// The node's Kubernetes version (decides organisations and super-admin.conf).
    pub kubernetes_version: KubeVersion,
}

/// One file to place in a node.
#[derive(Clone, PartialEq, Eq)]
pub struct PkiFile {
    /// Absolute path in the node, e.g. `/etc/kubernetes/pki/ca.crt`.
    pub path: String,
    /// File contents (PEM or kubeconfig YAML).
    pub contents: Vec<u8>,
    /// Unix mode: 0644 for certificates, 0600 for keys and kubeconfigs.
    pub mode: u32,
}

impl std::fmt::Debug for PkiFile {
    // Never print key material, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PkiFile")
            .field("path", &self.path)
            .field("len", &self.contents.len())
            .field("mode", &format_args!("{:o}", self.mode))
            .finish()
    }
}

/// Why the PKI could not be generated; each variant names the certificate, file or input.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A node input kubeadm would also reject.
    #[error("node {node}: invalid {field} {value:?}: {reason}")]
    InvalidInput {
        /// Node whose inputs are wrong.
        node: String,
        /// kubeadm config field, e.g. `controlPlaneEndpoint`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Key generation failed.
    #[error("could not generate the private key for {what}: {source}")]
    Key {
        /// Certificate or key the key was for.
        what: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
    /// Building or signing a certificate failed.
    #[error("could not create certificate {what}: {source}")]
    Certificate {
        /// Certificate name, e.g. `etcd/server for node kind-control-plane`.
        what: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
    /// The OS random source failed.
    #[error("could not read the OS random source: {0}")]
    Random(String),
    /// A cluster-wide setting kubeadm would also reject.
    #[error("ClusterConfiguration {field} {value:?}: {reason}")]
    InvalidSetting {
        /// kubeadm config field, e.g. `certificatesDir`.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A kubeconfig could not be serialised.
    #[error("could not write kubeconfig {file}: {source}")]
    Kubeconfig {
        /// File name, e.g. `admin.conf`.
        file: &'static str,
        /// The YAML encoder's error.
        source: crate::yaml::YamlError,
    },
}

/// Which control-plane node the files are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlPlaneRole {
    /// The node that runs `kubeadm init`: everything, including `super-admin.conf` (1.29+)
    /// and `kubelet.conf`.
    Init,
    /// A node that runs `kubeadm join --control-plane`: shared CA and service-account
    /// material, its own leaves, `admin.conf`, `controller-manager.conf`, `scheduler.conf`.
    Join,
}

/// The material shared by the whole cluster: the three CAs, the service-account key pair and
/// the bootstrap token. Control-plane nodes get their files from
/// [`ClusterPki::control_plane_files`]; workers get nothing, because `kubeadm join` refuses to
/// run when `/etc/kubernetes/pki/ca.crt` or a kubeconfig already exists, and fetches the CA
/// itself (pinned by [`ClusterPki::ca_cert_hash`]) before TLS bootstrap.
pub struct ClusterPki {
    settings: PkiSettings,
    clock: NodeClock,
    ca: Ca,
    front_proxy_ca: Ca,
    etcd_ca: Ca,
    sa_key: KeyPair,
    bootstrap_token: String,
    ca_cert_hash: String,
}

impl std::fmt::Debug for ClusterPki {
    // Keys and the token secret stay out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token_id = self.bootstrap_token.split('.').next().unwrap_or_default();
        f.debug_struct("ClusterPki")
            .field("settings", &self.settings)
            .field("clock", &self.clock)
            .field("ca_cert_hash", &self.ca_cert_hash)
            .field("bootstrap_token_id", &token_id)
            .finish_non_exhaustive()
    }
}

impl ClusterPki {
    /// Generates the cluster CAs, the service-account key pair and a bootstrap token with
    /// kubeadm's default lifetimes, dated by this machine's clock.
    pub fn generate(alg: KeyAlgorithm) -> Result<ClusterPki, PkiError> {
        ClusterPki::generate_with(PkiSettings::new(alg), NodeClock::default())
    }

    /// Generates the cluster CAs, the service-account key pair and a bootstrap token, dating
    /// every certificate by the nodes' `clock`.
    pub fn generate_with(settings: PkiSettings, clock: NodeClock) -> Result<ClusterPki, PkiError> {
        ClusterPki::build(settings, clock, token::bootstrap_token()?)
    }

    /// The same cluster material made again for other `settings` (fresh CAs and
    /// service-account key, same bootstrap token and clock). Needed when the rendered
    /// ClusterConfiguration asks for another key algorithm or CA lifetime than the CAs made
    /// before the nodes existed.
    pub fn with_settings(&self, settings: PkiSettings) -> Result<ClusterPki, PkiError> {
        ClusterPki::build(settings, self.clock, self.bootstrap_token.clone())
    }

    fn build(
        settings: PkiSettings,
        clock: NodeClock,
        bootstrap_token: String,
    ) -> Result<ClusterPki, PkiError> {
        let alg = settings.algorithm;
        let window = clock.window(OffsetDateTime::now_utc(), settings.ca_validity);
        let ca = Ca::generate(CaKind::Cluster.common_name(), alg, window)?;
        let front_proxy_ca = Ca::generate(CaKind::FrontProxy.common_name(), alg, window)?;
        let etcd_ca = Ca::generate(CaKind::Etcd.common_name(), alg, window)?;
        let sa_key = cert::new_key(alg, "sa")?;
        let ca_cert_hash = token::ca_cert_hash(&ca.spki_der());
        Ok(ClusterPki {
            settings,
            clock,
            ca,
            front_proxy_ca,
            etcd_ca,
            sa_key,
            bootstrap_token,
            ca_cert_hash,
        })
    }

    /// The key algorithm and lifetimes this material was made with.
    pub fn settings(&self) -> PkiSettings {
        self.settings
    }

    /// The cluster CA certificate (`/etc/kubernetes/pki/ca.crt`) as PEM.
    pub fn ca_cert_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// Discovery hash for `kubeadm join --discovery-token-ca-cert-hash`.
    pub fn ca_cert_hash(&self) -> &str {
        &self.ca_cert_hash
    }

    /// Bootstrap token `<id>.<secret>` for `InitConfiguration.bootstrapTokens` and joins.
    pub fn bootstrap_token(&self) -> &str {
        &self.bootstrap_token
    }

    /// Every file for one control-plane node, with absolute paths in the node: certificates and
    /// keys under `certificatesDir` (`/etc/kubernetes/pki` by default), kubeconfigs in
    /// `/etc/kubernetes`. Certificates are dated by the nodes' clock.
    pub fn control_plane_files(
        &self,
        node: &NodeCertInputs,
        role: ControlPlaneRole,
    ) -> Result<Vec<PkiFile>, PkiError> {
        if !names::is_dns1123_subdomain(&node.node_name) {
            return Err(PkiError::InvalidInput {
                node: node.node_name.clone(),
                field: "nodeRegistration.name",
                value: node.node_name.clone(),
                reason: "a node name must be a lowercase RFC 1123 DNS name".into(),
            });
        }
        let dir = certificates_dir(&node.certificates_dir)?;
        let pki_file = |base: &str, ext: &str, contents: &str, mode: u32| PkiFile {
            path: format!("{dir}/{base}.{ext}"),
            contents: contents.as_bytes().to_vec(),
            mode,
        };
        let alg = self.settings.algorithm;
        let window = self
            .clock
            .window(OffsetDateTime::now_utc(), self.settings.leaf_validity);
        let mut files = Vec::new();
        for kind in CaKind::ALL {
            let ca = self.ca(kind);
            files.push(pki_file(kind.base(), "crt", ca.cert_pem(), PUBLIC_MODE));
            files.push(pki_file(kind.base(), "key", &ca.key_pem(), PRIVATE_MODE));
        }
        files.push(pki_file(
            "sa",
            "key",
            &self.sa_key.serialize_pem(),
            PRIVATE_MODE,
        ));
        files.push(pki_file(
            "sa",
            "pub",
            &self.sa_key.public_key_pem(),
            PRIVATE_MODE,
        ));

        for leaf in certlist::node_leaves(node)? {
            let what = format!("{} for node {}", leaf.base, node.node_name);
            let issued = self.ca(leaf.ca).issue(&what, &leaf.spec, alg, window)?;
            files.push(pki_file(leaf.base, "crt", &issued.cert_pem, PUBLIC_MODE));
            files.push(pki_file(leaf.base, "key", &issued.key_pem, PRIVATE_MODE));
        }

        let cluster_name = match node.cluster_name.as_str() {
            "" => "kubernetes", // kubeadm's default clusterName
            name => name,
        };
        for spec in kubeconfig::specs(node, role)? {
            let what = format!(
                "the client certificate of {} for node {}",
                spec.file, node.node_name
            );
            let leaf = cert::LeafSpec {
                cn: spec.cn.clone(),
                orgs: spec.orgs.clone(),
                usages: cert::CLIENT,
                sans: names::AltNames::default(),
            };
            let issued = self.ca.issue(&what, &leaf, alg, window)?;
            let yaml = kubeconfig::render(
                cluster_name,
                &spec.server,
                self.ca.cert_pem(),
                &spec.cn,
                &issued.cert_pem,
                &issued.key_pem,
            )
            .map_err(|source| PkiError::Kubeconfig {
                file: spec.file,
                source,
            })?;
            files.push(PkiFile {
                path: format!("{KUBECONFIG_DIR}/{}", spec.file),
                contents: yaml.into_bytes(),
                mode: PRIVATE_MODE,
            });
        }
        Ok(files)
    }

    fn ca(&self, kind: CaKind) -> &Ca {
        match kind {
            CaKind::Cluster => &self.ca,
            CaKind::FrontProxy => &self.front_proxy_ca,
            CaKind::Etcd => &self.etcd_ca,
        }
    }
}

/// `certificatesDir` as kubeadm resolves paths in it (`filepath.Join`): absolute (its
/// validation, `ValidateAbsolutePath`), cleaned of `.`, `..`, repeated and trailing slashes,
/// without the final slash.
fn certificates_dir(raw: &str) -> Result<String, PkiError> {
    let raw_trimmed = raw.trim();
    if raw_trimmed.is_empty() {
        return Ok(DEFAULT_CERTIFICATES_DIR.to_string());
    }
    if !raw_trimmed.starts_with('/') {
        return Err(PkiError::InvalidSetting {
            field: "certificatesDir",
            value: raw.to_string(),
            reason: "the path is not absolute (kubeadm refuses it too)".to_string(),
        });
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw_trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    // The root directory gives "" so that paths become "/ca.crt".
    Ok(parts.iter().map(|p| format!("/{p}")).collect())
}

//! rcgen details: keys, serials, validity windows and the two certificate shapes kubeadm makes
//! (self-signed CAs and CA-signed leaves).

use super::names::AltNames;
use super::{KeyAlgorithm, PkiError};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber,
};
use time::OffsetDateTime;

/// A certificate's NotBefore and NotAfter.
pub(super) type Window = (OffsetDateTime, OffsetDateTime);

/// Generates one key of the cluster's algorithm (pkiutil `GeneratePrivateKey`: the RSA sizes
/// and curves of `encryptionAlgorithm`).
pub(super) fn new_key(alg: KeyAlgorithm, what: &str) -> Result<KeyPair, PkiError> {
    let rsa = |size| KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size);
    let key = match alg {
        KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyAlgorithm::Rsa2048 => rsa(rcgen::RsaKeySize::_2048),
        KeyAlgorithm::Rsa3072 => rsa(rcgen::RsaKeySize::_3072),
        KeyAlgorithm::Rsa4096 => rsa(rcgen::RsaKeySize::_4096),
    };
    key.map_err(|source| PkiError::Key {
        what: what.to_string(),
        source,
    })
}

/// A random serial in [1, 2^63 − 1), as kubeadm draws it, from the OS random source.
fn random_serial() -> Result<SerialNumber, PkiError> {
    loop {
        let n = getrandom::u64().map_err(|e| PkiError::Random(e.to_string()))? >> 1;
        if n != 0 && n != i64::MAX as u64 {
            return Ok(SerialNumber::from(n));
        }
    }
}

/// Who a leaf certificate is for: its subject and how it may be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LeafSpec {
    /// Subject common name.
    pub cn: String,
    /// Subject organisations, one O attribute each.
    pub orgs: Vec<&'static str>,
    /// Extended key usages.
    pub usages: &'static [ExtendedKeyUsagePurpose],
    /// Subject alternative names (empty for client certificates).
    pub sans: AltNames,
}

/// serverAuth only (the API server's serving certificate).
pub(super) const SERVER: &[ExtendedKeyUsagePurpose] = &[ExtendedKeyUsagePurpose::ServerAuth];
/// clientAuth only.
pub(super) const CLIENT: &[ExtendedKeyUsagePurpose] = &[ExtendedKeyUsagePurpose::ClientAuth];
/// Both, as etcd's server and peer certificates need.
pub(super) const SERVER_AND_CLIENT: &[ExtendedKeyUsagePurpose] = &[
    ExtendedKeyUsagePurpose::ServerAuth,
    ExtendedKeyUsagePurpose::ClientAuth,
];

/// A PEM certificate and its PEM (PKCS#8) private key.
pub(super) struct Issued {
    /// `CERTIFICATE` block.
    pub cert_pem: String,
    /// `PRIVATE KEY` block.
    pub key_pem: String,
}

/// A self-signed certificate authority that can sign leaves.
pub(super) struct Ca {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// Makes a CA like kubeadm's: CN copied into a DNS SAN, CA:TRUE, keyCertSign.
    pub fn generate(cn: &str, alg: KeyAlgorithm, window: Window) -> Result<Ca, PkiError> {
        let key = new_key(alg, cn)?;
        let mut params = base_params(cn, &[], window)?;
        params.subject_alt_names = vec![dns_san(cn, cn)?];
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        let cert = params
            .self_signed(&key)
            .map_err(|source| PkiError::Certificate {
                what: cn.to_string(),
                source,
            })?;
        Ok(Ca {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate as PEM (the exact `*.crt` contents).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA private key as a PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// DER SubjectPublicKeyInfo of the CA key (what the discovery hash covers).
    pub fn spki_der(&self) -> Vec<u8> {
        self.issuer.key().subject_public_key_info()
    }

    /// Issues a leaf: explicit CA:FALSE, digitalSignature + keyEncipherment, AKI = this CA's
    /// SKI; `what` names it in errors.
    pub fn issue(
        &self,
        what: &str,
        spec: &LeafSpec,
        alg: KeyAlgorithm,
        window: Window,
    ) -> Result<Issued, PkiError> {
        let key = new_key(alg, what)?;
        let mut params = base_params(&spec.cn, &spec.orgs, window)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = spec.usages.to_vec();
        params.use_authority_key_identifier_extension = true;
        params.subject_alt_names = spec
            .sans
            .dns
            .iter()
            .map(|name| dns_san(what, name))
            .collect::<Result<_, _>>()?;
        params
            .subject_alt_names
            .extend(spec.sans.ips.iter().map(|ip| SanType::IpAddress(*ip)));
        let cert =
            params
                .signed_by(&key, &self.issuer)
                .map_err(|source| PkiError::Certificate {
                    what: what.to_string(),
                    source,
                })?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Parameters shared by CAs and leaves: subject, random serial, validity window.
fn base_params(cn: &str, orgs: &[&str], window: Window) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    for org in orgs {
        subject.push(DnType::OrganizationName, *org);
    }
    subject.push(DnType::CommonName, cn);
    params.distinguished_name = subject;
    params.serial_number = Some(random_serial()?);
    (params.not_before, params.not_after) = window;
    Ok(params)
}

fn dns_san(what: &str, name: &str) -> Result<SanType, PkiError> {
    let ia5 = name.try_into().map_err(|source| PkiError::Certificate {
        what: format!("{what} (SAN {name:?})"),
        source,
    })?;
    Ok(SanType::DnsName(ia5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::*;

    fn parse(pem: &str) -> Vec<u8> {
        let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        p.contents
    }

    #[test]
    fn serials_are_positive_random_and_fit_in_63_bits() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..64 {
            let s = random_serial().unwrap().to_bytes();
            assert_eq!(s.len(), 8);
            assert_eq!(s[0] & 0x80, 0, "top bit set: {s:?}");
            assert!(s.iter().any(|b| *b != 0));
            assert!(seen.insert(s), "repeated serial");
        }
    }

    #[test]
    fn leaf_with_high_serial_byte_stays_positive_in_der() {
        // Even with a serial whose DER needs a leading zero, x509-parser must read it back
        // as the positive number we chose (checks rcgen's bigint encoding for us).
        let now = OffsetDateTime::now_utc();
        let window = (now, now + ::time::Duration::days(1));
        let ca = Ca::generate("test-ca", KeyAlgorithm::EcdsaP256, window).unwrap();
        for _ in 0..16 {
            let spec = LeafSpec {
                cn: "x".into(),
                orgs: vec![],
                usages: CLIENT,
                sans: AltNames::default(),
            };
            let issued = ca
                .issue("x", &spec, KeyAlgorithm::EcdsaP256, window)
                .unwrap();
            let der = parse(&issued.cert_pem);
            let (_, cert) = X509Certificate::from_der(&der).unwrap();
            let raw = cert.raw_serial();
            assert_eq!(raw[0] & 0x80, 0, "negative serial {raw:?}");
            assert!(cert.serial.bits() <= 63 && cert.serial.bits() > 0);
        }
    }

    #[test]
    fn every_kubeadm_algorithm_gives_its_key_type() {
        use x509_parser::public_key::PublicKey;
        // RSA 3072/4096 take seconds in debug builds; the sizes come from the same call as 2048.
        for (alg, want) in [
            (KeyAlgorithm::EcdsaP256, "P-256"),
            (KeyAlgorithm::EcdsaP384, "P-384"),
        ] {
            let key = new_key(alg, "test").unwrap();
            let spki = key.subject_public_key_info();
            let (_, info) = SubjectPublicKeyInfo::from_der(&spki).unwrap();
            let curve = info
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string());
            let want_oid = match want {
                "P-256" => "1.2.840.10045.3.1.7",
                _ => "1.3.132.0.34",
            };
            assert_eq!(curve.as_deref(), Some(want_oid), "{alg:?}");
            assert!(matches!(info.parsed().unwrap(), PublicKey::EC(_)));
        }
    }

    #[test]
    fn rsa_keys_are_2048_bits_and_pkcs8() {
        let key = new_key(KeyAlgorithm::Rsa2048, "test").unwrap();
        assert!(
            key.serialize_pem()
                .starts_with("-----BEGIN PRIVATE KEY-----\n")
        );
        let spki = key.subject_public_key_info();
        let (_, info) = SubjectPublicKeyInfo::from_der(&spki).unwrap();
        match info.parsed().unwrap() {
            x509_parser::public_key::PublicKey::RSA(rsa) => assert_eq!(rsa.key_size(), 2048),
            other => panic!("not RSA: {other:?}"),
        }
    }
}

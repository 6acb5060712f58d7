//! The names and addresses kubeadm derives from its config: SAN lists, the API service IP,
//! the control-plane and local endpoints.

use super::{NodeCertInputs, PkiError};
use std::net::IpAddr;

/// kubeadm's defaults for fields a rendered config may leave empty.
const DEFAULT_SERVICE_SUBNET: &str = "10.96.0.0/12";
const DEFAULT_DNS_DOMAIN: &str = "cluster.local";
const DEFAULT_BIND_PORT: u16 = 6443;

/// Subject alternative names of one certificate, split as X.509 stores them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AltNames {
    /// DNS names (sorted and unique after `dedup`).
    pub dns: Vec<String>,
    /// IP addresses (unique, first occurrence kept, after `dedup`).
    pub ips: Vec<IpAddr>,
}

impl AltNames {
    /// Adds a user-supplied SAN the way kubeadm does: an IP if it parses, a DNS name if it is an
    /// RFC 1123 subdomain or a wildcard one. Anything else fails kubeadm's validation
    /// (validation.go `ValidateCertSANs`) before any certificate is made, so it is an error here
    /// too, naming the node, `field` and value.
    fn push_user_san(
        &mut self,
        node: &NodeCertInputs,
        field: &'static str,
        san: &str,
    ) -> Result<(), PkiError> {
        if let Ok(ip) = san.parse::<IpAddr>() {
            // Go writes an IPv4-mapped IPv6 address as the IPv4 address it maps.
            self.ips.push(ip.to_canonical());
        } else if is_dns1123_subdomain(san) || is_wildcard_subdomain(san) {
            self.dns.push(san.to_string());
        } else {
            return Err(PkiError::InvalidInput {
                node: node.node_name.clone(),
                field,
                value: san.to_string(),
                reason: "not an IP address, a lowercase RFC 1123 DNS name or a wildcard \
                         (*.example.com); kubeadm refuses it too"
                    .to_string(),
            });
        }
        Ok(())
    }

    /// kubeadm's de-duplication: DNS names become a sorted set, IPs keep their first position.
    fn dedup(mut self) -> Self {
        self.dns.sort();
        self.dns.dedup();
        let mut ips: Vec<IpAddr> = Vec::with_capacity(self.ips.len());
        for ip in self.ips {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        self.ips = ips;
        self
    }
}

/// A host and port kubeadm talks to, rendered as an `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    /// IP address or DNS name, without brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// `https://host:port`, with an IPv6 host in brackets.
    pub fn url(&self) -> String {
        if self.host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("https://[{}]:{}", self.host, self.port)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }
}

/// The node's own API server: `advertiseAddress:bindPort`.
pub(super) fn local_endpoint(node: &NodeCertInputs) -> Endpoint {
    Endpoint {
        host: node.advertise_address.to_string(),
        port: bind_port(node),
    }
}

/// The cluster's API endpoint: `controlPlaneEndpoint` (port defaulting to the bind port), or the
/// local endpoint when it is unset.
pub(super) fn control_plane_endpoint(node: &NodeCertInputs) -> Result<Endpoint, PkiError> {
    let raw = node.control_plane_endpoint.trim();
    if raw.is_empty() {
        return Ok(local_endpoint(node));
    }
    let invalid = |reason: &str| PkiError::InvalidInput {
        node: node.node_name.clone(),
        field: "controlPlaneEndpoint",
        value: raw.to_string(),
        reason: reason.to_string(),
    };
    let (host, port) = split_host_port(raw).map_err(|reason| invalid(&reason))?;
    if host.parse::<IpAddr>().is_err() && !is_dns1123_subdomain(host) {
        return Err(invalid(
            "the host must be an IP address or a lowercase RFC 1123 DNS name",
        ));
    }
    Ok(Endpoint {
        host: host.to_string(),
        port: port.unwrap_or_else(|| bind_port(node)),
    })
}

/// Splits `host:port`, `[v6]:port`, `[v6]`, a bare IPv6 address or a bare host.
fn split_host_port(raw: &str) -> Result<(&str, Option<u16>), String> {
    let parse_port = |p: &str| match p.parse::<u16>() {
        Ok(port) if port > 0 => Ok(Some(port)),
        _ => Err(format!("port {p:?} is not a number from 1 to 65535")),
    };
    if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "missing ']' after an IPv6 address".to_string())?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, parse_port(port)?)),
                None => Err(format!("unexpected {after:?} after ']'")),
            },
        };
    }
    if raw.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((raw, None));
    }
    match raw.rsplit_once(':') {
        Some((host, port)) => Ok((host, parse_port(port)?)),
        None => Ok((raw, None)),
    }
}

fn bind_port(node: &NodeCertInputs) -> u16 {
    if node.bind_port == 0 {
        DEFAULT_BIND_PORT
    } else {
        node.bind_port
    }
}

/// SANs of the `apiserver` certificate (pki-facts §1.1; pkiutil `GetAPIServerAltNames`).
pub(super) fn apiserver_alt_names(node: &NodeCertInputs) -> Result<AltNames, PkiError> {
    let domain = match node.dns_domain.trim() {
        "" => DEFAULT_DNS_DOMAIN,
        d => d,
    };
    if !is_dns1123_subdomain(domain) {
        return Err(PkiError::InvalidInput {
            node: node.node_name.clone(),
            field: "networking.dnsDomain",
            value: node.dns_domain.clone(),
            reason: "not a lowercase RFC 1123 DNS name; kubeadm refuses it too".to_string(),
        });
    }
    let mut names = AltNames {
        dns: vec![
            node.node_name.clone(),
            "kubernetes".to_string(),
            "kubernetes.default".to_string(),
            "kubernetes.default.svc".to_string(),
            format!("kubernetes.default.svc.{domain}"),
        ],
        ips: vec![api_service_ip(node)?, node.advertise_address],
    };
    if !node.control_plane_endpoint.trim().is_empty() {
        let endpoint = control_plane_endpoint(node)?;
        match endpoint.host.parse::<IpAddr>() {
            Ok(ip) => names.ips.push(ip),
            Err(_) => names.dns.push(endpoint.host),
        }
    }
    // kubeadm lowercases these before validating and using them ("some domain names, like
    // ELBs, have capitals": util/config `SetClusterDynamicDefaults` → `LowercaseSANs`).
    for san in &node.cert_sans {
        names.push_user_san(node, "apiServer.certSANs", &san.to_lowercase())?;
    }
    Ok(names.dedup())
}

/// SANs of `etcd/server` or `etcd/peer` (pki-facts §1.2), with that certificate's extra SANs
/// from `field` (taken as written: kubeadm lowercases only `apiServer.certSANs`).
pub(super) fn etcd_alt_names(
    node: &NodeCertInputs,
    field: &'static str,
    extra: &[String],
) -> Result<AltNames, PkiError> {
    let mut names = AltNames {
        dns: vec![node.node_name.clone(), "localhost".to_string()],
        ips: vec![
            node.advertise_address,
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ],
    };
    for san in extra {
        names.push_user_san(node, field, san)?;
    }
    Ok(names.dedup())
}

/// The Kubernetes API service IP: index 1 of the first CIDR of `serviceSubnet`.
fn api_service_ip(node: &NodeCertInputs) -> Result<IpAddr, PkiError> {
    let list = match node.service_subnet.trim() {
        "" => DEFAULT_SERVICE_SUBNET,
        s => s,
    };
    let first = list.split(',').next().unwrap_or(list).trim();
    first_host_ip(first).map_err(|reason| PkiError::InvalidInput {
        node: node.node_name.clone(),
        field: "networking.serviceSubnet",
        value: node.service_subnet.clone(),
        reason,
    })
}

/// Network address of `cidr` plus one.
fn first_host_ip(cidr: &str) -> Result<IpAddr, String> {
    let bad = || format!("{cidr:?} is not a CIDR such as 10.96.0.0/12 or fd00:10:96::/112");
    let (addr, prefix) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let prefix: u32 = prefix.parse().map_err(|_| bad())?;
    let too_small = || format!("{cidr:?} has no room for the API service IP");
    match addr {
        IpAddr::V4(v4) => {
            if prefix > 31 {
                return Err(if prefix > 32 { bad() } else { too_small() });
            }
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            Ok(std::net::Ipv4Addr::from((u32::from(v4) & mask) + 1).into())
        }
        IpAddr::V6(v6) => {
            if prefix > 127 {
                return Err(if prefix > 128 { bad() } else { too_small() });
            }
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            Ok(std::net::Ipv6Addr::from((u128::from(v6) & mask) + 1).into())
        }
    }
}

/// Kubernetes' `IsDNS1123Subdomain`: lowercase labels of `[a-z0-9-]`, not starting or ending
/// with `-`, joined by dots, at most 253 characters.
pub(super) fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Kubernetes' `IsWildcardDNS1123Subdomain`: `*.` followed by an RFC 1123 subdomain.
fn is_wildcard_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.strip_prefix("*.").is_some_and(is_dns1123_subdomain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s_version::KubeVersion;

    fn node() -> NodeCertInputs {
        NodeCertInputs {
            node_name: "kind-control-plane".into(),
            advertise_address: "172.18.0.3".parse().unwrap(),
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn api_service_ip_is_first_host_of_first_cidr() {
        let mut n = node();
        for (subnet, want) in [
            ("10.96.0.0/12", "10.96.0.1"),
            // Not the network address of a misaligned CIDR, and not the DNS IP (.10).
            ("10.97.3.4/12", "10.96.0.1"),
            ("fd00:10:96::/112,10.96.0.0/16", "fd00:10:96::1"),
            (" 10.100.0.0/16 , fd00::/112", "10.100.0.1"),
            ("", "10.96.0.1"),
        ] {
            n.service_subnet = subnet.into();
            assert_eq!(api_service_ip(&n).unwrap(), ip(want), "{subnet}");
        }
        for bad in ["10.96.0.0", "10.96.0.0/33", "nonsense/12", "10.0.0.0/32"] {
            n.service_subnet = bad.into();
            let err = api_service_ip(&n).unwrap_err().to_string();
            assert!(err.contains("networking.serviceSubnet"), "{err}");
            assert!(err.contains("kind-control-plane"), "{err}");
        }
    }

    #[test]
    fn rfc1123_names_and_wildcards() {
        for ok in ["a", "kind-control-plane", "a.b-c.d", "0abc"] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in [
            "",
            "A",
            "-a",
            "a-",
            "a..b",
            "a_b",
            ".a",
            "*.a",
            &"a".repeat(254),
        ] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
        assert!(is_wildcard_subdomain("*.example.com"));
        assert!(!is_wildcard_subdomain("*example.com"));
        assert!(!is_wildcard_subdomain("a.*.example.com"));
    }

    #[test]
    fn apiserver_sans_follow_kubeadm_and_are_deduplicated() {
        let mut n = node();
        n.cert_sans = vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "172.18.0.3".into(), // duplicate of the advertise address
            "kubernetes".into(), // duplicate DNS name
            "*.example.com".into(),
            "::1".into(),
            "::ffff:10.0.0.7".into(), // IPv4-mapped: written as the IPv4 address, as Go does
        ];
        let names = apiserver_alt_names(&n).unwrap();
        let mut want_dns = vec![
            "*.example.com",
            "kind-control-plane",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "localhost",
        ];
        want_dns.sort();
        assert_eq!(names.dns, want_dns);
        assert_eq!(
            names.ips,
            vec![
                ip("10.96.0.1"),
                ip("172.18.0.3"),
                ip("127.0.0.1"),
                ip("::1"),
                ip("10.0.0.7")
            ]
        );
    }

    #[test]
    fn upper_case_api_server_sans_are_lowercased_like_kubeadm() {
        let mut n = node();
        n.cert_sans = vec!["API.Example.COM".into(), "*.Apps.Example.com".into()];
        let names = apiserver_alt_names(&n).unwrap();
        assert!(
            names.dns.contains(&"api.example.com".to_string()),
            "{names:?}"
        );
        assert!(
            names.dns.contains(&"*.apps.example.com".to_string()),
            "{names:?}"
        );
        assert!(
            !names
                .dns
                .iter()
                .any(|d| d.chars().any(|c| c.is_uppercase()))
        );
    }

    #[test]
    fn sans_kubeadm_would_refuse_are_errors_naming_field_and_value() {
        let mut n = node();
        n.cert_sans = vec!["bad_name".into()];
        let err = apiserver_alt_names(&n).unwrap_err().to_string();
        assert!(err.contains("apiServer.certSANs"), "{err}");
        assert!(err.contains("\"bad_name\""), "{err}");
        assert!(err.contains("kind-control-plane"), "{err}");
        // etcd SANs are not lowercased by kubeadm, so capitals fail its validation.
        let err = etcd_alt_names(
            &node(),
            "etcd.local.serverCertSANs",
            &["Etcd.Example".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("etcd.local.serverCertSANs"), "{err}");
        let mut n = node();
        n.dns_domain = "Cluster.Local".into();
        let err = apiserver_alt_names(&n).unwrap_err().to_string();
        assert!(err.contains("networking.dnsDomain"), "{err}");
    }

    #[test]
    fn control_plane_endpoint_host_becomes_a_san_of_its_kind() {
        let mut n = node();
        n.cert_sans.clear();
        n.control_plane_endpoint = "[fd00::5]:7443".into();
        let names = apiserver_alt_names(&n).unwrap();
        assert!(names.ips.contains(&ip("fd00::5")));
        n.control_plane_endpoint = "lb.example".into();
        assert!(
            apiserver_alt_names(&n)
                .unwrap()
                .dns
                .contains(&"lb.example".to_string())
        );
        n.control_plane_endpoint = "Not A Host:6443".into();
        let err = apiserver_alt_names(&n).unwrap_err().to_string();
        assert!(err.contains("controlPlaneEndpoint"), "{err}");
    }

    #[test]
    fn endpoints_default_and_bracket_ipv6() {
        let mut n = node();
        assert_eq!(
            control_plane_endpoint(&n).unwrap().url(),
            "https://kind-control-plane:6443"
        );
        n.control_plane_endpoint = "10.0.0.9".into();
        n.bind_port = 7000;
        assert_eq!(
            control_plane_endpoint(&n).unwrap().url(),
            "https://10.0.0.9:7000"
        );
        n.control_plane_endpoint = "fd00::9".into();
        assert_eq!(
            control_plane_endpoint(&n).unwrap().url(),
            "https://[fd00::9]:7000"
        );
        n.control_plane_endpoint = "[fd00::9]:8443".into();
        assert_eq!(
            control_plane_endpoint(&n).unwrap().url(),
            "https://[fd00::9]:8443"
        );
        n.control_plane_endpoint = "host:0".into();
        assert!(control_plane_endpoint(&n).is_err());
        n.control_plane_endpoint = String::new();
        n.advertise_address = ip("fc00::3");
        assert_eq!(
            control_plane_endpoint(&n).unwrap().url(),
            "https://[fc00::3]:7000"
        );
        assert_eq!(local_endpoint(&n).url(), "https://[fc00::3]:7000");
    }

    #[test]
    fn etcd_sans_include_loopback_and_extras() {
        let n = node();
        let names = etcd_alt_names(
            &n,
            "etcd.local.serverCertSANs",
            &["etcd.example".into(), "10.1.1.1".into()],
        )
        .unwrap();
        assert_eq!(
            names.dns,
            vec!["etcd.example", "kind-control-plane", "localhost"]
        );
        assert_eq!(
            names.ips,
            vec![ip("172.18.0.3"), ip("127.0.0.1"), ip("::1"), ip("10.1.1.1")]
        );
    }
}

//! kind's validation rules for a defaulted config (kind-facts §2.4), with kind's message texts.

use super::types::{Cluster, Node, PortMapping};
use crate::input::clip;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Every problem found in a config, in kind's order, without duplicates.
///
/// Display prints one message per line: the CLI's `ERROR: ` prefix lands on the first line and
/// each further problem stays readable on its own line. (kind prints `[a, b]` on one line.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<String>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ValidationErrors {}

impl Cluster {
    /// Checks every kind rule and reports all problems together. Call it after
    /// [`Cluster::apply_defaults`]: like kind, it treats unset fields as errors.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        let net = &self.networking;

        if let Err(e) = check_cluster_name(&self.name) {
            errors.push(e);
        }
        // 0 asks kindling for a random free port, so there is nothing to check.
        if net.api_server_port != 0
            && let Err(e) = check_port(net.api_server_port)
        {
            errors.push(format!("invalid apiServerPort: {e}"));
        }
        if !matches!(net.ip_family.as_str(), "ipv4" | "ipv6" | "dual") {
            errors.push(format!("invalid ipFamily: {}", clip(&net.ip_family)));
        }
        if let Err(e) = check_subnets(&net.pod_subnet, &net.ip_family) {
            errors.push(format!("invalid pod subnet {e}"));
        }
        if let Err(e) = check_subnets(&net.service_subnet, &net.ip_family) {
            errors.push(format!("invalid service subnet {e}"));
        }
        if !matches!(
            net.kube_proxy_mode.as_str(),
            "iptables" | "ipvs" | "nftables" | "none"
        ) {
            errors.push(format!(
                "invalid kubeProxyMode: {}",
                clip(&net.kube_proxy_mode)
            ));
        }
        for (index, node) in self.nodes.iter().enumerate() {
            for e in node_errors(node) {
                errors.push(format!("invalid configuration for node {index}: {e}"));
            }
        }
        if self.control_plane_count() == 0 {
            errors.push("must have at least one control-plane node".to_string());
        }

        // kind's error aggregate drops repeated messages; keep the first of each.
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert(e.clone()));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }
}

/// The longest cluster name accepted (a DNS subdomain's limit). kind sets no limit but warns
/// above 50 characters, where node host names outgrow Linux's 64; far longer is a mistake.
pub const MAX_CLUSTER_NAME_LEN: usize = 253;

/// kind's rule for a cluster name (`^[a-z0-9.-]+$`) and kindling's length bound, checked before
/// the name is used anywhere; the message quotes at most a short prefix of a bad name.
pub fn check_cluster_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_CLUSTER_NAME_LEN {
        return Err(format!(
            "'{}' is not a valid cluster name, cluster names must be at most {MAX_CLUSTER_NAME_LEN} characters",
            clip(name)
        ));
    }
    if !is_valid_cluster_name(name) {
        return Err(format!(
            "'{}' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`",
            clip(name)
        ));
    }
    Ok(())
}

/// kind's `^[a-z0-9.-]+$`.
fn is_valid_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// -1 lets the container engine pick; anything else must be a real port number (0 included).
fn check_port(port: i32) -> Result<(), String> {
    if (-1..=65535).contains(&port) {
        Ok(())
    } else {
        Err(format!("invalid port number: {port}"))
    }
}

/// A comma-separated subnet list against the IP family (kind reports only the first problem).
fn check_subnets(subnets: &str, family: &str) -> Result<(), String> {
    let mut cidrs = Vec::new();
    // No trimming: kind rejects `a, b` because ` b` is not a CIDR.
    for text in subnets.split(',') {
        let cidr = Cidr::parse(text).map_err(|e| {
            format!(
                "failed to parse cidr value:{:?} with error: {e}",
                clip(text)
            )
        })?;
        cidrs.push(cidr);
    }
    const DUAL: &str =
        "expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking";
    let first_is_v4 = cidrs.first().is_some_and(Cidr::is_ipv4);
    match (family, cidrs.len()) {
        ("dual", n) if n > 2 => Err(DUAL.to_string()),
        ("dual", 2) if cidrs[0].is_ipv4() == cidrs[1].is_ipv4() => Err(DUAL.to_string()),
        ("dual", _) => Ok(()),
        (_, n) if n > 1 => Err("only one CIDR allowed for single-stack networking".to_string()),
        ("ipv4", _) if !first_is_v4 => Err("expected IPv4 CIDR for IPv4 family".to_string()),
        ("ipv6", _) if first_is_v4 => Err("expected IPv6 CIDR for IPv6 family".to_string()),
        _ => Ok(()),
    }
}

/// The problems of one node, without the `invalid configuration for node <i>: ` prefix.
fn node_errors(node: &Node) -> Vec<String> {
    let mut errors = Vec::new();
    if !matches!(node.role.as_str(), "control-plane" | "worker") {
        errors.push(format!("{:?} is not a valid node role", clip(&node.role)));
    }
    if node.image.is_empty() {
        errors.push("image is a required field".to_string());
    }
    for mapping in &node.extra_port_mappings {
        if let Err(e) = check_port(mapping.host_port) {
            errors.push(format!("invalid hostPort: {e}"));
        }
        if let Err(e) = check_port(mapping.container_port) {
            errors.push(format!("invalid containerPort: {e}"));
        }
    }
    if let Err(e) = check_host_bindings(&node.extra_port_mappings) {
        errors.push(format!("invalid portMapping: {e}"));
    }
    errors
}

/// Rejects two mappings that would bind the same host address, port and protocol, where a
/// wildcard address clashes with every address. Stops at the first problem, as kind does.
fn check_host_bindings(mappings: &[PortMapping]) -> Result<(), String> {
    const WILDCARD: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    // `<hostPort>/<protocol as written>` -> addresses already bound; so "" and "TCP" differ, as in kind.
    let mut bound: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for mapping in mappings {
        // 0 and -1 pick a random port each, so they never clash.
        if mapping.host_port == 0 || mapping.host_port == -1 {
            continue;
        }
        let address = if mapping.listen_address.is_empty() {
            WILDCARD
        } else {
            parse_ip(&mapping.listen_address).ok_or_else(|| {
                format!("invalid listen address: {}", clip(&mapping.listen_address))
            })?
        };
        let key = format!("{}/{}", mapping.host_port, mapping.protocol);
        // The message shows the address as written-and-normalised, before `::` becomes 0.0.0.0.
        let clash = format!(
            "port mapping with same listen address, port and protocol already configured: {address}:{key}"
        );
        // Both wildcards bind every address of the host, so they are one address here.
        let address = if address == IpAddr::V6(Ipv6Addr::UNSPECIFIED) {
            WILDCARD
        } else {
            address
        };
        let addresses = bound.entry(key).or_default();
        if (address == WILDCARD && !addresses.is_empty())
            || addresses.contains(&address)
            || addresses.contains(&WILDCARD)
        {
            return Err(clash);
        }
        addresses.push(address);
    }
    Ok(())
}

/// Parses an IP address; IPv4-mapped IPv6 addresses become IPv4 (they are the same address).
fn parse_ip(text: &str) -> Option<IpAddr> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)),
        v4 => Some(v4),
    }
}

/// An IP network such as `10.244.0.0/16` or `fd00:10:244::/56`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address (host bits cleared).
    pub network: IpAddr,
    /// Prefix length in bits.
    pub prefix_len: u8,
}

impl Cidr {
    /// Parses `<address>/<prefix>` strictly (no spaces, decimal prefix within the family's size).
    /// The error reads `invalid CIDR address: <text>`.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let bad = || format!("invalid CIDR address: {}", clip(text));
        let (address, prefix) = text.split_once('/').ok_or_else(bad)?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let bits: u32 = if address.is_ipv4() { 32 } else { 128 };
        let prefix_len = prefix
            .parse::<u32>()
            .ok()
            .filter(|p| *p <= bits)
            .ok_or_else(bad)?;
        let network = match address {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - prefix_len).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - prefix_len).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Ok(Cidr {
            network,
            // At most 128, checked above.
            prefix_len: prefix_len as u8,
        })
    }

    /// True for IPv4 networks, including IPv4-mapped IPv6 ones (`::ffff:a.b.c.d/96` and longer),
    /// which kind also counts as IPv4.
    pub fn is_ipv4(&self) -> bool {
        match self.network {
            IpAddr::V4(_) => true,
            IpAddr::V6(a) => a.to_ipv4_mapped().is_some(),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_values_are_quoted_by_a_short_prefix_only() {
        let huge = "A".repeat(5 << 20);
        let mut cfg = crate::config::default_config();
        cfg.apply_defaults();
        cfg.name = huge.clone();
        cfg.networking.ip_family = huge.clone();
        cfg.networking.pod_subnet = huge.clone();
        cfg.networking.kube_proxy_mode = huge.clone();
        cfg.nodes[0].role = huge.clone();
        let mut errors = cfg.validate().unwrap_err().0;
        // The role is no longer control-plane, so this one follows; it quotes nothing.
        assert_eq!(
            errors.pop().as_deref(),
            Some("must have at least one control-plane node")
        );
        assert_eq!(errors.len(), 5, "{errors:?}");
        for e in &errors {
            assert!(e.len() < 300, "{} bytes: {}", e.len(), &e[..300]);
            assert!(e.contains("(5242880 bytes in all)"), "{e}");
        }
        assert!(
            errors[0].contains("at most 253 characters"),
            "{}",
            errors[0]
        );
        // A long name of valid characters is refused too; up to the bound it is kind's rule.
        let long = "a".repeat(MAX_CLUSTER_NAME_LEN + 1);
        assert!(check_cluster_name(&long).is_err());
        assert!(check_cluster_name(&long[1..]).is_ok());
        assert!(
            check_cluster_name("Bad")
                .unwrap_err()
                .contains("must match")
        );
    }

    #[test]
    fn cidr_parses_both_families_and_masks_host_bits() {
        let c = Cidr::parse("10.244.7.9/16").unwrap();
        assert_eq!(c.to_string(), "10.244.0.0/16");
        assert!(c.is_ipv4());
        let c = Cidr::parse("fd00:10:244::1/56").unwrap();
        assert_eq!(c.to_string(), "fd00:10:244::/56");
        assert!(!c.is_ipv4());
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().prefix_len, 0);
        assert_eq!(Cidr::parse("::/0").unwrap().to_string(), "::/0");
        // Go's prefix parser accepts leading zeros.
        assert_eq!(Cidr::parse("10.0.0.0/016").unwrap().prefix_len, 16);
    }

    #[test]
    fn cidr_rejects_what_go_rejects() {
        for bad in [
            "",
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/+8",
            "10.0.0.0/ 8",
            " 10.0.0.0/8",
            "10.0.0/8",
            "010.0.0.0/8",
            "fe80::1%eth0/64",
            "10.0.0.0/99999999999999999999",
        ] {
            let err = Cidr::parse(bad).unwrap_err();
            assert_eq!(err, format!("invalid CIDR address: {bad}"));
        }
    }

    #[test]
    fn ipv4_mapped_cidr_counts_as_ipv4_only_while_the_mapping_prefix_is_kept() {
        assert!(Cidr::parse("::ffff:10.0.0.0/104").unwrap().is_ipv4());
        // A /80 clears the ffff marker, leaving a plain IPv6 network.
        assert!(!Cidr::parse("::ffff:10.0.0.0/80").unwrap().is_ipv4());
    }

    #[test]
    fn subnet_rules_per_family() {
        assert!(check_subnets("10.0.0.0/8", "ipv4").is_ok());
        assert!(check_subnets("fd00::/64", "ipv6").is_ok());
        assert!(check_subnets("10.0.0.0/8", "dual").is_ok());
        assert!(check_subnets("fd00::/64,10.0.0.0/8", "dual").is_ok());
        assert_eq!(
            check_subnets("fd00::/64", "ipv4").unwrap_err(),
            "expected IPv4 CIDR for IPv4 family"
        );
        assert_eq!(
            check_subnets("10.0.0.0/8", "ipv6").unwrap_err(),
            "expected IPv6 CIDR for IPv6 family"
        );
        let dual_err = check_subnets("10.0.0.0/8,10.1.0.0/16", "dual").unwrap_err();
        assert!(
            dual_err.contains("two CIDRs from each family"),
            "{dual_err}"
        );
        let three = check_subnets("10.0.0.0/8,fd00::/64,fd01::/64", "dual").unwrap_err();
        assert_eq!(three, dual_err);
        assert_eq!(
            check_subnets("10.0.0.0/8, fd00::/64", "dual").unwrap_err(),
            "failed to parse cidr value:\" fd00::/64\" with error: invalid CIDR address:  fd00::/64"
        );
        // An unknown family is reported once, by the ipFamily rule, not again here.
        assert!(check_subnets("fd00::/64", "ipv5").is_ok());
    }

    fn mapping(host_port: i32, address: &str, protocol: &str) -> PortMapping {
        PortMapping {
            container_port: 80,
            host_port,
            listen_address: address.to_string(),
            protocol: protocol.to_string(),
        }
    }

    #[test]
    fn host_bindings_follow_kinds_key_rule() {
        let ok = |m: &[PortMapping]| check_host_bindings(m).is_ok();
        // Different addresses, protocols or ports coexist.
        assert!(ok(&[
            mapping(80, "127.0.0.1", "TCP"),
            mapping(80, "10.0.0.1", "TCP")
        ]));
        assert!(ok(&[mapping(80, "", "TCP"), mapping(80, "", "UDP")]));
        assert!(ok(&[mapping(80, "", ""), mapping(81, "", "")]));
        // "" and "TCP" are different keys at this stage (kind's quirk).
        assert!(ok(&[mapping(80, "", ""), mapping(80, "", "TCP")]));
        // Random ports never clash.
        assert!(ok(&[mapping(0, "", ""), mapping(0, "", "")]));
        assert!(ok(&[mapping(-1, "", ""), mapping(-1, "", "")]));
        // Same address twice.
        assert!(!ok(&[
            mapping(80, "127.0.0.1", ""),
            mapping(80, "127.0.0.1", "")
        ]));
        // Wildcard after a specific address, and a specific address after a wildcard.
        assert!(!ok(&[
            mapping(80, "127.0.0.1", ""),
            mapping(80, "0.0.0.0", "")
        ]));
        assert!(!ok(&[mapping(80, "", ""), mapping(80, "::1", "")]));
        // Empty means 0.0.0.0, and :: is the same wildcard.
        assert!(!ok(&[
            mapping(80, "", "UDP"),
            mapping(80, "0.0.0.0", "UDP")
        ]));
        assert!(!ok(&[
            mapping(80, "::", "UDP"),
            mapping(80, "0.0.0.0", "UDP")
        ]));
        // The IPv4-mapped spelling is the same address.
        assert!(!ok(&[
            mapping(80, "10.0.0.1", ""),
            mapping(80, "::ffff:10.0.0.1", "")
        ]));
    }

    #[test]
    fn host_binding_messages() {
        let err =
            check_host_bindings(&[mapping(80, "::", "TCP"), mapping(80, "::", "TCP")]).unwrap_err();
        // The address is shown as written (`::`), then `:80/TCP`.
        assert_eq!(
            err,
            "port mapping with same listen address, port and protocol already configured: :::80/TCP"
        );
        let err = check_host_bindings(&[mapping(8080, "", ""), mapping(8080, "", "")]).unwrap_err();
        assert!(err.ends_with(": 0.0.0.0:8080/"), "{err}");
        let err = check_host_bindings(&[mapping(80, "localhost", "")]).unwrap_err();
        assert_eq!(err, "invalid listen address: localhost");
        // A bad address on a random port is not looked at (kind skips those mappings).
        assert!(check_host_bindings(&[mapping(0, "localhost", "")]).is_ok());
    }

    #[test]
    fn cluster_names() {
        assert!(is_valid_cluster_name("kind"));
        assert!(is_valid_cluster_name("my.cluster-2"));
        for bad in ["", "Kind", "my_cluster", "a b", "kind\n", "ümlaut"] {
            assert!(!is_valid_cluster_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn port_range() {
        for good in [-1, 0, 1, 65535] {
            assert!(check_port(good).is_ok());
        }
        assert_eq!(check_port(-2).unwrap_err(), "invalid port number: -2");
        assert_eq!(check_port(65536).unwrap_err(), "invalid port number: 65536");
    }
}

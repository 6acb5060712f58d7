//! Kubernetes version strings as found in a node's `/kind/version` (for example `v1.37.0-rc.1`).

use std::cmp::Ordering;
use std::fmt;

/// A parsed Kubernetes version: `v<major>.<minor>.<patch>[-<pre-release>][+<build>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    /// Major component.
    pub major: u64,
    /// Minor component.
    pub minor: u64,
    /// Patch component.
    pub patch: u64,
    /// Dot-separated pre-release identifiers (`rc.1` → `["rc", "1"]`); empty for a release.
    pub pre: Vec<String>,
    raw: String,
}

/// Why a version string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Kubernetes version {0:?}: expected v<major>.<minor>.<patch>, e.g. v1.36.1")]
pub struct VersionError(pub String);

impl KubeVersion {
    /// Parses a version; a leading `v` is optional, build metadata after `+` is ignored.
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let raw = text.trim();
        let err = || VersionError(raw.to_string());
        let body = raw.strip_prefix('v').unwrap_or(raw);
        let body = body.split('+').next().unwrap_or(body);
        let (core, pre) = match body.split_once('-') {
            Some((core, pre)) => (core, pre),
            None => (body, ""),
        };
        let mut nums = core.split('.');
        let mut next = || -> Result<u64, VersionError> {
            nums.next()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .ok_or_else(err)
        };
        let (major, minor, patch) = (next()?, next()?, next()?);
        if nums.next().is_some() {
            return Err(err());
        }
        let pre: Vec<String> = if body.contains('-') {
            pre.split('.').map(str::to_string).collect()
        } else {
            Vec::new()
        };
        if pre.iter().any(|p| p.is_empty()) {
            return Err(err());
        }
        Ok(KubeVersion {
            major,
            minor,
            patch,
            pre,
            raw: raw.to_string(),
        })
    }

    /// The version exactly as written in the node (for `kubernetesVersion`).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Lenient comparison, for the gates kind itself applies to a node's version: kind parses
    /// the node's version with `version.ParseGeneric` (kind `pkg/cluster/internal/kubeadm/
    /// config.go`, `Config`), which compares numeric components only, so `v1.36.0-alpha.1`
    /// counts as 1.36.0 there.
    pub fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// Strict check against a gate written as a version, for behaviour that changed at a
    /// commit of Kubernetes itself: pre-releases sort below their release, so
    /// `v1.29.0-alpha.1` does not reach `v1.29.0`. A gate that does not parse is never reached
    /// (gates are constants, each checked by a test).
    pub fn reaches(&self, gate: &str) -> bool {
        match KubeVersion::parse(gate) {
            Ok(g) => self.semver_cmp(&g) != Ordering::Less,
            Err(_) => false,
        }
    }

    /// Strict semantic-version ordering including pre-release identifiers (build ignored).
    pub fn semver_cmp(&self, other: &KubeVersion) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| cmp_pre(&self.pre, &other.pre))
    }

    /// True when `self` sorts strictly before the version written in `other` (semver rules).
    pub fn is_before(&self, other: &str) -> bool {
        match KubeVersion::parse(other) {
            Ok(o) => self.semver_cmp(&o) == Ordering::Less,
            Err(_) => false,
        }
    }
}

fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater, // a release sorts after its pre-releases
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_and_prerelease() {
        let v = KubeVersion::parse("v1.37.0-rc.1\n").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 37, 0));
        assert_eq!(v.pre, vec!["rc", "1"]);
        assert_eq!(v.as_str(), "v1.37.0-rc.1");
        assert!(v.at_least(1, 37, 0));
        assert!(!v.at_least(1, 37, 1));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "v1", "v1.2", "1.2.x", "v1.2.3.4", "v1.2.3-", "latest"] {
            assert!(KubeVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prereleases_do_not_reach_their_release() {
        let v = |s: &str| KubeVersion::parse(s).unwrap();
        // Lenient (kind's own gates) versus strict (Kubernetes' commits).
        assert!(v("v1.29.0-alpha.1").at_least(1, 29, 0));
        assert!(!v("v1.29.0-alpha.1").reaches("v1.29.0"));
        assert!(!v("v1.29.0-rc.0").reaches("v1.29.0"));
        assert!(v("v1.29.0").reaches("v1.29.0"));
        assert!(v("v1.29.0").reaches("v1.29.0-rc.0"));
        assert!(v("v1.28.15").reaches("v1.28.0"));
        // Ordered by the pre-release identifiers, numerically where they are numbers.
        assert!(v("v1.29.0-alpha.3").reaches("v1.29.0-alpha.3"));
        assert!(!v("v1.29.0-alpha.2.150+0123abc").reaches("v1.29.0-alpha.3"));
        assert!(v("v1.29.0-alpha.10").reaches("v1.29.0-alpha.3"));
        assert!(!v("v1.29.0-alpha.3").reaches("v1.29.0-beta.0"));
        assert!(v("v1.29.0-rc.1").reaches("v1.29.0-beta.0"));
        assert!(!v("v1.28.99").reaches("v1.29.0-alpha.0"));
        // Build metadata is ignored; a malformed gate is never reached.
        assert!(v("v1.30.1+abc").reaches("v1.30.1"));
        assert!(!v("v1.30.1").reaches("latest"));
    }

    #[test]
    fn semver_order_matches_kinds_taint_thresholds() {
        let cut = "v1.24.0-alpha.1.592+370031cadac624";
        assert!(KubeVersion::parse("v1.23.9").unwrap().is_before(cut));
        assert!(
            KubeVersion::parse("v1.24.0-alpha.1.100")
                .unwrap()
                .is_before(cut)
        );
        assert!(
            !KubeVersion::parse("v1.24.0-alpha.1.592")
                .unwrap()
                .is_before(cut)
        );
        assert!(!KubeVersion::parse("v1.24.0-beta.0").unwrap().is_before(cut));
        assert!(!KubeVersion::parse("v1.24.0").unwrap().is_before(cut));
    }
}

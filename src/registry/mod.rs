//! Local registries and pull-through caches that clusters pull from (an addition to kind):
//! names, ports, labels and flag parsing (this file), the containerd `hosts.toml` files and
//! config patches nodes get (`hosts`), the KEP-1755 `local-registry-hosting` ConfigMap
//! (`hosting`) — all pure — and creating, finding and removing the containers (`manage`).

pub mod hosting;
pub mod hosts;
pub mod manage;

use std::collections::BTreeMap;

/// Container name of the local registry when `--registry` names none (kind's docs' name).
pub const DEFAULT_NAME: &str = "kind-registry";
/// Image of registries and caches when `--registry-image` is not given.
pub const DEFAULT_IMAGE: &str = "registry:2";
/// Host port the local registry is published on when it is free (kind's docs' port).
pub const DEFAULT_HOST_PORT: u16 = 5001;
/// Port the registry listens on inside its container.
pub const CONTAINER_PORT: u16 = 5000;
/// Host address registries are published on: loopback, which Docker treats as insecure (no
/// TLS needed for `docker push`).
pub const HOST_ADDRESS: &str = "127.0.0.1";
/// Where the registry image keeps its data.
pub const DATA_DIR: &str = "/var/lib/registry";
/// ctlptl's role label; `registry` makes ctlptl (and Tilt) list and adopt the container.
pub const CTLPTL_ROLE_LABEL: &str = "dev.tilt.ctlptl.role";
/// kindling's label on registry containers and cache volumes it made: `local` or `mirror`.
pub const ROLE_LABEL: &str = "io.x-k8s.kindling.registry";
/// The upstream URL a pull-through cache serves (on the cache container).
pub const UPSTREAM_LABEL: &str = "io.x-k8s.kindling.registry.upstream";
/// Prefix of pull-through cache container (and volume) names.
pub const MIRROR_PREFIX: &str = "kindling-mirror-";

/// Bad `--registry` / `--registry-mirror` values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry name cannot be a container name and an image reference host.
    #[error(
        "invalid registry name \"{0}\": use letters, digits, '-' and '.', starting and ending \
         with a letter or digit (the name is also the registry's host name in image references)"
    )]
    Name(String),
    /// The port is not a number from 1 to 65535.
    #[error("invalid registry port \"{0}\": expected a number from 1 to 65535")]
    Port(String),
    /// A mirror's upstream host is malformed.
    #[error(
        "invalid --registry-mirror \"{0}\": expected a registry host such as docker.io, ghcr.io, \
         registry.k8s.io or quay.io, or HOST=URL such as docker.io=https://mirror.example.com"
    )]
    Mirror(String),
    /// A mirror's upstream URL is malformed.
    #[error(
        "invalid --registry-mirror \"{0}\": the URL must be http:// or https:// followed by a \
         host and an optional port, without a path"
    )]
    MirrorUrl(String),
    /// Two mirrors for one host, or two hosts that map to the same cache name.
    #[error("--registry-mirror {0}")]
    Conflict(String),
}

/// `--registry[=NAME[:PORT]]`: the local registry to create or reuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRegistry {
    /// Container name, also its host name on the cluster network.
    pub name: String,
    /// Host port asked for; `None` means 5001, or a free port when 5001 is taken.
    pub port: Option<u16>,
}

impl Default for LocalRegistry {
    fn default() -> Self {
        LocalRegistry {
            name: DEFAULT_NAME.to_string(),
            port: None,
        }
    }
}

impl LocalRegistry {
    /// Parses `NAME`, `NAME:PORT` or `:PORT`; empty means the defaults.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let text = text.trim();
        let (name, port) = match text.rsplit_once(':') {
            Some((name, port)) => (name, Some(parse_port(port)?)),
            None => (text, None),
        };
        let name = if name.is_empty() { DEFAULT_NAME } else { name };
        if !valid_host_name(name) {
            return Err(RegistryError::Name(name.to_string()));
        }
        Ok(LocalRegistry {
            name: name.to_string(),
            port,
        })
    }

    /// `KINDLING_REGISTRY`: unset, empty, `0` or `false` mean off; `1` or `true` the defaults;
    /// anything else is `NAME[:PORT]`.
    pub fn from_env(value: Option<&str>) -> Result<Option<Self>, RegistryError> {
        match value.map(str::trim) {
            None | Some("" | "0" | "false") => Ok(None),
            Some("1" | "true") => Ok(Some(LocalRegistry::default())),
            Some(other) => LocalRegistry::parse(other).map(Some),
        }
    }
}

fn parse_port(text: &str) -> Result<u16, RegistryError> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(RegistryError::Port(text.to_string())),
    }
}

/// A DNS-style host name (letters, digits, `-`, `.`), as allowed in image references.
fn valid_host_name(name: &str) -> bool {
    let ok_ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    name.len() <= 128
        && ok_ends(name.chars().next())
        && ok_ends(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !name.contains("..")
}

/// `--registry-mirror`: a pull-through cache for one upstream registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// The registry host images are named by (`docker.io`, `ghcr.io`, `myhost:5000`): the
    /// `hosts.toml` namespace in the nodes.
    pub host: String,
    /// Where the cache fetches from (`https://registry-1.docker.io`); also the nodes' fallback.
    pub url: String,
    /// Whether the URL was given (`HOST=URL`): then credentials are looked up for the URL's
    /// host, otherwise for `host`.
    pub explicit_url: bool,
}

impl Mirror {
    /// Parses `HOST` (`docker.io` → `https://registry-1.docker.io`, others `https://HOST`) or
    /// `HOST=URL`.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        let text = text.trim();
        let bad = || RegistryError::Mirror(text.to_string());
        let (host, url) = match text.split_once('=') {
            Some((host, url)) => (host.trim(), Some(url.trim())),
            None => (text, None),
        };
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        };
        if !valid_host_name(name) || port.is_some_and(|p| parse_port(p).is_err()) {
            return Err(bad());
        }
        let host = host.to_ascii_lowercase();
        let Some(url) = url else {
            let url = if host == "docker.io" {
                "https://registry-1.docker.io".to_string()
            } else {
                format!("https://{host}")
            };
            return Ok(Mirror {
                host,
                url,
                explicit_url: false,
            });
        };
        let url = url.trim_end_matches('/');
        let authority = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| RegistryError::MirrorUrl(text.to_string()))?;
        let (url_name, url_port) = match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        if !valid_host_name(url_name) || url_port.is_some_and(|p| parse_port(p).is_err()) {
            return Err(RegistryError::MirrorUrl(text.to_string()));
        }
        Ok(Mirror {
            host,
            url: url.to_string(),
            explicit_url: true,
        })
    }

    /// The cache's container (and volume) name: `kindling-mirror-` and the host with every
    /// character other than a letter or digit replaced by `-` (`kindling-mirror-docker-io`).
    pub fn container_name(&self) -> String {
        let safe: String = self
            .host
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("{MIRROR_PREFIX}{safe}")
    }

    /// The registry host whose Docker credentials the cache uses.
    pub fn credentials_host(&self) -> String {
        if self.explicit_url {
            let authority = self
                .url
                .split_once("://")
                .map(|(_, a)| a)
                .unwrap_or(&self.url);
            authority.to_string()
        } else {
            self.host.clone()
        }
    }
}

/// Checks a list of mirrors: the same host twice with different URLs, or two hosts sharing a
/// cache name, is an error; exact repeats are dropped.
pub fn dedupe_mirrors(mirrors: Vec<Mirror>) -> Result<Vec<Mirror>, RegistryError> {
    let mut out: Vec<Mirror> = Vec::new();
    for m in mirrors {
        if let Some(prev) = out
            .iter()
            .find(|p| p.host == m.host || p.container_name() == m.container_name())
        {
            if prev == &m {
                continue;
            }
            return Err(RegistryError::Conflict(if prev.host == m.host {
                format!(
                    "{} is given twice with different upstreams ({} and {})",
                    m.host, prev.url, m.url
                )
            } else {
                format!(
                    "{} and {} would share the cache container {}; give only one of them",
                    prev.host,
                    m.host,
                    m.container_name()
                )
            }));
        }
        out.push(m);
    }
    Ok(out)
}

/// What the user asked for: a local registry, pull-through caches, and their image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--registry` / `KINDLING_REGISTRY`.
    pub local: Option<LocalRegistry>,
    /// `--registry-mirror` / `KINDLING_REGISTRY_MIRRORS` (deduplicated).
    pub mirrors: Vec<Mirror>,
    /// `--registry-image`.
    pub image: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            local: None,
            mirrors: Vec::new(),
            image: DEFAULT_IMAGE.to_string(),
        }
    }
}

impl Options {
    /// Whether anything is asked for.
    pub fn is_active(&self) -> bool {
        self.local.is_some() || !self.mirrors.is_empty()
    }
}

/// What an existing container is, as far as registries go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A registry to push to and pull from (kindling's, ctlptl's, kind's docs' script's).
    Local,
    /// A kindling pull-through cache of this upstream URL.
    Mirror(String),
}

/// Classifies a container by its labels and image: kindling's role label, ctlptl's role label,
/// or an image whose repository is named `registry` (`registry:2`, `docker.io/library/registry:3`,
/// `kindling/registry:…`), as made by kind's documented script. `None`: not a registry.
pub fn classify(labels: &BTreeMap<String, String>, image: &str) -> Option<Role> {
    match labels.get(ROLE_LABEL).map(String::as_str) {
        Some("mirror") => {
            return Some(Role::Mirror(
                labels.get(UPSTREAM_LABEL).cloned().unwrap_or_default(),
            ));
        }
        Some(_) => return Some(Role::Local),
        None => {}
    }
    if labels.get(CTLPTL_ROLE_LABEL).map(String::as_str) == Some("registry") {
        return Some(Role::Local);
    }
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    let repository = last.split(':').next().unwrap_or(last);
    (repository == "registry").then_some(Role::Local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_registry_values() {
        assert_eq!(LocalRegistry::parse("").unwrap(), LocalRegistry::default());
        assert_eq!(
            LocalRegistry::parse("my-reg:5002").unwrap(),
            LocalRegistry {
                name: "my-reg".into(),
                port: Some(5002)
            }
        );
        assert_eq!(
            LocalRegistry::parse(":5003").unwrap(),
            LocalRegistry {
                name: DEFAULT_NAME.into(),
                port: Some(5003)
            }
        );
        assert_eq!(LocalRegistry::parse("reg.local").unwrap().port, None);
        for bad in ["my_reg", "-reg", "reg-", "a..b", "UPPER CASE", "reg/x"] {
            assert!(
                matches!(LocalRegistry::parse(bad), Err(RegistryError::Name(_))),
                "{bad}"
            );
        }
        for bad in ["reg:0", "reg:65536", "reg:http", "reg:"] {
            let err = LocalRegistry::parse(bad).unwrap_err();
            assert!(matches!(err, RegistryError::Port(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn registry_environment_variable() {
        assert_eq!(LocalRegistry::from_env(None).unwrap(), None);
        for off in ["", "0", "false"] {
            assert_eq!(LocalRegistry::from_env(Some(off)).unwrap(), None, "{off}");
        }
        for on in ["1", "true"] {
            assert_eq!(
                LocalRegistry::from_env(Some(on)).unwrap(),
                Some(LocalRegistry::default())
            );
        }
        assert_eq!(
            LocalRegistry::from_env(Some("r:6000"))
                .unwrap()
                .unwrap()
                .port,
            Some(6000)
        );
        assert!(LocalRegistry::from_env(Some("r:x")).is_err());
    }

    #[test]
    fn mirror_values() {
        let hub = Mirror::parse("docker.io").unwrap();
        assert_eq!(hub.url, "https://registry-1.docker.io");
        assert_eq!(hub.container_name(), "kindling-mirror-docker-io");
        assert_eq!(hub.credentials_host(), "docker.io");
        let k8s = Mirror::parse("registry.k8s.io").unwrap();
        assert_eq!(k8s.url, "https://registry.k8s.io");
        assert_eq!(k8s.container_name(), "kindling-mirror-registry-k8s-io");
        let custom = Mirror::parse("upstream:5000=http://upstream:5000/").unwrap();
        assert_eq!(custom.host, "upstream:5000");
        assert_eq!(custom.url, "http://upstream:5000");
        assert_eq!(custom.container_name(), "kindling-mirror-upstream-5000");
        assert_eq!(custom.credentials_host(), "upstream:5000");
        let other = Mirror::parse("docker.io=https://mirror.example.com").unwrap();
        assert_eq!(other.credentials_host(), "mirror.example.com");
        for bad in ["", "=http://x", "docker.io/library", "host:0", "a_b.io"] {
            assert!(
                matches!(Mirror::parse(bad), Err(RegistryError::Mirror(_))),
                "{bad}"
            );
        }
        for bad in [
            "x.io=ftp://x",
            "x.io=https://",
            "x.io=https://x/path",
            "x.io=x.io",
        ] {
            assert!(
                matches!(Mirror::parse(bad), Err(RegistryError::MirrorUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn mirror_lists_are_checked() {
        let m = |s| Mirror::parse(s).unwrap();
        let list = dedupe_mirrors(vec![m("docker.io"), m("ghcr.io"), m("docker.io")]).unwrap();
        assert_eq!(list.len(), 2);
        let err = dedupe_mirrors(vec![m("docker.io"), m("docker.io=https://x.io")]).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        let err = dedupe_mirrors(vec![m("a.io"), m("a-io")]).unwrap_err();
        assert!(err.to_string().contains("kindling-mirror-a-io"), "{err}");
    }

    #[test]
    fn registries_are_recognised() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let none = labels(&[]);
        assert_eq!(classify(&none, "registry:2"), Some(Role::Local));
        assert_eq!(
            classify(&none, "docker.io/library/registry:3"),
            Some(Role::Local)
        );
        assert_eq!(
            classify(&none, "kindling/registry:abc@sha256:00"),
            Some(Role::Local)
        );
        assert_eq!(classify(&none, "nginx:1"), None);
        assert_eq!(classify(&none, "registry.example.com/app:1"), None);
        assert_eq!(
            classify(&labels(&[(CTLPTL_ROLE_LABEL, "registry")]), "custom:1"),
            Some(Role::Local)
        );
        assert_eq!(
            classify(
                &labels(&[(ROLE_LABEL, "mirror"), (UPSTREAM_LABEL, "https://quay.io")]),
                "registry:2"
            ),
            Some(Role::Mirror("https://quay.io".into()))
        );
    }
}

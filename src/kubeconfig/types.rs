//! The kubeconfig model: only the fields kindling reads or changes are typed; everything else
//! is kept verbatim in `other` maps so a read-modify-write never loses data.

use super::{KubeconfigError, ParseError};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Fields kindling does not interpret, kept for writing back.
pub type OtherFields = BTreeMap<String, Value>;

/// A kubeconfig file (`apiVersion: v1`, `kind: Config`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    /// Named clusters (server and CA).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub clusters: Vec<NamedCluster>,
    /// Named users (credentials).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub users: Vec<NamedUser>,
    /// Named contexts (cluster + user pairs).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub contexts: Vec<NamedContext>,
    /// The context kubectl uses by default; empty means none (omitted in output).
    #[serde(
        rename = "current-context",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub current_context: String,
    /// Every other top-level field (`apiVersion`, `kind`, `preferences`, `extensions`, ...).
    #[serde(flatten)]
    pub other: OtherFields,
}

/// A cluster entry under `clusters:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    /// The entry's name, e.g. `kind-kind`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The cluster itself.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: Cluster,
    /// Fields beside `name` and `cluster`, if any tool wrote some.
    #[serde(flatten)]
    pub other: OtherFields,
}

/// How to reach a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// API server URL, e.g. `https://127.0.0.1:41234`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub server: String,
    /// `certificate-authority-data`, `tls-server-name`, `proxy-url`, `extensions`, ...
    #[serde(flatten)]
    pub other: OtherFields,
}

/// A user entry under `users:`; the credentials are kept as an opaque map.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    /// The entry's name, e.g. `kind-kind`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The whole credentials map (client certificate, token, exec plugin, ...).
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: OtherFields,
    /// Fields beside `name` and `user`, if any tool wrote some.
    #[serde(flatten)]
    pub other: OtherFields,
}

/// A context entry under `contexts:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    /// The entry's name, e.g. `kind-kind`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The context itself.
    #[serde(default, deserialize_with = "null_as_default")]
    pub context: Context,
    /// Fields beside `name` and `context`, if any tool wrote some.
    #[serde(flatten)]
    pub other: OtherFields,
}

/// A (cluster, user) pair; `cluster` and `user` are always written, as kubectl does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// Name of a `clusters` entry.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: String,
    /// Name of a `users` entry.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: String,
    /// `namespace`, `extensions`, ...
    #[serde(flatten)]
    pub other: OtherFields,
}

/// kubectl writes `clusters: null` for empty lists; read explicit nulls as "empty".
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Kubeconfig {
    /// Parses kubeconfig text; an empty text (or only comments) is an empty config.
    pub fn from_yaml(text: &str) -> Result<Kubeconfig, ParseError> {
        let mut docs = crate::yaml::documents(text)?;
        match docs.len() {
            0 => Ok(Kubeconfig::default()),
            1 => Ok(serde_json::from_value(docs.remove(0))?),
            n => Err(ParseError::Documents(n)),
        }
    }

    /// Parses a kubeconfig file's bytes: UTF-8 (a byte order mark is fine) or UTF-16 with a byte
    /// order mark, as kubectl reads them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Kubeconfig, ParseError> {
        Self::from_yaml(&crate::yaml::decode_bytes(bytes)?)
    }

    /// Encodes as YAML with keys sorted at every level, like kind's normalised output; an empty
    /// config is the empty string (kind writes an empty file rather than `{}`).
    pub fn to_yaml(&self) -> Result<String, KubeconfigError> {
        self.encode().map_err(|source| KubeconfigError::Encode {
            for_file: String::new(),
            source,
        })
    }

    /// `to_yaml` without the error wrapping, so file writers can name their file.
    pub(super) fn encode(&self) -> Result<String, ParseError> {
        // Going through serde_json::Value sorts every map (its maps are BTreeMaps), including
        // the flattened unknown fields, which serializing the structs directly would not do.
        let value = serde_json::to_value(self)?;
        if value.as_object().is_some_and(|map| map.is_empty()) {
            return Ok(String::new());
        }
        Ok(crate::yaml::to_string(&value)?)
    }
}

/// Builds the `kind-<cluster>` kubeconfig from kubeadm's admin.conf: exactly one cluster, user
/// and context (else kind's error), all renamed `kind-<cluster>`, the context pointing at them,
/// `current-context` set, and the server URL replaced when `server` is given.
pub fn kind_kubeconfig(
    admin_conf: &str,
    cluster_name: &str,
    server: Option<&str>,
) -> Result<Kubeconfig, KubeconfigError> {
    let mut config =
        Kubeconfig::from_yaml(admin_conf).map_err(|source| KubeconfigError::Parse {
            what: "kubeadm's admin.conf".into(),
            source,
        })?;
    check_single(&config)?;
    let key = crate::cluster::context_name(cluster_name);
    config.clusters[0].name.clone_from(&key);
    config.users[0].name.clone_from(&key);
    let context = &mut config.contexts[0];
    context.name.clone_from(&key);
    context.context.cluster.clone_from(&key);
    context.context.user.clone_from(&key);
    config.current_context = key;
    if let Some(server) = server {
        config.clusters[0].cluster.server = server.to_string();
    }
    Ok(config)
}

/// kind's check that a kubeadm (or kind) kubeconfig has exactly one cluster, user and context.
pub(super) fn check_single(config: &Kubeconfig) -> Result<(), KubeconfigError> {
    for (what, count) in [
        ("cluster", config.clusters.len()),
        ("user", config.users.len()),
        ("context", config.contexts.len()),
    ] {
        if count != 1 {
            return Err(KubeconfigError::NotSingle { what, count });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN_CONF: &str = include_str!("../../tests/fixtures/kubeconfig/admin.conf");

    fn value(yaml: &str) -> Value {
        let mut docs = crate::yaml::documents(yaml).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn kind_entry_renames_everything_and_keeps_credentials() {
        let cfg = kind_kubeconfig(ADMIN_CONF, "dev", Some("https://127.0.0.1:41234")).unwrap();
        let original = value(ADMIN_CONF);
        assert_eq!(cfg.clusters.len(), 1);
        assert_eq!(cfg.clusters[0].name, "kind-dev");
        assert_eq!(cfg.clusters[0].cluster.server, "https://127.0.0.1:41234");
        assert_eq!(
            cfg.clusters[0].cluster.other["certificate-authority-data"],
            original["clusters"][0]["cluster"]["certificate-authority-data"]
        );
        assert_eq!(cfg.users[0].name, "kind-dev");
        // The whole user map is carried through untouched.
        assert_eq!(
            serde_json::to_value(&cfg.users[0].user).unwrap(),
            original["users"][0]["user"]
        );
        assert_eq!(cfg.contexts[0].name, "kind-dev");
        assert_eq!(cfg.contexts[0].context.cluster, "kind-dev");
        assert_eq!(cfg.contexts[0].context.user, "kind-dev");
        assert_eq!(cfg.current_context, "kind-dev");
        // Top-level extras (apiVersion, kind, preferences) survive.
        assert_eq!(cfg.other["apiVersion"], "v1");
        assert_eq!(cfg.other["kind"], "Config");
        assert_eq!(cfg.other["preferences"], serde_json::json!({}));
    }

    #[test]
    fn internal_kind_entry_keeps_kubeadms_server() {
        let cfg = kind_kubeconfig(ADMIN_CONF, "dev", None).unwrap();
        let original = value(ADMIN_CONF);
        assert_eq!(
            cfg.clusters[0].cluster.server,
            original["clusters"][0]["cluster"]["server"]
                .as_str()
                .unwrap()
        );
    }

    #[test]
    fn admin_conf_must_have_exactly_one_of_each() {
        let cases = [
            ("", "kubeadm KUBECONFIG should have one cluster, but read 0"),
            (
                "clusters: [{name: a}, {name: b}]\nusers: [{name: u}]\ncontexts: [{name: c}]\n",
                "kubeadm KUBECONFIG should have one cluster, but read 2",
            ),
            (
                "clusters: [{name: a}]\ncontexts: [{name: c}]\n",
                "kubeadm KUBECONFIG should have one user, but read 0",
            ),
            (
                "clusters: [{name: a}]\nusers: [{name: u}]\ncontexts: []\n",
                "kubeadm KUBECONFIG should have one context, but read 0",
            ),
        ];
        for (text, message) in cases {
            let err = kind_kubeconfig(text, "kind", None).unwrap_err();
            assert_eq!(err.to_string(), message, "input {text:?}");
        }
    }

    #[test]
    fn admin_conf_that_is_not_yaml_is_reported_as_admin_conf() {
        let err = kind_kubeconfig("clusters: [\n", "kind", None).unwrap_err();
        assert!(matches!(err, KubeconfigError::Parse { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "kubeadm's admin.conf is not a valid kubeconfig"
        );
    }

    #[test]
    fn parse_accepts_empty_and_null_lists() {
        assert_eq!(Kubeconfig::from_yaml("").unwrap(), Kubeconfig::default());
        assert_eq!(
            Kubeconfig::from_yaml("# only a comment\n").unwrap(),
            Kubeconfig::default()
        );
        let cfg = Kubeconfig::from_yaml(
            "apiVersion: v1\nclusters: null\ncontexts: null\nusers: null\ncurrent-context: \"\"\n",
        )
        .unwrap();
        assert!(cfg.clusters.is_empty() && cfg.users.is_empty() && cfg.contexts.is_empty());
        assert_eq!(cfg.other.len(), 1);
    }

    #[test]
    fn parse_rejects_wrong_shapes_and_several_documents() {
        assert!(matches!(
            Kubeconfig::from_yaml("clusters: a-string\n"),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            Kubeconfig::from_yaml("- a\n- b\n"),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(
            Kubeconfig::from_yaml("a: 1\n---\nb: 2\n"),
            Err(ParseError::Documents(2))
        ));
        assert!(matches!(
            Kubeconfig::from_yaml("a: [\n"),
            Err(ParseError::Yaml(_))
        ));
    }

    #[test]
    fn empty_config_encodes_as_empty_text() {
        assert_eq!(Kubeconfig::default().to_yaml().unwrap(), "");
    }

    #[test]
    fn unknown_fields_survive_a_round_trip_at_every_level() {
        let text = "\
apiVersion: v1
kind: Config
preferences: {colors: true}
extensions:
- name: top
  extension: {a: 1}
clusters:
- name: c
  cluster:
    server: https://s:6443
    proxy-url: http://proxy:3128
    tls-server-name: api.example
  extra-named-field: x
contexts:
- name: ctx
  context:
    cluster: c
    user: u
    namespace: team
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      args: [--cluster, c]
current-context: ctx
";
        let cfg = Kubeconfig::from_yaml(text).unwrap();
        assert_eq!(
            cfg.clusters[0].cluster.other["proxy-url"],
            "http://proxy:3128"
        );
        assert_eq!(cfg.contexts[0].context.other["namespace"], "team");
        assert!(cfg.other.contains_key("extensions"));
        let round_tripped = value(&cfg.to_yaml().unwrap());
        assert_eq!(round_tripped, value(text));
    }

    #[test]
    fn output_is_sorted_and_kubectl_shaped() {
        // Keys sorted at every level (name after cluster, apiVersion first, users last) and list
        // items at the parent's indentation, as sigs.k8s.io/yaml writes them.
        let cfg = Kubeconfig::from_yaml(
            "users: [{user: {token: t}, name: u}]\nkind: Config\n\
             clusters: [{name: c, cluster: {server: 'https://s', insecure-skip-tls-verify: true}}]\n\
             current-context: x\napiVersion: v1\n",
        )
        .unwrap();
        let expected = "\
apiVersion: v1
clusters:
- cluster:
    insecure-skip-tls-verify: true
    server: https://s
  name: c
current-context: x
kind: Config
users:
- name: u
  user:
    token: t
";
        assert_eq!(cfg.to_yaml().unwrap(), expected);
    }

    #[test]
    fn context_always_writes_cluster_and_user() {
        let cfg = Kubeconfig {
            contexts: vec![NamedContext {
                name: "c".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let out = value(&cfg.to_yaml().unwrap());
        assert_eq!(out["contexts"][0]["context"]["cluster"], "");
        assert_eq!(out["contexts"][0]["context"]["user"], "");
    }
}

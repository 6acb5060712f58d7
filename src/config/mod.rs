//! The cluster config API `kind.x-k8s.io/v1alpha4`: strict decoding, kind's defaults and
//! validation. Pure: no Docker, no environment (callers pass stdin text or a file's contents).
//!
//! The create flow uses it as kind does: [`parse`] (or [`default_config`] without `--config`),
//! then the `--name` and [`Cluster::image_override`] overrides, then [`Cluster::apply_defaults`],
//! then [`Cluster::validate`].

mod defaults;
mod types;
mod validate;

pub use defaults::default_config;
pub use types::*;
pub use validate::{Cidr, MAX_CLUSTER_NAME_LEN, ValidationErrors, check_cluster_name};

use crate::yaml::{self, YamlError};
use serde::Deserialize;

/// Why a config text could not be read as a `kind.x-k8s.io/v1alpha4` `Cluster`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid YAML (or not a mapping), so `kind`/`apiVersion` cannot be read.
    #[error("could not determine kind / apiVersion for config: {}", clip_message(.0))]
    Syntax(YamlError),
    /// The document holds nothing (empty, or only comments).
    #[error("config is empty: it must set at least `apiVersion: {API_VERSION}` and `kind: {KIND}`")]
    Empty,
    /// The document has no `apiVersion`.
    #[error("unknown apiVersion: (none); the config must set `apiVersion: {API_VERSION}`")]
    MissingApiVersion,
    /// `apiVersion` is not `kind.x-k8s.io/v1alpha4`.
    #[error("unknown apiVersion: {}", crate::input::clip(.0))]
    UnknownApiVersion(String),
    /// `kind` is not `Cluster` (empty when the document has no `kind`).
    #[error(
        "unknown kind {} for apiVersion: {api_version}",
        crate::input::clip(kind)
    )]
    UnknownKind {
        /// The `kind` as written.
        kind: String,
        /// The (valid) `apiVersion`.
        api_version: String,
    },
    /// Strict decoding failed: unknown field, wrong type, bad propagation or protocol.
    #[error("unable to decode config: {}", clip_message(.0))]
    Decode(YamlError),
}

/// A parser message as shown: parsers quote the offending value, which may be huge.
fn clip_message(err: &YamlError) -> String {
    crate::input::clip_to(&err.to_string(), 400)
}

impl ConfigError {
    /// 1-based line and column of the problem in the config text, when it is about a position.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            ConfigError::Syntax(e) | ConfigError::Decode(e) => e.location,
            _ => None,
        }
    }
}

/// Only the type fields, read loosely (other keys ignored) before the strict decode, as kind does.
#[derive(Deserialize)]
struct TypeMeta {
    #[serde(default)]
    kind: String,
    #[serde(default, rename = "apiVersion")]
    api_version: String,
}

/// Decodes a config file as kind does (its bytes: UTF-8, or UTF-16 with a byte order mark):
/// checks `apiVersion`/`kind` in a loose first pass, then decodes strictly (unknown fields and
/// duplicate keys are errors). Returns the config as written (protocols upper-cased); no defaults
/// are applied. Like kind, only the first YAML document of a stream is read. The YAML semantics
/// (null is unset, YAML 1.1 numbers, merge keys, tags) are go-yaml v3's, see [`crate::yaml`].
pub fn parse(bytes: impl AsRef<[u8]>) -> Result<Cluster, ConfigError> {
    let text = yaml::decode_bytes(bytes.as_ref()).map_err(ConfigError::Syntax)?;
    let meta: Option<TypeMeta> = yaml::from_str(&text).map_err(ConfigError::Syntax)?;
    let meta = meta.ok_or(ConfigError::Empty)?;
    if meta.api_version.is_empty() {
        return Err(ConfigError::MissingApiVersion);
    }
    if meta.api_version != API_VERSION {
        return Err(ConfigError::UnknownApiVersion(meta.api_version));
    }
    if meta.kind != KIND {
        return Err(ConfigError::UnknownKind {
            kind: meta.kind,
            api_version: meta.api_version,
        });
    }
    yaml::from_str(&text).map_err(ConfigError::Decode)
}

#[cfg(test)]
mod tests;

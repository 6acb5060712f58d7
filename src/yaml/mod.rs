//! The only place that reads and writes YAML, with the semantics of the Go programs that read
//! kindling's files and write the files kindling reads:
//!
//! - [`from_str`] decodes a typed document as kind decodes its config (go-yaml v3 into Go
//!   structs: null is unset at every level, duplicate keys are errors, YAML 1.1 numbers);
//! - [`documents`] and [`value`] turn YAML into JSON as sigs.k8s.io/yaml does over go-yaml v2
//!   (client-go reading a kubeconfig, kubeadm its config, kind its kubeadm patches);
//! - [`to_string`] writes YAML that go-yaml v2 and v3, YAML 1.1 and YAML 1.2 readers all read
//!   back unchanged (ambiguous strings are quoted);
//! - [`decode_bytes`] turns a file's bytes into text as go-yaml's reader does (UTF-8 or UTF-16
//!   with a byte order mark).
//!
//! Parsing is done by the `saphyr-parser` event parser (in `node.rs`, the only file naming it);
//! everything after the events (resolution of scalars, decoding, writing) is kindling's own,
//! so the parser can be swapped without touching callers.

mod de;
mod emit;
mod json;
mod node;
mod resolve;
mod ser;
mod text;

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::fmt;

/// A YAML syntax or decoding error, with the position it refers to when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What went wrong, without the position.
    pub message: String,
    /// 1-based line and column of the problem, when it concerns a position.
    pub location: Option<(usize, usize)>,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for YamlError {}

/// Decodes the first document of `text` into `T` as kind's config decoder (go-yaml v3) fills Go
/// structs. An empty stream decodes as null. Unknown fields are errors when `T` denies them
/// (`#[serde(deny_unknown_fields)]`); later documents are not read.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let stream = node::parse(text, true)?;
    let empty = node::Node::empty();
    let root = stream.documents.first().map_or(&empty, |r| &**r);
    let budget = de::Budget::new(stream.nodes);
    T::deserialize(de::De::root(root, &budget)).map_err(de::Error::into_yaml)
}

/// Every document of a stream as JSON, read as sigs.k8s.io/yaml reads YAML (go-yaml v2, YAML 1.1
/// scalars). Empty and null documents are skipped.
pub fn documents(text: &str) -> Result<Vec<serde_json::Value>, YamlError> {
    let stream = node::parse(text, false)?;
    let budget = de::Budget::new(stream.nodes);
    let mut out = Vec::with_capacity(stream.documents.len());
    for doc in &stream.documents {
        let value = json::value(doc, &budget)?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// The first document as JSON (null when there is none), read like [`documents`].
pub fn value(text: &str) -> Result<serde_json::Value, YamlError> {
    let stream = node::parse(text, true)?;
    let budget = de::Budget::new(stream.nodes);
    match stream.documents.first() {
        Some(doc) => json::value(doc, &budget),
        None => Ok(serde_json::Value::Null),
    }
}

/// Encodes `value` as one YAML document (no leading `---`) that reads back unchanged under
/// go-yaml v2 and v3, YAML 1.1 and YAML 1.2.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, YamlError> {
    let tree = ser::to_tree(value)?;
    Ok(emit::document(&tree)?)
}

/// A YAML file's text from its bytes, as go-yaml's reader decodes them: a UTF-16 byte order mark
/// selects UTF-16, a UTF-8 one is dropped, anything else must be UTF-8.
pub fn decode_bytes(bytes: &[u8]) -> Result<Cow<'_, str>, YamlError> {
    text::decode(bytes)
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
pub(crate) mod trouble;

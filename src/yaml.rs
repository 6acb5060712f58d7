//! The only place that calls the YAML crate, so it can be swapped without touching callers.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// A YAML syntax or decoding error, with the position it refers to when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What went wrong, without the position.
    pub message: String,
    /// 1-based line and column of the problem, when the parser reports one.
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

impl From<serde_yaml::Error> for YamlError {
    fn from(err: serde_yaml::Error) -> Self {
        let location = err.location().map(|l| (l.line(), l.column()));
        // serde_yaml appends " at line X column Y" to its message; keep the position only once.
        let mut message = err.to_string();
        if let Some(idx) = message.find(" at line ") {
            message.truncate(idx);
        }
        YamlError { message, location }
    }
}

/// Decodes one YAML document into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_yaml::from_str(text).map_err(YamlError::from)
}

/// Decodes every document of a multi-document YAML stream (`---` separated) into JSON values.
/// Empty documents are skipped.
pub fn documents(text: &str) -> Result<Vec<serde_json::Value>, YamlError> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = serde_json::Value::deserialize_yaml(doc)?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// Encodes `value` as one YAML document (no leading `---`).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, YamlError> {
    serde_yaml::to_string(value).map_err(YamlError::from)
}

/// Helper so `documents` can decode through serde without naming the YAML crate's types.
trait DeserializeYaml: Sized {
    fn deserialize_yaml(doc: serde_yaml::Deserializer<'_>) -> Result<Self, serde_yaml::Error>;
}

impl DeserializeYaml for serde_json::Value {
    fn deserialize_yaml(doc: serde_yaml::Deserializer<'_>) -> Result<Self, serde_yaml::Error> {
        serde::Deserialize::deserialize(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_line_and_column() {
        let err = from_str::<serde_json::Value>("a: 1\n b: 2\n").unwrap_err();
        assert!(err.location.is_some(), "{err:?}");
        assert!(!err.message.contains(" at line "), "{err:?}");
    }

    #[test]
    fn splits_documents_and_skips_empty_ones() {
        let docs = documents("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["b"], 2);
    }
}

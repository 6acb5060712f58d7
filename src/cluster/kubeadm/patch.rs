//! kind's patch semantics for kubeadm documents: RFC 7386 merge patches matched by
//! kind/apiVersion with kind's special merges (certSANs union, v1beta4 extraArgs by name),
//! then RFC 6902 patches matched by kind and group/version.

use super::{KubeadmError, PatchLevel};
use crate::config::PatchJson6902;
use serde_json::{Map, Value};

/// A parsed merge-patch document and the type it targets.
struct MergePatch {
    kind: String,
    api_version: String,
    body: Value,
}

/// A parsed RFC 6902 patch and the type it targets.
struct JsonPatch {
    index: usize,
    kind: String,
    api_version: String,
    ops: json_patch::Patch,
}

/// Applies one level of patches (all merge patches, then all JSON 6902 patches) to `docs`.
/// Every patch is parsed before any is applied; non-matching patches are ignored.
pub(crate) fn apply_level(
    docs: &mut [Value],
    level: &PatchLevel,
    merge_patches: &[String],
    json6902_patches: &[PatchJson6902],
) -> Result<(), KubeadmError> {
    let merges = parse_merge_patches(level, merge_patches)?;
    let jsons = json6902_patches
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let invalid = |message: String| KubeadmError::Json6902Invalid {
                level: level.clone(),
                index,
                message,
            };
            Ok(JsonPatch {
                index,
                kind: p.kind.clone(),
                api_version: group_version(&p.group, &p.version),
                ops: parse_json6902(&p.patch).map_err(invalid)?,
            })
        })
        .collect::<Result<Vec<_>, KubeadmError>>()?;

    for doc in docs.iter_mut() {
        // Like kind, a document is matched on its type as it was before this level's patches.
        let (kind, api_version) = type_meta(doc);
        for p in &merges {
            if matches(&kind, &api_version, &p.kind, &p.api_version) {
                apply_merge(doc, &api_version, &p.body, &p.api_version);
            }
        }
        for p in &jsons {
            if matches(&kind, &api_version, &p.kind, &p.api_version) {
                json_patch::patch(doc, &p.ops).map_err(|source| KubeadmError::Json6902Apply {
                    level: level.clone(),
                    index: p.index,
                    kind: kind.clone(),
                    source,
                })?;
            }
        }
    }
    Ok(())
}

/// Parses an RFC 6902 patch written as YAML or JSON, read as kind reads it (sigs.k8s.io/yaml:
/// YAML 1.1 scalars, so `value: on` is `true`).
pub(crate) fn parse_json6902(text: &str) -> Result<json_patch::Patch, String> {
    let value: Value = crate::yaml::value(text).map_err(|e| e.to_string())?;
    serde_json::from_value(value)
        .map_err(|e| format!("not a list of RFC 6902 operations (op, path, value/from): {e}"))
}

/// `group/version`, or just `version` for the core group, as kind compares it.
fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn parse_merge_patches(
    level: &PatchLevel,
    patches: &[String],
) -> Result<Vec<MergePatch>, KubeadmError> {
    let mut out = Vec::new();
    for (index, text) in patches.iter().enumerate() {
        let invalid = |message: String| KubeadmError::MergePatchInvalid {
            level: level.clone(),
            index,
            message,
        };
        let docs = crate::yaml::documents(text).map_err(|e| invalid(e.to_string()))?;
        for (n, body) in docs.into_iter().enumerate() {
            if !body.is_object() {
                return Err(invalid(format!(
                    "document {} is not a YAML mapping with kind and apiVersion",
                    n + 1
                )));
            }
            let field = |name: &str| -> Result<String, KubeadmError> {
                match body.get(name) {
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(invalid(format!(
                        "document {}: {name} must be a string, found {other}",
                        n + 1
                    ))),
                }
            };
            out.push(MergePatch {
                kind: field("kind")?,
                api_version: field("apiVersion")?,
                body,
            });
        }
    }
    Ok(out)
}

fn type_meta(doc: &Value) -> (String, String) {
    let field = |name: &str| {
        doc.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (field("kind"), field("apiVersion"))
}

/// kind's rule: kind must be equal; an empty patch apiVersion matches any version.
fn matches(doc_kind: &str, doc_api: &str, patch_kind: &str, patch_api: &str) -> bool {
    doc_kind == patch_kind && (patch_api.is_empty() || doc_api == patch_api)
}

/// kind's merge: special keys are merged into the target and removed from the patch, then
/// the rest is an ordinary RFC 7386 merge patch.
pub(crate) fn apply_merge(doc: &mut Value, doc_api: &str, patch: &Value, patch_api: &str) {
    let mut patch = patch.clone();
    if let (Some(target), Some(body)) = (doc.as_object_mut(), patch.as_object_mut()) {
        let v1beta4 = doc_api.ends_with("v1beta4");
        merge_special(target, body, v1beta4, patch_api.is_empty());
    }
    json_patch::merge(doc, &patch);
}

/// Walks the patch: unions `certSANs` lists anywhere; for v1beta4 targets merges
/// `extraArgs`/`kubeletExtraArgs` by name. Handled keys are removed from the patch.
fn merge_special(
    target: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    v1beta4: bool,
    patch_has_no_api_version: bool,
) {
    let keys: Vec<String> = patch.keys().cloned().collect();
    for key in keys {
        if key == "extraArgs" || key == "kubeletExtraArgs" {
            // Before v1beta4 these are maps and the ordinary merge is right.
            if v1beta4 && let Some(value) = patch.remove(&key) {
                merge_extra_args(target, &key, value, patch_has_no_api_version);
            }
            continue;
        }
        if key == "certSANs" {
            if let Some(value) = patch.remove(&key) {
                union_cert_sans(target, &key, value);
            }
            continue;
        }
        if let Some(Value::Object(patch_child)) = patch.get_mut(&key) {
            let target_child = target
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(target_child) = target_child {
                merge_special(target_child, patch_child, v1beta4, patch_has_no_api_version);
            }
        }
    }
}

/// Merges v1beta4 `- name/value` args by name: a value replaces, null deletes, a new name is
/// appended. A map-style (pre-v1beta4) patch is converted only when it has no apiVersion;
/// otherwise it is dropped, as kind does. An untouched absent/null target stays null.
fn merge_extra_args(
    target: &mut Map<String, Value>,
    key: &str,
    patch_value: Value,
    patch_has_no_api_version: bool,
) {
    let patch_items = match patch_value {
        Value::Array(items) => items,
        Value::Object(map) if patch_has_no_api_version => map_to_args(map).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut items = match target.remove(key) {
        Some(Value::Array(items)) => Some(items),
        Some(Value::Object(map)) => map_to_args(map),
        _ => None,
    };
    for item in patch_items {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            continue;
        };
        let value = item.get("value").cloned().unwrap_or(Value::Null);
        let found = items.as_ref().and_then(|list| {
            list.iter()
                .position(|t| t.get("name").and_then(Value::as_str) == Some(name))
        });
        match (found, value.is_null()) {
            (Some(i), true) => {
                if let Some(list) = items.as_mut() {
                    list.remove(i);
                }
            }
            (Some(i), false) => {
                if let Some(Value::Object(existing)) = items.as_mut().and_then(|l| l.get_mut(i)) {
                    existing.insert("value".to_string(), value);
                }
            }
            (None, false) => items.get_or_insert_with(Vec::new).push(serde_json::json!({
                "name": name,
                "value": value,
            })),
            (None, true) => {}
        }
    }
    target.insert(key.to_string(), items.map_or(Value::Null, Value::Array));
}

/// `{a: x, b: y}` → `[{name: a, value: x}, {name: b, value: y}]` in key order (kind uses Go
/// map order, which is random). An empty map gives `None`, like Go's nil slice.
fn map_to_args(map: Map<String, Value>) -> Option<Vec<Value>> {
    if map.is_empty() {
        return None;
    }
    Some(
        map.into_iter()
            .map(|(name, value)| serde_json::json!({ "name": name, "value": value }))
            .collect(),
    )
}

/// Appends the patch's SANs that the target list does not have yet.
fn union_cert_sans(target: &mut Map<String, Value>, key: &str, patch_value: Value) {
    let mut list = match target.remove(key) {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    };
    if let Value::Array(additions) = patch_value {
        for san in additions {
            let have = list.as_ref().is_some_and(|l| l.contains(&san));
            if !have {
                list.get_or_insert_with(Vec::new).push(san);
            }
        }
    }
    target.insert(key.to_string(), list.map_or(Value::Null, Value::Array));
}

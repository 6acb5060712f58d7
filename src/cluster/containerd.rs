//! Patching a node's `/etc/containerd/config.toml` with `containerdConfigPatches` (TOML merge
//! patches, skipped when they declare another config `version`) and
//! `containerdConfigPatchesJSON6902` (RFC 6902 against the config's JSON form). Pure.

use serde_json::Value as Json;
use toml::Value as Toml;

/// Why the containerd config could not be patched.
#[derive(Debug, thiserror::Error)]
pub enum ContainerdPatchError {
    /// The node's config is not TOML.
    #[error("the node's containerd config is not valid TOML: {0}")]
    Config(String),
    /// The node's config has no usable top-level `version`.
    #[error(
        "failed to detect containerd config version: the node's config needs a non-zero \
         top-level integer `version`"
    )]
    UnknownVersion,
    /// A `containerdConfigPatches` entry is not TOML (or its `version` is not an integer).
    #[error("containerdConfigPatches[{index}] is invalid: {message}")]
    MergePatch {
        /// Index in the patch list.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A `containerdConfigPatchesJSON6902` entry is not a list of RFC 6902 operations.
    #[error("containerdConfigPatchesJSON6902[{index}] is invalid: {message}")]
    Json6902Invalid {
        /// Index in the patch list.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A `containerdConfigPatchesJSON6902` operation failed.
    #[error("failed to apply containerdConfigPatchesJSON6902[{index}]: {source}")]
    Json6902Apply {
        /// Index in the patch list.
        index: usize,
        /// The failing operation.
        #[source]
        source: json_patch::PatchError,
    },
    /// The patched config cannot be written back as TOML (for example a null value).
    #[error("the patched containerd config cannot be written as TOML: {0}")]
    Encode(String),
}

/// Applies kind's containerd patch rules to `config_toml` and returns the new TOML text.
pub fn patch_config(
    config_toml: &str,
    merge_patches: &[String],
    json6902_patches: &[String],
) -> Result<String, ContainerdPatchError> {
    let config: toml::Table =
        toml::from_str(config_toml).map_err(|e| ContainerdPatchError::Config(e.to_string()))?;
    let version = match config_version(&config) {
        Ok(Some(v)) if v != 0 => v,
        _ => return Err(ContainerdPatchError::UnknownVersion),
    };
    let mut json = table_to_json(config).map_err(ContainerdPatchError::Config)?;

    for (index, text) in merge_patches.iter().enumerate() {
        let invalid = |message: String| ContainerdPatchError::MergePatch { index, message };
        let patch: toml::Table = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        match config_version(&patch).map_err(invalid)? {
            // A patch written for another config schema would corrupt this one.
            Some(v) if v != 0 && v != version => continue,
            _ => {}
        }
        json_patch::merge(&mut json, &table_to_json(patch).map_err(invalid)?);
    }

    for (index, text) in json6902_patches.iter().enumerate() {
        let ops = crate::cluster::kubeadm::patch::parse_json6902(text)
            .map_err(|message| ContainerdPatchError::Json6902Invalid { index, message })?;
        json_patch::patch(&mut json, &ops)
            .map_err(|source| ContainerdPatchError::Json6902Apply { index, source })?;
    }

    let Toml::Table(table) = json_to_toml(&json).map_err(ContainerdPatchError::Encode)? else {
        return Err(ContainerdPatchError::Encode(
            "the document root is no longer a table".to_string(),
        ));
    };
    toml::to_string(&table).map_err(|e| ContainerdPatchError::Encode(e.to_string()))
}

/// The top-level `version` (`None` when absent).
fn config_version(table: &toml::Table) -> Result<Option<i64>, String> {
    match table.get("version") {
        None => Ok(None),
        Some(Toml::Integer(v)) => Ok(Some(*v)),
        Some(other) => Err(format!("`version` must be an integer, found {other}")),
    }
}

fn table_to_json(table: toml::Table) -> Result<Json, String> {
    toml_to_json(Toml::Table(table))
}

fn toml_to_json(value: Toml) -> Result<Json, String> {
    Ok(match value {
        Toml::String(s) => Json::String(s),
        Toml::Integer(i) => Json::from(i),
        Toml::Float(f) => serde_json::Number::from_f64(f)
            .map(Json::Number)
            .ok_or_else(|| format!("float {f} cannot be patched (JSON has no NaN/infinity)"))?,
        Toml::Boolean(b) => Json::Bool(b),
        // Dates do not occur in containerd configs; keep their text.
        Toml::Datetime(d) => Json::String(d.to_string()),
        Toml::Array(items) => Json::Array(
            items
                .into_iter()
                .map(toml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Toml::Table(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| Ok((k, toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn json_to_toml(value: &Json) -> Result<Toml, String> {
    Ok(match value {
        Json::Null => return Err("TOML has no null value".to_string()),
        Json::Bool(b) => Toml::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Toml::Integer(i),
            (None, Some(f)) if n.is_f64() => Toml::Float(f),
            _ => return Err(format!("number {n} does not fit a TOML integer")),
        },
        Json::String(s) => Toml::String(s.clone()),
        Json::Array(items) => {
            Toml::Array(items.iter().map(json_to_toml).collect::<Result<_, _>>()?)
        }
        Json::Object(map) => Toml::Table(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), json_to_toml(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = false
  sandbox_image = "registry.k8s.io/pause:3.10"

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  snapshotter = "overlayfs"
"#;

    fn parse(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn merge_patch_with_matching_or_no_version_applies() {
        let with_version = r#"
version = 2
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5000"]
  endpoint = ["http://kind-registry:5000"]
"#;
        let without_version = r#"
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "native"
"#;
        let out = patch_config(
            BASE,
            &[with_version.to_string(), without_version.to_string()],
            &[],
        )
        .unwrap();
        let t = parse(&out);
        let cri = &t["plugins"]["io.containerd.grpc.v1.cri"];
        assert_eq!(
            cri["registry"]["mirrors"]["localhost:5000"]["endpoint"][0].as_str(),
            Some("http://kind-registry:5000")
        );
        assert_eq!(cri["containerd"]["snapshotter"].as_str(), Some("native"));
        // Untouched keys and value types survive the JSON round trip.
        assert_eq!(
            cri["containerd"]["default_runtime_name"].as_str(),
            Some("runc")
        );
        assert_eq!(cri["restrict_oom_score_adj"].as_bool(), Some(false));
        assert_eq!(t["version"].as_integer(), Some(2));
    }

    #[test]
    fn merge_patch_for_other_version_is_skipped() {
        let v3 = r#"
version = 3
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "native"
"#;
        let out = patch_config(BASE, &[v3.to_string()], &[]).unwrap();
        let t = parse(&out);
        assert_eq!(
            t["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["snapshotter"].as_str(),
            Some("overlayfs")
        );
        assert_eq!(t["version"].as_integer(), Some(2));
    }

    #[test]
    fn json6902_applies_after_merge_patches_without_version_check() {
        let merge =
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"native\"\n";
        let ops = r#"[
          {"op": "replace", "path": "/plugins/io.containerd.grpc.v1.cri/containerd/snapshotter", "value": "zfs"},
          {"op": "remove", "path": "/plugins/io.containerd.grpc.v1.cri/restrict_oom_score_adj"}
        ]"#;
        let yaml_ops = "- op: add\n  path: /plugins/io.containerd.grpc.v1.cri/max_container_log_line_size\n  value: -1\n";
        let out = patch_config(
            BASE,
            &[merge.to_string()],
            &[ops.to_string(), yaml_ops.to_string()],
        )
        .unwrap();
        let t = parse(&out);
        let cri = &t["plugins"]["io.containerd.grpc.v1.cri"];
        assert_eq!(cri["containerd"]["snapshotter"].as_str(), Some("zfs"));
        assert!(cri.get("restrict_oom_score_adj").is_none());
        assert_eq!(cri["max_container_log_line_size"].as_integer(), Some(-1));
    }

    #[test]
    fn undetectable_version_is_an_error() {
        for config in ["[plugins]\na = 1\n", "version = 0\n", "version = \"2\"\n"] {
            let err = patch_config(config, &["x = 1".to_string()], &[]).unwrap_err();
            assert!(
                matches!(err, ContainerdPatchError::UnknownVersion),
                "{config}: {err}"
            );
            assert!(
                err.to_string()
                    .starts_with("failed to detect containerd config version")
            );
        }
    }

    #[test]
    fn bad_patches_name_their_index() {
        let err = patch_config(BASE, &["ok = 1".into(), "not toml [".into()], &[]).unwrap_err();
        assert!(
            err.to_string().contains("containerdConfigPatches[1]"),
            "{err}"
        );
        let err = patch_config(BASE, &[], &["{\"op\": \"add\"}".into()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("containerdConfigPatchesJSON6902[0]"),
            "{err}"
        );
        let missing = r#"[{"op": "remove", "path": "/nope"}]"#;
        let err = patch_config(BASE, &[], &[missing.into()]).unwrap_err();
        assert!(
            matches!(err, ContainerdPatchError::Json6902Apply { index: 0, .. }),
            "{err}"
        );
        let null = r#"[{"op": "add", "path": "/x", "value": null}]"#;
        let err = patch_config(BASE, &[], &[null.into()]).unwrap_err();
        assert!(matches!(err, ContainerdPatchError::Encode(_)), "{err}");
    }
}

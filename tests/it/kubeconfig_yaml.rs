//! Strings in a user's kubeconfig survive kindling's rewrite as real kubectl (go-yaml v2, YAML 1.1
//! rules) reads them: the issue-10 repro (`args: ["on"]` became a boolean), a property test over
//! generated strings in every place a kubeconfig carries text, and files kubectl reads that
//! kindling must read too (byte order mark, UTF-16).

use crate::common::kubectl;
use kindling::kubeconfig::{LockOptions, kind_kubeconfig, merge_into_file, remove_from_file};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

const ADMIN_CONF: &str = include_str!("../fixtures/kubeconfig/admin.conf");

/// A kubeconfig (as JSON, which kubectl and kindling both read) carrying `strings` in every
/// place kubeconfigs hold user text: names, exec command/args/env, namespaces, extensions (names,
/// keys and values), install hints.
fn kubeconfig_with(strings: &[String]) -> Value {
    let mut names: Vec<&String> = strings.iter().collect();
    names.sort();
    names.dedup();
    names.retain(|n| !n.is_empty());
    let extension =
        |s: &String| json!({"name": s, "extension": {"value": s, s.clone(): [s, {"k": s}]}});
    let clusters: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "cluster": {"server": "https://example.invalid:6443", "extensions": [extension(n)]}}))
        .collect();
    let users: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let arg = |k: usize| strings[(i + k) % strings.len()].clone();
            json!({"name": n, "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": n,
                "args": [arg(0), arg(1), arg(2)],
                "env": [{"name": arg(3), "value": arg(4)}],
                "installHint": arg(5),
                "interactiveMode": "Never"
            }}})
        })
        .collect();
    let contexts: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "context": {"cluster": n, "user": n, "namespace": n}}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": contexts,
        "current-context": "",
        "preferences": {"extensions": names.iter().map(|n| extension(n)).collect::<Vec<_>>()},
    })
}

/// JSON with every non-ASCII or control character escaped, which go-yaml (kubectl) reads as YAML
/// (raw DEL or C1 characters are not allowed in a YAML file, and YAML has no surrogate pairs:
/// characters beyond the BMP use `\U`).
fn ascii_json(value: &Value) -> String {
    let mut out = String::new();
    for c in serde_json::to_string(value).unwrap().chars() {
        match c as u32 {
            0x20..=0x7E => out.push(c),
            n if n > 0xFFFF => out.push_str(&format!("\\U{n:08X}")),
            n => out.push_str(&format!("\\u{n:04X}")),
        }
    }
    out
}

/// `kubectl config view --raw -o json` of `path`.
fn kubectl_view(kubectl: &Path, path: &Path) -> Value {
    let out = Command::new(kubectl)
        .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
        .arg(path)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    if !out.status.success() {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The line kubectl names, not the whole (long) file.
        let line: Option<usize> = stderr
            .split("line ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok());
        let context: Vec<&str> = match line {
            Some(n) => text.lines().skip(n.saturating_sub(3)).take(5).collect(),
            None => text.lines().take(10).collect(),
        };
        panic!(
            "kubectl cannot read {}: {stderr}\n{}",
            path.display(),
            context.join("\n")
        );
    }
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The entries of `list` by name.
fn by_name(config: &Value, list: &str) -> std::collections::BTreeMap<String, Value> {
    config[list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Writes `original`, lets kindling merge a cluster in (and, with `remove`, take it out again),
/// and checks that kubectl reads every original entry unchanged.
fn survives_rewrite(kubectl: &Path, original: &Value, remove: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, ascii_json(original)).unwrap();
    // kubectl's own reading of the original, the reference.
    let before = kubectl_view(kubectl, &path);
    let opts = LockOptions::default();
    let entry = kind_kubeconfig(ADMIN_CONF, "yaml", Some("https://127.0.0.1:40001")).unwrap();
    merge_into_file(&path, &entry, &opts).unwrap();
    if remove {
        assert!(remove_from_file(&path, "yaml", &opts).unwrap());
    }
    let after = kubectl_view(kubectl, &path);
    for list in ["clusters", "users", "contexts"] {
        let want = by_name(&before, list);
        let mut got = by_name(&after, list);
        got.remove("kind-yaml");
        assert_eq!(got.len(), want.len(), "{list}");
        for (name, entry) in want {
            assert_eq!(got.get(&name), Some(&entry), "{list} entry {name:?}");
        }
    }
    assert_eq!(after["preferences"], before["preferences"]);
    // And kindling reads back what it wrote, identically.
    let text = std::fs::read_to_string(&path).unwrap();
    let again = kindling::yaml::documents(&text).unwrap();
    let reparsed = kindling::kubeconfig::Kubeconfig::from_yaml(&text).unwrap();
    assert_eq!(
        kindling::yaml::documents(&reparsed.to_yaml().unwrap()).unwrap(),
        again
    );
}

fn kubectl_or_skip() -> Option<std::path::PathBuf> {
    let found = kubectl();
    if found.is_none() {
        assert_ne!(
            std::env::var("KINDLING_REQUIRE_PEERS").as_deref(),
            Ok("1"),
            "kubectl is required (KINDLING_TEST_KUBECTL or PATH)"
        );
        eprintln!("skipping: no kubectl (set KINDLING_TEST_KUBECTL)");
    }
    found
}

/// Issue 10, item 1: `args: ["on"]` was rewritten as `- on`, a boolean for kubectl, which then
/// refused the whole file. Create and `export kubeconfig` merge, `delete cluster` removes.
#[test]
fn exec_args_like_on_survive_merge_and_remove_for_kubectl() {
    let Some(kubectl) = kubectl_or_skip() else {
        return;
    };
    let original = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "/bin/echo",
            "args": ["on", "y", "Y", "n", "N", "yes", "no", "On", "OFF", "1_000", "0x1F", "~", "null", "1:20", "2001-12-14"],
            "env": [{"name": "FLAG", "value": "off"}],
            "interactiveMode": "Never"
        }}}],
    });
    for remove in [false, true] {
        survives_rewrite(&kubectl, &original, remove);
    }
}

#[test]
fn special_strings_in_every_kubeconfig_field_survive_for_kubectl() {
    let Some(kubectl) = kubectl_or_skip() else {
        return;
    };
    let strings: Vec<String> = crate::trouble::SPECIAL_STRINGS
        .iter()
        .map(|s| s.to_string())
        .collect();
    survives_rewrite(&kubectl, &kubeconfig_with(&strings), false);
}

/// The property: for generated strings in every field, kubectl reads kindling's rewrite as it
/// read the original (600 strings in 3 files, deterministic seeds).
#[test]
fn generated_strings_in_every_kubeconfig_field_survive_for_kubectl() {
    let Some(kubectl) = kubectl_or_skip() else {
        return;
    };
    for seed in [1, 0xC0FFEE, 0xDEAD_BEEF] {
        survives_rewrite(
            &kubectl,
            &kubeconfig_with(&crate::trouble::generated_strings(200, seed)),
            seed == 1,
        );
    }
}

/// Issue 10, item 11: kubectl reads a kubeconfig with a UTF-8 byte order mark (and UTF-16 with
/// one); kindling must read and update it too.
#[test]
fn kubeconfigs_with_a_byte_order_mark_are_read_like_kubectl() {
    let Some(kubectl) = kubectl_or_skip() else {
        return;
    };
    let text = "apiVersion: v1\nkind: Config\nclusters:\n- name: mine\n  cluster:\n    server: https://example.invalid:1\ncontexts:\n- name: mine\n  context:\n    cluster: mine\n    user: mine\nusers:\n- name: mine\n  user:\n    token: t0k3n\n";
    let utf16 = |le: bool| -> Vec<u8> {
        let bom: [u8; 2] = if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] };
        bom.into_iter()
            .chain(text.encode_utf16().flat_map(
                |u| {
                    if le { u.to_le_bytes() } else { u.to_be_bytes() }
                },
            ))
            .collect()
    };
    for bytes in [
        [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        utf16(true),
        utf16(false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, &bytes).unwrap();
        let before = kubectl_view(&kubectl, &path);
        assert_eq!(before["clusters"][0]["name"], "mine");
        let entry = kind_kubeconfig(ADMIN_CONF, "bom", Some("https://127.0.0.1:40002")).unwrap();
        merge_into_file(&path, &entry, &LockOptions::default()).unwrap();
        let after = kubectl_view(&kubectl, &path);
        assert_eq!(
            by_name(&after, "users")["mine"],
            by_name(&before, "users")["mine"]
        );
        assert!(by_name(&after, "clusters").contains_key("kind-bom"));
    }
}

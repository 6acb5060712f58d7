//! Differential test against real kind 0.33 (issue 11): a corpus of configs (every field, null,
//! duplicates, encodings, numbers, tags, merge keys, syntax errors, and the fixtures that mirror
//! kind's own testdata) goes through `kind create cluster --config` and through
//! `kindling create cluster --dry-run --config`, and both must accept or reject each one.
//!
//! kind is stopped before it creates anything: a fake `docker` first on its PATH answers the
//! read-only calls kind makes before provisioning (`docker -v`, `info`, `ps` for existing nodes,
//! `inspect --type=image`, `network ls`/`inspect`) and, on the first call that would change
//! something (`network create`, `pull`, `run` ...), writes a marker file and fails. kind only
//! gets there after decoding, defaulting and validating the config, so the marker means
//! "accepted"; kind exiting without it means "rejected".
//!
//! Every disagreement must be listed in [`KNOWN_DIFFERENCES`] with its reason, and each listed
//! case must be named in docs/compatibility.md.

use crate::common::{kindling, repo_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cases where kindling decides differently from kind on purpose, with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "number-api-port-non-integral",
        "kind truncates 6443.7 to 6443; kindling refuses a non-integral number for an integer field",
    ),
    (
        "number-container-port-non-integral",
        "kind truncates 80.5 to 80; kindling refuses a non-integral number for an integer field",
    ),
];

const HEAD: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";

/// The fake `docker`: read-only calls answered, the first mutating call marked and refused.
const FAKE_DOCKER: &str = r#"#!/bin/sh
case "$1 $2" in
  "-v "*) echo "Docker version 28.0.0, build fake"; exit 0 ;;
  "info "*) echo '{"CgroupVersion":"2","CgroupDriver":"systemd","MemoryLimit":true,"PidsLimit":true,"CPUShares":true,"SecurityOptions":[]}'; exit 0 ;;
  "ps "*) exit 0 ;;
  "inspect --type=image") exit 0 ;;
  "network ls"|"network inspect") exit 0 ;;
esac
echo "$*" > "$KINDLING_DIFF_MARKER"
echo "fake docker: stopping kind before it creates anything" >&2
exit 1
"#;

/// One config: a name and the exact bytes of the file.
struct Case {
    name: String,
    bytes: Vec<u8>,
}

fn case(name: &str, text: impl Into<String>) -> Case {
    Case {
        name: name.to_string(),
        bytes: text.into().into_bytes(),
    }
}

/// A config with kind's header and `body` after it.
fn cfg(name: &str, body: &str) -> Case {
    case(name, format!("{HEAD}{body}"))
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let bom: [u8; 2] = if little_endian {
        [0xFF, 0xFE]
    } else {
        [0xFE, 0xFF]
    };
    bom.into_iter()
        .chain(text.encode_utf16().flat_map(|u| {
            if little_endian {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            }
        }))
        .collect()
}

/// The corpus.
fn corpus() -> Vec<Case> {
    let node = "nodes:\n- role: control-plane\n";
    let full = format!("{HEAD}name: enc\n{node}  labels:\n    tier: a\n");
    let mut cases = vec![
        // null at every level
        cfg("null-name", "name: ~\n"),
        cfg("null-name-empty", "name:\n"),
        cfg("null-nodes", "nodes: ~\n"),
        cfg("null-node-item", "nodes:\n- ~\n- role: control-plane\n"),
        cfg("null-node-only", "nodes: [~]\n"),
        cfg("null-node-leaves-worker", "nodes:\n- role: worker\n- ~\n"),
        cfg("null-networking", "networking:\n"),
        cfg("null-api-server-port", "networking:\n  apiServerPort:\n"),
        cfg(
            "null-api-server-port-tilde",
            "networking:\n  apiServerPort: ~\n",
        ),
        cfg("null-dns-search", "networking:\n  dnsSearch: ~\n"),
        cfg(
            "null-dns-search-item",
            "networking:\n  dnsSearch: [~, a.example]\n",
        ),
        cfg(
            "null-disable-cni",
            "networking:\n  disableDefaultCNI: null\n",
        ),
        cfg("null-feature-gates", "featureGates: ~\n"),
        cfg("null-feature-gate-value", "featureGates:\n  A:\n"),
        cfg(
            "null-runtime-config-value",
            "runtimeConfig:\n  api/alpha: ~\n",
        ),
        cfg("null-labels", &format!("{node}  labels: ~\n")),
        cfg("null-label-value", &format!("{node}  labels:\n    a: ~\n")),
        cfg("null-image-role", "nodes:\n- role: ~\n  image: null\n"),
        cfg("null-mount-item", &format!("{node}  extraMounts: [~]\n")),
        cfg(
            "null-mount-fields",
            &format!(
                "{node}  extraMounts:\n  - hostPath: /tmp\n    containerPath: /x\n    readOnly: ~\n    propagation: ~\n"
            ),
        ),
        cfg(
            "null-port-item",
            &format!("{node}  extraPortMappings: [~]\n"),
        ),
        cfg(
            "null-port-fields",
            &format!(
                "{node}  extraPortMappings:\n  - containerPort: 80\n    hostPort: ~\n    protocol: ~\n    listenAddress: ~\n"
            ),
        ),
        cfg(
            "null-patch-items",
            "kubeadmConfigPatches: [~]\ncontainerdConfigPatches:\n- ~\n",
        ),
        cfg("null-json6902-item", "kubeadmConfigPatchesJSON6902: [~]\n"),
        // duplicate keys at every level
        cfg("dup-top-name", "name: a\nname: b\n"),
        case("dup-top-kind", format!("{HEAD}kind: Cluster\n")),
        cfg(
            "dup-networking",
            "networking:\n  ipFamily: ipv4\n  ipFamily: ipv4\n",
        ),
        cfg(
            "dup-node-field",
            "nodes:\n- role: control-plane\n  role: worker\n",
        ),
        cfg(
            "dup-labels",
            &format!("{node}  labels:\n    a: x\n    a: y\n"),
        ),
        cfg(
            "dup-labels-quoted",
            &format!("{node}  labels:\n    a: x\n    \"a\": y\n"),
        ),
        cfg(
            "dup-feature-gates",
            "featureGates:\n  A: true\n  A: false\n",
        ),
        cfg(
            "dup-runtime-config",
            "runtimeConfig:\n  api/all: 'true'\n  api/all: 'true'\n",
        ),
        cfg(
            "dup-port-field",
            &format!("{node}  extraPortMappings:\n  - containerPort: 80\n    containerPort: 81\n"),
        ),
        cfg(
            "dup-json6902-field",
            "kubeadmConfigPatchesJSON6902:\n- kind: A\n  kind: B\n  patch: '[]'\n",
        ),
        cfg(
            "dup-different-numbers",
            &format!("{node}  labels:\n    1: x\n    01: y\n"),
        ),
        // encodings
        case("enc-plain", full.clone()),
        Case {
            name: "enc-utf8-bom".into(),
            bytes: [b"\xEF\xBB\xBF".as_slice(), full.as_bytes()].concat(),
        },
        Case {
            name: "enc-utf16le-bom".into(),
            bytes: utf16(&full, true),
        },
        Case {
            name: "enc-utf16be-bom".into(),
            bytes: utf16(&full, false),
        },
        case("enc-crlf", full.replace('\n', "\r\n")),
        case("enc-cr-only", full.replace('\n', "\r")),
        case(
            "enc-cr-only-two-documents",
            format!("{full}---\nkind: Pod\nbogus: [\n").replace('\n', "\r"),
        ),
        case("enc-nul-in-value", format!("{HEAD}name: a\u{0}b\n")),
        case("enc-del-in-comment", format!("{HEAD}# \u{7F}\n")),
        Case {
            name: "enc-invalid-utf8".into(),
            bytes: [HEAD.as_bytes(), b"name: \xFF\n"].concat(),
        },
        Case {
            name: "enc-utf16-without-bom".into(),
            bytes: utf16(&full, true)[2..].to_vec(),
        },
        case("enc-tab-in-value", format!("{HEAD}name:\tx\n")),
        // numbers for integer fields
        cfg(
            "number-api-port-plain",
            "networking:\n  apiServerPort: 6443\n",
        ),
        cfg(
            "number-api-port-float-whole",
            "networking:\n  apiServerPort: 6443.0\n",
        ),
        cfg(
            "number-api-port-exponent",
            "networking:\n  apiServerPort: 6.443e3\n",
        ),
        cfg(
            "number-api-port-octal-legacy",
            "networking:\n  apiServerPort: 014453\n",
        ),
        cfg(
            "number-api-port-octal-big",
            "networking:\n  apiServerPort: 0177777\n",
        ),
        cfg(
            "number-api-port-octal-0o",
            "networking:\n  apiServerPort: 0o14453\n",
        ),
        cfg(
            "number-api-port-hex",
            "networking:\n  apiServerPort: 0x192B\n",
        ),
        cfg(
            "number-api-port-underscore",
            "networking:\n  apiServerPort: 6_443\n",
        ),
        cfg(
            "number-api-port-plus",
            "networking:\n  apiServerPort: +6443\n",
        ),
        cfg(
            "number-api-port-leading-zeros-8",
            "networking:\n  apiServerPort: 08\n",
        ),
        cfg(
            "number-api-port-minus-one",
            "networking:\n  apiServerPort: -1\n",
        ),
        cfg(
            "number-api-port-non-integral",
            "networking:\n  apiServerPort: 6443.7\n",
        ),
        cfg(
            "number-api-port-quoted",
            "networking:\n  apiServerPort: \"6443\"\n",
        ),
        cfg(
            "number-api-port-sexagesimal",
            "networking:\n  apiServerPort: 1:20\n",
        ),
        cfg(
            "number-api-port-overflow",
            "networking:\n  apiServerPort: 3e9\n",
        ),
        cfg(
            "number-api-port-inf",
            "networking:\n  apiServerPort: .inf\n",
        ),
        cfg(
            "number-api-port-out-of-range",
            "networking:\n  apiServerPort: 99999\n",
        ),
        cfg(
            "number-api-port-word",
            "networking:\n  apiServerPort: six\n",
        ),
        cfg(
            "number-api-port-bool",
            "networking:\n  apiServerPort: true\n",
        ),
        cfg(
            "number-container-port-non-integral",
            &format!("{node}  extraPortMappings:\n  - containerPort: 80.5\n"),
        ),
        cfg(
            "number-ports-mixed",
            &format!(
                "{node}  extraPortMappings:\n  - containerPort: 0x50\n    hostPort: 8_080\n  - containerPort: 4.43e2\n    hostPort: 0\n"
            ),
        ),
        // tags
        cfg(
            "tag-int-quoted",
            "networking:\n  apiServerPort: !!int \"6443\"\n",
        ),
        cfg(
            "tag-str-number",
            "networking:\n  apiServerPort: !!str 6443\n",
        ),
        cfg(
            "tag-float-whole",
            "networking:\n  apiServerPort: !!float 6443\n",
        ),
        cfg("tag-binary-name", "name: !!binary a2luZA==\n"),
        cfg("tag-binary-bad", "name: !!binary a2lu@\n"),
        cfg("tag-null-name", "name: !!null\n"),
        cfg("tag-int-on-string", "name: !!int 5\n"),
        cfg("tag-int-not-a-number", "name: !!int abc\n"),
        cfg("tag-custom-on-string", "name: !custom kind\n"),
        cfg(
            "tag-bool-yes",
            &format!(
                "{node}  extraMounts:\n  - hostPath: /tmp\n    containerPath: /x\n    readOnly: !!bool yes\n"
            ),
        ),
        cfg(
            "tag-str-on-bool",
            "networking:\n  disableDefaultCNI: !!str yes\n",
        ),
        // merge keys and anchors
        cfg(
            "merge-node",
            "nodes:\n- &cp\n  role: control-plane\n  labels: {a: b}\n- <<: *cp\n  role: worker\n",
        ),
        cfg(
            "merge-sequence",
            "networking:\n  <<: [{ipFamily: ipv4}, {kubeProxyMode: ipvs, ipFamily: ipv6}]\n",
        ),
        cfg(
            "merge-labels",
            &format!("{node}  labels:\n    <<: {{a: b}}\n    c: d\n"),
        ),
        cfg("merge-not-a-map", "networking:\n  <<: 3\n"),
        cfg(
            "merge-quoted-is-a-field",
            "networking:\n  \"<<\": {ipFamily: ipv4}\n",
        ),
        cfg(
            "anchor-alias-node",
            "nodes:\n- &n {role: control-plane}\n- *n\n",
        ),
        cfg("anchor-unknown-alias", "nodes:\n- *nothing\n"),
        // strings, booleans and maps
        cfg("string-name-number", "name: 123\n"),
        cfg("string-name-float-text", "name: 1.50\n"),
        cfg("string-name-bool", "name: true\n"),
        cfg("string-name-timestamp", "name: 2001-12-14\n"),
        cfg("string-role-yes", "nodes:\n- role: yes\n"),
        cfg("string-image-number", "nodes:\n- image: 1.0\n"),
        cfg("string-name-list", "name: [a]\n"),
        cfg(
            "string-label-number-value",
            &format!("{node}  labels:\n    a: 1\n    2: b\n"),
        ),
        cfg(
            "string-label-list-value",
            &format!("{node}  labels:\n    a: [1]\n"),
        ),
        cfg(
            "bool-gate-yes",
            "featureGates:\n  A: yes\n  B: off\n  C: Y\n",
        ),
        cfg("bool-gate-quoted-yes", "featureGates:\n  A: \"yes\"\n"),
        cfg("bool-gate-quoted-true", "featureGates:\n  A: \"true\"\n"),
        cfg("bool-gate-number", "featureGates:\n  A: 1\n"),
        cfg("bool-gate-list", "featureGates: [A]\n"),
        cfg(
            "bool-runtime-config-true",
            "runtimeConfig:\n  api/alpha: true\n",
        ),
        cfg(
            "bool-readonly-on",
            &format!(
                "{node}  extraMounts:\n  - hostPath: /tmp\n    containerPath: /x\n    readOnly: on\n"
            ),
        ),
        cfg("map-networking-list", "networking: []\n"),
        cfg("map-networking-empty-string", "networking: \"\"\n"),
        cfg("map-nodes-string", "nodes: node\n"),
        cfg(
            "protocol-lower",
            &format!("{node}  extraPortMappings:\n  - containerPort: 80\n    protocol: udp\n"),
        ),
        cfg(
            "protocol-bad",
            &format!("{node}  extraPortMappings:\n  - containerPort: 80\n    protocol: http\n"),
        ),
        cfg(
            "propagation-bad-case",
            &format!(
                "{node}  extraMounts:\n  - hostPath: /tmp\n    containerPath: /x\n    propagation: none\n"
            ),
        ),
        cfg(
            "patch-string-not-parsed-yet",
            "kubeadmConfigPatches:\n- |\n  a: 1\n  a: 2\n",
        ),
        // documents, directives, shapes
        cfg("doc-second-broken", "name: a\n---\n: [\n"),
        case("doc-first-empty", format!("---\n---\n{HEAD}")),
        case("doc-yaml-1-1", format!("%YAML 1.1\n---\n{HEAD}")),
        case("doc-yaml-1-2", format!("%YAML 1.2\n---\n{HEAD}")),
        case(
            "doc-tag-directive",
            format!("%TAG !k! tag:example.com,2024:\n---\n{HEAD}name: !k!x n\n"),
        ),
        case("doc-empty", ""),
        case("doc-comments-only", "# nothing\n"),
        case("doc-list", format!("- {}", HEAD.replace('\n', "\n  "))),
        case("doc-scalar", "Cluster\n"),
        case(
            "doc-json",
            r#"{"kind":"Cluster","apiVersion":"kind.x-k8s.io/v1alpha4","nodes":[{"role":"control-plane"}]}"#,
        ),
        case(
            "doc-flow",
            "{kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4, networking: {apiServerPort: 0x10}}\n",
        ),
        case("doc-no-api-version", "kind: Cluster\n"),
        case("doc-api-version-number", "kind: Cluster\napiVersion: 1\n"),
        case(
            "doc-kind-list",
            "kind: [Cluster]\napiVersion: kind.x-k8s.io/v1alpha4\n",
        ),
        // syntax
        cfg(
            "syntax-bad-indent",
            "nodes:\n- role: control-plane\n   image: x\n",
        ),
        cfg("syntax-tab-indent", "nodes:\n\t- role: control-plane\n"),
        cfg("syntax-unclosed-quote", "name: \"kind\n"),
        cfg("syntax-unclosed-flow", "nodes: [{role: control-plane}\n"),
        cfg("syntax-mapping-in-scalar", "name: a: b\n"),
        cfg("syntax-alias-cycle", "networking: &n\n  x: *n\n"),
        // unknown fields
        cfg("unknown-top", "bogus: 1\n"),
        cfg("unknown-case", "Name: x\n"),
        cfg(
            "unknown-node",
            "nodes:\n- role: control-plane\n  extraPortMapping: []\n",
        ),
        cfg("unknown-null-key", "~: 1\n"),
    ];
    // The repository's config fixtures, which mirror kind's own testdata (valid-minimal,
    // valid-full-ha, valid-port-and-mount, invalid-bogus-field, invalid-bad-indent, ...).
    let dir = repo_root().join("tests/fixtures/config");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    fixtures.sort();
    for path in fixtures {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        cases.push(Case {
            name: format!("fixture-{stem}"),
            bytes: std::fs::read(&path).unwrap(),
        });
    }
    cases
}

/// What a tool decided about a config: accepted (and the cluster name it would create), or
/// refused with a message.
#[derive(Debug)]
struct Verdict {
    accepted: bool,
    message: String,
    name: Option<String>,
}

fn kind_verdict(kind: &Path, bin: &Path, dir: &Path, config: &Path) -> Verdict {
    let marker = dir.join("marker");
    let _ = std::fs::remove_file(&marker);
    let out = Command::new("timeout")
        .arg("30")
        .arg(kind)
        .args(["create", "cluster", "--config"])
        .arg(config)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .env("KINDLING_DIFF_MARKER", &marker)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let accepted = marker.exists();
    if accepted {
        assert!(
            stderr.contains("Creating cluster"),
            "kind reached docker without announcing the create: {stderr}"
        );
    } else {
        assert!(
            !out.status.success() && stderr.contains("ERROR"),
            "kind neither failed nor reached the fake docker: {stderr}"
        );
    }
    let name = stderr
        .split("Creating cluster \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string);
    Verdict {
        accepted,
        message: stderr,
        name,
    }
}

fn kindling_verdict(dir: &Path, config: &Path) -> Verdict {
    let out = kindling()
        .args(["create", "cluster", "--dry-run", "-o", "json", "--config"])
        .arg(config)
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("panicked"),
        "kindling panicked on {}: {stderr}",
        config.display()
    );
    let name = serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|plan| plan["name"].as_str().map(str::to_string));
    Verdict {
        accepted: out.status.success(),
        message: stderr,
        name,
    }
}

/// The `line N` a message names first, if any.
fn first_line_number(message: &str) -> Option<usize> {
    let rest = message.split("line ").nth(1)?;
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

#[test]
fn kind_and_kindling_accept_and_reject_the_same_configs() {
    let kind = match std::env::var_os("KINDLING_TEST_KIND").filter(|v| !v.is_empty()) {
        Some(k) => PathBuf::from(k),
        None => match crate::common::which("kind") {
            Some(k) => k,
            None => {
                assert_ne!(
                    std::env::var("KINDLING_REQUIRE_PEERS").as_deref(),
                    Ok("1"),
                    "kind is required for the differential test (KINDLING_TEST_KIND or PATH)"
                );
                eprintln!("skipping: no kind binary (set KINDLING_TEST_KIND)");
                return;
            }
        },
    };
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let docker = bin.join("docker");
    std::fs::write(&docker, FAKE_DOCKER).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();

    let cases = corpus();
    let names: std::collections::HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    for (name, _) in KNOWN_DIFFERENCES {
        assert!(
            names.contains(name),
            "known difference {name} is not in the corpus"
        );
    }

    // Run the cases on a few threads: each kind run is a process of its own.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let dir = work.path().join(format!("case-{i}"));
                    std::fs::create_dir(&dir).unwrap();
                    let config = dir.join("kind.yaml");
                    std::fs::write(&config, &case.bytes).unwrap();
                    let k = kind_verdict(&kind, &bin, &dir, &config);
                    let l = kindling_verdict(&dir, &config);
                    results.lock().unwrap().push((case.name.clone(), k, l));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let compatibility = std::fs::read_to_string(repo_root().join("docs/compatibility.md")).unwrap();
    let mut problems = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for (name, k, l) in &results {
        if k.accepted {
            accepted += 1;
        } else {
            rejected += 1;
        }
        let known = KNOWN_DIFFERENCES.iter().find(|(n, _)| n == name);
        match (k.accepted == l.accepted, known) {
            (true, None) if k.accepted && k.name != l.name => problems.push(format!(
                "{name}: kind would create cluster {:?}, kindling {:?}",
                k.name, l.name
            )),
            (true, None) => {
                // Both refuse a value: when kind names its line, kindling must name the same
                // one. (Syntax errors are not compared: parsers stop at different tokens.)
                let decode_error = k.message.contains("unmarshal errors");
                if let (false, true, Some(kl)) =
                    (k.accepted, decode_error, first_line_number(&k.message))
                    && first_line_number(&l.message) != Some(kl)
                {
                    problems.push(format!(
                        "{name}: kind says line {kl}, kindling does not:\n  kind: {}\n  kindling: {}",
                        k.message.trim(),
                        l.message.trim()
                    ));
                }
            }
            (false, Some((_, why))) => {
                if !compatibility.contains(name.as_str()) {
                    problems.push(format!(
                        "{name}: known difference ({why}) is not listed in docs/compatibility.md"
                    ));
                }
            }
            (true, Some(_)) => problems.push(format!(
                "{name}: listed as a known difference, but kind and kindling agree now"
            )),
            (false, None) => problems.push(format!(
                "{name}: kind {} it, kindling {} it\n  kind: {}\n  kindling: {}",
                if k.accepted { "accepts" } else { "rejects" },
                if l.accepted { "accepts" } else { "rejects" },
                k.message.trim(),
                l.message.trim()
            )),
        }
    }
    eprintln!(
        "differential test: {} configs, kind accepted {accepted} and rejected {rejected}; {} known differences",
        results.len(),
        KNOWN_DIFFERENCES.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

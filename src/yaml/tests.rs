//! The YAML layer against go-yaml's behaviour (as kind 0.33 and kubectl show it) and the writer
//! against independent readers.

use super::*;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Shapes like kind's config types: strings, an int32, bools, lists of strings and of structs,
/// string and bool maps, a pointer to a list, a nested struct.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Doc {
    s: String,
    i: i32,
    b: bool,
    list: Vec<String>,
    items: Vec<Item>,
    map: BTreeMap<String, String>,
    gates: BTreeMap<String, bool>,
    opt: Option<Vec<String>>,
    inner: Item,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Item {
    name: String,
    port: i32,
}

fn doc(text: &str) -> Doc {
    from_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn doc_err(text: &str) -> YamlError {
    match from_str::<Doc>(text) {
        Ok(d) => panic!("{text:?} decoded as {d:?}"),
        Err(e) => e,
    }
}

fn item(name: &str, port: i32) -> Item {
    Item {
        name: name.into(),
        port,
    }
}

// ---- kind's decoding (go-yaml v3 into structs) -------------------------------------------------

#[test]
fn null_is_unset_at_every_level() {
    let d = doc(
        "s: ~\ni:\nb: null\nlist: ~\nitems: [~, {name: a}, null]\nmap: {a: ~, b: x}\ngates: {A: }\nopt: ~\ninner: ~\n",
    );
    assert_eq!(
        d,
        Doc {
            items: vec![item("a", 0)],
            map: BTreeMap::from([("a".into(), String::new()), ("b".into(), "x".into())]),
            gates: BTreeMap::from([("A".into(), false)]),
            ..Doc::default()
        }
    );
    // A null item of a list is dropped, never the text `~`; a pointer to a list of nulls is set.
    assert_eq!(doc("list: [a, ~, '~', null, !!null '']\n").list, ["a", "~"]);
    assert_eq!(doc("opt: [~]\n").opt, Some(vec![]));
    assert_eq!(doc("opt: []\n").opt, Some(vec![]));
    assert_eq!(doc("inner: {name: ~, port: ~}\n").inner, Item::default());
    // An empty document is all unset.
    assert_eq!(doc(""), Doc::default());
    assert_eq!(doc("# only a comment\n"), Doc::default());
}

#[test]
fn duplicate_keys_are_errors_at_every_level_at_the_duplicate() {
    for (text, line, col, path) in [
        ("s: a\ni: 1\ns: b\n", 3, 1, ""),
        ("inner:\n  name: a\n  name: b\n", 3, 3, "inner: "),
        ("map:\n  a: x\n  b: y\n  a: z\n", 4, 3, "map: "),
        ("gates: {A: true, A: false}\n", 1, 18, "gates: "),
        (
            "items:\n- name: a\n  port: 1\n  port: 2\n",
            4,
            3,
            "items[0]: ",
        ),
        // Keys are compared by their text, as go-yaml does: "a" and a are the same key.
        ("map:\n  a: x\n  \"a\": y\n", 3, 3, "map: "),
    ] {
        let err = doc_err(text);
        assert_eq!(err.location, Some((line, col)), "{text:?}: {err}");
        assert!(err.message.starts_with(path), "{text:?}: {err}");
        assert!(err.message.contains("already defined at line"), "{err}");
    }
    // Different spellings of one number are different keys for go-yaml.
    let d = doc("map: {1: a, 01: b}\n");
    assert_eq!(d.map.len(), 2);
}

#[test]
fn numbers_for_integer_fields_as_kind_reads_them() {
    for (text, want) in [
        ("6443", 6443),
        ("6443.0", 6443),
        ("6.443e3", 6443),
        ("0177777", 65535),
        ("00080", 80),
        ("00017", 15),
        ("08", 8),
        ("6_443", 6443),
        ("0x192B", 6443),
        ("0o14453", 6443),
        ("+6443", 6443),
        ("-1", -1),
        ("!!int \"6443\"", 6443),
        ("!!float 6443", 6443),
        ("~", 0),
        ("", 0),
    ] {
        assert_eq!(doc(&format!("i: {text}\n")).i, want, "{text}");
    }
    // kind truncates a non-integral number; kindling refuses it and says so.
    let err = doc_err("i: 6443.7\n");
    assert_eq!(err.location, Some((1, 4)));
    assert!(
        err.message.contains("6443.7 is not a whole number"),
        "{err}"
    );
    assert!(err.message.contains("truncate it to 6443"), "{err}");
    for text in ["3e9", "99999999999", ".inf", "-.inf", ".nan", "1e400"] {
        let err = doc_err(&format!("i: {text}\n"));
        assert_eq!(err.location, Some((1, 4)), "{text}: {err}");
        assert!(err.message.starts_with("i: "), "{err}");
    }
    // A quoted number is a string (and kindling says how to fix it); so is `!!str 6443`.
    let err = doc_err("i: \"6443\"\n");
    assert!(err.message.contains("remove the quotes"), "{err}");
    let err = doc_err("i: !!str 6443\n");
    assert!(err.message.contains("tagged !!str"), "{err}");
    // Sexagesimal numbers are strings for go-yaml.
    assert!(from_str::<Doc>("i: 1:20\n").is_err());
}

#[test]
fn strings_take_any_scalars_text() {
    for (text, want) in [
        ("1.50", "1.50"),
        ("0x10", "0x10"),
        ("true", "true"),
        ("on", "on"),
        ("2001-12-14", "2001-12-14"),
        ("'~'", "~"),
        ("!!binary a2luZA==", "kind"),
        ("!custom x", "x"),
        ("!!null", ""),
        ("|\n  two\n  lines\n", "two\nlines\n"),
    ] {
        assert_eq!(doc(&format!("s: {text}\n")).s, want, "{text}");
    }
    for (text, word) in [("s: [a]\n", "sequence"), ("s: {a: 1}\n", "mapping")] {
        let err = doc_err(text);
        assert!(err.message.contains(word), "{err}");
    }
    let err = doc_err("s: !!binary abc\n");
    assert!(err.message.contains("base64"), "{err}");
    let err = doc_err("s: !!int abc\n");
    assert!(
        err.message.contains("cannot decode !!str `abc` as a !!int"),
        "{err}"
    );
}

#[test]
fn booleans_as_kind_reads_them() {
    for (text, want) in [
        ("true", true),
        ("False", false),
        ("yes", true),
        ("on", true),
        ("Y", true),
        ("OFF", false),
        ("n", false),
        ("\"yes\"", true),
        ("~", false),
    ] {
        assert_eq!(doc(&format!("b: {text}\n")).b, want, "{text}");
        assert_eq!(
            doc(&format!("gates: {{A: {text}}}\n")).gates["A"],
            want,
            "{text}"
        );
    }
    // go-yaml v3 refuses a quoted "true" (a string, not one of YAML 1.1's words) and numbers.
    for text in ["\"true\"", "1", "maybe", "[]"] {
        let err = doc_err(&format!("b: {text}\n"));
        assert!(err.message.contains("expected a boolean"), "{err}");
    }
}

#[test]
fn merge_keys_and_aliases() {
    let d = doc(
        "items:\n- &base {name: a, port: 1}\n- <<: *base\n  port: 2\n- {port: 3, <<: [{name: b}, {name: c, port: 9}]}\n",
    );
    assert_eq!(d.items, [item("a", 1), item("a", 2), item("b", 3)]);
    let d = doc("list: &l [x, y]\nopt: *l\n");
    assert_eq!(d.opt, Some(vec!["x".into(), "y".into()]));
    // A quoted `<<` is an ordinary key.
    assert!(
        doc_err("inner: {\"<<\": {name: a}}\n")
            .message
            .contains("unknown field")
    );
    let err = doc_err("inner:\n  <<: 3\n");
    assert!(err.message.contains("map merge requires"), "{err}");
}

#[test]
fn unknown_fields_name_the_field_the_place_and_a_likely_fix() {
    let err = doc_err("items:\n- name: a\n  prot: 8\n");
    assert_eq!(err.location, Some((3, 3)));
    assert_eq!(
        err.message,
        r#"items[0]: unknown field "prot"; did you mean "port"? known fields here: name, port"#
    );
    // A null key is skipped, as go-yaml skips it.
    assert_eq!(doc("~: 1\ns: a\n").s, "a");
}

#[test]
fn messages_are_in_yaml_words() {
    for text in [
        "i: abc\n",
        "i: [1]\n",
        "b: 3\n",
        "list: {a: 1}\n",
        "items: [1]\n",
        "inner: x\n",
        "map: [a]\n",
        "s: {}\n",
    ] {
        let err = doc_err(text);
        let msg = err.to_string();
        for rust in [
            "unit value",
            "i32",
            "invalid type",
            "BTreeMap",
            "Vec<",
            "struct ",
        ] {
            assert!(!msg.contains(rust), "{text:?}: {msg}");
        }
        assert!(msg.starts_with("line 1, column "), "{msg}");
    }
}

#[test]
fn only_the_first_document_is_decoded() {
    assert_eq!(doc("s: a\n---\ns: [broken\n").s, "a");
    assert_eq!(doc("---\ns: a\n...\n--- garbage: [\n").s, "a");
    // An explicitly empty first document is empty, whatever follows.
    assert_eq!(doc("---\n---\ns: a\n"), Doc::default());
}

#[test]
fn encodings_kind_reads() {
    let utf16 = |text: &str, le: bool| -> Vec<u8> {
        let bom: [u8; 2] = if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] };
        bom.into_iter()
            .chain(text.encode_utf16().flat_map(
                |u| {
                    if le { u.to_le_bytes() } else { u.to_be_bytes() }
                },
            ))
            .collect()
    };
    let text = "s: é\ni: 1\n";
    for bytes in [
        [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        utf16(text, true),
        utf16(text, false),
    ] {
        let decoded = decode_bytes(&bytes).unwrap();
        assert_eq!(doc(&decoded).s, "é");
    }
    // A byte order mark in text that is already decoded is accepted too.
    assert_eq!(doc("\u{FEFF}s: a\n").s, "a");
    // CR-only line endings, several documents: positions count a lone CR as a line break.
    let cr = "s: a\ri: 1\r---\rs: b\r";
    assert_eq!(doc(cr).i, 1);
    assert_eq!(documents(cr).unwrap().len(), 2);
    let err = doc_err("s: a\ri: x\r");
    assert_eq!(err.location, Some((2, 4)));
    // A NUL is reported once, at its place.
    let err = doc_err("s: a\ni: \u{0}\n");
    assert_eq!(err.location, Some((2, 4)));
    assert_eq!(err.to_string().matches("line").count(), 1, "{err}");
}

#[test]
fn only_yaml_1_1_directives_are_accepted_like_go_yaml() {
    assert_eq!(doc("%YAML 1.1\n---\ns: a\n").s, "a");
    let err = doc_err("%YAML 1.2\n---\ns: a\n");
    assert_eq!(err.location, Some((1, 1)));
    assert!(err.message.contains("incompatible YAML document"), "{err}");
}

#[test]
fn alias_bombs_and_deep_nesting_stop_with_an_error() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let start = std::time::Instant::now();
    let err = from_str::<Value>(&text).unwrap_err();
    assert!(err.message.contains("aliases"), "{err}");
    assert!(documents(&text).is_err());
    // Bounded work, not a hang (generous: the full expansion would be 10^10 nodes).
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
    let err = documents(&deep).unwrap_err();
    assert!(err.message.contains("nested"), "{err}");
    assert!(err.location.is_some(), "{err}");
}

#[test]
fn a_tab_after_a_colon_separates_like_a_space() {
    let d = doc("s:\tx\ni: \t\t7\nmap:\n  a:\t\"q:\tr\"\n");
    assert_eq!((d.s.as_str(), d.i), ("x", 7));
    assert_eq!(d.map["a"], "q:\tr");
    assert_eq!(json1("a:\tb\n"), json!({"a": "b"}));
    // Positions stay right after the retry.
    let err = doc_err("s:\tx\ni:\tx\n");
    assert_eq!(err.location, Some((2, 4)), "{err}");
}

#[test]
fn syntax_errors_have_positions() {
    let err = doc_err("s: a\n i: 2\n");
    assert_eq!(err.location.map(|l| l.0), Some(2), "{err}");
    let err = doc_err("s: \"unterminated\n");
    assert!(err.location.is_some(), "{err}");
    let err = doc_err("s: *nowhere\n");
    assert!(err.location.is_some(), "{err}");
}

// ---- YAML to JSON as sigs.k8s.io/yaml (go-yaml v2) reads it ------------------------------------

fn json1(text: &str) -> Value {
    let mut docs = documents(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(docs.len(), 1, "{text:?}");
    docs.remove(0)
}

#[test]
fn yaml_1_1_scalars_as_client_go_reads_them() {
    let v = json1(
        "a: [on, Off, y, N, yes, no, true, ~, null, '', 1_000, 017, 0o17, 0x1F, 6443.0, 1e3, 2001-12-14, '<<', \"on\", !!str 12, !!binary aGk=]\n",
    );
    assert_eq!(
        v["a"],
        json!([
            true,
            false,
            true,
            false,
            true,
            false,
            true,
            null,
            null,
            "",
            1000,
            15,
            15,
            31,
            6443.0,
            1000.0,
            "2001-12-14",
            "<<",
            "on",
            "12",
            "hi"
        ])
    );
    // Keys become strings the way sigs.k8s.io/yaml spells them.
    let v = json1("1: a\n0x10: b\nyes: c\n1.5: d\nplain: e\n");
    assert_eq!(
        v,
        json!({"1": "a", "16": "b", "true": "c", "1.5": "d", "plain": "e"})
    );
    assert!(documents("~: a\n").is_err());
    assert!(documents("a: .inf\n").is_err());
}

#[test]
fn json_keeps_null_items_and_last_duplicate_wins_like_client_go() {
    assert_eq!(json1("a: [1, ~, 2]\n"), json!({"a": [1, null, 2]}));
    assert_eq!(json1("a: 1\na: 2\n"), json!({"a": 2}));
}

#[test]
fn json_merge_keys_apply_where_they_stand() {
    // (`y` would be a boolean key for go-yaml v2: `p` and `q` are safe names.)
    let base = "b: &b {p: 1, q: 1}\n";
    assert_eq!(
        json1(&format!("{base}m:\n  <<: *b\n  p: 2\n"))["m"],
        json!({"p": 2, "q": 1})
    );
    assert_eq!(
        json1(&format!("{base}m:\n  p: 2\n  <<: *b\n"))["m"],
        json!({"p": 1, "q": 1})
    );
    assert_eq!(
        json1(&format!("{base}m:\n  <<: [{{p: 3}}, *b]\n"))["m"],
        json!({"p": 3, "q": 1})
    );
}

#[test]
fn documents_skip_empty_ones_and_accept_a_byte_order_mark() {
    let docs = documents("\u{FEFF}a: 1\n---\n---\n~\n---\nb: 2\n").unwrap();
    assert_eq!(docs, [json!({"a": 1}), json!({"b": 2})]);
    assert_eq!(value("").unwrap(), Value::Null);
    assert_eq!(value("- a\n---\n- b\n").unwrap(), json!(["a"]));
}

// ---- the writer --------------------------------------------------------------------------------

fn roundtrip_json(want: &Value) {
    let text = to_string(want).unwrap();
    // go-yaml v2 (client-go, kubeadm) and v3 (kind) read it back unchanged...
    assert_eq!(&value(&text).unwrap(), want, "v2 reading {text:?}");
    let v3: Value = from_str(&text).unwrap();
    assert_eq!(&v3, want, "v3 reading {text:?}");
    // ... and so does an independent YAML 1.2 reader.
    assert_eq!(&yaml12(&text), want, "YAML 1.2 reading {text:?}");
}

/// `text` read by the saphyr crate (YAML 1.2 core schema), as JSON.
fn yaml12(text: &str) -> Value {
    use saphyr::{LoadableYamlNode, Scalar, Yaml};
    fn conv(y: &Yaml) -> Value {
        match y {
            Yaml::Value(Scalar::Null) => Value::Null,
            Yaml::Value(Scalar::Boolean(b)) => json!(b),
            Yaml::Value(Scalar::Integer(i)) => json!(i),
            Yaml::Value(Scalar::FloatingPoint(f)) => json!(f.into_inner()),
            Yaml::Value(Scalar::String(s)) => json!(s.as_ref()),
            Yaml::Sequence(items) => Value::Array(items.iter().map(conv).collect()),
            Yaml::Mapping(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| match conv(k) {
                        Value::String(k) => (k, conv(v)),
                        other => (format!("(not a string: {other})"), conv(v)),
                    })
                    .collect(),
            ),
            other => json!(format!("(unexpected node {other:?})")),
        }
    }
    let docs = Yaml::load_from_str(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(docs.len(), 1, "{text:?}");
    conv(&docs[0])
}

/// Reads every document of `text` as go-yaml v2 (client-go, kubeadm, kubectl), go-yaml v3 (kind)
/// and a YAML 1.2 reader do, asserts that the three agree on every value, and returns the
/// documents. For tests of the files kindling writes (kubeadm configs, manifests).
pub(crate) fn read_back_everywhere(text: &str) -> Vec<Value> {
    let stream = node::parse(text, false).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let budget = de::Budget::new(stream.nodes);
    let v2: Vec<Value> = stream
        .documents
        .iter()
        .map(|d| json::value(d, &budget).unwrap())
        .collect();
    let v3: Vec<Value> = stream
        .documents
        .iter()
        .map(|d| Value::deserialize(de::De::root(d, &budget)).unwrap())
        .collect();
    assert_eq!(v2, v3, "go-yaml v2 and v3 read this differently:\n{text}");
    let v12: Vec<Value> = text.split("\n---\n").map(yaml12).collect();
    assert_eq!(
        v2, v12,
        "YAML 1.1 and 1.2 readers read this differently:\n{text}"
    );
    v2
}

/// Every string in a JSON value.
pub(crate) fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                strings_in(v, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_special_string_reads_back_unchanged_everywhere() {
    for s in super::trouble::SPECIAL_STRINGS {
        // As a value, a list item, a key, and at the top level.
        roundtrip_json(&json!({ "k": s }));
        roundtrip_json(&json!({ "k": [s, { "n": s }] }));
        if !s.is_empty() {
            roundtrip_json(&json!({ *s: "v" }));
        }
        let text = to_string(s).unwrap();
        assert_eq!(value(&text).unwrap(), json!(s), "{text:?}");
    }
}

#[test]
fn numbers_booleans_and_nulls_keep_their_types() {
    roundtrip_json(&json!({
        "int": 6443, "neg": -1, "big": i64::MAX, "small": i64::MIN, "float": 1.5, "whole": 2.0, "tiny": 1e-300,
        "huge": 1e300, "bool": true, "null": null, "empty": {}, "none": [], "nested": [[1], [[]]]
    }));
}

#[test]
fn long_keys_use_the_explicit_form() {
    let key = "k".repeat(1500);
    roundtrip_json(&json!({ key.clone(): {"a": [1, 2]}, "b": key }));
    let text = to_string(&json!({ key.clone(): "v" })).unwrap();
    assert!(text.starts_with("? "), "{text}");
}

#[test]
fn writer_output_is_block_style_like_kubectls() {
    let text = to_string(&json!({
        "apiVersion": "v1",
        "clusters": [{"cluster": {"server": "https://127.0.0.1:6443"}, "name": "kind-a"}],
        "preferences": {},
        "users": [{"name": "u", "user": {"exec": {"args": ["on", "1_000"], "command": "/bin/echo"}}}],
        "script": "#!/bin/sh\necho hi\n"
    }))
    .unwrap();
    assert_eq!(
        text,
        "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: kind-a\npreferences: {}\nscript: |\n  #!/bin/sh\n  echo hi\nusers:\n- name: u\n  user:\n    exec:\n      args:\n      - 'on'\n      - '1_000'\n      command: /bin/echo\n"
    );
}

#[test]
fn struct_field_order_is_kept() {
    #[derive(serde::Serialize)]
    struct S {
        z: u8,
        a: Option<&'static str>,
        m: Vec<(u8, u8)>,
    }
    let text = to_string(&S {
        z: 1,
        a: None,
        m: vec![(1, 2)],
    })
    .unwrap();
    assert_eq!(text, "z: 1\na: null\nm:\n- - 1\n  - 2\n");
}

#[test]
fn generated_strings_read_back_unchanged_everywhere() {
    for s in super::trouble::generated_strings(3000, 0x5eed) {
        roundtrip_json(&json!({ "k": s, "l": [s], s.clone(): 1 }));
    }
}

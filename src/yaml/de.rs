//! Decoding a node tree into Rust types the way go-yaml v3 decodes into Go structs (kind's
//! config decoder): null is the zero value at every level (so "unset"), a null item of a list is
//! dropped, any scalar's text fits a string field, `yes`/`on`/... fit a boolean field, numbers
//! fit integer fields when they are whole and in range, keys must be unique in every mapping,
//! and merge keys (`<<`) add the keys a mapping does not set itself.

use super::YamlError;
use super::node::{Kind, Node, Style};
use super::resolve::{self, Go, Resolved, Value};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;

/// How many nodes decoding may visit, so aliases cannot expand without bound.
pub(crate) struct Budget {
    used: Cell<usize>,
    limit: usize,
}

impl Budget {
    /// Room for every parsed node ten times over, plus a floor for small documents.
    pub fn new(nodes: usize) -> Budget {
        Budget {
            used: Cell::new(0),
            limit: nodes.saturating_mul(10).saturating_add(100_000),
        }
    }

    /// Counts one visit of `node`.
    pub fn spend(&self, node: &Node) -> Result<(), YamlError> {
        let used = self.used.get() + 1;
        self.used.set(used);
        if used > self.limit {
            return Err(YamlError {
                message: format!(
                    "the document expands aliases into more than {} nodes; refusing it",
                    self.limit
                ),
                location: Some(node.position()),
            });
        }
        Ok(())
    }
}

/// A decoding error, placed at the innermost node it concerns.
#[derive(Debug)]
pub(crate) struct Error {
    message: String,
    location: Option<(usize, usize)>,
    path: String,
}

impl Error {
    fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            location: None,
            path: String::new(),
        }
    }

    /// Places the error at `node` (under `path`) unless an inner node already claimed it.
    fn at(mut self, node: &Node, path: &str) -> Error {
        if self.location.is_none() {
            self.location = Some(node.position());
            self.path = path.to_string();
        }
        self
    }

    /// The error in the form the rest of kindling reports.
    pub fn into_yaml(self) -> YamlError {
        let message = if self.path.is_empty() {
            self.message
        } else {
            format!("{}: {}", self.path, self.message)
        };
        YamlError {
            message,
            location: self.location,
        }
    }
}

impl From<YamlError> for Error {
    fn from(e: YamlError) -> Error {
        Error {
            message: e.message,
            location: e.location,
            path: String::new(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(msg.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Error {
        let suggestion = expected
            .iter()
            .filter(|known| edit_distance(field, known) <= 2)
            .min_by_key(|known| edit_distance(field, known))
            .map(|known| format!("did you mean {known:?}? "))
            .unwrap_or_default();
        Error::new(format!(
            "unknown field {field:?}; {suggestion}known fields here: {}",
            expected.join(", ")
        ))
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Error {
        let found = match unexp {
            de::Unexpected::Unit => "null".to_string(),
            de::Unexpected::Str(s) => format!("the string {}", quote_short(s)),
            de::Unexpected::Map => "a mapping".to_string(),
            de::Unexpected::Seq => "a sequence".to_string(),
            other => other.to_string(),
        };
        Error::new(format!("expected {exp}, found {found}"))
    }
}

/// Levenshtein distance, for "did you mean" hints on unknown fields.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A short, quoted rendering of a value for messages.
fn quote_short(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}

/// Deserializes one node.
pub(crate) struct De<'a> {
    node: &'a Node,
    budget: &'a Budget,
    path: String,
}

impl<'a> De<'a> {
    /// The deserializer for a document's root.
    pub fn root(node: &'a Node, budget: &'a Budget) -> De<'a> {
        De {
            node,
            budget,
            path: String::new(),
        }
    }

    /// The resolved scalar, or `None` for a collection.
    fn scalar(&self) -> Result<Option<(Resolved<'a>, &'a str)>, Error> {
        self.budget.spend(self.node)?;
        let target = self.node.target();
        match &target.kind {
            Kind::Scalar { value, style } => {
                let r = resolve::resolve(Go::V3, target.tag.as_deref(), *style, value)
                    .map_err(|m| self.err(m))?;
                Ok(Some((r, value.as_str())))
            }
            _ => Ok(None),
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::new(message).at(self.node, &self.path)
    }

    /// "expected X, found Y" for this node.
    fn mismatch(&self, expected: &str) -> Error {
        self.err(format!(
            "expected {expected}, found {}",
            describe(self.node)
        ))
    }

    fn fail<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        result.map_err(|e| e.at(self.node, &self.path))
    }

    /// The value of an integer field, as go-yaml fills Go's intN types (floats that are whole
    /// numbers included; kind would truncate other floats, kindling refuses them).
    fn integer(&self, min: i128, max: i128) -> Result<i128, Error> {
        let Some((r, text)) = self.scalar()? else {
            return Err(self.mismatch("an integer"));
        };
        let out_of_range = |v: &dyn fmt::Display| {
            self.err(format!(
                "{v} is out of range for this field ({min} to {max})"
            ))
        };
        match r.value {
            Value::Null => Ok(0),
            Value::Int(i) if (min..=max).contains(&i) => Ok(i),
            Value::Int(i) => Err(out_of_range(&i)),
            Value::Float(f) if f.is_finite() => {
                let whole = f.trunc();
                if whole != f {
                    let note = if (min as f64..=max as f64).contains(&whole) {
                        format!("; kind would silently truncate it to {whole}")
                    } else {
                        String::new()
                    };
                    return Err(self.err(format!(
                        "{text} is not a whole number{note}, kindling refuses it"
                    )));
                }
                if (min as f64..=max as f64).contains(&whole) {
                    Ok(whole as i128)
                } else {
                    Err(out_of_range(&text))
                }
            }
            _ => Err(self.mismatch("an integer")),
        }
    }

    fn float(&self) -> Result<f64, Error> {
        let Some((r, _)) = self.scalar()? else {
            return Err(self.mismatch("a number"));
        };
        match r.value {
            Value::Null => Ok(0.0),
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            _ => Err(self.mismatch("a number")),
        }
    }

    /// A string field's value: the scalar's text whatever it resolves to (go-yaml sets a string
    /// field to the node's text), the decoded bytes of `!!binary`, empty for null.
    fn string(&self) -> Result<std::borrow::Cow<'a, str>, Error> {
        let Some((r, text)) = self.scalar()? else {
            return Err(self.mismatch("a string"));
        };
        Ok(match r.value {
            Value::Null => "".into(),
            Value::Str(s) => s,
            _ => text.into(),
        })
    }

    fn is_null(&self) -> Result<bool, Error> {
        Ok(matches!(
            self.scalar()?,
            Some((
                Resolved {
                    value: Value::Null,
                    ..
                },
                _
            ))
        ))
    }

    fn map_access(&self) -> Result<Option<MapAcc<'a>>, Error> {
        let target = self.node.target();
        match &target.kind {
            Kind::Map(_) => {
                self.budget.spend(self.node)?;
                let entries = self.fail(entries(target, self.budget, &self.path))?;
                Ok(Some(MapAcc {
                    entries: entries.into_iter(),
                    value: None,
                    key: String::new(),
                    budget: self.budget,
                    path: self.path.clone(),
                }))
            }
            _ => Ok(None),
        }
    }
}

/// What a node holds, in YAML words.
fn describe(node: &Node) -> String {
    let target = node.target();
    match &target.kind {
        Kind::Seq(_) => "a sequence".into(),
        Kind::Map(_) => "a mapping".into(),
        Kind::Alias(_) => "an alias".into(),
        Kind::Scalar { value, style } => {
            let tagged = target
                .tag
                .as_deref()
                .map(|t| format!(" (tagged {t})"))
                .unwrap_or_default();
            match resolve::resolve(Go::V3, target.tag.as_deref(), *style, value) {
                Err(_) => format!("{}{tagged}", quote_short(value)),
                Ok(r) => match r.value {
                    Value::Null => "null".into(),
                    Value::Bool(b) => format!("the boolean {b}"),
                    Value::Int(_) | Value::Float(_) => format!("the number {value}{tagged}"),
                    Value::Timestamp => format!("the timestamp {}", quote_short(value)),
                    Value::Str(s) => {
                        let quoted = matches!(style, Style::SingleQuoted | Style::DoubleQuoted)
                            && target.tag.is_none();
                        let hint = if quoted
                            && resolve::resolve(Go::V3, None, Style::Plain, &s).is_ok_and(|p| {
                                matches!(p.value, Value::Int(_) | Value::Float(_) | Value::Bool(_))
                            }) {
                            " (quoted, so a string: remove the quotes)"
                        } else {
                            ""
                        };
                        format!("the string {}{tagged}{hint}", quote_short(&s))
                    }
                },
            }
        }
    }
}

/// The key/value pairs a mapping decodes to: keys must be unique (by their text, as go-yaml
/// compares them), null keys are skipped (go-yaml cannot set them), and a merge key adds the
/// pairs of the mapping(s) it names whose keys are not set already, first mapping first.
fn entries<'a>(
    map: &'a Node,
    budget: &Budget,
    path: &str,
) -> Result<Vec<(&'a Node, &'a Node)>, Error> {
    let Kind::Map(pairs) = &map.kind else {
        return Ok(Vec::new());
    };
    check_unique(pairs, path)?;
    let mut out: Vec<(&Node, &Node)> = Vec::with_capacity(pairs.len());
    let mut merge = None;
    for (k, v) in pairs {
        budget.spend(k)?;
        if let Kind::Scalar { value, style } = &k.kind
            && resolve::is_merge_key(Go::V3, k.tag.as_deref(), *style, value)
        {
            merge = Some(&**v);
            continue;
        }
        if key_is_null(k) {
            continue;
        }
        out.push((k, v));
    }
    let Some(merge) = merge else {
        return Ok(out);
    };
    let want_map =
        || Error::new("map merge requires map or sequence of maps as the value").at(merge, path);
    let sources: Vec<&Node> = match &merge.target().kind {
        Kind::Map(_) => vec![merge.target()],
        Kind::Seq(items) => items
            .iter()
            .map(|item| match &item.target().kind {
                Kind::Map(_) => Ok(item.target()),
                _ => Err(want_map()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(want_map()),
    };
    for source in sources {
        for (k, v) in entries(source, budget, path)? {
            if !out.iter().any(|(have, _)| same_key(have, k)) {
                out.push((k, v));
            }
        }
    }
    Ok(out)
}

fn key_is_null(key: &Node) -> bool {
    let target = key.target();
    match &target.kind {
        Kind::Scalar { value, style } => matches!(
            resolve::resolve(Go::V3, target.tag.as_deref(), *style, value),
            Ok(Resolved {
                value: Value::Null,
                ..
            })
        ),
        _ => false,
    }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.target().kind, &b.target().kind) {
        (Kind::Scalar { value: x, .. }, Kind::Scalar { value: y, .. }) => x == y,
        _ => false,
    }
}

/// go-yaml v3's rule: two keys of one mapping with the same kind and text are an error,
/// reported at the later one.
fn check_unique(pairs: &[(std::rc::Rc<Node>, std::rc::Rc<Node>)], path: &str) -> Result<(), Error> {
    let mut seen: HashMap<(u8, String), usize> = HashMap::with_capacity(pairs.len());
    for (k, _) in pairs {
        let identity = match &k.kind {
            Kind::Scalar { value, .. } => (0, value.clone()),
            Kind::Alias(t) => (1, format!("{:p}", &**t)),
            Kind::Seq(_) => (2, String::new()),
            Kind::Map(_) => (3, String::new()),
        };
        if let Some(line) = seen.get(&identity) {
            let shown = match &k.kind {
                Kind::Scalar { value, .. } => quote_short(value),
                _ => describe(k),
            };
            return Err(Error::new(format!(
                "mapping key {shown} already defined at line {line}"
            ))
            .at(k, path));
        }
        seen.insert(identity, k.line);
    }
    Ok(())
}

/// Extends a path with a key (`a.b`, or `a["b c"]` when the key is not a plain word).
fn key_path(path: &str, key: &str) -> String {
    let word = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/'));
    match (path.is_empty(), word) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

macro_rules! integer_method {
    ($method:ident, $visit:ident, $t:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let v = self.integer(<$t>::MIN as i128, <$t>::MAX as i128)?;
            // In range by the check above.
            let v = <$t>::try_from(v).map_err(|_| self.err("integer out of range"))?;
            self.fail(visitor.$visit(v))
        }
    };
}

impl<'de, 'a> de::Deserializer<'de> for De<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some((r, text)) = self.scalar()? {
            let out = match r.value {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(b),
                Value::Int(i) => match i64::try_from(i) {
                    Ok(i) => visitor.visit_i64(i),
                    Err(_) => visitor.visit_u64(u64::try_from(i).unwrap_or(u64::MAX)),
                },
                Value::Float(f) => visitor.visit_f64(f),
                Value::Timestamp => visitor.visit_str(text),
                Value::Str(s) => visitor.visit_str(&s),
            };
            return self.fail(out);
        }
        if let Some(access) = self.map_access()? {
            return self.fail(visitor.visit_map(access));
        }
        match &self.node.target().kind {
            Kind::Seq(items) => {
                let access = SeqAcc::new(items, true, self.budget, &self.path);
                self.fail(visitor.visit_seq(access))
            }
            _ => Err(self.mismatch("a value")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let Some((r, _)) = self.scalar()? else {
            return Err(self.mismatch("a boolean (true or false)"));
        };
        let b = match r.value {
            Value::Null => false,
            Value::Bool(b) => b,
            // go-yaml v3 reads YAML 1.1's spellings into a boolean field, quoted or not.
            Value::Str(s)
                if !matches!(&*s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") =>
            {
                match resolve::yaml11_bool(&s) {
                    Some(b) => b,
                    None => return Err(self.mismatch("a boolean (true or false)")),
                }
            }
            _ => return Err(self.mismatch("a boolean (true or false)")),
        };
        self.fail(visitor.visit_bool(b))
    }

    integer_method!(deserialize_i8, visit_i8, i8);
    integer_method!(deserialize_i16, visit_i16, i16);
    integer_method!(deserialize_i32, visit_i32, i32);
    integer_method!(deserialize_i64, visit_i64, i64);
    integer_method!(deserialize_u8, visit_u8, u8);
    integer_method!(deserialize_u16, visit_u16, u16);
    integer_method!(deserialize_u32, visit_u32, u32);
    integer_method!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let f = self.float()?;
        self.fail(visitor.visit_f32(f as f32))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let f = self.float()?;
        self.fail(visitor.visit_f64(f))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = self.string()?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => self.fail(visitor.visit_char(c)),
            _ => Err(self.mismatch("a single character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = self.string()?;
        self.fail(visitor.visit_str(&s))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let s = self.string()?;
        self.fail(visitor.visit_bytes(s.as_bytes()))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null()? {
            self.fail(visitor.visit_none())
        } else {
            let (node, path) = (self.node, self.path.clone());
            visitor.visit_some(self).map_err(|e| e.at(node, &path))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_null()? {
            self.fail(visitor.visit_unit())
        } else {
            Err(self.mismatch("null"))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.budget.spend(self.node)?;
        match &self.node.target().kind {
            // go-yaml drops a null item of a list of strings or structs (it cannot set one).
            Kind::Seq(items) => {
                let access = SeqAcc::new(items, false, self.budget, &self.path);
                self.fail(visitor.visit_seq(access))
            }
            _ if self.is_null()? => {
                let access = SeqAcc::new(&[], false, self.budget, &self.path);
                self.fail(visitor.visit_seq(access))
            }
            _ => Err(self.mismatch("a sequence (a YAML list)")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some(access) = self.map_access()? {
            return self.fail(visitor.visit_map(access));
        }
        if self.is_null()? {
            let access = MapAcc {
                entries: Vec::new().into_iter(),
                value: None,
                key: String::new(),
                budget: self.budget,
                path: self.path.clone(),
            };
            return self.fail(visitor.visit_map(access));
        }
        Err(self.mismatch("a mapping"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let s = self.string()?.into_owned();
        let access: de::value::StringDeserializer<Error> = s.into_deserializer();
        self.fail(visitor.visit_enum(access))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // Like go-yaml decoding into a struct without the field: the value is not looked at.
        visitor.visit_unit()
    }
}

struct SeqAcc<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, std::rc::Rc<Node>>>,
    keep_nulls: bool,
    budget: &'a Budget,
    path: String,
}

impl<'a> SeqAcc<'a> {
    fn new(
        items: &'a [std::rc::Rc<Node>],
        keep_nulls: bool,
        budget: &'a Budget,
        path: &str,
    ) -> SeqAcc<'a> {
        SeqAcc {
            items: items.iter().enumerate(),
            keep_nulls,
            budget,
            path: path.to_string(),
        }
    }
}

impl<'de> SeqAccess<'de> for SeqAcc<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        for (i, item) in self.items.by_ref() {
            let de = De {
                node: item,
                budget: self.budget,
                path: format!("{}[{i}]", self.path),
            };
            if !self.keep_nulls && de.is_null()? {
                continue;
            }
            return seed.deserialize(de).map(Some);
        }
        Ok(None)
    }
}

struct MapAcc<'a> {
    entries: std::vec::IntoIter<(&'a Node, &'a Node)>,
    value: Option<&'a Node>,
    key: String,
    budget: &'a Budget,
    path: String,
}

impl<'de> MapAccess<'de> for MapAcc<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let target = key.target();
        let text = match &target.kind {
            Kind::Scalar { value, style } => {
                match resolve::resolve(Go::V3, target.tag.as_deref(), *style, value) {
                    Ok(Resolved {
                        value: Value::Str(s),
                        ..
                    }) => s.into_owned(),
                    Ok(_) => value.clone(),
                    Err(m) => return Err(Error::new(m).at(key, &self.path)),
                }
            }
            _ => {
                return Err(Error::new(format!(
                    "a mapping key must be a scalar, found {}",
                    describe(key)
                ))
                .at(key, &self.path));
            }
        };
        self.key.clone_from(&text);
        let path = self.path.clone();
        seed.deserialize(KeyDe(text))
            .map(Some)
            .map_err(|e| e.at(key, &path))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some(node) = self.value.take() else {
            return Err(Error::new("a mapping value was asked for before its key"));
        };
        let de = De {
            node,
            budget: self.budget,
            path: key_path(&self.path, &self.key),
        };
        seed.deserialize(de)
    }
}

/// A mapping key: always read as a string (every map kind's config has string keys).
struct KeyDe(String);

impl<'de> de::Deserializer<'de> for KeyDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

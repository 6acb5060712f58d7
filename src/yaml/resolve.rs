//! What a scalar means, as Go's YAML libraries decide it, and which strings a writer may leave
//! unquoted.
//!
//! Readers: go-yaml v3 (kind reads its config with it) and go-yaml v2 (sigs.k8s.io/yaml, so
//! client-go reading kubeconfigs, kubeadm reading its config, kubectl reading manifests, kind
//! reading kubeadm patches). Both follow YAML 1.1 for numbers (`0777` is octal, `_` separates
//! digits); v2 also reads `y`, `yes`, `on`, `off` ... as booleans, v3 only when decoding into a
//! boolean field.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use std::borrow::Cow;

use super::node::Style;

/// Which go-yaml major version's rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Go {
    /// go-yaml v2 (via sigs.k8s.io/yaml): client-go, kubeadm, kubectl.
    V2,
    /// go-yaml v3: kind's config decoder.
    V3,
}

/// A resolved scalar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    /// Any integer Go would produce (int, int64 or uint64).
    Int(i128),
    Float(f64),
    /// Looks like a date or time; Go keeps the text for strings (and v2 everywhere).
    Timestamp,
    /// A string: the scalar's text, or the decoded bytes of a `!!binary` scalar.
    Str(Cow<'a, str>),
}

/// A scalar with the tag it resolved to (short form, `!!int`), for messages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved<'a> {
    pub tag: String,
    pub value: Value<'a>,
}

/// Resolves a scalar as go-yaml `go` does, given its explicit tag and style. An error is the
/// reason go-yaml refuses the scalar whatever it is decoded into (a tag that does not fit, bad
/// base64).
pub(crate) fn resolve<'a>(
    go: Go,
    tag: Option<&str>,
    style: Style,
    text: &'a str,
) -> Result<Resolved<'a>, String> {
    let (tag, value) = match go {
        Go::V3 => {
            // The parser gives every node a tag: the explicit one (unless `!`), `!!str` for
            // quoted and block scalars, else what the plain text resolves to.
            let node_tag = match tag {
                Some(t) if t != "!" => t.to_string(),
                _ if style != Style::Plain => "!!str".to_string(),
                _ if text == "<<" => "!!merge".to_string(),
                _ => go_resolve(go, "", text)?.0,
            };
            if node_tag == "!!str" {
                (node_tag, Value::Str(Cow::Borrowed(text)))
            } else {
                go_resolve(go, &node_tag, text)?
            }
        }
        Go::V2 => {
            let implicit = (style == Style::Plain && tag.is_none()) || tag == Some("!");
            match tag {
                None if !implicit => ("!!str".to_string(), Value::Str(Cow::Borrowed(text))),
                _ => go_resolve(go, tag.unwrap_or(""), text)?,
            }
        }
    };
    if tag == "!!binary" {
        return Ok(Resolved {
            tag,
            value: Value::Str(Cow::Owned(decode_binary(text)?)),
        });
    }
    Ok(Resolved { tag, value })
}

/// True when `<<` in a key position is a merge key under `go`'s rules.
pub(crate) fn is_merge_key(go: Go, tag: Option<&str>, style: Style, text: &str) -> bool {
    if text != "<<" {
        return false;
    }
    match (go, tag) {
        (_, Some("!!merge")) => true,
        (Go::V3, None | Some("!")) => style == Style::Plain,
        (Go::V2, None) => style == Style::Plain,
        (Go::V2, Some("!")) => true,
        _ => false,
    }
}

fn decode_binary(text: &str) -> Result<String, String> {
    // Go's StdEncoding skips line breaks and tolerates non-zero trailing bits.
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let compact: String = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    let bytes = ENGINE
        .decode(compact)
        .map_err(|_| "!!binary value contains invalid base64 data".to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn resolvable(tag: &str) -> bool {
    matches!(
        tag,
        "" | "!!str" | "!!bool" | "!!int" | "!!float" | "!!null" | "!!timestamp"
    )
}

/// go-yaml's `resolve(tag, in)`: the tag and value of a plain scalar (or of a tagged one, with
/// go-yaml's check that the text fits the tag).
fn go_resolve<'a>(go: Go, tag: &str, text: &'a str) -> Result<(String, Value<'a>), String> {
    if !resolvable(tag) {
        return Ok((tag.to_string(), Value::Str(Cow::Borrowed(text))));
    }
    let (rtag, value) = resolve_untagged(go, tag, text);
    match tag {
        "" | "!!str" => Ok((rtag.to_string(), value)),
        t if t == rtag => Ok((rtag.to_string(), value)),
        "!!float" if rtag == "!!int" => match value {
            Value::Int(i) => Ok(("!!float".to_string(), Value::Float(i as f64))),
            _ => Err(format!("cannot decode {rtag} `{text}` as a {tag}")),
        },
        _ => Err(format!("cannot decode {rtag} `{text}` as a {tag}")),
    }
}

fn resolve_untagged<'a>(go: Go, tag: &str, text: &'a str) -> (&'static str, Value<'a>) {
    let string = ("!!str", Value::Str(Cow::Borrowed(text)));
    if tag == "!!str" {
        return string;
    }
    let hint = match text.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return string,
    };
    if let Some(v) = keyword(go, text) {
        return v;
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(text).filter(|_| dot_float(text)) {
                return ("!!float", Value::Float(f));
            }
        }
        b'D' | b'S' => {
            if (tag.is_empty() || tag == "!!timestamp") && is_go_timestamp(text) {
                return ("!!timestamp", Value::Timestamp);
            }
            let plain = text.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                return ("!!int", Value::Int(i.into()));
            }
            if let Some(u) = go_parse_uint(&plain) {
                return ("!!int", Value::Int(u.into()));
            }
            if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                return ("!!float", Value::Float(f));
            }
            // go-yaml's own prefix handling, reached only when Go's parser refused the text.
            let prefixed = [
                ("0b", 2, false),
                ("-0b", 2, true),
                ("0o", 8, false),
                ("-0o", 8, true),
            ];
            for (prefix, radix, negative) in prefixed {
                if go == Go::V2 && radix == 8 {
                    continue;
                }
                if let Some(digits) = plain.strip_prefix(prefix) {
                    let digits = if negative {
                        format!("-{digits}")
                    } else {
                        digits.to_string()
                    };
                    if let Some(i) = parse_signed_radix(&digits, radix) {
                        return ("!!int", Value::Int(i.into()));
                    }
                    if !negative && let Some(u) = parse_unsigned_radix(&digits, radix) {
                        return ("!!int", Value::Int(u.into()));
                    }
                }
            }
        }
        _ => {}
    }
    string
}

fn keyword(go: Go, text: &str) -> Option<(&'static str, Value<'static>)> {
    let v = match text {
        "true" | "True" | "TRUE" => ("!!bool", Value::Bool(true)),
        "false" | "False" | "FALSE" => ("!!bool", Value::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => ("!!null", Value::Null),
        ".nan" | ".NaN" | ".NAN" => ("!!float", Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            ("!!float", Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => ("!!float", Value::Float(f64::NEG_INFINITY)),
        "<<" => ("!!merge", Value::Str(Cow::Borrowed("<<"))),
        _ if go == Go::V2 => ("!!bool", Value::Bool(yaml11_bool(text)?)),
        _ => return None,
    };
    Some(v)
}

/// The YAML 1.1 booleans beyond `true`/`false` (go-yaml v2 reads them anywhere; v3 when
/// decoding into a boolean).
pub(crate) fn yaml11_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
fn go_parse_uint(s: &str) -> Option<u64> {
    let (radix, digits) = go_base_prefix(s)?;
    parse_unsigned_radix(digits, radix)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_parse_uint(body)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's base-0 prefixes: `0x`, `0o`, `0b` (either case), a bare leading `0` for octal.
fn go_base_prefix(s: &str) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b[0] != b'0' {
        return Some((10, s));
    }
    if b.len() >= 3 {
        match b[1].to_ascii_lowercase() {
            b'x' => return Some((16, &s[2..])),
            b'o' => return Some((8, &s[2..])),
            b'b' => return Some((2, &s[2..])),
            _ => {}
        }
    }
    if b.len() == 1 {
        return Some((10, s));
    }
    Some((8, &s[1..]))
}

fn parse_unsigned_radix(digits: &str, radix: u32) -> Option<u64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn parse_signed_radix(digits: &str, radix: u32) -> Option<i64> {
    let body = digits.strip_prefix(['+', '-']).unwrap_or(digits);
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(digits, radix).ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's float syntax.
pub(crate) fn yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && all_digits(frac),
        Some((int, frac)) => !int.is_empty() && all_digits(int) && all_digits(frac),
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// What Go's `strconv.ParseFloat` accepts after a leading `.`: `.5`, `.5e3`.
fn dot_float(s: &str) -> bool {
    s.starts_with('.') && yaml_style_float(s)
}

/// Go's `ParseFloat` on text already known to be decimal syntax: out of range is an error.
fn go_parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// go-yaml's timestamp shapes: `2006-1-2`, `2006-1-2 15:4:5[.frac]`, `2006-1-2T15:4:5[.frac]Z|±hh:mm`.
fn is_go_timestamp(s: &str) -> bool {
    fn number(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
        let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
        if n < min {
            return None;
        }
        Some((s[..n].parse().ok()?, &s[n..]))
    }
    let Some((_, rest)) = number(s, 4, 4) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let Some((month, rest)) = number(rest, 1, 2) else {
        return false;
    };
    let Some((day, rest)) = rest.strip_prefix('-').and_then(|r| number(r, 1, 2)) else {
        return false;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let (zoned, rest) = match rest.as_bytes()[0] {
        b'T' | b't' => (true, &rest[1..]),
        b' ' => (false, &rest[1..]),
        _ => return false,
    };
    let time = (|| {
        let (h, r) = number(rest, 1, 2)?;
        let (m, r) = number(r.strip_prefix(':')?, 1, 2)?;
        let (sec, mut r) = number(r.strip_prefix(':')?, 1, 2)?;
        if h > 23 || m > 59 || sec > 59 {
            return None;
        }
        if let Some(frac) = r.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            r = &frac[n..];
        }
        Some(r)
    })();
    let Some(rest) = time else {
        return false;
    };
    if !zoned {
        return rest.is_empty();
    }
    if rest == "Z" {
        return true;
    }
    let Some(zone) = rest.strip_prefix(['+', '-']) else {
        return false;
    };
    let b = zone.as_bytes();
    b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
}

// ---- the writer's side ------------------------------------------------------------------------

/// True when `s`, written as a plain (unquoted) scalar, reads back as the same string under
/// every reader kindling's files meet: go-yaml v2 and v3, YAML 1.1 (the spec's types, as
/// PyYAML reads them: sexagesimal numbers, timestamps, `=`, `<<`) and YAML 1.2's core schema.
/// It also keeps to plain scalars that no YAML parser reads differently: printable ASCII,
/// no indicator at the start, no `: ` or ` #`, no leading or trailing space.
pub(crate) fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let shape_ok = s.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
        && !matches!(
            first,
            '?' | ':'
                | ','
                | '['
                | ']'
                | '{'
                | '}'
                | '#'
                | '&'
                | '*'
                | '!'
                | '|'
                | '>'
                | '\''
                | '"'
                | '%'
                | '@'
                | '`'
        )
        && !(first == '-' && (s.len() == 1 || s.as_bytes()[1] == b' ' || s.starts_with("---")))
        && !s.starts_with("...");
    if !shape_ok {
        return false;
    }
    for go in [Go::V2, Go::V3] {
        match resolve(go, None, Style::Plain, s) {
            Ok(r) if r.tag == "!!str" => {}
            _ => return false,
        }
    }
    !(yaml11_implicit(s) || yaml12_core_implicit(s))
}

/// YAML 1.1's implicit types (yaml.org/type, as PyYAML resolves them).
fn yaml11_implicit(s: &str) -> bool {
    if yaml11_bool(s).is_some() || matches!(s, "~" | "null" | "Null" | "NULL" | "" | "<<" | "=") {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    // Integers: binary, octal (leading 0), decimal, hex, sexagesimal; `_` allowed in digits.
    let digits_with =
        |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c == '_' || c.is_digit(radix));
    if let Some(t) = body.strip_prefix("0b")
        && digits_with(t, 2)
    {
        return true;
    }
    if let Some(t) = body.strip_prefix("0x")
        && digits_with(t, 16)
    {
        return true;
    }
    if digits_with(body, 10) && body.starts_with(|c: char| c.is_ascii_digit()) {
        return true;
    }
    if sexagesimal(body) {
        return true;
    }
    // Floats: `[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?`, `\.[0-9_]+(...)?`, `.inf`, `.nan`.
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        e.strip_prefix(['+', '-'])
            .is_some_and(|d| !d.is_empty() && all_digits(d))
    });
    if exponent_ok && let Some((int, frac)) = mantissa.split_once('.') {
        let frac_ok = frac.chars().all(|c| c == '_' || c.is_ascii_digit());
        let int_ok = if int.is_empty() {
            !frac.is_empty()
        } else {
            int.starts_with(|c: char| c.is_ascii_digit()) && digits_with(int, 10)
        };
        if int_ok && frac_ok {
            return true;
        }
    }
    if matches!(body, ".inf" | ".Inf" | ".INF") || matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // Timestamps start with a four-digit year and a dash.
    let b = s.as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// `[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`, YAML 1.1's base-60 numbers (`1:20`, `190:20:30.15`).
fn sexagesimal(s: &str) -> bool {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c == '_' || c.is_ascii_digit())) {
        return false;
    }
    let mut parts = whole.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    if head.is_empty()
        || !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c == '_' || c.is_ascii_digit())
    {
        return false;
    }
    let mut any = false;
    for part in parts {
        any = true;
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// YAML 1.2 core schema: null, bool, int (decimal, `0o`, `0x`) and float.
fn yaml12_core_implicit(s: &str) -> bool {
    if matches!(
        s,
        "null"
            | "Null"
            | "NULL"
            | "~"
            | ""
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
    ) {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !body.is_empty() && all_digits(body) {
        return true;
    }
    if let Some(t) = s.strip_prefix("0o")
        && !t.is_empty()
        && t.chars().all(|c| c.is_digit(8))
    {
        return true;
    }
    if let Some(t) = s.strip_prefix("0x")
        && !t.is_empty()
        && t.chars().all(|c| c.is_ascii_hexdigit())
    {
        return true;
    }
    yaml_style_float(s)
        || matches!(body, ".inf" | ".Inf" | ".INF")
        || matches!(s, ".nan" | ".NaN" | ".NAN")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(go: Go, text: &str) -> Value<'_> {
        resolve(go, None, Style::Plain, text).unwrap().value
    }

    #[test]
    fn numbers_as_go_reads_them() {
        for go in [Go::V2, Go::V3] {
            assert_eq!(v(go, "6443"), Value::Int(6443));
            assert_eq!(v(go, "6_443"), Value::Int(6443));
            assert_eq!(v(go, "0177777"), Value::Int(0o177777));
            assert_eq!(v(go, "0x1F"), Value::Int(31));
            assert_eq!(v(go, "0o17"), Value::Int(15));
            assert_eq!(v(go, "0b101"), Value::Int(5));
            assert_eq!(v(go, "-0x10"), Value::Int(-16));
            assert_eq!(v(go, "+12"), Value::Int(12));
            assert_eq!(v(go, "00"), Value::Int(0));
            assert_eq!(v(go, "18446744073709551615"), Value::Int(u64::MAX.into()));
            assert_eq!(v(go, "6443.0"), Value::Float(6443.0));
            assert_eq!(v(go, "6.443e3"), Value::Float(6443.0));
            assert_eq!(v(go, "1e3"), Value::Float(1000.0));
            assert_eq!(v(go, ".5"), Value::Float(0.5));
            // Not an octal number, but a float for go-yaml.
            assert_eq!(v(go, "08"), Value::Float(8.0));
            assert_eq!(v(go, "1e400"), Value::Str("1e400".into()));
            assert_eq!(v(go, "1:20"), Value::Str("1:20".into()));
            assert_eq!(v(go, "0x"), Value::Str("0x".into()));
            assert_eq!(v(go, ".inf"), Value::Float(f64::INFINITY));
            assert_eq!(v(go, "2001-12-14"), Value::Timestamp);
            assert_eq!(v(go, "2001-12-14t21:59:43.10-05:00"), Value::Timestamp);
            assert_eq!(v(go, "2001-13-14"), Value::Str("2001-13-14".into()));
        }
        // go-yaml v3's own fallback for its `0o` prefix.
        assert_eq!(v(Go::V3, "0o-7"), Value::Int(-7));
    }

    #[test]
    fn booleans_and_nulls() {
        assert_eq!(v(Go::V2, "on"), Value::Bool(true));
        assert_eq!(v(Go::V2, "N"), Value::Bool(false));
        assert_eq!(v(Go::V3, "on"), Value::Str("on".into()));
        for go in [Go::V2, Go::V3] {
            assert_eq!(v(go, "True"), Value::Bool(true));
            assert_eq!(v(go, "~"), Value::Null);
            assert_eq!(v(go, ""), Value::Null);
            assert_eq!(v(go, "nULL"), Value::Str("nULL".into()));
        }
    }

    #[test]
    fn tags_and_styles() {
        let r = |go, tag, style, text| resolve(go, tag, style, text);
        for go in [Go::V2, Go::V3] {
            assert_eq!(
                r(go, Some("!!int"), Style::DoubleQuoted, "6443")
                    .unwrap()
                    .value,
                Value::Int(6443)
            );
            assert_eq!(
                r(go, None, Style::DoubleQuoted, "6443").unwrap().value,
                Value::Str("6443".into())
            );
            assert_eq!(
                r(go, Some("!!str"), Style::Plain, "6443").unwrap().value,
                Value::Str("6443".into())
            );
            assert_eq!(
                r(go, Some("!!float"), Style::Plain, "1").unwrap().value,
                Value::Float(1.0)
            );
            assert_eq!(
                r(go, Some("!!binary"), Style::Plain, "a2lu\nZA==")
                    .unwrap()
                    .value,
                Value::Str("kind".into())
            );
            assert!(r(go, Some("!!binary"), Style::Plain, "a2l").is_err());
            assert!(r(go, Some("!!int"), Style::Plain, "abc").is_err());
            assert!(r(go, Some("!!bool"), Style::Plain, "maybe").is_err());
            assert_eq!(
                r(go, Some("!!null"), Style::Plain, "").unwrap().value,
                Value::Null
            );
            assert_eq!(
                r(go, Some("!custom"), Style::Plain, "12").unwrap().value,
                Value::Str("12".into())
            );
        }
        // `yes` is a boolean only for v2.
        assert!(r(Go::V3, Some("!!bool"), Style::Plain, "yes").is_err());
        assert_eq!(
            r(Go::V2, Some("!!bool"), Style::Plain, "yes")
                .unwrap()
                .value,
            Value::Bool(true)
        );
        // The non-specific tag: v3 resolves the plain text, v2 keeps it a string.
        assert_eq!(
            r(Go::V3, Some("!"), Style::Plain, "12").unwrap().value,
            Value::Int(12)
        );
        assert_eq!(
            r(Go::V2, Some("!"), Style::Plain, "12").unwrap().value,
            Value::Str("12".into())
        );
    }

    #[test]
    fn plain_only_when_every_reader_sees_the_same_string() {
        for s in [
            "a",
            "kind-dev",
            "https://127.0.0.1:6443",
            "10.96.0.0/16",
            "172.18.0.2",
            "v1.29.14",
            "unix:///run/containerd/containerd.sock",
            "kind://docker/kind/kind-control-plane",
            "-v=6",
            "a b",
            "sha256:0f1e",
            "client.authentication.k8s.io/v1",
            "nodefs.available",
        ] {
            assert!(plain_is_safe(s), "{s:?} should stay plain");
        }
        for s in [
            "",
            "on",
            "On",
            "ON",
            "off",
            "y",
            "Y",
            "n",
            "N",
            "yes",
            "no",
            "true",
            "False",
            "~",
            "null",
            "NULL",
            "1_000",
            "0x1F",
            "0o17",
            "017",
            "1:20",
            "190:20:30.15",
            ".inf",
            "-.Inf",
            ".nan",
            "1e3",
            "6443",
            "-1",
            "+1",
            "1.5",
            "1.",
            "0b101",
            "2001-12-14",
            "2001-12-14 21:59:43.10 -5",
            "<<",
            "=",
            " a",
            "a ",
            "a: b",
            "a #b",
            "#a",
            "-",
            "- a",
            "---",
            "?",
            ":",
            "[a]",
            "{a}",
            "*a",
            "&a",
            "!a",
            "|",
            ">",
            "'a'",
            "\"a\"",
            "%a",
            "@a",
            "`a",
            "a\tb",
            "a\nb",
            "é",
            "a:",
            "0",
            "1_0.5",
            "._5",
        ] {
            assert!(!plain_is_safe(s), "{s:?} must be quoted");
        }
    }
}

//! The writer: block style, two-space indentation, lists at their key's indentation (as kubectl
//! writes them). A string is left unquoted only when every reader kindling's files meet reads it
//! back as the same string ([`resolve::plain_is_safe`]); otherwise it is single-quoted, or
//! double-quoted with escapes when it holds characters single quotes cannot carry. Multi-line
//! strings are literal blocks (`|`) when that is exact.

use super::resolve;
use super::ser::{Error, Out};
use super::text::is_printable;
use std::fmt::Write;

/// Implicit keys longer than this are written in the explicit `? key` form (YAML limits simple
/// keys to 1024 characters).
const MAX_SIMPLE_KEY: usize = 1000;

/// One document's text, ending with a newline.
pub(crate) fn document(value: &Out) -> Result<String, Error> {
    let mut buf = String::new();
    match value {
        Out::Map(pairs) if !pairs.is_empty() => map(&mut buf, pairs, 0, false)?,
        Out::Seq(items) if !items.is_empty() => seq(&mut buf, items, 0, false)?,
        other => {
            buf.push_str(&inline(other)?);
            buf.push('\n');
        }
    }
    Ok(buf)
}

fn pad(buf: &mut String, indent: usize) {
    buf.extend(std::iter::repeat_n(' ', indent));
}

/// A mapping at `indent`; with `continued`, the first key goes on the current line (after `- `).
fn map(
    buf: &mut String,
    pairs: &[(Out, Out)],
    indent: usize,
    continued: bool,
) -> Result<(), Error> {
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 || !continued {
            pad(buf, indent);
        }
        let key = key_text(key)?;
        if key.chars().count() > MAX_SIMPLE_KEY {
            buf.push_str("? ");
            buf.push_str(&key);
            buf.push('\n');
            pad(buf, indent);
            buf.push(':');
            item_body(buf, value, indent)?;
            continue;
        }
        buf.push_str(&key);
        buf.push(':');
        match value {
            Out::Map(m) if !m.is_empty() => {
                buf.push('\n');
                map(buf, m, indent + 2, false)?;
            }
            Out::Seq(s) if !s.is_empty() => {
                buf.push('\n');
                seq(buf, s, indent, false)?;
            }
            other => {
                buf.push(' ');
                scalar_or_block(buf, other, indent + 2)?;
            }
        }
    }
    Ok(())
}

/// A sequence at `indent`; with `continued`, the first `- ` goes on the current line.
fn seq(buf: &mut String, items: &[Out], indent: usize, continued: bool) -> Result<(), Error> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !continued {
            pad(buf, indent);
        }
        buf.push('-');
        item_body(buf, item, indent)?;
    }
    Ok(())
}

/// What follows a `-` (or the `:` of an explicit key): a scalar or block on the same line, or a
/// collection whose first line continues this one.
fn item_body(buf: &mut String, item: &Out, indent: usize) -> Result<(), Error> {
    buf.push(' ');
    match item {
        Out::Map(m) if !m.is_empty() => map(buf, m, indent + 2, true),
        Out::Seq(s) if !s.is_empty() => seq(buf, s, indent + 2, true),
        other => scalar_or_block(buf, other, indent + 2),
    }
}

/// A scalar (or empty collection) after `key: ` or `- `, ending the line; multi-line strings
/// become literal blocks indented to `content_indent`.
fn scalar_or_block(buf: &mut String, value: &Out, content_indent: usize) -> Result<(), Error> {
    if let Out::Str(s) = value
        && let Some(header) = literal_header(s)
    {
        buf.push_str(header);
        buf.push('\n');
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            if !line.is_empty() {
                pad(buf, content_indent);
                buf.push_str(line);
            }
            buf.push('\n');
        }
        return Ok(());
    }
    buf.push_str(&inline(value)?);
    buf.push('\n');
    Ok(())
}

/// The literal block header (`|`, `|-`, `|+`) for a string that a literal block carries exactly,
/// or `None`.
fn literal_header(s: &str) -> Option<&'static str> {
    if !s.contains('\n') || s.starts_with([' ', '\t', '\n']) {
        return None;
    }
    let plain_chars = s.chars().all(|c| {
        is_printable(c) && !matches!(c, '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}')
    });
    if !plain_chars || s.split('\n').any(|line| line.starts_with('\t')) {
        return None;
    }
    Some(if !s.ends_with('\n') {
        "|-"
    } else if s.ends_with("\n\n") {
        "|+"
    } else {
        "|"
    })
}

/// A key on one line.
fn key_text(key: &Out) -> Result<String, Error> {
    match key {
        Out::Seq(_) | Out::Map(_) => Err(Error::custom_msg(
            "a mapping key must be a string or a number, not a collection",
        )),
        other => inline(other),
    }
}

/// A scalar (or empty collection) on one line.
fn inline(value: &Out) -> Result<String, Error> {
    Ok(match value {
        Out::Null => "null".into(),
        Out::Bool(b) => b.to_string(),
        Out::Int(i) => i.to_string(),
        Out::Float(f) => float(*f),
        Out::Str(s) => string(s),
        Out::Seq(items) if items.is_empty() => "[]".into(),
        Out::Map(pairs) if pairs.is_empty() => "{}".into(),
        Out::Seq(_) | Out::Map(_) => {
            return Err(Error::custom_msg(
                "internal: a collection cannot be written inline",
            ));
        }
    })
}

/// A float every reader reads as a float: always a `.` in the mantissa and a signed exponent.
fn float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_string()
            } else {
                format!("{mantissa}.0")
            };
            let exp = if exp.starts_with('-') {
                exp.to_string()
            } else {
                format!("+{exp}")
            };
            format!("{mantissa}e{exp}")
        }
        None if s.contains('.') => s,
        None => format!("{s}.0"),
    }
}

/// A string on one line: plain when safe, else single-quoted, else double-quoted.
pub(crate) fn string(s: &str) -> String {
    if resolve::plain_is_safe(s) {
        return s.to_string();
    }
    let single_ok = s.chars().all(|c| {
        is_printable(c)
            && !matches!(
                c,
                '\n' | '\r' | '\t' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
            )
    });
    if single_ok {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x100 && (!is_printable(c) || c == '\u{85}') => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if !is_printable(c) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}') => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Error {
    fn custom_msg(message: &str) -> Error {
        <Error as serde::ser::Error>::custom(message)
    }
}

//! Bytes to text the way go-yaml's reader decodes a file (kind and kubectl both use it): a
//! UTF-16 byte order mark selects UTF-16, a UTF-8 one is dropped, anything else must be UTF-8,
//! and characters YAML does not allow (NUL and other control characters) are errors.

use super::YamlError;
use std::borrow::Cow;

/// Decodes a YAML file's bytes into text (see the module comment).
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, YamlError> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes).map(Cow::Owned);
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(err) => {
            let prefix = String::from_utf8_lossy(&bytes[..err.valid_up_to()]);
            Err(YamlError {
                message: format!(
                    "the file is not valid UTF-8 (byte 0x{:02X} at offset {}); YAML files must be UTF-8 or UTF-16 with a byte order mark",
                    bytes[err.valid_up_to()],
                    err.valid_up_to()
                ),
                location: Some(next_position(&prefix)),
            })
        }
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, YamlError> {
    let units = bytes.chunks(2).map(|pair| match pair {
        [a, b] => Ok(unit([*a, *b])),
        _ => Err(()),
    });
    let mut out = String::with_capacity(bytes.len() / 2);
    let mut pending = Vec::with_capacity(bytes.len() / 2);
    for u in units {
        match u {
            Ok(u) => pending.push(u),
            Err(()) => {
                return Err(YamlError {
                    message: "the file ends in the middle of a UTF-16 character".into(),
                    location: None,
                });
            }
        }
    }
    for ch in char::decode_utf16(pending) {
        match ch {
            Ok(c) => out.push(c),
            Err(e) => {
                return Err(YamlError {
                    message: format!(
                        "the file is not valid UTF-16 (unpaired surrogate 0x{:04X})",
                        e.unpaired_surrogate()
                    ),
                    location: Some(next_position(&out)),
                });
            }
        }
    }
    Ok(out
        .strip_prefix('\u{FEFF}')
        .map(str::to_string)
        .unwrap_or(out))
}

/// True for the characters YAML (and go-yaml's reader) accepts in a stream.
pub(crate) fn is_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | ' '..='~' | '\u{85}'
        | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Refuses characters go-yaml refuses anywhere in a file ("control characters are not allowed"),
/// naming the character and its position once.
pub(crate) fn check_characters(text: &str) -> Result<(), YamlError> {
    match text.char_indices().find(|(_, c)| !is_printable(*c)) {
        None => Ok(()),
        Some((at, c)) => Err(YamlError {
            message: format!(
                "control character U+{:04X} is not allowed in YAML (quote it as \"\\u{:04X}\" if it is meant)",
                c as u32, c as u32
            ),
            location: Some(next_position(&text[..at])),
        }),
    }
}

/// 1-based line and column of the character that follows `prefix` (line breaks as YAML counts
/// them: `\n`, `\r\n` and a lone `\r`).
pub(crate) fn next_position(prefix: &str) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                col = 1;
            }
            _ => col += 1,
        }
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_marks_select_the_encoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1\n").unwrap(), "a: 1\n");
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a: é\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le).unwrap(), "a: é\n");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("a: 😀\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).unwrap(), "a: 😀\n");
        // Without a mark, bytes must be UTF-8.
        let err = decode(b"a: 1\nb: \xFF\n").unwrap_err();
        assert_eq!(err.location, Some((2, 4)), "{err}");
        assert!(err.message.contains("not valid UTF-8"), "{err}");
        assert!(decode(&le[..le.len() - 1]).is_err());
    }

    #[test]
    fn control_characters_are_reported_once_with_their_position() {
        let err = check_characters("a: 1\rb: x\u{0}y\n").unwrap_err();
        assert_eq!(err.location, Some((2, 5)));
        assert!(err.message.contains("U+0000"), "{err}");
        assert!(check_characters("a: \u{7F}").is_err());
        assert!(check_characters("a: \u{9F}").is_err());
        check_characters("a: \t\u{85}é\u{FEFF}😀\r\n").unwrap();
    }
}

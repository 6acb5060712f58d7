//! Limits on what kindling takes from the user: bounded reads of files and stdin, and short
//! quotes of bad values in messages (a 50 MB value is neither read whole nor echoed whole).

use std::io::{ErrorKind, Read};

/// The most kindling reads from one config file, kubeconfig or stdin: 8 MiB. Real files are
/// kilobytes; the limit only stops `/dev/zero` and mistakes from eating the host's memory.
pub const MAX_INPUT_BYTES: u64 = 8 << 20;

/// How many characters of a bad value a message quotes.
pub const QUOTE_CHARS: usize = 64;

/// Reads everything from `reader`, failing with `ErrorKind::FileTooLarge` (message naming the
/// limit) as soon as more than `limit` bytes arrive; never buffers more than `limit + 1` bytes.
pub fn read_limited(reader: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(std::io::Error::new(
            ErrorKind::FileTooLarge,
            format!(
                "more than {}, the most kindling reads from one input",
                format_bytes(limit)
            ),
        ));
    }
    Ok(data)
}

/// `8 MiB`, `512 KiB`, `100 bytes`.
pub fn format_bytes(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// A value as messages may show it: whole when short, else its first [`QUOTE_CHARS`]
/// characters followed by `…` and its full length, so a huge bad value never floods the output.
pub fn clip(value: &str) -> String {
    clip_to(value, QUOTE_CHARS)
}

/// [`clip`] with an explicit number of characters.
pub fn clip_to(value: &str, chars: usize) -> String {
    match value.char_indices().nth(chars) {
        None => value.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &value[..cut], value.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_more() {
        assert_eq!(read_limited(&b"abcd"[..], 4).unwrap(), b"abcd");
        let err = read_limited(&b"abcde"[..], 4).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("4 bytes"), "{err}");
        // An endless source stops at the limit instead of growing without bound.
        let err = read_limited(std::io::repeat(0), MAX_INPUT_BYTES).unwrap_err();
        assert!(err.to_string().contains("8 MiB"), "{err}");
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(format_bytes(8 << 20), "8 MiB");
        assert_eq!(format_bytes(512 << 10), "512 KiB");
        assert_eq!(format_bytes(100), "100 bytes");
    }

    #[test]
    fn long_values_are_clipped_with_their_length() {
        assert_eq!(clip("kind"), "kind");
        let exact = "a".repeat(QUOTE_CHARS);
        assert_eq!(clip(&exact), exact);
        let long = "é".repeat(1000);
        let shown = clip(&long);
        assert!(shown.starts_with(&"é".repeat(QUOTE_CHARS)), "{shown}");
        assert!(shown.ends_with("… (2000 bytes in all)"), "{shown}");
        assert!(shown.chars().count() < QUOTE_CHARS + 30);
    }
}

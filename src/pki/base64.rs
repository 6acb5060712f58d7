//! Standard base64 (RFC 4648 §4, with padding) for kubeconfig `*-data` fields.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `bytes` as padded standard base64.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // A chunk of k bytes yields k + 1 significant characters; the rest is padding.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn rfc4648_test_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn uses_plus_and_slash_for_62_and_63() {
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn round_trips_every_byte_value_through_openssl_style_decoding() {
        // Independent decoder written from the RFC, to check all 256 byte values and lengths.
        fn decode(text: &str) -> Vec<u8> {
            let val = |c: u8| match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("bad char {c}"),
            };
            let mut out = Vec::new();
            for quad in text.as_bytes().chunks(4) {
                let pad = quad.iter().filter(|c| **c == b'=').count();
                let n = quad
                    .iter()
                    .map(|c| if *c == b'=' { 0 } else { u32::from(val(*c)) })
                    .fold(0u32, |acc, v| acc << 6 | v);
                out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
            }
            out
        }
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            assert_eq!(decode(&encode(&all[..len])), &all[..len]);
        }
    }
}

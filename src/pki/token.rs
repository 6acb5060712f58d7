//! Join material: the bootstrap token and the CA discovery hash workers pin.

use super::PkiError;

/// The bootstrap token alphabet (cluster-bootstrap's `[a-z0-9]`).
const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh `<6>.<16>` bootstrap token from the OS random source.
pub(super) fn bootstrap_token() -> Result<String, PkiError> {
    let id = random_chars(6)?;
    let secret = random_chars(16)?;
    Ok(format!("{id}.{secret}"))
}

/// `n` characters drawn uniformly from the alphabet.
fn random_chars(n: usize) -> Result<String, PkiError> {
    // Bytes >= 252 are rejected so every character is equally likely (252 = 7 * 36).
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while out.len() < n {
        getrandom::fill(&mut buf).map_err(|e| PkiError::Random(e.to_string()))?;
        for b in buf.iter().filter(|b| **b < limit) {
            if out.len() == n {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// kubeadm's discovery hash: `sha256:` and the lowercase hex SHA-256 of the CA's SPKI DER.
pub(super) fn ca_cert_hash(spki_der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki_der);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_token(t: &str) -> bool {
        let ok = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        matches!(t.split_once('.'), Some((id, secret)) if ok(id, 6) && ok(secret, 16))
    }

    #[test]
    fn tokens_match_the_bootstrap_format_and_differ() {
        let tokens: Vec<String> = (0..50).map(|_| bootstrap_token().unwrap()).collect();
        for t in &tokens {
            assert!(is_token(t), "{t}");
        }
        let unique: std::collections::HashSet<_> = tokens.iter().collect();
        assert_eq!(unique.len(), tokens.len());
    }

    #[test]
    fn token_characters_cover_the_alphabet() {
        // 2200 draws: missing any one of 36 symbols has probability < 36 * (35/36)^2200.
        let text = random_chars(2200).unwrap();
        for c in ALPHABET {
            assert!(text.as_bytes().contains(c), "never drew {}", char::from(*c));
        }
    }

    #[test]
    fn hash_is_sha256_of_input() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            ca_cert_hash(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

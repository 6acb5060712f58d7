//! How library code reports progress and messages; the CLI renders them (spinner or plain lines).

/// One event of an image pull, as the engine reports it per layer.
#[derive(Debug, Clone, PartialEq)]
pub struct PullProgress {
    /// The image being pulled.
    pub image: String,
    /// Layer id (short digest) the event is about; empty for image-level messages.
    pub layer: String,
    /// The engine's status text (`Downloading`, `Pull complete`, …).
    pub status: String,
    /// Bytes transferred so far for this layer, when known.
    pub current: Option<u64>,
    /// Total bytes of this layer, when known.
    pub total: Option<u64>,
}

/// Receives everything a long-running operation wants the user to see. All of it goes to
/// stderr; stdout is reserved for data and written by the CLI only.
pub trait Reporter: Send + Sync {
    /// Starts a status step (ending any previous one as a success), like kind's `Status.Start`.
    fn start(&self, title: &str);
    /// Ends the current step with ✓ or ✗; no-op when none is active.
    fn end(&self, ok: bool);
    /// A plain informational line.
    fn info(&self, message: &str);
    /// A warning line.
    fn warn(&self, message: &str);
    /// A debug line shown at verbosity `level` or higher.
    fn debug(&self, level: u8, message: &str);
    /// Progress of an image pull.
    fn pull(&self, progress: &PullProgress);
    /// A pull ended (done, failed or abandoned): clear whatever shows its progress.
    fn pull_finished(&self, _image: &str) {}
    /// Progress of a byte transfer (image loading): `done` of `total` bytes, `total` if known.
    fn transfer(&self, _label: &str, _done: u64, _total: Option<u64>) {}
}

/// A reporter that drops everything (library callers and tests that do not care).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {
    fn start(&self, _title: &str) {}
    fn end(&self, _ok: bool) {}
    fn info(&self, _message: &str) {}
    fn warn(&self, _message: &str) {}
    fn debug(&self, _level: u8, _message: &str) {}
    fn pull(&self, _progress: &PullProgress) {}
}

/// What replaces a secret in output.
pub const REDACTED: &str = "<redacted>";

/// `text` with every secret kindling handles replaced by [`REDACTED`]: kubeadm bootstrap
/// tokens (`[a-z0-9]{6}.[a-z0-9]{16}`, in kubeadm configs and kubeadm's own output), PEM
/// private-key blocks (also one whose BEGIN line was cut off) and kubeconfig
/// `client-key-data`. Every line shown to the user passes through it, at any verbosity.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    let without_keys = redact_private_keys(text);
    let without_data = match redact_key_data(&without_keys) {
        Some(clean) => std::borrow::Cow::Owned(clean),
        None => without_keys,
    };
    match redact_tokens(&without_data) {
        Some(clean) => std::borrow::Cow::Owned(clean),
        None => without_data,
    }
}

/// A kubeconfig's `client-key-data:` (base64 of a private key): the rest of its line goes.
/// `None` when there is none.
fn redact_key_data(text: &str) -> Option<String> {
    const FIELD: &str = "client-key-data:";
    if !text.contains(FIELD) {
        return None;
    }
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| match line.find(FIELD) {
            Some(at) => format!("{} {REDACTED}", &line[..at + FIELD.len()]),
            None => line.to_string(),
        })
        .collect();
    Some(lines.join("\n"))
}

fn redact_private_keys(text: &str) -> std::borrow::Cow<'_, str> {
    const BEGIN: &str = "-----BEGIN ";
    const KEY_END: &str = "PRIVATE KEY-----";
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(BEGIN) {
        let header_end = rest[at..].find('\n').map_or(rest.len(), |i| at + i);
        if !rest[at..header_end].contains(KEY_END) {
            out.push_str(&rest[..header_end]);
            rest = &rest[header_end..];
            continue;
        }
        out.push_str(&rest[..at]);
        out.push_str(REDACTED);
        changed = true;
        // Up to the matching END line, or everything when it is cut off.
        rest = match rest[header_end..].find("-----END ") {
            Some(end) => {
                let end = header_end + end;
                let close = rest[end..]
                    .find(KEY_END)
                    .map_or(rest.len(), |i| end + i + KEY_END.len());
                &rest[close..]
            }
            None => "",
        };
    }
    // The end of a key whose BEGIN line was cut off (the tail of a command's output).
    // (Complete keys were handled above, so an END line left in `rest` has lost its BEGIN.)
    if let Some(key_end) = rest.rfind(KEY_END) {
        let line = rest[..key_end].rfind('\n').map_or(0, |i| i + 1);
        if rest[line..].starts_with("-----END ") {
            // From the blank line before the key (or the start) up to its END line.
            let before_key = rest[..line].rfind("\n\n").map_or(0, |i| i + 2);
            out.push_str(&rest[..before_key]);
            out.push_str(REDACTED);
            rest = &rest[key_end + KEY_END.len()..];
            changed = true;
        }
    }
    if !changed {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Replaces bootstrap tokens; `None` when there is none.
fn redact_tokens(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let token_char = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let word_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i + 23 <= bytes.len() {
        let candidate = &bytes[i..i + 23];
        let is_token = (i == 0 || !word_char(bytes[i - 1]))
            && candidate[..6].iter().all(|&b| token_char(b))
            && candidate[6] == b'.'
            && candidate[7..].iter().all(|&b| token_char(b))
            && bytes.get(i + 23).is_none_or(|&b| !word_char(b));
        if is_token {
            let o = out.get_or_insert_with(String::new);
            o.push_str(&text[copied..i]);
            o.push_str(REDACTED);
            i += 23;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.map(|mut o| {
        o.push_str(&text[copied..]);
        o
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_and_private_keys() {
        let config = "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  ttl: 24h0m0s\n";
        assert_eq!(
            redact(config),
            "bootstrapTokens:\n- token: <redacted>\n  ttl: 24h0m0s\n"
        );
        assert_eq!(
            redact("[bootstrap-token] Using token: k7d2x1.q0w9e8r7t6y5u4i3 now"),
            "[bootstrap-token] Using token: <redacted> now"
        );
        let key =
            "before\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\nafter";
        assert_eq!(redact(key), "before\n<redacted>\nafter");
        let cut = "x -----BEGIN PRIVATE KEY-----\nMIIE";
        assert_eq!(redact(cut), "x <redacted>");
        // A tail that starts inside a key: everything of it up to its END line goes.
        let tail = "MIIEvQIBADAN\nBgkqhkiG9w0B\n-----END RSA PRIVATE KEY-----\nnext";
        assert_eq!(redact(tail), "<redacted>\nnext");
        let after_cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n\nMIIE\n-----END EC PRIVATE KEY-----";
        assert_eq!(
            redact(after_cert),
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n\n<redacted>"
        );
        let kubeconfig = "users:\n- user:\n    client-certificate-data: LS0tQ\n    client-key-data: LS0tLS1CRUdJTi\n";
        assert_eq!(
            redact(kubeconfig),
            "users:\n- user:\n    client-certificate-data: LS0tQ\n    client-key-data: <redacted>\n"
        );
        // Not secrets: certificates, longer words, upper case, host names.
        for kept in [
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "xabcdef.0123456789abcdef",
            "abcdef.0123456789abcdefg",
            "ABCDEF.0123456789ABCDEF",
            "kind-control-plane.kind",
            "",
        ] {
            assert_eq!(redact(kept), kept);
        }
        assert!(matches!(redact("nothing"), std::borrow::Cow::Borrowed(_)));
    }
}

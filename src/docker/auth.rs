//! Registry credentials for pulls, found the way the docker CLI finds them (kind pulls with
//! `docker pull`): `credHelpers`, then `credsStore`, then `auths` in the Docker CLI config.

use base64::Engine as _;
use bollard::auth::DockerCredentials;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The key Docker Hub's credentials are stored under.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// The registry host of an image reference (`docker.io` when it names none).
pub fn registry_of(reference: &str) -> String {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

/// What the config says to use for a registry.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// Ask `docker-credential-<helper>`.
    Helper(String),
    /// A stored `auths` entry.
    Stored(DockerCredentials),
}

/// Decides where a registry's credentials come from, given the Docker CLI config (pure).
fn source_for(config: &serde_json::Value, registry: &str) -> Option<Source> {
    let keys: Vec<String> = if registry == "docker.io" {
        vec![
            DOCKER_HUB.into(),
            "docker.io".into(),
            "index.docker.io".into(),
        ]
    } else {
        vec![
            registry.into(),
            format!("https://{registry}"),
            format!("http://{registry}"),
        ]
    };
    if let Some(helper) = keys
        .iter()
        .find_map(|k| config["credHelpers"][k].as_str())
        .filter(|h| !h.is_empty())
    {
        return Some(Source::Helper(helper.to_string()));
    }
    if let Some(store) = config["credsStore"].as_str().filter(|s| !s.is_empty()) {
        return Some(Source::Helper(store.to_string()));
    }
    let entry = keys
        .iter()
        .map(|k| &config["auths"][k])
        .find(|e| e.is_object())?;
    let mut creds = DockerCredentials {
        username: entry["username"].as_str().map(str::to_string),
        password: entry["password"].as_str().map(str::to_string),
        identitytoken: entry["identitytoken"].as_str().map(str::to_string),
        serveraddress: Some(keys[0].clone()),
        ..Default::default()
    };
    if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, pass) = text.split_once(':')?;
        creds.username = Some(user.to_string());
        creds.password = Some(pass.to_string());
    }
    Some(Source::Stored(creds))
}

/// Reads a credential helper's answer (`{"ServerURL", "Username", "Secret"}`).
fn from_helper_answer(answer: &str, server: &str) -> Option<DockerCredentials> {
    let json: serde_json::Value = serde_json::from_str(answer).ok()?;
    let user = json["Username"].as_str()?;
    let secret = json["Secret"].as_str()?.to_string();
    let mut creds = DockerCredentials {
        serveraddress: Some(server.to_string()),
        ..Default::default()
    };
    // Helpers return identity tokens under this user name.
    if user == "<token>" {
        creds.identitytoken = Some(secret);
    } else {
        creds.username = Some(user.to_string());
        creds.password = Some(secret);
    }
    Some(creds)
}

fn config_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
        .map(|dir| dir.join("config.json"))
}

/// Credentials for pulling `reference`, if the Docker CLI config has any for its registry.
/// Missing config, helpers that fail or know nothing: anonymous, as with `docker pull`.
pub fn credentials_for(reference: &str) -> Option<DockerCredentials> {
    let text = std::fs::read_to_string(config_path()?).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let registry = registry_of(reference);
    match source_for(&config, &registry)? {
        Source::Stored(creds) => Some(creds),
        Source::Helper(helper) => {
            let server = if registry == "docker.io" {
                DOCKER_HUB.to_string()
            } else {
                registry
            };
            let mut child = Command::new(format!("docker-credential-{helper}"))
                .arg("get")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            child.stdin.take()?.write_all(server.as_bytes()).ok()?;
            let out = child.wait_with_output().ok()?;
            if !out.status.success() {
                return None;
            }
            from_helper_answer(&String::from_utf8_lossy(&out.stdout), &server)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registry_hosts() {
        assert_eq!(registry_of("kindest/node:v1"), "docker.io");
        assert_eq!(registry_of("nginx"), "docker.io");
        assert_eq!(registry_of("ghcr.io/org/img:1"), "ghcr.io");
        assert_eq!(registry_of("127.0.0.1:5000/x"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/x"), "localhost");
    }

    #[test]
    fn stored_auth_is_decoded() {
        // base64("me:s3cret")
        let config = json!({"auths": {"https://index.docker.io/v1/": {"auth": "bWU6czNjcmV0"}}});
        let Some(Source::Stored(creds)) = source_for(&config, "docker.io") else {
            panic!("no creds")
        };
        assert_eq!(creds.username.as_deref(), Some("me"));
        assert_eq!(creds.password.as_deref(), Some("s3cret"));
        assert_eq!(creds.serveraddress.as_deref(), Some(DOCKER_HUB));
        assert_eq!(source_for(&config, "ghcr.io"), None);
    }

    #[test]
    fn helpers_win_over_stored_entries() {
        let config = json!({
            "credsStore": "desktop",
            "credHelpers": {"ghcr.io": "gh"},
            "auths": {"ghcr.io": {"auth": "bWU6czNjcmV0"}}
        });
        assert_eq!(
            source_for(&config, "ghcr.io"),
            Some(Source::Helper("gh".into()))
        );
        assert_eq!(
            source_for(&config, "quay.io"),
            Some(Source::Helper("desktop".into()))
        );
    }

    #[test]
    fn helper_answers() {
        let creds = from_helper_answer(
            r#"{"ServerURL":"ghcr.io","Username":"u","Secret":"p"}"#,
            "ghcr.io",
        )
        .unwrap();
        assert_eq!(
            (creds.username.as_deref(), creds.password.as_deref()),
            (Some("u"), Some("p"))
        );
        let token = from_helper_answer(r#"{"Username":"<token>","Secret":"t"}"#, "x").unwrap();
        assert_eq!(
            (token.username, token.identitytoken.as_deref()),
            (None, Some("t"))
        );
        assert!(from_helper_answer("not json", "x").is_none());
    }
}

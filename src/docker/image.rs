//! Images: references, inspect, pull with progress events, and export (`docker save`).

use super::{DockerError, Engine};
use crate::report::PullProgress;
use bollard::query_parameters::CreateImageOptionsBuilder;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};

/// An image reference split into its parts: `[registry/]repo[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository including any registry host (`kindest/node`, `127.0.0.1:5000/x/y`).
    pub name: String,
    /// Tag, if written.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), if written.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Splits a reference; a `:` in the registry host (a port) is not taken for a tag.
    pub fn parse(reference: &str) -> ImageRef {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (reference, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                rest[..last_slash + i].to_string(),
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        ImageRef { name, tag, digest }
    }

    /// The reference without its digest, as kind shows it in "Ensuring node image (…)".
    pub fn without_digest(reference: &str) -> String {
        reference.split('@').next().unwrap_or(reference).to_string()
    }

    /// The fully qualified name containerd uses (`docker.io/library/nginx:latest`), as kind
    /// normalises names when checking what a node already has.
    pub fn normalized(reference: &str) -> String {
        let r = ImageRef::parse(reference);
        let mut name = r.name;
        if !name.contains('/') {
            name = format!("library/{name}");
        }
        let first = name.split('/').next().unwrap_or("");
        if !(first.contains('.') || first.contains(':') || first == "localhost") {
            name = format!("docker.io/{name}");
        }
        match (r.tag, r.digest) {
            (Some(tag), Some(d)) => format!("{name}:{tag}@{d}"),
            (Some(tag), None) => format!("{name}:{tag}"),
            (None, Some(d)) => format!("{name}@{d}"),
            (None, None) => format!("{name}:latest"),
        }
    }
}

/// What kindling needs to know about a local image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Image id (`sha256:…`).
    pub id: String,
    /// Tags pointing at it.
    pub repo_tags: Vec<String>,
    /// Size in bytes.
    pub size: u64,
}

impl Engine {
    /// Looks an image up locally; `Ok(None)` when it is not present.
    pub async fn inspect_image(&self, reference: &str) -> Result<Option<ImageInfo>, DockerError> {
        match self.client().inspect_image(reference).await {
            Ok(img) => Ok(Some(ImageInfo {
                id: img.id.unwrap_or_default(),
                repo_tags: img.repo_tags.unwrap_or_default(),
                size: img.size.unwrap_or_default().max(0) as u64,
            })),
            Err(e) => {
                let err = DockerError::api(format!("inspect image \"{reference}\""), e);
                if err.is_not_found() {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// Pulls an image; yields the engine's per-layer progress as it goes.
    pub fn pull_image(
        &self,
        reference: &str,
    ) -> impl Stream<Item = Result<PullProgress, DockerError>> + use<> {
        let parsed = ImageRef::parse(reference);
        // The API wants the tag (or digest) separately; with neither it would pull every tag.
        let tag = parsed
            .digest
            .clone()
            .or(parsed.tag.clone())
            .unwrap_or_else(|| "latest".to_string());
        let options = CreateImageOptionsBuilder::default()
            .from_image(&parsed.name)
            .tag(&tag)
            .build();
        let image = reference.to_string();
        let op = format!("pull image \"{reference}\"");
        // Same credentials `docker pull` would use; anonymous when there are none.
        let credentials = super::auth::credentials_for(reference);
        self.client()
            .create_image(Some(options), None, credentials)
            .map_err(move |e| DockerError::api(op.clone(), e))
            .map_ok(move |info| {
                let detail = info.progress_detail.unwrap_or_default();
                PullProgress {
                    image: image.clone(),
                    layer: info.id.unwrap_or_default(),
                    status: info.status.unwrap_or_default(),
                    current: detail.current.and_then(|c| u64::try_from(c).ok()),
                    total: detail.total.and_then(|t| u64::try_from(t).ok()),
                }
            })
    }

    /// Streams `docker save` of the given images (one tar holding all of them).
    pub fn export_images(
        &self,
        references: &[String],
    ) -> impl Stream<Item = Result<Bytes, DockerError>> + use<> {
        let refs: Vec<&str> = references.iter().map(String::as_str).collect();
        let op = format!("export images {}", references.join(", "));
        self.client()
            .export_images(&refs)
            .map_err(move |e| DockerError::api(op.clone(), e))
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("kindest/node:v1.37.0-rc.1@sha256:abc");
        assert_eq!(r.name, "kindest/node");
        assert_eq!(r.tag.as_deref(), Some("v1.37.0-rc.1"));
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = ImageRef::parse("127.0.0.1:5000/kindling/node");
        assert_eq!(r.name, "127.0.0.1:5000/kindling/node");
        assert_eq!(r.tag, None);
        let r = ImageRef::parse("127.0.0.1:5000/node:v1");
        assert_eq!(
            (r.name.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000/node", Some("v1"))
        );
    }

    #[test]
    fn normalizes_like_containerd_names() {
        assert_eq!(
            ImageRef::normalized("nginx"),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(ImageRef::normalized("me/app:1"), "docker.io/me/app:1");
        assert_eq!(ImageRef::normalized("localhost/app:1"), "localhost/app:1");
        assert_eq!(
            ImageRef::normalized("127.0.0.1:5000/app"),
            "127.0.0.1:5000/app:latest"
        );
        assert_eq!(
            ImageRef::normalized("registry.k8s.io/pause:3.10"),
            "registry.k8s.io/pause:3.10"
        );
        assert_eq!(ImageRef::without_digest("a/b:c@sha256:d"), "a/b:c");
    }
}

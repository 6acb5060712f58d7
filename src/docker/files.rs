//! Writing files into a container in one call (an in-memory tar extracted at `/`).

use super::{DockerError, Engine};
use bollard::query_parameters::{
    DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

/// A file to place in a container.
#[derive(Clone)]
pub struct FileToWrite {
    /// Absolute path in the container.
    pub path: String,
    /// Contents.
    pub contents: Vec<u8>,
    /// Unix permission bits.
    pub mode: u32,
}

impl std::fmt::Debug for FileToWrite {
    // Contents may be private keys: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FileToWrite({} {:o}, {} bytes)",
            self.path,
            self.mode,
            self.contents.len()
        )
    }
}

impl Engine {
    /// Writes `files` (owned by root, with their modes; parent directories 0755) into `container`.
    pub async fn write_files(
        &self,
        container: &str,
        files: &[FileToWrite],
    ) -> Result<(), DockerError> {
        let op = || format!("write files into container \"{container}\"");
        let archive = build_tar(files).map_err(|e| DockerError::Api {
            operation: op(),
            status: None,
            message: e.to_string(),
        })?;
        let options = UploadToContainerOptionsBuilder::default().path("/").build();
        self.client()
            .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(|e| DockerError::api(op(), e))
    }
}

impl Engine {
    /// Writes `files` like [`Engine::write_files`], but into a running container by its own
    /// `tar` (existing directories keep their modes). The archive API binds the container's
    /// volumes over its root file system while it works, and a container that is still
    /// booting sees those mounts appear under it; a process in the container mounts nothing.
    pub async fn write_files_with_tar(
        &self,
        container: &str,
        files: &[FileToWrite],
    ) -> Result<(), DockerError> {
        let archive = build_tar(files).map_err(|e| DockerError::Api {
            operation: format!("write files into container \"{container}\""),
            status: None,
            message: e.to_string(),
        })?;
        let argv: Vec<String> = ["tar", "-x", "--no-overwrite-dir", "-C", "/", "-f", "-"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        self.exec_ok(container, &argv, Some(bytes::Bytes::from(archive)))
            .await
            .map(|_| ())
    }

    /// Reads one regular file of `container` through the archive API (no process runs in the
    /// container, so this works before it starts; see [`Engine::write_files_with_tar`] for
    /// why not while it boots). `None` when the path
    /// does not exist. Symlinks are followed a few levels; more than `limit` bytes is an error.
    pub async fn read_file(
        &self,
        container: &str,
        path: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, DockerError> {
        let mut path = path.to_string();
        for _ in 0..MAX_LINKS {
            match self.read_entry(container, &path, limit).await? {
                None => return Ok(None),
                Some(Entry::File(bytes)) => return Ok(Some(bytes)),
                Some(Entry::Link(target)) => path = resolve_link(&path, &target),
            }
        }
        Err(DockerError::Api {
            operation: format!("read {path} in container \"{container}\""),
            status: None,
            message: format!("more than {MAX_LINKS} levels of symbolic links"),
        })
    }

    async fn read_entry(
        &self,
        container: &str,
        path: &str,
        limit: u64,
    ) -> Result<Option<Entry>, DockerError> {
        let op = || format!("read {path} in container \"{container}\"");
        let fail = |message: String| DockerError::Api {
            operation: op(),
            status: None,
            message,
        };
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = std::pin::pin!(
            self.client()
                .download_from_container(container, Some(options))
        );
        let mut archive = Vec::new();
        // The archive is the file plus a few headers: cap it like the file.
        let cap = limit.saturating_add(64 << 10);
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    archive.extend_from_slice(&bytes);
                    if archive.len() as u64 > cap {
                        return Err(fail(format!("larger than {limit} bytes")));
                    }
                }
                Err(e) => {
                    let e = DockerError::api(op(), e);
                    return if e.is_not_found() { Ok(None) } else { Err(e) };
                }
            }
        }
        first_entry(&archive, limit)
            .map(Some)
            .map_err(|e| fail(e.to_string()))
    }
}

/// How many symbolic links [`Engine::read_file`] follows.
const MAX_LINKS: usize = 8;

/// The first entry of a tar archive the engine sent for one path.
enum Entry {
    File(Vec<u8>),
    Link(String),
}

fn first_entry(archive: &[u8], limit: u64) -> std::io::Result<Entry> {
    let mut tar = tar::Archive::new(archive);
    let mut entries = tar.entries()?;
    let mut entry = entries
        .next()
        .ok_or_else(|| std::io::Error::other("empty archive"))??;
    let kind = entry.header().entry_type();
    if kind.is_symlink() {
        let target = entry
            .link_name()?
            .ok_or_else(|| std::io::Error::other("symbolic link without a target"))?;
        return Ok(Entry::Link(target.to_string_lossy().into_owned()));
    }
    if !kind.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let bytes = crate::input::read_limited(&mut entry, limit)?;
    Ok(Entry::File(bytes))
}

/// Where the symbolic link at `path` pointing to `target` leads.
fn resolve_link(path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return target.to_string();
    }
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{dir}/{target}")
}

/// Builds the tar archive: explicit directory entries first so their modes are right.
fn build_tar(files: &[FileToWrite]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        let rel = f.path.trim_start_matches('/');
        let mut parent = std::path::Path::new(rel).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(p.to_path_buf());
            parent = p.parent();
        }
    }
    for dir in &dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o755);
        header.set_mtime(now);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(0);
        builder.append_data(&mut header, dir, std::io::empty())?;
    }
    for f in files {
        let mut header = tar::Header::new_gnu();
        header.set_mode(f.mode);
        header.set_mtime(now);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(f.contents.len() as u64);
        builder.append_data(
            &mut header,
            f.path.trim_start_matches('/'),
            f.contents.as_slice(),
        )?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_first_entry_and_links() {
        let files = vec![FileToWrite {
            path: "/kind/version".into(),
            contents: b"v1.37.0\n".to_vec(),
            mode: 0o644,
        }];
        // build_tar puts the directory first; the engine sends the file alone.
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(files[0].contents.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, "version", files[0].contents.as_slice())
            .unwrap();
        let archive = builder.into_inner().unwrap();
        match first_entry(&archive, 100).unwrap() {
            Entry::File(bytes) => assert_eq!(bytes, b"v1.37.0\n"),
            Entry::Link(_) => panic!("not a link"),
        }
        assert!(first_entry(&archive, 3).is_err(), "over the limit");
        assert!(
            first_entry(&build_tar(&files).unwrap(), 100).is_err(),
            "a directory"
        );
        assert!(first_entry(&[], 100).is_err());
        assert_eq!(resolve_link("/kind/version", "v2"), "/kind/v2");
        assert_eq!(resolve_link("/kind/version", "/etc/v"), "/etc/v");
        assert_eq!(resolve_link("/kind/version", "../etc/v"), "/kind/../etc/v");
    }

    #[test]
    fn tar_has_parents_and_modes() {
        let files = vec![
            FileToWrite {
                path: "/etc/kubernetes/pki/ca.key".into(),
                contents: b"k".to_vec(),
                mode: 0o600,
            },
            FileToWrite {
                path: "/etc/kubernetes/pki/ca.crt".into(),
                contents: b"c".to_vec(),
                mode: 0o644,
            },
        ];
        let bytes = build_tar(&files).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("etc".to_string(), 0o755),
                ("etc/kubernetes".to_string(), 0o755),
                ("etc/kubernetes/pki".to_string(), 0o755),
                ("etc/kubernetes/pki/ca.key".to_string(), 0o600),
                ("etc/kubernetes/pki/ca.crt".to_string(), 0o644),
            ]
        );
    }
}

//! Writing files into a container in one call (an in-memory tar extracted at `/`).

use super::{DockerError, Engine};
use bollard::query_parameters::UploadToContainerOptionsBuilder;

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
        self.client
            .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(|e| DockerError::api(op(), e))
    }
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

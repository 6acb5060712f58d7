//! Which kubeconfig files a command reads and writes (`--kubeconfig`, `$KUBECONFIG`,
//! `~/.kube/config`), with kubectl's rule for the file that receives new entries.

use super::KubeconfigError;
use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where kubeconfig reads and writes go; built from flags and environment by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigPaths {
    /// Every candidate file, in order, without empty entries or duplicates; never empty.
    paths: Vec<PathBuf>,
    /// Index into `paths` of the file that export/merge writes.
    merge_target: usize,
}

impl KubeconfigPaths {
    /// explicit = --kubeconfig; env_kubeconfig = value of $KUBECONFIG; home = $HOME.
    ///
    /// `--kubeconfig` wins; else the `$KUBECONFIG` list (split on the OS list separator, empty
    /// entries and duplicates dropped); else `$HOME/.kube/config`. Empty values count as unset.
    /// The merge target is decided now: the only path, else the first that exists and is not a
    /// directory, else the last.
    pub fn resolve(
        explicit: Option<&Path>,
        env_kubeconfig: Option<&OsStr>,
        home: Option<&Path>,
    ) -> Result<KubeconfigPaths, KubeconfigError> {
        if let Some(path) = explicit.filter(|p| !p.as_os_str().is_empty()) {
            return Ok(Self::single(path.to_path_buf()));
        }
        let mut paths: Vec<PathBuf> = Vec::new();
        for path in env_kubeconfig
            .map(std::env::split_paths)
            .into_iter()
            .flatten()
        {
            if !path.as_os_str().is_empty() && !paths.contains(&path) {
                paths.push(path);
            }
        }
        if !paths.is_empty() {
            let merge_target = if paths.len() == 1 {
                0
            } else {
                paths
                    .iter()
                    .position(|p| is_existing_file(p))
                    .unwrap_or(paths.len() - 1)
            };
            return Ok(KubeconfigPaths {
                paths,
                merge_target,
            });
        }
        match home.filter(|h| !h.as_os_str().is_empty()) {
            Some(home) => Ok(Self::single(home.join(".kube").join("config"))),
            None => Err(KubeconfigError::NoHome),
        }
    }

    fn single(path: PathBuf) -> KubeconfigPaths {
        KubeconfigPaths {
            paths: vec![path],
            merge_target: 0,
        }
    }

    /// The file export/merge writes to (kind-facts §5.2).
    pub fn merge_target(&self) -> &Path {
        &self.paths[self.merge_target]
    }

    /// Every path, for removal.
    pub fn all(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// kind's test: anything that can be stat'ed and is not a directory. Unreadable paths
/// (e.g. inside a directory we cannot search) do not count.
fn is_existing_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_dir())
}

/// Resolves a chain of symlinks (also dangling ones) to the path that holds the content; the
/// path itself when it is not a symlink. Symlinked directories are left as they are: the
/// kernel resolves them the same way for the file and for its lock beside it.
pub(super) fn resolve_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // Same bound as Linux's ELOOP limit.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) => parent.join(link),
                    None => link,
                };
            }
            Ok(_) => return Ok(current),
            // Nothing there (yet): the path itself is where the content will go.
            Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(current);
            }
            Err(err) => return Err(err),
        }
    }
    Err(std::io::Error::other(format!(
        "too many levels of symbolic links at {}",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn join(parts: &[&Path]) -> OsString {
        std::env::join_paths(parts).unwrap()
    }

    #[test]
    fn explicit_path_wins_over_everything() {
        let env = join(&[Path::new("/a"), Path::new("/b")]);
        let p = KubeconfigPaths::resolve(
            Some(Path::new("my/config")),
            Some(&env),
            Some(Path::new("/home/me")),
        )
        .unwrap();
        assert_eq!(p.all(), [PathBuf::from("my/config")]);
        assert_eq!(p.merge_target(), Path::new("my/config"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let p = KubeconfigPaths::resolve(
            Some(Path::new("")),
            Some(OsStr::new("")),
            Some(Path::new("/home/me")),
        )
        .unwrap();
        assert_eq!(p.all(), [PathBuf::from("/home/me/.kube/config")]);
        // Only separators: no entries, so fall back to $HOME too.
        let p =
            KubeconfigPaths::resolve(None, Some(OsStr::new(":::")), Some(Path::new("/h"))).unwrap();
        assert_eq!(p.merge_target(), Path::new("/h/.kube/config"));
    }

    #[test]
    fn no_home_is_an_error_that_says_what_to_do() {
        let err = KubeconfigPaths::resolve(None, None, None).unwrap_err();
        assert!(matches!(err, KubeconfigError::NoHome));
        assert!(err.to_string().contains("--kubeconfig"), "{err}");
        assert!(matches!(
            KubeconfigPaths::resolve(None, None, Some(Path::new(""))),
            Err(KubeconfigError::NoHome)
        ));
    }

    #[test]
    fn env_list_drops_empty_entries_and_duplicates_keeping_order() {
        let env = OsString::from("/foo:/bar::/foo:/bar:");
        let p = KubeconfigPaths::resolve(None, Some(&env), Some(Path::new("/home"))).unwrap();
        assert_eq!(p.all(), [PathBuf::from("/foo"), PathBuf::from("/bar")]);
    }

    #[test]
    fn single_env_entry_is_the_target_even_if_missing() {
        let p = KubeconfigPaths::resolve(None, Some(OsStr::new("/nope/config:")), None).unwrap();
        assert_eq!(p.merge_target(), Path::new("/nope/config"));
    }

    #[test]
    fn merge_target_is_first_existing_file_else_last() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let a_dir = dir.path().join("a-directory");
        std::fs::create_dir(&a_dir).unwrap();
        let second = dir.path().join("second");
        let third = dir.path().join("third");
        std::fs::write(&second, "").unwrap();
        std::fs::write(&third, "").unwrap();

        let env = join(&[&missing, &a_dir, &second, &third]);
        let p = KubeconfigPaths::resolve(None, Some(&env), None).unwrap();
        assert_eq!(p.merge_target(), second, "directories do not count");
        assert_eq!(p.all().len(), 4, "removal still sees every path");

        let last = dir.path().join("also-missing");
        let env = join(&[&missing, &a_dir, &last]);
        let p = KubeconfigPaths::resolve(None, Some(&env), None).unwrap();
        assert_eq!(p.merge_target(), last, "none exists: the last one");
    }

    #[test]
    fn unsearchable_entries_do_not_count_as_existing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        let hidden = locked.join("config");
        std::fs::write(&hidden, "").unwrap();
        let visible = dir.path().join("visible");
        std::fs::write(&visible, "").unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let env = join(&[&hidden, &visible]);
        let p = KubeconfigPaths::resolve(None, Some(&env), None);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
        let p = p.unwrap();
        // root can search any directory, so the first entry legitimately exists for it.
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        let expected = if root { &hidden } else { &visible };
        assert_eq!(p.merge_target(), expected);
    }
}

//! Locked read-modify-write of one kubeconfig file, with atomic replacement.

use super::KubeconfigError;
use super::lock::{KubeconfigLock, LockOptions};
use super::merge::{merge, remove};
use super::types::{Kubeconfig, check_single};
use std::fs::{DirBuilder, File, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Merges `entry` into the file at `path` (kind-facts §5.4), under the lock, atomically;
/// returns nothing on success.
pub fn merge_into_file(
    path: &Path,
    entry: &Kubeconfig,
    lock: &LockOptions,
) -> Result<(), KubeconfigError> {
    // Reject a malformed entry before creating directories or taking the lock.
    check_single(entry)?;
    create_parent(path, path)?;
    let guard = KubeconfigLock::acquire(path, lock)?;
    let mut config = read_file(path)?;
    merge(&mut config, entry)?;
    write_atomic(path, &config)?;
    guard.release()
}

/// Removes kind-<cluster> entries from one file (§5.5); Ok(true) if the file changed.
/// Missing file = Ok(false).
pub fn remove_from_file(
    path: &Path,
    cluster_name: &str,
    lock: &LockOptions,
) -> Result<bool, KubeconfigError> {
    // A missing file has nothing to remove; do not create its directory just to lock it.
    match std::fs::metadata(path) {
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(false),
        _ => {}
    }
    let guard = KubeconfigLock::acquire(path, lock)?;
    let mut config = read_file(path)?;
    let changed = remove(&mut config, cluster_name);
    if changed {
        write_atomic(path, &config)?;
    }
    guard.release()?;
    Ok(changed)
}

/// Reads and parses a kubeconfig file; a missing file is an empty config.
pub fn read_file(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Kubeconfig::default()),
        Err(source) => {
            return Err(KubeconfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    Kubeconfig::from_bytes(&text).map_err(|source| KubeconfigError::Parse {
        what: format!("kubeconfig {}", path.display()),
        source,
    })
}

/// Creates the directory of `file` (mode 0755, like kind and client-go) if missing.
fn create_parent(file: &Path, kubeconfig: &Path) -> Result<(), KubeconfigError> {
    let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|source| KubeconfigError::CreateDir {
            dir: dir.to_path_buf(),
            path: kubeconfig.to_path_buf(),
            source,
        })
}

/// Writes `config` to `path` so that readers see either the old or the new file, never a
/// partial one: temp file in the same directory, fsync, rename, fsync the directory.
///
/// If `path` is a symlink the file it points to is replaced and the link kept (kind's plain
/// write follows links too). The new file is always mode 0600. When an existing file belongs
/// to another user (e.g. `sudo kindling` with the user's HOME), its owner is carried over
/// where we are allowed to, so the user can still read it.
fn write_atomic(path: &Path, config: &Kubeconfig) -> Result<(), KubeconfigError> {
    let write_err = |source| KubeconfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text = config.encode().map_err(|source| KubeconfigError::Encode {
        for_file: format!(" for {}", path.display()),
        source,
    })?;
    let target = follow_symlinks(path).map_err(write_err)?;
    create_parent(&target, path)?;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{file_name}."))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(write_err)?;
    // The creation mode is reduced by the umask; set it explicitly.
    temp.as_file()
        .set_permissions(Permissions::from_mode(0o600))
        .map_err(write_err)?;
    if let Ok(existing) = std::fs::metadata(&target) {
        let ours = temp.as_file().metadata().map_err(write_err)?;
        if (existing.uid(), existing.gid()) != (ours.uid(), ours.gid()) {
            // Only root may give a file away; otherwise the file simply becomes ours.
            let _ = std::os::unix::fs::fchown(
                temp.as_file(),
                Some(existing.uid()),
                Some(existing.gid()),
            );
        }
    }
    temp.write_all(text.as_bytes()).map_err(write_err)?;
    temp.as_file().sync_all().map_err(write_err)?;
    temp.persist(&target).map_err(|err| write_err(err.error))?;
    // Make the rename itself durable; a failure here leaves a complete file either way.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Resolves a chain of symlinks (also dangling ones) to the path that holds the content.
fn follow_symlinks(path: &Path) -> std::io::Result<PathBuf> {
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
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(current),
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
    use crate::kubeconfig::kind_kubeconfig;
    use crate::kubeconfig::lock::lock_path;

    const ADMIN_CONF: &str = include_str!("../../tests/fixtures/kubeconfig/admin.conf");

    fn entry(cluster: &str) -> Kubeconfig {
        kind_kubeconfig(ADMIN_CONF, cluster, Some("https://127.0.0.1:6443")).unwrap()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn merge_creates_parent_dirs_and_a_0600_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/config");
        merge_into_file(&path, &entry("one"), &LockOptions::default()).unwrap();
        assert_eq!(mode(&path), 0o600);
        let cfg = read_file(&path).unwrap();
        assert_eq!(cfg.current_context, "kind-one");
        assert!(!lock_path(&path).exists());
        // Nothing but the file itself is left in the directory (no temp files).
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config"]);
    }

    #[test]
    fn merge_tightens_a_looser_existing_mode_to_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        merge_into_file(&path, &entry("one"), &LockOptions::default()).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn merge_through_a_symlink_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/kubeconfig");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "apiVersion: v1\n").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink("dotfiles/kubeconfig", &link).unwrap();
        merge_into_file(&link, &entry("one"), &LockOptions::default()).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(read_file(&real).unwrap().current_context, "kind-one");
        // The lock is next to the path the user named, as kubectl would look for it.
        assert!(!lock_path(&link).exists());
    }

    #[test]
    fn invalid_existing_file_is_reported_left_intact_and_unlocked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "clusters: [\n").unwrap();
        let err = merge_into_file(&path, &entry("one"), &LockOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("kubeconfig {} is not a valid kubeconfig", path.display())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "clusters: [\n");
        assert!(!lock_path(&path).exists(), "lock must be removed on error");
    }

    #[test]
    fn bad_entry_is_rejected_before_touching_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config");
        let err =
            merge_into_file(&path, &Kubeconfig::default(), &LockOptions::default()).unwrap_err();
        assert!(matches!(err, KubeconfigError::NotSingle { .. }), "{err:?}");
        assert!(!dir.path().join("sub").exists());
    }

    #[test]
    fn remove_from_missing_file_changes_nothing_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config");
        assert!(!remove_from_file(&path, "one", &LockOptions::default()).unwrap());
        assert!(!dir.path().join("sub").exists());
    }

    #[test]
    fn remove_rewrites_only_when_something_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        merge_into_file(&path, &entry("one"), &LockOptions::default()).unwrap();
        merge_into_file(&path, &entry("two"), &LockOptions::default()).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        assert!(!remove_from_file(&path, "three", &LockOptions::default()).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "untouched");
        assert!(remove_from_file(&path, "two", &LockOptions::default()).unwrap());
        let cfg = read_file(&path).unwrap();
        assert_eq!(cfg.contexts.len(), 1);
        assert_eq!(cfg.contexts[0].name, "kind-one");
        assert_eq!(cfg.current_context, "", "it pointed at the removed cluster");
        assert!(!lock_path(&path).exists());
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn removing_the_last_entries_keeps_the_top_level_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        merge_into_file(&path, &entry("one"), &LockOptions::default()).unwrap();
        assert!(remove_from_file(&path, "one", &LockOptions::default()).unwrap());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "apiVersion: v1\nkind: Config\npreferences: {}\n"
        );
    }

    #[test]
    fn directory_as_kubeconfig_is_a_read_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_file(dir.path()).unwrap_err();
        assert!(matches!(err, KubeconfigError::Read { .. }), "{err:?}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }

    #[test]
    fn symlink_loops_are_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(follow_symlinks(&a).is_err());
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("target", &dangling).unwrap();
        assert_eq!(
            follow_symlinks(&dangling).unwrap(),
            dir.path().join("target")
        );
    }
}

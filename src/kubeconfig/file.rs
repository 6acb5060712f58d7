//! Locked read-modify-write of one kubeconfig file, with atomic replacement that keeps the
//! file's owner and mode, bounded reads, and clean-up of temp files left by killed writers.

use super::KubeconfigError;
use super::lock::{KubeconfigLock, LockOptions, current_uid, file_kind, process_exists};
use super::merge::{merge, remove};
use super::paths::resolve_symlinks;
use super::types::{Kubeconfig, check_single};
use crate::input::{MAX_INPUT_BYTES, read_limited};
use std::fs::{DirBuilder, File, Metadata, OpenOptions, Permissions};
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
    let target = resolve(path)?;
    if let Some(meta) = existing(&target)? {
        regular(&target, &meta)?;
    }
    create_parent(&target, path)?;
    let guard = lock_and_tidy(path, lock)?;
    let mut config = read_file(guard.target())?;
    merge(&mut config, entry)?;
    write_file(guard.target(), &config)?;
    guard.release()
}

/// Removes kind-<cluster> entries from one file (§5.5); Ok(true) if the file changed.
/// Missing file = Ok(false).
pub fn remove_from_file(
    path: &Path,
    cluster_name: &str,
    lock: &LockOptions,
) -> Result<bool, KubeconfigError> {
    let target = resolve(path)?;
    // A missing file has nothing to remove; do not create its directory just to lock it.
    let Some(meta) = existing(&target)? else {
        return Ok(false);
    };
    if !meta.is_file() {
        // `KUBECONFIG=/dev/null` and the like: read (bounded), never locked or written.
        let mut config = read_file(&target)?;
        if remove(&mut config, cluster_name) {
            return Err(KubeconfigError::NotRegularFile {
                path: target,
                what: file_kind(&meta),
            });
        }
        return Ok(false);
    }
    let guard = lock_and_tidy(path, lock)?;
    let mut config = read_file(guard.target())?;
    let changed = remove(&mut config, cluster_name);
    if changed {
        write_file(guard.target(), &config)?;
    }
    guard.release()?;
    Ok(changed)
}

/// Checks, before a create makes anything, that `path` will be able to take its entry at the
/// end: a regular file (or none yet) that can be locked, read, parsed and written. The lock is
/// taken and released again (temp files of killed writers are removed on the way); nothing is
/// created, not even a missing directory.
pub fn check_writable(path: &Path, lock: &LockOptions) -> Result<(), KubeconfigError> {
    let target = resolve(path)?;
    let meta = existing(&target)?;
    if let Some(meta) = &meta {
        regular(&target, meta)?;
    }
    let dir = parent_dir(&target);
    for ancestor in dir.ancestors() {
        // A relative path's last ancestor is "": the current directory, which exists.
        let ancestor = if ancestor.as_os_str().is_empty() {
            Path::new(".")
        } else {
            ancestor
        };
        match std::fs::metadata(ancestor) {
            Ok(m) if m.is_dir() && ancestor == dir => break,
            // The final write creates the missing directories below this one.
            Ok(m) if m.is_dir() => return Ok(()),
            Err(err) if err.kind() == ErrorKind::NotFound => continue,
            Ok(_) => {
                let source = std::io::Error::new(ErrorKind::NotADirectory, "a file is in the way");
                return Err(create_dir_error(ancestor, path, source));
            }
            Err(source) => return Err(create_dir_error(ancestor, path, source)),
        }
    }
    let guard = lock_and_tidy(path, lock)?;
    read_file(guard.target())?;
    if let Some(meta) = &meta {
        check_can_write(guard.target(), meta)?;
    }
    guard.release()
}

/// Reads and parses a kubeconfig file; a missing file is an empty config. At most
/// [`MAX_INPUT_BYTES`] are read: a larger file (or `/dev/zero`) is an error naming the limit.
pub fn read_file(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    let read_err = |source| KubeconfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(Kubeconfig::default()),
        Err(source) => return Err(read_err(source)),
    };
    let text = read_limited(file, MAX_INPUT_BYTES).map_err(read_err)?;
    Kubeconfig::from_bytes(&text).map_err(|source| KubeconfigError::Parse {
        what: format!("kubeconfig {}", path.display()),
        source,
    })
}

fn resolve(path: &Path) -> Result<PathBuf, KubeconfigError> {
    resolve_symlinks(path).map_err(|source| KubeconfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The file's metadata, `None` when it does not exist (or cannot: a file is where one of its
/// directories should be, which creating the directory reports).
fn existing(path: &Path) -> Result<Option<Metadata>, KubeconfigError> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(meta)),
        Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            Ok(None)
        }
        Err(source) => Err(KubeconfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Only regular files are locked and written (never `/dev/null`, a pipe or a directory).
fn regular(path: &Path, meta: &Metadata) -> Result<(), KubeconfigError> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(KubeconfigError::NotRegularFile {
            path: path.to_path_buf(),
            what: file_kind(meta),
        })
    }
}

fn parent_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn create_dir_error(dir: &Path, kubeconfig: &Path, source: std::io::Error) -> KubeconfigError {
    KubeconfigError::CreateDir {
        dir: dir.to_path_buf(),
        path: kubeconfig.to_path_buf(),
        source,
    }
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
        .map_err(|source| create_dir_error(dir, kubeconfig, source))
}

/// Takes the lock, then removes the temp files that killed kindling writers left beside the
/// file (they hold credentials), saying so through the lock options' reporter.
fn lock_and_tidy(path: &Path, options: &LockOptions) -> Result<KubeconfigLock, KubeconfigError> {
    let guard = KubeconfigLock::acquire(path, options)?;
    for (temp, pid) in remove_dead_temps(guard.target()) {
        options.warn(&format!(
            "removed {}, a partly written copy of the kubeconfig (with its credentials) left by kindling process {pid}, which was killed while writing it",
            temp.display()
        ));
    }
    Ok(guard)
}

/// The temp file name prefix for `file_name` written by process `pid`:
/// `.<file>.kindling-<pid>-` (then random letters and `.tmp`). The pid tells a dead writer's
/// leftover from a live writer's file.
fn temp_prefix(file_name: &str, pid: u32) -> String {
    format!(".{file_name}.kindling-{pid}-")
}

/// The writer's pid if `entry` is one of kindling's temp files for `file_name`.
fn temp_writer(entry: &str, file_name: &str) -> Option<u32> {
    let rest = entry
        .strip_prefix(&format!(".{file_name}.kindling-"))?
        .strip_suffix(".tmp")?;
    let (pid, random) = rest.split_once('-')?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    let letters = !random.is_empty() && random.bytes().all(|b| b.is_ascii_alphanumeric());
    if digits && letters {
        pid.parse().ok()
    } else {
        None
    }
}

/// Removes kindling temp files of `target` whose writer no longer runs; call it holding the
/// lock (writers create temp files only under it). Returns what was removed, with the pids.
fn remove_dead_temps(target: &Path) -> Vec<(PathBuf, u32)> {
    let Some(file_name) = target.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(parent_dir(target)) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_writer(&name, &file_name) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file
            && process_exists(pid) == Some(false)
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push((entry.path(), pid));
        }
    }
    removed.sort();
    removed
}

/// Refuses a file this user may not write (the kernel decides, by opening it for writing,
/// which changes nothing): kindling never replaces a file behind its permissions.
fn check_can_write(path: &Path, meta: &Metadata) -> Result<(), KubeconfigError> {
    match OpenOptions::new().write(true).open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == ErrorKind::PermissionDenied => {
            Err(KubeconfigError::NotWritable {
                path: path.to_path_buf(),
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                user: current_uid(),
            })
        }
        Err(source) => Err(KubeconfigError::Write {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `config` to `target` (symlinks already resolved) so that readers see either the old
/// or the new file, never a partial one: temp file in the same directory, fsync, rename, fsync
/// the directory.
///
/// A new file gets mode 0600. An existing file keeps its mode, owner and group; a file this
/// user cannot write is refused. When the rename could not keep them (another user's file that
/// this user may write, e.g. group-writable, without the right to give a file away), or the
/// file is a mount point (a single file bind-mounted into a container), the file is rewritten
/// in place instead, as kubectl always does.
fn write_file(target: &Path, config: &Kubeconfig) -> Result<(), KubeconfigError> {
    let write_err = |source| KubeconfigError::Write {
        path: target.to_path_buf(),
        source,
    };
    let text = config.encode().map_err(|source| KubeconfigError::Encode {
        for_file: format!(" for {}", target.display()),
        source,
    })?;
    let meta = existing(target)?;
    if let Some(meta) = &meta {
        regular(target, meta)?;
        check_can_write(target, meta)?;
    } else {
        create_parent(target, target)?;
    }
    match replace(target, text.as_bytes(), meta.as_ref()) {
        Ok(()) => Ok(()),
        Err(Replace::InPlace) => rewrite_in_place(target, text.as_bytes()).map_err(write_err),
        Err(Replace::Failed(source)) => Err(write_err(source)),
    }
}

/// Why the atomic replacement did not happen.
enum Replace {
    /// It cannot keep what it must (owner) or cannot work here; rewrite the file in place.
    InPlace,
    /// A real failure; the old file is intact.
    Failed(std::io::Error),
}

fn replace(target: &Path, text: &[u8], existing: Option<&Metadata>) -> Result<(), Replace> {
    let dir = parent_dir(target);
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".into());
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(&file_name, std::process::id()))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(Replace::Failed)?;
    // The creation mode is reduced by the umask; set it explicitly.
    temp.as_file()
        .set_permissions(Permissions::from_mode(0o600))
        .map_err(Replace::Failed)?;
    let mut mode = 0o600;
    if let Some(existing) = existing {
        let ours = temp.as_file().metadata().map_err(Replace::Failed)?;
        if (existing.uid(), existing.gid()) != (ours.uid(), ours.gid())
            && std::os::unix::fs::fchown(temp.as_file(), Some(existing.uid()), Some(existing.gid()))
                .is_err()
        {
            // Only root may give a file away (and a group only to one we belong to).
            return Err(Replace::InPlace);
        }
        mode = existing.mode() & 0o777;
    }
    temp.write_all(text).map_err(Replace::Failed)?;
    temp.as_file().sync_all().map_err(Replace::Failed)?;
    // The final mode only once the content is complete (it may be looser than 0600).
    temp.as_file()
        .set_permissions(Permissions::from_mode(mode))
        .map_err(Replace::Failed)?;
    match temp.persist(target) {
        Ok(_) => {}
        // A bind-mounted file (e.g. into a container) cannot be renamed over.
        Err(err)
            if existing.is_some()
                && matches!(
                    err.error.kind(),
                    ErrorKind::ResourceBusy | ErrorKind::CrossesDevices
                ) =>
        {
            return Err(Replace::InPlace);
        }
        Err(err) => return Err(Replace::Failed(err.error)),
    }
    // Make the rename itself durable; a failure here leaves a complete file either way.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Overwrites an existing file's content, keeping its inode (owner, group, mode). The new text
/// is complete before the old tail is cut off.
fn rewrite_in_place(target: &Path, text: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(target)?;
    file.write_all(text)?;
    file.set_len(text.len() as u64)?;
    file.sync_all()
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
    fn merge_keeps_the_mode_of_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        for kept in [0o644, 0o640, 0o400] {
            std::fs::write(&path, "").unwrap();
            std::fs::set_permissions(&path, Permissions::from_mode(kept)).unwrap();
            merge_into_file(&path, &entry("one"), &LockOptions::default()).unwrap();
            assert_eq!(mode(&path), kept, "{kept:o}");
            assert_eq!(read_file(&path).unwrap().current_context, "kind-one");
            std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
            std::fs::remove_file(&path).unwrap();
        }
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
        // Both locks (the target's and the link's, which kubectl uses) are gone again.
        assert!(!lock_path(&link).exists() && !lock_path(&real).exists());
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
        assert!(resolve_symlinks(&a).is_err());
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("target", &dangling).unwrap();
        assert_eq!(
            resolve_symlinks(&dangling).unwrap(),
            dir.path().join("target")
        );
    }

    /// Collects warnings, for tests of what the lock reports.
    #[derive(Default)]
    struct Warnings(std::sync::Mutex<Vec<String>>);

    impl crate::report::Reporter for Warnings {
        fn start(&self, _title: &str) {}
        fn end(&self, _ok: bool) {}
        fn info(&self, _message: &str) {}
        fn warn(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_string());
        }
        fn debug(&self, _level: u8, _message: &str) {}
        fn pull(&self, _progress: &crate::report::PullProgress) {}
    }

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    fn quick() -> LockOptions {
        LockOptions {
            timeout: std::time::Duration::from_millis(200),
            ..LockOptions::default()
        }
    }

    #[test]
    fn temp_file_names_carry_the_writers_pid() {
        let name = format!("{}Ab12Cd.tmp", temp_prefix("config", 4242));
        assert_eq!(name, ".config.kindling-4242-Ab12Cd.tmp");
        assert_eq!(temp_writer(&name, "config"), Some(4242));
        for other in [
            ".config.Ab12Cd.tmp",
            ".config.kindling-4242-Ab12Cd",
            ".config.kindling--Ab12Cd.tmp",
            ".config.kindling-42x-Ab12Cd.tmp",
            ".config.kindling-4242-.tmp",
            ".config.kindling-4242-Ab.12.tmp",
            ".config.kindling-4242.kindling-1-Ab12Cd.tmp",
            ".other.kindling-4242-Ab12Cd.tmp",
        ] {
            assert_eq!(temp_writer(other, "config"), None, "{other}");
        }
    }

    #[test]
    fn temp_files_of_dead_writers_are_removed_under_the_lock_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let dead = dead_pid();
        let leftover = dir
            .path()
            .join(format!("{}Xy12Zw.tmp", temp_prefix("config", dead)));
        let live = dir.path().join(format!(
            "{}Xy12Zw.tmp",
            temp_prefix("config", std::process::id())
        ));
        let foreign = dir.path().join(".config.Xy12Zw.tmp");
        let other_file = dir
            .path()
            .join(format!("{}Xy12Zw.tmp", temp_prefix("other", dead)));
        for file in [&leftover, &live, &foreign, &other_file] {
            std::fs::write(file, "client-key-data: secret\n").unwrap();
        }
        let warnings = std::sync::Arc::new(Warnings::default());
        let options = LockOptions::reporting_to(warnings.clone());
        merge_into_file(&path, &entry("one"), &options).unwrap();
        assert!(!leftover.exists(), "the dead writer's temp file is removed");
        for kept in [&live, &foreign, &other_file] {
            assert!(kept.exists(), "{} must stay", kept.display());
        }
        let said = warnings.0.lock().unwrap().clone();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains(&leftover.display().to_string()),
            "{said:?}"
        );
        assert!(said[0].contains(&format!("process {dead}")), "{said:?}");
        // Removal cleans up the same way.
        std::fs::write(&leftover, "x").unwrap();
        remove_from_file(&path, "two", &options).unwrap();
        assert!(!leftover.exists());
    }

    #[test]
    fn writers_through_a_symlink_and_its_target_share_one_lock() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real-config");
        let link = dir.path().join("config");
        std::os::unix::fs::symlink("real-config", &link).unwrap();
        let held = KubeconfigLock::acquire(&real, &quick()).unwrap();
        let err = merge_into_file(&link, &entry("one"), &quick()).unwrap_err();
        assert!(
            matches!(err, KubeconfigError::LockTimeout { .. }),
            "the link's writer must wait for the target's lock: {err:?}"
        );
        held.release().unwrap();
        // And the other way round; the link's own name is locked too (kubectl uses that one).
        let through_link = KubeconfigLock::acquire(&link, &quick()).unwrap();
        assert!(lock_path(&real).exists() && lock_path(&link).exists());
        let err = merge_into_file(&real, &entry("one"), &quick()).unwrap_err();
        assert!(
            matches!(err, KubeconfigError::LockTimeout { .. }),
            "{err:?}"
        );
        through_link.release().unwrap();
        assert!(!lock_path(&real).exists() && !lock_path(&link).exists());
        merge_into_file(&link, &entry("one"), &quick()).unwrap();
        assert_eq!(read_file(&real).unwrap().current_context, "kind-one");
    }

    #[test]
    fn non_regular_files_are_neither_locked_nor_written() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("config");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = merge_into_file(&socket, &entry("one"), &quick()).unwrap_err();
        let KubeconfigError::NotRegularFile { what, .. } = &err else {
            panic!("expected a not-a-regular-file error, got {err:?}");
        };
        assert_eq!(*what, "a socket");
        assert!(err.to_string().contains("--kubeconfig"), "{err}");
        let err = KubeconfigLock::acquire(&socket, &quick()).unwrap_err();
        assert!(
            matches!(err, KubeconfigError::NotRegularFile { .. }),
            "{err:?}"
        );
        let err = check_writable(&socket, &quick()).unwrap_err();
        assert!(
            matches!(err, KubeconfigError::NotRegularFile { .. }),
            "{err:?}"
        );
        assert!(!lock_path(&socket).exists());
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "nothing created beside it");
    }

    #[test]
    fn reads_stop_at_the_limit_and_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut big = vec![b'#'; MAX_INPUT_BYTES as usize + 1];
        big[MAX_INPUT_BYTES as usize] = b'\n';
        std::fs::write(&path, &big).unwrap();
        let err = read_file(&path).unwrap_err();
        assert!(matches!(err, KubeconfigError::Read { .. }), "{err:?}");
        let text = format!("{:#}", anyhow::Error::from(err));
        assert!(text.contains("more than 8 MiB"), "{text}");
        // Exactly at the limit is still read.
        big.truncate(MAX_INPUT_BYTES as usize);
        std::fs::write(&path, &big).unwrap();
        assert_eq!(read_file(&path).unwrap(), Kubeconfig::default());
    }

    #[test]
    fn check_writable_finds_problems_without_changing_anything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        // Missing file and missing directories: fine, and nothing is created.
        check_writable(&dir.path().join("a/b/config"), &quick()).unwrap();
        check_writable(&path, &quick()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // A relative path in the current directory.
        check_writable(Path::new("no-such-dir-here/config"), &quick()).unwrap();

        std::fs::write(&path, "clusters: [\n").unwrap();
        let err = check_writable(&path, &quick()).unwrap_err();
        assert!(matches!(err, KubeconfigError::Parse { .. }), "{err:?}");
        let text = format!("{:#}", anyhow::Error::from(err));
        assert!(text.contains("line "), "the cause is shown: {text}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "clusters: [\n");
        assert!(!lock_path(&path).exists());

        std::fs::write(&path, "apiVersion: v1\n").unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        check_writable(&path, &quick()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "untouched");
        assert!(!lock_path(&path).exists());

        let held = KubeconfigLock::acquire(&path, &quick()).unwrap();
        let err = check_writable(&path, &quick()).unwrap_err();
        assert!(
            matches!(err, KubeconfigError::LockTimeout { .. }),
            "{err:?}"
        );
        held.release().unwrap();

        let in_the_way = dir.path().join("file");
        std::fs::write(&in_the_way, "").unwrap();
        let err = check_writable(&in_the_way.join("sub/config"), &quick()).unwrap_err();
        assert!(matches!(err, KubeconfigError::CreateDir { .. }), "{err:?}");
    }
}

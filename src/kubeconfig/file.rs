//! Locked read-modify-write of one kubeconfig file, with atomic replacement that keeps the
//! file's owner and mode, bounded reads, and clean-up of temp files left by killed writers.

use super::KubeconfigError;
use super::lock::{
    KubeconfigLock, LockOptions, Target, current_uid, file_kind, process_exists, process_start,
};
use super::merge::{merge, remove};
use super::types::{Kubeconfig, check_single};
use crate::input::{MAX_INPUT_BYTES, read_limited};
use rustix::fs::Access;
use std::fs::{DirBuilder, File, Metadata, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Merges `entry` into the file at `path` (kind-facts §5.4), under the lock, atomically;
/// returns nothing on success.
pub fn merge_into_file(
    path: &Path,
    entry: &Kubeconfig,
    lock: &LockOptions,
) -> Result<(), KubeconfigError> {
    // Reject a malformed entry before creating directories or taking the lock.
    check_single(entry)?;
    let target = Target::resolve(path)?;
    if target.meta.is_none() {
        create_parent(&target.path, path)?;
    }
    let guard = lock_and_tidy(path, target, lock)?;
    let mut config = read_file(guard.target())?;
    merge(&mut config, entry)?;
    write_file(&guard, &config)?;
    guard.release()
}

/// Removes kind-<cluster> entries from one file (§5.5); Ok(true) if the file changed.
/// Missing file = Ok(false).
pub fn remove_from_file(
    path: &Path,
    cluster_name: &str,
    lock: &LockOptions,
) -> Result<bool, KubeconfigError> {
    let target = Target::resolve(path)?;
    // A missing file has nothing to remove; do not create its directory just to lock it.
    let Some(meta) = &target.meta else {
        return Ok(false);
    };
    if !meta.is_file() {
        // `KUBECONFIG=/dev/null` and the like: read (bounded), never locked or written.
        let mut config = read_file(&target.path)?;
        if remove(&mut config, cluster_name) {
            return Err(KubeconfigError::NotRegularFile {
                what: file_kind(meta),
                path: target.path,
            });
        }
        return Ok(false);
    }
    let guard = lock_and_tidy(path, target, lock)?;
    let mut config = read_file(guard.target())?;
    let changed = remove(&mut config, cluster_name);
    if changed {
        write_file(&guard, &config)?;
    }
    guard.release()?;
    Ok(changed)
}

/// Checks, before a create makes anything, that `path` will be able to take its entry at the
/// end: a regular file (or none yet) that can be locked, read, parsed and written, or a missing
/// directory this user can create. The lock is taken and released again (temp files of killed
/// writers are removed on the way); nothing is created, not even a missing directory, and the
/// file is never opened for writing (file watchers would see that as a change).
pub fn check_writable(path: &Path, lock: &LockOptions) -> Result<(), KubeconfigError> {
    let target = Target::resolve(path)?;
    let dir = parent_dir(&target.path);
    let ancestor =
        first_existing_ancestor(dir).map_err(|(at, source)| create_dir_error(&at, path, source))?;
    if ancestor != dir {
        // The final write creates the missing directories below `ancestor`.
        return may_create_in(ancestor).map_err(|source| create_dir_error(dir, path, source));
    }
    let guard = lock_and_tidy(path, target, lock)?;
    read_file(guard.target())?;
    if let Some(meta) = guard.metadata() {
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

fn parent_dir(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The nearest of `dir` and its ancestors that exists (`.` for a relative path whose
/// directories are all missing); an error naming the path when something other than a
/// directory is in the way or cannot be looked at.
fn first_existing_ancestor(dir: &Path) -> Result<&Path, (PathBuf, std::io::Error)> {
    for ancestor in dir.ancestors() {
        // A relative path's last ancestor is "": the current directory.
        let ancestor = if ancestor.as_os_str().is_empty() {
            Path::new(".")
        } else {
            ancestor
        };
        match std::fs::metadata(ancestor) {
            Ok(meta) if meta.is_dir() => return Ok(ancestor),
            Ok(_) => {
                let source = std::io::Error::new(ErrorKind::NotADirectory, "a file is in the way");
                return Err((ancestor.to_path_buf(), source));
            }
            Err(err) if err.kind() == ErrorKind::NotFound => {}
            Err(source) => return Err((ancestor.to_path_buf(), source)),
        }
    }
    Ok(Path::new("."))
}

/// Whether this user may create entries in the existing directory `dir` (write and search
/// permission, as the kernel decides with access(2): modes, ACLs, read-only mounts, root).
fn may_create_in(dir: &Path) -> std::io::Result<()> {
    rustix::fs::access(dir, Access::WRITE_OK | Access::EXEC_OK).map_err(|errno| {
        let err = std::io::Error::from(errno);
        std::io::Error::new(err.kind(), format!("{}: {err}", dir.display()))
    })
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
fn lock_and_tidy(
    path: &Path,
    target: Target,
    options: &LockOptions,
) -> Result<KubeconfigLock, KubeconfigError> {
    let guard = KubeconfigLock::lock(path, target, options)?;
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

/// Whether the kindling process `pid` named in a temp file last modified at `modified` can no
/// longer be writing it. Only for a caller holding the lock: writers create temp files only
/// under it, and tidy before they write, so a file carrying our own pid is an earlier process's.
/// A live process that started after the file's last change is not its writer (the pid was
/// reused); the start time is never late, so a live writer's file is never taken for dead.
fn writer_gone(pid: u32, modified: Option<SystemTime>) -> bool {
    if pid == std::process::id() {
        return true;
    }
    match process_exists(pid) {
        Some(false) => true,
        Some(true) => matches!(
            (process_start(pid), modified),
            (Some(started), Some(modified)) if started > modified
        ),
        None => false,
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
        // Not followed: a symlink with this name is not a temp file kindling wrote.
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if meta.is_file()
            && writer_gone(pid, meta.modified().ok())
            && std::fs::remove_file(entry.path()).is_ok()
        {
            removed.push((entry.path(), pid));
        }
    }
    removed.sort();
    removed
}

/// Refuses a file this user may not write (the kernel decides with access(2), which neither
/// opens nor changes the file): kindling never replaces a file behind its permissions.
fn check_can_write(path: &Path, meta: &Metadata) -> Result<(), KubeconfigError> {
    match rustix::fs::access(path, Access::WRITE_OK).map_err(std::io::Error::from) {
        Ok(()) => Ok(()),
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

/// Writes `config` to the file `guard` protects so that readers see either the old or the new
/// file, never a partial one: temp file in the same directory, fsync, rename, fsync the
/// directory.
///
/// A new file gets mode 0600. An existing file keeps its mode, owner and group; a file this
/// user cannot write is refused. When the rename could not keep them (another user's file that
/// this user may write, e.g. group-writable, without the right to give a file away), the file
/// is a mount point (a single file bind-mounted into a container), or its directory does not
/// let this user create the temp file, the file is rewritten in place instead, as kubectl
/// always does.
fn write_file(guard: &KubeconfigLock, config: &Kubeconfig) -> Result<(), KubeconfigError> {
    let target = guard.target();
    let write_err = |source| KubeconfigError::Write {
        path: target.to_path_buf(),
        source,
    };
    let text = config.encode().map_err(|source| KubeconfigError::Encode {
        for_file: format!(" for {}", target.display()),
        source,
    })?;
    let meta = guard.metadata();
    if let Some(meta) = meta {
        check_can_write(target, meta)?;
    }
    match replace(target, text.as_bytes(), meta) {
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
    let mut temp = match tempfile::Builder::new()
        .prefix(&temp_prefix(&file_name, std::process::id()))
        .suffix(".tmp")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
    {
        Ok(temp) => temp,
        // A writable file in a directory this user may not write (reached through a symlink).
        Err(err) if existing.is_some() && err.kind() == ErrorKind::PermissionDenied => {
            return Err(Replace::InPlace);
        }
        Err(err) => return Err(Replace::Failed(err)),
    };
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
    use crate::kubeconfig::lock::{dead_pid, lock_path};
    use crate::kubeconfig::paths::resolve_symlinks;

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

    /// A child process that runs until killed (and is reaped) when the value is dropped.
    struct Running(std::process::Child);

    impl Running {
        fn start() -> Running {
            Running(
                std::process::Command::new("sleep")
                    .arg("600")
                    .spawn()
                    .unwrap(),
            )
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn temp_files_of_dead_writers_are_removed_under_the_lock_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let temp_of = |file: &str, pid: u32| {
            let temp = dir
                .path()
                .join(format!("{}Xy12Zw.tmp", temp_prefix(file, pid)));
            std::fs::write(&temp, "client-key-data: secret\n").unwrap();
            temp
        };
        // A live process that may be writing its file: it started before the file was written.
        let writer = Running::start();
        let live = temp_of("config", writer.0.id());
        let dead = dead_pid();
        let leftover = temp_of("config", dead);
        // Our own pid: we hold the lock and have not written yet, so an earlier process with
        // this pid left it.
        let own = temp_of("config", std::process::id());
        // A pid reused by a process that started after the file's last change.
        let reusing = Running::start();
        let reused = temp_of("config", reusing.0.id());
        let hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&reused)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        let foreign = dir.path().join(".config.Xy12Zw.tmp");
        std::fs::write(&foreign, "client-key-data: secret\n").unwrap();
        let other_file = temp_of("other", dead);
        let warnings = std::sync::Arc::new(Warnings::default());
        let options = LockOptions::reporting_to(warnings.clone());
        merge_into_file(&path, &entry("one"), &options).unwrap();
        for gone in [&leftover, &own, &reused] {
            assert!(!gone.exists(), "{} must be removed", gone.display());
        }
        for kept in [&live, &foreign, &other_file] {
            assert!(kept.exists(), "{} must stay", kept.display());
        }
        let said = warnings.0.lock().unwrap().clone();
        assert_eq!(said.len(), 3, "{said:?}");
        for (gone, pid) in [
            (&leftover, dead),
            (&own, std::process::id()),
            (&reused, reusing.0.id()),
        ] {
            assert!(
                said.iter().any(|s| s.contains(&gone.display().to_string())
                    && s.contains(&format!("process {pid},"))),
                "{said:?}"
            );
        }
        // Removal cleans up the same way.
        std::fs::write(&leftover, "x").unwrap();
        remove_from_file(&path, "two", &options).unwrap();
        assert!(!leftover.exists());
        assert!(live.exists());
    }

    #[test]
    fn process_start_times_are_never_late() {
        let before = SystemTime::now();
        let child = Running::start();
        let after = SystemTime::now();
        let started = process_start(child.0.id()).unwrap();
        // Up to a second early (the boot time is in whole seconds), never after it was spawned.
        assert!(started <= after, "{started:?} > {after:?}");
        assert!(
            started + std::time::Duration::from_millis(1100) >= before,
            "{started:?} long before {before:?}"
        );
        assert_eq!(process_start(dead_pid()), None);
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

    #[test]
    fn check_writable_never_opens_the_file_for_writing() {
        use rustix::fs::inotify;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "apiVersion: v1\n").unwrap();
        // File watchers (k9s, Lens, IDEs) take a close after opening for writing as a change.
        let watcher = inotify::init(inotify::CreateFlags::NONBLOCK).unwrap();
        inotify::add_watch(
            &watcher,
            &path,
            inotify::WatchFlags::CLOSE_WRITE | inotify::WatchFlags::MODIFY,
        )
        .unwrap();
        check_writable(&path, &quick()).unwrap();
        let mut buf = [std::mem::MaybeUninit::uninit(); 1024];
        let mut events = inotify::Reader::new(&watcher, &mut buf);
        match events.next() {
            Err(rustix::io::Errno::AGAIN) => {}
            Ok(event) => panic!("the check changed the file for watchers: {event:?}"),
            Err(err) => panic!("reading inotify events: {err}"),
        }
    }

    #[test]
    fn the_first_existing_ancestor_is_found_or_what_is_in_the_way_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(first_existing_ancestor(root).unwrap(), root);
        assert_eq!(first_existing_ancestor(&root.join("a/b/c")).unwrap(), root);
        assert_eq!(
            first_existing_ancestor(Path::new("no-such-dir-here/sub")).unwrap(),
            Path::new(".")
        );
        std::fs::write(root.join("file"), "").unwrap();
        let (at, err) = first_existing_ancestor(&root.join("file/sub/dir")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
        assert!(at.starts_with(root.join("file")), "{}", at.display());
        // Root may create anything anywhere; the refusal itself is tested as another user in
        // tests/it/user_files.rs.
        may_create_in(root).unwrap();
        let err = may_create_in(&root.join("missing")).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}

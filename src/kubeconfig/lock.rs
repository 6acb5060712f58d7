//! The `<kubeconfig>.lock` file that kind, kubectl (client-go) and kindling all create with
//! O_CREAT|O_EXCL before changing a kubeconfig.
//!
//! kind and kubectl fail at once when the lock exists and leave it empty. kindling waits for it
//! with exponential backoff, records its process id, host and PID namespace in the locks it
//! creates, and reports a lock left by a kindling process that no longer runs (without
//! removing it: only the user can know no other tool is in the middle of a write).
//!
//! A kubeconfig reached through a symlink is locked as the file the link resolves to, so
//! writers through the link and through the target exclude each other. client-go locks only
//! the name it was given (and writes through the link), so kindling then also takes the lock
//! of that name: kubectl writing through the same link waits for, or is refused by, kindling.

use super::KubeconfigError;
use super::paths::resolve_symlinks;
use crate::report::Reporter;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// Lock behaviour: held locks are waited for with backoff up to `timeout` (default 30 s);
/// notices (such as removed leftovers of a killed writer) go to `reporter`.
#[derive(Clone)]
pub struct LockOptions {
    /// How long to wait for a lock held by someone else before giving up.
    pub timeout: Duration,
    /// Receives warnings about what was cleaned up under the lock; `None` drops them.
    pub reporter: Option<Arc<dyn Reporter>>,
    /// Stops a wait for a held lock early (e.g. on Ctrl-C) with [`KubeconfigError::Cancelled`].
    pub cancel: Option<CancellationToken>,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            timeout: Duration::from_secs(30),
            reporter: None,
            cancel: None,
        }
    }
}

impl LockOptions {
    /// The default wait, with notices sent to `reporter`.
    pub fn reporting_to(reporter: Arc<dyn Reporter>) -> Self {
        LockOptions {
            reporter: Some(reporter),
            ..LockOptions::default()
        }
    }

    /// Sends a warning to the reporter, if there is one.
    pub(super) fn warn(&self, message: &str) {
        if let Some(reporter) = &self.reporter {
            reporter.warn(message);
        }
    }

    /// Sends a progress line to the reporter, if there is one.
    fn info(&self, message: &str) {
        if let Some(reporter) = &self.reporter {
            reporter.info(message);
        }
    }
}

impl std::fmt::Debug for LockOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockOptions")
            .field("timeout", &self.timeout)
            .field("reporter", &self.reporter.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// First wait after finding the lock held; doubled after each try up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_millis(5);
/// Longest single wait between tries, so a released lock is noticed within half a second.
const MAX_DELAY: Duration = Duration::from_millis(500);

/// A kubeconfig path with its symlinks resolved, and what is there.
#[derive(Debug)]
pub(super) struct Target {
    /// The file the content lives in (symlinks resolved).
    pub path: PathBuf,
    /// Its metadata; `None` when it does not exist (yet).
    pub meta: Option<Metadata>,
}

impl Target {
    /// Resolves the symlinks of `kubeconfig` and looks at the file they lead to.
    pub(super) fn resolve(kubeconfig: &Path) -> Result<Target, KubeconfigError> {
        let path = resolve_symlinks(kubeconfig).map_err(|source| KubeconfigError::Read {
            path: kubeconfig.to_path_buf(),
            source,
        })?;
        let meta = existing(&path)?;
        Ok(Target { path, meta })
    }
}

/// A file's metadata, `None` when it does not exist (or cannot: a file is where one of its
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
fn regular(path: &Path, meta: Option<&Metadata>) -> Result<(), KubeconfigError> {
    match meta {
        Some(meta) if !meta.is_file() => Err(KubeconfigError::NotRegularFile {
            path: path.to_path_buf(),
            what: file_kind(meta),
        }),
        _ => Ok(()),
    }
}

/// A held `<kubeconfig>.lock` (two when the kubeconfig is reached through a symlink: the
/// resolved file's and the given name's); removed by `release` or, failing that, when dropped.
#[derive(Debug)]
pub struct KubeconfigLock {
    /// The lock files held, the resolved file's first; never empty.
    paths: Vec<PathBuf>,
    /// The kubeconfig file the lock protects, symlinks resolved.
    target: PathBuf,
    /// The file's metadata as seen under the lock; `None` when it does not exist.
    meta: Option<Metadata>,
    released: bool,
}

impl KubeconfigLock {
    /// Takes the lock of the kubeconfig at `kubeconfig` (its directory must exist), waiting for
    /// a held lock as `options` says; fails at once on a lock left by a dead kindling process,
    /// and refuses to put a lock next to something that is not a regular file (`/dev/null`).
    pub fn acquire(
        kubeconfig: &Path,
        options: &LockOptions,
    ) -> Result<KubeconfigLock, KubeconfigError> {
        Self::lock(kubeconfig, Target::resolve(kubeconfig)?, options)
    }

    /// [`acquire`](Self::acquire) for a kubeconfig whose symlinks are already resolved: the one
    /// place that checks the file is regular before a lock is put beside it.
    pub(super) fn lock(
        kubeconfig: &Path,
        target: Target,
        options: &LockOptions,
    ) -> Result<KubeconfigLock, KubeconfigError> {
        regular(&target.path, target.meta.as_ref())?;
        let start = Instant::now();
        let mut held = KubeconfigLock {
            paths: Vec::new(),
            target: target.path,
            meta: None,
            released: false,
        };
        let through_link = kubeconfig != held.target;
        // The resolved file's lock first, always: every kindling writer takes that one before
        // any other, so two of them can never wait for each other in opposite orders.
        match take(&lock_path(&held.target), options, start) {
            Ok(lock) => held.paths.push(lock),
            // kubectl locks only the link's name and writes through the link, so a link into a
            // directory this user may not write (`~/.kube/config -> /etc/kubernetes/admin.conf`)
            // works for it; then the link's lock alone guards the write (in place, as kubectl).
            Err(KubeconfigError::Lock { source, .. })
                if through_link && source.kind() == ErrorKind::PermissionDenied => {}
            Err(err) => return Err(err),
        }
        if through_link {
            // On failure `held` is dropped, which removes the lock already taken.
            held.paths
                .push(take(&lock_path(kubeconfig), options, start)?);
        }
        // Look again under the lock: another writer may have created or replaced the file
        // while we waited.
        held.meta = existing(&held.target)?;
        regular(&held.target, held.meta.as_ref())?;
        Ok(held)
    }

    /// The lock file's path: the resolved file's lock (the link's, when the resolved file's
    /// directory does not let this user create one).
    pub fn path(&self) -> &Path {
        &self.paths[0]
    }

    /// The kubeconfig file this lock protects, with symlinks resolved.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The protected file's metadata as seen under the lock; `None` when it does not exist.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.meta.as_ref()
    }

    /// Removes the lock files, reporting failure (a lock left behind blocks every later write).
    pub fn release(mut self) -> Result<(), KubeconfigError> {
        self.released = true;
        let mut result = Ok(());
        for path in self.paths.iter().rev() {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                // Someone removed it by hand; nothing is left to clean up.
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                Err(source) => {
                    if result.is_ok() {
                        result = Err(KubeconfigError::Unlock {
                            lock: path.clone(),
                            source,
                        });
                    }
                }
            }
        }
        result
    }
}

/// Creates one lock file, waiting for a held one until `options.timeout` after `start`.
fn take(path: &Path, options: &LockOptions, start: Instant) -> Result<PathBuf, KubeconfigError> {
    let mut delay = FIRST_DELAY;
    loop {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(path)
        {
            Ok(file) => {
                write_owner(file);
                return Ok(path.to_path_buf());
            }
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(KubeconfigError::Lock {
                    lock: path.to_path_buf(),
                    source,
                });
            }
        }
        let holder = match Holder::inspect(path) {
            // Released between our create and our read: try again at once.
            None => continue,
            Some(Holder::Gone { pid, host }) => {
                return Err(KubeconfigError::StaleLock {
                    lock: path.to_path_buf(),
                    pid,
                    host,
                });
            }
            Some(holder) => holder,
        };
        if options.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(KubeconfigError::Cancelled {
                lock: path.to_path_buf(),
            });
        }
        let waited = start.elapsed();
        if waited >= options.timeout {
            return Err(KubeconfigError::LockTimeout {
                lock: path.to_path_buf(),
                waited,
                holder: holder.describe(),
            });
        }
        if delay == FIRST_DELAY {
            // Once, so a long wait is never silent.
            options.info(&format!(
                "Waiting up to {} for the kubeconfig lock {} ({}) ...",
                super::format_duration(options.timeout),
                path.display(),
                holder.describe()
            ));
        }
        std::thread::sleep(jittered(delay).min(options.timeout - waited));
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// What a non-regular file is, for messages.
pub(super) fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

impl Drop for KubeconfigLock {
    fn drop(&mut self) {
        if !self.released {
            // Error paths: the operation's own error is the one to report.
            for path in self.paths.iter().rev() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// `<kubeconfig>.lock`, the name kind and client-go use.
pub(super) fn lock_path(kubeconfig: &Path) -> PathBuf {
    let mut name = kubeconfig.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Half the delay plus a random part of the other half, so waiters that started together
/// do not retry in lockstep.
fn jittered(delay: Duration) -> Duration {
    let half = delay / 2;
    let fraction = f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX);
    half + half.mul_f64(fraction)
}

/// Who we are, as recorded in lock files and compared when judging a lock stale.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    pid: u32,
    host: Option<String>,
    /// `pid:[inode]` of the PID namespace: the same PID means the same process only inside
    /// one namespace (containers on one host may share a host name).
    pid_namespace: Option<String>,
}

impl Owner {
    fn current() -> Owner {
        Owner {
            pid: std::process::id(),
            host: read_trimmed("/proc/sys/kernel/hostname"),
            pid_namespace: std::fs::read_link("/proc/self/ns/pid")
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
        }
    }

    fn to_text(&self) -> String {
        let mut text = format!("kindling\npid: {}\n", self.pid);
        if let Some(host) = &self.host {
            text.push_str(&format!("host: {host}\n"));
        }
        if let Some(ns) = &self.pid_namespace {
            text.push_str(&format!("pid-namespace: {ns}\n"));
        }
        text
    }

    /// Reads what `to_text` wrote; `None` for anything else (kind's and kubectl's empty files,
    /// a file caught before its owner wrote into it).
    fn parse(text: &str) -> Option<Owner> {
        let mut lines = text.lines();
        if lines.next() != Some("kindling") {
            return None;
        }
        let mut pid = None;
        let mut host = None;
        let mut pid_namespace = None;
        for line in lines {
            match line.split_once(": ") {
                Some(("pid", v)) => pid = v.parse().ok(),
                Some(("host", v)) => host = Some(v.to_string()),
                Some(("pid-namespace", v)) => pid_namespace = Some(v.to_string()),
                _ => {}
            }
        }
        Some(Owner {
            pid: pid?,
            host,
            pid_namespace,
        })
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Records who holds the lock. Best effort: if this write fails the lock is still ours, and
/// others treat an unreadable lock as held by a live process, which is safe.
fn write_owner(mut file: File) {
    let _ = file.write_all(Owner::current().to_text().as_bytes());
}

/// What the lock file tells about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Holder {
    /// Empty or foreign content (kind, kubectl) or not readable: assume alive.
    Unknown,
    /// A kindling process we cannot check (other host, other PID namespace, other user).
    Elsewhere { pid: u32, host: Option<String> },
    /// A kindling process on this host that still exists.
    Running { pid: u32 },
    /// A kindling process on this host that no longer exists.
    Gone { pid: u32, host: Option<String> },
}

impl Holder {
    /// `None` when the lock file no longer exists.
    fn inspect(lock: &Path) -> Option<Holder> {
        let (text, lock_uid) = match std::fs::read_to_string(lock) {
            Ok(text) => (text, std::fs::metadata(lock).ok().map(|m| m.uid())),
            Err(err) if err.kind() == ErrorKind::NotFound => return None,
            Err(_) => return Some(Holder::Unknown),
        };
        let Some(owner) = Owner::parse(&text) else {
            return Some(Holder::Unknown);
        };
        Some(judge(&owner, lock_uid, &Owner::current(), process_exists))
    }

    fn describe(&self) -> String {
        match self {
            Holder::Unknown => {
                "held by a program that does not record its process id, such as kind or kubectl"
                    .to_string()
            }
            Holder::Elsewhere { pid, host } => match host {
                Some(host) => format!("held by process {pid} on {host}"),
                None => format!("held by process {pid} on an unknown host"),
            },
            Holder::Running { pid } => format!("held by process {pid}, which is still running"),
            Holder::Gone { pid, .. } => format!("held by process {pid}, which is gone"),
        }
    }
}

/// Decides whether `owner` (from a lock file owned by `lock_uid`) can be checked from here and
/// whether it still runs. Only a definite "no such process" yields `Gone`.
fn judge(
    owner: &Owner,
    lock_uid: Option<u32>,
    me: &Owner,
    exists: impl Fn(u32) -> Option<bool>,
) -> Holder {
    let same_host = owner.host.is_some() && owner.host == me.host;
    let same_namespace = owner.pid_namespace.is_some() && owner.pid_namespace == me.pid_namespace;
    // With `hidepid`, /proc hides other users' processes; only root sees them all.
    let visible = match (lock_uid, current_uid()) {
        (Some(lock_uid), Some(my_uid)) => my_uid == 0 || lock_uid == my_uid,
        _ => false,
    };
    if !(same_host && same_namespace && visible) {
        return Holder::Elsewhere {
            pid: owner.pid,
            host: owner.host.clone(),
        };
    }
    match exists(owner.pid) {
        Some(true) => Holder::Running { pid: owner.pid },
        Some(false) => Holder::Gone {
            pid: owner.pid,
            host: owner.host.clone(),
        },
        None => Holder::Elsewhere {
            pid: owner.pid,
            host: owner.host.clone(),
        },
    }
}

/// The uid of this process, from /proc.
pub(super) fn current_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// What a kindling process `pid` on this host and in this PID namespace records in the lock
/// files it creates (tests use it to fake a lock left by a killed kindling process).
#[doc(hidden)]
pub fn lock_text_of(pid: u32) -> String {
    Owner {
        pid,
        ..Owner::current()
    }
    .to_text()
}

/// Clock ticks per second of the times in /proc (`USER_HZ`, 100 on every architecture Rust
/// builds Linux programs for).
const USER_HZ: u64 = 100;

/// When process `pid` started: field 22 of /proc/<pid>/stat (clock ticks after boot) plus the
/// boot time (`btime` in /proc/stat). Both are rounded down, so the result may be up to a
/// second early, never late. `None` when /proc cannot tell.
pub(super) fn process_start(pid: u32) -> Option<SystemTime> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = start_ticks(&stat)?;
    let boot: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let since_boot = Duration::from_millis(ticks.checked_mul(1000)? / USER_HZ);
    Some(UNIX_EPOCH + Duration::from_secs(boot) + since_boot)
}

/// Field 22 (`starttime`) of a /proc/<pid>/stat line. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted after its last `)`, where field 3 starts.
fn start_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// Whether a process exists, via /proc; `None` when /proc cannot tell.
pub(super) fn process_exists(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    match std::fs::symlink_metadata(format!("/proc/{pid}")) {
        Ok(_) => Some(true),
        Err(err) if err.kind() == ErrorKind::NotFound => Some(false),
        Err(_) => None,
    }
}

/// A pid that no process has any more (for the kubeconfig module's tests).
#[cfg(test)]
pub(super) fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn quick() -> LockOptions {
        LockOptions {
            timeout: Duration::from_millis(100),
            ..LockOptions::default()
        }
    }

    #[test]
    fn lock_file_is_created_with_our_identity_and_removed_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let lock = KubeconfigLock::acquire(&config, &LockOptions::default()).unwrap();
        assert_eq!(lock.path(), dir.path().join("config.lock"));
        let owner = Owner::parse(&std::fs::read_to_string(lock.path()).unwrap()).unwrap();
        assert_eq!(owner, Owner::current());
        assert_eq!(owner.pid, std::process::id());
        lock.release().unwrap();
        assert!(!dir.path().join("config.lock").exists());
    }

    #[test]
    fn lock_is_removed_when_dropped_without_release() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        drop(KubeconfigLock::acquire(&config, &quick()).unwrap());
        assert!(!lock_path(&config).exists());
    }

    #[test]
    fn empty_lock_file_from_kind_or_kubectl_is_waited_for_then_reported() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(lock_path(&config), "").unwrap();
        let err = KubeconfigLock::acquire(&config, &quick()).unwrap_err();
        let KubeconfigError::LockTimeout { waited, holder, .. } = &err else {
            panic!("expected a timeout, got {err:?}");
        };
        assert!(*waited >= quick().timeout, "gave up early: {waited:?}");
        assert!(holder.contains("kind or kubectl"), "{holder}");
        let text = err.to_string();
        assert!(
            text.ends_with(&format!("rm {}", lock_path(&config).display())),
            "{text}"
        );
        assert!(
            lock_path(&config).exists(),
            "someone else's lock is never removed"
        );
    }

    #[test]
    fn lock_of_a_dead_process_fails_at_once_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let pid = dead_pid();
        let stale = Owner {
            pid,
            ..Owner::current()
        };
        std::fs::write(lock_path(&config), stale.to_text()).unwrap();
        let long = LockOptions {
            timeout: Duration::from_secs(60),
            ..LockOptions::default()
        };
        let start = Instant::now();
        let err = KubeconfigLock::acquire(&config, &long).unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "waited {:?} for a dead process",
            start.elapsed()
        );
        match &err {
            KubeconfigError::StaleLock { pid: p, .. } => assert_eq!(*p, pid),
            other => panic!("expected a stale lock error, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&format!("process {pid}")), "{text}");
        assert!(text.contains("no longer running"), "{text}");
        assert!(text.ends_with(&format!("rm {}", lock_path(&config).display())));
        assert!(
            lock_path(&config).exists(),
            "stale locks are reported, not removed"
        );
    }

    #[test]
    fn lock_of_a_process_on_another_host_is_not_called_dead() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let other = Owner {
            pid: dead_pid(),
            host: Some("some-other-host".into()),
            ..Owner::current()
        };
        std::fs::write(lock_path(&config), other.to_text()).unwrap();
        let err = KubeconfigLock::acquire(&config, &quick()).unwrap_err();
        let KubeconfigError::LockTimeout { holder, .. } = &err else {
            panic!("expected a timeout, got {err:?}");
        };
        assert!(holder.contains("on some-other-host"), "{holder}");
    }

    #[test]
    fn held_lock_is_waited_for_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let held = KubeconfigLock::acquire(&config, &quick()).unwrap();
        let (tx, rx) = mpsc::channel();
        let waiter = {
            let config = config.clone();
            std::thread::spawn(move || {
                let long = LockOptions {
                    timeout: Duration::from_secs(60),
                    ..LockOptions::default()
                };
                tx.send(KubeconfigLock::acquire(&config, &long).map(|l| l.release()))
                    .unwrap();
            })
        };
        // The waiter must still be blocked while we hold the lock (a failure would arrive now).
        assert!(matches!(
            rx.recv_timeout(Duration::from_millis(300)),
            Err(mpsc::RecvTimeoutError::Timeout)
        ));
        held.release().unwrap();
        rx.recv().unwrap().unwrap().unwrap();
        waiter.join().unwrap();
        assert!(!lock_path(&config).exists());
    }

    #[test]
    fn judging_needs_same_host_namespace_and_visibility() {
        let me = Owner::current();
        let uid = current_uid();
        let alive = |_| Some(true);
        let dead = |_| Some(false);
        let unknown = |_| None;
        let other = Owner {
            pid: 4242,
            ..me.clone()
        };
        assert_eq!(
            judge(&other, uid, &me, alive),
            Holder::Running { pid: 4242 }
        );
        assert_eq!(
            judge(&other, uid, &me, dead),
            Holder::Gone {
                pid: 4242,
                host: me.host.clone()
            }
        );
        assert!(matches!(
            judge(&other, uid, &me, unknown),
            Holder::Elsewhere { .. }
        ));
        let other_ns = Owner {
            pid_namespace: Some("pid:[1]".into()),
            ..other.clone()
        };
        assert!(matches!(
            judge(&other_ns, uid, &me, dead),
            Holder::Elsewhere { .. }
        ));
        let no_host = Owner {
            host: None,
            ..other.clone()
        };
        assert!(matches!(
            judge(&no_host, uid, &me, dead),
            Holder::Elsewhere { .. }
        ));
        assert!(matches!(
            judge(&other, None, &me, dead),
            Holder::Elsewhere { .. }
        ));
    }

    #[test]
    fn owner_text_round_trips_and_foreign_text_is_unknown() {
        let me = Owner::current();
        assert_eq!(Owner::parse(&me.to_text()), Some(me));
        assert_eq!(Owner::parse(""), None);
        assert_eq!(Owner::parse("12345\n"), None);
        assert_eq!(Owner::parse("kindling\nhost: x\n"), None, "no pid");
    }

    #[test]
    fn backoff_jitter_stays_within_half_to_full_delay() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(100));
            assert!(
                d >= Duration::from_millis(50) && d <= Duration::from_millis(100),
                "{d:?}"
            );
        }
    }

    #[test]
    fn lock_in_a_missing_directory_is_an_error_naming_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("no-such-dir").join("config");
        let err = KubeconfigLock::acquire(&config, &quick()).unwrap_err();
        assert!(matches!(err, KubeconfigError::Lock { .. }), "{err:?}");
        assert!(err.to_string().contains("config.lock"), "{err}");
    }

    #[test]
    fn start_time_is_field_22_counted_after_the_command_name() {
        // The command name may hold spaces and parentheses.
        let stat =
            "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1 2 3";
        assert_eq!(start_ticks(stat), Some(98765));
        assert_eq!(start_ticks("4242 (sleep) S 1"), None);
        let started = process_start(std::process::id()).unwrap();
        assert!(started <= SystemTime::now());
    }
}

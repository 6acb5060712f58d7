//! The user's kubeconfig files: which file, merging and removing `kind-<cluster>` entries,
//! locking (waited for, stale locks reported) and atomic writes.
//!
//! Layout: `types` (serde model, YAML in and out, the `kind-<cluster>` entry), `merge` (pure
//! merge/remove on in-memory configs), `paths` (`--kubeconfig` / `$KUBECONFIG` / `~/.kube/config`),
//! `lock` (the `<file>.lock` protocol shared with kind and kubectl) and `file` (locked,
//! atomic read-modify-write of one file).
//!
//! A new file gets mode 0600 (a kubeconfig holds client keys; kind and kubectl do the same). An
//! existing file keeps its mode, owner and group, and one this user cannot write is refused,
//! never replaced. Only regular files are locked and written; every read is bounded
//! ([`crate::input::MAX_INPUT_BYTES`]).

mod file;
mod lock;
mod merge;
mod paths;
mod types;

pub use file::{check_writable, merge_into_file, read_file, remove_from_file};
#[doc(hidden)]
pub use lock::lock_text_of;
pub use lock::{KubeconfigLock, LockOptions};
pub use merge::{merge, remove};
pub use paths::KubeconfigPaths;
pub use types::{
    Cluster, Context, Kubeconfig, NamedCluster, NamedContext, NamedUser, OtherFields,
    kind_kubeconfig,
};

use crate::report::Reporter;
use crate::yaml::YamlError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Checks the file a create will merge its entry into, before the create makes anything (see
/// [`check_writable`]), off the async workers; notices go to `reporter`, and `cancel` ends a
/// wait for a held lock.
pub async fn check_create_target(
    paths: &KubeconfigPaths,
    reporter: Arc<dyn Reporter>,
    cancel: CancellationToken,
) -> Result<(), KubeconfigError> {
    let target = paths.merge_target().to_path_buf();
    let options = LockOptions {
        cancel: Some(cancel),
        ..LockOptions::reporting_to(reporter)
    };
    crate::util::blocking(move || check_writable(&target, &options)).await
}

/// Everything that can go wrong with a kubeconfig; messages name the file involved.
///
/// Causes (I/O errors, YAML positions) are attached as `source`, so print the error with its
/// chain (e.g. anyhow's `{:#}`) to see them.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// Neither `--kubeconfig`, `$KUBECONFIG` nor `$HOME` says where the kubeconfig is.
    #[error(
        "cannot tell where the kubeconfig file is: $HOME is not set; pass --kubeconfig or set KUBECONFIG"
    )]
    NoHome,
    /// The kubeconfig made by kubeadm does not have exactly one cluster, user or context
    /// (kind's message, kept word for word).
    #[error("kubeadm KUBECONFIG should have one {what}, but read {count}")]
    NotSingle {
        /// `cluster`, `user` or `context`.
        what: &'static str,
        /// How many entries there were.
        count: usize,
    },
    /// The text is not a kubeconfig (bad YAML, wrong shape, several documents).
    #[error("{what} is not a valid kubeconfig")]
    Parse {
        /// The file (or `kubeadm's admin.conf`) that failed.
        what: String,
        /// What is wrong with it.
        #[source]
        source: ParseError,
    },
    /// Encoding a kubeconfig as YAML failed.
    #[error("failed to encode the kubeconfig{for_file}")]
    Encode {
        /// ` for <file>` when a file was being written, else empty.
        for_file: String,
        /// What went wrong.
        #[source]
        source: ParseError,
    },
    /// Reading an existing kubeconfig failed (other than it not existing).
    #[error("failed to read kubeconfig {}", path.display())]
    Read {
        /// The kubeconfig file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Creating the kubeconfig's directory failed.
    #[error("failed to create directory {} for kubeconfig {}", dir.display(), path.display())]
    CreateDir {
        /// The directory that could not be created.
        dir: PathBuf,
        /// The kubeconfig file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing the new kubeconfig (temp file, fsync or rename) failed; the old file is intact.
    #[error("failed to write kubeconfig {} (the previous content is unchanged)", path.display())]
    Write {
        /// The kubeconfig file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The lock file could not be created for a reason other than it already existing.
    #[error("failed to create lock file {}", lock.display())]
    Lock {
        /// The `<kubeconfig>.lock` path.
        lock: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The lock stayed held for the whole timeout.
    #[error(
        "timed out after {} waiting for the kubeconfig lock {} ({holder}); if no kind, kindling or kubectl command is still changing this kubeconfig, remove the lock with: rm {}",
        format_duration(*waited),
        lock.display(),
        crate::util::shell_quote(&lock.to_string_lossy())
    )]
    LockTimeout {
        /// The `<kubeconfig>.lock` path.
        lock: PathBuf,
        /// How long we waited.
        waited: Duration,
        /// Who holds it, as far as the lock file tells (e.g. `held by process 12 on this host`).
        holder: String,
    },
    /// The lock was left behind by a kindling process on this host that no longer runs.
    #[error(
        "the kubeconfig lock {} was left by process {pid}{}, which is no longer running; remove the lock with: rm {}",
        lock.display(),
        host.as_deref().map(|h| format!(" on {h}")).unwrap_or_default(),
        crate::util::shell_quote(&lock.to_string_lossy())
    )]
    StaleLock {
        /// The `<kubeconfig>.lock` path.
        lock: PathBuf,
        /// The process id recorded in the lock file.
        pid: u32,
        /// The host name recorded in the lock file.
        host: Option<String>,
    },
    /// The kubeconfig path names something other than a regular file (`/dev/null`, a pipe, a
    /// directory): kindling never writes it or puts a lock beside it.
    #[error(
        "kubeconfig {} is {what}, not a regular file; kindling only writes kubeconfig entries into regular files (pass --kubeconfig with a file path)",
        path.display()
    )]
    NotRegularFile {
        /// The path (symlinks resolved).
        path: PathBuf,
        /// What it is instead (`a character device`, `a directory`, ...).
        what: &'static str,
    },
    /// The kubeconfig exists but this user may not write it; it is left as it is.
    #[error(
        "kubeconfig {} is not writable for {} (mode {mode:04o}, owner uid {uid}, group gid {gid}); it was left unchanged: make it writable, or pass --kubeconfig with a file you can write",
        path.display(),
        user.map(|u| format!("uid {u}")).unwrap_or_else(|| "this user".into())
    )]
    NotWritable {
        /// The file (symlinks resolved).
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Its owner.
        uid: u32,
        /// Its group.
        gid: u32,
        /// Our uid, when known.
        user: Option<u32>,
    },
    /// A wait for a held lock was cancelled (the command is being stopped).
    #[error("stopped while waiting for the kubeconfig lock {}", lock.display())]
    Cancelled {
        /// The `<kubeconfig>.lock` path.
        lock: PathBuf,
    },
    /// Removing our own lock file after the operation failed.
    #[error("failed to remove lock file {}; remove it by hand with: rm {}", lock.display(), crate::util::shell_quote(&lock.to_string_lossy()))]
    Unlock {
        /// The `<kubeconfig>.lock` path.
        lock: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why a text is not a kubeconfig, or could not be encoded as one.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// YAML syntax error.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Valid YAML that does not have the kubeconfig shape (e.g. `clusters` is not a list).
    #[error(transparent)]
    Shape(#[from] serde_json::Error),
    /// More than one YAML document; kubeconfig files hold exactly one.
    #[error("found {0} YAML documents, expected one")]
    Documents(usize),
}

/// Formats a wait time for messages: `30s`, `1.5s`, `250ms`.
fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        let secs = d.as_secs_f64();
        if (secs - secs.round()).abs() < 0.05 {
            format!("{}s", secs.round())
        } else {
            format!("{secs:.1}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(30_020)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1_500)), "1.5s");
    }

    #[test]
    fn lock_messages_give_a_runnable_rm_command() {
        let err = KubeconfigError::StaleLock {
            lock: PathBuf::from("/home/me/my kube/config.lock"),
            pid: 42,
            host: Some("box".into()),
        };
        let text = err.to_string();
        assert!(text.contains("process 42 on box"), "{text}");
        assert!(
            text.ends_with("rm '/home/me/my kube/config.lock'"),
            "{text}"
        );

        let err = KubeconfigError::LockTimeout {
            lock: PathBuf::from("/k/config.lock"),
            waited: Duration::from_secs(30),
            holder: "held by process 7 on this host, still running".into(),
        };
        let text = err.to_string();
        assert!(text.starts_with("timed out after 30s"), "{text}");
        assert!(text.contains("/k/config.lock (held by process 7"), "{text}");
        assert!(text.ends_with("rm /k/config.lock"), "{text}");
    }
}

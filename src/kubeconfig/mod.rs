//! The user's kubeconfig files: which file, merging and removing `kind-<cluster>` entries,
//! locking (waited for, stale locks reported) and atomic writes.
//!
//! Layout: `types` (serde model, YAML in and out, the `kind-<cluster>` entry), `merge` (pure
//! merge/remove on in-memory configs), `paths` (`--kubeconfig` / `$KUBECONFIG` / `~/.kube/config`),
//! `lock` (the `<file>.lock` protocol shared with kind and kubectl) and `file` (locked,
//! atomic read-modify-write of one file).
//!
//! Written files always get mode 0600, whatever mode an existing file had: a kubeconfig holds
//! client keys, and 0600 is what kind and kubectl use when they create one.

mod file;
mod lock;
mod merge;
mod paths;
mod types;

pub use file::{merge_into_file, read_file, remove_from_file};
pub use lock::{KubeconfigLock, LockOptions};
pub use merge::{merge, remove};
pub use paths::KubeconfigPaths;
pub use types::{
    Cluster, Context, Kubeconfig, NamedCluster, NamedContext, NamedUser, OtherFields,
    kind_kubeconfig,
};

use crate::yaml::YamlError;
use std::path::PathBuf;
use std::time::Duration;

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

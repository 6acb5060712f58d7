#![allow(missing_docs, dead_code, unused_variables, clippy::todo)]
// TEMPORARY STUB: replaced by the kubeconfig branch.
//! The user's kubeconfig files: which file, merging and removing `kind-<cluster>` entries,
//! locking (waited for, stale locks reported) and atomic writes.
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("kubeconfig stub")]
pub struct KubeconfigError;
#[derive(Debug, Clone)]
pub struct KubeconfigPaths {
    all: Vec<PathBuf>,
}
impl KubeconfigPaths {
    pub fn resolve(
        explicit: Option<&Path>,
        env_kubeconfig: Option<&OsStr>,
        home: Option<&Path>,
    ) -> Result<KubeconfigPaths, KubeconfigError> {
        todo!()
    }
    pub fn merge_target(&self) -> &Path {
        todo!()
    }
    pub fn all(&self) -> &[PathBuf] {
        &self.all
    }
}
pub struct LockOptions {
    pub timeout: Duration,
}
impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            timeout: Duration::from_secs(30),
        }
    }
}
pub struct Kubeconfig;
impl Kubeconfig {
    pub fn to_yaml(&self) -> Result<String, KubeconfigError> {
        todo!()
    }
}
pub fn kind_kubeconfig(
    admin_conf: &str,
    cluster_name: &str,
    server: Option<&str>,
) -> Result<Kubeconfig, KubeconfigError> {
    todo!()
}
pub fn merge_into_file(
    path: &Path,
    entry: &Kubeconfig,
    lock: &LockOptions,
) -> Result<(), KubeconfigError> {
    todo!()
}
pub fn remove_from_file(
    path: &Path,
    cluster_name: &str,
    lock: &LockOptions,
) -> Result<bool, KubeconfigError> {
    todo!()
}

//! Deleting a cluster: its containers (with their anonymous volumes) and its kubeconfig entries.
//! Idempotent: a cluster that does not exist is deleted successfully. The network stays.

use super::{CLUSTER_LABEL, HELPER_LABEL};
use crate::docker::Engine;
use crate::kubeconfig::{self, KubeconfigPaths, LockOptions};
use futures_util::future::join_all;

/// What a delete did.
#[derive(Debug, Default)]
pub struct Deleted {
    /// Names of the containers removed.
    pub nodes: Vec<String>,
    /// Kubeconfig files that had entries removed.
    pub kubeconfigs_changed: Vec<std::path::PathBuf>,
    /// Why updating kubeconfig files failed, if it did, with every cause (the nodes are gone
    /// regardless, and every other file was still cleaned).
    pub kubeconfig_error: Option<String>,
}

/// Removes every container labelled with the cluster, and its kubeconfig entries in every
/// kubeconfig file. A node removal failure is an error; a kubeconfig failure is reported in
/// [`Deleted::kubeconfig_error`] once the nodes are gone, so the caller can print the deleted
/// nodes first and then fail (kind-facts §6). Lock notices go to `lock`'s reporter.
pub async fn delete_cluster(
    engine: &Engine,
    name: &str,
    kubeconfig: &KubeconfigPaths,
    lock: &LockOptions,
) -> anyhow::Result<Deleted> {
    let containers = engine
        .list_containers(&format!("{CLUSTER_LABEL}={name}"))
        .await
        .map_err(|e| anyhow::anyhow!("error listing nodes: {e}"))?;
    // Helper containers a killed create may have left (not nodes: not listed as deleted).
    let helpers = engine
        .list_containers(&format!("{HELPER_LABEL}={name}"))
        .await
        .map_err(|e| anyhow::anyhow!("error listing nodes: {e}"))?;
    let (kubeconfigs_changed, failures) =
        remove_kubeconfig_entries(kubeconfig, name, lock.clone()).await;
    let nodes: Vec<String> = containers.iter().map(|c| c.name.clone()).collect();
    let all: Vec<String> = nodes
        .iter()
        .cloned()
        .chain(helpers.into_iter().map(|c| c.name))
        .collect();
    remove_containers(engine, &all)
        .await
        .map_err(|e| anyhow::anyhow!("failed to delete nodes: {e}"))?;
    let kubeconfig_error = match failures.as_slice() {
        [] => None,
        [only] => Some(format!("failed to update kubeconfig: {}", chain(only))),
        several => Some(format!(
            "failed to update {} kubeconfig files:\n{}",
            several.len(),
            several
                .iter()
                .map(|e| format!("  {}", chain(e)))
                .collect::<Vec<_>>()
                .join("\n")
        )),
    };
    Ok(Deleted {
        nodes,
        kubeconfigs_changed,
        kubeconfig_error,
    })
}

/// Removes containers (force, with volumes) concurrently; all are attempted, the first error
/// is returned.
pub async fn remove_containers(
    engine: &Engine,
    names: &[String],
) -> Result<(), crate::docker::DockerError> {
    let results = join_all(names.iter().map(|n| engine.remove_container(n))).await;
    results
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .map(|_| ())
}

/// Drops `kind-<name>` from every kubeconfig file, going on past a file that fails; returns
/// the files that changed and the failures.
pub async fn remove_kubeconfig_entries(
    paths: &KubeconfigPaths,
    name: &str,
    lock: LockOptions,
) -> (Vec<std::path::PathBuf>, Vec<kubeconfig::KubeconfigError>) {
    let files = paths.all().to_vec();
    let name = name.to_string();
    // Lock waits sleep; keep them off the async workers.
    crate::util::blocking(move || {
        let mut changed = Vec::new();
        let mut failures = Vec::new();
        for file in files {
            match kubeconfig::remove_from_file(&file, &name, &lock) {
                Ok(true) => changed.push(file),
                Ok(false) => {}
                Err(e) => failures.push(e),
            }
        }
        (changed, failures)
    })
    .await
}

/// An error with its causes, `a: b: c` (the file, then what the system or parser said).
fn chain(err: &kubeconfig::KubeconfigError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

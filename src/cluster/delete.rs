//! Deleting a cluster: its containers (with their anonymous volumes) and its kubeconfig entries.
//! Idempotent: a cluster that does not exist is deleted successfully. The network stays.

use super::{CLUSTER_LABEL, HELPER_LABEL};
use crate::docker::{DockerError, Engine};
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
    let list = |label: String| async move {
        engine
            .within_cleanup_bound(
                format!("list containers with label {label}"),
                engine.list_containers(&label),
            )
            .await
            .map_err(|e| anyhow::anyhow!("error listing nodes: {e}"))
    };
    // Helper containers a killed create may have left (not nodes: not listed as deleted).
    let (containers, helpers) = tokio::try_join!(
        list(format!("{CLUSTER_LABEL}={name}")),
        list(format!("{HELPER_LABEL}={name}")),
    )?;
    let nodes: Vec<String> = containers.iter().map(|c| c.name.clone()).collect();
    let all: Vec<String> = nodes
        .iter()
        .cloned()
        .chain(helpers.into_iter().map(|c| c.name))
        .collect();
    // The engine's removals take most of the time; the kubeconfig is cleaned meanwhile.
    let (removed, (kubeconfigs_changed, failures)) = tokio::join!(
        remove_containers(engine, &all),
        remove_kubeconfig_entries(kubeconfig, name, lock.clone()),
    );
    if let Err(left) = removed {
        anyhow::bail!(
            "failed to delete nodes: {left}; see what is left with: docker ps -a --filter label={CLUSTER_LABEL}={name}; remove it with: {}",
            left.command()
        );
    }
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

/// Removes containers (force, with volumes) concurrently, each within the engine's cleanup
/// bound; all are attempted, and every one that could not be removed is returned with why.
pub async fn remove_containers(engine: &Engine, names: &[String]) -> Result<(), NotRemoved> {
    let results = join_all(names.iter().map(|n| engine.remove_container(n))).await;
    let failed: Vec<(String, DockerError)> = names
        .iter()
        .zip(results)
        .filter_map(|(name, result)| result.err().map(|e| (name.clone(), e)))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(NotRemoved(failed))
    }
}

/// Containers that could not be removed, each with the engine's error.
#[derive(Debug)]
pub struct NotRemoved(pub Vec<(String, DockerError)>);

impl NotRemoved {
    /// The command that removes them by hand.
    pub fn command(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        format!("docker rm -f -v {}", crate::util::shell_join(&names))
    }
}

impl std::fmt::Display for NotRemoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.0.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        write!(
            f,
            "could not remove {} container(s) {}",
            self.0.len(),
            names.join(", ")
        )?;
        for (_, err) in &self.0 {
            write!(f, "; {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for NotRemoved {}

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

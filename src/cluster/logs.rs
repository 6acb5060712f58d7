//! `export logs`: kind's layout of a cluster's logs, collected from every node concurrently;
//! a file that cannot be collected is reported, the rest is still written.

use super::{ROLE_LABEL, list_nodes};
use crate::config::NodeRole;
use crate::docker::Engine;
use futures_util::future::join_all;
use futures_util::{StreamExt, TryStreamExt};
use std::path::{Path, PathBuf};

/// What could not be collected (`export logs` still succeeds).
#[derive(Debug, Default)]
pub struct Collected {
    /// One message per file that failed.
    pub failures: Vec<String>,
}

/// One collection job; its error is a message for the user.
type Job<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>>;

/// Commands whose output becomes a file in each node's directory.
const NODE_COMMANDS: [(&str, &str); 5] = [
    ("kubernetes-version.txt", "cat /kind/version"),
    ("journal.log", "journalctl --no-pager"),
    ("kubelet.log", "journalctl --no-pager -u kubelet.service"),
    (
        "containerd.log",
        "journalctl --no-pager -u containerd.service",
    ),
    // crictl is not in every node image; containerd's own client always is.
    (
        "images.log",
        "crictl images 2>/dev/null || ctr --namespace=k8s.io images ls",
    ),
];

/// Writes the logs of cluster `name` under `dir`.
pub async fn export(
    engine: &Engine,
    name: &str,
    dir: &Path,
    version_line: &str,
) -> anyhow::Result<Collected> {
    let nodes = list_nodes(engine, Some(name)).await?;
    if nodes.is_empty() {
        anyhow::bail!("unknown cluster \"{name}\"");
    }
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| anyhow::anyhow!("failed to create {}: {e}", dir.display()))?;
    let mut jobs: Vec<Job<'_>> = Vec::new();
    jobs.push(Box::pin(write(
        dir.join("kind-version.txt"),
        version_line.as_bytes().to_vec(),
    )));
    jobs.push(Box::pin(async move {
        let info = engine.info_json().await.map_err(|e| e.to_string())?;
        write(dir.join("docker-info.txt"), pretty(&info)).await
    }));
    for node in nodes.iter().filter(|n| {
        n.labels.get(ROLE_LABEL).map(String::as_str)
            != Some(NodeRole::ExternalLoadBalancer.as_str())
    }) {
        let node_dir = dir.join(&node.name);
        tokio::fs::create_dir_all(&node_dir)
            .await
            .map_err(|e| anyhow::anyhow!("failed to create {}: {e}", node_dir.display()))?;
        let name = node.name.clone();
        let d = node_dir.clone();
        jobs.push(Box::pin(async move {
            let log = engine
                .container_logs(&name)
                .await
                .map_err(|e| e.to_string())?;
            write(d.join("serial.log"), log).await
        }));
        let (n, d) = (node.name.clone(), node_dir.clone());
        jobs.push(Box::pin(async move {
            let inspect = engine
                .inspect_container_json(&n)
                .await
                .map_err(|e| e.to_string())?;
            // `docker inspect NODE` prints an array, one element per container asked for.
            write(
                d.join("inspect.json"),
                docker_inspect_text(&serde_json::Value::Array(vec![inspect])),
            )
            .await
        }));
        for (file, command) in NODE_COMMANDS {
            let (n, d) = (node.name.clone(), node_dir.clone());
            jobs.push(Box::pin(async move {
                let argv = vec!["sh".to_string(), "-c".to_string(), command.to_string()];
                let out = engine
                    .exec_ok(&n, &argv, None)
                    .await
                    .map_err(|e| format!("{n}: {e}"))?;
                write(d.join(file), out.stdout).await
            }));
        }
        let (n, d) = (node.name.clone(), node_dir.clone());
        jobs.push(Box::pin(async move { copy_var_log(engine, &n, &d).await }));
    }
    let failures = join_all(jobs)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    Ok(Collected { failures })
}

/// JSON laid out as the docker CLI prints `docker inspect`: four-space indents, final newline.
fn docker_inspect_text(value: &serde_json::Value) -> Vec<u8> {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    if value.serialize(&mut ser).is_err() {
        return pretty(value);
    }
    out.push(b'\n');
    out
}

fn pretty(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

async fn write(path: PathBuf, contents: Vec<u8>) -> Result<(), String> {
    tokio::fs::write(&path, contents)
        .await
        .map_err(|e| format!("failed to write {}: {e}", path.display()))
}

/// Copies the node's `/var/log` tree (regular files and directories only) into `dir`,
/// streaming the archive rather than holding it in memory.
async fn copy_var_log(engine: &Engine, node: &str, dir: &Path) -> Result<(), String> {
    let stream = engine
        .download_path(node, "/var/log/.")
        .map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream.boxed());
    let bridge = tokio_util::io::SyncIoBridge::new(reader);
    let dir = dir.to_path_buf();
    let node = node.to_string();
    crate::util::blocking(move || {
        let mut archive = tar::Archive::new(bridge);
        let entries = archive
            .entries()
            .map_err(|e| format!("{node}: reading /var/log: {e}"))?;
        let mut links = Vec::new();
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("{node}: reading /var/log: {e}"))?;
            let kind = entry.header().entry_type();
            let rel = entry
                .path()
                .map_err(|e| format!("{node}: bad path in /var/log: {e}"))?
                .into_owned();
            // The archive is rooted at "./"; refuse anything that would escape the target.
            if !inside(&rel) {
                continue;
            }
            if kind.is_symlink() {
                if let Ok(Some(to)) = entry.link_name() {
                    links.push((rel, to.into_owned()));
                }
                continue;
            }
            if !(kind.is_file() || kind.is_dir()) {
                continue;
            }
            let target = dir.join(&rel);
            if kind.is_dir() {
                std::fs::create_dir_all(&target)
                    .map_err(|e| format!("failed to create {}: {e}", target.display()))?;
            } else {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("failed to create {}: {e}", parent.display()))?;
                }
                entry
                    .unpack(&target)
                    .map_err(|e| format!("failed to write {}: {e}", target.display()))?;
            }
        }
        // Like kind's `tar -h`: a link to a file inside /var/log (such as
        // containers/*.log → pods/…) becomes a copy of that file.
        for (link, to) in links {
            if let Some(source) = link_target(&link, &to).map(|t| dir.join(t))
                && source.is_file()
            {
                let _ = std::fs::copy(&source, dir.join(&link));
            }
        }
        Ok(())
    })
    .await
}

/// A relative path that stays inside the directory it is joined to.
fn inside(path: &Path) -> bool {
    !path.components().any(|c| {
        matches!(
            c,
            std::path::Component::ParentDir
                | std::path::Component::RootDir
                | std::path::Component::Prefix(_)
        )
    })
}

/// Where a symlink at `link` (relative to /var/log) pointing at `to` lands, relative to
/// /var/log; `None` when it leaves /var/log.
fn link_target(link: &Path, to: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let joined = match to.strip_prefix("/var/log") {
        Ok(rest) => rest.to_path_buf(),
        Err(_) if to.is_absolute() => return None,
        Err(_) => link.parent().unwrap_or(Path::new("")).join(to),
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_targets_inside_var_log() {
        let t = |link: &str, to: &str| link_target(Path::new(link), Path::new(to));
        assert_eq!(
            t("containers/a.log", "/var/log/pods/ns_a/c/0.log"),
            Some(PathBuf::from("pods/ns_a/c/0.log"))
        );
        assert_eq!(
            t("containers/a.log", "../pods/x/0.log"),
            Some(PathBuf::from("pods/x/0.log"))
        );
        assert_eq!(t("containers/a.log", "/etc/passwd"), None);
        assert_eq!(t("a.log", "../../etc/passwd"), None);
        assert!(inside(Path::new("./journal/x")));
        assert!(!inside(Path::new("../x")));
    }

    #[test]
    fn inspect_text_is_laid_out_like_docker_inspect() {
        let v = serde_json::json!([{"Name": "/n", "State": {"Running": true}}]);
        assert_eq!(
            String::from_utf8(docker_inspect_text(&v)).unwrap(),
            "[\n    {\n        \"Name\": \"/n\",\n        \"State\": {\n            \"Running\": true\n        }\n    }\n]\n"
        );
    }
}

//! `load docker-image` and `load image-archive`: one image stream (the engine's export, or the
//! archive file) fanned out to `ctr images import` in every selected node at once, with no
//! temporary file; images a node already has (same ID and tag) are skipped.

use super::{ROLE_LABEL, list_nodes};
use crate::config::NodeRole;
use crate::docker::{Engine, ImageRef};
use crate::report::Reporter;
use anyhow::Context as _;
use bytes::Bytes;
use futures_util::future::try_join_all;
use futures_util::{Stream, StreamExt};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Chunks buffered per node before the export waits for the slowest node.
const CHANNEL_DEPTH: usize = 8;

/// The cluster's internal nodes, limited to `only` when given (kind's `--nodes`).
pub async fn target_nodes(
    engine: &Engine,
    cluster: &str,
    only: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut nodes: Vec<String> = list_nodes(engine, Some(cluster))
        .await?
        .into_iter()
        .filter(|n| {
            n.labels.get(ROLE_LABEL).map(String::as_str)
                != Some(NodeRole::ExternalLoadBalancer.as_str())
        })
        .map(|n| n.name)
        .collect();
    if nodes.is_empty() {
        anyhow::bail!("no nodes found for cluster \"{cluster}\"");
    }
    nodes.sort();
    if only.is_empty() {
        return Ok(nodes);
    }
    for name in only {
        if !nodes.contains(name) {
            anyhow::bail!("unknown node: \"{name}\"");
        }
    }
    Ok(nodes.into_iter().filter(|n| only.contains(n)).collect())
}

/// What a node must do for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Same ID under the same name: nothing to do.
    Skip,
    /// Same ID under another name: tag that one.
    Retag {
        /// An existing reference to the image in the node.
        from: String,
    },
    /// Not there: import it.
    Load,
}

/// Decides from a node's inventory (reference → config digest) what loading `name` (already
/// normalised) with image `id` needs.
pub fn decide(inventory: &[(String, String)], name: &str, id: &str) -> Decision {
    let with_id: Vec<&(String, String)> = inventory.iter().filter(|(_, cfg)| cfg == id).collect();
    if with_id.iter().any(|(r, _)| r == name) {
        Decision::Skip
    } else if let Some((r, _)) = with_id.first() {
        Decision::Retag { from: r.clone() }
    } else {
        Decision::Load
    }
}

/// Lists a node's images in containerd's k8s.io namespace with their config digests (the
/// digest Docker uses as the image ID).
const INVENTORY_SCRIPT: &str = r#"ctr --namespace=k8s.io images ls | tail -n +2 | while read -r ref type digest rest; do
  cfg=$(ctr --namespace=k8s.io content get "$digest" 2>/dev/null | jq -r '.config.digest // empty' 2>/dev/null)
  echo "$ref $cfg"
done"#;

/// Parses the inventory script's output.
pub fn parse_inventory(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((
                parts.next()?.to_string(),
                parts.next().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

/// The snapshotter the node's containerd uses for CRI images, from `containerd config dump`.
pub fn snapshotter_from_dump(dump: &str) -> anyhow::Result<String> {
    let doc: toml::Value =
        toml::from_str(dump).context("failed to parse containerd config dump")?;
    let version = doc
        .get("version")
        .and_then(toml::Value::as_integer)
        .unwrap_or(1);
    let path: &[&str] = match version {
        2 => &[
            "plugins",
            "io.containerd.grpc.v1.cri",
            "containerd",
            "snapshotter",
        ],
        3 | 4 => &["plugins", "io.containerd.cri.v1.images", "snapshotter"],
        v => {
            anyhow::bail!("unknown containerd config version: {v} (supported versions: 2, 3 and 4)")
        }
    };
    let mut cur = &doc;
    for key in path {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return Ok("overlayfs".to_string()),
        }
    }
    Ok(cur.as_str().unwrap_or("overlayfs").to_string())
}

async fn snapshotter(engine: &Engine, node: &str) -> anyhow::Result<String> {
    let argv = vec![
        "containerd".to_string(),
        "config".to_string(),
        "dump".to_string(),
    ];
    let out = engine
        .exec_ok(node, &argv, None)
        .await
        .with_context(|| format!("failed to read containerd config of node \"{node}\""))?;
    snapshotter_from_dump(&out.stdout_text())
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".to_string(), "-c".to_string(), script.to_string()]
}

/// Loads local Docker images into the cluster's nodes.
pub async fn load_docker_images(
    engine: &Engine,
    cluster: &str,
    images: &[String],
    only: &[String],
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let mut unique: Vec<String> = Vec::new();
    for image in images {
        if !unique.contains(image) {
            unique.push(image.clone());
        }
    }
    let mut ids = BTreeMap::new();
    let mut total = 0u64;
    for image in &unique {
        let info = engine
            .inspect_image(image)
            .await?
            .with_context(|| format!("image: \"{image}\" not present locally"))?;
        total += info.size;
        ids.insert(image.clone(), info.id);
    }
    let nodes = target_nodes(engine, cluster, only).await?;
    let inventories = try_join_all(nodes.iter().map(|n| async move {
        let out = engine
            .exec_ok(n, &sh(INVENTORY_SCRIPT), None)
            .await
            .with_context(|| format!("failed to list images on node \"{n}\""))?;
        anyhow::Ok((n.clone(), parse_inventory(&out.stdout_text())))
    }))
    .await?;
    let mut selected: Vec<String> = Vec::new();
    for image in &unique {
        let id = &ids[image];
        let name = ImageRef::normalized(image);
        let mut needed = false;
        for (node, inventory) in &inventories {
            let load = match decide(inventory, &name, id) {
                Decision::Skip => false,
                Decision::Retag { from } => {
                    reporter.info(&format!("Image with ID: {id} already present on the node {node} but is missing the tag {name}. re-tagging..."));
                    let argv: Vec<String> = [
                        "ctr",
                        "--namespace=k8s.io",
                        "images",
                        "tag",
                        "--force",
                        &from,
                        &name,
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                    match engine.exec_ok(node, &argv, None).await {
                        Ok(_) => false,
                        Err(e) => {
                            reporter.info(&format!("failed to re-tag image on the node {node} ({e}), loading it instead..."));
                            true
                        }
                    }
                }
                Decision::Load => true,
            };
            if load {
                reporter.info(&format!("Image: \"{image}\" with ID \"{id}\" not yet present on node \"{node}\", loading..."));
                if !selected.contains(node) {
                    selected.push(node.clone());
                }
                needed = true;
            }
        }
        if !needed {
            reporter.info(&format!(
                "Image: \"{image}\" with ID \"{id}\" found to be already present on all nodes."
            ));
        }
    }
    if selected.is_empty() {
        return Ok(());
    }
    // One export of every requested image, whichever subset a node lacks: kind does the same.
    let source = engine
        .export_images(&unique)
        .map(|r| r.map_err(std::io::Error::other));
    import_everywhere(
        engine,
        &selected,
        source,
        "loading images",
        Some(total),
        reporter,
    )
    .await
}

/// Loads image archives (`docker save` output) into the cluster's nodes, one after another.
pub async fn load_archives(
    engine: &Engine,
    cluster: &str,
    files: &[PathBuf],
    only: &[String],
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let mut sizes = Vec::new();
    for file in files {
        let meta = tokio::fs::metadata(file)
            .await
            .with_context(|| format!("cannot read image archive {}", file.display()))?;
        sizes.push(meta.len());
    }
    if files.len() > 1 {
        reporter.warn("It is suggested that you save multiple images into a common archive and load that instead of loading multiple archives for better performance");
    }
    for (file, size) in files.iter().zip(sizes) {
        let nodes = target_nodes(engine, cluster, only).await?;
        let handle = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot open image archive {}", file.display()))?;
        let source = tokio_util::io::ReaderStream::with_capacity(handle, 256 * 1024);
        let label = format!("loading {}", file.display());
        import_everywhere(engine, &nodes, source, &label, Some(size), reporter).await?;
    }
    Ok(())
}

/// Streams `source` into `ctr images import` on every node at once. The source is read once;
/// each node gets the chunks through a small bounded queue, so memory stays flat.
async fn import_everywhere<S>(
    engine: &Engine,
    nodes: &[String],
    source: S,
    label: &str,
    total: Option<u64>,
    reporter: &dyn Reporter,
) -> anyhow::Result<()>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send,
{
    let snapshotters = try_join_all(nodes.iter().map(|n| snapshotter(engine, n))).await?;
    let mut senders = Vec::new();
    let mut imports = Vec::new();
    for (node, snap) in nodes.iter().zip(snapshotters) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHANNEL_DEPTH);
        senders.push(tx);
        let input = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let argv: Vec<String> = [
            "ctr",
            "--namespace=k8s.io",
            "images",
            "import",
            "--all-platforms",
            "--digests",
            &format!("--snapshotter={snap}"),
            "-",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        imports.push(async move {
            engine
                .exec_ok_streaming(node, &argv, input)
                .await
                .with_context(|| format!("failed to load image into node \"{node}\""))
        });
    }
    let pump = async move {
        let mut source = std::pin::pin!(source);
        let mut done = 0u64;
        while let Some(chunk) = source.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    // Fail every node's input rather than end it cleanly: a tar cut at an entry
                    // boundary could otherwise be imported as if it were whole.
                    for tx in &senders {
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    }
                    return Err(anyhow::Error::new(e).context("failed to read the images"));
                }
            };
            done += chunk.len() as u64;
            for tx in &senders {
                // A node whose import already failed has dropped its queue; its error comes later.
                let _ = tx.send(Ok(chunk.clone())).await;
            }
            reporter.transfer(label, done, total.map(|t| t.max(done + 1)));
        }
        reporter.transfer(label, done, Some(done));
        // Dropping the senders ends every node's input.
        drop(senders);
        anyhow::Ok(())
    };
    let imports = try_join_all(imports);
    tokio::pin!(pump, imports);
    // The first node that fails stops the stream for everyone; a broken source is reported as
    // such, not as the nodes' truncated input.
    tokio::select! {
        pumped = &mut pump => {
            pumped?;
            imports.await?;
        }
        imported = &mut imports => {
            imported?;
            pump.await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        let inv = vec![
            (
                "docker.io/library/app:1".to_string(),
                "sha256:aa".to_string(),
            ),
            ("sha256:aa".to_string(), "sha256:aa".to_string()),
        ];
        assert_eq!(
            decide(&inv, "docker.io/library/app:1", "sha256:aa"),
            Decision::Skip
        );
        assert_eq!(
            decide(&inv, "docker.io/library/app:2", "sha256:aa"),
            Decision::Retag {
                from: "docker.io/library/app:1".into()
            }
        );
        assert_eq!(
            decide(&inv, "docker.io/library/app:1", "sha256:bb"),
            Decision::Load
        );
        assert_eq!(decide(&[], "x", "sha256:bb"), Decision::Load);
    }

    #[test]
    fn inventory_parsing() {
        let inv =
            parse_inventory("docker.io/library/app:1 sha256:aa\nregistry.k8s.io/pause:3.10 \n\n");
        assert_eq!(
            inv,
            vec![
                ("docker.io/library/app:1".into(), "sha256:aa".into()),
                ("registry.k8s.io/pause:3.10".into(), String::new())
            ]
        );
    }

    #[test]
    fn snapshotter_by_config_version() {
        let v2 = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nsnapshotter = \"overlayfs\"\n";
        assert_eq!(snapshotter_from_dump(v2).unwrap(), "overlayfs");
        let v3 =
            "version = 3\n[plugins.\"io.containerd.cri.v1.images\"]\nsnapshotter = \"native\"\n";
        assert_eq!(snapshotter_from_dump(v3).unwrap(), "native");
        assert!(
            snapshotter_from_dump("version = 9\n")
                .unwrap_err()
                .to_string()
                .contains("unknown containerd config version: 9")
        );
    }
}

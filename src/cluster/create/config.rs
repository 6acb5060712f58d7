//! "Writing configuration": each node's kubeadm config at `/kind/kubeadm.conf` and the PKI and
//! kubeconfig files on control planes (nothing on workers), while the nodes boot: once systemd
//! runs in a node, one command reads what kindling needs from it and one `tar -x` writes its
//! files. containerd patches go in through the archive API before the node starts.

use super::{Ctx, Node};
use crate::cluster::kubeadm::{self, KubeadmCommand, RenderInput};
use crate::cluster::{API_SERVER_INTERNAL_PORT, containerd, load_balancer_name};
use crate::config::NodeRole;
use crate::docker::FileToWrite;
use crate::k8s_version::KubeVersion;
use crate::pki::{ClusterPki, ControlPlaneRole};
use anyhow::Context as _;
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, try_join_all};
use std::collections::HashMap;
use std::sync::Arc;

/// What later steps need from the configuration step.
pub(crate) struct Kube {
    /// The bootstrap node's Kubernetes version (from its `/kind/version`); see
    /// [`Kube::bootstrap_version`].
    version: KubeVersion,
    /// The control plane `kubeadm init` runs on (first by name).
    pub bootstrap: String,
    /// The in-network API endpoint (`<node>:6443`) nodes use.
    pub endpoint: String,
    /// The node image's CNI manifest (`None` when the default CNI is disabled).
    pub cni_manifest: Option<String>,
    /// The node image's StorageClass manifest (`None` when the image has none).
    pub storage_manifest: Option<String>,
    /// The bootstrap node's `/etc/kubernetes/admin.conf` as kindling wrote it (kubeadm keeps
    /// an existing kubeconfig that matches), the base of the user's kubeconfig entry.
    pub admin_conf: String,
    /// For each node but the bootstrap one: its Kubernetes version once its configuration is
    /// written.
    pub written: HashMap<String, tokio::sync::watch::Receiver<Option<KubeVersion>>>,
}

impl Kube {
    /// Waits until `node`'s configuration is written; returns its Kubernetes version.
    pub async fn written(&self, node: &str) -> anyhow::Result<KubeVersion> {
        if node == self.bootstrap {
            return Ok(self.version.clone());
        }
        let mut wait = self
            .written
            .get(node)
            .with_context(|| format!("node \"{node}\" has no configuration"))?
            .clone();
        let version = wait
            .wait_for(Option::is_some)
            .await
            .map_err(|_| anyhow::anyhow!("the configuration of node \"{node}\" was not written"))?;
        version
            .clone()
            .context("a written configuration without a version")
    }

    /// The bootstrap node's Kubernetes version.
    pub fn bootstrap_version(&self) -> &KubeVersion {
        &self.version
    }
}

const CONTAINERD_CONFIG: &str = "/etc/containerd/config.toml";

/// Reads what the nodes' images hold, writes the bootstrap node's configuration, and returns
/// the writes to the other nodes, which finish as those nodes boot.
pub(super) async fn write<'a>(
    ctx: &'a Ctx,
    nodes: &'a [Node],
    pki: &Arc<ClusterPki>,
) -> anyhow::Result<(Kube, Pending<'a>)> {
    let internal: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.role != NodeRole::ExternalLoadBalancer)
        .collect();
    let mut control_planes: Vec<&str> = internal
        .iter()
        .filter(|n| n.role == NodeRole::ControlPlane)
        .map(|n| n.name.as_str())
        .collect();
    control_planes.sort();
    let bootstrap = control_planes
        .first()
        .map(|s| s.to_string())
        .context("the cluster has no control-plane node")?;
    let endpoint_node = if nodes
        .iter()
        .any(|n| n.role == NodeRole::ExternalLoadBalancer)
    {
        load_balancer_name(&ctx.name)
    } else {
        bootstrap.clone()
    };
    let endpoint = format!("{endpoint_node}:{API_SERVER_INTERNAL_PORT}");
    let bootstrap_node = internal
        .iter()
        .find(|n| n.name == bootstrap)
        .context("the bootstrap control plane is not among the nodes")?;
    // One command: the version and the manifests the bootstrap node's image holds.
    let mut texts = read_texts(
        ctx,
        bootstrap_node,
        &[VERSION_FILE, CNI_MANIFEST, STORAGE_MANIFEST],
    )
    .await?;
    // read_texts gives one entry per path asked for.
    let version = parse_version(&bootstrap, texts[0].take())?;
    let cni_manifest = texts[1].take();
    let storage_manifest = texts[2].take();
    let cni_manifest = if ctx.config.networking.disable_default_cni {
        None
    } else {
        Some(cni_manifest.with_context(|| {
            format!("failed to read CNI manifest: node \"{bootstrap}\" has no {CNI_MANIFEST}")
        })?)
    };

    // Every control plane's certificates follow the bootstrap node's ClusterConfiguration:
    // kubeadm init uploads it and kubeadm join checks joiners against it. It may also ask for
    // another key algorithm or CA lifetime than the CAs made before the nodes existed.
    let bootstrap_rendered = render_node(ctx, bootstrap_node, &version, pki, &endpoint)?;
    let cluster_certs = kubeadm::cluster_cert_config(&bootstrap_rendered, &bootstrap, &version)?;
    for line in &cluster_certs.ignored {
        ctx.reporter.warn(line);
    }
    let settings = pki.settings().with(&cluster_certs.pki);
    let pki = if settings == pki.settings() {
        pki.clone()
    } else {
        ctx.reporter.debug(
            1,
            &format!("making the certificate authorities again for {settings:?}"),
        );
        let first = pki.clone();
        Arc::new(
            crate::util::blocking(move || first.with_settings(settings))
                .await
                .context("failed to generate the cluster's certificate authorities")?,
        )
    };
    let shared = Arc::new(Shared {
        pki,
        bootstrap: bootstrap_node.name.clone(),
        bootstrap_image: bootstrap_node.image.clone(),
        bootstrap_version: version.clone(),
        endpoint: endpoint.clone(),
        cluster_certs,
    });
    let (_, admin_conf) = write_node(ctx, bootstrap_node, &shared).await?;
    let admin_conf =
        admin_conf.context("no admin.conf was written for the bootstrap control plane")?;
    // The other nodes are written as each one can run commands, while the bootstrap node
    // goes on to `kubeadm init`; each join waits for its own node's write.
    let mut written = HashMap::new();
    let mut pending = Vec::new();
    for node in internal.into_iter().filter(|n| n.name != bootstrap) {
        let (done, wait) = tokio::sync::watch::channel(None);
        written.insert(node.name.clone(), wait);
        let shared = shared.clone();
        pending.push(
            async move {
                let (version, _) = write_node(ctx, node, &shared).await?;
                done.send_replace(Some(version));
                anyhow::Ok(())
            }
            .boxed(),
        );
    }
    Ok((
        Kube {
            admin_conf,
            version,
            bootstrap,
            endpoint,
            cni_manifest,
            storage_manifest,
            written,
        },
        Pending(pending),
    ))
}

/// What every node's write needs from the bootstrap node's configuration.
struct Shared {
    pki: Arc<ClusterPki>,
    bootstrap: String,
    bootstrap_image: String,
    bootstrap_version: KubeVersion,
    endpoint: String,
    cluster_certs: kubeadm::ClusterCertConfig,
}

/// The writes to the nodes other than the bootstrap one, still running.
pub(super) struct Pending<'a>(Vec<BoxFuture<'a, anyhow::Result<()>>>);

impl Pending<'_> {
    /// Runs the writes to the end; the first failure ends them all.
    pub async fn finish(self) -> anyhow::Result<()> {
        try_join_all(self.0).await.map(drop)
    }
}

/// Renders one node's `/kind/kubeadm.conf`.
fn render_node(
    ctx: &Ctx,
    node: &Node,
    version: &KubeVersion,
    pki: &ClusterPki,
    endpoint: &str,
) -> anyhow::Result<String> {
    let index = node
        .config_index
        .context("internal node without a config entry")?;
    kubeadm::render(&RenderInput {
        cluster: &ctx.config,
        node: &ctx.config.nodes[index],
        node_name: &node.name,
        role: node.role,
        kubernetes_version: version,
        node_ipv4: node.ipv4.parse().ok(),
        node_ipv6: node.ipv6.parse().ok(),
        control_plane_endpoint: endpoint,
        bootstrap_token: pki.bootstrap_token(),
        ca_cert_hash: pki.ca_cert_hash(),
        rootless: ctx.info.rootless,
    })
    .with_context(|| {
        format!(
            "failed to generate kubeadm config for node \"{}\"",
            node.name
        )
    })
}

/// Writes one node's files once it can run commands; returns its Kubernetes version and, for
/// the bootstrap node, the admin.conf written.
async fn write_node(
    ctx: &Ctx,
    node: &Node,
    shared: &Shared,
) -> anyhow::Result<(KubeVersion, Option<String>)> {
    let Shared {
        pki,
        bootstrap,
        bootstrap_image,
        bootstrap_version,
        endpoint,
        cluster_certs,
    } = shared;
    // /kind/version comes with the image: nodes of the bootstrap node's image share its
    // version, which saves an exec (CPU the booting nodes need) per node.
    let version = if node.image == *bootstrap_image {
        bootstrap_version.clone()
    } else {
        let text = read_texts(ctx, node, &[VERSION_FILE])
            .await?
            .pop()
            .flatten();
        parse_version(&node.name, text)?
    };
    let rendered = render_node(ctx, node, &version, pki, endpoint)?;
    // The config holds the bootstrap token: the reporter redacts it (report::redact).
    ctx.reporter
        .debug(2, &format!("kubeadm config for {}:\n{rendered}", node.name));
    let mut files = vec![FileToWrite {
        path: kubeadm::CONFIG_PATH.to_string(),
        contents: rendered.clone().into_bytes(),
        mode: 0o644,
    }];
    if node.role == NodeRole::ControlPlane {
        let (command, role) = if node.name == *bootstrap {
            (KubeadmCommand::Init, ControlPlaneRole::Init)
        } else {
            (KubeadmCommand::Join, ControlPlaneRole::Join)
        };
        let addresses = kubeadm::NodeAddresses {
            ipv4: node.ipv4.parse().ok(),
            ipv6: node.ipv6.parse().ok(),
        };
        let inputs = kubeadm::cert_inputs(
            cluster_certs,
            &rendered,
            &node.name,
            &version,
            command,
            addresses,
        )?;
        let pki = pki.clone();
        // RSA key generation takes tens of milliseconds per key: keep it off the async workers.
        let pki_files = crate::util::blocking(move || pki.control_plane_files(&inputs, role))
            .await
            .with_context(|| {
                format!("failed to generate certificates for node \"{}\"", node.name)
            })?;
        files.extend(pki_files.into_iter().map(|f| FileToWrite {
            path: f.path,
            contents: f.contents,
            mode: f.mode,
        }));
    }
    let admin_conf = (node.name == *bootstrap)
        .then(|| files.iter().find(|f| f.path == ADMIN_CONF))
        .flatten()
        .map(|f| String::from_utf8_lossy(&f.contents).into_owned());
    node.usable().await?;
    ctx.engine.write_files_with_tar(&node.name, &files).await?;
    Ok((version, admin_conf))
}

/// Where kubeadm (and kindling, before it) puts the cluster admin's kubeconfig.
const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";

/// The node image's Kubernetes version from its `/kind/version` (exactly one line).
fn parse_version(node: &str, text: Option<String>) -> anyhow::Result<KubeVersion> {
    let text = text.with_context(|| {
        format!("failed to get kubernetes version from node \"{node}\": {VERSION_FILE} is missing")
    })?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match lines.as_slice() {
        [one] => Ok(KubeVersion::parse(one)
            .with_context(|| format!("node \"{node}\" has an invalid {VERSION_FILE}"))?),
        _ => anyhow::bail!(
            "node \"{node}\": {VERSION_FILE} should hold exactly one line, found {}",
            lines.len()
        ),
    }
}

const VERSION_FILE: &str = "/kind/version";
const CNI_MANIFEST: &str = "/kind/manifests/default-cni.yaml";
const STORAGE_MANIFEST: &str = "/kind/manifests/default-storage.yaml";
/// The most read from one file of a node image (manifests are tens of kilobytes).
const NODE_FILE_LIMIT: u64 = 4 << 20;

/// Text files of the node (`None` for each one missing), read by one command once commands may
/// run in it: each file as its size in bytes on a line, then its bytes; `-` when missing, and
/// `! SIZE` alone when larger than [`NODE_FILE_LIMIT`] (so the output stays bounded).
async fn read_texts(ctx: &Ctx, node: &Node, paths: &[&str]) -> anyhow::Result<Vec<Option<String>>> {
    node.usable().await?;
    let script = format!(
        r#"for f; do if [ -e "$f" ]; then n=$(wc -c < "$f") || exit 1; if [ "$n" -gt {NODE_FILE_LIMIT} ]; then echo "! $n"; else echo "$n"; cat "$f" || exit 1; fi; else echo -; fi; done"#
    );
    let mut argv = vec!["sh".to_string(), "-c".to_string(), script, "sh".to_string()];
    argv.extend(paths.iter().map(|p| p.to_string()));
    let what = || {
        format!(
            "failed to read {} from node \"{}\"",
            paths.join(", "),
            node.name
        )
    };
    let out = ctx
        .engine
        .exec_ok(&node.name, &argv, None)
        .await
        .with_context(what)?;
    let files = split_sized(&out.stdout, paths.len()).with_context(what)?;
    files
        .into_iter()
        .zip(paths)
        .map(|(file, path)| match file {
            Sized::TooLarge(size) => anyhow::bail!(
                "{path} on node \"{}\" is {}, more than the {} kindling reads",
                node.name,
                crate::input::format_bytes(size),
                crate::input::format_bytes(NODE_FILE_LIMIT)
            ),
            Sized::Missing => Ok(None),
            Sized::Bytes(b) => Ok(Some(String::from_utf8_lossy(b).into_owned())),
        })
        .collect()
}

/// One file of [`read_texts`]'s output.
#[derive(Debug, PartialEq, Eq)]
enum Sized<'a> {
    Missing,
    TooLarge(u64),
    Bytes(&'a [u8]),
}

/// Splits `count` files written as `<size>\n<bytes>`, `-\n` (missing) or `! <size>\n`.
fn split_sized(mut out: &[u8], count: usize) -> anyhow::Result<Vec<Sized<'_>>> {
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let newline = out
            .iter()
            .position(|&b| b == b'\n')
            .context("the output ended early")?;
        let head = std::str::from_utf8(&out[..newline]).unwrap_or("").trim();
        out = &out[newline + 1..];
        if head == "-" {
            files.push(Sized::Missing);
            continue;
        }
        if let Some(size) = head.strip_prefix('!') {
            let size = size.trim().parse().context("unexpected size line")?;
            files.push(Sized::TooLarge(size));
            continue;
        }
        let size: usize = head
            .parse()
            .with_context(|| format!("unexpected size line {head:?}"))?;
        anyhow::ensure!(out.len() >= size, "a file was cut short");
        files.push(Sized::Bytes(&out[..size]));
        out = &out[size..];
    }
    anyhow::ensure!(out.is_empty(), "unexpected output after the files");
    Ok(files)
}

/// Applies the config's containerd patches to a created node before it starts (so containerd
/// reads the patched file when systemd first starts it). A no-op without patches.
pub(super) async fn patch_containerd(ctx: &Ctx, node: &str) -> anyhow::Result<()> {
    let config = &ctx.config;
    if config.containerd_config_patches.is_empty()
        && config.containerd_config_patches_json6902.is_empty()
    {
        return Ok(());
    }
    // Not started yet: the archive API is safe (see Engine::write_files_with_tar).
    let current = ctx
        .engine
        .read_file(node, CONTAINERD_CONFIG, NODE_FILE_LIMIT)
        .await?
        .with_context(|| {
            format!("failed to read {CONTAINERD_CONFIG} on node \"{node}\": it is missing")
        })?;
    let current = String::from_utf8_lossy(&current);
    let patched = containerd::patch_config(
        &current,
        &config.containerd_config_patches,
        &config.containerd_config_patches_json6902,
    )
    .with_context(|| format!("failed to patch {CONTAINERD_CONFIG} on node \"{node}\""))?;
    let file = FileToWrite {
        path: CONTAINERD_CONFIG.to_string(),
        contents: patched.into_bytes(),
        mode: 0o644,
    };
    ctx.engine.write_files(node, &[file]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_files_split_back() {
        let out = b"8\nv1.37.0\n-\n0\n! 9000000\n3\na\nb";
        let files = split_sized(out, 5).unwrap();
        assert_eq!(
            files,
            vec![
                Sized::Bytes(&b"v1.37.0\n"[..]),
                Sized::Missing,
                Sized::Bytes(&b""[..]),
                Sized::TooLarge(9_000_000),
                Sized::Bytes(&b"a\nb"[..])
            ]
        );
        assert!(split_sized(b"8\nv1.3", 1).is_err(), "cut short");
        assert!(split_sized(b"-\n", 2).is_err(), "ended early");
        assert!(split_sized(b"x\n", 1).is_err(), "not a size");
        assert!(split_sized(b"1\nab", 1).is_err(), "trailing output");
    }

    #[test]
    fn versions_parse_or_say_why() {
        assert_eq!(
            parse_version("n", Some("v1.37.0\n".into())).unwrap(),
            KubeVersion::parse("v1.37.0").unwrap()
        );
        let missing = parse_version("n", None).unwrap_err().to_string();
        assert!(missing.contains("/kind/version is missing"), "{missing}");
        let two = format!(
            "{:#}",
            parse_version("n", Some("v1\nv2\n".into())).unwrap_err()
        );
        assert!(two.contains("exactly one line, found 2"), "{two}");
    }
}

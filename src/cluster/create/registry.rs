//! The local registry and pull-through caches (opt-in; kind leaves this to a script): checked
//! and made before the nodes, attached to the cluster network and written into every node's
//! containerd configuration once the nodes exist, and announced in the cluster (KEP-1755
//! ConfigMap) after init. Registries outlive the cluster and are shared: they never carry the
//! create's id, because a create running alongside may adopt a registry the moment it exists,
//! so rollback keeps even those this run made and says how to remove them.

use super::config::Kube;
use super::{CreateRequest, Ctx, Node};
use crate::config::{Cluster, NodeRole};
use crate::docker::FileToWrite;
use crate::registry::hosting::{self, LocalRegistryHostingV1};
use crate::registry::hosts;
use crate::registry::manage::{self, Plan};
use crate::report::Reporter;
use anyhow::Context as _;
use futures_util::future::try_join_all;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether this create sets up registries: asked for, and the config does not wire registries
/// into containerd itself (then kindling leaves them to it).
fn active(request: &CreateRequest) -> bool {
    request.registry.is_active() && !hosts::config_wires_registries(&request.config)
}

/// The cluster config the nodes get: with `config_path` patches in front of the user's own
/// (so theirs still win) when registries are set up. Warns when the flags are ignored.
pub(super) fn node_config(request: &CreateRequest, reporter: &dyn Reporter) -> Cluster {
    let mut config = request.config.clone();
    if request.registry.is_active() && !active(request) {
        reporter.warn(
            "--registry and --registry-mirror are ignored: the config's containerd patches set up registries themselves",
        );
    }
    if active(request) {
        let mut patches = hosts::config_path_patches();
        patches.append(&mut config.containerd_config_patches);
        config.containerd_config_patches = patches;
    }
    config
}

/// Registries being made in the background while the nodes boot.
pub(super) struct Prepared(Option<tokio::task::JoinHandle<anyhow::Result<(Plan, Duration)>>>);

/// Checks names and ports before any node exists (a conflict fails the create here), then
/// makes what is missing and attaches everything to the cluster network in a tracked task, so
/// that this work overlaps the nodes' boot instead of delaying it.
pub(super) async fn prepare(ctx: &Ctx) -> anyhow::Result<Prepared> {
    if !active(&ctx.request) {
        return Ok(Prepared(None));
    }
    let mut plan = manage::plan(&ctx.engine, &ctx.request.registry).await?;
    let made = ctx.registries_made.clone();
    let engine = ctx.engine.clone();
    let reporter = ctx.reporter.clone();
    let tracker = ctx.tracker.clone();
    let network = ctx.request.network().to_string();
    let handle = ctx.tracker.spawn(async move {
        let t0 = Instant::now();
        let ensured = manage::ensure(&engine, &mut plan, &tracker, &*reporter).await;
        // Recorded here, in the tracked task, so rollback (which waits for it) sees it.
        made.record(&plan);
        ensured?;
        engine
            .ensure_network(&network)
            .await
            .context("failed to ensure docker network")?;
        manage::connect(&engine, &plan, &network).await?;
        Ok((plan, t0.elapsed()))
    });
    Ok(Prepared(Some(handle)))
}

/// Waits for the registries, then writes the `hosts.toml` files into every node but the load
/// balancer. containerd reads them at each pull, so no restart is needed for them (the
/// `config_path` patch is applied with the other containerd patches).
pub(super) async fn connect(ctx: &Ctx, prepared: Prepared, nodes: &[Node]) -> anyhow::Result<Plan> {
    let Some(handle) = prepared.0 else {
        return Ok(Plan::default());
    };
    let (plan, made_in) = match handle.await {
        Ok(result) => result?,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => anyhow::bail!("registry task stopped: {e}"),
    };
    ctx.record("Ensuring registries (alongside the nodes)", made_in);
    let title = if plan.local.is_some() {
        "Connecting the local registry 🗄️"
    } else {
        "Connecting pull-through caches 🗄️"
    };
    let files: Vec<FileToWrite> = plan
        .hosts_files()
        .into_iter()
        .map(|f| FileToWrite {
            path: f.path,
            contents: f.contents.into_bytes(),
            mode: 0o644,
        })
        .collect();
    ctx.step(title, async {
        try_join_all(
            nodes
                .iter()
                .filter(|n| n.role != NodeRole::ExternalLoadBalancer)
                .map(|n| async {
                    n.usable().await?;
                    ctx.engine.write_files_with_tar(&n.name, &files).await?;
                    anyhow::Ok(())
                }),
        )
        .await?;
        Ok(())
    })
    .await?;
    if let Some(local) = &plan.local {
        let host = format!("localhost:{}", local.host_port.unwrap_or_default());
        ctx.reporter.info(&format!(
            "Local registry \"{}\": push images to {host} and use {host}/IMAGE in the cluster",
            local.name
        ));
    }
    Ok(plan)
}

/// Applies `kube-public/local-registry-hosting` (KEP-1755) for the local registry.
pub(super) async fn document(ctx: &Ctx, plan: &Plan, kube: &Kube) -> anyhow::Result<()> {
    let Some(local) = &plan.local else {
        return Ok(());
    };
    let t0 = Instant::now();
    let hosting = LocalRegistryHostingV1::new(&local.name, local.host_port.unwrap_or_default());
    let manifest = hosting::configmap(&hosting)
        .context("failed to render the local-registry-hosting ConfigMap")?;
    super::kubectl::apply(ctx, &kube.bootstrap, manifest)
        .await
        .context("failed to apply the local-registry-hosting ConfigMap")?;
    ctx.record("Documenting the local registry", t0.elapsed());
    Ok(())
}

/// What this run's registry task made: registries, caches and cache volumes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Made(Arc<Mutex<Vec<String>>>);

impl Made {
    /// Remembers what `plan` says this run made.
    fn record(&self, plan: &Plan) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = kept_lines(plan);
    }
}

/// One line per registry, cache or cache volume this run made, with how to remove it.
fn kept_lines(plan: &Plan) -> Vec<String> {
    const WHY: &str = "registries are shared, another cluster may use it";
    let mut lines = Vec::new();
    for t in plan.targets() {
        let name = &t.name;
        let line = match (t.mirror.is_some(), t.created, t.volume_created) {
            (false, true, _) => format!(
                "Keeping registry \"{name}\" that this create made ({WHY}); remove it with: kindling registry delete {name}"
            ),
            (true, true, true) => format!(
                "Keeping pull-through cache \"{name}\" and its volume that this create made ({WHY}); remove both with: kindling registry delete {name}"
            ),
            (true, true, false) => format!(
                "Keeping pull-through cache \"{name}\" that this create made ({WHY}); remove it with: kindling registry delete {name}"
            ),
            (true, false, true) => format!(
                "Keeping volume \"{name}\" that this create made for a pull-through cache; remove it with: docker volume rm {name}"
            ),
            _ => continue,
        };
        lines.push(line);
    }
    lines
}

/// Rollback keeps registries, caches and volumes even when this run made them (a create running
/// alongside may have adopted them), and says so, one line each, with how to remove them.
pub(super) fn rollback(ctx: &Ctx) {
    let lines = ctx
        .registries_made
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    for line in lines {
        ctx.reporter.info(&line);
    }
}

/// The local registry in the create summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RegistryReport {
    /// Container name.
    pub name: String,
    /// Where to push from the host (`localhost:PORT`).
    pub host: String,
    /// Its address on the cluster network (`NAME:5000`).
    pub host_from_cluster_network: String,
    /// Its image.
    pub image: String,
    /// Whether this create made it (else it was reused).
    pub created: bool,
}

/// A pull-through cache in the create summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MirrorReport {
    /// The registry host it caches (`docker.io`).
    pub upstream: String,
    /// Where it fetches from.
    pub url: String,
    /// Container (and volume) name.
    pub name: String,
    /// Whether this create made it (else it was reused).
    pub created: bool,
    /// Whether it was given credentials from the Docker config when made.
    pub authenticated: bool,
}

/// The summary's `registry` and `mirrors` entries.
pub(super) fn report(plan: &Plan) -> (Option<RegistryReport>, Vec<MirrorReport>) {
    let local = plan.local.as_ref().map(|t| {
        let port = t.host_port.unwrap_or_default();
        RegistryReport {
            name: t.name.clone(),
            host: format!("localhost:{port}"),
            host_from_cluster_network: format!("{}:{}", t.name, crate::registry::CONTAINER_PORT),
            image: t.image.clone(),
            created: t.created,
        }
    });
    let mirrors = plan
        .mirrors
        .iter()
        .filter_map(|t| {
            let m = t.mirror.as_ref()?;
            Some(MirrorReport {
                upstream: m.host.clone(),
                url: m.url.clone(),
                name: t.name.clone(),
                created: t.created,
                authenticated: t.authenticated,
            })
        })
        .collect();
    (local, mirrors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Mirror;
    use crate::registry::manage::Target;

    fn target(name: &str, mirror: Option<&str>, created: bool, volume: bool) -> Target {
        Target {
            name: name.into(),
            host_port: mirror.is_none().then_some(5001),
            mirror: mirror.map(|m| Mirror::parse(m).unwrap()),
            image: "registry:2".into(),
            exists: !created,
            created,
            volume_created: volume,
            authenticated: false,
        }
    }

    #[test]
    fn rollback_names_each_object_this_run_made_and_how_to_remove_it() {
        let plan = Plan {
            local: Some(target("kind-registry", None, true, false)),
            mirrors: vec![
                target("kindling-mirror-docker-io", Some("docker.io"), true, true),
                target("kindling-mirror-ghcr-io", Some("ghcr.io"), false, false),
                target("kindling-mirror-quay-io", Some("quay.io"), true, false),
                target("kindling-mirror-gcr-io", Some("gcr.io"), false, true),
            ],
        };
        let lines = kept_lines(&plan);
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[0].starts_with("Keeping registry \"kind-registry\""));
        assert!(lines[0].ends_with("kindling registry delete kind-registry"));
        assert!(lines[1].contains("\"kindling-mirror-docker-io\" and its volume"));
        assert!(lines[1].ends_with("kindling registry delete kindling-mirror-docker-io"));
        assert!(lines[2].ends_with("kindling registry delete kindling-mirror-quay-io"));
        assert!(lines[3].ends_with("docker volume rm kindling-mirror-gcr-io"));
        // Reused ones are not this run's to mention.
        assert!(!lines.iter().any(|l| l.contains("ghcr")));
        assert!(kept_lines(&Plan::default()).is_empty());
    }
}

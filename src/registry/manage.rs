//! Finding, creating, listing and removing registry and cache containers (through `docker/`).
//!
//! Registries are shared: clusters reuse them, and `delete cluster` never removes them. A
//! container is reused when [`classify`] recognises it as the right kind of registry; a name or
//! port held by anything else is an error before anything is made. Nothing made here carries a
//! create's id: another create may adopt a registry the moment it exists, so a failing create
//! must not remove it.

use super::hosts::{self, HostsFile};
use super::{
    CONTAINER_PORT, CTLPTL_ROLE_LABEL, DATA_DIR, DEFAULT_HOST_PORT, HOST_ADDRESS, Mirror, Options,
    ROLE_LABEL, Role, UPSTREAM_LABEL, classify,
};
use crate::docker::{ContainerListing, ContainerSpec, Engine, PortPublish};
use crate::report::Reporter;
use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde::Serialize;
use std::collections::BTreeMap;
use tokio_util::task::TaskTracker;

/// The network registries are created on; clusters attach them to theirs (as kind's
/// documented script does).
const CREATE_NETWORK: &str = "bridge";
/// How long a registry another process is creating may take to appear: 100 × 50 ms.
const RACE_POLLS: u32 = 100;
const RACE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// One registry container a cluster uses: found, or to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Container name (its host name on the cluster network).
    pub name: String,
    /// The local registry's host port; `None` for a cache.
    pub host_port: Option<u16>,
    /// What a cache mirrors; `None` for the local registry.
    pub mirror: Option<Mirror>,
    /// The image it runs (or will run).
    pub image: String,
    /// Whether it exists already (then it is reused as it is).
    pub exists: bool,
    /// Whether this run made it (set by [`ensure`]).
    pub created: bool,
    /// Whether this run made the cache's named volume (set by [`ensure`]).
    pub volume_created: bool,
    /// Whether the cache was given upstream credentials (set by [`ensure`]).
    pub authenticated: bool,
}

/// Every registry container a cluster uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The local registry, when asked for.
    pub local: Option<Target>,
    /// One cache per mirrored upstream.
    pub mirrors: Vec<Target>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.local.is_none() && self.mirrors.is_empty()
    }

    /// Every target, the local registry first.
    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.local.iter().chain(self.mirrors.iter())
    }

    /// The `hosts.toml` files every node gets.
    pub fn hosts_files(&self) -> Vec<HostsFile> {
        let local = self
            .local
            .as_ref()
            .and_then(|t| Some((t.name.as_str(), t.host_port?)));
        let mirrors: Vec<Mirror> = self
            .mirrors
            .iter()
            .filter_map(|t| t.mirror.clone())
            .collect();
        hosts::node_files(local, &mirrors)
    }
}

/// Whether `port` can be bound on the registry's host address.
fn host_port_free(port: u16) -> bool {
    std::net::TcpListener::bind((HOST_ADDRESS, port)).is_ok()
}

/// A port the system considers free on the registry's host address.
fn any_free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind((HOST_ADDRESS, 0))
        .with_context(|| format!("failed to find a free port on {HOST_ADDRESS}"))?;
    Ok(listener.local_addr()?.port())
}

/// Checks what `options` asks for against the engine's containers and the host's ports, and
/// decides what to reuse and what to make. Starts a stopped registry that is to be reused (its
/// published port is known only once it runs). Nothing else is changed; every conflict is an
/// error naming the container or port and what to do.
pub async fn plan(engine: &Engine, options: &Options) -> anyhow::Result<Plan> {
    let mut containers = engine.list_all_containers(None).await?;
    let mut plan = Plan::default();
    if let Some(local) = &options.local {
        if let Some(m) = options
            .mirrors
            .iter()
            .find(|m| m.container_name() == local.name)
        {
            anyhow::bail!(
                "the registry name \"{}\" is the name of the cache for --registry-mirror {}; choose another name with --registry=NAME",
                local.name,
                m.host
            );
        }
        let existing = containers.iter().find(|c| c.name == local.name).cloned();
        let target = match existing {
            Some(c) => {
                let c = started(engine, c, &mut containers).await?;
                adopt_local(&c, local.port)?
            }
            None => {
                let port = match local.port {
                    Some(p) => {
                        check_port_free(p, &containers, &local.name)?;
                        p
                    }
                    None if port_unused(DEFAULT_HOST_PORT, &containers) => DEFAULT_HOST_PORT,
                    None => any_free_port()?,
                };
                Target {
                    name: local.name.clone(),
                    host_port: Some(port),
                    mirror: None,
                    image: options.image.clone(),
                    exists: false,
                    created: false,
                    volume_created: false,
                    authenticated: false,
                }
            }
        };
        plan.local = Some(target);
    }
    for mirror in &options.mirrors {
        if let Some(local) = &plan.local {
            let port = local.host_port.unwrap_or_default();
            if mirror.host == format!("localhost:{port}")
                || mirror.host == format!("{}:{CONTAINER_PORT}", local.name)
            {
                anyhow::bail!(
                    "--registry-mirror {} names the local registry itself; a local registry needs no cache",
                    mirror.host
                );
            }
        }
        let name = mirror.container_name();
        let existing = containers.iter().find(|c| c.name == name).cloned();
        let target = match existing {
            Some(c) => {
                let c = started(engine, c, &mut containers).await?;
                adopt_mirror(&c, mirror)?
            }
            None => Target {
                name,
                host_port: None,
                mirror: Some(mirror.clone()),
                image: options.image.clone(),
                exists: false,
                created: false,
                volume_created: false,
                authenticated: false,
            },
        };
        plan.mirrors.push(target);
    }
    Ok(plan)
}

/// Starts a container that is not running (a registry about to be reused) and lists it again.
async fn started(
    engine: &Engine,
    c: ContainerListing,
    all: &mut [ContainerListing],
) -> anyhow::Result<ContainerListing> {
    if c.state == "running" || classify(&c.labels, &c.image).is_none() {
        return Ok(c);
    }
    start_listed(engine, &c.name)
        .await
        .with_context(|| format!("failed to start the existing registry \"{}\"", c.name))?;
    let again = engine
        .list_all_containers(Some(&c.name))
        .await?
        .into_iter()
        .next()
        .with_context(|| format!("registry \"{}\" disappeared while starting", c.name))?;
    if let Some(slot) = all.iter_mut().find(|x| x.name == c.name) {
        *slot = again.clone();
    }
    Ok(again)
}

/// Starts a container found in the engine's list. One that another process is still creating
/// can be listed a moment before the engine can start it; that answer is retried (bounded).
async fn start_listed(engine: &Engine, name: &str) -> Result<(), crate::docker::DockerError> {
    let mut poll = 1;
    loop {
        match engine.start_container(name).await {
            Err(e) if e.is_not_found() && poll < RACE_POLLS => {
                poll += 1;
                tokio::time::sleep(RACE_INTERVAL).await;
            }
            other => return other,
        }
    }
}

/// Reuses an existing container as the local registry, or says why it cannot be.
fn adopt_local(c: &ContainerListing, wanted_port: Option<u16>) -> anyhow::Result<Target> {
    match classify(&c.labels, &c.image) {
        Some(Role::Local) => {}
        Some(Role::Mirror(upstream)) => anyhow::bail!(
            "container \"{}\" is kindling's pull-through cache of {upstream}, not a local registry; choose another name with --registry=NAME",
            c.name
        ),
        None => anyhow::bail!(
            "container \"{}\" already exists and is not a registry (image {}); choose another name with --registry=NAME, or remove that container",
            c.name,
            c.image
        ),
    }
    let Some(port) = c.host_port(CONTAINER_PORT) else {
        anyhow::bail!(
            "registry \"{}\" does not publish port {CONTAINER_PORT} on the host, so images cannot be pushed to it as localhost:PORT; recreate it with a published port (kindling registry delete {} && kindling registry create {}) or choose another name",
            c.name,
            c.name,
            c.name
        );
    };
    if let Some(wanted) = wanted_port.filter(|w| *w != port) {
        anyhow::bail!(
            "registry \"{}\" already exists on port {port}, not {wanted}; use --registry={}:{port}, or delete it first (kindling registry delete {})",
            c.name,
            c.name,
            c.name
        );
    }
    Ok(Target {
        name: c.name.clone(),
        host_port: Some(port),
        mirror: None,
        image: c.image.clone(),
        exists: true,
        created: false,
        volume_created: false,
        authenticated: false,
    })
}

/// Reuses an existing container as the cache of `mirror`, or says why it cannot be.
fn adopt_mirror(c: &ContainerListing, mirror: &Mirror) -> anyhow::Result<Target> {
    match classify(&c.labels, &c.image) {
        Some(Role::Mirror(upstream)) if upstream == mirror.url => Ok(Target {
            name: c.name.clone(),
            host_port: None,
            mirror: Some(mirror.clone()),
            image: c.image.clone(),
            exists: true,
            created: false,
            volume_created: false,
            authenticated: false,
        }),
        Some(Role::Mirror(upstream)) => anyhow::bail!(
            "the pull-through cache \"{}\" mirrors {upstream}, not {}; remove it first with: kindling registry delete {}",
            c.name,
            mirror.url,
            c.name
        ),
        _ => anyhow::bail!(
            "container \"{}\" already exists and is not kindling's pull-through cache for {}; remove or rename that container",
            c.name,
            mirror.host
        ),
    }
}

/// Whether no container publishes `port` and nothing on the host listens on it.
fn port_unused(port: u16, containers: &[ContainerListing]) -> bool {
    !containers
        .iter()
        .any(|c| c.ports.iter().any(|(_, p, _)| *p == port))
        && host_port_free(port)
}

/// An explicitly requested port must be free; says who holds it otherwise.
fn check_port_free(port: u16, containers: &[ContainerListing], name: &str) -> anyhow::Result<()> {
    if let Some(c) = containers
        .iter()
        .find(|c| c.ports.iter().any(|(_, p, _)| *p == port))
    {
        if classify(&c.labels, &c.image) == Some(Role::Local) {
            anyhow::bail!(
                "port {port} is already published by the registry \"{}\"; reuse it with --registry={}, or choose another port with --registry={name}:PORT",
                c.name,
                c.name
            );
        }
        anyhow::bail!(
            "port {port} is already published by container \"{}\", which is not a registry; choose another port with --registry={name}:PORT",
            c.name
        );
    }
    if !host_port_free(port) {
        anyhow::bail!(
            "port {port} on {HOST_ADDRESS} is in use by another program; choose another port with --registry={name}:PORT"
        );
    }
    Ok(())
}

/// The container of a local registry: kind's documented settings (`restart=always`, published
/// on loopback, deletes enabled) and labels ctlptl recognises.
pub fn local_spec(name: &str, image: &str, host_port: u16) -> ContainerSpec {
    let mut spec = base_spec(name, image);
    spec.labels
        .insert(CTLPTL_ROLE_LABEL.to_string(), "registry".to_string());
    spec.labels
        .insert(ROLE_LABEL.to_string(), "local".to_string());
    spec.ports = vec![PortPublish {
        host_ip: HOST_ADDRESS.to_string(),
        host_port,
        container_port: CONTAINER_PORT,
        protocol: "tcp".to_string(),
    }];
    spec
}

/// The container of a pull-through cache: the registry in proxy mode for the mirror's URL,
/// with upstream credentials when there are some, data in a named volume of the same name.
/// Not published on the host: only the nodes use it.
pub fn mirror_spec(
    mirror: &Mirror,
    image: &str,
    credentials: Option<&(String, String)>,
) -> ContainerSpec {
    let name = mirror.container_name();
    let mut spec = base_spec(&name, image);
    spec.labels
        .insert(ROLE_LABEL.to_string(), "mirror".to_string());
    spec.labels
        .insert(UPSTREAM_LABEL.to_string(), mirror.url.clone());
    spec.env
        .push(format!("REGISTRY_PROXY_REMOTEURL={}", mirror.url));
    if let Some((user, password)) = credentials {
        spec.env.push(format!("REGISTRY_PROXY_USERNAME={user}"));
        spec.env.push(format!("REGISTRY_PROXY_PASSWORD={password}"));
    }
    spec.binds = vec![format!("{name}:{DATA_DIR}")];
    spec
}

fn base_spec(name: &str, image: &str) -> ContainerSpec {
    let mut spec = ContainerSpec::new(name, image, CREATE_NETWORK);
    spec.env = vec!["REGISTRY_STORAGE_DELETE_ENABLED=true".to_string()];
    spec.restart_on_failure = None;
    spec.restart_always = true;
    spec.tty = false;
    spec
}

/// Labels of a cache volume kindling makes (so `registry delete` knows it may remove it).
fn volume_labels(mirror: &Mirror) -> BTreeMap<String, String> {
    BTreeMap::from([
        (ROLE_LABEL.to_string(), "mirror".to_string()),
        (UPSTREAM_LABEL.to_string(), mirror.url.clone()),
    ])
}

/// Makes every target of `plan` that does not exist yet: pulls the image if needed, creates
/// the cache volume unless one of that name exists (a volume made beforehand, for example
/// bound to a directory a CI cache keeps, is used as it is), creates and starts the container.
/// What it made is marked in `plan` as it goes (`created`, `volume_created`), so a caller sees
/// it even when a later step fails. Creates and starts run as tasks of `tracker`, so a dropped
/// caller never leaves one half-sent.
pub async fn ensure(
    engine: &Engine,
    plan: &mut Plan,
    tracker: &TaskTracker,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    let mut images: Vec<String> = plan
        .targets()
        .filter(|t| !t.exists)
        .map(|t| t.image.clone())
        .collect();
    images.dedup();
    for image in &images {
        ensure_image(engine, image, reporter).await?;
    }
    if let Some(t) = plan.local.as_mut().filter(|t| !t.exists) {
        let spec = local_spec(
            &t.name,
            &t.image,
            t.host_port.unwrap_or(super::DEFAULT_HOST_PORT),
        );
        match create_and_start(engine, spec, tracker, &mut t.created).await? {
            None => {}
            // Another process made it first: use the port it was published on.
            Some(theirs) => {
                let adopted = adopt_local(&theirs, None)?;
                t.host_port = adopted.host_port;
                t.image = adopted.image;
                t.exists = true;
            }
        }
        reporter.debug(1, &format!("registry {}: created {}", t.name, t.created));
    }
    for t in plan.mirrors.iter_mut().filter(|t| !t.exists) {
        let Some(mirror) = t.mirror.clone() else {
            continue;
        };
        if engine.volume_labels(&t.name).await?.is_none() {
            engine
                .create_volume(&t.name, &volume_labels(&mirror))
                .await?;
            t.volume_created = true;
        }
        let host = mirror.credentials_host();
        let credentials =
            crate::util::blocking(move || crate::docker::registry_credentials(&host)).await;
        t.authenticated = credentials.is_some();
        let spec = mirror_spec(&mirror, &t.image, credentials.as_ref());
        match create_and_start(engine, spec, tracker, &mut t.created).await? {
            None => {}
            Some(theirs) => {
                adopt_mirror(&theirs, &mirror)?;
                t.exists = true;
                t.authenticated = false;
                // Its maker made the volume too (creating an existing volume is a no-op).
                t.volume_created = false;
            }
        }
    }
    Ok(())
}

/// Creates and starts a registry container (`None`); when another process made one with the
/// same name first, that one is started if needed and returned, for the caller to check.
/// `made` is set once the container exists because of this call, even if starting it fails.
async fn create_and_start(
    engine: &Engine,
    spec: ContainerSpec,
    tracker: &TaskTracker,
    made: &mut bool,
) -> anyhow::Result<Option<ContainerListing>> {
    let name = spec.name.clone();
    let task_engine = engine.clone();
    let (created, started) = tracker
        .spawn(async move {
            match task_engine.create_container(&spec).await {
                Ok(_) => {}
                Err(e) if e.is_conflict() => return (false, Ok(())),
                Err(e) => return (false, Err(e)),
            }
            (true, task_engine.start_container(&spec.name).await)
        })
        .await
        .context("registry task stopped")?;
    *made = created;
    started?;
    if created {
        return Ok(None);
    }
    // The engine reserves a name before the container shows in its list: give the other
    // creator a moment (bounded) to finish making it.
    let listed = |engine: Engine, name: String| async move {
        for _ in 0..RACE_POLLS {
            if let Some(c) = engine
                .list_all_containers(Some(&name))
                .await?
                .into_iter()
                .next()
            {
                return Ok(c);
            }
            tokio::time::sleep(RACE_INTERVAL).await;
        }
        anyhow::bail!(
            "container \"{name}\" is being created by another process but did not appear within {} s; retry, or if no other create or `kindling registry create` is running, remove it with: docker rm -f {name}",
            (RACE_INTERVAL * RACE_POLLS).as_secs()
        )
    };
    let mut c = listed(engine.clone(), name.clone()).await?;
    if classify(&c.labels, &c.image).is_some() && c.state != "running" {
        start_listed(engine, &name).await?;
        c = listed(engine.clone(), name).await?;
    }
    Ok(Some(c))
}

/// Inspects the image, pulling it (with progress) when it is not present.
async fn ensure_image(engine: &Engine, image: &str, reporter: &dyn Reporter) -> anyhow::Result<()> {
    if engine.inspect_image(image).await?.is_some() {
        return Ok(());
    }
    let mut stream = std::pin::pin!(engine.pull_image(image));
    let mut failure = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(progress) => reporter.pull(&progress),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    reporter.pull_finished(image);
    if let Some(e) = failure {
        anyhow::bail!(
            "failed to pull the registry image \"{image}\": {}; pass an image that is present with --registry-image",
            e.message()
        );
    }
    Ok(())
}

/// Attaches every target to `network` (already attached is fine).
pub async fn connect(engine: &Engine, plan: &Plan, network: &str) -> anyhow::Result<()> {
    for t in plan.targets() {
        engine.connect_network(network, &t.name).await?;
    }
    Ok(())
}

/// A registry as `registry list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Container name.
    pub name: String,
    /// `local` or `mirror`.
    pub role: String,
    /// `localhost:PORT` for a running local registry that publishes its port.
    pub host: Option<String>,
    /// The upstream URL of a cache.
    pub upstream: Option<String>,
    /// Image.
    pub image: String,
    /// `running`, `exited`, …
    pub state: String,
    /// Networks it is attached to.
    pub networks: Vec<String>,
}

/// Every registry and cache on the engine (see [`classify`]), sorted by name.
pub async fn list(engine: &Engine) -> anyhow::Result<Vec<Listed>> {
    Ok(engine
        .list_all_containers(None)
        .await?
        .into_iter()
        .filter_map(|c| {
            let role = classify(&c.labels, &c.image)?;
            let (role, upstream) = match role {
                Role::Local => ("local", None),
                Role::Mirror(url) => ("mirror", Some(url)),
            };
            Some(Listed {
                host: (role == "local")
                    .then(|| c.host_port(CONTAINER_PORT))
                    .flatten()
                    .map(|p| format!("localhost:{p}")),
                name: c.name,
                role: role.to_string(),
                upstream,
                image: c.image,
                state: c.state,
                networks: c.networks,
            })
        })
        .collect())
}

/// What `delete` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// No container of that name.
    NotFound,
    /// The container, and the cache volume when kindling had made it.
    Container {
        /// The cache volume removed with it, if any.
        volume: Option<String>,
    },
}

/// Removes registry `name` with its anonymous volumes and, for a cache, the named volume
/// kindling made for it (a volume made by someone else stays). Refuses anything that is not a
/// registry.
pub async fn delete(engine: &Engine, name: &str) -> anyhow::Result<Removed> {
    let Some(c) = engine
        .list_all_containers(Some(name))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Removed::NotFound);
    };
    let role = classify(&c.labels, &c.image).with_context(|| {
        format!(
            "container \"{name}\" is not a registry (image {}); kindling only deletes registries",
            c.image
        )
    })?;
    engine.remove_container(name).await?;
    let mut volume = None;
    if matches!(role, Role::Mirror(_))
        && engine
            .volume_labels(name)
            .await?
            .is_some_and(|labels| labels.get(ROLE_LABEL).map(String::as_str) == Some("mirror"))
    {
        engine.remove_volume(name).await?;
        volume = Some(name.to_string());
    }
    Ok(Removed::Container { volume })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(name: &str, image: &str, labels: &[(&str, &str)]) -> ContainerListing {
        ContainerListing {
            name: name.into(),
            image: image.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            state: "running".into(),
            ..Default::default()
        }
    }

    #[test]
    fn local_registry_container_is_set_up_like_kinds_script() {
        let spec = local_spec("kind-registry", "registry:2", 5001);
        assert!(spec.restart_always);
        assert_eq!(
            spec.ports,
            [PortPublish {
                host_ip: "127.0.0.1".into(),
                host_port: 5001,
                container_port: 5000,
                protocol: "tcp".into(),
            }]
        );
        assert_eq!(spec.network, "bridge");
        assert_eq!(spec.env, ["REGISTRY_STORAGE_DELETE_ENABLED=true"]);
        // Exactly the labels other tools recognise: no create's id, since another create may
        // adopt the registry and a failing create must not remove it.
        assert_eq!(
            spec.labels,
            BTreeMap::from([
                ("dev.tilt.ctlptl.role".to_string(), "registry".to_string()),
                (ROLE_LABEL.to_string(), "local".to_string()),
            ])
        );
        assert!(!spec.tty);
    }

    #[test]
    fn cache_container_proxies_its_upstream_with_credentials() {
        let mirror = Mirror::parse("docker.io").unwrap();
        let creds = ("me".to_string(), "s3cret".to_string());
        let spec = mirror_spec(&mirror, "registry:2", Some(&creds));
        assert!(
            spec.env
                .contains(&"REGISTRY_PROXY_REMOTEURL=https://registry-1.docker.io".into())
        );
        assert!(spec.env.contains(&"REGISTRY_PROXY_USERNAME=me".into()));
        assert!(spec.env.contains(&"REGISTRY_PROXY_PASSWORD=s3cret".into()));
        assert_eq!(spec.binds, ["kindling-mirror-docker-io:/var/lib/registry"]);
        assert!(spec.ports.is_empty(), "caches are not published");
        assert!(spec.restart_always);
        let expected = BTreeMap::from([
            (ROLE_LABEL.to_string(), "mirror".to_string()),
            (
                UPSTREAM_LABEL.to_string(),
                "https://registry-1.docker.io".to_string(),
            ),
        ]);
        assert_eq!(spec.labels, expected);
        // The volume carries the same labels (and no create's id either).
        assert_eq!(volume_labels(&mirror), expected);
        let anonymous = mirror_spec(&mirror, "registry:2", None);
        assert!(!anonymous.env.iter().any(|e| e.contains("USERNAME")));
    }

    #[test]
    fn existing_containers_are_adopted_only_when_they_fit() {
        let mut reg = listing("kind-registry", "registry:2", &[]);
        reg.ports = vec![("127.0.0.1".into(), 5001, 5000)];
        let t = adopt_local(&reg, None).unwrap();
        assert_eq!((t.host_port, t.exists), (Some(5001), true));
        assert!(adopt_local(&reg, Some(5001)).is_ok());
        let err = adopt_local(&reg, Some(5002)).unwrap_err().to_string();
        assert!(err.contains("port 5001, not 5002"), "{err}");

        let unpublished = listing("kind-registry", "registry:2", &[]);
        let err = adopt_local(&unpublished, None).unwrap_err().to_string();
        assert!(err.contains("does not publish port 5000"), "{err}");

        let web = listing("kind-registry", "nginx:1", &[]);
        let err = adopt_local(&web, None).unwrap_err().to_string();
        assert!(err.contains("is not a registry (image nginx:1)"), "{err}");

        let mirror = Mirror::parse("docker.io").unwrap();
        let cache = listing(
            "kindling-mirror-docker-io",
            "registry:2",
            &[(ROLE_LABEL, "mirror"), (UPSTREAM_LABEL, &mirror.url)],
        );
        assert!(adopt_mirror(&cache, &mirror).unwrap().exists);
        let err = adopt_local(&cache, None).unwrap_err().to_string();
        assert!(err.contains("pull-through cache"), "{err}");
        let other = Mirror::parse("docker.io=https://elsewhere.io").unwrap();
        let err = adopt_mirror(&cache, &other).unwrap_err().to_string();
        assert!(err.contains("not https://elsewhere.io"), "{err}");
        let err = adopt_mirror(&reg, &mirror).unwrap_err().to_string();
        assert!(err.contains("not kindling's pull-through cache"), "{err}");
    }

    #[test]
    fn ports_held_by_containers_are_named() {
        let mut web = listing("web", "nginx:1", &[]);
        web.ports = vec![("0.0.0.0".into(), 5999, 80)];
        let mut reg = listing("other-registry", "registry:2", &[]);
        reg.ports = vec![("127.0.0.1".into(), 5998, 5000)];
        let all = vec![web, reg];
        let err = check_port_free(5999, &all, "r").unwrap_err().to_string();
        assert!(
            err.contains("container \"web\", which is not a registry"),
            "{err}"
        );
        let err = check_port_free(5998, &all, "r").unwrap_err().to_string();
        assert!(err.contains("--registry=other-registry"), "{err}");
        assert!(!port_unused(5999, &all));
        // A port the host itself holds.
        let held = std::net::TcpListener::bind((HOST_ADDRESS, 0)).unwrap();
        let port = held.local_addr().unwrap().port();
        let err = check_port_free(port, &[], "r").unwrap_err().to_string();
        assert!(err.contains("in use by another program"), "{err}");
        assert!(!port_unused(port, &[]));
    }
}

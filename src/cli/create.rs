//! `kindling create cluster`.

use super::{Ctx, Format, Interrupted, print_stdout, resolve_name};
use crate::cluster::context_name;
use crate::cluster::create::{
    self, Cancelled, Cleanup, CreateRequest, DEFAULT_LOAD_BALANCER_IMAGE, plan,
};
use crate::config::{self, Cluster};
use crate::input::{MAX_INPUT_BYTES, read_limited};
use crate::kubeconfig::KubeconfigError;
use crate::pki::KeyAlgorithm;
use crate::report::Reporter;
use crate::util::{parse_go_duration, shell_quote};
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `create` subcommands.
#[derive(Debug, Subcommand)]
pub enum CreateCommand {
    /// Creates a local Kubernetes cluster
    Cluster(ClusterArgs),
}

/// Key algorithms selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithmArg {
    /// ECDSA P-256 (fast; kindling's default)
    EcdsaP256,
    /// RSA 2048 (kubeadm's default)
    #[value(name = "rsa-2048")]
    Rsa2048,
}

/// Flags of `create cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// cluster name, overrides KIND_CLUSTER_NAME, config (default kind)
    #[arg(short = 'n', long, value_name = "string")]
    name: Option<String>,
    /// path to a kind config file ("-" reads it from stdin)
    #[arg(long, value_name = "string")]
    config: Option<String>,
    /// node docker image to use for booting the cluster
    #[arg(long, value_name = "string")]
    image: Option<String>,
    /// retain nodes for debugging when cluster creation fails
    #[arg(long)]
    retain: bool,
    /// wait for control plane node to be ready (default 0s)
    #[arg(long, value_name = "duration", value_parser = parse_go_duration, default_value = "0s")]
    wait: Duration,
    /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
    #[arg(long, value_name = "string")]
    kubeconfig: Option<PathBuf>,
    /// (kindling) load, default and validate the config, print the plan, and create nothing
    #[arg(long)]
    dry_run: bool,
    /// (kindling) key algorithm of the cluster's certificates
    #[arg(
        long,
        value_enum,
        env = "KINDLING_KEY_ALGORITHM",
        default_value = "ecdsa-p256"
    )]
    key_algorithm: KeyAlgorithmArg,
    /// (kindling) image of the external load balancer used with several control planes
    #[arg(long, value_name = "string", env = "KINDLING_LOAD_BALANCER_IMAGE", default_value = DEFAULT_LOAD_BALANCER_IMAGE)]
    load_balancer_image: String,
    /// (kindling) output format: text prints nothing on stdout, json prints a summary
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
    /// (kindling) create or reuse a local registry the nodes pull from, NAME[:PORT] (default
    /// kind-registry on 127.0.0.1:5001, or a free port) [env: KINDLING_REGISTRY=1|NAME[:PORT]]
    #[arg(long, value_name = "NAME:PORT", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    registry: Option<String>,
    /// (kindling) image of the local registry and pull-through caches
    #[arg(long, value_name = "string", env = "KINDLING_REGISTRY_IMAGE", default_value = crate::registry::DEFAULT_IMAGE)]
    registry_image: String,
    /// (kindling) pull through a local cache of this registry: docker.io, ghcr.io, registry.k8s.io,
    /// quay.io, any HOST, or HOST=URL (repeatable)
    #[arg(
        long,
        value_name = "HOST[=URL]",
        env = "KINDLING_REGISTRY_MIRRORS",
        value_delimiter = ','
    )]
    registry_mirror: Vec<String>,
}

/// Runs `create cluster`.
pub async fn run(cmd: CreateCommand, ctx: &Ctx) -> anyhow::Result<()> {
    let CreateCommand::Cluster(args) = cmd;
    let result = create_cluster(args, ctx).await;
    result.map_err(|e| {
        if e.is::<Interrupted>() {
            e
        } else {
            e.context("failed to create cluster")
        }
    })
}

/// Reads, overrides and defaults the config the way kind does (validation comes next).
fn load_config(args: &ClusterArgs) -> anyhow::Result<Cluster> {
    let mut cfg = match args.config.as_deref() {
        None | Some("") => config::default_config(),
        Some("-") => {
            // Bytes, not text: the YAML layer decodes UTF-16 and byte order marks like kind.
            let bytes = read_limited(std::io::stdin().lock(), MAX_INPUT_BYTES)
                .context("error reading config from stdin")?;
            config::parse(&bytes)?
        }
        Some(path) => {
            let bytes = std::fs::File::open(path)
                .and_then(|file| read_limited(file, MAX_INPUT_BYTES))
                .with_context(|| format!("error reading file: {path}"))?;
            config::parse(&bytes).with_context(|| format!("invalid config file {path}"))?
        }
    };
    cfg.name = resolve_name(args.name.as_deref(), Some(cfg.name.as_str()));
    if let Some(image) = args.image.as_deref().filter(|i| !i.is_empty()) {
        cfg.image_override(image);
    }
    cfg.apply_defaults();
    Ok(cfg)
}

async fn create_cluster(args: ClusterArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let cfg = load_config(&args)?;
    // Before the name or any value is used or printed; every problem at once.
    cfg.validate()?;
    let name = cfg.name.clone();
    let working_dir = std::env::current_dir().context("cannot read the current directory")?;
    if args.dry_run {
        registry_options(&args)?;
        return print_plan(&name, &cfg, &args, working_dir);
    }
    let paths = super::delete::kubeconfig_paths(args.kubeconfig.as_deref())?;
    let request = CreateRequest {
        name: name.clone(),
        config: cfg,
        retain: args.retain,
        wait: args.wait,
        kubeconfig: paths,
        key_algorithm: match args.key_algorithm {
            KeyAlgorithmArg::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            KeyAlgorithmArg::Rsa2048 => KeyAlgorithm::Rsa2048,
        },
        load_balancer_image: args.load_balancer_image.clone(),
        working_dir,
        host_env: host_env(),
        docker_config_proxies: docker_config_proxies(),
        network_override: network_override(),
        registry: registry_options(&args)?,
        cache_dir: cache_dir(),
    };
    let engine = ctx.engine().await?;
    let cancel = CancellationToken::new();
    let signal = Arc::new(AtomicU8::new(0));
    // Registered before anything is created, so no signal can arrive unhandled.
    let handlers = SignalHandlers::install(&ctx.out)?;
    let watcher = tokio::spawn(watch_signals(
        handlers,
        cancel.clone(),
        signal.clone(),
        ctx.out.clone(),
        name.clone(),
        args.retain,
    ));
    let reporter: Arc<dyn Reporter> = ctx.out.clone();
    let result = create::create(&engine, request, reporter, cancel).await;
    watcher.abort();
    ctx.out
        .debug(3, &format!("docker API calls: {}", engine.api_calls()));
    let report = match result {
        Ok(report) => report,
        Err(e) if e.is::<Cancelled>() => {
            let what = match e.downcast_ref::<Cancelled>().map(|c| &c.cleanup) {
                Some(Cleanup::Retained) => "its nodes were kept because of --retain".to_string(),
                Some(Cleanup::Incomplete(left)) => format!(
                    "cleanup was incomplete ({left}); finish it with: kindling delete cluster --name {name}"
                ),
                _ => "everything this run made has been removed".to_string(),
            };
            return Err(anyhow::Error::new(Interrupted::from_signal(
                signal.load(Ordering::SeqCst),
            ))
            .context(format!("cluster \"{name}\" was not created: {what}")));
        }
        // Stopped before anything was made (waiting for the kubeconfig lock).
        Err(e) if matches!(e.downcast_ref(), Some(KubeconfigError::Cancelled { .. })) => {
            return Err(anyhow::Error::new(Interrupted::from_signal(
                signal.load(Ordering::SeqCst),
            ))
            .context(format!(
                "cluster \"{name}\" was not created: nothing was made"
            )));
        }
        Err(e) => return Err(e),
    };
    let mut usage = format!("kubectl cluster-info --context {}", context_name(&name));
    if let Some(path) = &args.kubeconfig {
        usage.push_str(&format!(
            " --kubeconfig {}",
            shell_quote(&path.display().to_string())
        ));
    }
    ctx.out.info(&format!(
        "You can now use your cluster with:\n\n{usage}\n\n{}",
        salutation()
    ));
    if args.output == Format::Json {
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
    }
    Ok(())
}

/// `--registry` (else `KINDLING_REGISTRY`), `--registry-image` and `--registry-mirror`.
fn registry_options(args: &ClusterArgs) -> anyhow::Result<crate::registry::Options> {
    use crate::registry::{LocalRegistry, Mirror, Options, dedupe_mirrors};
    let local = match args.registry.as_deref() {
        Some(value) => Some(LocalRegistry::parse(value)?),
        None => LocalRegistry::from_env(std::env::var("KINDLING_REGISTRY").ok().as_deref())
            .context("invalid KINDLING_REGISTRY")?,
    };
    let mirrors = args
        .registry_mirror
        .iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| Mirror::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Options {
        local,
        mirrors: dedupe_mirrors(mirrors)?,
        image: args.registry_image.clone(),
    })
}

/// The signals that mean "stop", by number: SIGINT (Ctrl-C), SIGTERM, SIGHUP (the terminal went
/// away) and SIGQUIT (Ctrl-\).
const STOP_SIGNALS: [u8; 4] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT];
const SIGHUP: u8 = 1;
const SIGINT: u8 = 2;
const SIGQUIT: u8 = 3;
const SIGTERM: u8 = 15;

/// Handlers for the stopping signals. Installing one replaces the default "terminate now" (and
/// SIGQUIT's core dump), so the signal cancels the create and its rollback runs.
///
/// A signal that was ignored when kindling started stays ignored (the Go runtime, so kind, does
/// this for SIGHUP and SIGINT): `nohup` ignores SIGHUP, and a shell running `cmd &` without job
/// control ignores SIGINT and SIGQUIT, so that closing the terminal or pressing Ctrl-C there does
/// not stop the command.
struct SignalHandlers {
    /// One stream per handled signal, with its number.
    streams: Vec<(u8, tokio::signal::unix::Signal)>,
}

impl SignalHandlers {
    fn install(out: &super::output::Output) -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let ignored = inherited_ignored_signals();
        let mut streams = Vec::new();
        for number in STOP_SIGNALS {
            let name = Interrupted::from_signal(number).name();
            if is_ignored(ignored, number) {
                out.debug(
                    1,
                    &format!(
                        "{name} was ignored when kindling started (nohup, `&`); it stays ignored"
                    ),
                );
                continue;
            }
            let stream = signal(SignalKind::from_raw(i32::from(number))).with_context(|| {
                format!(
                    "cannot install a handler for {name}, so a stopped create could not clean up"
                )
            })?;
            streams.push((number, stream));
        }
        Ok(SignalHandlers { streams })
    }

    /// Whether `number` has a handler (it was not ignored at start).
    fn handles(&self, number: u8) -> bool {
        self.streams.iter().any(|(n, _)| *n == number)
    }

    /// The number of the next signal received; never returns when no signal is handled.
    async fn next(&mut self) -> u8 {
        std::future::poll_fn(|cx| {
            for (number, stream) in &mut self.streams {
                if stream.poll_recv(cx).is_ready() {
                    return std::task::Poll::Ready(*number);
                }
            }
            std::task::Poll::Pending
        })
        .await
    }
}

/// The signals this process inherited as ignored: the `SigIgn` mask of /proc/self/status (bit
/// n-1 for signal n). Read before any handler is installed, since a handler clears the bit.
/// Empty when /proc cannot tell.
fn inherited_ignored_signals() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| sig_ign_mask(&status))
        .unwrap_or(0)
}

/// The `SigIgn:` mask in the text of a /proc/<pid>/status file.
fn sig_ign_mask(status: &str) -> Option<u64> {
    let value = status.lines().find_map(|l| l.strip_prefix("SigIgn:"))?;
    u64::from_str_radix(value.trim(), 16).ok()
}

fn is_ignored(mask: u64, number: u8) -> bool {
    (1..=64).contains(&number) && mask & (1 << (number - 1)) != 0
}

/// Cancels the create on the first stopping signal. Later signals are ignored so the cleanup can
/// finish (CI runners send SIGINT then SIGTERM before SIGKILL), except SIGQUIT (Ctrl-\): it
/// abandons a cleanup that hangs, exiting at once with 131 after saying what may be left.
async fn watch_signals(
    mut handlers: SignalHandlers,
    cancel: CancellationToken,
    which: Arc<AtomicU8>,
    out: Arc<super::output::Output>,
    name: String,
    retain: bool,
) {
    loop {
        let number = handlers.next().await;
        let signal = Interrupted::from_signal(number);
        if which
            .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            let then = if retain {
                "keeping the nodes because of --retain"
            } else {
                "removing everything this create made"
            };
            out.info(&format!(
                "Received {}: stopping and {then} ...",
                signal.name()
            ));
            cancel.cancel();
        } else if number == SIGQUIT {
            out.error(&format!(
                "{} during the cleanup: stopped at once; containers, volumes and the kubeconfig entry of cluster \"{name}\" may be left behind (and the kubeconfig's lock, if it was being written); remove them with: kindling delete cluster --name {name}",
                signal.name()
            ));
            std::process::exit(i32::from(signal.exit_code()));
        } else {
            let abandon = if handlers.handles(SIGQUIT) {
                "press Ctrl-\\ (SIGQUIT) to abandon it"
            } else {
                "send SIGKILL to abandon it"
            };
            out.info(&format!(
                "Cleanup in progress; it will finish on its own ({abandon})."
            ));
        }
    }
}

/// `KIND_EXPERIMENTAL_DOCKER_NETWORK`: a Docker network for the nodes instead of `kind` (kind
/// reads it only when creating; an empty value is unset).
fn network_override() -> Option<String> {
    std::env::var("KIND_EXPERIMENTAL_DOCKER_NETWORK")
        .ok()
        .filter(|v| !v.is_empty())
}

/// kindling's cache directory: `$XDG_CACHE_HOME/kindling`, else `$HOME/.cache/kindling`.
fn cache_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache"))
    })?;
    Some(base.join("kindling"))
}

/// The host variables nodes may inherit (proxies, containerd snapshotter).
fn host_env() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| {
            k.to_uppercase().ends_with("_PROXY") || k == "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER"
        })
        .collect()
}

/// The `proxies` entry of the Docker CLI config for this daemon (`DOCKER_HOST`) or `default`.
fn docker_config_proxies() -> BTreeMap<String, String> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    let Some(text) = dir.and_then(|d| std::fs::read_to_string(d.join("config.json")).ok()) else {
        return BTreeMap::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let proxies = &json["proxies"];
    let entry = if !host.is_empty() && proxies.get(&host).is_some() {
        &proxies[&host]
    } else {
        &proxies["default"]
    };
    entry
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn salutation() -> &'static str {
    const LINES: [&str; 4] = [
        "Have a nice day! 👋",
        "Thanks for using kindling! 😊",
        "Not sure what to do next? 😅  Check out https://kind.sigs.k8s.io/docs/user/quick-start/",
        "Happy hacking! 🔥",
    ];
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    LINES[usize::from(byte[0]) % LINES.len()]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanJson {
    name: String,
    network: String,
    nodes: Vec<PlanNodeJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanNodeJson {
    name: String,
    role: String,
    image: String,
    ports: Vec<String>,
    mounts: Vec<String>,
}

fn print_plan(
    name: &str,
    cfg: &Cluster,
    args: &ClusterArgs,
    working_dir: PathBuf,
) -> anyhow::Result<()> {
    let host = plan::HostFacts {
        working_dir,
        ..Default::default()
    };
    let network = network_override().unwrap_or_else(|| crate::cluster::DEFAULT_NETWORK.to_string());
    let planned = plan::plan(
        name,
        cfg,
        &host,
        &network,
        &args.load_balancer_image,
        "dry-run",
    );
    let nodes: Vec<PlanNodeJson> = planned
        .containers
        .iter()
        .map(|c| PlanNodeJson {
            name: c.spec.name.clone(),
            role: c.node.role.to_string(),
            image: c.spec.image.clone(),
            ports: c
                .spec
                .ports
                .iter()
                .zip(&c.pick_ports)
                .map(|(p, pick)| {
                    let host_port = if pick.is_some() || p.host_port == 0 {
                        "random".to_string()
                    } else {
                        p.host_port.to_string()
                    };
                    let ip = if p.host_ip.contains(':') {
                        format!("[{}]", p.host_ip)
                    } else {
                        p.host_ip.clone()
                    };
                    format!("{ip}:{host_port}->{}/{}", p.container_port, p.protocol)
                })
                .collect(),
            mounts: c
                .spec
                .binds
                .iter()
                .filter(|b| !b.starts_with("/lib/modules:"))
                .cloned()
                .collect(),
        })
        .collect();
    let doc = PlanJson {
        name: name.to_string(),
        network,
        nodes,
    };
    if args.output == Format::Json {
        return print_stdout(&format!("{}\n", serde_json::to_string_pretty(&doc)?));
    }
    let mut text = format!("Cluster \"{}\" (dry run: nothing is created)\n", doc.name);
    for n in &doc.nodes {
        text.push_str(&format!(
            "  {}  role={}  image={}\n",
            n.name, n.role, n.image
        ));
        for p in &n.ports {
            text.push_str(&format!("    publish {p}\n"));
        }
        for m in &n.mounts {
            text.push_str(&format!("    mount {m}\n"));
        }
    }
    print_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_ignored_signals_come_from_the_sigign_mask() {
        // `nohup` (SIGHUP) in a shell script's `cmd &` (SIGINT, SIGQUIT), with SIGPIPE.
        let status = "Name:\tkindling\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001007\nSigCgt:\t0000000000000000\n";
        let mask = sig_ign_mask(status).unwrap();
        let ignored: Vec<u8> = (1..=64).filter(|&n| is_ignored(mask, n)).collect();
        assert_eq!(ignored, [SIGHUP, SIGINT, SIGQUIT, 13]);
        assert!(!is_ignored(mask, SIGTERM));
        assert!(!is_ignored(mask, 0) && !is_ignored(u64::MAX, 65));
        assert_eq!(sig_ign_mask("Name:\tx\n"), None);
        // This process's own mask is readable.
        assert!(sig_ign_mask(&std::fs::read_to_string("/proc/self/status").unwrap()).is_some());
    }
}

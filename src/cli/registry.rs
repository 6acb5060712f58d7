//! `kindling registry create|delete|list`: local registries and pull-through caches without a
//! cluster (what `k3d registry …` does for k3d).

use super::{Ctx, Format, print_stdout};
use crate::registry::manage::{self, Removed};
use crate::registry::{DEFAULT_IMAGE, LocalRegistry, Mirror, Options};
use crate::report::Reporter;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use tokio_util::task::TaskTracker;

/// `registry` subcommands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Creates a local registry (or, with --mirror, a pull-through cache), or starts it if it exists
    Create(CreateArgs),
    /// Deletes registries: their containers, and the cache volumes kindling made
    Delete(DeleteArgs),
    /// Lists local registries and pull-through caches
    List {
        /// output format
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}

/// Flags of `registry create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// registry name, also its host name on the cluster network (default kind-registry)
    #[arg(value_name = "NAME", conflicts_with = "mirror")]
    name: Option<String>,
    /// host port on 127.0.0.1 (default 5001, or a free port when 5001 is taken)
    #[arg(long, value_name = "int", conflicts_with = "mirror")]
    port: Option<u16>,
    /// image of the registry
    #[arg(long, value_name = "string", env = "KINDLING_REGISTRY_IMAGE", default_value = DEFAULT_IMAGE)]
    image: String,
    /// create a pull-through cache of this registry instead: docker.io, ghcr.io,
    /// registry.k8s.io, quay.io, any HOST, or HOST=URL
    #[arg(long, value_name = "HOST[=URL]")]
    mirror: Option<String>,
    /// output format: json prints the registry as `registry list -o json` does
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
}

/// Flags of `registry delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// names of the registries to delete
    #[arg(value_name = "NAME", required = true)]
    names: Vec<String>,
}

/// Runs a `registry` subcommand.
pub async fn run(cmd: RegistryCommand, ctx: &Ctx) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Create(args) => {
            create(args, ctx).await.context("failed to create registry")
        }
        RegistryCommand::Delete(args) => delete(args, ctx).await,
        RegistryCommand::List { output } => list(output, ctx).await,
    }
}

async fn create(args: CreateArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let mut options = Options {
        image: args.image.clone(),
        ..Options::default()
    };
    match &args.mirror {
        Some(mirror) => options.mirrors.push(Mirror::parse(mirror)?),
        None => {
            let mut local = LocalRegistry::parse(args.name.as_deref().unwrap_or(""))?;
            if let Some(port) = args.port {
                if port == 0 {
                    anyhow::bail!("invalid registry port \"0\": expected a number from 1 to 65535");
                }
                local.port = Some(port);
            }
            options.local = Some(local);
        }
    }
    let engine = ctx.engine().await?;
    let mut plan = manage::plan(&engine, &options).await?;
    let tracker = TaskTracker::new();
    let reporter: &dyn Reporter = &*ctx.out;
    manage::ensure(&engine, &mut plan, &tracker, reporter).await?;
    let Some(target) = plan.targets().next().cloned() else {
        return Ok(());
    };
    let verb = if target.created {
        "Created"
    } else {
        "Reusing the existing"
    };
    match (&target.host_port, &target.mirror) {
        (Some(port), _) => ctx.out.info(&format!(
            "{verb} registry \"{}\": push images to localhost:{port}",
            target.name
        )),
        (None, Some(m)) => ctx.out.info(&format!(
            "{verb} pull-through cache \"{}\" of {} (clusters use it with --registry-mirror {})",
            target.name, m.url, m.host
        )),
        (None, None) => {}
    }
    if args.output == Format::Json {
        let listed = manage::list(&engine).await?;
        let entry = listed.into_iter().find(|l| l.name == target.name);
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&entry)?))?;
    }
    Ok(())
}

async fn delete(args: DeleteArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let engine = ctx.engine().await?;
    for name in &args.names {
        let removed = manage::delete(&engine, name)
            .await
            .with_context(|| format!("failed to delete registry \"{name}\""))?;
        match removed {
            Removed::NotFound => ctx.out.info(&format!("No registry named \"{name}\"")),
            Removed::Container { volume: None } => {
                ctx.out.info(&format!("Deleted registry \"{name}\""))
            }
            Removed::Container { volume: Some(v) } => ctx.out.info(&format!(
                "Deleted registry \"{name}\" and its cache volume \"{v}\""
            )),
        }
    }
    Ok(())
}

async fn list(output: Format, ctx: &Ctx) -> anyhow::Result<()> {
    let engine = ctx.engine().await?;
    let registries = manage::list(&engine).await?;
    if output == Format::Json {
        return print_stdout(&format!("{}\n", serde_json::to_string_pretty(&registries)?));
    }
    if registries.is_empty() {
        ctx.out.info("No registries found.");
        return Ok(());
    }
    let rows: Vec<[String; 5]> = registries
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.role.clone(),
                r.host
                    .clone()
                    .or_else(|| r.upstream.clone())
                    .unwrap_or_else(|| "-".to_string()),
                r.state.clone(),
                r.image.clone(),
            ]
        })
        .collect();
    let header = ["NAME", "ROLE", "HOST / UPSTREAM", "STATE", "IMAGE"].map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    print_stdout(&text)
}

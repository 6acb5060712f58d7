//! `kindling export kubeconfig` and `kindling export logs`.

use super::{Ctx, NameArg, print_stdout, version_line};
use crate::cluster::{access, context_name, logs};
use crate::kubeconfig::{self, LockOptions};
use crate::report::Reporter;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `export` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Exports cluster kubeconfig
    Kubeconfig(KubeconfigArgs),
    /// Exports logs to a tempdir or [output-dir] if specified
    Logs(LogsArgs),
}

/// Flags of `export kubeconfig`.
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    #[command(flatten)]
    name: NameArg,
    /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
    #[arg(long, value_name = "string")]
    kubeconfig: Option<PathBuf>,
    /// use internal address instead of external
    #[arg(long)]
    internal: bool,
}

/// Flags of `export logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// directory to write the logs to (default: a new temporary directory)
    output_dir: Option<PathBuf>,
    #[command(flatten)]
    name: NameArg,
}

/// Runs an `export` subcommand.
pub async fn run(cmd: ExportCommand, ctx: &Ctx) -> anyhow::Result<()> {
    match cmd {
        ExportCommand::Kubeconfig(args) => {
            let name = args.name.resolve()?;
            let paths = super::delete::kubeconfig_paths(args.kubeconfig.as_deref())?;
            let engine = ctx.engine().await?;
            let cfg = access::cluster_kubeconfig(&engine, &name, args.internal).await?;
            let target = paths.merge_target().to_path_buf();
            let lock = LockOptions::reporting_to(ctx.out.clone());
            crate::util::blocking(move || kubeconfig::merge_into_file(&target, &cfg, &lock))
                .await?;
            ctx.out.info(&format!(
                "Set kubectl context to \"{}\"",
                context_name(&name)
            ));
            Ok(())
        }
        ExportCommand::Logs(args) => {
            let name = args.name.resolve()?;
            let engine = ctx.engine().await?;
            let dir = match args.output_dir {
                Some(dir) => dir,
                None => tempfile::Builder::new().prefix("").tempdir()?.keep(),
            };
            ctx.out
                .info(&format!("Exporting logs for cluster \"{name}\" to:"));
            print_stdout(&format!("{}\n", dir.display()))?;
            let collected = logs::export(&engine, &name, &dir, &version_line()).await?;
            for failure in &collected.failures {
                ctx.out.warn(&format!("could not collect: {failure}"));
            }
            Ok(())
        }
    }
}

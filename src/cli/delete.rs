//! `kindling delete cluster` and `kindling delete clusters`.

use super::{Ctx, NameArg};
use crate::cluster::{self, delete};
use crate::kubeconfig::{KubeconfigPaths, LockOptions};
use crate::report::Reporter;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// `delete` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeleteCommand {
    /// Deletes a cluster
    Cluster(ClusterArgs),
    /// Deletes one or more clusters
    Clusters(ClustersArgs),
}

/// Flags of `delete cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    name: NameArg,
    /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
    #[arg(long, value_name = "string")]
    kubeconfig: Option<PathBuf>,
}

/// Flags of `delete clusters`.
#[derive(Debug, Args)]
pub struct ClustersArgs {
    /// cluster names
    names: Vec<String>,
    /// delete all clusters
    #[arg(short = 'A', long = "all")]
    all: bool,
    /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
    #[arg(long, value_name = "string")]
    kubeconfig: Option<PathBuf>,
}

/// Kubeconfig locations from `--kubeconfig`, `$KUBECONFIG` and `$HOME`.
pub fn kubeconfig_paths(explicit: Option<&Path>) -> anyhow::Result<KubeconfigPaths> {
    let env = std::env::var_os("KUBECONFIG");
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(KubeconfigPaths::resolve(
        explicit,
        env.as_deref(),
        home.as_deref(),
    )?)
}

/// Go's `%q` of a list of strings: `["a" "b"]`.
pub fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// Runs a `delete` subcommand.
pub async fn run(cmd: DeleteCommand, ctx: &Ctx) -> anyhow::Result<()> {
    match cmd {
        DeleteCommand::Cluster(args) => {
            let name = args.name.resolve()?;
            let paths = kubeconfig_paths(args.kubeconfig.as_deref())?;
            let engine = ctx.engine().await?;
            ctx.out.info(&format!("Deleting cluster \"{name}\" ..."));
            let lock = LockOptions::reporting_to(ctx.out.clone());
            let deleted = delete::delete_cluster(&engine, &name, &paths, &lock).await;
            ctx.out
                .debug(3, &format!("docker API calls: {}", engine.api_calls()));
            let deleted =
                deleted.map_err(|e| e.context(format!("failed to delete cluster \"{name}\"")))?;
            if !deleted.nodes.is_empty() {
                ctx.out.info(&format!(
                    "Deleted nodes: {}",
                    go_quoted_list(&deleted.nodes)
                ));
            }
            // kind's order: the nodes are gone, then what could not be cleaned fails the run.
            match deleted.kubeconfig_error {
                Some(problem) => Err(anyhow::anyhow!(
                    "failed to delete cluster \"{name}\": {problem}"
                )),
                None => Ok(()),
            }
        }
        DeleteCommand::Clusters(args) => {
            if !args.all && args.names.is_empty() {
                anyhow::bail!("no cluster names provided");
            }
            for name in &args.names {
                super::check_name_length(name)?;
            }
            let paths = kubeconfig_paths(args.kubeconfig.as_deref())?;
            let engine = ctx.engine().await?;
            let names = if args.all {
                cluster::list_clusters(&engine).await?
            } else {
                args.names
            };
            let mut done = Vec::new();
            let lock = LockOptions::reporting_to(ctx.out.clone());
            // kind deletes one after another and only logs failures; the exit code stays 0.
            for name in names {
                match delete::delete_cluster(&engine, &name, &paths, &lock).await {
                    Ok(deleted) if deleted.kubeconfig_error.is_none() => done.push(name),
                    Ok(deleted) => ctx.out.info(&format!(
                        "failed to delete cluster \"{name}\": {}",
                        deleted.kubeconfig_error.unwrap_or_default()
                    )),
                    Err(e) => ctx
                        .out
                        .info(&format!("failed to delete cluster \"{name}\": {e:#}")),
                }
            }
            ctx.out
                .info(&format!("Deleted clusters: {}", go_quoted_list(&done)));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(
            go_quoted_list(&["kind-control-plane".into(), "kind-worker".into()]),
            r#"["kind-control-plane" "kind-worker"]"#
        );
        assert_eq!(go_quoted_list(&[]), "[]");
    }
}

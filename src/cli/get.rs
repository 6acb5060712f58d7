//! `kindling get clusters|nodes`.

use super::{Ctx, Format, NameArg, print_stdout};
use crate::cluster;
use crate::report::Reporter;
use clap::{Args, Subcommand};
use serde::Serialize;

/// `get` subcommands.
#[derive(Debug, Subcommand)]
pub enum GetCommand {
    /// Lists existing kind clusters by their name
    Clusters {
        /// output format
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Lists existing kind nodes by their name
    Nodes(NodesArgs),
    /// Prints cluster kubeconfig
    Kubeconfig(KubeconfigArgs),
}

/// Flags of `get kubeconfig`.
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    #[command(flatten)]
    name: NameArg,
    /// use internal address instead of external
    #[arg(long)]
    internal: bool,
}

/// Flags of `get nodes`.
#[derive(Debug, Args)]
pub struct NodesArgs {
    #[command(flatten)]
    name: NameArg,
    /// If present, list all the available nodes across all cluster contexts. Current context is ignored even if specified with --name.
    #[arg(short = 'A', long = "all-clusters")]
    all_clusters: bool,
    /// output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Serialize)]
struct NodeJson {
    name: String,
    cluster: String,
    role: String,
    state: String,
}

/// Runs a `get` subcommand.
pub async fn run(cmd: GetCommand, ctx: &Ctx) -> anyhow::Result<()> {
    match cmd {
        GetCommand::Clusters { output } => {
            let engine = ctx.engine().await?;
            let clusters = cluster::list_clusters(&engine).await?;
            match output {
                Format::Json => {
                    print_stdout(&format!("{}\n", serde_json::to_string_pretty(&clusters)?))?
                }
                Format::Text if clusters.is_empty() => ctx.out.info("No kind clusters found."),
                Format::Text => print_stdout(&lines(clusters))?,
            }
        }
        GetCommand::Nodes(args) => {
            let name = args.name.resolve()?;
            let engine = ctx.engine().await?;
            let scope = (!args.all_clusters).then_some(name.as_str());
            let nodes = cluster::list_nodes(&engine, scope).await?;
            match args.output {
                Format::Json => {
                    let json: Vec<NodeJson> = nodes
                        .iter()
                        .map(|n| NodeJson {
                            name: n.name.clone(),
                            cluster: n
                                .labels
                                .get(cluster::CLUSTER_LABEL)
                                .cloned()
                                .unwrap_or_default(),
                            role: n
                                .labels
                                .get(cluster::ROLE_LABEL)
                                .cloned()
                                .unwrap_or_default(),
                            state: n.state.clone(),
                        })
                        .collect();
                    print_stdout(&format!("{}\n", serde_json::to_string_pretty(&json)?))?;
                }
                Format::Text if nodes.is_empty() => {
                    if args.all_clusters {
                        ctx.out.info("No kind nodes for any cluster.");
                    } else {
                        ctx.out
                            .info(&format!("No kind nodes found for cluster \"{name}\"."));
                    }
                }
                Format::Text => print_stdout(&lines(nodes.into_iter().map(|n| n.name)))?,
            }
        }
        GetCommand::Kubeconfig(args) => {
            let name = args.name.resolve()?;
            let engine = ctx.engine().await?;
            let cfg = cluster::access::cluster_kubeconfig(&engine, &name, args.internal).await?;
            // kind prints the document followed by an extra newline.
            print_stdout(&format!("{}\n", cfg.to_yaml()?))?;
        }
    }
    Ok(())
}

fn lines(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().map(|s| s + "\n").collect()
}

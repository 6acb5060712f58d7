//! `kindling load docker-image` and `kindling load image-archive`.

use super::{Ctx, NameArg};
use crate::cluster::load;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `load` subcommands.
#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Loads docker images from host into nodes
    DockerImage(DockerImageArgs),
    /// Loads docker image from archive into nodes
    ImageArchive(ImageArchiveArgs),
}

/// Flags of `load docker-image`.
#[derive(Debug, Args)]
pub struct DockerImageArgs {
    /// images to load
    #[arg(value_name = "IMAGE")]
    images: Vec<String>,
    #[command(flatten)]
    name: NameArg,
    /// comma separated list of nodes to load images into
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    nodes: Vec<String>,
}

/// Flags of `load image-archive`.
#[derive(Debug, Args)]
pub struct ImageArchiveArgs {
    /// image archives (docker save output) to load
    #[arg(value_name = "IMAGE.tar")]
    archives: Vec<PathBuf>,
    #[command(flatten)]
    name: NameArg,
    /// comma separated list of nodes to load images into
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    nodes: Vec<String>,
}

/// Runs a `load` subcommand.
pub async fn run(cmd: LoadCommand, ctx: &Ctx) -> anyhow::Result<()> {
    match cmd {
        LoadCommand::DockerImage(args) => {
            if args.images.is_empty() {
                anyhow::bail!("a list of image names is required");
            }
            let name = args.name.resolve()?;
            let engine = ctx.engine().await?;
            load::load_docker_images(&engine, &name, &args.images, &args.nodes, &*ctx.out).await
        }
        LoadCommand::ImageArchive(args) => {
            if args.archives.is_empty() {
                anyhow::bail!("name of image archive is required");
            }
            let name = args.name.resolve()?;
            let engine = ctx.engine().await?;
            load::load_archives(&engine, &name, &args.archives, &args.nodes, &*ctx.out).await
        }
    }
}

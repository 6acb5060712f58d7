//! "Ensuring node image": every distinct image present locally, pulled when absent, pulls
//! running concurrently with progress, kind's retry policy (4 retries, 1 s … 4 s apart).

use super::{Ctx, plan::Plan};
use crate::config::Cluster;
use crate::docker::{DockerError, Engine, ImageRef};
use crate::report::Reporter;
use crate::util::AbortOnDrop;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

const RETRY_DELAYS: [u64; 4] = [1, 2, 3, 4];

/// Makes sure the node images (with a status line each, sorted) and the load-balancer image
/// (no status line, as kind) are present.
pub(super) async fn ensure(ctx: &Ctx, config: &Cluster, plan: &Plan) -> anyhow::Result<()> {
    let mut node_images: Vec<String> = config.nodes.iter().map(|n| n.image.clone()).collect();
    node_images.sort();
    node_images.dedup();
    let lb_images: Vec<String> = plan
        .containers
        .iter()
        .filter(|c| c.node.config_index.is_none())
        .map(|c| c.spec.image.clone())
        .filter(|i| !node_images.contains(i))
        .collect();
    // Start every pull now; wait for them in kind's display order.
    let spawn = |image: &String| {
        let engine = ctx.engine.clone();
        let reporter = ctx.reporter.clone();
        let image = image.clone();
        AbortOnDrop(tokio::spawn(async move {
            ensure_image(&engine, &image, reporter).await
        }))
    };
    let node_tasks: Vec<_> = node_images.iter().map(spawn).collect();
    let lb_tasks: Vec<_> = lb_images.iter().map(spawn).collect();
    for (image, task) in node_images.iter().zip(node_tasks) {
        let title = format!(
            "Ensuring node image ({}) 🖼️",
            ImageRef::without_digest(image)
        );
        ctx.step(&title, task.join()).await?;
    }
    for task in lb_tasks {
        task.join().await?;
    }
    Ok(())
}

/// Inspects, then pulls with retries.
async fn ensure_image(
    engine: &Engine,
    image: &str,
    reporter: Arc<dyn Reporter>,
) -> anyhow::Result<()> {
    if engine.inspect_image(image).await?.is_some() {
        reporter.debug(1, &format!("image {image} is present"));
        return Ok(());
    }
    let mut last: Option<DockerError> = None;
    for attempt in 0..=RETRY_DELAYS.len() {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(RETRY_DELAYS[attempt - 1])).await;
            reporter.debug(
                1,
                &format!("retrying pull of {image} (attempt {})", attempt + 1),
            );
        }
        let pulled = pull_once(engine, image, &*reporter).await;
        reporter.pull_finished(image);
        match pulled {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    let reason = last.map(|e| e.message()).unwrap_or_default();
    anyhow::bail!("failed to pull image \"{image}\": {reason}")
}

async fn pull_once(
    engine: &Engine,
    image: &str,
    reporter: &dyn Reporter,
) -> Result<(), DockerError> {
    let mut stream = std::pin::pin!(engine.pull_image(image));
    while let Some(event) = stream.next().await {
        reporter.pull(&event?);
    }
    Ok(())
}

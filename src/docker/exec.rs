//! Running commands in nodes (`docker exec`), optionally feeding them input.

use super::{CommandError, CommandTimeout, DockerError, Engine};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How long the check whether a node is paused may take once a command ran out of time.
const PAUSED_CHECK_BOUND: Duration = Duration::from_secs(10);

/// What a command run in a node produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error.
    pub stderr: Vec<u8>,
    /// Both, interleaved as produced.
    pub combined: Vec<u8>,
    /// Its exit status.
    pub exit_code: i64,
}

impl ExecOutput {
    /// Standard output as (lossy) UTF-8.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

impl Engine {
    /// Runs `argv` in `node` and returns its output; a non-zero exit is not an error here.
    pub async fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Bytes>,
    ) -> Result<ExecOutput, DockerError> {
        match stdin {
            Some(bytes) => {
                let input =
                    futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
                self.exec_streaming(node, argv, Some(input)).await
            }
            None => {
                self.exec_streaming(
                    node,
                    argv,
                    None::<futures_util::stream::Empty<Result<Bytes, std::io::Error>>>,
                )
                .await
            }
        }
    }

    /// Runs `argv` in `node`; a non-zero exit becomes a [`CommandError`] carrying the output.
    pub async fn exec_ok(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Bytes>,
    ) -> Result<ExecOutput, DockerError> {
        let out = self.exec(node, argv, stdin).await?;
        check_exit(node, argv, out)
    }

    /// Runs `argv` in `node`, streaming `input` to its stdin (then closing it), and fails on a
    /// non-zero exit. The input is never buffered whole.
    pub async fn exec_ok_streaming<S>(
        &self,
        node: &str,
        argv: &[String],
        input: S,
    ) -> Result<ExecOutput, DockerError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let out = self.exec_streaming(node, argv, Some(input)).await?;
        check_exit(node, argv, out)
    }

    /// Every command run in a node goes through here: it is bounded by
    /// [`Bounds::node_command`](super::Bounds::node_command). Past the bound the exec's
    /// connection is dropped and a [`CommandTimeout`] returned. The process itself keeps running
    /// in the node (the engine has no call to stop an exec): callers that give up on the node
    /// remove it, which ends it.
    async fn exec_streaming<S>(
        &self,
        node: &str,
        argv: &[String],
        input: Option<S>,
    ) -> Result<ExecOutput, DockerError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let run = self.exec_unbounded(node, argv, input);
        let Some(bound) = self.bounds.node_command else {
            return run.await;
        };
        match tokio::time::timeout(bound, run).await {
            Ok(result) => result,
            Err(_) => Err(CommandTimeout {
                node: node.to_string(),
                command: CommandTimeout::command_name(argv),
                bound,
                paused: self.is_paused(node).await,
            }
            .into()),
        }
    }

    /// Whether `node` is paused (a frozen command never ends); false when that cannot be told.
    async fn is_paused(&self, node: &str) -> bool {
        let inspect = tokio::time::timeout(
            PAUSED_CHECK_BOUND,
            self.client().inspect_container(node, None),
        );
        matches!(inspect.await, Ok(Ok(c)) if c.state.as_ref().and_then(|s| s.paused) == Some(true))
    }

    async fn exec_unbounded<S>(
        &self,
        node: &str,
        argv: &[String],
        input: Option<S>,
    ) -> Result<ExecOutput, DockerError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let op = || {
            format!(
                "run {:?} in node \"{node}\"",
                argv.first().map(String::as_str).unwrap_or("")
            )
        };
        let options = CreateExecOptions::<String> {
            attach_stdin: Some(input.is_some()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(argv.to_vec()),
            ..Default::default()
        };
        let created = self
            .client()
            .create_exec(node, options)
            .await
            .map_err(|e| DockerError::api(op(), e))?;
        let started = self
            .client()
            .start_exec(&created.id, None)
            .await
            .map_err(|e| DockerError::api(op(), e))?;
        let StartExecResults::Attached {
            mut output,
            input: mut writer,
        } = started
        else {
            return Err(DockerError::Api {
                operation: op(),
                status: None,
                message: "exec did not attach".into(),
            });
        };
        let mut feeder = input.map(|stream| {
            tokio::spawn(async move {
                let mut stream = std::pin::pin!(stream);
                while let Some(chunk) = stream.next().await {
                    writer.write_all(&chunk?).await?;
                }
                // Closing our write side is what makes the command see end-of-input.
                writer.shutdown().await
            })
        });
        // A bound that cuts this future short must not leave the feeder writing.
        let _stop_feeder = feeder.as_ref().map(|task| AbortOnDrop(task.abort_handle()));
        let input_failed = |message: String| DockerError::Api {
            operation: op(),
            status: None,
            message,
        };
        let mut out = ExecOutput::default();
        let mut fed: Option<std::io::Result<()>> = None;
        loop {
            let item = match feeder.as_mut().filter(|_| fed.is_none()) {
                Some(task) => tokio::select! {
                    item = output.next() => item,
                    joined = task => {
                        let result = joined.unwrap_or_else(|e| Err(std::io::Error::other(e)));
                        // The input broke: stop here rather than leave the command waiting
                        // for an end-of-input that will never come (dropping the connection
                        // ends it).
                        if let Err(e) = &result {
                            return Err(input_failed(format!("sending input failed: {e}")));
                        }
                        fed = Some(result);
                        continue;
                    }
                },
                None => output.next().await,
            };
            let Some(item) = item else { break };
            match item.map_err(|e| DockerError::api(op(), e))? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    out.stdout.extend_from_slice(&message);
                    out.combined.extend_from_slice(&message);
                }
                LogOutput::StdErr { message } => {
                    out.stderr.extend_from_slice(&message);
                    out.combined.extend_from_slice(&message);
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        let inspect = self
            .client()
            .inspect_exec(&created.id)
            .await
            .map_err(|e| DockerError::api(op(), e))?;
        out.exit_code = inspect.exit_code.unwrap_or(-1);
        // The command is over; input still being written can only fail now.
        if let Some(task) = feeder.take().filter(|t| !t.is_finished() && fed.is_none()) {
            task.abort();
        }
        if let Some(Err(e)) = fed.filter(|_| out.exit_code == 0) {
            // A command that fails early stops reading; only then is a write error expected.
            return Err(input_failed(format!("sending input failed: {e}")));
        }
        Ok(out)
    }
}

/// Aborts a spawned task when dropped (finished tasks are unaffected).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn check_exit(node: &str, argv: &[String], out: ExecOutput) -> Result<ExecOutput, DockerError> {
    if out.exit_code == 0 {
        Ok(out)
    } else {
        Err(CommandError {
            node: node.to_string(),
            argv: argv.to_vec(),
            exit_code: out.exit_code,
            output: out.combined,
        }
        .into())
    }
}

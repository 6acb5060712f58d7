//! Errors of the Docker adapter: every variant says which operation on which object failed.

/// A failed call to the Docker engine.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// The engine could not be reached at all.
    #[error(
        "cannot connect to the Docker engine at {address}: {reason}; make sure the Docker daemon is running (set DOCKER_HOST to use another engine)"
    )]
    Connect {
        /// The address that was tried (`unix:///var/run/docker.sock`, `tcp://…`).
        address: String,
        /// What the transport said.
        reason: String,
    },
    /// An API call was answered with an error, or its transport broke.
    #[error("failed to {operation}: {message}")]
    Api {
        /// What was attempted, naming the object (`create container "kind-worker"`).
        operation: String,
        /// HTTP status from the engine, when it answered.
        status: Option<u16>,
        /// The engine's message.
        message: String,
    },
    /// A command run in a node exited non-zero.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A command run in a node did not finish within the bound on node commands.
    #[error(transparent)]
    CommandTimeout(#[from] CommandTimeout),
    /// A Docker call did not answer within its bound; kindling stopped waiting for it.
    #[error(
        "failed to {operation}: the Docker engine did not finish within {} (it may still finish on its own; set {variable} to wait longer, 0 for no bound)",
        crate::util::format_go_duration(*bound)
    )]
    Timeout {
        /// What was attempted, naming the object (`remove container "kind-worker"`).
        operation: String,
        /// How long kindling waited.
        bound: std::time::Duration,
        /// The variable that sets the bound.
        variable: &'static str,
    },
    /// An environment variable that configures the adapter has an invalid value.
    #[error("invalid {variable}={value:?}: {reason}")]
    Setting {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
}

impl DockerError {
    /// True when the engine answered 404 (no such container/image/network).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            DockerError::Api {
                status: Some(404),
                ..
            }
        )
    }

    /// True when the engine answered 409 (name in use, removal in progress, …).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            DockerError::Api {
                status: Some(409),
                ..
            }
        )
    }

    /// The failed in-node command behind this error, if that is what it is.
    pub fn command(&self) -> Option<&CommandError> {
        match self {
            DockerError::Command(c) => Some(c),
            _ => None,
        }
    }

    /// The engine's message, for matching known failure texts.
    pub fn message(&self) -> String {
        match self {
            DockerError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// Wraps a bollard error with the operation that failed.
    pub(crate) fn api(operation: impl Into<String>, err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as B;
        let (status, message) = match err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => (Some(status_code), message),
            B::DockerStreamError { error } => (None, error),
            other => (None, other.to_string()),
        };
        DockerError::Api {
            operation: operation.into(),
            status,
            message: message.trim().to_string(),
        }
    }
}

/// A command run in a node that did not finish within the bound on node commands. Only the
/// program and its subcommand are named: later arguments may carry secrets (join tokens).
#[derive(Debug)]
pub struct CommandTimeout {
    /// Node (container) the command ran in.
    pub node: String,
    /// The program and its subcommand (`kubeadm init`), never further arguments.
    pub command: String,
    /// The bound that was reached.
    pub bound: std::time::Duration,
    /// The node was found paused when the bound was reached.
    pub paused: bool,
}

impl std::fmt::Display for CommandTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let CommandTimeout {
            node,
            command,
            bound,
            paused,
        } = self;
        write!(
            f,
            "command \"{command}\" in node \"{node}\" did not finish within {}, the bound on each command kindling runs in a node",
            crate::util::format_go_duration(*bound)
        )?;
        if *paused {
            write!(f, " (the node is paused: docker unpause {node})")?;
        }
        write!(
            f,
            "; to allow longer, set {}, e.g. to 20m (0: no bound)",
            super::NODE_COMMAND_TIMEOUT_VAR
        )
    }
}

impl std::error::Error for CommandTimeout {}

impl CommandTimeout {
    /// The name shown for `argv`: the program and, when the next word is a plain subcommand
    /// (lowercase letters and `-`), that word; nothing after an option or a value.
    pub fn command_name(argv: &[String]) -> String {
        let mut words = argv.iter();
        let Some(program) = words.next() else {
            return String::new();
        };
        let mut name = program.clone();
        if let Some(sub) = words.next().filter(|w| {
            !w.is_empty()
                && !w.starts_with('-')
                && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        }) {
            name.push(' ');
            name.push_str(sub);
        }
        name
    }
}

/// A command run in a node that exited with a non-zero status.
#[derive(Debug, thiserror::Error)]
#[error(
    "command \"{}\" failed in node \"{node}\" with exit code {exit_code}",
    crate::util::shell_join(argv)
)]
pub struct CommandError {
    /// Node (container) the command ran in.
    pub node: String,
    /// The command and its arguments.
    pub argv: Vec<String>,
    /// Its exit status.
    pub exit_code: i64,
    /// Its combined stdout and stderr, as produced.
    pub output: Vec<u8>,
}

impl CommandError {
    /// The last `lines` lines of the command's output, for error messages.
    pub fn output_tail(&self, lines: usize) -> String {
        let text = String::from_utf8_lossy(&self.output);
        let all: Vec<&str> = text.lines().collect();
        let start = all.len().saturating_sub(lines);
        let mut tail = all[start..].join("\n");
        if start > 0 {
            tail = format!("[… {start} earlier lines omitted]\n{tail}");
        }
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn command_name_is_the_program_and_a_plain_subcommand_only() {
        for (words, name) in [
            (
                &["kubeadm", "init", "--config=/kind/kubeadm.conf"][..],
                "kubeadm init",
            ),
            (
                &["kubeadm", "join", "--token", "abcdef.0123456789abcdef"][..],
                "kubeadm join",
            ),
            // an option first: its value may follow as the next word
            (
                &[
                    "kubectl",
                    "--kubeconfig=/etc/kubernetes/admin.conf",
                    "apply",
                ][..],
                "kubectl",
            ),
            (&["sh", "-c", "echo secret"][..], "sh"),
            // a positional that is not a plain word (a token, an address) is never shown
            (&["kubeadm", "abcdef.0123456789abcdef"][..], "kubeadm"),
            (&["tool", "s3cret"][..], "tool"),
            (&["cat", "/kind/version"][..], "cat"),
            (&["true"][..], "true"),
            (&[][..], ""),
        ] {
            assert_eq!(
                CommandTimeout::command_name(&argv(words)),
                name,
                "{words:?}"
            );
        }
    }

    #[test]
    fn command_timeout_names_node_command_bound_and_variable() {
        let err = DockerError::from(CommandTimeout {
            node: "kind-control-plane".into(),
            command: CommandTimeout::command_name(&argv(&[
                "kubeadm",
                "join",
                "--token",
                "abcdef.0123456789abcdef",
            ])),
            bound: Duration::from_secs(600),
            paused: false,
        });
        let text = err.to_string();
        assert_eq!(
            text,
            "command \"kubeadm join\" in node \"kind-control-plane\" did not finish within 10m0s, the bound on each command kindling runs in a node; to allow longer, set KINDLING_NODE_COMMAND_TIMEOUT, e.g. to 20m (0: no bound)"
        );
        assert!(!text.contains("abcdef"), "{text}");
        let paused = CommandTimeout {
            node: "kind-worker".into(),
            command: "kubeadm join".into(),
            bound: Duration::from_secs(3),
            paused: true,
        }
        .to_string();
        assert!(
            paused.contains("within 3s, the bound on each command kindling runs in a node (the node is paused: docker unpause kind-worker);"),
            "{paused}"
        );
    }

    #[test]
    fn timeout_names_the_operation_bound_and_variable() {
        let err = DockerError::Timeout {
            operation: "remove container \"kind-worker\"".into(),
            bound: Duration::from_secs(60),
            variable: crate::docker::CLEANUP_TIMEOUT_VAR,
        };
        assert_eq!(
            err.to_string(),
            "failed to remove container \"kind-worker\": the Docker engine did not finish within 1m0s (it may still finish on its own; set KINDLING_CLEANUP_TIMEOUT to wait longer, 0 for no bound)"
        );
        assert!(!err.is_not_found() && !err.is_conflict());
    }
}

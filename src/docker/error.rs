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

//! Command-line interface: argument parsing (clap), output rendering and exit codes.

use std::process::ExitCode;

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}

//! Command-line interface: argument parsing (clap), output rendering and exit codes.
//! The only module that touches clap, indicatif and stdout.

mod create;
mod delete;
mod export;
mod get;
mod load;
pub mod output;
mod registry;

use crate::docker::{CommandError, Engine};
use crate::report::Reporter as _;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use output::{Output, OutputMode};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code for any error (as kind).
pub const EXIT_ERROR: u8 = 1;
/// Exit code when a create was interrupted by SIGINT (128 + 2).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code when a create was interrupted by SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;
/// Exit code when a create was interrupted by SIGHUP (128 + 1), e.g. its terminal closed.
pub const EXIT_SIGHUP: u8 = 129;
/// Exit code when a create was interrupted by SIGQUIT (128 + 3), e.g. Ctrl-\.
pub const EXIT_SIGQUIT: u8 = 131;

/// kindling creates and manages local Kubernetes clusters using Docker container 'nodes'.
/// It is a drop-in replacement for kind.
#[derive(Debug, Parser)]
#[command(
    name = "kindling",
    disable_help_subcommand = true,
    disable_version_flag = true
)]
struct Cli {
    /// print kind's version line for the release kindling matches (`kind version 0.33.0`)
    #[arg(short = 'V', long = "version")]
    version: bool,
    /// info log verbosity, higher value produces more output
    #[arg(
        short = 'v',
        long = "verbosity",
        global = true,
        default_value_t = 0,
        value_name = "int32"
    )]
    verbosity: i32,
    /// silence all stderr output except errors
    #[arg(short = 'q', long = "quiet", global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates one of [cluster]
    #[command(disable_help_subcommand = true)]
    Create {
        #[command(subcommand)]
        what: Option<create::CreateCommand>,
    },
    /// Deletes one of [cluster, clusters]
    #[command(disable_help_subcommand = true)]
    Delete {
        #[command(subcommand)]
        what: Option<delete::DeleteCommand>,
    },
    /// Gets one of [clusters, nodes, kubeconfig]
    #[command(disable_help_subcommand = true)]
    Get {
        #[command(subcommand)]
        what: Option<get::GetCommand>,
    },
    /// Exports one of [kubeconfig, logs]
    #[command(disable_help_subcommand = true)]
    Export {
        #[command(subcommand)]
        what: Option<export::ExportCommand>,
    },
    /// Loads images into nodes
    #[command(disable_help_subcommand = true)]
    Load {
        #[command(subcommand)]
        what: Option<load::LoadCommand>,
    },
    /// (kindling) Manages local registries and pull-through caches [create, delete, list]
    #[command(disable_help_subcommand = true)]
    Registry {
        #[command(subcommand)]
        what: Option<registry::RegistryCommand>,
    },
    /// Prints the kind CLI version kindling matches, and kindling's own
    Version {
        /// (kindling) print kindling's own version instead of kind's
        #[arg(long)]
        kindling: bool,
    },
    /// Help about any command
    Help {
        /// the command to show help for, e.g. `get nodes`
        command: Vec<String>,
    },
    /// Output shell completion code for the specified shell (bash, zsh, fish or powershell)
    Completion {
        /// The shell to generate completions for
        shell: Option<CompletionShell>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// `--output` formats for commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Human-readable text (kind's output).
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The `--name` flag shared by most commands; `KIND_CLUSTER_NAME` applies when it is absent.
#[derive(Debug, Clone, Args)]
pub struct NameArg {
    /// the cluster context name
    #[arg(short = 'n', long = "name", value_name = "string")]
    name: Option<String>,
}

impl NameArg {
    /// `--name`, else `KIND_CLUSTER_NAME` (when non-empty), else `kind`; a name longer than any
    /// cluster can have is refused before it is used (kind's character rule is left to create,
    /// as in kind).
    pub fn resolve(&self) -> anyhow::Result<String> {
        let name = resolve_name(self.name.as_deref(), None);
        check_name_length(&name)?;
        Ok(name)
    }
}

/// Refuses a name over [`crate::config::MAX_CLUSTER_NAME_LEN`], quoting only its start.
pub fn check_name_length(name: &str) -> anyhow::Result<()> {
    if name.len() > crate::config::MAX_CLUSTER_NAME_LEN {
        crate::config::check_cluster_name(name).map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// kind's precedence: `--name` > `KIND_CLUSTER_NAME` > `config_name` > `kind`.
pub fn resolve_name(flag: Option<&str>, config_name: Option<&str>) -> String {
    let env = std::env::var("KIND_CLUSTER_NAME")
        .ok()
        .filter(|v| !v.is_empty());
    flag.map(str::to_string)
        .or(env)
        .or(config_name.filter(|n| !n.is_empty()).map(str::to_string))
        .unwrap_or_else(|| crate::config::DEFAULT_CLUSTER_NAME.to_string())
}

/// What a command run ended in, beyond success and error.
#[derive(Debug, thiserror::Error)]
pub enum Interrupted {
    /// SIGINT (Ctrl-C) stopped the command.
    #[error("interrupted by SIGINT")]
    Sigint,
    /// SIGTERM stopped the command.
    #[error("terminated by SIGTERM")]
    Sigterm,
    /// SIGHUP stopped the command (its terminal went away).
    #[error("stopped by SIGHUP")]
    Sighup,
    /// SIGQUIT stopped the command (Ctrl-\).
    #[error("stopped by SIGQUIT")]
    Sigquit,
}

impl Interrupted {
    /// The interruption for a signal number (SIGINT for anything unknown).
    pub fn from_signal(number: u8) -> Interrupted {
        match number {
            1 => Interrupted::Sighup,
            3 => Interrupted::Sigquit,
            15 => Interrupted::Sigterm,
            _ => Interrupted::Sigint,
        }
    }

    /// The signal's name, `SIGINT`, `SIGTERM`, `SIGHUP` or `SIGQUIT`.
    pub fn name(&self) -> &'static str {
        match self {
            Interrupted::Sigint => "SIGINT",
            Interrupted::Sigterm => "SIGTERM",
            Interrupted::Sighup => "SIGHUP",
            Interrupted::Sigquit => "SIGQUIT",
        }
    }

    /// The exit code for it: 128 + the signal number, as shells report a signal's death.
    pub fn exit_code(&self) -> u8 {
        match self {
            Interrupted::Sigint => EXIT_SIGINT,
            Interrupted::Sigterm => EXIT_SIGTERM,
            Interrupted::Sighup => EXIT_SIGHUP,
            Interrupted::Sigquit => EXIT_SIGQUIT,
        }
    }
}

/// The kind release whose behaviour (and version output) kindling matches.
pub const KIND_VERSION: &str = "0.33.0";

/// kind's `version` line, `kind v0.33.0 kindling-vX.Y.Z linux/amd64`: kind puts its Go version
/// third; kindling puts its own version there, as one word so tools splitting on spaces see
/// the same four fields.
pub fn version_line() -> String {
    format!(
        "kind v{KIND_VERSION} kindling-v{} {}",
        env!("CARGO_PKG_VERSION"),
        platform()
    )
}

/// `GOOS/GOARCH` for this build, as kind prints them.
fn platform() -> String {
    format!(
        "{}/{}",
        go_os(std::env::consts::OS),
        go_arch(std::env::consts::ARCH)
    )
}

/// The `KIND_EXPERIMENTAL_PROVIDER` values kind knows besides `docker`.
const OTHER_PROVIDERS: [&str; 4] = ["podman", "nerdctl", "finch", "nerdctl.lima"];

/// kind's handling of `KIND_EXPERIMENTAL_PROVIDER` for commands that use a provider: `docker`
/// is announced, an unknown value ignored with kind's message; a provider kindling does not
/// have is an error naming it (kind would use it).
fn check_provider(value: Option<&str>, out: &Output) -> anyhow::Result<()> {
    match value {
        None | Some("") => Ok(()),
        // kind's messages are its logger's Warn lines, which carry no prefix.
        Some("docker") => {
            out.info("using docker due to KIND_EXPERIMENTAL_PROVIDER");
            Ok(())
        }
        Some(p) if OTHER_PROVIDERS.contains(&p) => anyhow::bail!(
            "KIND_EXPERIMENTAL_PROVIDER={p} asks for the {p} provider, which kindling does not \
             support yet (only docker); unset KIND_EXPERIMENTAL_PROVIDER or set it to docker"
        ),
        Some(p) => {
            out.info(&format!(
                "ignoring unknown value {} for KIND_EXPERIMENTAL_PROVIDER",
                go_quote(p)
            ));
            Ok(())
        }
    }
}

/// Go's `%q` for the printable text kind quotes.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The name the binary was invoked as (`kind` when installed under kind's name).
fn invoked_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "kindling".to_string())
}

/// Shared state every command gets.
pub struct Ctx {
    /// The stderr reporter.
    pub out: Arc<Output>,
}

impl Ctx {
    /// Connects to the engine named by `DOCKER_HOST` (or the default socket).
    pub async fn engine(&self) -> anyhow::Result<Engine> {
        Ok(Engine::connect().await?)
    }
}

/// Writes data to stdout. A closed pipe (e.g. `| head`) is not an error: the reader has what
/// it wanted. Any other failure (`> /dev/full`, a vanished disk) is, since the data is lost.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(anyhow::Error::new(err).context("failed to write to stdout")),
    }
}

/// Writes text to stderr; a closed stderr is not an error (nothing could report it).
fn print_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    // Like every other line on stderr: no token or private key gets through.
    let _ = err.write_all(crate::report::redact(text).as_bytes());
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // kind pre-scans -q before parsing so even argument errors obey it.
    let quiet = args.iter().skip(1).any(|a| a == "-q" || a == "--quiet");
    let smart = output::stderr_is_smart_terminal();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return clap_error(err, quiet, smart),
    };
    let out = Arc::new(Output::new(OutputMode {
        quiet: cli.quiet,
        verbosity: cli.verbosity,
        smart,
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&format!("failed to start the async runtime: {e}"));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let ctx = Ctx { out: out.clone() };
    if cli.version {
        // cobra's version template, which tools read as `kind --version | cut -d' ' -f3`.
        return match print_stdout(&format!("kind version {KIND_VERSION}\n")) {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(err) => report_error(&out, &err),
        };
    }
    let result = runtime.block_on(run(cli.command, &ctx));
    // Background work (progress tickers, dropped tasks) must not delay exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) => report_error(&out, &err),
    }
}

fn report_error(out: &Output, err: &anyhow::Error) -> ExitCode {
    if let Some(interrupted) = err.downcast_ref::<Interrupted>() {
        out.error(&format!("{err:#}"));
        return ExitCode::from(interrupted.exit_code());
    }
    out.error(&format!("{err:#}"));
    let failed_command = err.chain().find_map(|e| {
        e.downcast_ref::<CommandError>().or_else(|| {
            e.downcast_ref::<crate::docker::DockerError>()
                .and_then(|d| d.command())
        })
    });
    if let Some(cmd) = failed_command {
        out.command_output(&cmd.output_tail(40));
    }
    if out.mode().verbosity >= 1 {
        let chain: Vec<String> = err.chain().map(|e| format!("  {e}")).collect();
        print_stderr(&format!("Error chain:\n{}\n", chain.join("\n")));
    }
    ExitCode::from(EXIT_ERROR)
}

fn clap_error(err: clap::Error, quiet: bool, smart: bool) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            return match print_stdout(&err.render().to_string()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) => {
                    let out = Output::new(OutputMode {
                        quiet,
                        verbosity: 0,
                        smart,
                    });
                    out.error(&format!("{e:#}"));
                    ExitCode::from(EXIT_ERROR)
                }
            };
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            if !quiet {
                print_stderr(&err.render().to_string());
            }
            let out = Output::new(OutputMode {
                quiet,
                verbosity: 0,
                smart,
            });
            out.error("Subcommand is required");
            return ExitCode::from(EXIT_ERROR);
        }
        _ => {}
    }
    let rendered = err.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    // clap quotes the offending argument, which may be huge.
    let message = crate::input::clip_to(first.strip_prefix("error: ").unwrap_or(first), 300);
    let out = Output::new(OutputMode {
        quiet,
        verbosity: 0,
        smart,
    });
    out.error(&format!("{message} (see 'kindling --help')"));
    ExitCode::from(EXIT_ERROR)
}

/// Prints a group command's help on stderr and fails like kind does.
fn subcommand_required(path: &[&str]) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    // Building fills in "kindling get"-style usage names for subcommands.
    cmd.build();
    for p in path {
        match cmd.find_subcommand(p) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    print_stderr(&cmd.render_help().to_string());
    anyhow::bail!("Subcommand is required")
}

async fn run(command: Option<Command>, ctx: &Ctx) -> anyhow::Result<()> {
    if command.as_ref().is_some_and(uses_provider) {
        check_provider(
            std::env::var("KIND_EXPERIMENTAL_PROVIDER").ok().as_deref(),
            &ctx.out,
        )?;
    }
    match command {
        None => print_stdout(&Cli::command().render_help().to_string()),
        Some(Command::Version { kindling }) => {
            let own = env!("CARGO_PKG_VERSION");
            let line = match (kindling, ctx.out.mode().quiet) {
                (false, false) => version_line(),
                (false, true) => KIND_VERSION.to_string(),
                (true, false) => format!("kindling v{own} {}", platform()),
                (true, true) => own.to_string(),
            };
            print_stdout(&format!("{line}\n"))
        }
        Some(Command::Help { command }) => print_stdout(&help_text(&command)),
        Some(Command::Completion { shell }) => {
            let Some(shell) = shell else {
                return subcommand_required(&["completion"]);
            };
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
                CompletionShell::Powershell => clap_complete::Shell::PowerShell,
            };
            let mut buf = Vec::new();
            // Registered for the name this binary runs as, e.g. `kind` when installed as kind.
            clap_complete::generate(shell, &mut Cli::command(), invoked_name(), &mut buf);
            print_stdout(&String::from_utf8_lossy(&buf))
        }
        Some(Command::Create { what }) => match what {
            Some(cmd) => create::run(cmd, ctx).await,
            None => subcommand_required(&["create"]),
        },
        Some(Command::Delete { what }) => match what {
            Some(cmd) => delete::run(cmd, ctx).await,
            None => subcommand_required(&["delete"]),
        },
        Some(Command::Get { what }) => match what {
            Some(cmd) => get::run(cmd, ctx).await,
            None => subcommand_required(&["get"]),
        },
        Some(Command::Export { what }) => match what {
            Some(cmd) => export::run(cmd, ctx).await,
            None => subcommand_required(&["export"]),
        },
        Some(Command::Load { what }) => match what {
            Some(cmd) => load::run(cmd, ctx).await,
            None => subcommand_required(&["load"]),
        },
        Some(Command::Registry { what }) => match what {
            Some(cmd) => registry::run(cmd, ctx).await,
            None => subcommand_required(&["registry"]),
        },
    }
}

/// Whether a command makes a node provider in kind (every command that touches clusters).
fn uses_provider(command: &Command) -> bool {
    match command {
        Command::Create { what } => what.is_some(),
        Command::Delete { what } => what.is_some(),
        Command::Get { what } => what.is_some(),
        Command::Export { what } => what.is_some(),
        Command::Load { what } => what.is_some(),
        Command::Registry { what } => what.is_some(),
        Command::Version { .. } | Command::Help { .. } | Command::Completion { .. } => false,
    }
}

/// cobra's `help [command]`: what `<command> --help` prints; an unknown first word prints
/// `Unknown help topic` and the top-level help. Words after the deepest match are ignored.
fn help_text(topic: &[String]) -> String {
    let root = Cli::command();
    let mut path = Vec::new();
    let mut cmd = &root;
    for (i, word) in topic.iter().enumerate() {
        match cmd.find_subcommand(word) {
            Some(sub) => {
                path.push(word.as_str());
                cmd = sub;
            }
            None if i == 0 => {
                let words: Vec<String> = topic.iter().map(|w| format!("`{w}`")).collect();
                return format!(
                    "Unknown help topic [{}]\n{}",
                    words.join(" "),
                    flag_help(&[])
                );
            }
            None => break,
        }
    }
    flag_help(&path)
}

/// Exactly what `kindling <path> --help` prints.
fn flag_help(path: &[&str]) -> String {
    let argv = std::iter::once("kindling")
        .chain(path.iter().copied())
        .chain(std::iter::once("--help"));
    match Cli::command().try_get_matches_from(argv) {
        Err(e) => e.render().to_string(),
        // Not reached: --help always ends parsing with the help "error".
        Ok(_) => String::new(),
    }
}

/// Go's names for operating systems (`GOOS`), as kind prints them.
fn go_os(rust_os: &str) -> &str {
    match rust_os {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's names for CPU architectures (`GOARCH`), as kind prints them.
fn go_arch(rust_arch: &str) -> &str {
    let little = cfg!(target_endian = "little");
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "loongarch64" => "loong64",
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if little => "mips64le",
        "mips" if little => "mipsle",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn go_arch_names() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("s390x"), "s390x");
        assert_eq!(go_os("macos"), "darwin");
        assert_eq!(go_os("linux"), "linux");
    }

    #[test]
    fn interruptions_name_their_signal_and_exit_with_128_plus_its_number() {
        for (number, name) in [
            (1, "SIGHUP"),
            (2, "SIGINT"),
            (3, "SIGQUIT"),
            (15, "SIGTERM"),
        ] {
            let interrupted = Interrupted::from_signal(number);
            assert_eq!(interrupted.name(), name);
            assert_eq!(interrupted.exit_code(), 128 + number);
            assert!(interrupted.to_string().ends_with(name), "{interrupted}");
        }
    }

    #[test]
    fn version_line_has_kinds_four_fields() {
        let line = version_line();
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!(fields[0], "kind");
        assert_eq!(fields[1], format!("v{KIND_VERSION}"));
        assert_eq!(
            fields[2],
            format!("kindling-v{}", env!("CARGO_PKG_VERSION"))
        );
        assert!(fields[3].contains('/'), "{line}");
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("podmn"), "\"podmn\"");
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}

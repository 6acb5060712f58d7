//! The `kindling` binary: everything lives in the library; see `kindling::cli`.

fn main() -> std::process::ExitCode {
    kindling::cli::main()
}

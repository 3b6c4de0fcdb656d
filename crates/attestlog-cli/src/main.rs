//! `attestlog`: the command-line face of the attestlog crates.

fn main() -> std::process::ExitCode {
    attestlog_cli::attestlog_main()
}

//! `attestlog-verify`: `attestlog verify-bundle` as a binary of its own,
//! which links nothing but verification and so starts faster.

fn main() -> std::process::ExitCode {
    attestlog_cli::verify_main()
}

//! `attestlog`: the command-line face of the attestlog crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod failure;

pub(crate) use failure::Failure;

/// Transparency-logged software attestations.
#[derive(Debug, Parser)]
#[command(name = "attestlog", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// RFC 6962 Merkle trees: compute roots, build and verify proofs.
    #[command(subcommand)]
    Merkle(cmd::merkle::MerkleCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Merkle(c) => cmd::merkle::run(c),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("attestlog: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

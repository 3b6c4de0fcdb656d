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
    /// Sign an in-toto statement, store it, and publish it when a log is configured.
    Attest(cmd::attest::AttestArgs),
    /// Publish the stored attestations still pending (a log was down when
    /// they were made), oldest first; exit 0 when none is left pending.
    PublishPending(cmd::attest::PublishPendingArgs),
    /// Re-verify stored attestations against the key set and the log; exit 0
    /// only when every check passed.
    Audit(cmd::attest::AuditArgs),
    /// RFC 6962 Merkle trees: compute roots, build and verify proofs.
    #[command(subcommand)]
    Merkle(cmd::merkle::MerkleCommand),
    /// Generate a signing key (PKCS#8 PEM) and print its public key and key id.
    Keygen(cmd::keys::KeygenArgs),
    /// DSSE envelopes: sign and verify.
    #[command(subcommand)]
    Dsse(cmd::dsse::DsseCommand),
    /// Key-set documents (JWKS with validity windows).
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// A Rekor v1 log: signed tree head, entries, consistency — all verified.
    #[command(subcommand)]
    Rekor(cmd::rekor::RekorCommand),
    /// A Rekor v2 log: publish with a timestamp, checkpoint, entries and
    /// monitoring from verified tiles, signing-config selection.
    #[command(subcommand, name = "rekor-v2")]
    RekorV2(cmd::rekor2::Rekor2Command),
    /// The embedded Rekor v1-compatible transparency log.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Sigstore bundles: verify offline, export stored attestations.
    #[command(subcommand)]
    Bundle(cmd::rekor::BundleCommand),
    /// Verify one Sigstore bundle for an artifact and a signer, offline
    /// (sigstore-conformance's client protocol); exit 0 only when verified.
    VerifyBundle(cmd::verify::VerifyBundleArgs),
    /// Signed checkpoints (C2SP signed notes): verify.
    #[command(subcommand)]
    Checkpoint(cmd::rekor::CheckpointCommand),
    /// The attestation store (SQLite file or PostgreSQL URL).
    #[command(subcommand)]
    Store(cmd::store::StoreCommand),
    /// Sigstore's trust material from its TUF repository: update the cache,
    /// show what is in force.
    #[command(subcommand)]
    Trust(cmd::trust::TrustCommand),
    /// The auditor portal: audit pages per tenant and subject behind
    /// tokens, and the public key-set document.
    #[command(subcommand)]
    Portal(cmd::portal::PortalCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Merkle(c) => cmd::merkle::run(c),
        Command::Attest(a) => cmd::attest::attest(a),
        Command::PublishPending(a) => cmd::attest::publish_pending(a),
        Command::Audit(a) => cmd::attest::audit(a),
        Command::Keygen(a) => cmd::keys::keygen(a),
        Command::Dsse(c) => cmd::dsse::run(c),
        Command::Keys(c) => cmd::keys::run(c),
        Command::Store(c) => cmd::store::run(c),
        Command::Bundle(c) => cmd::rekor::bundle(c),
        Command::Rekor(c) => cmd::rekor::rekor(c),
        Command::RekorV2(c) => cmd::rekor2::run(c),
        Command::Log(c) => cmd::log::run(c),
        Command::Checkpoint(c) => cmd::rekor::checkpoint(c),
        Command::VerifyBundle(a) => cmd::verify::verify_bundle_cmd(&a),
        Command::Portal(c) => cmd::portal::run(c),
        Command::Trust(c) => cmd::trust::run(c),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("attestlog: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}

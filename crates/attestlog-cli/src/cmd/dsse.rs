//! `attestlog dsse …`: sign and verify envelopes.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_dsse::{Envelope, KeySet, Timestamp, TrustedKey, Verifier};
use clap::Subcommand;

use crate::Failure;
use crate::cmd::keys::load_public_key;
use crate::cmd::{print_json, read_input};
use crate::failure::EXIT_FAILED;

/// `attestlog dsse` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DsseCommand {
    /// Sign a payload (a file, or `-` for stdin) and print the envelope JSON.
    Sign {
        /// The signing key (PEM, as `attest --key`: PKCS#8, SEC1 or encrypted
        /// PKCS#8).
        #[arg(long)]
        key: PathBuf,
        /// The payload type, e.g. `application/vnd.in-toto+json`.
        #[arg(long)]
        payload_type: String,
        /// keyid hint to write next to the signature.
        #[arg(long)]
        keyid: Option<String>,
        /// The payload file, `-` for stdin.
        #[arg(default_value = "-")]
        payload: PathBuf,
    },
    /// Verify an envelope and print a JSON report.
    Verify {
        /// Trusted keys: a key-set JSON document or a public-key PEM
        /// (repeatable).
        #[arg(long = "key", alias = "keys", required = true)]
        keys: Vec<PathBuf>,
        /// The payload type the envelope must have.
        #[arg(long)]
        payload_type: String,
        /// How many distinct trusted keys must have signed.
        #[arg(long, default_value_t = 1)]
        threshold: usize,
        /// The (authenticated) signing time that selects valid keys
        /// (RFC 3339); default: now.
        #[arg(long)]
        at: Option<Timestamp>,
        /// The envelope JSON file, `-` for stdin.
        #[arg(default_value = "-")]
        envelope: PathBuf,
    },
}

pub(crate) fn run(cmd: DsseCommand) -> Result<ExitCode, Failure> {
    match cmd {
        DsseCommand::Sign {
            key,
            payload_type,
            keyid,
            payload,
        } => {
            let mut signer = crate::cmd::keys::load_signing_key(&key)?;
            if let Some(id) = keyid {
                signer = signer.with_keyid(id);
            }
            let payload = read_input(&payload)?;
            let env = Envelope::sign(payload_type, payload, &[&signer]).map_err(|e| {
                Failure::input(format_args!(
                    "signing failed: {e}",
                    e = attest_dsse::ErrorChain(&e)
                ))
            })?;
            crate::cmd::print_text(&format!("{}\n", env.to_json()))?;
            Ok(ExitCode::SUCCESS)
        }
        DsseCommand::Verify {
            keys,
            payload_type,
            threshold,
            at,
            envelope,
        } => {
            let trusted = load_trusted(&keys)?;
            let verifier = Verifier::new(trusted, threshold).map_err(Failure::error)?;
            let bytes = read_input(&envelope)?;
            let env = Envelope::from_json(&bytes).map_err(|e| Failure::in_file(&envelope, &e))?;
            let at = at.unwrap_or_else(Timestamp::now);
            match verifier.verify(&env, &payload_type, at) {
                Ok(v) => print_json(&serde_json::json!({
                    "verified": true,
                    "payloadType": v.payload_type(),
                    "keyids": v.key_ids(),
                    "rejectedSignatures": env.rejected_signatures().len(),
                })),
                Err(e) => {
                    print_json(&serde_json::json!({
                        "verified": false,
                        "error": e.kind(),
                        "detail": attest_dsse::ErrorChain(&e).to_string(),
                    }))?;
                    Ok(ExitCode::from(EXIT_FAILED))
                }
            }
        }
    }
}

/// Keys from key-set documents (by their JSON) and PEM files.
fn load_trusted(paths: &[PathBuf]) -> Result<Vec<TrustedKey>, Failure> {
    let mut out: Vec<TrustedKey> = Vec::new();
    for path in paths {
        let bytes = read_input(path)?;
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            let set = KeySet::from_json(&bytes).map_err(|e| Failure::in_file(path, &e))?;
            out.extend(set.keys);
        } else {
            out.push(TrustedKey::always(load_public_key(path)?));
        }
    }
    Ok(out)
}

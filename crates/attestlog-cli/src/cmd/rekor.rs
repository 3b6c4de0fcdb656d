//! `attestlog bundle`, `checkpoint` and `rekor`: offline verification of
//! bundles and checkpoints, and a verifying Rekor v1 client.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::Timestamp;
use attest_rekor::{NoteVerifier, SignedNote, TrustedLog, TrustedRoot};
use clap::{Args, Subcommand};

use crate::Failure;
use crate::cmd::keys::load_public_key;
use crate::cmd::{DbArg, LogTrust, print_json, read_input};
use crate::failure::EXIT_FAILED;

/// `attestlog bundle` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum BundleCommand {
    /// The old spelling of `verify-bundle` (hidden): `bundle verify
    /// --artifact A BUNDLE...` is `verify-bundle --bundle BUNDLE... A`.
    #[command(hide = true)]
    Verify {
        #[command(flatten)]
        trust: Box<LogTrust>,
        #[command(flatten)]
        signer: Box<crate::cmd::verify::SignerArgs>,
        /// The artifact the bundles are about: a file, or `sha256:` + 64 hex.
        #[arg(long, value_name = "FILE_OR_DIGEST")]
        artifact: String,
        /// Bundle files.
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
    },
    /// Print a stored, published attestation as a Sigstore bundle v0.3.
    Export {
        #[command(flatten)]
        db: DbArg,
        /// Carry the signer's key in a self-signed certificate made with
        /// this private key (PKCS#8 PEM, the attestation's signing key)
        /// instead of a key hint: for clients that only read certificate
        /// bundles, such as sigstore-python 4.x.
        #[arg(long)]
        self_signed: Option<PathBuf>,
        /// The attestation id (64 hex).
        id: String,
    },
}

/// `attestlog checkpoint` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum CheckpointCommand {
    /// Verify a signed checkpoint (C2SP signed note).
    Verify(CheckpointArgs),
}

/// Arguments of `checkpoint verify`.
#[derive(Debug, Args)]
pub(crate) struct CheckpointArgs {
    /// The log's key (--log-key, Rekor v1 or C2SP key ids), or the logs of
    /// a trusted root (any of them may have signed); one is needed.
    #[command(flatten)]
    trust: LogTrust,
    /// The signed note, `-` for stdin.
    #[arg(default_value = "-")]
    file: PathBuf,
}

fn load_logs(path: &Path) -> Result<Vec<TrustedLog>, Failure> {
    attest_rekor::TrustDocument::from_json(&read_input(path)?)
        .and_then(attest_rekor::TrustDocument::into_trusted_root)
        .map(TrustedRoot::into_logs)
        .map_err(|e| Failure::in_file(path, &e))
}

pub(crate) fn bundle(cmd: BundleCommand) -> Result<ExitCode, Failure> {
    match cmd {
        BundleCommand::Verify {
            trust,
            signer,
            artifact,
            bundles,
        } => {
            eprintln!(
                "attestlog: note: `bundle verify` is now `verify-bundle --bundle BUNDLE... ARTIFACT` (the same checks and flags)"
            );
            crate::cmd::verify::verify_bundles(&trust, &signer, None, &artifact, &bundles)
        }
        BundleCommand::Export {
            db,
            id,
            self_signed,
        } => crate::cmd::attest::export(&db.db, &id, self_signed.as_deref()),
    }
}

pub(crate) fn checkpoint(cmd: CheckpointCommand) -> Result<ExitCode, Failure> {
    let CheckpointCommand::Verify(args) = cmd;
    let text = String::from_utf8(read_input(&args.file)?)
        .map_err(|_| Failure::input(format_args!("{}: not UTF-8", args.file.display())))?;
    let note = SignedNote::parse(&text).map_err(|e| Failure::in_file(&args.file, &e))?;
    let cp = note
        .checkpoint()
        .map_err(|e| Failure::in_file(&args.file, &e))?;
    let verifiers: Vec<NoteVerifier> = match (&args.trust.log_key, &args.trust.trusted_root) {
        (Some(key), _) => {
            let key = load_public_key(key)?;
            // The key name only matters for C2SP Ed25519 key ids, which are
            // computed from it: the pinned name, else the origin's host.
            let name = args
                .trust
                .log_name
                .clone()
                .unwrap_or_else(|| cp.origin().split(' ').next().unwrap_or("").to_owned());
            vec![
                NoteVerifier::rekor_v1(name.clone(), key.clone()),
                NoteVerifier::c2sp(name, key),
            ]
        }
        (None, Some(root)) => load_logs(root)?
            .iter()
            .map(TrustedLog::note_verifier)
            .collect(),
        // Any log of the TUF repository's trusted root may have signed.
        (None, None) => args
            .trust
            .tuf
            .trusted_root()?
            .logs()
            .iter()
            .map(TrustedLog::note_verifier)
            .collect(),
    };
    let extensions: Vec<&str> = cp.extensions().collect();
    if let Some(want) = args
        .trust
        .log_name
        .as_deref()
        .filter(|n| !attest_rekor::origin_names(cp.origin(), n))
    {
        let detail = attest_rekor::Reason::UnexpectedOrigin {
            found: cp.origin().to_owned(),
            expected: want.to_owned(),
        };
        print_json(&serde_json::json!({
            "verified": false, "error": "unexpected-origin", "detail": detail.to_string(),
        }))?;
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    match note.verify(&verifiers) {
        Ok(names) => print_json(&serde_json::json!({
            "verified": true,
            "origin": cp.origin(),
            "size": cp.size(),
            "root": cp.root().to_string(),
            "extensions": extensions,
            "verifiedBy": names,
            "signatureLines": note.signatures().len(),
        })),
        Err(e) => {
            print_json(
                &serde_json::json!({ "verified": false, "error": e.kind(), "detail": attest_dsse::ErrorChain(&e).to_string() }),
            )?;
            Ok(ExitCode::from(EXIT_FAILED))
        }
    }
}

/// `attestlog rekor` subcommands: talk to a Rekor v1 log, verifying everything.
#[derive(Debug, Subcommand)]
pub(crate) enum RekorCommand {
    /// The log's current signed tree head, verified.
    Info {
        /// The log's base URL.
        #[arg(
            long = "rekor-url",
            alias = "url",
            env = "REKOR_URL",
            value_name = "URL"
        )]
        url: String,
        #[command(flatten)]
        trust: LogTrust,
    },
    /// Fetch an entry by id or global index and verify the log's evidence for it.
    Get {
        /// The log's base URL.
        #[arg(
            long = "rekor-url",
            alias = "url",
            env = "REKOR_URL",
            value_name = "URL"
        )]
        url: String,
        #[command(flatten)]
        trust: LogTrust,
        /// Global log index.
        #[arg(long, conflicts_with = "id")]
        index: Option<u64>,
        /// Entry id (64 or 80 hex).
        #[arg(required_unless_present = "index")]
        id: Option<String>,
    },
    /// Publish a DSSE envelope as a `dsse` entry; prints the entry once its
    /// SET, checkpoint, inclusion proof and body verified (an entry the log
    /// already had is fetched, verified and marked `alreadyExisted`).
    Publish {
        /// The log's base URL.
        #[arg(
            long = "rekor-url",
            alias = "url",
            env = "REKOR_URL",
            value_name = "URL"
        )]
        url: String,
        #[command(flatten)]
        trust: LogTrust,
        /// The signer's key (PEM: public key, certificate, or the PKCS#8
        /// private key, of which only the public half is used); the log
        /// verifies the envelope's signatures with it.
        #[arg(long)]
        key: PathBuf,
        /// The envelope (JSON), `-` for stdin.
        #[arg(default_value = "-")]
        envelope: PathBuf,
    },
    /// Prove that the log's current tree extends a checkpoint you kept.
    Consistency {
        /// The log's base URL.
        #[arg(
            long = "rekor-url",
            alias = "url",
            env = "REKOR_URL",
            value_name = "URL"
        )]
        url: String,
        #[command(flatten)]
        trust: LogTrust,
        /// A signed checkpoint from earlier.
        #[arg(long)]
        from: PathBuf,
    },
}

fn trusted_logs(url: &str, trust: &LogTrust) -> Result<Vec<TrustedLog>, Failure> {
    trust.logs(url)?.ok_or_else(|| {
        Failure::input(format_args!(
            "the TUF repository's trusted root lists no log at {url}: give --log-key or --trusted-root (or REKOR_PUBLIC_KEY / REKOR_TRUSTED_ROOT)"
        ))
    })
}

fn client(
    url: &str,
    logs: Vec<TrustedLog>,
) -> rekor_client::RekorClient<rekor_client::UreqTransport> {
    rekor_client::RekorClient::new(url, rekor_client::UreqTransport::new(), logs)
}

fn client_failure(e: &rekor_client::ClientError) -> Result<ExitCode, Failure> {
    print_json(&serde_json::json!({
        "verified": false,
        "error": attest_dsse::ErrorChain(&e).to_string(),
        "retryable": e.is_retryable(),
    }))?;
    Ok(ExitCode::from(EXIT_FAILED))
}

pub(crate) fn rekor(cmd: RekorCommand) -> Result<ExitCode, Failure> {
    match cmd {
        RekorCommand::Info { url, trust } => {
            let c = client(&url, trusted_logs(&url, &trust)?);
            match c.log_info() {
                Ok((info, cp)) => print_json(&serde_json::json!({
                    "verified": true,
                    "origin": cp.origin,
                    "treeSize": cp.size,
                    "rootHash": cp.root.to_string(),
                    "treeID": info.tree_id,
                    "inactiveShards": info.inactive_shards.len(),
                    "signedTreeHead": cp.note,
                })),
                Err(e) => client_failure(&e),
            }
        }
        RekorCommand::Get {
            url,
            trust,
            index,
            id,
        } => {
            let logs = trusted_logs(&url, &trust)?;
            let c = client(&url, logs.clone());
            let fetched = match (index, id) {
                (Some(i), _) => c.get_entry_by_index(i),
                (None, Some(id)) => {
                    let id = attest_rekor::EntryId::parse(&id).map_err(Failure::error)?;
                    c.get_entry(&id)
                }
                (None, None) => return Err(Failure::input("give an entry id or --index")),
            };
            let entry = match fetched {
                Ok(e) => e,
                Err(e) => return client_failure(&e),
            };
            // The log's evidence only: who signed the logged content is
            // not known here, so this is not a verification of a signer.
            let result = attest_rekor::Verifier::new(attest_rekor::TrustedRoot::from_logs(logs))
                .verify_log_evidence(&entry, Timestamp::now());
            let (ok, checks, time) = match &result {
                Ok(v) => (
                    true,
                    &v.report.checks,
                    v.time.as_ref().map(|t| t.at.to_string()),
                ),
                Err(e) => (false, &e.report.checks, None),
            };
            print_json(&serde_json::json!({
                "verified": ok,
                "what": "log evidence (log key, SET, checkpoint, inclusion); not the signer",
                "entryId": entry.id.to_string(),
                "logIndex": entry.log_index,
                "shardIndex": entry.inclusion_proof.as_ref().map(|p| p.log_index),
                "integratedTime": entry.integrated_time,
                "verifiedTime": time,
                "logID": entry.log_id,
                "checks": checks,
            }))?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED)
            })
        }
        RekorCommand::Publish {
            url,
            trust,
            key,
            envelope,
        } => {
            let signer = load_public_key(&key)?;
            let env = attest_dsse::Envelope::from_json(&read_input(&envelope)?)
                .map_err(|e| Failure::in_file(&envelope, &e))?;
            let c = client(&url, trusted_logs(&url, &trust)?);
            match c.publish_dsse(&env, &signer) {
                Ok(p) => print_json(&serde_json::json!({
                    "verified": true,
                    "alreadyExisted": p.already_existed,
                    "entryId": p.entry.id.to_string(),
                    "logIndex": p.entry.log_index,
                    "integratedTime": p.entry.integrated_time,
                    "logID": p.entry.log_id,
                    "checks": p.verified.report.checks,
                    "entry": serde_json::value::RawValue::from_string(p.entry.to_json()).map_err(std::io::Error::from)?,
                })),
                Err(e) => client_failure(&e),
            }
        }
        RekorCommand::Consistency { url, trust, from } => {
            let logs = trusted_logs(&url, &trust)?;
            let c = client(&url, logs.clone());
            let text = String::from_utf8(read_input(&from)?)
                .map_err(|_| Failure::input(format_args!("{}: not UTF-8", from.display())))?;
            let old = logs
                .iter()
                .find_map(|l| attest_rekor::verify::hazmat::verify_checkpoint(&text, l).ok())
                .ok_or_else(|| {
                    Failure::input(format_args!(
                        "{}: not a checkpoint signed by a trusted log key",
                        from.display()
                    ))
                })?;
            let (_, new) = match c.log_info() {
                Ok(v) => v,
                Err(e) => return client_failure(&e),
            };
            match c.prove_consistency(&old, &new) {
                Ok(()) => print_json(&serde_json::json!({
                    "verified": true,
                    "from": { "treeSize": old.size, "rootHash": old.root.to_string() },
                    "to": { "treeSize": new.size, "rootHash": new.root.to_string() },
                    "signedTreeHead": new.note,
                })),
                Err(e) => client_failure(&e),
            }
        }
    }
}

//! `attestlog rekor-v2`: a verifying Rekor v2 client from the shell —
//! publish a signed artifact (with an RFC 3161 timestamp) and get a
//! Sigstore bundle, read the checkpoint, fetch a proven entry from tiles,
//! monitor the log from a kept checkpoint, and pick logs from a signing
//! config.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::{SigningKey, Timestamp};
use attest_rekor::bundle::{Bundle, VerificationMaterial};
use attest_rekor::signing::SigningConfig;
use attest_rekor::v2::V2Request;
use attest_rekor::verify::VerifiedCheckpoint;
use attest_rekor::{authorities_from_trusted_root, logs_from_trusted_root};
use base64ct::{Base64, Encoding};
use clap::{Args, Subcommand};
use rekor_client::UreqTransport;
use rekor_client::tsa::TsaClient;
use rekor_client::v2::RekorV2Client;
use sha2::{Digest, Sha256};

use crate::Failure;
use crate::cmd::{print_json, read_input};
use crate::failure::EXIT_FAILED;

/// Where the log is and what is trusted.
#[derive(Debug, Args)]
pub(crate) struct V2Log {
    /// The log's base URL (writes; and reads unless --read-url).
    #[arg(long, env = "REKOR_URL")]
    url: String,
    /// Where tiles and the checkpoint are read (a CDN or static server).
    #[arg(long)]
    read_url: Option<String>,
    /// A Sigstore `trusted_root.json` with the log's key (and the TSA's).
    #[arg(long, env = "REKOR_TRUSTED_ROOT", value_name = "FILE")]
    trusted_root: PathBuf,
    /// Keep verified tiles here (each re-verified before use).
    #[arg(long, value_name = "DIR")]
    tile_cache: Option<PathBuf>,
}

impl V2Log {
    fn client(&self) -> Result<(RekorV2Client<UreqTransport>, Vec<u8>), Failure> {
        let root = read_input(&self.trusted_root)?;
        let logs = logs_from_trusted_root(&root)
            .map_err(|e| Failure::input(format_args!("{}: {e}", self.trusted_root.display())))?;
        let mut c = RekorV2Client::new(&self.url, UreqTransport::new(), logs);
        if let Some(r) = &self.read_url {
            c = c.with_read_url(r);
        }
        if let Some(d) = &self.tile_cache {
            c = c.with_tile_cache(d);
        }
        Ok((c, root))
    }
}

/// `attestlog rekor-v2` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Rekor2Command {
    /// Sign an artifact with an ECDSA key, log the signature
    /// (hashedrekord 0.0.2), timestamp it at a TSA, verify both answers,
    /// and print a Sigstore bundle v0.3 for `verify-bundle`.
    Publish {
        #[command(flatten)]
        log: V2Log,
        /// The signer's private key (PKCS#8 PEM, ECDSA).
        #[arg(long)]
        key: PathBuf,
        /// The RFC 3161 TSA endpoint (e.g. `<log serve URL>/api/v1/timestamp`).
        #[arg(long)]
        tsa_url: String,
        /// The artifact.
        artifact: PathBuf,
    },
    /// The log's checkpoint, verified.
    Checkpoint {
        #[command(flatten)]
        log: V2Log,
    },
    /// Leaf INDEX of the log's current tree, from its entry bundle, proven
    /// included from verified tiles.
    Entry {
        #[command(flatten)]
        log: V2Log,
        /// The log index.
        index: u64,
    },
    /// Prove that the log's current tree extends the checkpoint kept in
    /// STATE (from tiles), then keep the new one there. Exit 1 when the
    /// log forked or shrank (STATE unchanged).
    Monitor {
        #[command(flatten)]
        log: V2Log,
        /// The kept checkpoint (a file this monitor owns).
        #[arg(long)]
        state: PathBuf,
        /// Start from the current checkpoint when STATE does not exist
        /// (otherwise a missing STATE is an error).
        #[arg(long)]
        trust_current: bool,
    },
    /// The logs and TSAs a signing config (`signing_config.v0.2.json`)
    /// selects now, for clients speaking Rekor API 1 and 2.
    Select {
        /// The signing config.
        config: PathBuf,
    },
}

pub(crate) fn run(cmd: Rekor2Command) -> Result<ExitCode, Failure> {
    match cmd {
        Rekor2Command::Publish {
            log,
            key,
            tsa_url,
            artifact,
        } => publish(&log, &key, &tsa_url, &artifact),
        Rekor2Command::Checkpoint { log } => {
            let (c, _) = log.client()?;
            let cp = c.checkpoint().map_err(failed)?;
            print_json(&checkpoint_json(&cp))
        }
        Rekor2Command::Entry { log, index } => {
            let (c, _) = log.client()?;
            let cp = c.checkpoint().map_err(failed)?;
            let body = c.entry(index, &cp).map_err(failed)?;
            c.prove_inclusion(&body, index, &cp).map_err(failed)?;
            let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
            print_json(&serde_json::json!({
                "logIndex": index,
                "treeSize": cp.size,
                "canonicalizedBody": Base64::encode_string(&body),
                "body": parsed,
                "included": true,
            }))
        }
        Rekor2Command::Monitor {
            log,
            state,
            trust_current,
        } => monitor(&log, &state, trust_current),
        Rekor2Command::Select { config } => {
            let cfg = SigningConfig::from_json(&read_input(&config)?)
                .map_err(|e| Failure::input(format_args!("{}: {e}", config.display())))?;
            let now = Timestamp::now();
            let logs = cfg
                .select_logs(now, &[1, 2])
                .map_err(|e| Failure::input(format_args!("{e}")))?;
            let tsas = cfg.select_tsas(now).unwrap_or_default();
            let svc = |s: &&attest_rekor::signing::Service| serde_json::json!({ "url": s.url, "majorApiVersion": s.major_api_version, "operator": s.operator });
            print_json(&serde_json::json!({
                "rekorTlogs": logs.iter().map(svc).collect::<Vec<_>>(),
                "tsas": tsas.iter().map(svc).collect::<Vec<_>>(),
            }))
        }
    }
}

fn failed(e: rekor_client::ClientError) -> Failure {
    Failure {
        code: EXIT_FAILED,
        message: e.to_string(),
    }
}

fn checkpoint_json(cp: &VerifiedCheckpoint) -> serde_json::Value {
    serde_json::json!({
        "origin": cp.origin,
        "treeSize": cp.size,
        "rootHash": cp.root.base64().to_string(),
        "checkpoint": cp.note,
    })
}

fn publish(log: &V2Log, key: &Path, tsa_url: &str, artifact: &Path) -> Result<ExitCode, Failure> {
    let (client, root) = log.client()?;
    let pem = String::from_utf8(read_input(key)?)
        .map_err(|_| Failure::input(format_args!("{}: not PEM", key.display())))?;
    let signer = SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| Failure::input(format_args!("{}: {e}", key.display())))?;
    let data = read_input(artifact)?;
    let digest: [u8; 32] = Sha256::digest(&data).into();
    let signature = signer.sign(&data);
    let request = V2Request::message(digest, signature.clone(), signer.public_key())
        .map_err(|e| Failure::input(format_args!("{e}")))?;
    let published = client.publish(&request).map_err(failed)?;
    let authorities = authorities_from_trusted_root(&root)
        .map_err(|e| Failure::input(format_args!("{}: {e}", log.trusted_root.display())))?;
    let stamp = TsaClient::new(
        tsa_url,
        UreqTransport::new(),
        authorities.timestamp_authorities,
    )
    .timestamp(&signature)
    .map_err(failed)?;
    let material = VerificationMaterial::with_key_hint(
        signer.public_key().key_id(),
        vec![published.entry.clone()],
    )
    .with_rfc3161_timestamps(std::slice::from_ref(&stamp.response));
    let bundle = Bundle::v03_message(material, &digest, &signature);
    crate::cmd::print_text(&format!("{}\n", bundle.to_json()))?;
    Ok(ExitCode::SUCCESS)
}

fn monitor(log: &V2Log, state: &Path, trust_current: bool) -> Result<ExitCode, Failure> {
    let (c, _) = log.client()?;
    let latest = c.checkpoint().map_err(failed)?;
    let kept = match std::fs::read_to_string(state) {
        Ok(note) => Some(c.verify_checkpoint(&note).map_err(|e| {
            Failure::input(format_args!(
                "{}: the kept checkpoint does not verify: {e}",
                state.display()
            ))
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && trust_current => None,
        Err(e) => {
            return Err(Failure::input(format_args!(
                "{}: {e} (start a monitor with --trust-current)",
                state.display()
            )));
        }
    };
    if let Some(k) = &kept {
        c.prove_consistency(k, &latest).map_err(failed)?;
    }
    // The new checkpoint replaces the old one atomically.
    let tmp = state.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(latest.note.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, state)
    };
    write().map_err(|e| Failure::input(format_args!("{}: {e}", state.display())))?;
    print_json(&serde_json::json!({
        "from": kept.as_ref().map(|k| k.size),
        "to": latest.size,
        "consistent": kept.is_some(),
        "started": kept.is_none(),
        "kept": state,
    }))
}

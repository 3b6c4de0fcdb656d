//! `attestlog rekor-v2`: a verifying Rekor v2 client from the shell —
//! publish a signed artifact (with an RFC 3161 timestamp) and get a
//! Sigstore bundle, read the checkpoint, fetch a proven entry from tiles,
//! monitor the log from a kept checkpoint, and pick logs from a signing
//! config.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::{Envelope, SigningKey, Timestamp};
use attest_issue::TestFulcio;
use attest_rekor::TrustedRoot;
use attest_rekor::bundle::{Bundle, VerificationMaterial};
use attest_rekor::v2::V2Request;
use attest_rekor::verify::VerifiedCheckpoint;
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
    /// The log's base URL (writes; and reads unless --rekor-read-url).
    #[arg(
        long = "rekor-url",
        alias = "url",
        env = "REKOR_URL",
        value_name = "URL"
    )]
    url: String,
    /// Where tiles and the checkpoint are read (a CDN or static server).
    #[arg(long = "rekor-read-url", alias = "read-url", value_name = "URL")]
    read_url: Option<String>,
    /// A Sigstore `trusted_root.json` with the log's key (and the TSA's);
    /// default: the TUF repository's, for the logs it lists at --rekor-url.
    #[arg(long, env = "REKOR_TRUSTED_ROOT", value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// With no --trusted-root: Sigstore's TUF repository.
    #[command(flatten)]
    tuf: crate::cmd::trust::TufArgs,
    /// Keep verified tiles here (each re-verified before use).
    #[arg(long, value_name = "DIR")]
    tile_cache: Option<PathBuf>,
}

impl V2Log {
    /// The client, and the trusted root (parsed once) its logs come from.
    fn client(&self) -> Result<(RekorV2Client<UreqTransport>, TrustedRoot), Failure> {
        let (root, logs) = match &self.trusted_root {
            Some(p) => {
                let root = crate::cmd::verify::root_file(p)?;
                let logs = root.logs().to_vec();
                (root, logs)
            }
            None => {
                // A root delivered for many logs vouches for the one at
                // --rekor-url only.
                let root = self.tuf.trusted_root()?;
                let logs = root.logs_at(&self.url);
                if logs.is_empty() {
                    return Err(Failure::input(format_args!(
                        "the TUF repository's trusted root lists no log at {}: give --trusted-root",
                        self.url
                    )));
                }
                (root, logs)
            }
        };
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
        /// The signer's private key (PEM, as `attest --key`; ECDSA P-256).
        #[arg(long)]
        key: PathBuf,
        /// The RFC 3161 TSA endpoint (e.g. `<log serve URL>/api/v1/timestamp`).
        #[arg(long, env = "REKOR_TSA_URL", value_name = "URL")]
        tsa_url: String,
        /// The signer's certificate (PEM or DER; its key must be --key's):
        /// logged as the entry's verifier and carried by the bundle instead
        /// of a key hint (keyless-style bundles, e.g. from `rekor-v2 test-ca`).
        #[arg(long, value_name = "CERT")]
        certificate: Option<PathBuf>,
        /// Sign the file as the payload of a DSSE envelope of this payload
        /// type (e.g. `application/vnd.in-toto+json` for an in-toto
        /// statement), logged as `hashedrekord` 0.0.2 over its PAE, instead
        /// of signing the file itself.
        #[arg(long, value_name = "PAYLOAD_TYPE")]
        dsse: Option<String>,
        /// The artifact.
        artifact: PathBuf,
    },
    /// An offline Fulcio stand-in for tests: issue a Sigstore-profile
    /// code-signing certificate with an embedded SCT for --key's public key,
    /// naming --identity and --oidc-issuer, valid for ten minutes. The CA
    /// (root and CT log keys) is created in DIR on first use. Writes
    /// DIR/leaf.pem and DIR/trusted_root.json (--trusted-root plus this CA
    /// and its CT log) and prints both paths. It authenticates nobody:
    /// trust its root only in tests.
    TestCa {
        /// Where the CA's keys and root live.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The key to certify (PKCS#8 PEM; its public key is certified).
        #[arg(long)]
        key: PathBuf,
        /// The identity: an email address or a URI.
        #[arg(long)]
        identity: String,
        /// The OIDC issuer the certificate names.
        #[arg(long)]
        oidc_issuer: String,
        /// The trusted root to extend (e.g. `log serve --rekor-api 2`'s).
        #[arg(long, env = "REKOR_TRUSTED_ROOT", value_name = "FILE")]
        trusted_root: PathBuf,
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
        #[arg(long = "trust-current-tree", alias = "trust-current")]
        trust_current: bool,
        /// Witness cosignatures the current checkpoint must carry (exit 1
        /// without them; STATE unchanged).
        #[command(flatten)]
        witnesses: crate::cmd::verify::WitnessArgs,
    },
    /// The logs and TSAs a signing config (`signing_config.v0.2.json`)
    /// selects now, for clients speaking Rekor API 1 and 2.
    Select {
        /// The signing config (`signing_config.v0.2.json`, or a client
        /// trust configuration holding one); default: the current one from
        /// Sigstore's TUF repository.
        config: Option<PathBuf>,
        /// Where the signing config comes from when no file is given.
        #[command(flatten)]
        tuf: Box<crate::cmd::trust::TufArgs>,
    },
}

pub(crate) fn run(cmd: Rekor2Command) -> Result<ExitCode, Failure> {
    match cmd {
        Rekor2Command::Publish {
            log,
            key,
            tsa_url,
            certificate,
            dsse,
            artifact,
        } => publish(
            &log,
            &key,
            &tsa_url,
            certificate.as_deref(),
            dsse.as_deref(),
            &artifact,
        ),
        Rekor2Command::TestCa {
            dir,
            key,
            identity,
            oidc_issuer,
            trusted_root,
        } => test_ca(&dir, &key, &identity, &oidc_issuer, &trusted_root),
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
            witnesses,
        } => monitor(&log, &state, trust_current, witnesses.policy()?.as_ref()),
        Rekor2Command::Select { config, tuf } => {
            // A signing config, or a client trust configuration holding one.
            let cfg = match config {
                Some(config) => attest_rekor::TrustDocument::from_json(&read_input(&config)?)
                    .and_then(attest_rekor::TrustDocument::into_signing_config)
                    .map_err(|e| Failure::in_file(&config, &e))?,
                None => tuf.signing_config()?,
            };
            let now = Timestamp::now();
            let logs = cfg.select_logs(now, &[1, 2]).map_err(|e| {
                Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e)))
            })?;
            let svc = |s: &&attest_rekor::signing::Service| serde_json::json!({ "url": s.url, "majorApiVersion": s.major_api_version, "operator": s.operator });
            // The logs are required; no usable TSA is reported, not hidden
            // as an empty list.
            let tsas = match cfg.select_tsas(now) {
                Ok(tsas) => serde_json::json!(tsas.iter().map(svc).collect::<Vec<_>>()),
                Err(e) => serde_json::json!({ "error": attest_dsse::ErrorChain(&e).to_string() }),
            };
            print_json(&serde_json::json!({
                "rekorTlogs": logs.iter().map(svc).collect::<Vec<_>>(),
                "tsas": tsas,
            }))
        }
    }
}

/// `note` carries `policy`'s cosignatures now, or exit 1 saying why.
pub(crate) fn witnessed(
    policy: &attest_rekor::witness::WitnessPolicy,
    note: &str,
) -> Result<Vec<attest_rekor::witness::Cosignature>, Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure {
        code: EXIT_FAILED,
        message: format!("the log's current checkpoint is not witnessed: {e}"),
    };
    let parsed = attest_rekor::SignedNote::parse(note).map_err(|e| fail(&e))?;
    policy
        .verify(&parsed, Timestamp::now().unix())
        .map_err(|e| fail(&e))
}

fn failed(e: rekor_client::ClientError) -> Failure {
    Failure {
        code: EXIT_FAILED,
        message: attest_dsse::ErrorChain(&e).to_string(),
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

fn signing_key(key: &Path) -> Result<SigningKey, Failure> {
    crate::cmd::keys::load_signing_key(key)
}

/// A certificate file (PEM or DER) as DER.
fn certificate_der(path: &Path) -> Result<Vec<u8>, Failure> {
    attest_rekor::x509::certificate_der(&read_input(path)?).map_err(|e| {
        Failure::input(format_args!(
            "{}: not a certificate: {e}",
            path.display(),
            e = attest_dsse::ErrorChain(&e)
        ))
    })
}

fn publish(
    log: &V2Log,
    key: &Path,
    tsa_url: &str,
    certificate: Option<&Path>,
    dsse: Option<&str>,
    artifact: &Path,
) -> Result<ExitCode, Failure> {
    let (client, root) = log.client()?;
    let signer = signing_key(key)?;
    let certificate = match certificate {
        None => None,
        Some(path) => {
            let der = certificate_der(path)?;
            let certified = attest_rekor::x509::certificate_public_key(&der)
                .map_err(|e| Failure::in_file(path, &e))?;
            if certified != *signer.public_key() {
                return Err(Failure::input(format_args!(
                    "{}: the certificate is not for --key {}",
                    path.display(),
                    key.display()
                )));
            }
            Some(der)
        }
    };
    let data = read_input(artifact)?;
    let digest: [u8; 32] = Sha256::digest(&data).into();
    let envelope = match dsse {
        Some(payload_type) => Some(
            Envelope::sign(payload_type, data.clone(), &[&signer]).map_err(|e| {
                Failure::input(format_args!(
                    "signing the envelope: {e}",
                    e = attest_dsse::ErrorChain(&e)
                ))
            })?,
        ),
        None => None,
    };
    // What the timestamp is over: the message's or the envelope's signature.
    let signature = match &envelope {
        Some(env) => env
            .signatures()
            .first()
            .map(|s| s.sig.clone())
            .ok_or_else(|| Failure::input("the envelope has no signature"))?,
        None => signer.sign(&data),
    };
    let mut request = match &envelope {
        Some(env) => V2Request::dsse(env, signer.public_key()),
        None => V2Request::message(digest, signature.clone(), signer.public_key()),
    }
    .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?;
    if let Some(der) = &certificate {
        request = request.with_certificate(der.clone());
    }
    let published = client.publish(&request).map_err(failed)?;
    let authorities = root.into_authorities();
    let stamp = TsaClient::new(
        tsa_url,
        UreqTransport::new(),
        authorities.timestamp_authorities,
    )
    .timestamp(&signature)
    .map_err(failed)?;
    let entries = vec![published.entry.clone()];
    let material = match &certificate {
        Some(der) => VerificationMaterial::with_certificate(der, entries),
        None => VerificationMaterial::with_key_hint(signer.public_key().key_id(), entries),
    }
    .with_rfc3161_timestamps(std::slice::from_ref(&stamp.response));
    let bundle = match &envelope {
        Some(env) => Bundle::v03_dsse(material, env.to_json().as_bytes())
            .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?,
        None => Bundle::v03_message(material, &digest, &signature),
    };
    crate::cmd::print_text(&format!("{}\n", bundle.to_json()))?;
    Ok(ExitCode::SUCCESS)
}

fn monitor(
    log: &V2Log,
    state: &Path,
    trust_current: bool,
    witnesses: Option<&attest_rekor::witness::WitnessPolicy>,
) -> Result<ExitCode, Failure> {
    let (c, _) = log.client()?;
    let latest = c.checkpoint().map_err(failed)?;
    if let Some(policy) = witnesses {
        witnessed(policy, &latest.note)?;
    }
    let kept = match std::fs::read_to_string(state) {
        Ok(note) => Some(c.verify_checkpoint(&note).map_err(|e| {
            Failure::input(format_args!(
                "{}: the kept checkpoint does not verify: {e}",
                state.display(),
                e = attest_dsse::ErrorChain(&e)
            ))
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && trust_current => None,
        Err(e) => {
            return Err(Failure::input(format_args!(
                "{}: {e} (start a monitor with --trust-current-tree)",
                state.display(),
                e = attest_dsse::ErrorChain(&e)
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
    write().map_err(|e| Failure::in_file(state, &e))?;
    print_json(&serde_json::json!({
        "from": kept.as_ref().map(|k| k.size),
        "to": latest.size,
        "consistent": kept.is_some(),
        "started": kept.is_none(),
        "kept": state,
    }))
}

/// The test CA in `dir`: loaded, or created (keys written first, then the
/// root, each replaced atomically).
fn load_or_create_test_ca(dir: &Path) -> Result<TestFulcio, Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::input(format_args!("{}: {e}", dir.display()));
    let (root_key, ct_key, root) = (
        dir.join("root-key.pem"),
        dir.join("ct-key.pem"),
        dir.join("root.pem"),
    );
    if root.exists() {
        let root_der = certificate_der(&root)?;
        return TestFulcio::new(signing_key(&root_key)?, root_der, signing_key(&ct_key)?)
            .map_err(|e| fail(&e));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let now = Timestamp::now();
    let ca = TestFulcio::generate(
        "attestlog test Fulcio",
        Timestamp::from_unix(now.unix() - 3600),
    )
    .map_err(|e| fail(&e))?;
    for (path, key) in [(&root_key, ca.root_key()), (&ct_key, ca.ct_key())] {
        let pem = key.to_pkcs8_pem().map_err(|e| fail(&e))?;
        write_atomically(path, pem.as_bytes()).map_err(|e| fail(&e))?;
    }
    let pem = attest_rekor::x509::certificate_to_pem(ca.root_der());
    write_atomically(&root, pem.as_bytes()).map_err(|e| fail(&e))?;
    Ok(ca)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn test_ca(
    dir: &Path,
    key: &Path,
    identity: &str,
    oidc_issuer: &str,
    trusted_root: &Path,
) -> Result<ExitCode, Failure> {
    let signer = signing_key(key)?;
    let root = crate::cmd::verify::root_file(trusted_root)?;
    let ca = load_or_create_test_ca(dir)?;
    let now = Timestamp::now().unix();
    let leaf = ca
        .issue(
            signer.public_key(),
            identity,
            oidc_issuer,
            Timestamp::from_unix(now - 60),
            Timestamp::from_unix(now + 600),
        )
        .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?;
    let (authority, ct_log) = ca
        .trusted_root_entries("https://fulcio.attestlog.test", "https://ct.attestlog.test")
        .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?;
    let root = root
        .with_certificate_authority(authority)
        .with_ct_log(ct_log);
    let leaf_path = dir.join("leaf.pem");
    let root_path = dir.join("trusted_root.json");
    let pem = attest_rekor::x509::certificate_to_pem(&leaf);
    let fail = |e: std::io::Error| Failure::in_file(dir, &e);
    write_atomically(&leaf_path, pem.as_bytes()).map_err(fail)?;
    write_atomically(&root_path, &root.to_json_vec()).map_err(fail)?;
    print_json(&serde_json::json!({
        "certificate": leaf_path,
        "trustedRoot": root_path,
        "identity": identity,
        "oidcIssuer": oidc_issuer,
    }))
}

//! `attestlog log serve | check | repair`: the embedded Rekor v1-compatible
//! log over HTTP, and its operators' tools.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_tlog::{DEFAULT_NAME, LocalLog, LogOptions};
use clap::Subcommand;

use crate::Failure;
use crate::cmd::print_json;

/// `attestlog log` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// Serve an embedded Rekor log from a directory (created on first
    /// start). Prints one JSON line with the bound address, then serves until
    /// killed; every acknowledged entry is on disk.
    ///
    /// `--rekor-api 2` serves a Rekor v2 tile log: `POST /api/v2/log/entries`
    /// (hashedrekord 0.0.2, answered once the batch's checkpoint is durable)
    /// and the static C2SP tlog-tiles reads (`/checkpoint`, `/tile/…`),
    /// which are plain files under DIR/tiles that any static server can
    /// serve (the keys are kept outside it, in DIR);
    /// an RFC 3161 timestamp authority on the same port
    /// (`/api/v1/timestamp`, key and chain in DIR/tsa); and it writes
    /// DIR/trusted_root.json (the log and the TSA at the address it listens
    /// on) for any Sigstore client.
    Serve {
        /// The log's directory.
        #[arg(long)]
        dir: PathBuf,
        /// The Rekor API: 1 (REST, SETs) or 2 (tiles, C2SP checkpoints).
        #[arg(
            long = "rekor-api",
            alias = "api",
            env = "REKOR_API",
            value_name = "1|2",
            default_value = "1",
            value_parser = ["1", "2", "v1", "v2"]
        )]
        api: String,
        /// Address to listen on (`127.0.0.1:0` picks a free port).
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
        /// The log's own signing key, PKCS#8 PEM (default: DIR/log-key.pem).
        /// A missing file is created with a new key: ECDSA P-256 for a v1
        /// log (as Rekor v1), Ed25519 for a v2 log (as Rekor v2). Every
        /// other command's `--log-key` is this log's *public* key
        /// (DIR/log-public.pem).
        #[arg(long = "log-private-key", alias = "log-key", value_name = "PEM")]
        key: Option<PathBuf>,
        /// Name checkpoints are signed under; fixed when the log is created.
        #[arg(long, default_value = DEFAULT_NAME)]
        name: String,
        /// Most open connections, lowered to fit the process's descriptor
        /// limit (raised to its hard limit at start); one more is answered
        /// 503 and closed.
        #[arg(long, default_value_t = 8192)]
        max_connections: usize,
        /// Witnesses to gather cosignatures from.
        #[command(flatten)]
        witnesses: CosignArgs,
    },
    /// Check a log directory without changing it (a v2 tile log: its
    /// journal, then the public checkpoint and every tile and bundle against
    /// it; a missing, older, foreign or ahead checkpoint and files beyond the
    /// journal are damage): every record's checksum,
    /// the derived files against the records, the records against the
    /// durable signed checkpoint and its signature. Exit 0 when healthy, 1
    /// with a report otherwise (2: not a log, or in use by a server).
    Check {
        /// The log's directory.
        dir: PathBuf,
    },
    /// Rebuild a log's derived files from its records and drop a torn,
    /// unacknowledged tail. Never drops an acknowledged entry: with damaged
    /// records it stops (exit 1) and names them; restore `entries.log` from a
    /// copy. A v2 tile log's public files are rewritten from its journal,
    /// unless the journal is damaged or something public is ahead of it
    /// (then nothing changes and it exits 1).
    Repair {
        /// The log's directory.
        dir: PathBuf,
    },
    /// Print a Sigstore trusted root (`trusted_root.json`) for the log in
    /// DIR, so that any Sigstore client can verify its bundles: one `tlogs`
    /// entry with the log's key, `logId` = SHA-256 of its SPKI, `validFor`
    /// from the log's creation. Reads DIR only; works while it is served.
    ///
    /// A v2 log's directory (`log serve --rekor-api 2`) holds the trusted root
    /// its last start wrote (with its address and TSA); that one is printed.
    TrustedRoot {
        /// The log's directory.
        dir: PathBuf,
        /// The URL clients reach the log at (the trusted root's `baseUrl`;
        /// a v1 log's).
        #[arg(
            long = "rekor-url",
            alias = "url",
            env = "REKOR_URL",
            value_name = "URL",
            default_value = "http://127.0.0.1:3000"
        )]
        url: String,
        /// Print a client trust configuration instead: the trusted root and
        /// a signing config naming this log (and a v2 log's TSA), the file
        /// sigstore-python's `--trust-config` and every attestlog command
        /// that takes a trusted root or signing config read.
        #[arg(long)]
        trust_config: bool,
    },
}

/// `log trusted-root`: a v1 log's root made from its directory, a v2 log's
/// as its last start wrote it; with `trust_config`, in a client trust
/// configuration with a signing config naming the log (and its TSA).
fn trusted_root(dir: &std::path::Path, url: &str, trust_config: bool) -> Result<ExitCode, Failure> {
    use attest_rekor::signing::{Service, SigningConfig};
    not_a_file(dir)?;
    let written = dir.join("trusted_root.json");
    let root = if dir.join("log.json").exists() {
        attest_tlog::trusted_root(dir, url).map_err(|e| Failure::in_file(dir, &e))?
    } else if dir.join("tilelog.json").exists() && written.exists() {
        crate::cmd::verify::root_file(&written)?
    } else {
        return Err(Failure::input(format_args!(
            "{}: not a log directory (no log.json), or a v2 log never served (no trusted_root.json)",
            dir.display()
        )));
    };
    if !trust_config {
        return print_json(&root.to_json());
    }
    const OPERATOR: &str = "attestlog";
    let epoch = attest_dsse::Timestamp::from_unix(0);
    let logs = root
        .logs()
        .iter()
        .map(|l| {
            let api = if l.api == attest_rekor::LogApi::V2 {
                2
            } else {
                1
            };
            Service::new(&l.base_url, api, l.valid_from.unwrap_or(epoch), OPERATOR)
        })
        .collect();
    let tsas = root
        .authorities()
        .timestamp_authorities
        .iter()
        .map(|a| Service::new(&a.uri, 1, a.valid_from, OPERATOR))
        .collect();
    let config = attest_rekor::ClientTrustConfig::new(root, SigningConfig::new(logs, tsas));
    print_json(&config.to_json())
}

/// A directory that holds the other API's log is refused by name, never
/// given a second, empty log beside it.
fn refuse_other_api(dir: &std::path::Path, api: u8) -> Result<(), Failure> {
    let (other, marker, flag) = match api {
        1 => ("a Rekor v2 (tile) log", "tilelog.json", "--rekor-api 2"),
        _ => ("a Rekor v1 log", "log.json", "--rekor-api 1"),
    };
    if dir.join(marker).exists() {
        return Err(Failure::input(format_args!(
            "{}: holds {other}; serve it with {flag}",
            dir.display()
        )));
    }
    Ok(())
}

/// A log lives in a directory: an existing file there is named as such
/// (rather than "File exists" or "Not a directory" about a file inside).
fn not_a_file(dir: &std::path::Path) -> Result<(), Failure> {
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::input(format_args!(
            "{}: is a file, not a log directory",
            dir.display()
        )));
    }
    Ok(())
}

pub(crate) fn run(cmd: LogCommand) -> Result<ExitCode, Failure> {
    let (dir, addr, key, name, max_connections, witnesses) = match cmd {
        LogCommand::Serve {
            dir,
            api,
            addr,
            key,
            name,
            max_connections,
            witnesses,
        } if api.ends_with('2') => {
            return serve_v2(&dir, &addr, key, name, max_connections, &witnesses);
        }
        LogCommand::Serve {
            dir,
            api: _,
            addr,
            key,
            name,
            max_connections,
            witnesses,
        } => (dir, addr, key, name, max_connections, witnesses),
        LogCommand::TrustedRoot {
            dir,
            url,
            trust_config,
        } => return trusted_root(&dir, &url, trust_config),
        LogCommand::Check { dir } => {
            not_a_file(&dir)?;
            return check(&dir);
        }
        LogCommand::Repair { dir } => {
            not_a_file(&dir)?;
            return repair(&dir);
        }
    };
    not_a_file(&dir)?;
    refuse_other_api(&dir, 1)?;
    // The port first: a port in use creates nothing.
    let listener = attest_tlog::bind(&addr).map_err(Failure::error)?;
    std::fs::create_dir_all(&dir).map_err(|e| Failure::in_file(&dir, &e))?;
    let key_path = key.unwrap_or_else(|| dir.join("log-key.pem"));
    let key = attest_tlog::load_or_create_key(&key_path)
        .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?;
    let public_path = dir.join("log-public.pem");
    let options = LogOptions::default().with_name(name);
    let clients = witnesses.clients()?;
    let (log, report) =
        LocalLog::open_with_report(&dir, key, options).map_err(|e| Failure::in_file(&dir, &e))?;
    let witnessing = witnesses.start(log.clone(), clients)?;
    let server = attest_tlog::serve_listener(log.clone(), listener, max_connections)
        .map_err(Failure::error)?;
    print_json(&serde_json::json!({
        "listening": format!("http://{}", server.local_addr()),
        "name": log.name(),
        "origin": log.checkpoint().lines().next(),
        "treeID": log.tree_id().to_string(),
        "treeSize": report.size,
        "discardedTornBytes": report.discarded_bytes,
        "rebuiltDerivedFiles": report.rebuilt_derived,
        "logPublicKey": public_path,
        "maxConnections": server.max_connections(),
        "witnesses": witnessing.as_ref().map(witness_names),
        "witnessThreshold": witnessing.as_ref().map(|w| w.status().threshold),
    }))?;
    server.join();
    drop(witnessing);
    Ok(ExitCode::SUCCESS)
}

/// `log serve --rekor-api 2`.
fn serve_v2(
    dir: &std::path::Path,
    addr: &str,
    key: Option<PathBuf>,
    name: String,
    max_connections: usize,
    witnesses: &CosignArgs,
) -> Result<ExitCode, Failure> {
    not_a_file(dir)?;
    refuse_other_api(dir, 2)?;
    let clients = witnesses.clients()?;
    // The port first: a port in use creates nothing.
    let listener = attest_tlog::bind(addr).map_err(Failure::error)?;
    std::fs::create_dir_all(dir).map_err(|e| Failure::in_file(dir, &e))?;
    let key_path = key.unwrap_or_else(|| dir.join("log-key.pem"));
    let key = attest_tlog::load_or_create_key_of(&key_path, attest_dsse::Algorithm::Ed25519)
        .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?;
    let public_path = dir.join("log-public.pem");
    let pem = key.public_key().to_pem();
    if std::fs::read_to_string(&public_path).ok().as_deref() != Some(pem.as_str()) {
        std::fs::write(&public_path, &pem).map_err(|e| Failure::in_file(&public_path, &e))?;
    }
    let options = attest_tlog::TileLogOptions::default().with_name(name);
    // The public files (checkpoint, tiles, bundles) in DIR/tiles, which a
    // static server or CDN may serve whole; the keys stay outside it.
    let tiles = dir.join(attest_tlog::PUBLIC_DIR);
    let log = match attest_tlog::TileLog::open(dir, key, options) {
        Ok(log) => log,
        Err(attest_tlog::TileLogError::Damaged(d)) => {
            // Refuse, naming the damage and what to do about it.
            let advice = if d.repairable() {
                "the public files disagree with the journal: `attestlog log repair` rewrites them from it"
            } else {
                "the journal does not cover what was published: restore the log directory (journal and tilelog.json) from a copy; repair will not rewrite history"
            };
            eprintln!(
                "attestlog: {}: the tile log is damaged: {d}; {advice}",
                dir.display()
            );
            return Ok(ExitCode::from(crate::failure::EXIT_FAILED));
        }
        Err(e) => {
            return Err(Failure::in_file(dir, &e));
        }
    };
    let size = log
        .checkpoint()
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap_or(0);
    // The embedded RFC 3161 TSA on the same port, its key and chain in
    // DIR/tsa (made on first start).
    let tsa = attest_tlog::TsaService::open(&dir.join("tsa"), &format!("{} TSA", log.name()))
        .map_err(|e| Failure::in_file(&dir.join("tsa"), &e))?;
    let witnessing = witnesses.start(log.clone(), clients)?;
    let services = attest_tlog::V2Services {
        log: log.clone(),
        tsa: Some(tsa.clone()),
    };
    let server =
        attest_tlog::serve_listener(services, listener, max_connections).map_err(Failure::error)?;
    let url = format!("http://{}", server.local_addr());
    let tsa_url = format!("{url}{}", attest_tlog::TIMESTAMP_PATH);
    // A trusted root for the address it listens on, for any Sigstore client.
    let root_path = dir.join("trusted_root.json");
    let root = log.trusted_root(&url, Some((&tsa, &tsa_url)));
    std::fs::write(
        &root_path,
        serde_json::to_vec_pretty(&root).map_err(std::io::Error::from)?,
    )
    .map_err(|e| Failure::in_file(&root_path, &e))?;
    print_json(&serde_json::json!({
        "listening": url,
        "api": 2,
        "name": log.name(),
        "origin": log.checkpoint().lines().next(),
        "logId": log.log_id().to_base64(),
        "treeSize": size,
        "logPublicKey": public_path,
        "tiles": tiles,
        "tsaUrl": tsa_url,
        "trustedRoot": root_path,
        "maxConnections": server.max_connections(),
        "witnesses": witnessing.as_ref().map(witness_names),
        "witnessThreshold": witnessing.as_ref().map(|w| w.status().threshold),
    }))?;
    server.join();
    drop(witnessing);
    Ok(ExitCode::SUCCESS)
}

fn check(dir: &std::path::Path) -> Result<ExitCode, Failure> {
    // A Rekor v2 tile log: `log serve --rekor-api 2`'s DIR (its journal and
    // tilelog.json; public files in DIR/tiles).
    if is_tile_log(dir) {
        return match attest_tlog::check_tile_log(dir) {
            Ok(c) => {
                let damage: Vec<serde_json::Value> = c
                    .damage
                    .iter()
                    .map(|d| serde_json::json!({ "damage": d.to_string(), "repairable": d.repairable() }))
                    .collect();
                print_json(&serde_json::json!({
                    "api": 2, "name": c.name, "treeSize": c.size,
                    "rootHash": c.root.base64().to_string(), "healthy": c.healthy(),
                    "repairable": c.repairable(), "damage": damage,
                    "tornBytes": c.torn_bytes, "interruptedPublish": c.interrupted_publish,
                }))?;
                Ok(if c.healthy() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(crate::failure::EXIT_FAILED)
                })
            }
            Err(attest_tlog::TileLogError::Damaged(d)) => {
                print_json(&serde_json::json!({
                    "api": 2, "healthy": false, "repairable": false,
                    "damage": [{ "damage": d.to_string(), "repairable": false }],
                }))?;
                Ok(ExitCode::from(crate::failure::EXIT_FAILED))
            }
            Err(e) => Err(Failure::in_file(dir, &e)),
        };
    }
    let report = attest_tlog::check(dir).map_err(|e| Failure::in_file(dir, &e))?;
    let healthy = report.healthy();
    let mut v = serde_json::to_value(&report).map_err(std::io::Error::from)?;
    v["healthy"] = healthy.into();
    v["repairable"] = report.repairable().into();
    print_json(&v)?;
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::failure::EXIT_FAILED)
    })
}

/// A v2 tile log's directory: its `tilelog.json` and `journal`, or the
/// public files of one (so that a missing journal is reported as damage).
fn is_tile_log(dir: &std::path::Path) -> bool {
    dir.join("tilelog.json").exists()
        || dir.join("journal").exists()
        || dir.join(attest_tlog::PUBLIC_DIR).is_dir()
}

fn repair_v2(dir: &std::path::Path) -> Result<ExitCode, Failure> {
    match attest_tlog::repair_tile_log(dir) {
        Ok(r) => print_json(&serde_json::json!({
            "api": 2, "repaired": true, "treeSize": r.size,
            "rewritten": r.rewritten, "discardedTornBytes": r.torn_bytes,
        })),
        Err(attest_tlog::TileLogError::Damaged(d)) => {
            print_json(&serde_json::json!({
                "api": 2, "repaired": false, "damage": d.to_string(),
                "advice": "the journal does not cover what was published (or is damaged): restore the log directory from a copy; nothing was changed",
            }))?;
            eprintln!("attestlog: {}: {d}", dir.display());
            Ok(ExitCode::from(crate::failure::EXIT_FAILED))
        }
        Err(e) => Err(Failure::in_file(dir, &e)),
    }
}

fn repair(dir: &std::path::Path) -> Result<ExitCode, Failure> {
    use attest_tlog::{LocalError, StorageError};
    if is_tile_log(dir) {
        return repair_v2(dir);
    }
    match attest_tlog::repair(dir) {
        Ok(r) => print_json(&serde_json::to_value(r).map_err(std::io::Error::from)?),
        Err(LocalError::Storage(StorageError::Corrupt(d))) => {
            print_json(&serde_json::json!({
                "repaired": false,
                "damage": d.to_string(),
                "advice": "acknowledged entries are damaged: restore entries.log (and checkpoint.dat) from a copy; nothing acknowledged was dropped",
            }))?;
            eprintln!("attestlog: {}: {d}", dir.display());
            Ok(ExitCode::from(crate::failure::EXIT_FAILED))
        }
        Err(e) => Err(Failure::in_file(dir, &e)),
    }
}

/// `log serve`'s witnesses: where each is and the key its cosignatures
/// must verify with.
#[derive(Debug, clap::Args)]
pub(crate) struct CosignArgs {
    /// A witness to send each new checkpoint to (C2SP tlog-witness):
    /// `URL=VKEY`, its base URL (`/add-checkpoint` is added) and its
    /// verifier key (`attestlog witness vkey`). Repeat for more. The log
    /// serves its checkpoint with the cosignatures obtained; a witness that
    /// is down does not stop it (stderr says so, and it is tried again).
    #[arg(long = "witness", value_name = "URL=VKEY")]
    witnesses: Vec<String>,
    /// How many witnesses the log's policy asks for (default: all): below
    /// it, stderr says the checkpoint is served under-witnessed.
    #[arg(long, value_name = "K", requires = "witnesses")]
    witness_threshold: Option<usize>,
}

type WitnessClient = rekor_client::witness::WitnessClient<rekor_client::UreqTransport>;

impl CosignArgs {
    /// The witness clients, checked before anything is opened.
    fn clients(&self) -> Result<Vec<WitnessClient>, Failure> {
        self.witnesses
            .iter()
            .map(|arg| {
                let bad = |why: &dyn std::fmt::Display| {
                    Failure::input(format_args!("--witness {arg}: {why}"))
                };
                let (url, vkey) = arg
                    .split_once('=')
                    .ok_or_else(|| bad(&"expected URL=VKEY"))?;
                let key =
                    attest_rekor::witness::WitnessKey::from_vkey(vkey).map_err(|e| bad(&e))?;
                WitnessClient::new(rekor_client::UreqTransport::new(), url, key)
                    .map_err(|e| bad(&attest_dsse::ErrorChain(&e)))
            })
            .collect()
    }

    /// Starts witnessing `log` when witnesses are configured, with a
    /// thread that reports each witness's failures and recoveries on
    /// stderr.
    fn start<L: attest_tlog::WitnessedSource>(
        &self,
        log: L,
        clients: Vec<WitnessClient>,
    ) -> Result<Option<attest_tlog::Witnessing>, Failure> {
        if clients.is_empty() {
            return Ok(None);
        }
        let k = self.witness_threshold.unwrap_or(clients.len());
        let w = attest_tlog::Witnessing::start(log, clients, k, attest_tlog::DEFAULT_WITNESS_POLL)
            .map_err(|e| Failure::input(format_args!("--witness-threshold {k}: {e}")))?;
        let cosignatures = std::sync::Arc::clone(w.cosignatures());
        // Best effort: a report that cannot start leaves the log serving.
        let _ = std::thread::Builder::new()
            .name("witness-report".into())
            .spawn(move || report_witnessing(&cosignatures));
        Ok(Some(w))
    }
}

fn witness_names(w: &attest_tlog::Witnessing) -> Vec<String> {
    w.status().witnesses.into_iter().map(|s| s.name).collect()
}

/// Says on stderr when a witness starts failing (and why) or recovers, and
/// when the served checkpoint is below the policy's threshold.
fn report_witnessing(cosignatures: &attest_tlog::Cosignatures) {
    let mut said: Vec<Option<String>> = Vec::new();
    loop {
        let status = cosignatures.status();
        said.resize(status.witnesses.len(), None);
        for (w, last) in status.witnesses.iter().zip(&mut said) {
            if w.error != *last {
                match &w.error {
                    Some(e) => eprintln!(
                        "attestlog: witness {}: {e}; serving the checkpoint of size {} with {} of {} required cosignatures",
                        w.name,
                        status.size.unwrap_or(0),
                        status.cosigned,
                        status.threshold
                    ),
                    None => eprintln!("attestlog: witness {} cosigns again", w.name),
                }
                last.clone_from(&w.error);
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

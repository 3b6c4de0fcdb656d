//! `attestlog witness serve | vkey`: a C2SP tlog-witness over HTTP that
//! cosigns the checkpoints of the logs it is told about, never one
//! inconsistent with what it cosigned before.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::{Algorithm, PublicKey};
use attest_rekor::witness::Cosigner;
use attest_tlog::{Witness, WitnessedLog};
use clap::Subcommand;

use crate::Failure;
use crate::cmd::print_json;

/// `attestlog witness` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum WitnessCommand {
    /// Serve a witness (C2SP tlog-witness): `POST /add-checkpoint` with a
    /// consistency proof from the last checkpoint it cosigned for that log
    /// answers a `cosignature/v1` line; a stale size is a 409 naming the
    /// size it knows, an unknown origin 404, a checkpoint the log did not
    /// sign 403, a proof that does not verify 422. What it cosigned is on
    /// disk (DIR/witness-state.json) before the answer leaves, and never
    /// rolled back; a checkpoint the log signed with another root at a
    /// cosigned size is kept, with the cosigned one, under DIR/evidence.
    /// Prints one JSON line (address, verifier key), then
    /// serves until killed.
    Serve {
        /// The witness's directory (state, key, evidence); created on first
        /// start. One process at a time.
        #[arg(long)]
        dir: PathBuf,
        /// The witness's name on its signature lines, a schema-less URL
        /// (e.g. `witness.example.com/w1`).
        #[arg(long)]
        name: String,
        /// Its Ed25519 signing key, PKCS#8 PEM (default: DIR/witness-key.pem,
        /// created when missing).
        #[arg(long = "witness-key", value_name = "PEM")]
        key: Option<PathBuf>,
        /// A log to witness: `ORIGIN=PUBLIC_KEY_PEM_FILE` (the origin is
        /// the checkpoint's first line: `log serve` prints it) or a C2SP
        /// verifier key `NAME+ID+KEY` (origin = NAME). Repeat for more logs.
        #[arg(long = "log", value_name = "ORIGIN=PEM|VKEY", required = true)]
        logs: Vec<String>,
        /// Address to listen on (`127.0.0.1:0` picks a free port).
        #[arg(long, default_value = "127.0.0.1:3100")]
        addr: String,
        /// Most open connections.
        #[arg(long, default_value_t = 1024)]
        max_connections: usize,
    },
    /// Print a witness's verifier key (`NAME+ID+KEY`, what verifiers pass
    /// to `--witness`) from its signing key; reads only.
    Vkey {
        /// The witness's name.
        #[arg(long)]
        name: String,
        /// Its Ed25519 signing key, PKCS#8 PEM.
        #[arg(long = "witness-key", value_name = "PEM")]
        key: PathBuf,
    },
}

pub(crate) fn run(cmd: WitnessCommand) -> Result<ExitCode, Failure> {
    match cmd {
        WitnessCommand::Serve {
            dir,
            name,
            key,
            logs,
            addr,
            max_connections,
        } => serve(&dir, name, key, &logs, &addr, max_connections),
        WitnessCommand::Vkey { name, key } => {
            let signing = crate::cmd::keys::load_signing_key(&key)?;
            let cosigner = Cosigner::new(name, signing).map_err(Failure::input)?;
            println!("{}", cosigner.witness().to_vkey());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--log ORIGIN=PEM` or `--log VKEY`.
fn witnessed_log(spec: &str) -> Result<WitnessedLog, Failure> {
    if let Some((origin, pem_path)) = spec.split_once('=') {
        if origin.is_empty() {
            return Err(Failure::input(format_args!(
                "--log {spec}: the origin is empty"
            )));
        }
        let path = Path::new(pem_path);
        let pem = std::fs::read_to_string(path).map_err(|e| Failure::in_file(path, &e))?;
        let key = PublicKey::from_pem(&pem)
            .map_err(|e| Failure::input(format_args!("--log {origin}={pem_path}: {e}")))?;
        return Ok(WitnessedLog::new(origin, key));
    }
    WitnessedLog::from_vkey(spec).map_err(|e| {
        Failure::input(format_args!(
            "--log {spec}: neither ORIGIN=PUBLIC_KEY_PEM_FILE nor a verifier key NAME+ID+KEY ({e})"
        ))
    })
}

fn serve(
    dir: &Path,
    name: String,
    key: Option<PathBuf>,
    specs: &[String],
    addr: &str,
    max_connections: usize,
) -> Result<ExitCode, Failure> {
    let logs = specs
        .iter()
        .map(|s| witnessed_log(s))
        .collect::<Result<Vec<_>, _>>()?;
    // The port first: a port in use creates nothing.
    let listener = attest_tlog::bind(addr).map_err(Failure::error)?;
    std::fs::create_dir_all(dir).map_err(|e| Failure::in_file(dir, &e))?;
    let key_path = key.unwrap_or_else(|| dir.join("witness-key.pem"));
    // A key that exists is a witness that has run: its state must exist too.
    let existed = key_path.exists();
    let signing = attest_tlog::load_or_create_key_of(&key_path, Algorithm::Ed25519)
        .map_err(|e| Failure::input(format_args!("{e}", e = attest_dsse::ErrorChain(&e))))?;
    let cosigner = Cosigner::new(name, signing)
        .map_err(|e| Failure::input(format_args!("{}: {e}", key_path.display())))?;
    let origins: Vec<String> = logs.iter().map(|l| l.origin().to_owned()).collect();
    let witness = if existed {
        Witness::resume(dir, cosigner, logs)
    } else {
        Witness::open(dir, cosigner, logs)
    }
    .map_err(|e| Failure::in_file(dir, &e))?;
    let (name, vkey) = (
        witness.witness_key().name().to_owned(),
        witness.witness_key().to_vkey(),
    );
    let server =
        attest_tlog::serve_listener(witness, listener, max_connections).map_err(Failure::error)?;
    print_json(&serde_json::json!({
        "listening": format!("http://{}", server.local_addr()),
        "witness": name,
        "vkey": vkey,
        "logs": origins,
        "state": dir.join(attest_tlog::WITNESS_STATE_FILE),
    }))?;
    server.join();
    Ok(ExitCode::SUCCESS)
}

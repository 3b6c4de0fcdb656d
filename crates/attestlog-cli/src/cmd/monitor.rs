//! `attestlog monitor`: follow a log and print each new entry signed by a
//! watched key — the alerting loop an operator runs beside the portal.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::Failure;
use crate::cmd::print_json;
use crate::failure::EXIT_FAILED;

/// `attestlog monitor` arguments.
#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// The keys to watch: the key-set document (`attestation-keys.json`, a
    /// file or an `http(s)://` URL) or one PEM public key.
    #[arg(
        long = "key",
        alias = "keys",
        env = "ATTESTLOG_KEYS",
        value_name = "FILE|URL"
    )]
    keys: String,
    /// Where the monitor keeps the log's last verified checkpoint and its
    /// place in the log (default: `monitor-state.json` beside `audit`'s
    /// baseline).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Without kept state, start at the log's current tree (trust on first
    /// use; every entry already in it is still scanned and reported).
    #[arg(long)]
    trust_current_tree: bool,
    /// Seconds between looks at the log.
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// Look once and exit (0: the log is consistent and was scanned).
    #[arg(long)]
    once: bool,
    /// Witness cosignatures each checkpoint must carry.
    #[command(flatten)]
    witnesses: crate::cmd::verify::WitnessArgs,
    #[command(flatten)]
    log: crate::cmd::attest::LogArgs,
}

/// Follows the log: each look verifies its checkpoint (signature,
/// witnesses, consistency with the kept one), scans the entries added since
/// the last look — each authenticated against the checkpoint — and prints
/// one JSON line per entry signed by a watched key. A fork, a shrunk log or
/// entries that do not make the checkpoint's tree print an alert and exit
/// 1; a log that cannot be reached is said on stderr and tried again.
pub(crate) fn monitor(a: MonitorArgs) -> Result<ExitCode, Failure> {
    let keys = crate::cmd::keys::load_key_set(&a.keys)?;
    let opened = a.log.open()?;
    if !opened.publishes() {
        return Err(Failure::input(
            "no log to monitor: give --rekor-url (or REKOR_URL)",
        ));
    }
    let state = a
        .state
        .clone()
        .or_else(|| {
            attestlog::FileBaseline::default_path().map(|p| p.with_file_name("monitor-state.json"))
        })
        .ok_or_else(|| {
            Failure::input("no data directory ($XDG_DATA_HOME, $HOME): give --state PATH")
        })?;
    let mut auditor = opened
        .auditor(keys, Box::new(attestlog::MemoryStore::new()))
        .baseline(attestlog::FileBaseline::new(&state))
        .trust_current_tree(a.trust_current_tree)
        // Each look's finds only: the state file must not grow with every
        // entry the watched keys ever signed.
        .new_finds_only(true);
    if let Some(policy) = a.witnesses.policy()? {
        auditor = auditor.witnesses(policy);
    }
    let auditor = auditor.build();
    loop {
        // The store is empty: every entry of a watched key is "missing";
        // the new ones are those from this look's start.
        let reports = auditor.completeness().map_err(Failure::error)?;
        for r in &reports {
            if let Some(why) = &r.error {
                let fatal = r.failure != Some(attestlog::CompletenessFailure::Unavailable);
                print_json(&serde_json::json!({
                    "alert": r.failure,
                    "log": r.origin,
                    "detail": why,
                }))?;
                if fatal || a.once {
                    return Ok(ExitCode::from(EXIT_FAILED));
                }
                continue;
            }
            for f in r.missing.iter().filter(|f| f.index >= r.from) {
                print_json(&serde_json::json!({
                    "entry": f.index,
                    "leafHash": f.leaf.to_string(),
                    "key": f.key,
                    "log": r.origin,
                    "api": r.api,
                }))?;
            }
            print_json(&serde_json::json!({
                "checkpoint": r.to,
                "log": r.origin,
                "scanned": r.to - r.from,
            }))?;
        }
        if a.once {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(a.interval.max(1)));
    }
}

//! One module per top-level subcommand, plus the I/O helpers they share.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_rekor::TrustedLog;
use clap::Args;

use crate::Failure;

pub(crate) mod attest;
pub(crate) mod dsse;
pub(crate) mod keys;
pub(crate) mod log;
pub(crate) mod merkle;
pub(crate) mod monitor;
pub(crate) mod portal;
pub(crate) mod rekor;
pub(crate) mod rekor2;
pub(crate) mod store;
pub(crate) mod trust;
pub(crate) mod verify;
pub(crate) mod witness;

/// Reads a file, or stdin for `-`, refusing one over `max` bytes without
/// reading more than `max + 1` of it (`what` names the limit in the error).
pub(crate) fn read_input_max(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().take(max + 1).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(max + 1).read_to_end(&mut buf))
    };
    read.map_err(|e| Failure::in_file(path, &e))?;
    if buf.len() as u64 > max {
        return Err(Failure::input(format_args!(
            "{}: over {max} bytes ({what}); refused before reading the rest",
            path.display()
        )));
    }
    Ok(buf)
}

/// Reads a file, or stdin for `-`.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| Failure::in_file(path, &e))
}

/// How a command uses the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads only (audit, export, store list/show): opened read-only, never
    /// created or migrated.
    Read,
    /// Writes (publish-pending): may migrate, never creates.
    Write,
}

/// Opens an existing store: a SQLite path that does not exist is refused
/// (commands that only read or re-publish never create a database; a
/// typo must not become an empty store that "has no attestations").
pub(crate) fn open_existing_store(
    db: &str,
    access: Access,
) -> Result<Box<dyn attest_store::AttestationStore>, Failure> {
    if !db.contains("://") && !std::path::Path::new(db).exists() {
        return Err(Failure::input(format_args!(
            "{db}: no such database file (only `attest` creates one)"
        )));
    }
    match access {
        Access::Read => attest_store::open_read_only(db),
        Access::Write => attest_store::open(db),
    }
    .map_err(|e| Failure::input(format_args!("{db}: {e}", e = attest_dsse::ErrorChain(&e))))
}

/// Prints one JSON value on a line of stdout.
pub(crate) fn print_json(value: &serde_json::Value) -> Result<ExitCode, Failure> {
    let mut line = serde_json::to_vec(value).map_err(std::io::Error::from)?;
    line.push(b'\n');
    print_bytes(&line)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to stdout and flushes: a broken pipe or a full disk is a
/// [`Failure`], never a panic (`print!` panics on both).
pub(crate) fn print_text(text: &str) -> Result<(), Failure> {
    print_bytes(text.as_bytes())
}

fn print_bytes(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::output(&e))
}

/// Which transparency-log keys to trust: the same flags, with the same
/// environment fallbacks, in every command that reads a log's evidence.
#[derive(Debug, Args)]
pub(crate) struct LogTrust {
    /// The log's public key (PEM), e.g. `DIR/log-public.pem` of `attestlog
    /// log serve`; taken before --trusted-root when both are given.
    #[arg(long, env = "REKOR_PUBLIC_KEY", value_name = "PEM")]
    pub(crate) log_key: Option<PathBuf>,
    /// Pin the log's name: every checkpoint's signed origin line must be
    /// NAME or `NAME - <tree id>`. Unset: the origin is not checked (the
    /// checkpoint's signature is found by the log key's id).
    #[arg(long, env = "REKOR_LOG_NAME", value_name = "NAME")]
    pub(crate) log_name: Option<String>,
    /// A Sigstore `trusted_root.json` with the log's keys (or a client trust
    /// configuration holding one).
    #[arg(long, env = "REKOR_TRUSTED_ROOT", value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// With neither a key nor a root: Sigstore's TUF repository.
    #[command(flatten)]
    pub(crate) tuf: crate::cmd::trust::TufArgs,
}

impl LogTrust {
    /// The trusted logs for a log at `url`: from --log-key, else from
    /// --trusted-root, else those of the TUF repository's trusted root at
    /// `url` (`None` when it lists none); with the pinned name applied.
    pub(crate) fn logs(&self, url: &str) -> Result<Option<Vec<TrustedLog>>, Failure> {
        let key = match &self.log_key {
            Some(k) => Some(crate::cmd::keys::load_public_key(k)?),
            None => None,
        };
        let root = match (&key, &self.trusted_root) {
            (None, Some(root)) => Some(crate::cmd::verify::root_file(root)?),
            (None, None) => {
                let logs = self.tuf.trusted_root()?.logs_at(url);
                if logs.is_empty() {
                    return Ok(None);
                }
                Some(attest_rekor::TrustedRoot::from_logs(logs))
            }
            (Some(_), _) => None,
        };
        Ok(attest_rekor::trusted_logs(
            key,
            root.as_ref(),
            url,
            self.log_name.as_deref(),
        ))
    }

    /// `logs` with the pinned name, if any.
    pub(crate) fn pin(&self, logs: Vec<TrustedLog>) -> Vec<TrustedLog> {
        attest_rekor::pin_log_name(logs, self.log_name.as_deref())
    }
}

/// Where the attestation store is: the same flag, environment fallback
/// and default in every command.
#[derive(Debug, Args)]
pub(crate) struct DbArg {
    /// SQLite file or `postgres://` URL (commands that only read refuse a
    /// SQLite file that does not exist; only `attest` creates one).
    #[arg(long, env = "ATTESTLOG_DB", default_value = "attestlog.db")]
    pub(crate) db: String,
}

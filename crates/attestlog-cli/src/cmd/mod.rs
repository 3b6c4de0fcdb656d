//! One module per top-level subcommand, plus the I/O helpers they share.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::Failure;

pub(crate) mod attest;
pub(crate) mod dsse;
pub(crate) mod keys;
pub(crate) mod log;
pub(crate) mod merkle;
pub(crate) mod rekor;
pub(crate) mod store;
pub(crate) mod verify;

/// Reads a file, or stdin for `-`.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| Failure::input(format_args!("{}: {e}", path.display())))
}

/// Opens an existing store: a SQLite path that does not exist is refused
/// (commands that only read or re-publish never create a database; a
/// typo must not become an empty store that "has no attestations").
pub(crate) fn open_existing_store(
    db: &str,
) -> Result<Box<dyn attest_store::AttestationStore>, Failure> {
    if !db.contains("://") && !std::path::Path::new(db).exists() {
        return Err(Failure::input(format_args!(
            "{db}: no such database file (only `attest` creates one)"
        )));
    }
    attest_store::open(db).map_err(|e| Failure::input(format_args!("{db}: {e}")))
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

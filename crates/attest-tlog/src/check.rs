//! `check` (read only) and `repair` of a log directory, for operators:
//! what `attestlog log check` and `attestlog log repair` run.

use std::path::Path;

use attest_dsse::PublicKey;
use attest_rekor::{LogId, NoteVerifier, SignedNote};
use serde::Serialize;

use crate::storage::{self, Damage, Layout};
use crate::{DirLock, LocalError, Meta, StorageError};

/// What [`check`] found. The log is healthy only when [`healthy`](Self::healthy).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CheckReport {
    /// Intact records from the start of `entries.log`.
    pub records: u64,
    /// Entries acknowledged durably: the size of the checkpoint in
    /// `checkpoint.dat` (or, for a log written before it existed, the count
    /// in `synced.dat`).
    pub acknowledged: u64,
    /// Bytes after the last intact record: a torn write that was never
    /// acknowledged when it lies past `acknowledged`.
    pub torn_tail_bytes: u64,
    /// Damage to what was acknowledged, or to the checkpoint: the log
    /// refuses to open until it is dealt with (`repair` cannot mend
    /// records; restore `entries.log` from a copy).
    #[serde(serialize_with = "display_opt")]
    pub damage: Option<Damage>,
    /// The checkpoint's signature: `verified`, `invalid`, or `unchecked`
    /// (no `log-public.pem` of this log's key beside it).
    pub checkpoint_signature: &'static str,
    /// Entries whose `index.dat` offset is not their record's.
    pub index_mismatches: u64,
    /// Nodes of `tree.dat` that are not the hash the records give.
    pub tree_mismatches: u64,
    /// Whether a derived file holds data past the intact records.
    pub excess_derived: bool,
}

fn display_opt<S: serde::Serializer>(d: &Option<Damage>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

impl CheckReport {
    /// No damage, a verified checkpoint signature, derived files that agree.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.damage.is_none()
            && self.checkpoint_signature != "invalid"
            && self.index_mismatches == 0
            && self.tree_mismatches == 0
            && !self.excess_derived
    }

    /// Whether [`repair`] can make the log healthy: nothing acknowledged is
    /// damaged, only derived files (or a torn tail).
    #[must_use]
    pub fn repairable(&self) -> bool {
        self.damage.is_none() && self.checkpoint_signature != "invalid"
    }
}

/// What [`repair`] did.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RepairReport {
    /// Entries in the log.
    pub size: u64,
    /// Bytes of a torn, unacknowledged write removed from `entries.log`.
    pub discarded_bytes: u64,
    /// Whether `index.dat` or `tree.dat` was rewritten from the records.
    pub rebuilt_derived: bool,
}

fn read_meta(dir: &Path) -> Result<(Meta, Layout), LocalError> {
    let path = dir.join("log.json");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LocalError::Storage(StorageError::Corrupt(
                Damage::MissingFile { file: "log.json" },
            )));
        }
        Err(source) => return Err(LocalError::Read { path, source }),
    };
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|source| LocalError::MetaJson {
        path: path.clone(),
        source,
    })?;
    let layout = match meta.format {
        1 => Layout::Legacy,
        2 => Layout::Current,
        format => return Err(LocalError::MetaFormat { path, format }),
    };
    Ok((meta, layout))
}

/// Checks a log directory without changing it: every record's checksum,
/// every leaf, node and offset of the derived files against the records,
/// the records' root against the durable checkpoint, and that checkpoint's
/// signature with `log-public.pem` when it is this log's key. Fails with
/// [`LocalError::Locked`] while a server has the log open.
///
/// # Errors
/// [`LocalError`] when the directory is not a log or cannot be read.
pub fn check(dir: &Path) -> Result<CheckReport, LocalError> {
    let (meta, layout) = read_meta(dir)?;
    // Hold the directory while reading, when it has a lock file at all.
    let _lock = if dir.join("LOCK").exists() {
        Some(DirLock::take(dir)?)
    } else {
        None
    };
    let files = storage::Files::open_read_only(dir)?;
    let mut facts = files.check(layout)?;
    let origin = format!("{} - {}", meta.name, meta.tree_id);
    if let Some(found) = facts
        .checkpoint
        .as_ref()
        .map(|cp| crate::durable_origin(&cp.note))
        .filter(|o| *o != origin)
    {
        facts.damage.get_or_insert(storage::Damage::Meta {
            meta: origin,
            checkpoint: found,
        });
    }
    let signature = match (&facts.checkpoint, public_key(dir, &meta.log_id)) {
        (Some(cp), Some(key)) => {
            let verifier = NoteVerifier::rekor_v1(meta.name.clone(), key);
            let ok = SignedNote::parse(&cp.note)
                .is_ok_and(|n| n.verify(std::slice::from_ref(&verifier)).is_ok());
            if ok { "verified" } else { "invalid" }
        }
        _ => "unchecked",
    };
    Ok(CheckReport {
        records: facts.records,
        acknowledged: facts
            .checkpoint
            .as_ref()
            .map_or(facts.synced, |c| c.size.max(facts.synced)),
        torn_tail_bytes: facts.torn_tail_bytes,
        damage: facts.damage,
        checkpoint_signature: signature,
        index_mismatches: facts.index_mismatches,
        tree_mismatches: facts.tree_mismatches,
        excess_derived: facts.excess_derived,
    })
}

/// The log's public key from `log-public.pem`, if it is the key `log.json`
/// names.
fn public_key(dir: &Path, log_id_hex: &str) -> Option<PublicKey> {
    let pem = std::fs::read_to_string(dir.join("log-public.pem")).ok()?;
    let key = PublicKey::from_pem(&pem).ok()?;
    (LogId::of_key(&key).to_hex() == log_id_hex).then_some(key)
}

/// Rebuilds the derived files from the records and removes a torn,
/// unacknowledged tail — what opening the log does, without its key.
/// Never drops an acknowledged entry: damage to one (or to the checkpoint)
/// is returned as the error, and `entries.log` is left as it is for the
/// operator to restore from a copy.
///
/// # Errors
/// [`LocalError`]; damage is `LocalError::Storage(StorageError::Corrupt(_))`.
pub fn repair(dir: &Path) -> Result<RepairReport, LocalError> {
    let (_, layout) = read_meta(dir)?;
    let _lock = DirLock::take(dir)?;
    let opened = storage::Files::open(dir, layout)?;
    Ok(RepairReport {
        size: opened.tail.size(),
        discarded_bytes: opened.discarded_bytes,
        rebuilt_derived: opened.rebuilt_derived,
    })
}

//! Checking and repairing a tile log from outside a server: every public file against the journal.

#[allow(clippy::wildcard_imports)]
use super::*;

/// What [`check_tile_log`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileLogCheck {
    /// The log's name.
    pub name: String,
    /// Entries the journal holds (its last signed checkpoint's size).
    pub size: u64,
    /// Its root.
    pub root: Hash,
    /// Bytes of a batch torn by a crash at the journal's end (never
    /// acknowledged; cut off when the log next opens).
    pub torn_bytes: u64,
    /// The public checkpoint is one batch behind the journal because a
    /// crash cut its publishing short (not damage: opening finishes it).
    pub interrupted_publish: bool,
    /// Everything wrong with the public files, unrepairable damage first.
    pub damage: Vec<TileDamage>,
}

impl TileLogCheck {
    /// No damage.
    #[must_use]
    pub fn healthy(&self) -> bool {
        self.damage.is_empty()
    }

    /// Every damage found is one [`repair_tile_log`] fixes.
    #[must_use]
    pub fn repairable(&self) -> bool {
        self.damage.iter().all(TileDamage::repairable)
    }
}

/// What [`repair_tile_log`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileLogRepair {
    /// Entries the log holds.
    pub size: u64,
    /// Public files rewritten from the journal.
    pub rewritten: Vec<String>,
    /// Bytes of a torn, unacknowledged batch cut from the journal's end.
    pub torn_bytes: u64,
}

/// The log directory's exclusive lock (another process has it: `Locked`).
pub(super) fn lock_dir(dir: &Path) -> Result<crate::DirLock, TileLogError> {
    crate::DirLock::take(dir).map_err(|e| match e {
        crate::LocalError::Locked(p) => TileLogError::Locked(p),
        other => TileLogError::Io {
            context: "lock the log directory".into(),
            source: io::Error::other(other.to_string()),
        },
    })
}

pub(super) fn log_identity(dir: &Path) -> Result<(Meta, NoteVerifier), TileLogError> {
    let meta = recover::read_meta(dir)?.ok_or(TileLogError::Damaged(TileDamage::NoJournal {
        legacy: false,
    }))?;
    let verifier = NoteVerifier::c2sp(meta.name.clone(), meta.public.clone());
    Ok((meta, verifier))
}

/// Checks the tile log in `dir` (public files in `dir/tiles`) without
/// changing anything and without its private key: the journal, and every
/// public file against it — what opening checks. Works while the log is
/// served.
///
/// # Errors
/// [`TileLogError::Damaged`] when the journal itself is damaged or missing
/// (damage to public files is reported in [`TileLogCheck::damage`]);
/// [`TileLogError::Io`].
pub fn check_tile_log(dir: &Path) -> Result<TileLogCheck, TileLogError> {
    check_tile_log_in(dir, &DirStore::new(dir.join(PUBLIC_DIR)))
}

/// [`check_tile_log`] for a log whose public files are in `public`.
///
/// # Errors
/// As [`check_tile_log`].
pub fn check_tile_log_in(dir: &Path, public: &dyn TileStore) -> Result<TileLogCheck, TileLogError> {
    let (meta, verifier) = log_identity(dir)?;
    // A log being served changes under the check (a batch journaled and
    // published between reading the journal and listing the tiles, a
    // superseded partial deleted): damage is reported only when it is
    // still there on a second and a third look.
    let mut found = recover::inspect(dir, public, &verifier, &meta)?;
    for _ in 0..2 {
        if found.damage.is_empty() {
            break;
        }
        found = recover::inspect(dir, public, &verifier, &meta)?;
    }
    Ok(TileLogCheck {
        name: meta.name,
        size: found.scan.tree.size(),
        root: found.scan.tree.root(),
        torn_bytes: found.scan.torn,
        interrupted_publish: found.interrupted_publish,
        damage: found.damage,
    })
}

/// Rewrites the public files of the (stopped) tile log in `dir` from its
/// journal, and cuts a torn batch from the journal's end. It refuses, and
/// changes nothing, when any damage is not [`TileDamage::repairable`]:
/// a damaged journal, or a public checkpoint or tile *ahead* of it, means
/// the journal lost acknowledged entries, and rewriting would hide that.
///
/// # Errors
/// [`TileLogError::Locked`] while the log is open; [`TileLogError::Damaged`]
/// with the first unrepairable damage; [`TileLogError::Io`].
pub fn repair_tile_log(dir: &Path) -> Result<TileLogRepair, TileLogError> {
    repair_tile_log_in(dir, &DirStore::new(dir.join(PUBLIC_DIR)))
}

/// [`repair_tile_log`] for a log whose public files are in `public`.
///
/// # Errors
/// As [`repair_tile_log`].
pub fn repair_tile_log_in(
    dir: &Path,
    public: &dyn TileStore,
) -> Result<TileLogRepair, TileLogError> {
    let _lock = lock_dir(dir)?;
    let (meta, verifier) = log_identity(dir)?;
    let found = recover::inspect(dir, public, &verifier, &meta)?;
    if let Some(d) = found.damage.iter().find(|d| !d.repairable()) {
        return Err(TileLogError::Damaged(d.clone()));
    }
    let rewritten = recover::rewrite_public(dir, public, &found.scan, &meta)?;
    recover::write_published(dir, found.scan.tree.size()).map_err(io_err("write published"))?;
    // Cut the torn tail, as opening would.
    Journal::open(&dir.join(JOURNAL), found.scan.intact).map_err(io_err("open the journal"))?;
    Ok(TileLogRepair {
        size: found.scan.tree.size(),
        rewritten,
        torn_bytes: found.scan.torn,
    })
}

//! Where a tile log's public files go: the [`TileStore`] trait and the
//! local-directory store.

use std::io;
use std::path::{Path, PathBuf};

/// Where a tile log's public, static files go (`checkpoint`, hash tiles,
/// entry bundles). `put` must be atomic (a reader sees the old bytes or the
/// new, never a mix) and durable when it returns.
///
/// These files are derived: the log's journal (outside the store) is the
/// truth, and opening the log compares every file with it.
pub trait TileStore: Send + Sync + 'static {
    /// Writes `bytes` at `path` (`checkpoint`, `tile/0/000.p/5`, …).
    ///
    /// # Errors
    /// The store's I/O error.
    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()>;

    /// Writes several files, each as [`put`](Self::put) does, all durable
    /// when it returns (in no particular order before that). The default
    /// puts them one by one; a store can do better (one directory sync per
    /// directory, parallel uploads).
    ///
    /// # Errors
    /// The store's I/O error.
    fn put_all(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        for (path, bytes) in files {
            self.put(path, bytes)?;
        }
        Ok(())
    }

    /// Reads `path`; `Ok(None)` if it does not exist.
    ///
    /// # Errors
    /// The store's I/O error.
    fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>>;

    /// Every file under `prefix` (`"tile/"`), as paths relative to the
    /// store, in any order. Opening a log lists its tiles to find files for
    /// entries its journal does not have.
    ///
    /// # Errors
    /// The store's I/O error.
    fn list(&self, prefix: &str) -> io::Result<Vec<String>>;

    /// Removes `path`; removing a file that does not exist is not an error.
    ///
    /// # Errors
    /// The store's I/O error.
    fn delete(&self, path: &str) -> io::Result<()>;

    /// Claims the store's writes for the sequencer `owner` (a log's own
    /// id, kept beside its journal), when the log opens: two sequencers
    /// writing one store would fork the log. A store already claimed by
    /// another owner refuses ([`ClaimError::Held`]); the same owner claims
    /// it again after a restart.
    ///
    /// # Errors
    /// [`ClaimError`].
    fn claim(&self, owner: &str) -> Result<(), ClaimError>;

    /// Before each batch's writes: whether `owner` still holds the claim
    /// ([`ClaimError::Lost`] if another sequencer took it over). The
    /// default is for claims that last as long as the process (a lock).
    ///
    /// # Errors
    /// [`ClaimError`].
    fn check_claim(&self, owner: &str) -> Result<(), ClaimError> {
        let _ = owner;
        Ok(())
    }
}

/// Why a sequencer may not write a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// Another sequencer holds the store.
    #[error("another sequencer ({0}) holds this log's store")]
    Held(String),
    /// The claim was taken over since it was made.
    #[error("another sequencer took this log's store over")]
    Lost,
    /// The store failed.
    #[error("claiming the store")]
    Io(#[from] io::Error),
}

/// A [`TileStore`] on the local file system: each file written to a
/// temporary name, synced, renamed into place, and its directory synced
/// (or, [`without_sync`](Self::without_sync), written and renamed only).
/// Claimed with an OS file lock on `.sequencer.lock` in the directory,
/// held while the store (or a clone) lives.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
    sync: bool,
    lock: std::sync::Arc<std::sync::Mutex<Option<std::fs::File>>>,
}

/// The lock file a claimed [`DirStore`] holds.
const DIR_CLAIM: &str = ".sequencer.lock";

impl DirStore {
    /// Files under `root`.
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            sync: true,
            lock: std::sync::Arc::default(),
        }
    }

    /// The same store writing files atomically (temporary name, rename)
    /// but not syncing them: a process crash loses nothing (the kernel
    /// has the files), a power failure may lose the latest files. A tile
    /// log's journal is synced either way, so nothing acknowledged is lost:
    /// after a power failure the log may refuse to open until `log repair`
    /// rewrites its public files from the journal.
    #[must_use]
    pub fn without_sync(mut self) -> Self {
        self.sync = false;
        self
    }

    /// The directory the files are in (serve it as the log's read URL).
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> io::Result<PathBuf> {
        // Only the names this module makes: no "..", no absolute paths.
        if rel.is_empty()
            || rel.starts_with('/')
            || rel
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad tile path"));
        }
        Ok(self.root.join(rel))
    }
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

impl TileStore for DirStore {
    fn put(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        self.put_all(&[(rel.to_owned(), bytes.to_vec())])
    }

    fn put_all(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        use std::io::Write as _;
        // Every file written and synced under a temporary name, renamed,
        // then each directory synced once.
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut renames = Vec::with_capacity(files.len());
        for (rel, bytes) in files {
            let path = self.path(rel)?;
            let dir = path
                .parent()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "bad tile path"))?
                .to_owned();
            if !dirs.contains(&dir) {
                std::fs::create_dir_all(&dir)?;
                dirs.push(dir);
            }
            let tmp = temporary(&path);
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            if self.sync {
                f.sync_data()?;
            }
            renames.push((tmp, path));
        }
        for (tmp, path) in renames {
            std::fs::rename(tmp, path)?;
        }
        if self.sync {
            for dir in dirs {
                std::fs::File::open(dir)?.sync_all()?;
            }
        }
        Ok(())
    }

    fn get(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(rel)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.clone(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for e in entries {
                let e = e?;
                let Some(name) = e.file_name().to_str().map(str::to_owned) else {
                    continue; // not a name this store writes
                };
                let path = format!("{rel}{name}");
                if e.file_type()?.is_dir() {
                    let sub = format!("{path}/");
                    if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                        stack.push((e.path(), sub));
                    }
                } else if path.starts_with(prefix) {
                    out.push(path);
                }
            }
        }
        Ok(out)
    }

    fn delete(&self, rel: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(rel)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn claim(&self, owner: &str) -> Result<(), ClaimError> {
        let mut held = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held.is_some() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.root)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.root.join(DIR_CLAIM))?;
        match file.try_lock() {
            Ok(()) => {
                let _ = owner; // the lock names no owner: the OS knows it
                *held = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(ClaimError::Held("another process".into()))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(ClaimError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dir_store_refuses_paths_outside_it() {
        let s = DirStore::new(std::env::temp_dir().join("attestlog-dirstore-test"));
        for bad in ["", "/etc/passwd", "../x", "tile/../../x", "tile//0", "./x"] {
            assert!(s.put(bad, b"x").is_err(), "{bad}");
            assert!(s.delete(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dir_store_lists_under_a_prefix_and_deletes() {
        let root =
            std::env::temp_dir().join(format!("attestlog-dirstore-list-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let s = DirStore::new(&root);
        for p in [
            "checkpoint",
            "tile/0/000",
            "tile/0/001.p/3",
            "tile/entries/x001/002",
        ] {
            s.put(p, p.as_bytes()).unwrap();
        }
        let mut tiles = s.list("tile/").unwrap();
        tiles.sort();
        assert_eq!(
            tiles,
            ["tile/0/000", "tile/0/001.p/3", "tile/entries/x001/002"]
        );
        assert_eq!(s.list("tile/entries/").unwrap(), ["tile/entries/x001/002"]);
        s.delete("tile/0/000").unwrap();
        s.delete("tile/0/000").unwrap();
        assert_eq!(s.get("tile/0/000").unwrap(), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

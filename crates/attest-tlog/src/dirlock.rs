//! One process per log directory: an OS lock on the directory, and closing a writer thread.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Closes a writer thread's queue and waits for it: it finishes what it
/// has and exits (both logs' handles do this when the last clone drops).
pub(crate) fn close_writer<T>(tx: &Mutex<Option<T>>, writer: &Mutex<Option<JoinHandle<()>>>) {
    tx.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(w) = writer.lock().unwrap_or_else(PoisonError::into_inner).take() {
        let _ = w.join();
    }
}

/// An exclusive claim on a log directory: an OS file lock (`flock` on Unix,
/// `LockFileEx` on Windows) on `LOCK`, held as long as the file is open and
/// released by the OS when the process dies however it dies — no stale lock,
/// no PID to check, no window between checking and taking.
pub(crate) struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    pub(crate) fn take(dir: &Path) -> Result<Self, LocalError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("LOCK"))
            .map_err(|source| {
                LocalError::Storage(StorageError::Io {
                    context: "open LOCK",
                    source,
                })
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LocalError::Locked(dir.to_owned())),
            Err(std::fs::TryLockError::Error(source)) => {
                Err(LocalError::Storage(StorageError::Io {
                    context: "lock LOCK",
                    source,
                }))
            }
        }
    }
}

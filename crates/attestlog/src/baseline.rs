//! The auditor's memory: the last checkpoint it verified for each log, kept
//! in storage the auditor owns — never in the store it audits, whose owner
//! could otherwise delete the evidence of a fork.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Why the baseline could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Reading, writing or locking the file failed.
    #[error("audit baseline {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a baseline this version reads.
    #[error("audit baseline {path} is unreadable")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A baseline format version this build does not know.
    #[error("audit baseline {path} has format version {version}; this build reads version 1")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u64,
    },
    /// An async auditor could start no thread to read or write the
    /// baseline on (resources exhausted), or the call panicked there.
    #[error("no thread to run the audit baseline on")]
    NoThread(#[source] std::io::Error),
}

/// Where an auditor keeps the last checkpoint it verified for each log
/// (keyed by log id and tree origin). The checkpoint is kept as the signed
/// note text and verified again on every load, so a tampered baseline fails
/// rather than misleads.
pub trait AuditBaseline: Send + Sync {
    /// The checkpoint last stored for `log`, if any.
    ///
    /// # Errors
    /// [`BaselineError`].
    fn load(&self, log: &str) -> Result<Option<String>, BaselineError>;

    /// Replaces the checkpoint stored for `log`, durably: after `Ok`, a
    /// crash does not lose it.
    ///
    /// # Errors
    /// [`BaselineError`].
    fn store(&self, log: &str, checkpoint: &str) -> Result<(), BaselineError>;
}

/// A baseline in memory: for tests and for one-process audit loops.
#[derive(Debug, Default)]
pub struct MemoryBaseline {
    logs: Mutex<BTreeMap<String, String>>,
}

impl MemoryBaseline {
    /// An empty baseline.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl AuditBaseline for MemoryBaseline {
    fn load(&self, log: &str) -> Result<Option<String>, BaselineError> {
        let logs = self
            .logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(logs.get(log).cloned())
    }

    fn store(&self, log: &str, checkpoint: &str) -> Result<(), BaselineError> {
        self.logs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(log.to_owned(), checkpoint.to_owned());
        Ok(())
    }
}

impl<B: AuditBaseline + ?Sized> AuditBaseline for std::sync::Arc<B> {
    fn load(&self, log: &str) -> Result<Option<String>, BaselineError> {
        (**self).load(log)
    }
    fn store(&self, log: &str, checkpoint: &str) -> Result<(), BaselineError> {
        (**self).store(log, checkpoint)
    }
}

#[derive(Serialize, Deserialize)]
struct FileFormat {
    version: u64,
    logs: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    checkpoint: String,
}

/// A baseline in one JSON file, replaced atomically (written beside it,
/// flushed to disk, renamed over it, the directory flushed) under an
/// exclusive lock on `PATH.lock`, so concurrent auditors do not lose each
/// other's updates.
#[derive(Debug, Clone)]
pub struct FileBaseline {
    path: PathBuf,
}

impl FileBaseline {
    /// A baseline in `path` (created on the first store).
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The default location under the user's data directory:
    /// `$XDG_DATA_HOME/attestlog/audit-baseline.json`, else
    /// `$HOME/.local/share/attestlog/…` (`%APPDATA%\attestlog\…` on
    /// Windows); `None` when none of those is set.
    #[must_use]
    pub fn default_path() -> Option<PathBuf> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = var("XDG_DATA_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
            .or_else(|| var("APPDATA"))?;
        Some(dir.join("attestlog").join("audit-baseline.json"))
    }

    fn io(&self, source: std::io::Error) -> BaselineError {
        BaselineError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn read(&self) -> Result<FileFormat, BaselineError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(FileFormat {
                    version: 1,
                    logs: BTreeMap::new(),
                });
            }
            Err(e) => return Err(self.io(e)),
        };
        let f: FileFormat =
            serde_json::from_slice(&bytes).map_err(|source| BaselineError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
        if f.version != 1 {
            return Err(BaselineError::Version {
                path: self.path.clone(),
                version: f.version,
            });
        }
        Ok(f)
    }

    fn write(&self, f: &FileFormat) -> Result<(), BaselineError> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map_or_else(|| "baseline".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let json = serde_json::to_vec_pretty(f).map_err(|source| BaselineError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        let mut file = File::create(&tmp).map_err(|e| self.io(e))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|e| self.io(e))?;
        drop(file);
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.io(e)
        })?;
        // The rename is durable once the directory is (Unix; elsewhere the
        // directory cannot be opened for syncing and the rename suffices).
        #[cfg(unix)]
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io(e))?;
        Ok(())
    }
}

impl AuditBaseline for FileBaseline {
    fn load(&self, log: &str) -> Result<Option<String>, BaselineError> {
        Ok(self.read()?.logs.remove(log).map(|e| e.checkpoint))
    }

    fn store(&self, log: &str, checkpoint: &str) -> Result<(), BaselineError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let mut lock_path = self.path.clone().into_os_string();
        lock_path.push(".lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| self.io(e))?;
        // Blocks while another auditor writes; released when `lock` drops.
        lock.lock().map_err(|e| self.io(e))?;
        let mut f = self.read()?;
        f.logs.insert(
            log.to_owned(),
            Entry {
                checkpoint: checkpoint.to_owned(),
            },
        );
        self.write(&f)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_baseline_round_trips_and_keeps_other_logs() {
        let dir = attestlog_testkit::TempDir::new("baseline");
        let b = FileBaseline::new(dir.path().join("sub").join("b.json"));
        assert_eq!(b.load("a").unwrap(), None);
        b.store("a", "note a1").unwrap();
        b.store("b", "note b1").unwrap();
        b.store("a", "note a2").unwrap();
        let again = FileBaseline::new(b.path());
        assert_eq!(again.load("a").unwrap().as_deref(), Some("note a2"));
        assert_eq!(again.load("b").unwrap().as_deref(), Some("note b1"));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    #[test]
    fn a_damaged_or_future_baseline_is_an_error_not_an_empty_one() {
        let dir = attestlog_testkit::TempDir::created("baseline-bad");
        let path = dir.path().join("b.json");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(
            FileBaseline::new(&path).load("a"),
            Err(BaselineError::Corrupt { .. })
        ));
        std::fs::write(&path, br#"{"version":2,"logs":{}}"#).unwrap();
        assert!(matches!(
            FileBaseline::new(&path).load("a"),
            Err(BaselineError::Version { version: 2, .. })
        ));
    }
}

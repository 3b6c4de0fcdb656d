//! The v2 log's static files in object storage, through the `object_store`
//! crate: any `Arc<dyn ObjectStore>` — S3, GCS, Azure (enable
//! `object_store`'s `aws`, `gcp` or `azure` feature in your own crate),
//! a local directory, memory.
//!
//! An object `put` is atomic (readers see the old object or the new one)
//! and durable when it returns, which is all a [`TileStore`] promises; a
//! batch's files are uploaded concurrently, then its checkpoint. Only one
//! process may write a log: object storage has no directory lock, so the
//! deployment must ensure a single sequencer.

use std::io;
use std::sync::Arc;

use futures_util::future::try_join_all;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions};

use crate::{ClaimError, TileStore};

/// What the lease object holds.
fn lease_bytes(owner: &str, epoch: u64) -> bytes::Bytes {
    bytes::Bytes::from(
        serde_json::to_vec(&serde_json::json!({ "owner": owner, "epoch": epoch }))
            .unwrap_or_default(),
    )
}

/// The owner and epoch of a lease object's bytes (`None`: not a lease).
fn read_lease(b: &[u8]) -> Option<(String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(b).ok()?;
    Some((v["owner"].as_str()?.to_owned(), v["epoch"].as_u64()?))
}

/// A [`TileStore`] over an [`ObjectStore`], under a key prefix.
///
/// Fenced by a lease object, `sequencer-lease` under the prefix: the first
/// sequencer creates it (`PutMode::Create`, atomic), another one finds it
/// held and refuses ([`ClaimError::Held`]); the holder renews it before
/// each batch with a conditional update (`PutMode::Update` on the version it
/// wrote), so a sequencer whose lease was taken over stops before it
/// writes. A store without conditional updates (`LocalFileSystem`) is
/// checked by reading the lease back instead. To move the sequencer, stop
/// it and delete the lease object.
pub struct ObjectTileStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    rt: tokio::runtime::Runtime,
    lease: std::sync::Mutex<Option<object_store::UpdateVersion>>,
}

/// The lease object's name under the prefix.
pub const LEASE: &str = "sequencer-lease";

impl std::fmt::Debug for ObjectTileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectTileStore")
            .field("store", &self.store.to_string())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl ObjectTileStore {
    /// Files of the log under `prefix` (`""` for the bucket's root, or
    /// e.g. `logs/v2`) in `store`. Its calls run on a small runtime of its
    /// own, so it works from any thread, inside a tokio runtime's blocking
    /// pool included.
    ///
    /// # Errors
    /// The runtime could not be started.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("attestlog-objstore")
            .enable_all()
            .build()?;
        Ok(Self {
            store,
            prefix: prefix.trim_matches('/').to_owned(),
            rt,
            lease: std::sync::Mutex::new(None),
        })
    }

    fn key(&self, rel: &str) -> io::Result<ObjectPath> {
        let full = if self.prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.prefix)
        };
        ObjectPath::parse(&full).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    /// Runs `fut` to completion on the store's runtime from any thread.
    fn run<T: Send + 'static>(
        &self,
        fut: impl std::future::Future<Output = io::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        // Spawned, then waited for through a channel: never `block_on` on a
        // thread that may itself belong to a runtime.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.rt.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| io::Error::other("the object store task stopped"))?
    }
}

fn io_error(e: object_store::Error) -> io::Error {
    io::Error::other(e)
}

impl TileStore for ObjectTileStore {
    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let key = self.key(path)?;
        let store = Arc::clone(&self.store);
        let payload = bytes::Bytes::copy_from_slice(bytes);
        self.run(async move {
            store
                .put_opts(&key, payload.into(), PutOptions::default())
                .await
                .map(|_| ())
                .map_err(io_error)
        })
    }

    fn put_all(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        let jobs = files
            .iter()
            .map(|(p, b)| Ok((self.key(p)?, bytes::Bytes::copy_from_slice(b))))
            .collect::<io::Result<Vec<_>>>()?;
        let store = Arc::clone(&self.store);
        self.run(async move {
            try_join_all(jobs.into_iter().map(|(key, payload)| {
                let store = Arc::clone(&store);
                async move {
                    store
                        .put_opts(&key, payload.into(), PutOptions::default())
                        .await
                        .map(|_| ())
                }
            }))
            .await
            .map(|_| ())
            .map_err(io_error)
        })
    }

    fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let key = self.key(path)?;
        let store = Arc::clone(&self.store);
        self.run(async move {
            match store.get_opts(&key, GetOptions::default()).await {
                Ok(r) => r.bytes().await.map(|b| Some(b.to_vec())).map_err(io_error),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(io_error(e)),
            }
        })
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        use futures_util::TryStreamExt as _;
        let store = Arc::clone(&self.store);
        // `object_store` lists whole path segments: list the directory part
        // of the prefix, then keep what starts with all of it.
        let dir = prefix.rsplit_once('/').map_or("", |(d, _)| d);
        let base = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let under = if dir.is_empty() {
            self.prefix.clone()
        } else {
            format!("{base}{dir}")
        };
        let under = ObjectPath::parse(&under)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let prefix = prefix.to_owned();
        self.run(async move {
            let metas: Vec<_> = store
                .list(Some(&under))
                .try_collect()
                .await
                .map_err(io_error)?;
            Ok(metas
                .into_iter()
                .filter_map(|m| m.location.as_ref().strip_prefix(&base).map(str::to_owned))
                .filter(|p| p.starts_with(&prefix))
                .collect())
        })
    }

    fn delete(&self, path: &str) -> io::Result<()> {
        let key = self.key(path)?;
        let store = Arc::clone(&self.store);
        self.run(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io_error(e)),
            }
        })
    }

    fn claim(&self, owner: &str) -> Result<(), ClaimError> {
        let key = self.key(LEASE)?;
        for _ in 0..3 {
            let store = Arc::clone(&self.store);
            let k = key.clone();
            let found = self.run(async move {
                match store.get_opts(&k, GetOptions::default()).await {
                    Ok(r) => {
                        let version = object_store::UpdateVersion {
                            e_tag: r.meta.e_tag.clone(),
                            version: r.meta.version.clone(),
                        };
                        let b = r.bytes().await.map_err(io_error)?;
                        Ok(Some((b, version)))
                    }
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(io_error(e)),
                }
            })?;
            let (mode, epoch) = match found {
                None => (PutMode::Create, 0),
                Some((b, version)) => match read_lease(&b) {
                    Some((o, epoch)) if o == owner => (PutMode::Update(version), epoch + 1),
                    Some((o, _)) => return Err(ClaimError::Held(o)),
                    None => return Err(ClaimError::Held("an unreadable lease".into())),
                },
            };
            match self.put_lease(&key, owner, epoch, mode)? {
                LeasePut::Written(v) => {
                    *self
                        .lease
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(v);
                    return Ok(());
                }
                // Our own lease, on a store without conditional updates:
                // held as it is (checked by reading it back).
                LeasePut::Unsupported => {
                    *self
                        .lease
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                    return Ok(());
                }
                // Written by someone else in between: look again.
                LeasePut::Conflict => {}
            }
        }
        Err(ClaimError::Lost)
    }

    fn check_claim(&self, owner: &str) -> Result<(), ClaimError> {
        let key = self.key(LEASE)?;
        let held = self
            .lease
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match held {
            Some(version) => {
                // Renew: only if nobody wrote the lease since we did.
                let epoch = u64::try_from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                )
                .unwrap_or(0);
                match self.put_lease(&key, owner, epoch, PutMode::Update(version))? {
                    LeasePut::Written(v) => {
                        *self
                            .lease
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(v);
                        Ok(())
                    }
                    LeasePut::Conflict => Err(ClaimError::Lost),
                    // No conditional updates here: read the lease back.
                    LeasePut::Unsupported => {
                        *self
                            .lease
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                        self.lease_is(owner)
                    }
                }
            }
            None => self.lease_is(owner),
        }
    }
}

/// How a conditional write of the lease went.
enum LeasePut {
    Written(object_store::UpdateVersion),
    /// The condition failed: someone else wrote (or created) it.
    Conflict,
    /// The store cannot write with this condition.
    Unsupported,
}

impl ObjectTileStore {
    /// Whether the lease names `owner` (for stores without conditional
    /// updates: a check, not a fence).
    fn lease_is(&self, owner: &str) -> Result<(), ClaimError> {
        let b = self.get(LEASE)?.ok_or(ClaimError::Lost)?;
        match read_lease(&b) {
            Some((o, _)) if o == owner => Ok(()),
            _ => Err(ClaimError::Lost),
        }
    }

    /// Writes the lease with `mode`.
    fn put_lease(
        &self,
        key: &ObjectPath,
        owner: &str,
        epoch: u64,
        mode: PutMode,
    ) -> Result<LeasePut, ClaimError> {
        let store = Arc::clone(&self.store);
        let key = key.clone();
        let payload = lease_bytes(owner, epoch);
        let r = self.run(async move {
            match store
                .put_opts(&key, payload.into(), PutOptions::from(mode))
                .await
            {
                Ok(r) => Ok(LeasePut::Written(object_store::UpdateVersion::from(r))),
                Err(
                    object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. },
                ) => Ok(LeasePut::Conflict),
                Err(object_store::Error::NotImplemented { .. }) => Ok(LeasePut::Unsupported),
                Err(e) => Err(io_error(e)),
            }
        })?;
        Ok(r)
    }
}

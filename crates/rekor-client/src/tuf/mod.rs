//! Sigstore's trust material from its TUF repository (feature `tuf`): the
//! current `trusted_root.json` and `signing_config.v0.2.json`, verified from
//! an initial root compiled in (production, staging) or given (a private
//! Sigstore), over any [`Transport`] or [`AsyncTransport`], with a verified
//! cache on disk for later offline runs.
//!
//! ```no_run
//! # #[cfg(feature = "ureq")] {
//! use rekor_client::tuf::{TufClient, TufRepository};
//! let trust = TufClient::new(TufRepository::production())
//!     .update(&rekor_client::UreqTransport::new(), &attest_dsse::SystemClock)
//!     .expect("Sigstore's trust material");
//! let root = attest_rekor::TrustedRoot::from_json(&trust.trusted_root).expect("a trusted root");
//! # drop(root); }
//! ```
//!
//! The TUF client workflow (root chain, timestamp, snapshot, targets;
//! thresholds, rollback, expiry, lengths and hashes, consistent snapshots)
//! is `sigstore-tuf`'s; this module gives it a transport, a clock, a cache
//! directory, the embedded roots and typed errors.

mod provider;

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use attest_dsse::{Clock, Timestamp};
use http::{Request, StatusCode};
use sha2::Digest as _;
use sigstore_tuf::transport::FetchFuture;
use std::sync::{Arc, Mutex, PoisonError};

use sigstore_tuf::{FileStore, MetadataStore, Repository, StoreRepository, Updater, UpdaterConfig};

use crate::{AsyncTransport, Transport};

/// Production's initial root (version 16), reached by the root chain from
/// any earlier one.
const PRODUCTION_ROOT: &[u8] = include_bytes!("roots/production-16.root.json");
/// Staging's initial root (version 15).
const STAGING_ROOT: &[u8] = include_bytes!("roots/staging-15.root.json");

/// The trusted root target every Sigstore TUF repository lists.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";
/// The signing config target (v0.2) of Sigstore's repositories.
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// A TUF repository and the initial root trusted for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TufRepository {
    url: String,
    initial_root: Cow<'static, [u8]>,
}

impl TufRepository {
    /// Sigstore's public-good repository's URL.
    pub const PRODUCTION_URL: &'static str = "https://tuf-repo-cdn.sigstore.dev";
    /// Sigstore's staging repository's URL.
    pub const STAGING_URL: &'static str = "https://tuf-repo-cdn.sigstage.dev";

    /// Sigstore's public-good instance, from the embedded root.
    #[must_use]
    pub fn production() -> Self {
        Self {
            url: Self::PRODUCTION_URL.to_owned(),
            initial_root: Cow::Borrowed(PRODUCTION_ROOT),
        }
    }

    /// Sigstore's staging instance, from the embedded root.
    #[must_use]
    pub fn staging() -> Self {
        Self {
            url: Self::STAGING_URL.to_owned(),
            initial_root: Cow::Borrowed(STAGING_ROOT),
        }
    }

    /// A repository at `url` (metadata at `URL/N.root.json`,
    /// `URL/timestamp.json`…, targets at `URL/targets/`), trusted from
    /// `initial_root` (its `root.json`, any version: later ones are reached
    /// by the root chain). The root is checked when first used.
    #[must_use]
    pub fn custom(url: impl Into<String>, initial_root: Vec<u8>) -> Self {
        Self {
            url: url.into().trim_end_matches('/').to_owned(),
            initial_root: Cow::Owned(initial_root),
        }
    }

    /// The repository a user chose: Sigstore's production or (`staging`)
    /// staging instance; with a `url`, that repository instead — trusted
    /// from `initial_root` when given (a private Sigstore), else from the
    /// embedded root of the instance it mirrors.
    #[must_use]
    pub fn choose(staging: bool, url: Option<&str>, initial_root: Option<Vec<u8>>) -> Self {
        let embedded = if staging {
            Self::staging()
        } else {
            Self::production()
        };
        match (url, initial_root) {
            (None, _) => embedded,
            (Some(url), Some(root)) => Self::custom(url, root),
            (Some(url), None) => Self {
                url: url.trim_end_matches('/').to_owned(),
                initial_root: embedded.initial_root,
            },
        }
    }

    /// The repository's base URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The initial root's bytes.
    #[must_use]
    pub fn initial_root(&self) -> &[u8] {
        &self.initial_root
    }

    /// This repository's directory under a cache `base`: the URL's host and
    /// path made file-name safe, then a hash of the whole URL (two URLs
    /// never share a directory).
    #[must_use]
    pub fn cache_dir_in(&self, base: &Path) -> PathBuf {
        let readable: String = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(80)
            .collect();
        let digest = sha2::Sha256::digest(self.url.as_bytes());
        let tag = base16ct::lower::encode_string(&digest[..6]);
        base.join(format!("{readable}-{tag}"))
    }
}

/// The platform's cache directory for TUF metadata
/// (`$XDG_CACHE_HOME/attestlog/tuf` or `~/.cache/attestlog/tuf` on Linux,
/// `~/Library/Caches/attestlog/tuf` on macOS, `%LOCALAPPDATA%\attestlog\tuf`
/// on Windows), `None` when the platform has none.
#[must_use]
pub fn default_cache_base() -> Option<PathBuf> {
    // Three environment variables: not worth the `dirs` crate, whose
    // `option-ext` dependency is MPL-2.0.
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library").join("Caches"))
    } else {
        var("XDG_CACHE_HOME")
            .filter(|p| p.is_absolute())
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
    };
    base.map(|d| d.join("attestlog").join("tuf"))
}

/// Why no trust material came from the repository. Every refusal of the
/// TUF workflow is its own variant, so a caller (or a test of an attack)
/// can tell them apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TufError {
    /// The initial root is not a root signed to its own threshold.
    #[error("the initial TUF root is unusable")]
    InitialRoot(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Fetching a file failed (connection, status, body).
    #[error("fetching {file} from the TUF repository failed")]
    Fetch {
        /// The file, relative to the repository.
        file: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server answered with a status other than 200 or 404.
    #[error("the TUF repository answered {status} for {file}")]
    Status {
        /// The file.
        file: String,
        /// The HTTP status.
        status: u16,
    },
    /// A file the workflow needs is not in the repository (404).
    #[error("{file} is not in the TUF repository")]
    Missing {
        /// The file.
        file: String,
    },
    /// A response is longer than the limit for its file.
    #[error("{file} is longer than its limit of {limit} bytes")]
    TooLarge {
        /// The file.
        file: String,
        /// The limit.
        limit: u64,
    },
    /// Fewer distinct keys of a role signed than its threshold (metadata
    /// from another repository, dropped or forged signatures).
    #[error("{role} metadata is signed by {found} of its keys; {threshold} are required")]
    Threshold {
        /// The role.
        role: String,
        /// Valid signatures by distinct role keys.
        found: u64,
        /// The role's threshold.
        threshold: u64,
    },
    /// One key signed a role's metadata twice.
    #[error("{role} metadata carries two signatures by key {key_id}")]
    DuplicateSignature {
        /// The role.
        role: String,
        /// The key.
        key_id: String,
    },
    /// A role's version went backwards (a rollback).
    #[error("{role} version {offered} is older than the trusted version {trusted}")]
    Rollback {
        /// The role.
        role: String,
        /// The version trusted already.
        trusted: u64,
        /// The version offered.
        offered: u64,
    },
    /// The next root in the chain is not version N+1 (a gap or a replay).
    #[error("the root chain skips: after version {trusted} came version {offered}")]
    RootChain {
        /// The trusted root's version.
        trusted: u64,
        /// The version of the root offered as the next one.
        offered: u64,
    },
    /// A role's metadata has expired (a freeze attack, or a stale cache
    /// offline).
    #[error("{role} metadata expired at {expires}")]
    Expired {
        /// The role.
        role: String,
        /// When it expired.
        expires: Timestamp,
    },
    /// A file's length or hash is not the one its parent role pins.
    #[error("integrity check failed: {detail}")]
    Integrity {
        /// What differed.
        detail: String,
    },
    /// The targets metadata does not list a target.
    #[error("the TUF repository's targets do not list {target}")]
    TargetNotListed {
        /// The target's path.
        target: String,
    },
    /// Any other refusal of the metadata (malformed JSON, an unusable key).
    #[error("TUF metadata refused")]
    Metadata(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Offline, a file the workflow needs is not in the cache, or does not
    /// verify there (a cached file that does not verify is never used).
    #[error("the TUF cache has no valid {file} (update online to fetch it again)")]
    NotCached {
        /// The file.
        file: String,
    },
    /// Offline, with no cached metadata for the repository.
    #[error("no cached TUF metadata in {dir} (run once online, e.g. `attestlog trust update`)")]
    NoCache {
        /// The cache directory.
        dir: PathBuf,
    },
    /// Writing the cache failed.
    #[error("writing the TUF cache in {dir} failed")]
    Cache {
        /// The cache directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Offline without a cache directory.
    #[error("offline use needs a cache directory, and none is set")]
    NoCacheDir,
}

impl TufError {
    fn from_tuf(e: sigstore_tuf::Error) -> Self {
        use sigstore_tuf::Error as E;
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        match e {
            E::ThresholdNotMet {
                role,
                found,
                threshold,
            } => Self::Threshold {
                role,
                found: n(found),
                threshold: n(threshold),
            },
            E::DuplicateSignature { role, key_id } => Self::DuplicateSignature { role, key_id },
            E::Rollback { role, trusted, new } => Self::Rollback {
                role,
                trusted,
                offered: new,
            },
            E::BadRootVersion { trusted, new } => Self::RootChain {
                trusted,
                offered: new,
            },
            E::Expired { role, expires } => Self::Expired {
                role,
                expires: Timestamp::from_unix(expires.as_second()),
            },
            E::IntegrityMismatch(detail) => Self::Integrity { detail },
            E::TargetNotFound(target) => Self::TargetNotListed { target },
            // `sigstore-tuf` says "404" as a message without a source.
            E::Transport {
                source: None,
                message,
            } if message.ends_with(" not found") => Self::Missing {
                file: message
                    .trim_end_matches(" not found")
                    .trim_start_matches("target ")
                    .to_owned(),
            },
            // Our repositories report their own errors through the
            // transport variant's source: hand them back unwrapped.
            E::Transport {
                source: Some(source),
                message,
            } => match source.downcast::<Self>() {
                Ok(ours) => *ours,
                Err(other) => Self::Fetch {
                    file: message,
                    source: other,
                },
            },
            other => Self::Metadata(Box::new(other)),
        }
    }
}

/// What a TUF update established.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigstoreTrust {
    /// The `trusted_root.json` target, its bytes as listed (hash and length
    /// checked).
    pub trusted_root: Vec<u8>,
    /// The `signing_config.v0.2.json` target, when the repository lists one.
    pub signing_config: Option<Vec<u8>>,
    /// Versions and expiries of the metadata in force.
    pub metadata: TufMetadata,
}

/// The versions and expiry times of the metadata a [`SigstoreTrust`] came
/// from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TufMetadata {
    /// The repository's URL.
    pub repository: String,
    /// `root.json`: version, expiry.
    pub root: (u64, Timestamp),
    /// `timestamp.json`.
    pub timestamp: (u64, Timestamp),
    /// `snapshot.json`.
    pub snapshot: (u64, Timestamp),
    /// `targets.json`.
    pub targets: (u64, Timestamp),
    /// Whether the metadata came from the cache alone (offline).
    pub offline: bool,
}

/// A TUF client for one repository: [`update`](Self::update) (online) or
/// [`offline`](Self::offline) (the cache alone).
#[derive(Clone, Debug)]
pub struct TufClient {
    repo: TufRepository,
    cache: Option<PathBuf>,
    timeout: Duration,
    limits: UpdaterConfig,
}

impl TufClient {
    /// A client for `repo`, caching in its directory under
    /// [`default_cache_base`] (when the platform has one).
    #[must_use]
    pub fn new(repo: TufRepository) -> Self {
        let cache = default_cache_base().map(|b| repo.cache_dir_in(&b));
        let mut limits = UpdaterConfig::default();
        // Sigstore's targets are small; nothing needs 50 MB.
        limits.target_max_length = 4 << 20;
        Self {
            repo,
            cache,
            timeout: Duration::from_secs(30),
            limits,
        }
    }

    /// Caches in `dir` (this repository's own directory) instead.
    #[must_use]
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// Keeps nothing on disk (every update starts from the initial root).
    #[must_use]
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// Each request's timeout (30 s by default).
    #[must_use]
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The repository.
    #[must_use]
    pub const fn repository(&self) -> &TufRepository {
        &self.repo
    }

    /// The cache directory, if any.
    #[must_use]
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_deref()
    }

    /// Refreshes the metadata from the repository over `transport` (the
    /// cache's verified metadata as the floor against rollback) and returns
    /// the trusted root and signing config, written through to the cache.
    /// A cached file that no longer verifies is ignored and fetched again.
    ///
    /// # Errors
    /// [`TufError`]: the step of the TUF workflow that refused.
    pub fn update<T>(&self, transport: &T, clock: &dyn Clock) -> Result<SigstoreTrust, TufError>
    where
        T: Transport + Clone + Send + Sync + 'static,
    {
        let repo = Blocking {
            base: self.repo.url.clone(),
            transport: transport.clone(),
            timeout: self.timeout,
        };
        // `Blocking`'s futures are ready when made: one poll drives them.
        ready(self.run(repo, clock.now(), false))
    }

    /// [`update`](Self::update) over an [`AsyncTransport`].
    ///
    /// # Errors
    /// As [`update`](Self::update).
    pub async fn update_async<T>(
        &self,
        transport: &T,
        clock: &dyn Clock,
    ) -> Result<SigstoreTrust, TufError>
    where
        T: AsyncTransport + Clone + Send + Sync + 'static,
    {
        let repo = Async {
            base: self.repo.url.clone(),
            transport: transport.clone(),
            timeout: self.timeout,
        };
        self.run(repo, clock.now(), false).await
    }

    /// The trust material from the cache alone, verified as an update would
    /// (from the initial root; unexpired at `clock`'s now).
    ///
    /// # Errors
    /// [`TufError::NoCache`] when nothing is cached, [`TufError::Expired`]
    /// when the cached metadata has expired, any other [`TufError`] when a
    /// cached file does not verify.
    pub fn offline(&self, clock: &dyn Clock) -> Result<SigstoreTrust, TufError> {
        let dir = self.cache.as_ref().ok_or(TufError::NoCacheDir)?;
        if !dir.join("timestamp.json").is_file() {
            return Err(TufError::NoCache { dir: dir.clone() });
        }
        let repo = StoreRepository::new(FileStore::new(dir));
        ready(self.run(repo, clock.now(), true)).map_err(|e| match e {
            TufError::Missing { file } => TufError::NotCached { file },
            other => other,
        })
    }

    async fn run<R: Repository + 'static>(
        &self,
        repo: R,
        now: Timestamp,
        offline: bool,
    ) -> Result<SigstoreTrust, TufError> {
        provider::install();
        let now = jiff::Timestamp::from_second(now.unix())
            .map_err(|e| TufError::Metadata(Box::new(e)))?;
        let mut updater = Updater::new(repo, &self.repo.initial_root)
            .map_err(|e| TufError::InitialRoot(Box::new(e)))?
            .with_config(self.limits);
        let staged = self.cache.as_ref().map(|dir| Arc::new(Staged::new(dir)));
        if let Some(s) = &staged {
            updater = updater.with_store(s.clone());
        }
        let trust = self.fetch(&mut updater, now, offline).await?;
        if let Some(s) = staged {
            s.commit()?;
        }
        Ok(trust)
    }

    async fn fetch(
        &self,
        updater: &mut Updater,
        now: jiff::Timestamp,
        offline: bool,
    ) -> Result<SigstoreTrust, TufError> {
        updater.refresh(now).await.map_err(TufError::from_tuf)?;
        let trusted_root = updater
            .get_target(TRUSTED_ROOT_TARGET, now)
            .await
            .map_err(TufError::from_tuf)?;
        let signing_config = match updater.get_target(SIGNING_CONFIG_TARGET, now).await {
            Ok(bytes) => Some(bytes),
            Err(sigstore_tuf::Error::TargetNotFound(_)) => None,
            Err(e) => return Err(TufError::from_tuf(e)),
        };
        let t = updater.trusted();
        let at = |ts: jiff::Timestamp| Timestamp::from_unix(ts.as_second());
        let missing = |role: &str| {
            TufError::Metadata(format!("no trusted {role} metadata after the update").into())
        };
        let root = t.root();
        let ts = t.timestamp().ok_or_else(|| missing("timestamp"))?;
        let snap = t.snapshot().ok_or_else(|| missing("snapshot"))?;
        let targets = t
            .targets_role("targets")
            .ok_or_else(|| missing("targets"))?;
        Ok(SigstoreTrust {
            trusted_root,
            signing_config,
            metadata: TufMetadata {
                repository: self.repo.url.clone(),
                root: (root.version, at(root.expires)),
                timestamp: (ts.version, at(ts.expires)),
                snapshot: (snap.version, at(snap.expires)),
                targets: (targets.version, at(targets.expires)),
                offline,
            },
        })
    }
}

/// The cache as the updater sees it: reads from disk (or what this update
/// verified already), writes held back until the whole update succeeded.
///
/// `sigstore-tuf` writes each file through as soon as it verifies. After a
/// refused update that would leave a new timestamp beside the old snapshot
/// it no longer pins, and the next run, which seeds its rollback floor only
/// from a snapshot matching the cached timestamp, would lose the floor (a
/// targets rollback then passes). Committing only complete updates keeps
/// the cached set consistent: the floor is the last update that succeeded.
struct Staged {
    disk: FileStore,
    dir: PathBuf,
    pending: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Staged {
    fn new(dir: &Path) -> Self {
        Self {
            disk: FileStore::new(dir),
            dir: dir.to_owned(),
            pending: Mutex::default(),
        }
    }

    fn commit(&self) -> Result<(), TufError> {
        let pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        for (name, bytes) in pending {
            self.disk
                .store(&name, &bytes)
                .map_err(|e| TufError::Cache {
                    dir: self.dir.clone(),
                    source: Box::new(e),
                })?;
        }
        Ok(())
    }
}

impl MetadataStore for Staged {
    fn load(&self, name: &str) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, bytes)) = pending.iter().rev().find(|(n, _)| n == name) {
            return Ok(Some(bytes.clone()));
        }
        drop(pending);
        self.disk.load(name)
    }

    fn store(&self, name: &str, bytes: &[u8]) -> sigstore_tuf::Result<()> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.to_owned(), bytes.to_vec()));
        Ok(())
    }
}

/// Polls a future whose every await point is ready (our blocking and cache
/// repositories answer before returning their futures).
fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        // Unreachable with our repositories; a pending future would only
        // be polled again, never lost.
        std::thread::yield_now();
    }
}

/// The answer to a GET of `file`: its bytes, `None` for 404, or why not.
fn answer(
    file: &str,
    status: StatusCode,
    body: Vec<u8>,
    max_length: u64,
) -> sigstore_tuf::Result<Option<Vec<u8>>> {
    let ours = |e: TufError| sigstore_tuf::Error::transport_with_source(file, e);
    if status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if status != StatusCode::OK {
        return Err(ours(TufError::Status {
            file: file.to_owned(),
            status: status.as_u16(),
        }));
    }
    if u64::try_from(body.len()).unwrap_or(u64::MAX) > max_length {
        return Err(ours(TufError::TooLarge {
            file: file.to_owned(),
            limit: max_length,
        }));
    }
    Ok(Some(body))
}

fn get(base: &str, file: &str) -> sigstore_tuf::Result<Request<Vec<u8>>> {
    Request::get(format!("{base}/{file}"))
        .body(Vec::new())
        .map_err(|e| sigstore_tuf::Error::transport_with_source(file, e))
}

fn fetch_failed(
    file: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> sigstore_tuf::Error {
    sigstore_tuf::Error::transport_with_source(
        file,
        TufError::Fetch {
            file: file.to_owned(),
            source: Box::new(e),
        },
    )
}

/// The repository over a blocking transport.
struct Blocking<T> {
    base: String,
    transport: T,
    timeout: Duration,
}

impl<T: Transport> Blocking<T> {
    fn fetch(&self, file: &str, max_length: u64) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        let resp = self
            .transport
            .send(get(&self.base, file)?, self.timeout)
            .map_err(|e| fetch_failed(file, e))?;
        let status = resp.status();
        answer(file, status, resp.into_body(), max_length)
    }
}

impl<T: Transport + Send + Sync> Repository for Blocking<T> {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        let out = self.fetch(name, max_length);
        Box::pin(std::future::ready(out))
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        let out = self.fetch(&format!("targets/{path}"), max_length);
        Box::pin(std::future::ready(out))
    }
}

/// The repository over an async transport.
struct Async<T> {
    base: String,
    transport: T,
    timeout: Duration,
}

impl<T: AsyncTransport> Async<T> {
    async fn fetch(&self, file: String, max_length: u64) -> sigstore_tuf::Result<Option<Vec<u8>>> {
        let resp = self
            .transport
            .send(get(&self.base, &file)?, self.timeout)
            .await
            .map_err(|e| fetch_failed(&file, e))?;
        let status = resp.status();
        answer(&file, status, resp.into_body(), max_length)
    }
}

impl<T: AsyncTransport + Send + Sync> Repository for Async<T> {
    fn fetch_metadata<'a>(&'a self, name: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(self.fetch(name.to_owned(), max_length))
    }

    fn fetch_target<'a>(&'a self, path: &'a str, max_length: u64) -> FetchFuture<'a> {
        Box::pin(self.fetch(format!("targets/{path}"), max_length))
    }
}

//! A Rekor v2 client (blocking): publish a `hashedrekord` 0.0.2 entry, read
//! the log's static tiles (C2SP tlog-tiles) from a read URL configured apart
//! from the write URL, compute inclusion and consistency proofs from tiles
//! that are each verified against a verified checkpoint, and keep verified
//! tiles in an optional on-disk cache.
//!
//! ```no_run
//! # fn demo(transport: impl rekor_client::Transport + Sync, logs: Vec<attest_rekor::TrustedLog>,
//! #         req: attest_rekor::v2::V2Request) -> Result<(), rekor_client::ClientError> {
//! use rekor_client::v2::RekorV2Client;
//! let client = RekorV2Client::new("https://log2025-1.rekor.sigstore.dev", transport, logs)
//!     .with_tile_cache("/var/cache/attestlog/tiles");
//! let published = client.publish(&req)?;      // verified before it is returned
//! let head = client.checkpoint()?;            // signed by a trusted v2 key
//! client.prove_inclusion(&published.body, published.evidence.entry.log_index, &head)?;
//! # Ok(()) }
//! ```

use std::path::PathBuf;

use attest_merkle::tiles::{TileError, TileId, TileReader, TileSource};
use attest_merkle::{
    consistency_plan, inclusion_plan, leaf_hash, verify_consistency, verify_inclusion,
};
use attest_rekor::bundle::TlogEntry;
use attest_rekor::sansio::ResponseError;
use attest_rekor::v2::{self as proto, V2Request};
use attest_rekor::verify::{Check, VerifiedCheckpoint, VerifiedEvidence};
use attest_rekor::{LogApi, TrustedLog};
use base64ct::{Base64, Encoding};

use crate::client::{
    AsyncRekorClient, AsyncTransport, ClientError, RekorClient, RetryPolicy, Transport,
};

/// A v2 entry the log returned, verified (body ours, checkpoint signed by a
/// trusted v2 key, inclusion proven, index bound).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct V2Published {
    /// The `TransparencyLogEntry` as the log sent it (bundle form).
    pub entry: TlogEntry,
    /// The canonical body bytes (the leaf).
    pub body: Vec<u8>,
    /// What verifying it established.
    pub evidence: VerifiedEvidence,
    /// The log already had this entry (it answered 409 with the index, as
    /// Rekor v2 does for a duplicate); `entry` was read from its verified
    /// tiles at that index, proven against its current checkpoint, and
    /// checked to be this request's body.
    pub existing: bool,
}

/// The blocking Rekor v2 client.
pub struct RekorV2Client<T> {
    http: RekorClient<T>,
    read_base: String,
    cache: Option<PathBuf>,
}

impl<T: Transport + Sync> RekorV2Client<T> {
    /// A client writing to and reading from `base`, trusting `logs` (only
    /// the [`LogApi::V2`] ones are used). Each attempt may take 30 s: a v2
    /// log answers once a checkpoint covers the entry.
    pub fn new(base: impl Into<String>, transport: T, logs: Vec<TrustedLog>) -> Self {
        let base = base.into();
        Self {
            read_base: base.clone(),
            http: RekorClient::new(base, transport, logs),
            cache: None,
        }
    }

    /// Reads tiles and checkpoints from `read_base` (a CDN or static
    /// server) instead of the write URL.
    #[must_use]
    pub fn with_read_url(mut self, read_base: impl Into<String>) -> Self {
        self.read_base = read_base.into();
        self
    }

    /// Keeps verified tiles under `dir` (created on demand). A cached tile
    /// is used only after it verifies against the checkpoint at hand; one
    /// that fails is fetched again.
    #[must_use]
    pub fn with_tile_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = Some(dir.into());
        self
    }

    /// Sets the retry policy (its per-attempt timeout should stay ≥ 30 s).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.with_retry(retry);
        self
    }

    /// Replaces the clock used to check key validity.
    #[must_use]
    pub fn with_clock(mut self, clock: impl attest_dsse::Clock + 'static) -> Self {
        self.http = self.http.with_clock(clock);
        self
    }

    /// Replaces how the client waits between attempts.
    #[must_use]
    pub fn with_sleep(
        mut self,
        sleep: impl Fn(std::time::Duration) + Send + Sync + 'static,
    ) -> Self {
        self.http = self.http.with_sleep(sleep);
        self
    }

    /// The trusted logs this client uses: the [`LogApi::V2`] ones.
    #[must_use]
    pub fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.v2_logs()
    }

    fn v2_logs(&self) -> Vec<TrustedLog> {
        v2_only(self.http.trusted_logs())
    }

    /// Publishes `request` (`POST /api/v2/log/entries`) and verifies the
    /// answer before returning it.
    ///
    /// # Errors
    /// [`ClientError`]: an answer that does not verify is `Verification`.
    pub fn publish(&self, request: &V2Request) -> Result<V2Published, ClientError> {
        let req = proto::create_entry(self.http.base_url(), request)?;
        let (resp, attempts) = self.http.exchange_blocking(&req)?;
        if let Some(index) = proto::existing_index(&resp) {
            // Already logged (a retry whose first answer was lost, say):
            // read it back from verified tiles rather than trust the 409.
            let head = self.checkpoint()?;
            let (body, proof) = self.entry_with_proof(index, &head)?;
            return existing(
                request,
                index,
                &head,
                body,
                &proof?,
                &self.v2_logs(),
                self.http.now(),
            );
        }
        published(&resp, attempts, request, &self.v2_logs(), self.http.now())
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let req = proto::get_static(&self.read_base, path)?;
        let (resp, attempts) = self.http.exchange_blocking(&req)?;
        static_bytes(&resp, attempts)
    }

    /// The log's latest checkpoint, verified against the trusted v2 keys.
    ///
    /// # Errors
    /// [`ClientError`]; a checkpoint no trusted v2 key signed is
    /// `Verification`.
    pub fn checkpoint(&self) -> Result<VerifiedCheckpoint, ClientError> {
        let note = note_text(self.get("checkpoint")?)?;
        self.verify_checkpoint(&note)
    }

    /// A checkpoint text (one kept from earlier, say) verified against the
    /// trusted v2 keys.
    ///
    /// # Errors
    /// [`ClientError::Verification`] when no trusted v2 key signed it.
    pub fn verify_checkpoint(&self, note: &str) -> Result<VerifiedCheckpoint, ClientError> {
        verify_note(&self.v2_logs(), note)
    }

    /// A tile reader for the tree of `checkpoint`: every tile verified
    /// against it before use.
    #[must_use]
    pub fn tiles(&self, checkpoint: &VerifiedCheckpoint) -> TileReader<HttpTiles<'_, T>> {
        TileReader::new(HttpTiles { client: self }, checkpoint.size, checkpoint.root)
    }

    /// Proves that `body` (exact bytes) is leaf `index` of `checkpoint`'s
    /// tree, from tiles.
    ///
    /// # Errors
    /// [`ClientError`]: a lying tile, or a body that is not that leaf, is
    /// `Verification`.
    pub fn prove_inclusion(
        &self,
        body: &[u8],
        index: u64,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<(), ClientError> {
        let proof = self.inclusion_proof(index, checkpoint)?;
        verify_inclusion(
            index,
            checkpoint.size,
            &leaf_hash(body),
            &proof,
            &checkpoint.root,
        )
        .map_err(|e| crate::client::single_failure(Check::Inclusion, &e.to_string()))
    }

    /// The inclusion proof of leaf `index` in `checkpoint`'s tree (RFC
    /// 6962 order), read from tiles each verified against the checkpoint: a
    /// proof a bundle can carry. It proves nothing about a body by itself;
    /// [`prove_inclusion`](Self::prove_inclusion) checks one.
    ///
    /// # Errors
    /// [`ClientError`]: an index outside the tree, or a lying tile, is
    /// `Verification`.
    pub fn inclusion_proof(
        &self,
        index: u64,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<attest_merkle::Proof, ClientError> {
        let plan = inclusion_plan(index, checkpoint.size)
            .map_err(|e| crate::client::single_failure(Check::Inclusion, &e.to_string()))?;
        plan.read_proof(&self.tiles(checkpoint)).map_err(tile_error)
    }

    /// The data of leaf `index` of `checkpoint`'s tree and, apart, its
    /// inclusion proof, read through one tile reader: each tile is fetched
    /// and verified once for both (an auditor's read of one entry).
    ///
    /// # Errors
    /// The outer [`ClientError`] when the entry cannot be read; the inner
    /// one when the proof cannot (a lying tile is `Verification`).
    #[allow(clippy::type_complexity)] // the two results are the point
    pub fn entry_with_proof(
        &self,
        index: u64,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<(Vec<u8>, Result<attest_merkle::Proof, ClientError>), ClientError> {
        let (body, proof) =
            entry_with_proof_in(&self.tiles(checkpoint), index, checkpoint).map_err(tile_error)?;
        Ok((body, proof.map_err(proof_error)))
    }

    /// The data of leaf `index` of `checkpoint`'s tree, from its verified
    /// entry bundle.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn entry(
        &self,
        index: u64,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<Vec<u8>, ClientError> {
        self.tiles(checkpoint).entry(index).map_err(tile_error)
    }

    /// Proves that `new` extends `old` (two verified checkpoints of this
    /// log), from tiles of `new`'s tree.
    ///
    /// # Errors
    /// [`ClientError`]: a fork or a lying tile is `Verification`.
    pub fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> Result<(), ClientError> {
        if let Some(decided) = consistency_without_tiles(old, new) {
            return decided;
        }
        consistency_in(&self.tiles(new), old, new).map_err(proof_error)
    }

    /// Monitors the log from a kept checkpoint: the latest checkpoint,
    /// verified and proven consistent with `kept`. Keep what it returns.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn monitor(&self, kept: &VerifiedCheckpoint) -> Result<VerifiedCheckpoint, ClientError> {
        let latest = self.checkpoint()?;
        self.prove_consistency(kept, &latest)?;
        Ok(latest)
    }
}

fn tile_error(e: TileError<ClientError>) -> ClientError {
    match e {
        TileError::Source(e) => e,
        other => crate::client::single_failure(Check::Inclusion, &other.to_string()),
    }
}

/// A proof's failure: the source's, or the proof's own.
#[derive(Debug)]
enum ProofError<E> {
    Tiles(TileError<E>),
    Proof(String),
}

fn proof_error(e: ProofError<ClientError>) -> ClientError {
    match e {
        ProofError::Tiles(t) => tile_error(t),
        ProofError::Proof(d) => crate::client::single_failure(Check::Inclusion, &d),
    }
}

/// The trusted logs of API version 2.
fn v2_only(logs: &[TrustedLog]) -> Vec<TrustedLog> {
    logs.iter()
        .filter(|l| l.api == LogApi::V2)
        .cloned()
        .collect()
}

/// A create answer, verified.
fn published(
    resp: &http::Response<Vec<u8>>,
    attempts: u32,
    request: &V2Request,
    logs: &[TrustedLog],
    now: attest_dsse::Timestamp,
) -> Result<V2Published, ClientError> {
    let entry =
        proto::parse_created(resp).map_err(|source| ClientError::Response { attempts, source })?;
    let evidence = proto::verify_created(&entry, request, logs, now)
        .map_err(|e| ClientError::Verification(e.report))?;
    let body = Base64::decode_vec(&entry.canonicalized_body).unwrap_or_default();
    Ok(V2Published {
        entry,
        body,
        evidence,
        existing: false,
    })
}

/// The entry a 409 pointed at, read from verified tiles, as a verified
/// answer to `request` (its body must be the request's).
fn existing(
    request: &V2Request,
    index: u64,
    head: &VerifiedCheckpoint,
    body: Vec<u8>,
    proof: &attest_merkle::Proof,
    logs: &[TrustedLog],
    now: attest_dsse::Timestamp,
) -> Result<V2Published, ClientError> {
    let log = logs
        .iter()
        .find(|l| attest_rekor::verify::hazmat::verify_checkpoint(&head.note, l).is_ok())
        .ok_or_else(|| {
            crate::client::single_failure(
                Check::CheckpointSignature,
                "no trusted v2 log signed the checkpoint",
            )
        })?;
    let entry = proto::entry_from_tiles(index, head, &log.log_id, &body, proof.as_slice());
    let evidence = proto::verify_created(&entry, request, logs, now)
        .map_err(|e| ClientError::Verification(e.report))?;
    Ok(V2Published {
        entry,
        body,
        evidence,
        existing: true,
    })
}

fn static_bytes(resp: &http::Response<Vec<u8>>, attempts: u32) -> Result<Vec<u8>, ClientError> {
    proto::parse_static(resp)
        .map(<[u8]>::to_vec)
        .map_err(|source| ClientError::Response { attempts, source })
}

fn note_text(bytes: Vec<u8>) -> Result<String, ClientError> {
    String::from_utf8(bytes).map_err(|_| {
        crate::client::single_failure(Check::CheckpointSignature, "the checkpoint is not UTF-8")
    })
}

/// `note` verified by one of the trusted v2 `logs`.
fn verify_note(logs: &[TrustedLog], note: &str) -> Result<VerifiedCheckpoint, ClientError> {
    let mut last = None;
    for log in logs {
        match attest_rekor::verify::hazmat::verify_checkpoint(note, log) {
            Ok(cp) => return Ok(cp),
            Err(e) => last = Some(e),
        }
    }
    Err(crate::client::single_failure(
        Check::CheckpointSignature,
        &last.map_or_else(|| "no trusted Rekor v2 log".to_owned(), |e| e.to_string()),
    ))
}

/// Consistency of two checkpoints when no tile is needed to decide it.
fn consistency_without_tiles(
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
) -> Option<Result<(), ClientError>> {
    let fail = |d: &str| Some(Err(crate::client::single_failure(Check::Inclusion, d)));
    if old.origin != new.origin {
        return fail("the checkpoints are of different logs");
    }
    if new.size < old.size {
        return fail("the log shrank");
    }
    if old.size == new.size {
        return if old.root == new.root {
            Some(Ok(()))
        } else {
            fail("two checkpoints of the same size with different roots: the log forked")
        };
    }
    (old.size == 0).then_some(Ok(()))
}

/// The consistency proof from `old` to `new`, read through `reader` (of
/// `new`'s tree) and checked.
fn consistency_in<S: TileSource>(
    reader: &TileReader<S>,
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
) -> Result<(), ProofError<S::Error>> {
    let proof = consistency_plan(old.size, new.size)
        .map_err(|e| ProofError::Proof(e.to_string()))?
        .read_proof(reader)
        .map_err(ProofError::Tiles)?;
    verify_consistency(old.size, new.size, &proof, &old.root, &new.root)
        .map_err(|e| ProofError::Proof(e.to_string()))
}

/// Leaf `index`'s data, and apart its proof (checked against the data),
/// read through `reader`.
#[allow(clippy::type_complexity)]
fn entry_with_proof_in<S: TileSource>(
    reader: &TileReader<S>,
    index: u64,
    checkpoint: &VerifiedCheckpoint,
) -> Result<(Vec<u8>, Result<attest_merkle::Proof, ProofError<S::Error>>), TileError<S::Error>> {
    let body = reader.entry(index)?;
    let proof = inclusion_plan(index, checkpoint.size)
        .map_err(|e| ProofError::Proof(e.to_string()))
        .and_then(|plan| plan.read_proof(reader).map_err(ProofError::Tiles))
        .and_then(|proof| {
            verify_inclusion(
                index,
                checkpoint.size,
                &leaf_hash(&body),
                &proof,
                &checkpoint.root,
            )
            .map(|()| proof)
            .map_err(|e| ProofError::Proof(e.to_string()))
        });
    Ok((body, proof))
}

/// The first `width` hashes (`hashed`) or entries of a full tile: a
/// partial tile the log has since replaced.
fn cut_from_full(bytes: &[u8], width: u16, hashed: bool) -> Vec<u8> {
    if hashed {
        bytes
            .get(..usize::from(width) * 32)
            .unwrap_or(bytes)
            .to_vec()
    } else {
        prefix_entries(bytes, width)
    }
}

/// Tiles over HTTP from the client's read URL, through its cache.
pub struct HttpTiles<'a, T> {
    client: &'a RekorV2Client<T>,
}

impl<T> std::fmt::Debug for HttpTiles<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTiles")
            .field("read_base", &self.client.read_base)
            .finish_non_exhaustive()
    }
}

impl<T: Transport + Sync> HttpTiles<'_, T> {
    fn cached(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.client.cache.as_ref()?.join(path)).ok()
    }

    fn keep(&self, path: &str, bytes: &[u8]) {
        let Some(dir) = &self.client.cache else {
            return;
        };
        let file = dir.join(path);
        // Best effort: a cache that cannot be written is only slower. The
        // file is written under a temporary name and renamed, so a reader
        // never sees half a tile (and would refuse one if it did).
        if let Some(parent) = file.parent()
            && std::fs::create_dir_all(parent).is_ok()
        {
            let tmp = file.with_extension(format!("tmp{}", std::process::id()));
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &file);
            }
        }
    }

    /// A tile's bytes: the cache (unless `fresh`), else the read URL; a
    /// partial tile that is gone (the log grew) is cut from the full one.
    fn fetch(
        &self,
        path: &str,
        full: &str,
        width: u16,
        hashed: bool,
        fresh: bool,
    ) -> Result<Vec<u8>, ClientError> {
        if !fresh && let Some(b) = self.cached(path) {
            return Ok(b);
        }
        match self.client.get(path) {
            Err(ClientError::Response {
                source: ResponseError::NotFound,
                ..
            }) if path != full => Ok(cut_from_full(&self.client.get(full)?, width, hashed)),
            other => other,
        }
    }
}

/// The first `width` length-prefixed entries of a full entry bundle (the
/// rest as is, for the verifier to refuse, if it is malformed).
fn prefix_entries(bundle: &[u8], width: u16) -> Vec<u8> {
    let mut pos = 0usize;
    for _ in 0..width {
        let Some(len) = bundle.get(pos..pos + 2) else {
            return bundle.to_vec();
        };
        pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
    }
    bundle.get(..pos).unwrap_or(bundle).to_vec()
}

impl<T: Transport + Sync> TileSource for HttpTiles<'_, T> {
    type Error = ClientError;

    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, ClientError> {
        self.fetch(&tile.path(), &tile.full().path(), tile.width, true, fresh)
    }

    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, ClientError> {
        self.fetch(
            &tile.entries_path(),
            &tile.full().entries_path(),
            tile.width,
            false,
            fresh,
        )
    }

    fn verified_tile(&self, tile: TileId, bytes: &[u8]) {
        self.keep(&tile.path(), bytes);
    }

    fn verified_entry_bundle(&self, tile: TileId, bytes: &[u8]) {
        self.keep(&tile.entries_path(), bytes);
    }
}

/// The Rekor v2 client over an [`AsyncTransport`]: the same operations and
/// checks as [`RekorV2Client`] (no tile cache). A tile is fetched when the
/// verifying reader first needs it and verified before any hash of it is
/// used; its futures are `Send`.
pub struct AsyncRekorV2Client<T> {
    http: AsyncRekorClient<T>,
    read_base: String,
}

impl<T: AsyncTransport> AsyncRekorV2Client<T> {
    /// A client writing to and reading from `base`, trusting `logs` (the
    /// [`LogApi::V2`] ones).
    pub fn new(base: impl Into<String>, transport: T, logs: Vec<TrustedLog>) -> Self {
        let base = base.into();
        Self {
            read_base: base.clone(),
            http: AsyncRekorClient::new(base, transport, logs),
        }
    }

    /// Reads tiles and checkpoints from `read_base` instead of the write URL.
    #[must_use]
    pub fn with_read_url(mut self, read_base: impl Into<String>) -> Self {
        self.read_base = read_base.into();
        self
    }

    /// Sets the retry policy (its per-attempt timeout should stay ≥ 30 s).
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.http = self.http.with_retry(retry);
        self
    }

    /// The trusted logs this client uses: the [`LogApi::V2`] ones.
    #[must_use]
    pub fn trusted_logs(&self) -> Vec<TrustedLog> {
        v2_only(self.http.trusted_logs())
    }

    /// [`RekorV2Client::publish`], awaited.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn publish(&self, request: &V2Request) -> Result<V2Published, ClientError> {
        let req = proto::create_entry(self.http.base_url(), request)?;
        let (resp, attempts) = self.http.exchange_async(&req).await?;
        if let Some(index) = proto::existing_index(&resp) {
            let head = self.checkpoint().await?;
            let (body, proof) = self.entry_with_proof(index, &head).await?;
            return existing(
                request,
                index,
                &head,
                body,
                &proof?,
                &self.trusted_logs(),
                self.http.now(),
            );
        }
        published(
            &resp,
            attempts,
            request,
            &self.trusted_logs(),
            self.http.now(),
        )
    }

    async fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        let req = proto::get_static(&self.read_base, path)?;
        let (resp, attempts) = self.http.exchange_async(&req).await?;
        static_bytes(&resp, attempts)
    }

    /// [`RekorV2Client::checkpoint`], awaited.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn checkpoint(&self) -> Result<VerifiedCheckpoint, ClientError> {
        let note = note_text(self.get("checkpoint").await?)?;
        verify_note(&self.trusted_logs(), &note)
    }

    /// [`RekorV2Client::verify_checkpoint`].
    ///
    /// # Errors
    /// [`ClientError::Verification`].
    pub fn verify_checkpoint(&self, note: &str) -> Result<VerifiedCheckpoint, ClientError> {
        verify_note(&self.trusted_logs(), note)
    }

    /// Runs `op` over a verifying reader of `checkpoint`'s tree, fetching
    /// each tile it asks for (and once more, fresh, one that failed
    /// verification), until it needs none.
    async fn with_tiles<R>(
        &self,
        checkpoint: &VerifiedCheckpoint,
        op: impl Fn(&TileReader<&Fetched>) -> Result<R, Need>,
    ) -> Result<R, ClientError> {
        let mut fetched = Fetched::default();
        // A proof reads at most a few tiles per level; far more is a bug.
        for _ in 0..256 {
            let need = {
                let reader = TileReader::new(&fetched, checkpoint.size, checkpoint.root);
                match op(&reader) {
                    Ok(r) => return Ok(r),
                    Err(Need::Tile(n)) => n,
                    Err(Need::Failed(e)) => return Err(e),
                }
            };
            let bytes = match self.get(&need.path).await {
                Err(ClientError::Response {
                    source: ResponseError::NotFound,
                    ..
                }) if need.path != need.full => {
                    cut_from_full(&self.get(&need.full).await?, need.width, need.hashed)
                }
                other => other?,
            };
            if need.fresh {
                fetched.refetched.insert(need.path.clone());
            }
            fetched.tiles.insert(need.path, bytes);
        }
        Err(crate::client::single_failure(
            Check::Inclusion,
            "the tile reader kept asking for tiles",
        ))
    }

    /// [`RekorV2Client::entry_with_proof`], awaited.
    ///
    /// # Errors
    /// [`ClientError`] (outer: the entry; inner: the proof).
    #[allow(clippy::type_complexity)]
    pub async fn entry_with_proof(
        &self,
        index: u64,
        checkpoint: &VerifiedCheckpoint,
    ) -> Result<(Vec<u8>, Result<attest_merkle::Proof, ClientError>), ClientError> {
        self.with_tiles(checkpoint, |reader| {
            match entry_with_proof_in(reader, index, checkpoint) {
                Err(e) => Err(Need::from_tiles(e)),
                Ok((_, Err(ProofError::Tiles(TileError::Source(n))))) => Err(Need::Tile(n)),
                Ok((body, proof)) => Ok((body, proof.map_err(missing_proof_error))),
            }
        })
        .await
    }

    /// [`RekorV2Client::prove_consistency`], awaited.
    ///
    /// # Errors
    /// [`ClientError`]: a fork or a lying tile is `Verification`.
    pub async fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> Result<(), ClientError> {
        if let Some(decided) = consistency_without_tiles(old, new) {
            return decided;
        }
        self.with_tiles(new, |reader| match consistency_in(reader, old, new) {
            Err(ProofError::Tiles(TileError::Source(n))) => Err(Need::Tile(n)),
            other => Ok(other.map_err(missing_proof_error)),
        })
        .await?
    }
}

/// A tile the async reader must fetch.
#[derive(Debug, Clone)]
struct Missing {
    path: String,
    full: String,
    width: u16,
    hashed: bool,
    fresh: bool,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tile {} not fetched", self.path)
    }
}

/// Why a step over fetched tiles stopped.
enum Need {
    /// A tile to fetch.
    Tile(Missing),
    /// A failure that fetching cannot mend.
    Failed(ClientError),
}

impl Need {
    fn from_tiles(e: TileError<Missing>) -> Self {
        match e {
            TileError::Source(n) => Self::Tile(n),
            other => Self::Failed(crate::client::single_failure(
                Check::Inclusion,
                &other.to_string(),
            )),
        }
    }
}

/// A proof failure once every tile it needed was there.
fn missing_proof_error(e: ProofError<Missing>) -> ClientError {
    match e {
        ProofError::Tiles(t) => match Need::from_tiles(t) {
            Need::Failed(e) => e,
            Need::Tile(n) => crate::client::single_failure(
                Check::Inclusion,
                &format!("tile {} was not fetched", n.path),
            ),
        },
        ProofError::Proof(d) => crate::client::single_failure(Check::Inclusion, &d),
    }
}

/// The tiles fetched so far for one operation.
#[derive(Default)]
struct Fetched {
    tiles: std::collections::BTreeMap<String, Vec<u8>>,
    /// Tiles fetched again after a copy failed verification.
    refetched: std::collections::BTreeSet<String>,
}

impl Fetched {
    fn read(
        &self,
        path: String,
        full: String,
        width: u16,
        hashed: bool,
        fresh: bool,
    ) -> Result<Vec<u8>, Missing> {
        let missing = |fresh| Missing {
            path: path.clone(),
            full: full.clone(),
            width,
            hashed,
            fresh,
        };
        // A copy that failed verification is fetched once more, fresh.
        if fresh && !self.refetched.contains(&path) {
            return Err(missing(true));
        }
        self.tiles.get(&path).cloned().ok_or_else(|| missing(false))
    }
}

impl TileSource for Fetched {
    type Error = Missing;

    fn read_tile(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, Missing> {
        self.read(tile.path(), tile.full().path(), tile.width, true, fresh)
    }

    fn read_entry_bundle(&self, tile: TileId, fresh: bool) -> Result<Vec<u8>, Missing> {
        self.read(
            tile.entries_path(),
            tile.full().entries_path(),
            tile.width,
            false,
            fresh,
        )
    }
}

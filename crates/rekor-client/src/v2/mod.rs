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

mod asynchronous;
mod proofs;
mod tiles;
#[allow(unused_imports)]
pub use asynchronous::*;
#[allow(unused_imports)]
use proofs::*;
#[allow(unused_imports)]
pub use tiles::*;

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

    /// The raw entry bundle `bundle` (level 0, its index and width in a
    /// tree whose size makes it partial or full); a partial bundle the log
    /// has since filled is cut from the full one. Not verified: a caller
    /// enumerating the log folds the entries' leaf hashes into a verified
    /// checkpoint's root.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn entry_bundle(&self, bundle: TileId) -> Result<Vec<u8>, ClientError> {
        let (path, full) = (bundle.entries_path(), bundle.full().entries_path());
        match self.get(&path) {
            Err(ClientError::Response {
                source: ResponseError::NotFound,
                ..
            }) if path != full => Ok(prefix_entries(&self.get(&full)?, bundle.width)),
            other => other,
        }
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
        .map_err(|e| {
            crate::client::single_failure(
                Check::Inclusion,
                &attest_dsse::ErrorChain(&e).to_string(),
            )
        })
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
        let plan = inclusion_plan(index, checkpoint.size).map_err(|e| {
            crate::client::single_failure(
                Check::Inclusion,
                &attest_dsse::ErrorChain(&e).to_string(),
            )
        })?;
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

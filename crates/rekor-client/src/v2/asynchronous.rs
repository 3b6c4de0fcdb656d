//! The Rekor v2 client over an async transport: tiles fetched when the verifying reader first needs them.

#[allow(clippy::wildcard_imports)]
use super::*;

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

    /// [`RekorV2Client::entry_bundle`], awaited.
    ///
    /// # Errors
    /// [`ClientError`].
    pub async fn entry_bundle(&self, bundle: TileId) -> Result<Vec<u8>, ClientError> {
        let (path, full) = (bundle.entries_path(), bundle.full().entries_path());
        match self.get(&path).await {
            Err(ClientError::Response {
                source: ResponseError::NotFound,
                ..
            }) if path != full => Ok(prefix_entries(&self.get(&full).await?, bundle.width)),
            other => other,
        }
    }

    pub(super) async fn get(&self, path: &str) -> Result<Vec<u8>, ClientError> {
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
    pub(super) async fn with_tiles<R>(
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
pub(super) struct Missing {
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
pub(super) enum Need {
    /// A tile to fetch.
    Tile(Missing),
    /// A failure that fetching cannot mend.
    Failed(ClientError),
}

impl Need {
    pub(super) fn from_tiles(e: TileError<Missing>) -> Self {
        match e.into_source() {
            Ok(n) => Self::Tile(n),
            Err(t) => Self::Failed(ClientError::Tiles(t)),
        }
    }
}

/// A proof failure once every tile it needed was there.
pub(super) fn missing_proof_error(e: ProofError<Missing>) -> ClientError {
    match e {
        ProofError::Tiles(t) => match Need::from_tiles(t) {
            Need::Failed(e) => e,
            Need::Tile(n) => ClientError::TileNotFetched(n.path),
        },
        ProofError::Proof(p) => ClientError::Proof(p),
    }
}

/// The tiles fetched so far for one operation.
#[derive(Default)]
pub(super) struct Fetched {
    tiles: std::collections::BTreeMap<String, Vec<u8>>,
    /// Tiles fetched again after a copy failed verification.
    refetched: std::collections::BTreeSet<String>,
}

impl Fetched {
    pub(super) fn read(
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

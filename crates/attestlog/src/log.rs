//! The pipelines' one view of a log: Rekor v1 or v2, over a blocking or an
//! async transport, behind one object-safe trait ([`LogOps`]), so that each
//! flow is written once (as futures) and holds any log the same way.
//!
//! The blocking clients' operations complete in one poll (their futures are
//! ready when made), so a blocking pipeline drives the same future with
//! [`run_ready`]; the async pipelines `.await` it. Which pipeline takes which
//! client is fixed by types: a client's [`PipelineLog::Mode`] is
//! [`mode::Blocking`] or [`mode::Async`], and only a blocking builder builds
//! an [`Attestor`](crate::Attestor) or an [`Auditor`](crate::Auditor).

use std::future::{Future, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use attest_dsse::{Envelope, PublicKey};
use attest_rekor::v2::V2Request;
use attest_rekor::verify::VerifiedCheckpoint;
use attest_rekor::{EntryId, LogEntry, TrustedLog};
use attest_store::{LogApiVersion, LogEntryRecord};
use rekor_client::tsa::{AsyncTsaClient, Timestamped, TsaClient};
use rekor_client::v2::{AsyncRekorV2Client, RekorV2Client, V2Published};
use rekor_client::{
    AsyncRekorClient, AsyncTransport, ClientError, Published, RekorClient, Transport,
};

use crate::AttestError;

/// Which pipelines a log client is for.
pub mod mode {
    /// A blocking client's: an [`Attestor`](crate::Attestor) or an
    /// [`Auditor`](crate::Auditor).
    #[derive(Debug, Clone, Copy)]
    pub enum Blocking {}
    /// An async client's: an [`AsyncAttestor`](crate::AsyncAttestor) or an
    /// [`AsyncAuditor`](crate::AsyncAuditor).
    #[derive(Debug, Clone, Copy)]
    pub enum Async {}
}

/// A transport for pipelines without a log: it cannot be constructed, so a
/// `RekorClient<Offline>` never exists (`optional_log(None::<…>)` names it).
#[derive(Debug, Clone, Copy)]
pub enum Offline {}

/// Never constructed, so never displayed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("offline")]
pub enum OfflineError {}

impl Transport for Offline {
    type Error = OfflineError;
    fn send(
        &self,
        _: http::Request<Vec<u8>>,
        _: std::time::Duration,
    ) -> Result<http::Response<Vec<u8>>, OfflineError> {
        match *self {}
    }
}

impl AsyncTransport for Offline {
    type Error = OfflineError;
    async fn send(
        &self,
        _: http::Request<Vec<u8>>,
        _: std::time::Duration,
    ) -> Result<http::Response<Vec<u8>>, OfflineError> {
        match *self {}
    }
}

/// A log client the pipelines publish to and audit against: a
/// [`RekorClient`] or a [`RekorV2`] (blocking), an [`AsyncRekorClient`] or
/// an [`AsyncRekorV2`] (async), or a [`ConfiguredLog`] from a
/// [`LogConnection`](crate::LogConnection). Sealed.
pub trait PipelineLog: sealed::IntoOps {
    /// [`mode::Blocking`] or [`mode::Async`].
    type Mode;
}

pub(crate) mod sealed {
    /// How a client becomes the pipelines' log (the trait is public but
    /// unnameable outside this crate, so [`super::PipelineLog`] is sealed).
    pub trait IntoOps {
        /// The pipelines' view of this client.
        fn into_ops(self) -> std::sync::Arc<dyn super::LogOps>;
    }
}

/// A boxed `Send` future (the log operations are object-safe).
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why publishing one attestation failed: the log (the row stays pending)
/// or something else (the operation fails).
pub enum PublishFailure {
    /// The log failed or its answer did not verify (retryable).
    Log(ClientError),
    /// Anything else.
    Other(AttestError),
}

/// A row's entry as the log has it now.
pub enum ReadEntry {
    /// A Rekor v1 entry, fetched by its id (with its inclusion proof, SET
    /// and checkpoint), verified to be the entry asked for.
    V1(Box<LogEntry>),
    /// A Rekor v2 leaf read from the log's tiles at the stored index (its
    /// leaf hash is the stored one), with the inclusion proof to the
    /// current checkpoint or why it could not be made.
    V2 {
        /// The leaf.
        body: Vec<u8>,
        /// Its inclusion proof, or why there is none.
        proof: Box<Result<attest_merkle::Proof, ClientError>>,
    },
}

/// What the pipelines do with a log, whichever its API and transport.
pub trait LogOps: Send + Sync {
    /// The API the log speaks (what a stored row's entry names).
    fn api(&self) -> LogApiVersion;
    /// The log keys trusted for it.
    fn trusted_logs(&self) -> Vec<TrustedLog>;
    /// Refuses, before anything is stored, what this log cannot take.
    ///
    /// # Errors
    /// Why the envelope cannot be published to this log.
    fn admit(&self, env: &Envelope, signer: &PublicKey) -> Result<(), AttestError>;
    /// Publishes `env`, verifies the log's answer and returns the record to
    /// attach.
    fn publish<'a>(
        &'a self,
        env: &'a Envelope,
        signer: &'a PublicKey,
    ) -> BoxFuture<'a, Result<LogEntryRecord, PublishFailure>>;
    /// The log's current checkpoint, its signature verified.
    fn checkpoint(&self) -> BoxFuture<'_, Result<VerifiedCheckpoint, ClientError>>;
    /// Proves that `new` extends `old`.
    fn prove_consistency<'a>(
        &'a self,
        old: &'a VerifiedCheckpoint,
        new: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, Result<(), ClientError>>;
    /// Reads the entry `stored` names (a v2 log needs the checkpoint its
    /// proof is to).
    fn read_entry<'a>(
        &'a self,
        stored: &'a LogEntryRecord,
        current: Option<&'a VerifiedCheckpoint>,
    ) -> BoxFuture<'a, Result<ReadEntry, String>>;
    /// The bodies of entries `[start, end)` of the log's tree of `size`
    /// entries, in index order, each with its entry id as a row records it
    /// (empty for Rekor v2: the leaf hash). Not verified: the completeness
    /// scan folds their leaf hashes into the verified checkpoint's root.
    fn read_bodies(
        &self,
        start: u64,
        end: u64,
        size: u64,
    ) -> BoxFuture<'_, Result<Vec<Body>, String>>;
}

/// A Rekor v1 client, blocking or async (its futures `Send`).
trait V1Client: Send + Sync {
    fn trusted_logs(&self) -> &[TrustedLog];
    fn publish_dsse(
        &self,
        env: &Envelope,
        signer: &PublicKey,
    ) -> impl Future<Output = Result<Published, ClientError>> + Send;
    fn get_entry(&self, id: &EntryId)
    -> impl Future<Output = Result<LogEntry, ClientError>> + Send;
    fn retrieve_indexes(
        &self,
        indexes: &[u64],
    ) -> impl Future<Output = Result<Vec<LogEntry>, ClientError>> + Send;
    fn log_info(
        &self,
    ) -> impl Future<Output = Result<(attest_rekor::LogInfo, VerifiedCheckpoint), ClientError>> + Send;
    fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> impl Future<Output = Result<(), ClientError>> + Send;
}

impl<T: Transport + Sync + Send> V1Client for RekorClient<T> {
    fn trusted_logs(&self) -> &[TrustedLog] {
        RekorClient::trusted_logs(self)
    }
    fn publish_dsse(
        &self,
        env: &Envelope,
        signer: &PublicKey,
    ) -> impl Future<Output = Result<Published, ClientError>> + Send {
        ready(RekorClient::publish_dsse(self, env, signer))
    }
    fn get_entry(
        &self,
        id: &EntryId,
    ) -> impl Future<Output = Result<LogEntry, ClientError>> + Send {
        ready(RekorClient::get_entry(self, id))
    }
    fn retrieve_indexes(
        &self,
        indexes: &[u64],
    ) -> impl Future<Output = Result<Vec<LogEntry>, ClientError>> + Send {
        ready(RekorClient::retrieve_indexes(self, indexes))
    }
    fn log_info(
        &self,
    ) -> impl Future<Output = Result<(attest_rekor::LogInfo, VerifiedCheckpoint), ClientError>> + Send
    {
        ready(RekorClient::log_info(self))
    }
    fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> impl Future<Output = Result<(), ClientError>> + Send {
        ready(RekorClient::prove_consistency(self, old, new))
    }
}

impl<T: AsyncTransport + Sync + Send> V1Client for AsyncRekorClient<T> {
    fn trusted_logs(&self) -> &[TrustedLog] {
        AsyncRekorClient::trusted_logs(self)
    }
    fn publish_dsse(
        &self,
        env: &Envelope,
        signer: &PublicKey,
    ) -> impl Future<Output = Result<Published, ClientError>> + Send {
        AsyncRekorClient::publish_dsse(self, env, signer)
    }
    fn get_entry(
        &self,
        id: &EntryId,
    ) -> impl Future<Output = Result<LogEntry, ClientError>> + Send {
        AsyncRekorClient::get_entry(self, id)
    }
    fn retrieve_indexes(
        &self,
        indexes: &[u64],
    ) -> impl Future<Output = Result<Vec<LogEntry>, ClientError>> + Send {
        AsyncRekorClient::retrieve_indexes(self, indexes)
    }
    fn log_info(
        &self,
    ) -> impl Future<Output = Result<(attest_rekor::LogInfo, VerifiedCheckpoint), ClientError>> + Send
    {
        AsyncRekorClient::log_info(self)
    }
    fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> impl Future<Output = Result<(), ClientError>> + Send {
        AsyncRekorClient::prove_consistency(self, old, new)
    }
}

/// A Rekor v1 log: its flows, written once for both clients.
struct V1<C>(C);

impl<C: V1Client> LogOps for V1<C> {
    fn api(&self) -> LogApiVersion {
        LogApiVersion::V1
    }
    fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.0.trusted_logs().to_vec()
    }
    fn admit(&self, _: &Envelope, _: &PublicKey) -> Result<(), AttestError> {
        Ok(())
    }
    fn publish<'a>(
        &'a self,
        env: &'a Envelope,
        signer: &'a PublicKey,
    ) -> BoxFuture<'a, Result<LogEntryRecord, PublishFailure>> {
        Box::pin(async move {
            let published = self
                .0
                .publish_dsse(env, signer)
                .await
                .map_err(PublishFailure::Log)?;
            crate::entry_record(&published.entry)
                .map_err(|e| PublishFailure::Other(AttestError::Evidence(e)))
        })
    }
    fn checkpoint(&self) -> BoxFuture<'_, Result<VerifiedCheckpoint, ClientError>> {
        Box::pin(async move { self.0.log_info().await.map(|(_, cp)| cp) })
    }
    fn prove_consistency<'a>(
        &'a self,
        old: &'a VerifiedCheckpoint,
        new: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(self.0.prove_consistency(old, new))
    }
    fn read_entry<'a>(
        &'a self,
        stored: &'a LogEntryRecord,
        _: Option<&'a VerifiedCheckpoint>,
    ) -> BoxFuture<'a, Result<ReadEntry, String>> {
        Box::pin(async move {
            let id = EntryId::parse(&stored.entry_id)
                .map_err(|e| format!("stored entry id: {e}", e = attest_dsse::ErrorChain(&e)))?;
            match self.0.get_entry(&id).await {
                Err(e) => Err(attest_dsse::ErrorChain(&e).to_string()),
                Ok(e) if e.id.uuid() == id.uuid() => Ok(ReadEntry::V1(Box::new(e))),
                Ok(_) => Err("the log returned another entry".to_owned()),
            }
        })
    }
    fn read_bodies(
        &self,
        start: u64,
        end: u64,
        _size: u64,
    ) -> BoxFuture<'_, Result<Vec<Body>, String>> {
        Box::pin(async move {
            let indexes: Vec<u64> = (start..end).collect();
            let mut entries = self
                .0
                .retrieve_indexes(&indexes)
                .await
                .map_err(|e| attest_dsse::ErrorChain(&e).to_string())?;
            entries.sort_by_key(|e| e.log_index);
            // Each index asked for, once, in order: anything else is a log
            // not answering what it was asked.
            if entries.len() != indexes.len()
                || entries.iter().zip(&indexes).any(|(e, &i)| e.log_index != i)
            {
                return Err(format!(
                    "asked for the entries at {start}..{end}, the log answered {} others",
                    entries.len()
                ));
            }
            // A sharded log numbers entries across shards; its checkpoint's
            // tree is one shard's, indexed from 0. Enumerating it by tree
            // index is not what `logIndexes` asks for: say so.
            if let Some(e) = entries.iter().find(|e| {
                e.inclusion_proof
                    .as_ref()
                    .is_some_and(|p| p.log_index != e.log_index)
            }) {
                return Err(format!(
                    "a sharded log (global index {} is index {} of its tree): enumerating it is not supported",
                    e.log_index,
                    e.inclusion_proof.as_ref().map_or(0, |p| p.log_index)
                ));
            }
            Ok(entries
                .into_iter()
                .map(|e| {
                    let id = e.id.to_string();
                    (e.body, id)
                })
                .collect())
        })
    }
}

/// A Rekor v2 log for the blocking pipelines: the [`RekorV2Client`] that
/// writes and reads its tiles, and — for an [`Attestor`](crate::Attestor) —
/// the RFC 3161 timestamp authority that times its entries (a v2 log keeps
/// no time). Give it to `.log(…)` of an attestor or auditor builder.
pub struct RekorV2<T> {
    log: RekorV2Client<T>,
    tsa: Option<TsaClient<T>>,
}

impl<T> std::fmt::Debug for RekorV2<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RekorV2")
            .field("timestamps", &self.tsa.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: Transport + Sync> RekorV2<T> {
    /// The log, read through `log` (an auditor needs no more).
    #[must_use]
    pub const fn new(log: RekorV2Client<T>) -> Self {
        Self { log, tsa: None }
    }

    /// With the timestamp authority an attestor asks for each entry's time.
    #[must_use]
    pub fn with_tsa(mut self, tsa: TsaClient<T>) -> Self {
        self.tsa = Some(tsa);
        self
    }
}

/// [`RekorV2`] over an async transport, for the
/// [`AsyncAttestor`](crate::AsyncAttestor) and
/// [`AsyncAuditor`](crate::AsyncAuditor): the [`AsyncRekorV2Client`] and,
/// for an attestor, the [`AsyncTsaClient`].
pub struct AsyncRekorV2<T> {
    log: AsyncRekorV2Client<T>,
    tsa: Option<AsyncTsaClient<T>>,
}

impl<T> std::fmt::Debug for AsyncRekorV2<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRekorV2")
            .field("timestamps", &self.tsa.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport> AsyncRekorV2<T> {
    /// The log, read through `log`.
    #[must_use]
    pub const fn new(log: AsyncRekorV2Client<T>) -> Self {
        Self { log, tsa: None }
    }

    /// With the timestamp authority an attestor asks for each entry's time.
    #[must_use]
    pub fn with_tsa(mut self, tsa: AsyncTsaClient<T>) -> Self {
        self.tsa = Some(tsa);
        self
    }
}

/// An entry's canonical body and its entry id as a row records it (empty
/// for Rekor v2, whose rows record the leaf hash).
pub(crate) type Body = (Vec<u8>, String);

/// The result of reading an entry with its proof.
type EntryWithProof = Result<(Vec<u8>, Result<attest_merkle::Proof, ClientError>), ClientError>;

/// A Rekor v2 client with its timestamp authority, blocking or async.
trait V2Client: Send + Sync {
    fn trusted_logs(&self) -> Vec<TrustedLog>;
    fn has_tsa(&self) -> bool;
    /// `None` without a timestamp authority.
    fn timestamp<'a>(
        &'a self,
        signature: &'a [u8],
    ) -> Option<BoxFuture<'a, Result<Timestamped, ClientError>>>;
    fn publish<'a>(
        &'a self,
        request: &'a V2Request,
    ) -> BoxFuture<'a, Result<V2Published, ClientError>>;
    fn checkpoint(&self) -> BoxFuture<'_, Result<VerifiedCheckpoint, ClientError>>;
    fn entry_with_proof<'a>(
        &'a self,
        index: u64,
        checkpoint: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, EntryWithProof>;
    fn prove_consistency<'a>(
        &'a self,
        old: &'a VerifiedCheckpoint,
        new: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, Result<(), ClientError>>;
    fn entry_bundle(
        &self,
        bundle: attest_merkle::tiles::TileId,
    ) -> BoxFuture<'_, Result<Vec<u8>, ClientError>>;
}

impl<T: Transport + Sync + Send> V2Client for RekorV2<T> {
    fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.log.trusted_logs()
    }
    fn has_tsa(&self) -> bool {
        self.tsa.is_some()
    }
    fn timestamp<'a>(
        &'a self,
        signature: &'a [u8],
    ) -> Option<BoxFuture<'a, Result<Timestamped, ClientError>>> {
        let tsa = self.tsa.as_ref()?;
        Some(Box::pin(ready(tsa.timestamp(signature))))
    }
    fn publish<'a>(
        &'a self,
        request: &'a V2Request,
    ) -> BoxFuture<'a, Result<V2Published, ClientError>> {
        Box::pin(ready(self.log.publish(request)))
    }
    fn checkpoint(&self) -> BoxFuture<'_, Result<VerifiedCheckpoint, ClientError>> {
        Box::pin(ready(self.log.checkpoint()))
    }
    fn entry_with_proof<'a>(
        &'a self,
        index: u64,
        checkpoint: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, EntryWithProof> {
        Box::pin(ready(self.log.entry_with_proof(index, checkpoint)))
    }
    fn prove_consistency<'a>(
        &'a self,
        old: &'a VerifiedCheckpoint,
        new: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(ready(self.log.prove_consistency(old, new)))
    }
    fn entry_bundle(
        &self,
        bundle: attest_merkle::tiles::TileId,
    ) -> BoxFuture<'_, Result<Vec<u8>, ClientError>> {
        Box::pin(ready(self.log.entry_bundle(bundle)))
    }
}

impl<T: AsyncTransport + Send + Sync> V2Client for AsyncRekorV2<T> {
    fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.log.trusted_logs()
    }
    fn has_tsa(&self) -> bool {
        self.tsa.is_some()
    }
    fn timestamp<'a>(
        &'a self,
        signature: &'a [u8],
    ) -> Option<BoxFuture<'a, Result<Timestamped, ClientError>>> {
        let tsa = self.tsa.as_ref()?;
        Some(Box::pin(tsa.timestamp(signature)))
    }
    fn publish<'a>(
        &'a self,
        request: &'a V2Request,
    ) -> BoxFuture<'a, Result<V2Published, ClientError>> {
        Box::pin(self.log.publish(request))
    }
    fn checkpoint(&self) -> BoxFuture<'_, Result<VerifiedCheckpoint, ClientError>> {
        Box::pin(self.log.checkpoint())
    }
    fn entry_with_proof<'a>(
        &'a self,
        index: u64,
        checkpoint: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, EntryWithProof> {
        Box::pin(self.log.entry_with_proof(index, checkpoint))
    }
    fn prove_consistency<'a>(
        &'a self,
        old: &'a VerifiedCheckpoint,
        new: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(self.log.prove_consistency(old, new))
    }
    fn entry_bundle(
        &self,
        bundle: attest_merkle::tiles::TileId,
    ) -> BoxFuture<'_, Result<Vec<u8>, ClientError>> {
        Box::pin(self.log.entry_bundle(bundle))
    }
}

/// A Rekor v2 log: its flows, written once for both clients.
struct V2<C>(C);

impl<C: V2Client> LogOps for V2<C> {
    fn api(&self) -> LogApiVersion {
        LogApiVersion::V2
    }
    fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.0.trusted_logs()
    }
    fn admit(&self, env: &Envelope, signer: &PublicKey) -> Result<(), AttestError> {
        if !self.0.has_tsa() {
            return Err(AttestError::NoTimestampAuthority);
        }
        V2Request::dsse(env, signer).map_err(AttestError::V2Request)?;
        Ok(())
    }
    /// Timestamp, then log (a token wasted when the log fails is cheap; an
    /// entry logged without a time would be logged again on retry).
    fn publish<'a>(
        &'a self,
        env: &'a Envelope,
        signer: &'a PublicKey,
    ) -> BoxFuture<'a, Result<LogEntryRecord, PublishFailure>> {
        Box::pin(async move {
            let other = PublishFailure::Other;
            let request =
                V2Request::dsse(env, signer).map_err(|e| other(AttestError::V2Request(e)))?;
            let [signature] = env.signatures() else {
                return Err(other(AttestError::SignatureCount(env.signatures().len())));
            };
            let stamp = self
                .0
                .timestamp(&signature.sig)
                .ok_or(other(AttestError::NoTimestampAuthority))?
                .await
                .map_err(PublishFailure::Log)?;
            let published = self
                .0
                .publish(&request)
                .await
                .map_err(PublishFailure::Log)?;
            Ok(crate::entry_record_v2(&published, &stamp))
        })
    }
    fn checkpoint(&self) -> BoxFuture<'_, Result<VerifiedCheckpoint, ClientError>> {
        self.0.checkpoint()
    }
    fn prove_consistency<'a>(
        &'a self,
        old: &'a VerifiedCheckpoint,
        new: &'a VerifiedCheckpoint,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        self.0.prove_consistency(old, new)
    }
    fn read_entry<'a>(
        &'a self,
        stored: &'a LogEntryRecord,
        current: Option<&'a VerifiedCheckpoint>,
    ) -> BoxFuture<'a, Result<ReadEntry, String>> {
        Box::pin(async move {
            let current = current.ok_or("the log's current checkpoint is unavailable")?;
            let index = stored.global_index;
            if index >= current.size {
                return Err(format!(
                    "the stored index {index} is not in the log's tree of {} entries",
                    current.size
                ));
            }
            let (body, proof) = self.0.entry_with_proof(index, current).await.map_err(|e| {
                format!(
                    "entry {index} from the log's tiles: {e}",
                    e = attest_dsse::ErrorChain(&e)
                )
            })?;
            let leaf = attest_merkle::leaf_hash(&body).to_string();
            if leaf != stored.entry_id {
                return Err(format!(
                    "the log's entry {index} is another entry (leaf hash {leaf}, the row names {})",
                    stored.entry_id
                ));
            }
            Ok(ReadEntry::V2 {
                body,
                proof: Box::new(proof),
            })
        })
    }
    fn read_bodies(
        &self,
        start: u64,
        end: u64,
        size: u64,
    ) -> BoxFuture<'_, Result<Vec<Body>, String>> {
        Box::pin(async move {
            let width = u64::from(attest_merkle::tiles::TILE_WIDTH);
            let mut out = Vec::with_capacity(usize::try_from(end - start).unwrap_or(0));
            let mut k = start / width;
            while k * width < end {
                let first = k * width;
                let w = (size - first).min(width);
                let id = attest_merkle::tiles::TileId {
                    level: 0,
                    index: k,
                    width: u16::try_from(w).unwrap_or(attest_merkle::tiles::TILE_WIDTH),
                };
                let bytes = self.0.entry_bundle(id).await.map_err(|e| {
                    format!(
                        "entry bundle {}: {e}",
                        id.entries_path(),
                        e = attest_dsse::ErrorChain(&e)
                    )
                })?;
                let entries = attest_merkle::tiles::parse_entry_bundle::<()>(id, &bytes)
                    .map_err(|_| format!("entry bundle {} does not parse", id.entries_path()))?;
                for (i, e) in (first..).zip(entries) {
                    if i >= start && i < end {
                        // A v2 row's entry id is the leaf hash.
                        out.push((e.to_vec(), String::new()));
                    }
                }
                k += 1;
            }
            Ok(out)
        })
    }
}

impl<T: Transport + Sync + Send + 'static> sealed::IntoOps for RekorClient<T> {
    fn into_ops(self) -> Arc<dyn LogOps> {
        Arc::new(V1(self))
    }
}
impl<T: Transport + Sync + Send + 'static> PipelineLog for RekorClient<T> {
    type Mode = mode::Blocking;
}

impl<T: AsyncTransport + Sync + Send + 'static> sealed::IntoOps for AsyncRekorClient<T> {
    fn into_ops(self) -> Arc<dyn LogOps> {
        Arc::new(V1(self))
    }
}
impl<T: AsyncTransport + Sync + Send + 'static> PipelineLog for AsyncRekorClient<T> {
    type Mode = mode::Async;
}

impl<T: Transport + Sync + Send + 'static> sealed::IntoOps for RekorV2<T> {
    fn into_ops(self) -> Arc<dyn LogOps> {
        Arc::new(V2(self))
    }
}
impl<T: Transport + Sync + Send + 'static> PipelineLog for RekorV2<T> {
    type Mode = mode::Blocking;
}

impl<T: AsyncTransport + Sync + Send + 'static> sealed::IntoOps for AsyncRekorV2<T> {
    fn into_ops(self) -> Arc<dyn LogOps> {
        Arc::new(V2(self))
    }
}
impl<T: AsyncTransport + Sync + Send + 'static> PipelineLog for AsyncRekorV2<T> {
    type Mode = mode::Async;
}

/// A log from a [`LogConnection`](crate::LogConnection) (Rekor v1 or v2,
/// whichever the configuration names), for the pipelines of mode `M`.
pub struct ConfiguredLog<M> {
    ops: Arc<dyn LogOps>,
    mode: std::marker::PhantomData<fn() -> M>,
}

impl<M> ConfiguredLog<M> {
    pub(crate) fn new(log: impl PipelineLog<Mode = M>) -> Self {
        Self {
            ops: log.into_ops(),
            mode: std::marker::PhantomData,
        }
    }
}

impl<M> Clone for ConfiguredLog<M> {
    fn clone(&self) -> Self {
        Self {
            ops: Arc::clone(&self.ops),
            mode: std::marker::PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for ConfiguredLog<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredLog")
            .field("api", &self.ops.api())
            .finish_non_exhaustive()
    }
}

impl<M> sealed::IntoOps for ConfiguredLog<M> {
    fn into_ops(self) -> Arc<dyn LogOps> {
        self.ops
    }
}
impl<M> PipelineLog for ConfiguredLog<M> {
    type Mode = M;
}

/// A blocking pipeline's future did not complete in one poll: a bug in
/// this crate (every operation on the blocking path is ready when made),
/// reported as an error rather than a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a blocking pipeline suspended (a bug in attestlog; please report it)")]
pub struct Suspended;

/// Drives a future whose log operations are all ready (the blocking
/// clients'): one poll completes it; a suspension is [`Suspended`].
pub(crate) fn run_ready<T, E: From<Suspended>>(
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(Suspended.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspended_blocking_pipeline_is_an_error_not_a_panic() {
        let r: Result<(), crate::AttestError> = run_ready(std::future::pending());
        assert!(matches!(r, Err(crate::AttestError::Suspended(Suspended))));
        let r: Result<u8, crate::AuditError> = run_ready(std::future::ready(Ok(7)));
        assert_eq!(r.unwrap_or_default(), 7);
    }
}

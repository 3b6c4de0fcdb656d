//! The pipelines' view of a log client, so that each flow is written once
//! (as futures) for the blocking [`RekorClient`] and the [`AsyncRekorClient`].
//!
//! The blocking client's operations complete in one poll (they return
//! ready futures), so a blocking pipeline drives the same future with
//! [`run_ready`]; the async pipelines `.await` it.

use std::future::{Future, ready};
use std::task::{Context, Poll, Waker};

use attest_dsse::{Envelope, PublicKey};
use attest_rekor::v2::V2Request;
use attest_rekor::verify::VerifiedCheckpoint;
use attest_rekor::{EntryId, LogEntry, TrustedLog};
use rekor_client::tsa::{AsyncTsaClient, Timestamped, TsaClient};
use rekor_client::v2::{AsyncRekorV2Client, RekorV2Client, V2Published};
use rekor_client::{
    AsyncRekorClient, AsyncTransport, ClientError, Published, RekorClient, Transport,
};

/// A transport for pipelines without a log: it cannot be constructed, so a
/// `RekorClient<Offline>` never exists and `Attestor<Offline>` only signs
/// and stores.
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

/// The log operations the pipelines use.
pub(crate) trait LogOps: Sync {
    fn trusted_logs(&self) -> &[TrustedLog];
    fn publish_dsse(
        &self,
        env: &Envelope,
        signer: &PublicKey,
    ) -> impl Future<Output = Result<Published, ClientError>> + Send;
    fn get_entry(&self, id: &EntryId)
    -> impl Future<Output = Result<LogEntry, ClientError>> + Send;
    fn log_info(
        &self,
    ) -> impl Future<Output = Result<(attest_rekor::LogInfo, VerifiedCheckpoint), ClientError>> + Send;
    fn prove_consistency(
        &self,
        old: &VerifiedCheckpoint,
        new: &VerifiedCheckpoint,
    ) -> impl Future<Output = Result<(), ClientError>> + Send;
}

impl<T: Transport + Sync> LogOps for RekorClient<T> {
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

impl<T: AsyncTransport> LogOps for AsyncRekorClient<T> {
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

/// A blocking pipeline's future did not complete in one poll: a bug in
/// this crate (every operation on the blocking path is ready when made),
/// reported as an error rather than a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a blocking pipeline suspended (a bug in attestlog; please report it)")]
pub struct Suspended;

/// Drives a future whose log operations are all ready (the blocking
/// client's): one poll completes it; a suspension is [`Suspended`].
pub(crate) fn run_ready<T, E: From<Suspended>>(
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(Suspended.into()),
    }
}

/// A Rekor v2 log for the pipelines (blocking): the [`RekorV2Client`] that
/// writes and reads its tiles, and — for an [`Attestor`](crate::Attestor) —
/// the RFC 3161 timestamp authority that times its entries (a v2 log keeps
/// no time). Give it to
/// [`AttestorBuilder::log_v2`](crate::AttestorBuilder::log_v2) or
/// [`AuditorBuilder::log_v2`](crate::AuditorBuilder::log_v2).
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

/// A boxed `Send` future (the v2 operations are object-safe).
pub(crate) type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of reading an entry with its proof.
pub(crate) type EntryWithProof =
    Result<(Vec<u8>, Result<attest_merkle::Proof, ClientError>), ClientError>;

/// What the pipelines do with a Rekor v2 log (object-safe, so that one
/// pipeline type holds a v2 log over any transport). The blocking log's
/// futures are ready when made, as for [`LogOps`].
pub(crate) trait V2Ops: Send + Sync {
    fn trusted_logs(&self) -> Vec<TrustedLog>;
    fn has_tsa(&self) -> bool;
    fn timestamp<'a>(
        &'a self,
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<Timestamped, ClientError>>;
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
}

/// Why a Rekor v2 log configured without a timestamp authority cannot time
/// an entry (checked before an attestation is stored; never reached).
fn no_tsa() -> ClientError {
    ClientError::Verification(attest_rekor::Report::failure(
        attest_rekor::verify::Check::Timestamp,
        "no timestamp authority configured for the Rekor v2 log",
    ))
}

impl<T: Transport + Sync + Send> V2Ops for RekorV2<T> {
    fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.log.trusted_logs()
    }
    fn has_tsa(&self) -> bool {
        self.tsa.is_some()
    }
    fn timestamp<'a>(
        &'a self,
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<Timestamped, ClientError>> {
        Box::pin(ready(match &self.tsa {
            Some(tsa) => tsa.timestamp(signature),
            None => Err(no_tsa()),
        }))
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

impl<T: AsyncTransport + Send + Sync> V2Ops for AsyncRekorV2<T> {
    fn trusted_logs(&self) -> Vec<TrustedLog> {
        self.log.trusted_logs()
    }
    fn has_tsa(&self) -> bool {
        self.tsa.is_some()
    }
    fn timestamp<'a>(
        &'a self,
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<Timestamped, ClientError>> {
        Box::pin(async move {
            match &self.tsa {
                Some(tsa) => tsa.timestamp(signature).await,
                None => Err(no_tsa()),
            }
        })
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

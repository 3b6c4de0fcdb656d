//! How a pipeline calls what blocks: the store and the audit baseline.
//!
//! A blocking pipeline calls them in place. An async pipeline must not: a
//! database client may block for a network round trip, and the PostgreSQL
//! client blocks on a runtime of its own, which panics on an async runtime's
//! thread. So an async pipeline runs each call on a thread of its own and
//! awaits its answer. This is written here, on `std::thread` and a oneshot
//! channel, rather than with an executor's `spawn_blocking`, because the
//! facade works with any executor (and none is a dependency); a thread per
//! call costs tens of microseconds, next to a database round trip.

use std::sync::Arc;

use attest_store::StoreError;

use crate::baseline::BaselineError;

/// Where a pipeline runs its blocking calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blocking {
    /// On the caller's thread (the blocking pipelines: their futures must
    /// complete in one poll).
    InPlace,
    /// On a thread of their own (the async pipelines).
    OwnThread,
}

/// An error a blocking call can end with when no thread could run it.
pub(crate) trait NoThread {
    fn no_thread(e: std::io::Error) -> Self;
}

impl NoThread for StoreError {
    fn no_thread(e: std::io::Error) -> Self {
        // Resources may come back: retryable, like a busy database.
        Self::Busy {
            source: Box::new(e),
        }
    }
}

impl NoThread for BaselineError {
    fn no_thread(e: std::io::Error) -> Self {
        Self::NoThread(e)
    }
}

impl Blocking {
    /// Runs `f` where this pipeline runs blocking calls.
    pub(crate) async fn run<T, E>(
        self,
        f: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: NoThread + Send + 'static,
    {
        match self {
            Self::InPlace => f(),
            Self::OwnThread => {
                let (tx, rx) = futures_channel::oneshot::channel();
                std::thread::Builder::new()
                    .name("attestlog-blocking".into())
                    .spawn(move || {
                        // The receiver may be gone (the future was dropped):
                        // the answer is then nobody's.
                        let _ = tx.send(f());
                    })
                    .map_err(E::no_thread)?;
                match rx.await {
                    Ok(r) => r,
                    // The call panicked: its thread dropped the sender.
                    Err(futures_channel::oneshot::Canceled) => Err(E::no_thread(
                        std::io::Error::other("the blocking call panicked"),
                    )),
                }
            }
        }
    }

    /// Runs `f` on `target` (the store, the baseline) where this pipeline
    /// runs blocking calls; the handle is cloned only to cross threads.
    pub(crate) async fn on<S, T, E>(
        self,
        target: &Arc<S>,
        f: impl FnOnce(&S) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        S: ?Sized + Send + Sync + 'static,
        T: Send + 'static,
        E: NoThread + Send + 'static,
    {
        match self {
            Self::InPlace => f(target.as_ref()),
            Self::OwnThread => {
                let target = Arc::clone(target);
                self.run(move || f(target.as_ref())).await
            }
        }
    }
}

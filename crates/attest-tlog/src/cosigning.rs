//! A log that gathers witness cosignatures: a background thread sends each
//! new checkpoint to every configured witness (C2SP `tlog-witness`, with a
//! consistency proof from the size that witness last cosigned) and keeps
//! the verified `cosignature/v1` lines; the log serves its latest checkpoint
//! with the lines obtained for it.
//!
//! Witnessing never holds the log up. Entries are sequenced, checkpoints
//! signed and served as before; a witness that is down, slow or refusing
//! only means fewer lines on the served checkpoint, which
//! [`Witnessing::status`] reports (the witness's last error and whether the
//! k-of-n policy is met), and the witness is tried again with backoff. A
//! verifier that requires k cosignatures fails closed on a checkpoint that
//! has fewer, so the served checkpoint may briefly lack lines right after a
//! write, until the witnesses answer ([`Witnessing::wait_cosigned`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use attest_merkle::Hash;
use attest_rekor::{NoteSignature, SignedNote};
use rekor_client::Transport;
use rekor_client::witness::{Submitted, WitnessClient};

/// How often the log's checkpoint is looked at by default.
pub const DEFAULT_WITNESS_POLL: Duration = Duration::from_millis(100);
/// Longest wait before a failing witness is tried again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// First wait after a witness failed.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// A log whose checkpoints can be witnessed: the latest signed checkpoint,
/// consistency proofs between its sizes, and a place to serve the
/// cosignatures from.
pub trait WitnessedSource: Send + Sync + 'static {
    /// The latest signed checkpoint note.
    fn signed_checkpoint(&self) -> String;
    /// The consistency proof from size `old` to `new` (`0 < old < new`,
    /// `new` at most the current size).
    ///
    /// # Errors
    /// Why the proof could not be read.
    fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<Hash>, Box<dyn std::error::Error + Send + Sync>>;
    /// Serve checkpoints with the lines `cosignatures` holds from now on
    /// (in place of an earlier witnessing's).
    fn serve_cosignatures(&self, cosignatures: Arc<Cosignatures>);
}

/// One witness's standing with the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessStanding {
    /// The witness's name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// The last size it cosigned for this log, when known.
    pub cosigned_size: Option<u64>,
    /// Why its last attempt failed (`None` after a success).
    pub error: Option<String>,
}

/// What the log's witnessing has achieved for its latest checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessingStatus {
    /// The size of the checkpoint the lines are for (`None` before the
    /// first round).
    pub size: Option<u64>,
    /// Cosignatures obtained for it.
    pub cosigned: usize,
    /// How many the log's policy asks for.
    pub threshold: usize,
    /// Each witness.
    pub witnesses: Vec<WitnessStanding>,
}

impl WitnessingStatus {
    /// Whether the checkpoint has the policy's number of cosignatures.
    #[must_use]
    pub const fn quorum(&self) -> bool {
        self.cosigned >= self.threshold
    }
}

#[derive(Debug, Default)]
struct Lines {
    /// The checkpoint (as the log signed it) the lines are for.
    checkpoint: String,
    size: Option<u64>,
    lines: Vec<NoteSignature>,
    witnesses: Vec<WitnessStanding>,
}

/// The cosignatures gathered for the log's latest checkpoint, shared by
/// the witnessing thread and the log's read path.
#[derive(Debug)]
pub struct Cosignatures {
    lines: Mutex<Lines>,
    changed: Condvar,
    threshold: usize,
}

impl Cosignatures {
    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `checkpoint` with the cosignature lines obtained for it appended (as
    /// is when none were, or when they are for another checkpoint).
    #[must_use]
    pub fn decorate(&self, checkpoint: &str) -> String {
        let l = self.lock();
        let mut out = checkpoint.to_owned();
        if l.checkpoint == checkpoint {
            for line in &l.lines {
                out.push_str(&line.to_line());
                out.push('\n');
            }
        }
        out
    }

    /// Where witnessing stands.
    #[must_use]
    pub fn status(&self) -> WitnessingStatus {
        let l = self.lock();
        WitnessingStatus {
            size: l.size,
            cosigned: l.lines.len(),
            threshold: self.threshold,
            witnesses: l.witnesses.clone(),
        }
    }
}

/// A running witnessing thread for one log. Dropping it stops the thread
/// (the log keeps serving the lines last obtained).
#[derive(Debug)]
pub struct Witnessing {
    cosignatures: Arc<Cosignatures>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Witnessing {
    /// Starts gathering cosignatures for `log` from `witnesses`, `threshold`
    /// of which the log's policy asks for; the log's checkpoint is looked
    /// at every `poll`.
    ///
    /// # Errors
    /// [`WitnessingError`] when the policy is impossible (threshold 0 or
    /// above the number of witnesses, a witness twice) or the thread
    /// cannot start.
    pub fn start<L, T>(
        log: L,
        witnesses: Vec<WitnessClient<T>>,
        threshold: usize,
        poll: Duration,
    ) -> Result<Self, WitnessingError>
    where
        L: WitnessedSource,
        T: Transport + Send + 'static,
    {
        if threshold == 0 || threshold > witnesses.len() {
            return Err(WitnessingError::Threshold {
                threshold,
                witnesses: witnesses.len(),
            });
        }
        for (i, w) in witnesses.iter().enumerate() {
            if witnesses[..i]
                .iter()
                .any(|o| o.key().name() == w.key().name() || o.key().key() == w.key().key())
            {
                return Err(WitnessingError::Duplicate(w.key().name().to_owned()));
            }
        }
        let cosignatures = Arc::new(Cosignatures {
            lines: Mutex::new(Lines {
                witnesses: witnesses
                    .iter()
                    .map(|w| WitnessStanding {
                        name: w.key().name().to_owned(),
                        url: w.url(),
                        cosigned_size: None,
                        error: None,
                    })
                    .collect(),
                ..Lines::default()
            }),
            changed: Condvar::new(),
            threshold,
        });
        log.serve_cosignatures(Arc::clone(&cosignatures));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let mut worker = Worker {
            log,
            cosignatures: Arc::clone(&cosignatures),
            witnesses: witnesses
                .into_iter()
                .map(|client| Peer {
                    client,
                    known: None,
                    next_try: Instant::now(),
                    backoff: FIRST_BACKOFF,
                })
                .collect(),
            stopping: Arc::clone(&stopping),
        };
        let thread = std::thread::Builder::new()
            .name("attest-tlog-witnessing".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || {
                    loop {
                        worker.round();
                        let (m, cv) = &*stop;
                        let g = m.lock().unwrap_or_else(PoisonError::into_inner);
                        let (g, _) = cv
                            .wait_timeout_while(g, poll, |s| !*s)
                            .unwrap_or_else(PoisonError::into_inner);
                        if *g {
                            return;
                        }
                    }
                }
            })
            .map_err(WitnessingError::Thread)?;
        Ok(Self {
            cosignatures,
            stop,
            stopping,
            thread: Some(thread),
        })
    }

    /// Where witnessing stands for the latest checkpoint.
    #[must_use]
    pub fn status(&self) -> WitnessingStatus {
        self.cosignatures.status()
    }

    /// The shared lines (what the log serves from).
    #[must_use]
    pub fn cosignatures(&self) -> &Arc<Cosignatures> {
        &self.cosignatures
    }

    /// Waits until a checkpoint of at least `size` entries has `count`
    /// cosignatures, at most `timeout`; whether it came to pass.
    #[must_use]
    pub fn wait_cosigned(&self, size: u64, count: usize, timeout: Duration) -> bool {
        let c = &self.cosignatures;
        let g = c.lock();
        let (g, _) = c
            .changed
            .wait_timeout_while(g, timeout, |l| {
                !(l.size.is_some_and(|s| s >= size) && l.lines.len() >= count)
            })
            .unwrap_or_else(PoisonError::into_inner);
        g.size.is_some_and(|s| s >= size) && g.lines.len() >= count
    }

    /// Stops the thread and waits for it (a request in flight finishes
    /// first, within the witness client's timeout).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        let (m, cv) = &*self.stop;
        *m.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Witnessing {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Why witnessing could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessingError {
    /// The policy cannot be met.
    #[error("a policy of {threshold} of {witnesses} witnesses")]
    Threshold {
        /// The threshold.
        threshold: usize,
        /// Witnesses configured.
        witnesses: usize,
    },
    /// A witness (by name or key) is configured twice.
    #[error("witness {0} is configured twice")]
    Duplicate(String),
    /// The thread could not be spawned.
    #[error("starting the witnessing thread")]
    Thread(#[source] std::io::Error),
}

struct Peer<T> {
    client: WitnessClient<T>,
    /// The size this witness last cosigned for the log, when known.
    known: Option<u64>,
    next_try: Instant,
    backoff: Duration,
}

struct Worker<L, T> {
    log: L,
    cosignatures: Arc<Cosignatures>,
    witnesses: Vec<Peer<T>>,
    stopping: Arc<AtomicBool>,
}

impl<L: WitnessedSource, T: Transport + Send> Worker<L, T> {
    /// Sends the latest checkpoint to each witness that has not cosigned
    /// it and whose backoff has passed.
    fn round(&mut self) {
        let checkpoint = self.log.signed_checkpoint();
        let Some(size) = SignedNote::parse(&checkpoint)
            .ok()
            .and_then(|n| n.checkpoint().ok().map(|c| c.size()))
        else {
            return;
        };
        {
            let mut l = self.cosignatures.lock();
            if l.checkpoint != checkpoint {
                l.checkpoint.clone_from(&checkpoint);
                l.size = Some(size);
                l.lines.clear();
                // A new checkpoint is worth trying at once.
                for p in &mut self.witnesses {
                    p.next_try = Instant::now();
                }
                self.cosignatures.changed.notify_all();
            }
        }
        // The witnesses due now, each asked on a thread of its own: a slow
        // or unreachable one (up to its client's timeout) does not hold up
        // the others' lines.
        let due: Vec<bool> = {
            let l = self.cosignatures.lock();
            let now = Instant::now();
            self.witnesses
                .iter()
                .map(|p| {
                    let name = p.client.key().name();
                    now >= p.next_try && !l.lines.iter().any(|line| line.name == name)
                })
                .collect()
        };
        if self.stopping.load(Ordering::Relaxed) {
            return;
        }
        let (log, cosignatures) = (&self.log, &self.cosignatures);
        let checkpoint = checkpoint.as_str();
        std::thread::scope(|s| {
            for ((i, peer), _) in self
                .witnesses
                .iter_mut()
                .enumerate()
                .zip(&due)
                .filter(|(_, due)| **due)
            {
                s.spawn(move || {
                    let outcome = submit(peer, log, checkpoint, size);
                    record(cosignatures, i, peer, checkpoint, size, outcome);
                });
            }
        });
    }
}

/// Keeps witness `i`'s answer about `checkpoint`, unless the log moved on
/// meanwhile.
fn record<T>(
    cosignatures: &Cosignatures,
    i: usize,
    peer: &mut Peer<T>,
    checkpoint: &str,
    size: u64,
    outcome: Result<NoteSignature, String>,
) {
    let mut l = cosignatures.lock();
    if l.checkpoint != checkpoint {
        return;
    }
    let Some(standing) = l.witnesses.get_mut(i) else {
        return;
    };
    match outcome {
        Ok(line) => {
            peer.known = Some(size);
            peer.backoff = FIRST_BACKOFF;
            standing.cosigned_size = Some(size);
            standing.error = None;
            l.lines.push(line);
        }
        Err(why) => {
            standing.cosigned_size = peer.known;
            standing.error = Some(why);
            peer.next_try = Instant::now() + peer.backoff;
            peer.backoff = (peer.backoff * 2).min(MAX_BACKOFF);
        }
    }
    cosignatures.changed.notify_all();
}

/// One witness's cosignature of `checkpoint`: from the size it is believed
/// to know (0 at first), and once more from the size it answers a 409 with.
fn submit<L: WitnessedSource, T: Transport>(
    peer: &mut Peer<T>,
    log: &L,
    checkpoint: &str,
    size: u64,
) -> Result<NoteSignature, String> {
    for _ in 0..2 {
        let old = peer.known.unwrap_or(0);
        if old > size {
            return Err(format!(
                "the witness cosigned size {old}, more than the log's {size}: the log lost entries or forked"
            ));
        }
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            log.consistency_proof(old, size)
                .map_err(|e| format!("consistency proof from {old}: {e}"))?
        };
        match peer.client.add_checkpoint(old, &proof, checkpoint) {
            Ok(Submitted::Cosigned { line, .. }) => return Ok(line),
            Ok(Submitted::Conflict { known_size }) => peer.known = Some(known_size),
            Ok(_) => return Err("an answer this client does not know".into()),
            Err(e) => return Err(attest_dsse::ErrorChain(&e).to_string()),
        }
    }
    Err(format!(
        "the witness keeps answering 409 (it knows size {})",
        peer.known.unwrap_or(0)
    ))
}

impl WitnessedSource for crate::LocalLog {
    fn signed_checkpoint(&self) -> String {
        self.checkpoint()
    }

    fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<Hash>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self::consistency_proof(self, old, new)?)
    }

    fn serve_cosignatures(&self, cosignatures: Arc<Cosignatures>) {
        // The latest witnessing's lines are served.
        *self
            .shared()
            .cosignatures
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(cosignatures);
    }
}

impl WitnessedSource for crate::TileLog {
    fn signed_checkpoint(&self) -> String {
        self.checkpoint()
    }

    fn consistency_proof(
        &self,
        old: u64,
        new: u64,
    ) -> Result<Vec<Hash>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self::consistency_proof(self, old, new)?)
    }

    fn serve_cosignatures(&self, cosignatures: Arc<Cosignatures>) {
        self.attach_cosignatures(cosignatures);
    }
}

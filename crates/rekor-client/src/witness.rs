//! A client of a C2SP `tlog-witness`: a log sends its new checkpoint with a
//! consistency proof from the size the witness last cosigned, and gets a
//! `cosignature/v1` line back — checked against the witness's key over this
//! very checkpoint before it is returned, so a log never serves a line that
//! does not verify.
//!
//! A witness that answers 409 with a `text/x.tlog.size` body knows another
//! size for the log (the log restarted, or another instance moved it on):
//! [`Submitted::Conflict`] gives that size, to prove from and send again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attest_merkle::Hash;
use attest_rekor::sansio::{BaseUrl, UrlError};
use attest_rekor::witness::{
    AddCheckpoint, CosignatureProblem, DEFAULT_COSIGNATURE_SKEW, TLOG_SIZE_MEDIA_TYPE, WitnessKey,
};
use attest_rekor::{NoteError, NoteSignature, SignedNote};
use http::{Method, Request, StatusCode, header};

use crate::Transport;

/// How long one `add-checkpoint` exchange may take by default.
pub const DEFAULT_WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest witness answer read (a few signature lines).
const MAX_ANSWER_BYTES: usize = 16 << 10;

/// What a witness did with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Submitted {
    /// It cosigned: its line, verified over the checkpoint, and the time on
    /// it (unix seconds).
    Cosigned {
        /// The `cosignature/v1` line.
        line: NoteSignature,
        /// The cosignature's time.
        time: u64,
    },
    /// It last cosigned the log at another size than the request's old
    /// size (409 `text/x.tlog.size`): prove from `known_size` and retry.
    Conflict {
        /// The size the witness knows.
        known_size: u64,
    },
}

/// Why an `add-checkpoint` call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessClientError {
    /// The witness URL is not an http(s) URL.
    #[error("witness URL")]
    Url(#[from] UrlError),
    /// The checkpoint to send is not a signed note.
    #[error("the checkpoint to send")]
    Checkpoint(#[source] NoteError),
    /// The exchange failed (connection refused, timeout, …).
    #[error("witness {witness} unreachable")]
    Transport {
        /// The witness's name.
        witness: String,
        /// The transport's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The witness refused the checkpoint (4xx/5xx other than a size
    /// conflict): a bad signature, an unknown log, a proof that does not
    /// verify, another root at a cosigned size.
    #[error("witness {witness} refused the checkpoint: HTTP {status}: {message}")]
    Refused {
        /// The witness's name.
        witness: String,
        /// The HTTP status.
        status: u16,
        /// The first line of its answer.
        message: String,
    },
    /// The answer is not what the protocol says (no line of this witness,
    /// an unparseable size).
    #[error("witness {witness}: malformed answer: {what}")]
    Malformed {
        /// The witness's name.
        witness: String,
        /// What is wrong.
        what: &'static str,
    },
    /// The witness's line does not verify with its key over the checkpoint.
    #[error("witness answer")]
    Cosignature(#[source] CosignatureProblem),
}

/// One witness, as a log sees it: where it is and the key its
/// cosignatures must verify with.
pub struct WitnessClient<T> {
    transport: T,
    url: BaseUrl,
    key: WitnessKey,
    timeout: Duration,
}

impl<T> std::fmt::Debug for WitnessClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessClient")
            .field("url", &self.url.to_string())
            .field("witness", &self.key.name())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> WitnessClient<T> {
    /// A client of the witness at `url` (its `add-checkpoint` endpoint is
    /// `url/add-checkpoint`), whose lines must verify with `key`.
    ///
    /// # Errors
    /// [`WitnessClientError::Url`].
    pub fn new(transport: T, url: &str, key: WitnessKey) -> Result<Self, WitnessClientError> {
        Ok(Self {
            transport,
            url: BaseUrl::parse(url)?,
            key,
            timeout: DEFAULT_WITNESS_TIMEOUT,
        })
    }

    /// With another per-request timeout.
    #[must_use]
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The witness's key.
    #[must_use]
    pub const fn key(&self) -> &WitnessKey {
        &self.key
    }

    /// The witness's base URL.
    #[must_use]
    pub fn url(&self) -> String {
        self.url.to_string()
    }

    /// Sends `note` (a checkpoint signed by the log) with `proof`, the
    /// consistency proof from size `old` (empty from 0 or between equal
    /// sizes). One exchange, no retry: the caller decides when to try
    /// again.
    ///
    /// # Errors
    /// A [`WitnessClientError`]; a 409 with a size is not an error but
    /// [`Submitted::Conflict`].
    pub fn add_checkpoint(
        &self,
        old: u64,
        proof: &[Hash],
        note: &str,
    ) -> Result<Submitted, WitnessClientError> {
        let text = SignedNote::parse(note)
            .map_err(WitnessClientError::Checkpoint)?
            .text()
            .to_owned();
        let body = AddCheckpoint {
            old,
            proof: proof.to_vec(),
            note,
        }
        .to_body();
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.url.join("/add-checkpoint")?)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(body.into_bytes())
            .map_err(|e| self.transport_error(e))?;
        let resp = self
            .transport
            .send(req, self.timeout)
            .map_err(|e| self.transport_error(e))?;
        let witness = || self.key.name().to_owned();
        let body = resp.body();
        if body.len() > MAX_ANSWER_BYTES {
            return Err(WitnessClientError::Malformed {
                witness: witness(),
                what: "the answer is larger than 16 KiB",
            });
        }
        let body = String::from_utf8_lossy(body);
        let status = resp.status();
        let is_size = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(';').next().map(str::trim) == Some(TLOG_SIZE_MEDIA_TYPE));
        if status == StatusCode::CONFLICT && is_size {
            let known_size = body
                .strip_suffix('\n')
                .unwrap_or(&body)
                .parse()
                .map_err(|_| WitnessClientError::Malformed {
                    witness: witness(),
                    what: "the 409 body is not a size",
                })?;
            return Ok(Submitted::Conflict { known_size });
        }
        if status != StatusCode::OK {
            return Err(WitnessClientError::Refused {
                witness: witness(),
                status: status.as_u16(),
                message: body.lines().next().unwrap_or_default().to_owned(),
            });
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        // A witness may answer with several lines (several keys); the one
        // of the configured key counts.
        let line = body
            .lines()
            .filter_map(|l| NoteSignature::parse_line(l).ok())
            .find(|l| l.name == self.key.name() && l.key_id == self.key.key_id())
            .ok_or_else(|| WitnessClientError::Malformed {
                witness: witness(),
                what: "no signature line of this witness's key",
            })?;
        let time = self
            .key
            .verify_line(&text, &line, now, DEFAULT_COSIGNATURE_SKEW)
            .map_err(WitnessClientError::Cosignature)?;
        Ok(Submitted::Cosigned { line, time })
    }

    fn transport_error(
        &self,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> WitnessClientError {
        WitnessClientError::Transport {
            witness: self.key.name().to_owned(),
            source: Box::new(e),
        }
    }
}

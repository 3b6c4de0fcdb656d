//! Witness cosignatures (C2SP `tlog-cosignature`, type `cosignature/v1`,
//! Ed25519) and the k-of-n policies that require them.
//!
//! A log can show different histories to different people; each auditor
//! catches only the fork it is shown. A witness verifies that every
//! checkpoint it is sent is consistent with the last one it cosigned for
//! that log and signs it, timestamped. A verifier that requires cosignatures
//! from k of n independent witnesses knows that the tree it checks an entry
//! against is the one those witnesses saw too.
//!
//! ```text
//! signed message:   cosignature/v1\n
//!                   time 1679315147\n
//!                   <the checkpoint's whole note text, ending with \n>
//! signature line:   — <witness name> base64(key id ‖ u64 BE time ‖ Ed25519 signature)
//! key id:           SHA-256(name ‖ \n ‖ 0x04 ‖ 32-byte Ed25519 key)[..4]
//! verifier key:     <name>+<key id hex>+base64(0x04 ‖ 32-byte key)
//! ```
//!
//! A line counts only when both its name and its key id are a policy
//! witness's (C2SP: lines of other keys are ignored). One witness counts
//! once however many lines it has. Lines by a policy witness that do not
//! verify are reported, but do not cancel a valid line of the same witness:
//! anyone relaying a note can append lines, and appending must not be a way
//! to veto it.

use attest_dsse::{Algorithm, PublicKey, SigningKey};
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

use crate::note::{NoteSignature, SignedNote};

/// The header line of a `cosignature/v1` signed message (without its
/// newline).
pub const COSIGNATURE_V1: &str = "cosignature/v1";

/// The signature type byte of an Ed25519 `cosignature/v1` key (key ids and
/// verifier keys).
const SIG_TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Bytes of a `timestamped_signature` for Ed25519: u64 time and 64 bytes.
const TIMESTAMPED_SIGNATURE_LEN: usize = 8 + 64;

/// Why a witness key, a policy or a cosignature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// `cosignature/v1` keys are Ed25519.
    #[error("witness {name}: a cosignature/v1 key must be Ed25519, not {algorithm:?}")]
    NotEd25519 {
        /// The witness's name.
        name: String,
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// A witness name must be non-empty printable text without spaces or
    /// `+` (it appears on signature lines and in verifier keys).
    #[error("{0:?} is not a witness name (non-empty, no spaces, no '+', no control characters)")]
    BadName(String),
    /// A verifier key that is not `<name>+<hex key id>+<base64(0x04 ‖ key)>`
    /// or whose key id does not match its name and key.
    #[error("malformed witness verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    /// A policy's threshold must be between 1 and its number of witnesses.
    #[error(
        "a threshold of {threshold} is impossible with {witnesses} witnesses (it must be 1..={witnesses})"
    )]
    Threshold {
        /// The threshold asked for.
        threshold: usize,
        /// How many witnesses the policy names.
        witnesses: usize,
    },
    /// The same witness (name, key or key id) twice in one policy: it would
    /// count twice towards the threshold.
    #[error("witness {0} appears twice in the policy (by name, key or key id)")]
    DuplicateWitness(String),
    /// A cosignature time must not exceed 2^63 - 1.
    #[error("cosignature time {0} exceeds 2^63 - 1")]
    TimeOutOfRange(u64),
    /// The text to cosign is not a checkpoint note text.
    #[error("the text to cosign is not a checkpoint note's text: {0}")]
    NotCheckpoint(String),
    /// Fewer than the policy's threshold of witnesses cosigned the
    /// checkpoint validly.
    #[error(
        "the checkpoint has valid cosignatures from {got} of the {needed} witnesses required{}",
        problems_suffix(.problems)
    )]
    Quorum {
        /// The threshold.
        needed: usize,
        /// Distinct witnesses with a valid cosignature.
        got: usize,
        /// Lines by policy witnesses that did not count, and why.
        problems: Vec<CosignatureProblem>,
    },
}

fn problems_suffix(problems: &[CosignatureProblem]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
    format!(" ({})", list.join("; "))
}

impl WitnessError {
    /// A stable kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NotEd25519 { .. } => "witness-key-not-ed25519",
            Self::BadName(_) => "witness-name-invalid",
            Self::MalformedVerifierKey(_) => "witness-vkey-malformed",
            Self::Threshold { .. } => "witness-threshold-impossible",
            Self::DuplicateWitness(_) => "witness-duplicate",
            Self::TimeOutOfRange(_) => "cosignature-time-out-of-range",
            Self::NotCheckpoint(_) => "cosigned-text-not-checkpoint",
            Self::Quorum { .. } => "witness-quorum-not-met",
        }
    }
}

/// Why one signature line by a policy witness did not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureProblem {
    /// Not a `timestamped_signature` of an Ed25519 signature (72 bytes).
    #[error("witness {witness}: the cosignature is {len} bytes, not 72")]
    Malformed {
        /// The witness's name.
        witness: String,
        /// Bytes after the key id.
        len: usize,
    },
    /// The time is beyond 2^63 - 1.
    #[error("witness {witness}: cosignature time {time} exceeds 2^63 - 1")]
    TimeOutOfRange {
        /// The witness's name.
        witness: String,
        /// The time on the line.
        time: u64,
    },
    /// The cosignature is dated after the verifier's clock plus its skew.
    #[error(
        "witness {witness}: cosigned at {time} (unix), after the verifier's time {now} + {skew} s"
    )]
    FromTheFuture {
        /// The witness's name.
        witness: String,
        /// The time on the line.
        time: u64,
        /// The verifier's time.
        now: i64,
        /// The allowed skew, seconds.
        skew: u64,
    },
    /// The line names another signer or key id than this witness's.
    #[error("witness {witness}: the line is signed as {signer:?} or with another key id")]
    OtherSigner {
        /// The witness's name.
        witness: String,
        /// The name on the line.
        signer: String,
    },
    /// The Ed25519 signature does not verify over this checkpoint and time.
    #[error("witness {witness}: the cosignature does not verify over this checkpoint")]
    BadSignature {
        /// The witness's name.
        witness: String,
    },
}

fn check_name(name: &str) -> Result<(), WitnessError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '+')
    {
        return Err(WitnessError::BadName(name.to_owned()));
    }
    Ok(())
}

fn raw_ed25519(key: &PublicKey) -> &[u8] {
    let spki = key.spki_der();
    &spki[spki.len().saturating_sub(32)..]
}

/// A witness as verifiers know it: its name and Ed25519 `cosignature/v1`
/// key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey {
    name: String,
    key: PublicKey,
    key_id: [u8; 4],
}

impl WitnessKey {
    /// The witness `name` with Ed25519 key `key`.
    ///
    /// # Errors
    /// [`WitnessError::BadName`], [`WitnessError::NotEd25519`].
    pub fn new(name: impl Into<String>, key: PublicKey) -> Result<Self, WitnessError> {
        let name = name.into();
        check_name(&name)?;
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(WitnessError::NotEd25519 {
                name,
                algorithm: key.algorithm(),
            });
        }
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update([b'\n', SIG_TYPE_COSIGNATURE_V1]);
        h.update(raw_ed25519(&key));
        let d = h.finalize();
        let key_id = [d[0], d[1], d[2], d[3]];
        Ok(Self { name, key, key_id })
    }

    /// Parses a verifier key `<name>+<key id hex>+<base64(0x04 ‖ 32-byte
    /// key)>`, checking that the key id is the one its name and key give.
    ///
    /// # Errors
    /// [`WitnessError::MalformedVerifierKey`] or [`WitnessError::BadName`].
    pub fn from_vkey(vkey: &str) -> Result<Self, WitnessError> {
        let bad = WitnessError::MalformedVerifierKey;
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("not three '+'-separated parts"));
        };
        let blob = crate::b64::decode(key).map_err(|_| bad("the key is not base64"))?;
        let raw: [u8; 32] = match blob.split_first() {
            Some((&SIG_TYPE_COSIGNATURE_V1, raw)) => {
                raw.try_into().map_err(|_| bad("the key is not 32 bytes"))?
            }
            Some((_, _)) => return Err(bad("the key's type byte is not 0x04 (cosignature/v1)")),
            None => return Err(bad("the key is empty")),
        };
        let key = PublicKey::ed25519_from_bytes(&raw).map_err(|_| bad("not an Ed25519 key"))?;
        let w = Self::new(name, key)?;
        if base16ct::lower::encode_string(&w.key_id) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(w)
    }

    /// The verifier key text (see [`from_vkey`](Self::from_vkey)).
    #[must_use]
    pub fn to_vkey(&self) -> String {
        let mut blob = vec![SIG_TYPE_COSIGNATURE_V1];
        blob.extend_from_slice(raw_ed25519(&self.key));
        format!(
            "{}+{}+{}",
            self.name,
            base16ct::lower::encode_string(&self.key_id),
            Base64::encode_string(&blob)
        )
    }

    /// The witness's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key.
    #[must_use]
    pub const fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The 4-byte key id of its signature lines.
    #[must_use]
    pub const fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// Checks one signature line of this witness over the note text
    /// `text` at the verifier's time `now` (unix seconds), allowing `skew`
    /// seconds of clock difference: the line's name and key id must be
    /// this witness's, and its signature a valid `cosignature/v1` dated no
    /// later than `now + skew`. The cosignature's time, or what is wrong.
    ///
    /// # Errors
    /// A [`CosignatureProblem`].
    pub fn verify_line(
        &self,
        text: &str,
        sig: &NoteSignature,
        now: i64,
        skew: u64,
    ) -> Result<u64, CosignatureProblem> {
        if sig.name != self.name || sig.key_id != self.key_id {
            return Err(CosignatureProblem::OtherSigner {
                witness: self.name.clone(),
                signer: sig.name.clone(),
            });
        }
        self.check(text, sig, now, skew)
    }

    /// Checks one signature line of this witness over `text`.
    fn check(
        &self,
        text: &str,
        sig: &NoteSignature,
        now: i64,
        skew: u64,
    ) -> Result<u64, CosignatureProblem> {
        let witness = || self.name.clone();
        let Some((time, ed)) = sig
            .signature
            .split_first_chunk::<8>()
            .filter(|_| sig.signature.len() == TIMESTAMPED_SIGNATURE_LEN)
        else {
            return Err(CosignatureProblem::Malformed {
                witness: witness(),
                len: sig.signature.len(),
            });
        };
        let time = u64::from_be_bytes(*time);
        let Ok(signed_time) = i64::try_from(time) else {
            return Err(CosignatureProblem::TimeOutOfRange {
                witness: witness(),
                time,
            });
        };
        if signed_time > now.saturating_add(i64::try_from(skew).unwrap_or(i64::MAX)) {
            return Err(CosignatureProblem::FromTheFuture {
                witness: witness(),
                time,
                now,
                skew,
            });
        }
        if !self.key.verifies(&cosigned_message(text, time), ed) {
            return Err(CosignatureProblem::BadSignature { witness: witness() });
        }
        Ok(time)
    }
}

/// The message a `cosignature/v1` signs: the header line, the time line and
/// the note's text (which ends with a newline).
#[must_use]
pub fn cosigned_message(text: &str, time: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(COSIGNATURE_V1.len() + 30 + text.len());
    m.extend_from_slice(COSIGNATURE_V1.as_bytes());
    m.extend_from_slice(format!("\ntime {time}\n").as_bytes());
    m.extend_from_slice(text.as_bytes());
    m
}

/// A witness's signing side: makes `cosignature/v1` lines.
pub struct Cosigner {
    witness: WitnessKey,
    key: SigningKey,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cosigner")
            .field("witness", &self.witness)
            .finish_non_exhaustive()
    }
}

impl Cosigner {
    /// The witness `name` signing with Ed25519 `key`.
    ///
    /// # Errors
    /// As [`WitnessKey::new`].
    pub fn new(name: impl Into<String>, key: SigningKey) -> Result<Self, WitnessError> {
        let witness = WitnessKey::new(name, key.public_key().clone())?;
        Ok(Self { witness, key })
    }

    /// The public side, for verifiers.
    #[must_use]
    pub const fn witness(&self) -> &WitnessKey {
        &self.witness
    }

    /// Cosigns a checkpoint note's `text` (its lines up to and including
    /// the root hash's and any extension lines, ending with a newline) at
    /// `time` (unix seconds).
    ///
    /// # Errors
    /// [`WitnessError::TimeOutOfRange`], [`WitnessError::NotCheckpoint`].
    pub fn cosign(&self, text: &str, time: u64) -> Result<NoteSignature, WitnessError> {
        if i64::try_from(time).is_err() {
            return Err(WitnessError::TimeOutOfRange(time));
        }
        attest_merkle::Checkpoint::parse(text)
            .map_err(|e| WitnessError::NotCheckpoint(e.to_string()))?;
        let mut signature = time.to_be_bytes().to_vec();
        signature.extend_from_slice(&self.key.sign(&cosigned_message(text, time)));
        Ok(NoteSignature {
            name: self.witness.name.clone(),
            key_id: self.witness.key_id,
            signature,
        })
    }
}

/// One witness's valid cosignature on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cosignature {
    /// The witness's name.
    pub witness: String,
    /// When it cosigned (unix seconds): its latest valid line.
    pub time: u64,
}

/// Seconds a cosignature may be dated ahead of the verifier's clock.
pub const DEFAULT_COSIGNATURE_SKEW: u64 = 300;

/// Cosignatures from `threshold` of `witnesses` required on a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    witnesses: Vec<WitnessKey>,
    threshold: usize,
    skew: u64,
}

impl WitnessPolicy {
    /// Requires `threshold` of `witnesses` (distinct by name, key and key
    /// id); cosignatures may be dated up to [`DEFAULT_COSIGNATURE_SKEW`]
    /// ahead of the verifier's clock.
    ///
    /// # Errors
    /// [`WitnessError::Threshold`], [`WitnessError::DuplicateWitness`].
    pub fn new(witnesses: Vec<WitnessKey>, threshold: usize) -> Result<Self, WitnessError> {
        if threshold == 0 || threshold > witnesses.len() {
            return Err(WitnessError::Threshold {
                threshold,
                witnesses: witnesses.len(),
            });
        }
        for (i, w) in witnesses.iter().enumerate() {
            if witnesses[..i]
                .iter()
                .any(|o| o.name == w.name || o.key == w.key || o.key_id == w.key_id)
            {
                return Err(WitnessError::DuplicateWitness(w.name.clone()));
            }
        }
        Ok(Self {
            witnesses,
            threshold,
            skew: DEFAULT_COSIGNATURE_SKEW,
        })
    }

    /// With another allowed clock skew (seconds).
    #[must_use]
    pub const fn with_skew(mut self, skew: u64) -> Self {
        self.skew = skew;
        self
    }

    /// The witnesses.
    #[must_use]
    pub fn witnesses(&self) -> &[WitnessKey] {
        &self.witnesses
    }

    /// The threshold.
    #[must_use]
    pub const fn threshold(&self) -> usize {
        self.threshold
    }

    /// Checks the cosignatures on `note` (whose log signature the caller
    /// verifies) at the verifier's time `now` (unix seconds): at least the
    /// threshold of distinct policy witnesses must have a valid line.
    ///
    /// # Errors
    /// [`WitnessError::Quorum`], listing every line of a policy witness that
    /// did not count.
    pub fn verify(&self, note: &SignedNote, now: i64) -> Result<Vec<Cosignature>, WitnessError> {
        let mut valid: Vec<Cosignature> = Vec::new();
        let mut problems = Vec::new();
        for sig in note.signatures() {
            let Some(w) = self
                .witnesses
                .iter()
                .find(|w| w.key_id == sig.key_id && w.name == sig.name)
            else {
                continue;
            };
            match w.check(note.text(), sig, now, self.skew) {
                Ok(time) => match valid.iter_mut().find(|c| c.witness == w.name) {
                    Some(c) => c.time = c.time.max(time),
                    None => valid.push(Cosignature {
                        witness: w.name.clone(),
                        time,
                    }),
                },
                Err(p) => problems.push(p),
            }
        }
        if valid.len() < self.threshold {
            return Err(WitnessError::Quorum {
                needed: self.threshold,
                got: valid.len(),
                problems,
            });
        }
        Ok(valid)
    }
}

/// Most consistency-proof lines an `add-checkpoint` request may carry
/// (C2SP `tlog-witness`: 63).
pub const MAX_PROOF_LINES: usize = 63;

/// The media type of a witness's 409 body (the size it knows).
pub const TLOG_SIZE_MEDIA_TYPE: &str = "text/x.tlog.size";

/// An `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint<'a> {
    /// The size of the checkpoint the proof starts from.
    pub old: u64,
    /// The consistency proof.
    pub proof: Vec<attest_merkle::Hash>,
    /// The checkpoint note, signature lines included.
    pub note: &'a str,
}

impl<'a> AddCheckpoint<'a> {
    /// Parses `old N\n`, up to [`MAX_PROOF_LINES`] base64 hash lines, an
    /// empty line, and the note.
    ///
    /// # Errors
    /// What is wrong, as text.
    pub fn parse(body: &'a str) -> Result<Self, &'static str> {
        let (first, mut rest) = body.split_once('\n').ok_or("no old size line")?;
        let old = first
            .strip_prefix("old ")
            .ok_or("the first line is not `old <size>`")?;
        if old.is_empty()
            || (old.len() > 1 && old.starts_with('0'))
            || !old.bytes().all(|b| b.is_ascii_digit())
        {
            return Err("the old size is not a decimal without leading zeros");
        }
        let old: u64 = old.parse().map_err(|_| "the old size is out of range")?;
        let mut proof = Vec::new();
        loop {
            let (line, next) = rest
                .split_once('\n')
                .ok_or("no empty line before the checkpoint")?;
            rest = next;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err("more than 63 consistency proof lines");
            }
            proof.push(
                attest_merkle::Hash::from_base64(line)
                    .map_err(|_| "a proof line is not a base64 hash")?,
            );
        }
        Ok(Self {
            old,
            proof,
            note: rest,
        })
    }

    /// The body (for clients).
    #[must_use]
    pub fn to_body(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&h.base64().to_string());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(self.note);
        out
    }
}

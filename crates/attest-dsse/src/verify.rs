//! Threshold verification of envelopes against trusted keys.

use crate::{Envelope, KeySet, PublicKey, Signature, Timestamp, TrustedKey};

/// Why a verifier could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    /// A threshold of zero would accept unsigned envelopes.
    #[error("threshold must be at least 1")]
    ZeroThreshold,
    /// More signatures are required than there are keys.
    #[error("threshold {threshold} exceeds the {keys} trusted keys")]
    ThresholdUnreachable {
        /// The threshold.
        threshold: usize,
        /// Number of keys.
        keys: usize,
    },
    /// The trust set holds one public key twice, which would let one signer
    /// count twice.
    #[error("trusted keys {first} and {second} are the same public key")]
    DuplicateKey {
        /// First position.
        first: usize,
        /// Second position.
        second: usize,
    },
}

/// Why an envelope did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The payload type is not the one expected.
    #[error("payload type is {found:?}, expected {expected:?}")]
    WrongPayloadType {
        /// Expected type.
        expected: String,
        /// Type in the envelope.
        found: String,
    },
    /// The envelope carries no well-formed signature.
    #[error("the envelope has no well-formed signature")]
    NoSignatures,
    /// Fewer distinct trusted keys verified than the threshold.
    #[error("{verified} distinct trusted keys verified, {threshold} required")]
    ThresholdNotMet {
        /// Distinct keys that verified.
        verified: usize,
        /// Required.
        threshold: usize,
    },
}

impl VerifyError {
    /// A stable kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::WrongPayloadType { .. } => "wrong-payload-type",
            Self::NoSignatures => "no-signatures",
            Self::ThresholdNotMet { .. } => "threshold-not-met",
        }
    }
}

/// A successfully verified envelope: the only way (besides an accessor named
/// `unverified`) to reach the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    payload_type: String,
    payload: Vec<u8>,
    key_ids: Vec<String>,
}

impl Verified {
    /// The payload type (equal to the expected one).
    #[must_use]
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The verified payload.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The ids of every trusted key with a valid signature, in trust-set order.
    #[must_use]
    pub fn key_ids(&self) -> &[String] {
        &self.key_ids
    }

    /// Takes the payload.
    #[must_use]
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }
}

/// Verifies envelopes against a fixed set of trusted keys and a threshold.
///
/// The threshold counts **distinct trusted public keys** whose signature
/// verifies: repeated signature entries by one key count once, and a keyid
/// never authenticates anything (it is only used to try the named key first).
///
/// ```
/// use attest_dsse::{Algorithm, Envelope, SigningKey, Timestamp, Verifier};
///
/// let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
/// let env = Envelope::sign("text/plain", b"hello".to_vec(), &[&key]).unwrap();
/// let verifier = Verifier::from_keys([key.public_key().clone()], 1).unwrap();
/// let ok = verifier.verify(&env, "text/plain", Timestamp::now()).unwrap();
/// assert_eq!(ok.payload(), b"hello");
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Vec<TrustedKey>,
    threshold: usize,
}

impl Verifier {
    /// A verifier over `keys` requiring `threshold` distinct keys.
    ///
    /// # Errors
    /// [`VerifierError`] for a zero or unreachable threshold, or a key that
    /// appears twice.
    pub fn new(keys: Vec<TrustedKey>, threshold: usize) -> Result<Self, VerifierError> {
        if threshold == 0 {
            return Err(VerifierError::ZeroThreshold);
        }
        if threshold > keys.len() {
            return Err(VerifierError::ThresholdUnreachable {
                threshold,
                keys: keys.len(),
            });
        }
        for (second, k) in keys.iter().enumerate() {
            if let Some(first) = keys[..second].iter().position(|o| o.key == k.key) {
                return Err(VerifierError::DuplicateKey { first, second });
            }
        }
        Ok(Self { keys, threshold })
    }

    /// A verifier over keys that are valid at all times.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_keys(
        keys: impl IntoIterator<Item = PublicKey>,
        threshold: usize,
    ) -> Result<Self, VerifierError> {
        Self::new(
            keys.into_iter().map(TrustedKey::always).collect(),
            threshold,
        )
    }

    /// A verifier over a key set (validity windows and statuses apply).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_key_set(set: &KeySet, threshold: usize) -> Result<Self, VerifierError> {
        Self::new(set.keys.clone(), threshold)
    }

    /// The trusted keys.
    #[must_use]
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Verifies `env`: its payload type must be `expected_type`, and at least
    /// `threshold` distinct keys that were valid at `at` (an authenticated
    /// time, e.g. a log's integrated time) must have signed its PAE.
    ///
    /// # Errors
    /// [`VerifyError`].
    pub fn verify(
        &self,
        env: &Envelope,
        expected_type: &str,
        at: Timestamp,
    ) -> Result<Verified, VerifyError> {
        if env.payload_type() != expected_type {
            return Err(VerifyError::WrongPayloadType {
                expected: expected_type.to_owned(),
                found: env.payload_type().to_owned(),
            });
        }
        if env.signatures().is_empty() {
            return Err(VerifyError::NoSignatures);
        }
        let pae = env.pae();
        let key_ids = self.verified_keys(
            env.signatures(),
            &pae,
            at,
            &mut vec![false; self.keys.len()],
        );
        self.finish(env, key_ids)
    }

    fn finish(&self, env: &Envelope, key_ids: Vec<String>) -> Result<Verified, VerifyError> {
        if key_ids.len() < self.threshold {
            return Err(VerifyError::ThresholdNotMet {
                verified: key_ids.len(),
                threshold: self.threshold,
            });
        }
        Ok(Verified {
            payload_type: env.payload_type().to_owned(),
            payload: env.payload_unverified().to_vec(),
            key_ids,
        })
    }

    /// Verifies many envelopes, checking all Ed25519 signatures whose keyid
    /// names a trusted key in one batch (ed25519-dalek batch verification).
    /// Results are exactly those of [`verify`](Self::verify) for each
    /// envelope: when the batch fails, every envelope is verified singly.
    ///
    /// Batch verification uses the cofactored equation; with the weak
    /// (small-order) keys that [`PublicKey`] refuses to load, it accepts no
    /// forgery, though a key holder could craft a signature that only the
    /// batch equation accepts. Use [`verify`](Self::verify) where that
    /// difference matters.
    #[cfg(feature = "batch")]
    #[must_use]
    pub fn verify_batch_ed25519(
        &self,
        envs: &[Envelope],
        expected_type: &str,
        at: Timestamp,
    ) -> Vec<Result<Verified, VerifyError>> {
        let paes: Vec<Vec<u8>> = envs.iter().map(Envelope::pae).collect();
        // (envelope, trusted key) pairs that the batch vouches for.
        let mut claims: Vec<(usize, usize)> = Vec::new();
        let mut msgs: Vec<&[u8]> = Vec::new();
        let mut sigs = Vec::new();
        let mut vks = Vec::new();
        for (e, env) in envs.iter().enumerate() {
            if env.payload_type() != expected_type {
                continue;
            }
            for s in env.signatures() {
                let Some(k) = s
                    .keyid
                    .as_deref()
                    .and_then(|id| self.keys.iter().position(|k| k.id == id && k.valid_at(at)))
                else {
                    continue;
                };
                let (Some(vk), Ok(sig)) = (
                    self.keys[k].key.ed25519(),
                    ed25519_dalek::Signature::from_slice(&s.sig),
                ) else {
                    continue;
                };
                if claims.contains(&(e, k)) {
                    continue;
                }
                claims.push((e, k));
                msgs.push(&paes[e]);
                sigs.push(sig);
                vks.push(*vk);
            }
        }
        if claims.is_empty() || ed25519_dalek::verify_batch(&msgs, &sigs, &vks).is_err() {
            return envs
                .iter()
                .map(|e| self.verify(e, expected_type, at))
                .collect();
        }
        envs.iter()
            .enumerate()
            .map(|(e, env)| {
                if env.payload_type() != expected_type || env.signatures().is_empty() {
                    return self.verify(env, expected_type, at);
                }
                // Keys the batch vouched for; the remaining entries are
                // checked one by one.
                let mut verified: Vec<bool> = (0..self.keys.len())
                    .map(|k| claims.contains(&(e, k)))
                    .collect();
                let vouched = |s: &&Signature| {
                    s.keyid.as_deref().is_some_and(|id| {
                        self.keys
                            .iter()
                            .zip(&verified)
                            .any(|(k, v)| *v && k.id == id)
                    })
                };
                let rest: Vec<Signature> = env
                    .signatures()
                    .iter()
                    .filter(|s| !vouched(s))
                    .cloned()
                    .collect();
                let key_ids = self.verified_keys(&rest, &paes[e], at, &mut verified);
                self.finish(env, key_ids)
            })
            .collect()
    }
}

impl Verifier {
    /// Marks in `verified` each trusted key (valid at `at`) with a valid
    /// signature in `signatures`, and returns their ids in trust-set order.
    ///
    /// Each signature entry vouches for at most one key: the key its keyid
    /// names is tried first, then the other keys not yet verified. So the
    /// common case costs one signature check per entry, and no single entry
    /// can count twice toward a threshold.
    fn verified_keys(
        &self,
        signatures: &[Signature],
        pae: &[u8],
        at: Timestamp,
        verified: &mut [bool],
    ) -> Vec<String> {
        for s in signatures {
            let hinted = |k: &TrustedKey| s.keyid.as_deref() == Some(k.id.as_str());
            let order = self
                .keys
                .iter()
                .enumerate()
                .filter(|(_, k)| hinted(k))
                .chain(self.keys.iter().enumerate().filter(|(_, k)| !hinted(k)));
            for (i, k) in order {
                if !verified[i] && k.valid_at(at) && k.key.verifies(pae, &s.sig) {
                    verified[i] = true;
                    break;
                }
            }
        }
        self.keys
            .iter()
            .zip(verified.iter())
            .filter(|(_, v)| **v)
            .map(|(k, _)| k.id.clone())
            .collect()
    }
}

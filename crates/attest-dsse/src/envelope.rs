//! The DSSE envelope, its strict JSON parser and its signing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::{SigningKey, b64, pae};

/// Size bounds applied while parsing an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest envelope JSON accepted, in bytes.
    pub max_envelope_bytes: usize,
    /// Largest decoded payload accepted, in bytes.
    pub max_payload_bytes: usize,
    /// Most signature entries accepted.
    pub max_signatures: usize,
}

impl Limits {
    /// Sets the largest envelope JSON accepted, in bytes.
    #[must_use]
    pub const fn with_max_envelope_bytes(mut self, n: usize) -> Self {
        self.max_envelope_bytes = n;
        self
    }

    /// Sets the largest decoded payload accepted, in bytes.
    #[must_use]
    pub const fn with_max_payload_bytes(mut self, n: usize) -> Self {
        self.max_payload_bytes = n;
        self
    }

    /// Sets the most signature entries accepted.
    #[must_use]
    pub const fn with_max_signatures(mut self, n: usize) -> Self {
        self.max_signatures = n;
        self
    }
}

impl Default for Limits {
    /// 32 MiB of JSON, a 16 MiB payload, 32 signature entries.
    fn default() -> Self {
        Self {
            max_envelope_bytes: 32 << 20,
            max_payload_bytes: 16 << 20,
            max_signatures: 32,
        }
    }
}

/// Why envelope JSON was rejected as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not JSON, or not a JSON object.
    #[error("envelope is not a JSON object")]
    Json(#[source] serde_json::Error),
    /// A member appears twice.
    #[error("duplicate member `{0}`")]
    DuplicateMember(String),
    /// A member whose name differs from a known one only by case (a
    /// case-insensitive decoder such as Go's would read it instead).
    #[error("member `{found}` is a case variant of `{known}`")]
    CaseVariantMember {
        /// The member's name as written.
        found: String,
        /// The known member it shadows.
        known: &'static str,
    },
    /// A required member is missing.
    #[error("missing member `{0}`")]
    MissingMember(&'static str),
    /// A member has the wrong JSON type.
    #[error("member `{0}` has the wrong type")]
    WrongType(&'static str),
    /// The payload is not canonical padded base64.
    #[error("payload is not canonical padded base64 (standard or URL-safe)")]
    InvalidBase64,
    /// The envelope JSON is larger than allowed.
    #[error("envelope is {size} bytes, the limit is {limit}")]
    EnvelopeTooLarge {
        /// Bytes given.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The decoded payload is larger than allowed.
    #[error("payload is {size} bytes, the limit is {limit}")]
    PayloadTooLarge {
        /// The decoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// More signature entries than allowed.
    #[error("{count} signature entries, the limit is {limit}")]
    TooManySignatures {
        /// Entries given.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

impl EnvelopeError {
    /// A stable kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Json(_) => "malformed-json",
            Self::DuplicateMember(_) => "duplicate-member",
            Self::CaseVariantMember { .. } => "case-variant-member",
            Self::MissingMember(_) => "missing-member",
            Self::WrongType(_) => "wrong-type",
            Self::InvalidBase64 => "invalid-base64",
            Self::EnvelopeTooLarge { .. } => "envelope-too-large",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::TooManySignatures { .. } => "too-many-signatures",
        }
    }
}

/// One well-formed signature entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The unauthenticated key hint, if any.
    pub keyid: Option<String>,
    /// The signature bytes.
    pub sig: Vec<u8>,
}

/// A signature entry that could not be read; the others stay usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedSignature {
    /// Position in the `signatures` array.
    pub index: usize,
    /// What was wrong with it.
    pub reason: String,
}

/// A DSSE envelope.
///
/// The payload is reachable through [`Verifier::verify`](crate::Verifier::verify)
/// or, explicitly unverified, [`payload_unverified`](Self::payload_unverified).
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    signatures: Vec<Signature>,
    rejected: Vec<RejectedSignature>,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("payload_type", &self.payload_type)
            .field("payload_len", &self.payload.len())
            .field("signatures", &self.signatures)
            .field("rejected", &self.rejected)
            .finish()
    }
}

/// Something that signs PAE bytes for an envelope.
pub trait EnvelopeSigner {
    /// The keyid hint to write next to the signature.
    fn keyid(&self) -> Option<&str>;
    /// Signs the PAE bytes.
    ///
    /// # Errors
    /// Whatever the signer reports.
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, signature::Error>;
}

impl EnvelopeSigner for SigningKey {
    fn keyid(&self) -> Option<&str> {
        self.keyid_hint()
    }
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.sign(pae))
    }
}

/// Adapts any [`signature::Signer`] (an HSM, a KMS client, another crate's
/// key) into an [`EnvelopeSigner`].
///
/// ```
/// use attest_dsse::{Envelope, TraitSigner};
/// let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
/// let signer = TraitSigner::<_, ed25519_dalek::Signature>::new(key, Some("my-key".into()));
/// let env = Envelope::sign("text/plain", b"hi".to_vec(), &[&signer]).unwrap();
/// assert_eq!(env.signatures()[0].keyid.as_deref(), Some("my-key"));
/// ```
pub struct TraitSigner<S, Sig> {
    signer: S,
    keyid: Option<String>,
    _sig: std::marker::PhantomData<fn() -> Sig>,
}

impl<S, Sig> TraitSigner<S, Sig> {
    /// Wraps `signer`, writing `keyid` next to its signatures.
    pub const fn new(signer: S, keyid: Option<String>) -> Self {
        Self {
            signer,
            keyid,
            _sig: std::marker::PhantomData,
        }
    }
}

impl<S, Sig> EnvelopeSigner for TraitSigner<S, Sig>
where
    S: signature::Signer<Sig>,
    Sig: signature::SignatureEncoding,
{
    fn keyid(&self) -> Option<&str> {
        self.keyid.as_deref()
    }
    fn sign_pae(&self, pae: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.signer.try_sign(pae)?.to_vec())
    }
}

impl Envelope {
    /// An unsigned envelope.
    #[must_use]
    pub fn new(payload_type: impl Into<String>, payload: Vec<u8>) -> Self {
        Self {
            payload_type: payload_type.into(),
            payload,
            signatures: vec![],
            rejected: vec![],
        }
    }

    /// Signs `payload` with every signer.
    ///
    /// # Errors
    /// The first signer's error.
    pub fn sign(
        payload_type: impl Into<String>,
        payload: Vec<u8>,
        signers: &[&dyn EnvelopeSigner],
    ) -> Result<Self, signature::Error> {
        let mut env = Self::new(payload_type, payload);
        let pae = env.pae();
        for s in signers {
            env.signatures.push(Signature {
                keyid: s.keyid().map(str::to_owned),
                sig: s.sign_pae(&pae)?,
            });
        }
        Ok(env)
    }

    /// Adds one more signature.
    ///
    /// # Errors
    /// The signer's error.
    pub fn add_signature(&mut self, signer: &dyn EnvelopeSigner) -> Result<(), signature::Error> {
        let sig = signer.sign_pae(&self.pae())?;
        self.signatures.push(Signature {
            keyid: signer.keyid().map(str::to_owned),
            sig,
        });
        Ok(())
    }

    /// The payload type.
    #[must_use]
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The payload bytes, **not verified**. Prefer
    /// [`Verifier::verify`](crate::Verifier::verify).
    #[must_use]
    pub fn payload_unverified(&self) -> &[u8] {
        &self.payload
    }

    /// The well-formed signature entries.
    #[must_use]
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// The signature entries that could not be read.
    #[must_use]
    pub fn rejected_signatures(&self) -> &[RejectedSignature] {
        &self.rejected
    }

    /// The PAE bytes the signatures cover.
    #[must_use]
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// Parses envelope JSON with the default [`Limits`].
    ///
    /// # Errors
    /// [`EnvelopeError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        Self::from_json_with(bytes, &Limits::default())
    }

    /// Parses envelope JSON.
    ///
    /// Rejected as a whole: anything that is not a JSON object, a duplicate
    /// or case-variant member (`payload`, `payloadType`, `signatures`), a
    /// missing or mistyped member, a payload that is not canonical padded
    /// base64 (standard or URL-safe alphabet), and anything over the limits.
    /// Unknown members are ignored. A malformed signature entry (including
    /// duplicate or case-variant `keyid`/`sig`) is set aside in
    /// [`rejected_signatures`](Self::rejected_signatures); the others stay
    /// usable.
    ///
    /// # Errors
    /// [`EnvelopeError`].
    pub fn from_json_with(bytes: &[u8], limits: &Limits) -> Result<Self, EnvelopeError> {
        if bytes.len() > limits.max_envelope_bytes {
            return Err(EnvelopeError::EnvelopeTooLarge {
                size: bytes.len(),
                limit: limits.max_envelope_bytes,
            });
        }
        let members: Members = serde_json::from_slice(bytes).map_err(EnvelopeError::Json)?;
        let mut known = members.take(&["payload", "payloadType", "signatures"])?;
        let payload = known
            .remove("payload")
            .ok_or(EnvelopeError::MissingMember("payload"))?;
        let payload_type = known
            .remove("payloadType")
            .ok_or(EnvelopeError::MissingMember("payloadType"))?;
        let signatures = known
            .remove("signatures")
            .ok_or(EnvelopeError::MissingMember("signatures"))?;

        let payload: String =
            serde_json::from_str(payload.get()).map_err(|_| EnvelopeError::WrongType("payload"))?;
        let payload_type: String = serde_json::from_str(payload_type.get())
            .map_err(|_| EnvelopeError::WrongType("payloadType"))?;
        let entries: Vec<&RawValue> = serde_json::from_str(signatures.get())
            .map_err(|_| EnvelopeError::WrongType("signatures"))?;
        if entries.len() > limits.max_signatures {
            return Err(EnvelopeError::TooManySignatures {
                count: entries.len(),
                limit: limits.max_signatures,
            });
        }
        let size = b64::decoded_len(&payload);
        if size > limits.max_payload_bytes {
            return Err(EnvelopeError::PayloadTooLarge {
                size,
                limit: limits.max_payload_bytes,
            });
        }
        let payload = b64::decode(&payload).ok_or(EnvelopeError::InvalidBase64)?;

        let mut env = Self::new(payload_type, payload);
        for (index, raw) in entries.into_iter().enumerate() {
            match parse_signature(raw) {
                Ok(sig) => env.signatures.push(sig),
                Err(reason) => env.rejected.push(RejectedSignature { index, reason }),
            }
        }
        Ok(env)
    }

    /// The envelope as compact JSON with sorted members
    /// (`payload`, `payloadType`, `signatures[{keyid?, sig}]`), base64 standard
    /// and padded. Rejected signature entries are not written.
    #[must_use]
    pub fn to_json(&self) -> String {
        let sigs: Vec<serde_json::Value> = self
            .signatures
            .iter()
            .map(|s| {
                let mut m = serde_json::Map::new();
                if let Some(k) = &s.keyid {
                    m.insert("keyid".into(), k.clone().into());
                }
                m.insert("sig".into(), b64::encode(&s.sig).into());
                m.into()
            })
            .collect();
        serde_json::json!({
            "payload": b64::encode(&self.payload),
            "payloadType": self.payload_type,
            "signatures": sigs,
        })
        .to_string()
    }
}

fn parse_signature(raw: &RawValue) -> Result<Signature, String> {
    let members: Members =
        serde_json::from_str(raw.get()).map_err(|_| "not a JSON object".to_owned())?;
    let mut known = members.take(&["keyid", "sig"]).map_err(|e| e.to_string())?;
    let sig = known.remove("sig").ok_or("missing `sig`")?;
    let sig: String = serde_json::from_str(sig.get()).map_err(|_| "`sig` is not a string")?;
    let sig = b64::decode(&sig).ok_or("`sig` is not canonical padded base64")?;
    let keyid = match known.remove("keyid") {
        None => None,
        Some(k) => serde_json::from_str::<Option<String>>(k.get())
            .map_err(|_| "`keyid` is not a string")?,
    };
    Ok(Signature { keyid, sig })
}

/// Every member of a JSON object, in order, duplicates kept.
struct Members<'a>(Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>);

impl<'a> Members<'a> {
    /// The members named in `known`; errors on duplicates and case variants.
    fn take(
        self,
        known: &[&'static str],
    ) -> Result<BTreeMap<&'static str, &'a RawValue>, EnvelopeError> {
        let mut out = BTreeMap::new();
        for (name, value) in self.0 {
            for &k in known {
                if name == *k {
                    if out.insert(k, value).is_some() {
                        return Err(EnvelopeError::DuplicateMember(k.to_owned()));
                    }
                } else if fold_eq(&name, k) {
                    return Err(EnvelopeError::CaseVariantMember {
                        found: name.into_owned(),
                        known: k,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Whether `a` matches the ASCII name `b` under the case folding of Go's
/// `encoding/json` (`bytes.EqualFold`): ASCII case, plus U+017F (ſ) for `s`
/// and U+212A (Kelvin sign) for `k`.
fn fold_eq(a: &str, b: &str) -> bool {
    let fold = |c: char| match c {
        '\u{017f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    a.chars().map(fold).eq(b.chars().map(fold))
}

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Members<'a>, M::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let v: &'de RawValue = map.next_value()?;
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

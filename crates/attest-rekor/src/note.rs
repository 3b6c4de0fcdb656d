//! Signed notes (C2SP signed-note) and the checkpoints they carry.
//!
//! ```text
//! rekor.sigstore.dev - 1193050959916656506\n      ┐
//! 33786589\n                                      │ text: signed bytes, ends with \n
//! ZrYR297TJTi0oux1PnfYzacxRVBAkp5eW5lpw/qFYWQ=\n  ┘
//! \n                                              the LAST blank line splits
//! — rekor.sigstore.dev wNI9ajBEAiB…\n             signature lines: U+2014, space, key
//!                                                 name, space, base64(key id ‖ signature)
//! ```
//!
//! A verifier is a (name, 4-byte key id, public key) triple. Signature lines
//! of unknown (name, key id) pairs are ignored — witnesses add cosignatures —
//! but a known key whose signature fails rejects the note, and a note with no
//! verified signature is rejected.

use attest_dsse::{Algorithm, PublicKey, SigningKey};
use attest_merkle::Checkpoint;
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

/// Most signature lines a note may carry (C2SP asks verifiers to accept at
/// least 16).
pub const MAX_SIGNATURES: usize = 100;

/// Longest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

const DASH: &str = "\u{2014} ";

/// Why a note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_BYTES`].
    #[error("note is larger than {MAX_NOTE_BYTES} bytes")]
    TooLarge,
    /// Not UTF-8, or a control character other than newline.
    #[error("note is not valid text (UTF-8 without control characters)")]
    NotText,
    /// No blank line separating text from signatures, or no text.
    #[error("note has no blank line separating the text from the signatures")]
    Unsplittable,
    /// A signature line that does not parse.
    #[error("malformed signature line {0}")]
    MalformedSignature(usize),
    /// No signature lines, or more than [`MAX_SIGNATURES`].
    #[error("note has {0} signature lines")]
    SignatureCount(usize),
    /// A signature by a known key does not verify.
    #[error("signature by known key {name} ({key_id}) does not verify")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key id, hex.
        key_id: String,
    },
    /// No signature line was made by a known key.
    #[error("no signature by a known key")]
    NoKnownSignature,
    /// A C2SP verifier key that does not parse or whose key id is wrong.
    #[error("malformed verifier key")]
    MalformedVerifierKey,
}

impl NoteError {
    /// A stable kebab-case name of the failure.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::TooLarge => "note-too-large",
            Self::NotText => "note-not-text",
            Self::Unsplittable => "note-unsplittable",
            Self::MalformedSignature(_) => "malformed-signature-line",
            Self::SignatureCount(_) => "signature-count",
            Self::BadSignature { .. } => "checkpoint-signature-invalid",
            Self::NoKnownSignature => "no-known-signature",
            Self::MalformedVerifierKey => "malformed-verifier-key",
        }
    }
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// First 4 bytes of the decoded signature: the key id.
    pub key_id: [u8; 4],
    /// The signature after the key id.
    pub signature: Vec<u8>,
}

/// A parsed (not yet verified) signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// The C2SP key hash of an Ed25519 note key: SHA-256(name ‖ `\n` ‖ 0x01 ‖
/// 32-byte key). Its first 4 bytes are the note key id; all 32 are a Rekor
/// v2 log's id.
#[must_use]
pub fn c2sp_key_hash(name: &str, key: &PublicKey) -> [u8; 32] {
    let spki = key.spki_der();
    let raw = &spki[spki.len().saturating_sub(32)..];
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', 0x01]);
    h.update(raw);
    h.finalize().into()
}

/// A key that verifies or makes note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: [u8; 4],
    key: PublicKey,
}

impl NoteVerifier {
    /// Rekor v1 rule: key id = SHA-256(SPKI DER)[..4] for every key type (the
    /// first 4 bytes of the v1 log id). Also C2SP's rule for ECDSA keys.
    #[must_use]
    pub fn rekor_v1(name: impl Into<String>, key: PublicKey) -> Self {
        let key_id = first4(&Sha256::digest(key.spki_der()));
        Self {
            name: name.into(),
            key_id,
            key,
        }
    }

    /// C2SP rule: Ed25519 keys: SHA-256(name ‖ `\n` ‖ 0x01 ‖ 32-byte key)[..4];
    /// ECDSA keys: SHA-256(SPKI DER)[..4].
    #[must_use]
    pub fn c2sp(name: impl Into<String>, key: PublicKey) -> Self {
        let name = name.into();
        let key_id = match key.algorithm() {
            Algorithm::Ed25519 => first4(&c2sp_key_hash(&name, &key)),
            _ => first4(&Sha256::digest(key.spki_der())),
        };
        Self { name, key_id, key }
    }

    /// A verifier selecting signature lines by an explicit key id (a Rekor
    /// v2 log's id names its key: the first 4 bytes are the note key id,
    /// whatever name the trusted root's URL gives it).
    #[must_use]
    pub(crate) fn with_key_id(name: impl Into<String>, key_id: [u8; 4], key: PublicKey) -> Self {
        Self {
            name: name.into(),
            key_id,
            key,
        }
    }

    /// Parses a C2SP verifier key, `<name>+<key id hex>+<base64(0x01 ‖ Ed25519 key)>`,
    /// checking that the key id matches the key.
    ///
    /// # Errors
    /// [`NoteError::MalformedVerifierKey`].
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let bad = || NoteError::MalformedVerifierKey;
        let mut parts = vkey.splitn(3, '+');
        let (name, id, key) = (
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
            parts.next().ok_or_else(bad)?,
        );
        let blob = crate::b64::decode(key).map_err(|_| bad())?;
        let raw: [u8; 32] = match blob.split_first() {
            Some((0x01, raw)) => raw.try_into().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        let key = PublicKey::ed25519_from_bytes(&raw).map_err(|_| bad())?;
        let v = Self::c2sp(name, key);
        if hex4(&v.key_id) != id {
            return Err(bad());
        }
        Ok(v)
    }

    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    #[must_use]
    pub const fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The public key.
    #[must_use]
    pub const fn key(&self) -> &PublicKey {
        &self.key
    }
}

fn first4(d: &[u8]) -> [u8; 4] {
    let mut k = [0u8; 4];
    k.copy_from_slice(&d[..4]);
    k
}

fn hex4(k: &[u8; 4]) -> String {
    base16ct::lower::encode_string(k)
}

impl SignedNote {
    /// Parses a note: the last blank line splits the text from one or more
    /// signature lines.
    ///
    /// # Errors
    /// [`NoteError`].
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge);
        }
        if note.bytes().any(|b| b < 0x20 && b != b'\n') {
            return Err(NoteError::NotText);
        }
        let split = note.rfind("\n\n").ok_or(NoteError::Unsplittable)?;
        let text = &note[..=split];
        let sigs = &note[split + 2..];
        if sigs.is_empty() {
            return Err(NoteError::SignatureCount(0));
        }
        if text.len() < 2 || !sigs.ends_with('\n') {
            return Err(NoteError::Unsplittable);
        }
        let lines: Vec<&str> = sigs.split_terminator('\n').collect();
        if lines.is_empty() || lines.len() > MAX_SIGNATURES {
            return Err(NoteError::SignatureCount(lines.len()));
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, line)| parse_signature_line(line).ok_or(NoteError::MalformedSignature(i + 1)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, ending with a newline.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines.
    #[must_use]
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Verifies the note against known keys and returns the names of the keys
    /// whose signatures verified.
    ///
    /// A signature line is selected by its key id. The name on the line is
    /// not covered by any signature, so it is not required to equal the
    /// verifier's (a log may sign as `attestlog.local` while its client
    /// calls it by its URL's host): what binds a note to a log is the key,
    /// and, where a caller pins it, the signed origin line (see
    /// `TrustedLog::origin`). A line with a known key id whose signature
    /// fails is an error when it also carries the verifier's name; under
    /// another name it is taken for another key sharing the 4-byte id and
    /// ignored, like any unknown signer.
    ///
    /// # Errors
    /// [`NoteError::BadSignature`] when a known key's signature fails,
    /// [`NoteError::NoKnownSignature`] when no known key signed.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> Result<Vec<String>, NoteError> {
        let mut verified = Vec::new();
        for sig in &self.signatures {
            for v in verifiers.iter().filter(|v| v.key_id == sig.key_id) {
                if !v.key.verifies(self.text.as_bytes(), &sig.signature) {
                    if v.name != sig.name {
                        continue;
                    }
                    return Err(NoteError::BadSignature {
                        name: v.name.clone(),
                        key_id: hex4(&v.key_id),
                    });
                }
                if !verified.contains(&v.name) {
                    verified.push(v.name.clone());
                }
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(verified)
    }

    /// Adds a signature line (a cosignature a witness returned, say). An
    /// identical line is not added twice; a note holding
    /// [`MAX_SIGNATURES`] lines takes no more. Returns whether it was added.
    pub fn push_signature(&mut self, sig: NoteSignature) -> bool {
        if self.signatures.contains(&sig) || self.signatures.len() >= MAX_SIGNATURES {
            return false;
        }
        self.signatures.push(sig);
        true
    }

    /// The checkpoint body of the text.
    ///
    /// # Errors
    /// The checkpoint parser's error.
    pub fn checkpoint(&self) -> Result<Checkpoint<'_>, attest_merkle::CheckpointError> {
        Checkpoint::parse(&self.text)
    }

    /// The note as text (text, blank line, signature lines).
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.to_line());
            out.push('\n');
        }
        out
    }

    /// Signs `text` (which must end with a newline and contain no blank line)
    /// as `name` with `key`, using `key_id` as the line's key id.
    ///
    /// # Errors
    /// [`NoteError::Unsplittable`] for text that would not parse back.
    pub fn sign(
        text: &str,
        name: &str,
        key_id: [u8; 4],
        key: &SigningKey,
    ) -> Result<Self, NoteError> {
        if !text.ends_with('\n') || text.contains("\n\n") || text.len() < 2 || name.contains(' ') {
            return Err(NoteError::Unsplittable);
        }
        let signature = key.sign(text.as_bytes());
        Ok(Self {
            text: text.to_owned(),
            signatures: vec![NoteSignature {
                name: name.to_owned(),
                key_id,
                signature,
            }],
        })
    }
}

impl NoteSignature {
    /// Parses one signature line (`— <name> <base64(key id ‖ signature)>`,
    /// without its newline).
    ///
    /// # Errors
    /// [`NoteError::MalformedSignature`] (line 1).
    pub fn parse_line(line: &str) -> Result<Self, NoteError> {
        parse_signature_line(line).ok_or(NoteError::MalformedSignature(1))
    }

    /// The signature line, without its newline.
    #[must_use]
    pub fn to_line(&self) -> String {
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(&self.signature);
        format!("{DASH}{} {}", self.name, Base64::encode_string(&blob))
    }
}

fn parse_signature_line(line: &str) -> Option<NoteSignature> {
    let rest = line.strip_prefix(DASH)?;
    let (name, b64) = rest.split_once(' ')?;
    if name.is_empty() || name.contains('+') || b64.contains(' ') {
        return None;
    }
    let blob = crate::b64::decode(b64).ok()?;
    if blob.len() < 5 {
        return None;
    }
    Some(NoteSignature {
        name: name.to_owned(),
        key_id: first4(&blob),
        signature: blob[4..].to_vec(),
    })
}

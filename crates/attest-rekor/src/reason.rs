//! Why a verification check failed: a closed set of reasons, with the
//! underlying error as the source where there is one.

use std::sync::Arc;

use attest_merkle::{CheckpointError, ProofError};

/// Why a check failed. Errors of other types that are not `Clone` are kept
/// behind an `Arc` so that reports stay cheap to clone.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    // log-key
    /// The entry's log id names no trusted log.
    #[error("the entry's log id is not a trusted log")]
    UntrustedLog,
    /// A Rekor v2 answer signed by a log the trusted root lists as v1.
    #[error("the answer is from a log trusted as Rekor v1, not v2")]
    NotAV2Log,
    /// The log key's validity window does not contain integratedTime.
    #[error("the log key was not valid at integratedTime")]
    LogKeyNotValidAtTime,
    /// A bundle with several log entries (only one is verified).
    #[error("more than one log entry: only one is verified here")]
    SeveralEntries,
    /// The bundle's log entry is malformed.
    #[error("the log entry")]
    Entry(#[source] Arc<crate::BundleError>),
    /// The REST entry does not convert to a bundle entry.
    #[error("the log entry")]
    RestEntry(#[source] Arc<crate::ApiError>),
    /// The trusted root says the log is Rekor v1, whose entries carry an
    /// integratedTime, and this one has none (absent or 0).
    #[error("a Rekor v1 entry without integratedTime (absent or 0)")]
    NoIntegratedTime,
    /// integratedTime does not fit in an `i64`.
    #[error("integratedTime {0} is out of range")]
    IntegratedTimeRange(u64),
    // integrated-time
    /// integratedTime later than the verifier's clock.
    #[error("integratedTime {0} ({t}) is in the future", t = attest_dsse::Timestamp::from_unix(*.0))]
    FutureIntegratedTime(i64),
    // set
    /// The SET does not verify with the log key.
    #[error("the signed entry timestamp does not verify with the log key")]
    SetSignature,
    /// The SET is not base64.
    #[error("the signed entry timestamp is not base64")]
    SetEncoding,
    /// A Rekor v1 entry without its SET.
    #[error("a Rekor v1 entry without its signed entry timestamp")]
    NoSet,
    /// A bundle v0.1, which requires a SET, from a log that issues none.
    #[error("bundle v0.1 requires a signed entry timestamp, which a Rekor v2 log does not issue")]
    BundleV01NeedsSet,
    // checkpoint-signature
    /// An inclusion proof without its checkpoint.
    #[error("the inclusion proof has no checkpoint")]
    NoCheckpoint,
    // checkpoint-signature
    /// The checkpoint's signed note does not verify.
    #[error(transparent)]
    Note(crate::NoteError),
    /// The checkpoint body is malformed.
    #[error("checkpoint body")]
    CheckpointBody(#[source] CheckpointError),
    // witnesses
    /// The checkpoint lacks the cosignatures the log's witness policy
    /// requires.
    #[error(transparent)]
    Witnesses(crate::witness::WitnessError),
    // checkpoint-binding
    /// The proof's tree size is not the checkpoint's.
    #[error("proof tree size {proof} is not the checkpoint's {checkpoint}")]
    TreeSizeMismatch {
        /// The size the proof claims.
        proof: u64,
        /// The checkpoint's size.
        checkpoint: u64,
    },
    /// The proof's root is not the checkpoint's.
    #[error("proof root hash is not the checkpoint's")]
    RootMismatch,
    /// Two checkpoints of different logs (origins).
    #[error("checkpoints of different logs")]
    OriginMismatch,
    /// A checkpoint whose origin is not the log name the caller pinned.
    #[error(
        "checkpoint origin is {found:?}, expected {expected:?} (or \"{expected} - <tree id>\")"
    )]
    UnexpectedOrigin {
        /// The origin line read.
        found: String,
        /// The pinned log name.
        expected: String,
    },
    // inclusion
    /// The inclusion proof does not verify.
    #[error(transparent)]
    Proof(ProofError),
    /// The consistency proof does not verify.
    #[error("consistency")]
    Consistency(#[source] ProofError),
    /// A bundle without a log entry.
    #[error("the bundle has no transparency-log entry")]
    NoEntry,
    /// A Rekor v2 entry whose log index is not its proven one.
    #[error("the entry's log index {entry} is not the inclusion proof's {proof}")]
    LogIndexMismatch {
        /// The entry's `logIndex`.
        entry: u64,
        /// The proof's `logIndex`.
        proof: u64,
    },
    /// An entry without an inclusion proof.
    #[error("the entry has no inclusion proof")]
    NoInclusionProof,
    /// The inclusion proof's fields are malformed.
    #[error("the inclusion proof")]
    ProofEncoding(#[source] Arc<crate::BundleError>),
    // not-backdated
    /// The claimed time is after the log's time.
    #[error(
        "claimed time {claimed} ({c}) is later than the log's time {log_time} ({l})",
        c = attest_dsse::Timestamp::from_unix(*claimed),
        l = attest_dsse::Timestamp::from_unix(*log_time)
    )]
    ClaimedAfterLogTime {
        /// The claimed time (Unix seconds).
        claimed: i64,
        /// The log's verified time (Unix seconds).
        log_time: i64,
    },
    /// The claimed time precedes the log's time by more than the window.
    #[error(
        "claimed time {claimed} ({c}) is {behind}s before the log's time {log_time} ({l}); the window is {window}s",
        c = attest_dsse::Timestamp::from_unix(*claimed),
        l = attest_dsse::Timestamp::from_unix(*log_time)
    )]
    Backdated {
        /// The claimed time (Unix seconds).
        claimed: i64,
        /// The log's verified time (Unix seconds).
        log_time: i64,
        /// Seconds between the claim and the log's time.
        behind: i64,
        /// The window allowed.
        window: i64,
    },
    /// The difference of the two times does not fit in an `i64`.
    #[error("claimed time and the log's time are too far apart to compare")]
    TimesOutOfRange,
    // body-match
    /// The logged body does not parse.
    #[error(transparent)]
    Body(crate::BodyError),
    /// The bundle's envelope does not parse.
    #[error("the bundle's envelope")]
    Envelope(#[source] Arc<crate::BundleError>),
    /// kindVersion disagrees with the body.
    #[error("kindVersion does not match the body")]
    KindVersionMismatch,
    /// A bundle with neither an envelope nor a message signature.
    #[error("the bundle has no content")]
    NoContent,
    /// The bundle's message digest or signature is not base64.
    #[error("the message digest or signature is not base64")]
    MessageEncoding,
    /// payloadHash is not the envelope payload's SHA-256.
    #[error("payloadHash is not SHA-256 of the envelope's payload")]
    PayloadHash,
    /// A logged signature is not base64 (or, for intoto, not double base64).
    #[error("a logged signature is not (double) base64")]
    LoggedSignatureEncoding,
    /// A logged verifier is not base64.
    #[error("a logged verifier is not base64")]
    LoggedVerifierEncoding,
    /// A logged verifier is not a PEM key or certificate we read.
    #[error("a logged verifier is not a PEM key or certificate")]
    LoggedVerifierKey,
    /// A logged signature does not verify with its logged verifier.
    #[error("a logged signature does not verify with its logged verifier")]
    LoggedSignatureInvalid,
    /// The logged payloadType differs from the envelope's.
    #[error("logged payloadType differs")]
    PayloadType,
    /// The logged digest is not base64.
    #[error("the logged digest is not base64")]
    DigestEncoding,
    /// The logged digest is not SHA-256 of the envelope's PAE.
    #[error("digest is not SHA-256 of the envelope's PAE")]
    PaeDigest,
    /// The logged signatures are not the envelope's.
    #[error("logged signatures are not the envelope's signatures")]
    SignaturesDiffer,
    /// A hashedrekord 0.0.1 entry where an envelope was expected.
    #[error("a hashedrekord 0.0.1 entry logs a message signature, not an envelope")]
    NotAnEnvelopeEntry,
    /// Another kind where a message signature was expected.
    #[error("a message signature is logged as hashedrekord 0.0.1")]
    NotAMessageEntry,
    /// The logged digest differs from the message digest.
    #[error("logged digest differs from the message digest")]
    MessageDigest,
    /// The logged signature differs from the bundle's.
    #[error("logged signature differs from the bundle's")]
    MessageSignatureDiffers,
    /// The logged key (or certificate's key) is not the signer's.
    #[error("the logged key is not the signer's key")]
    LoggedKeyDiffers,
    // signature
    /// The policy names a certificate identity and the bundle has no certificate.
    #[error("the policy requires a certificate and the bundle carries none")]
    NoCertificate,
    /// The bundle's certificate does not parse.
    #[error("the bundle's certificate")]
    Certificate(#[source] Arc<crate::x509::CertificateError>),
    /// The bundle's certificate field is malformed.
    #[error("the bundle's certificate")]
    CertificateField(#[source] Arc<crate::BundleError>),
    /// No key the policy trusts verifies the signature.
    #[error("no key the policy trusts verifies the signature")]
    UntrustedSigner,
    // artifact
    /// The bundle's message digest is not the artifact's.
    #[error("the bundle's message digest is not the artifact's digest")]
    ArtifactDigest,
    /// A message digest algorithm this crate does not read.
    #[error("message digest algorithm {0:?} (SHA2_256, SHA2_384 and SHA2_512 are supported)")]
    DigestAlgorithm(String),
    /// The envelope's payload type is not in-toto's.
    #[error("payloadType {0:?} is not application/vnd.in-toto+json")]
    NotInToto(String),
    /// The payload is not an in-toto statement.
    #[error("the payload is not an in-toto statement")]
    StatementJson(#[source] Arc<serde_json::Error>),
    /// The statement's `_type` is missing or not a known in-toto type.
    #[error("statement _type {0:?} is not a known in-toto Statement type")]
    StatementType(String),
    /// No subject of the statement has the artifact's SHA-256.
    #[error("no subject of the statement has the artifact's SHA-256")]
    SubjectNotFound,
    // time
    /// No verified time: a Rekor v2 entry carries none of its own.
    #[error(
        "no verified time: Rekor v2 entries carry no time of their own, and no RFC 3161 timestamp from a trusted authority verified"
    )]
    NoTimeFromV2,
    /// No verified time at all.
    #[error("no verified time")]
    NoVerifiedTime,
    // signer-validity
    /// The signer's key was not valid (window, status) at a verified time.
    #[error("the signer's key was not valid at verified time {0}")]
    SignerKeyNotValid(attest_dsse::Timestamp),
    // not-backdated
    /// A claimed time needs a log time to be confirmed against.
    #[error(
        "no log time to confirm the claimed time against (Rekor v1: a verified integratedTime; v2: a verified RFC 3161 timestamp)"
    )]
    NoLogTimeForClaim,
    // certificate-identity
    /// A certificate, its path, SCTs or identity.
    #[error(transparent)]
    Pki(crate::pki::PkiError),
    /// An RFC 3161 timestamp.
    #[error("timestamp {index}: {error}")]
    Timestamp {
        /// Its position in the bundle.
        index: usize,
        /// What is wrong.
        #[source]
        error: crate::tsp::TimestampError,
    },
    /// The policy needs the trusted root's certificate authorities and the
    /// caller gave none.
    #[error(
        "no certificate authorities, CT logs or timestamp authorities were given (a trusted root)"
    )]
    NoAuthorities,
    /// A certificate check needs a verified time and there is none.
    #[error("no verified time to validate the certificate at")]
    NoTimeForCertificate,
    /// The timestamped signature is ambiguous: the envelope has other than
    /// one signature.
    #[error("the envelope has {0} signatures: a timestamp needs exactly one")]
    TimestampedSignatureCount(usize),
    /// A verdict without every element (a bug: fails closed).
    #[error("verification did not establish every element")]
    Incomplete,
}

/// What is wrong with one field of a bundle or a log entry: a closed set.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// Not standard base64.
    #[error("not standard base64")]
    NotBase64,
    /// Not a hash (64 hex digits, or 32 bytes).
    #[error("not a SHA-256 hash")]
    NotHash(#[source] attest_merkle::HashParseError),
    /// Not 32 bytes.
    #[error("not 32 bytes")]
    Not32Bytes,
    /// Not a log id.
    #[error(transparent)]
    NotLogId(crate::LogIdError),
    /// Not a canonical decimal integer (digits, no leading zero).
    #[error("{0:?} is not a decimal integer")]
    NotDecimal(String),
    /// A decimal integer beyond 64 bits.
    #[error("{0:?} does not fit in 64 bits")]
    TooLarge(String),
    /// Missing where it is required.
    #[error("missing")]
    Missing,
    /// A DSSE envelope that does not parse.
    #[error(transparent)]
    Envelope(std::sync::Arc<attest_dsse::EnvelopeError>),
    /// A log entry body that does not parse.
    #[error(transparent)]
    Body(crate::BodyError),
}

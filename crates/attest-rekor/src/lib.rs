#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
mod b64;
pub mod body;
pub mod bundle;
mod entry_id;
pub mod hashes;
mod log_id;
mod note;
pub mod pki;
mod reason;
mod root;
pub mod sansio;
pub mod signing;
mod trust;
mod trust_config;
pub mod tsp;
pub mod v2;

pub mod verify;
pub mod witness;
pub mod x509;

pub use api::{ApiError, LogEntry, LogInfo, ProposedEntry};
pub use body::{BodyError, EntryBody};
pub use bundle::{Bundle, BundleError};
pub use entry_id::{EntryId, EntryIdError};
pub use log_id::{LogId, LogIdError};
pub use note::{
    MAX_NOTE_BYTES, MAX_SIGNATURES, NoteError, NoteSignature, NoteVerifier, SignedNote,
    c2sp_key_hash,
};
pub use reason::FieldProblem;
pub use root::{TRUSTED_ROOT_MEDIA_TYPE, TrustedRoot, pin_log_name, trusted_logs};
pub use trust::{
    AuthorityProblem, LogApi, TlogProblem, TrustRootError, TrustedLog, host_of, origin_names,
};
pub use trust_config::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, ClientTrustConfig, ClientTrustConfigError, TrustDocument,
    TrustDocumentError,
};
pub use verify::{
    Artifact, Check, CheckError, NotVerified, Outcome, Policy, Reason, Report, SignerPolicy,
    TimeSource, Verified, VerifiedCertificate, VerifiedEntry, VerifiedEvidence, VerifiedTime,
    Verifier, logged_certificate_der,
};

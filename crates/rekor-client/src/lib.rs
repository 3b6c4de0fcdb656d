#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod body;
pub mod bundle;
mod client;
mod entry_id;
pub mod local;
mod note;
#[cfg(feature = "reqwest")]
mod reqwest_transport;
pub mod sansio;
mod trust;
#[cfg(feature = "ureq")]
mod ureq_transport;
pub mod verify;

pub use api::{ApiError, LogEntry, LogInfo, ProposedEntry};
pub use body::{BodyError, EntryBody};
pub use bundle::{Bundle, BundleError};
pub use client::{
    AsyncRekorClient, AsyncTransport, ClientError, Published, RekorClient, RetryPolicy, Transport,
};
pub use entry_id::{EntryId, EntryIdError};
pub use note::{
    MAX_NOTE_BYTES, MAX_SIGNATURES, NoteError, NoteSignature, NoteVerifier, SignedNote,
};
#[cfg(feature = "reqwest")]
pub use reqwest_transport::{ReqwestError, ReqwestTransport};
pub use trust::{TrustRootError, TrustedLog, host_of, logs_from_trusted_root};
#[cfg(feature = "ureq")]
pub use ureq_transport::{UreqError, UreqTransport};
pub use verify::{
    BundlePolicy, Check, CheckError, Outcome, Report, verify_bundle, verify_log_entry,
    verify_log_evidence,
};

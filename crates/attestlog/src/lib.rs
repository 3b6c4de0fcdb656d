// The README's example runs on the embedded log: without that feature the
// crate docs are the same text, without running the example.
#![cfg_attr(feature = "embedded-log", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "embedded-log"),
    doc = "Transparency-logged software attestations: the facade over attest-merkle, attest-dsse, \
           attest-rekor, rekor-client, attest-store and attest-tlog, and the Attestor / Auditor \
           pipelines. See the README (built into these docs with the `embedded-log` feature)."
)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// RFC 6962 / 9162 Merkle trees, proofs and checkpoints (the
/// [`attest-merkle`](https://docs.rs/attest-merkle) crate).
#[doc(inline)]
pub use attest_merkle as merkle;

/// DSSE envelopes, keys, key sets and in-toto statements (the
/// [`attest-dsse`](https://docs.rs/attest-dsse) crate).
#[doc(inline)]
pub use attest_dsse as dsse;

/// The Rekor / Sigstore protocol and all verification of log evidence (the
/// [`attest-rekor`](https://docs.rs/attest-rekor) crate).
#[doc(inline)]
pub use attest_rekor as rekor;

/// Rekor clients and transports (the
/// [`rekor-client`](https://docs.rs/rekor-client) crate).
#[doc(inline)]
pub use rekor_client as client;

/// Where attestations are stored (the
/// [`attest-store`](https://docs.rs/attest-store) crate).
#[doc(inline)]
pub use attest_store as store;

/// The embedded transparency log (the
/// [`attest-tlog`](https://docs.rs/attest-tlog) crate; feature
/// `embedded-log`).
#[cfg(feature = "embedded-log")]
#[doc(inline)]
pub use attest_tlog as tlog;

/// JSON, as the statements' predicates and the reports use it.
pub use serde_json;

/// HTTP request and response types, as a `Transport` exchanges them.
pub use http;

mod attestor;
mod auditor;
mod baseline;
pub mod binding;
mod blocking;
pub mod completeness;
mod config;
mod error;
mod export;
mod log;
pub mod portal;

pub use attest_dsse::{
    Clock, Envelope, KeySet, PublicKey, SigningKey, Statement, Subject, SystemClock, Timestamp,
};
pub use attest_rekor::pki::{Authorities, IdentityPolicy, Matcher};
pub use attest_rekor::{Bundle, Policy, SignerPolicy, TrustedLog, TrustedRoot, Verifier};
pub use attest_store::{AttestationRow, AttestationStore, MemoryStore};
pub use attestor::{
    AsyncAttestor, AttestError, Attested, Attestor, AttestorBuilder, PublishSummary, entry_record,
    entry_record_v2,
};
pub use auditor::{
    AsyncAuditor, AuditCheck, AuditError, AuditLine, AuditReport, Auditor, AuditorBuilder,
    CompletenessFailure, CompletenessReport, DEFAULT_BACKDATE_WINDOW, LoggedFacts, SignedFacts,
};
pub use baseline::{AuditBaseline, BaselineError, FileBaseline, MemoryBaseline};
pub use config::{
    Config, ConfigError, LogApi, LogClient, LogConnection, LogTransport, TransportError,
    TufSettings,
};
pub use error::ErrorKind;
pub use export::{
    ExportError, KEY_SET_PATH, export_audited_bundle, export_bundle,
    export_bundle_with_certificate, fetch_key_set, key_set_document,
};
pub use log::{
    AsyncRekorV2, ConfiguredLog, Offline, OfflineError, PipelineLog, RekorV2, Suspended, mode,
};
pub use rekor_client::{AsyncRekorClient, AsyncTransport, RekorClient, Transport};

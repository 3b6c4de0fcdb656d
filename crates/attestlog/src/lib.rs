#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use attest_dsse as dsse;
pub use attest_merkle as merkle;
pub use attest_store as store;
pub use rekor_client as rekor;

mod attestor;
mod auditor;
mod config;
mod export;

pub use attestor::{AttestError, Attested, Attestor, PublishSummary, binding, entry_record};
pub use auditor::{AuditCheck, AuditError, AuditLine, AuditReport, Auditor};
pub use config::{Config, ConfigError, LogClient, LogConnection, LogTransport, TransportError};
pub use export::{
    ExportError, KEY_SET_PATH, export_bundle, export_bundle_with_certificate, fetch_key_set,
    key_set_document,
};

//! The public face of an attesting service, over `http` types: the key-set
//! document auditors fetch ([`KeySetEndpoint`]). The auditor portal (audit
//! pages behind per-tenant tokens, downloads) is the `attestlog-portal`
//! crate.

mod keyset;

pub use keyset::{KEY_SET_MAX_AGE_SECS, KeySetEndpoint};

//! The auditor portal of an attesting service, over `http` types:
//! [`Portal`], per-subject audit pages in HTML and JSON, behind a bearer token per tenant, with deep links to the public log
//! entries and downloads an auditor verifies independently.
//!
//! [`Portal::handle`] answers one request; it does no socket I/O of its
//! own but reads the store and asks the log (through the auditor's
//! transport), so an async server runs it on a blocking pool. `attestlog
//! portal serve` serves it on attest-tlog's hyper server
//! (`attest_tlog::Blocking`); mounted in your own axum or hyper service it
//! is one fallback route:
//!
//! ```ignore
//! let portal = std::sync::Arc::new(portal);
//! let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
//!     let portal = portal.clone();
//!     async move {
//!         let (parts, _body) = req.into_parts();
//!         let req = http::Request::from_parts(parts, ());
//!         let r = tokio::task::spawn_blocking(move || portal.handle(&req)).await;
//!         r.map(|r| r.map(axum::body::Body::from))
//!             .unwrap_or_else(|_| http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
//!     }
//! });
//! ```
//!
//! # Routes
//! | path | who | what |
//! |---|---|---|
//! | `/.well-known/<app>/attestation-keys.json` | anyone | the key-set document ([`KeySetEndpoint`](attestlog::portal::KeySetEndpoint)) |
//! | `/audit/<tenant>/<subject>` | the tenant | every attestation of the subject audited now (the verdict covers all), a summary line each, then [`PAGE_SIZE`] cards a page (`?page=N`) (HTML; JSON with `Accept: application/json` or `?format=json`) |
//! | `/attestations/<tenant>/<id>/envelope.json` | the tenant | the DSSE envelope as stored |
//! | `/attestations/<tenant>/<id>/bundle.sigstore.json` | the tenant | a Sigstore bundle of the envelope with the entry as the log returns it now |
//!
//! # Subjects in URLs
//! A tenant is one path segment; the subject is the rest of the path.
//! Each segment is percent-decoded (RFC 3986; `+` is a plus, not a space)
//! and the segments are joined with `/`, so
//! `/audit/acme/github.com%2Facme%2Fapp%40gitCommit%3Aabc` and
//! `/audit/acme/github.com/acme/app@gitCommit:abc` name the same subject.
//! The portal's own links encode every byte outside RFC 3986's unreserved
//! set ([`audit_path`]), so a link survives proxies and copy-paste. A
//! segment that decodes to invalid UTF-8 is a 400.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod links;
mod page;
mod serve;

pub use auth::{AUTH_FILE_VERSION, AuthError, TOKEN_PREFIX, TokenFile, TokenMatch, new_token};
pub use links::{EntryLinks, audit_path};
pub use serve::{PAGE_SIZE, Portal, PortalAccess, PortalError};

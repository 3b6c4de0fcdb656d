//! What leaves the pipeline: Sigstore bundles of published attestations, and
//! the key-set document auditors fetch.

use std::time::Duration;

use attest_dsse::KeySet;
use attest_rekor::bundle::{TlogEntry, VerificationMaterial};
use attest_rekor::{ApiError, Bundle, BundleError, LogEntry};
use attest_store::{AttestationId, AttestationRow, LogApiVersion};
use base64ct::Encoding;
use rekor_client::Transport;

use crate::auditor::Fetched;

/// Where the key-set document is published, relative to a service's origin.
pub const KEY_SET_PATH: &str = "/.well-known/attestlog/attestation-keys.json";

/// Why a bundle or key set could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The row has not been published.
    #[error("attestation {0} is not published (pending): no log entry to put in a bundle")]
    NotPublished(AttestationId),
    /// The stored evidence is not a log entry.
    #[error("stored log evidence is unreadable")]
    Evidence(#[source] ApiError),
    /// The stored Rekor v2 evidence is not a `TransparencyLogEntry`.
    #[error("stored Rekor v2 evidence is unreadable")]
    V2Evidence(#[source] serde_json::Error),
    /// The stored evidence names another entry than the row.
    #[error("the stored evidence is for entry {evidence}, the row names {row}")]
    EvidenceMismatch {
        /// The entry id in the row.
        row: String,
        /// The entry id in the evidence.
        evidence: String,
    },
    /// The stored envelope is not JSON.
    #[error("the stored envelope is not JSON")]
    Envelope(#[source] serde_json::Error),
    /// The stored envelope is not a DSSE envelope.
    #[error("the stored envelope is unreadable")]
    EnvelopeFormat(#[source] attest_dsse::EnvelopeError),
    /// The row's id is not the id of its envelope (SHA-256 of the PAE): the
    /// row was altered, and exporting it would hand out another attestation.
    #[error("the row's id {row} is not its envelope's {envelope}")]
    IdMismatch {
        /// The id the row carries.
        row: AttestationId,
        /// The id re-derived from its envelope.
        envelope: AttestationId,
    },
    /// The row records no signer key id for the key hint.
    #[error("the row records no signer key id")]
    NoSignerKeyId,
    /// The certificate is unreadable.
    #[error("certificate")]
    Certificate(#[source] attest_rekor::x509::CertificateError),
    /// The certificate's key did not sign this attestation.
    #[error("the certificate's key did not sign this attestation")]
    CertificateKeyMismatch,
    /// The bundle built does not parse back (a bug, reported rather than
    /// returned).
    #[error("the bundle does not parse back")]
    Bundle(#[source] BundleError),
    /// The key-set URL is not a valid request target.
    #[error("key set URL {url}")]
    KeySetUrl {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: http::Error,
    },
    /// The key-set document could not be fetched.
    #[error("key set {url}")]
    KeySetTransport {
        /// The URL.
        url: String,
        /// The transport's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The key-set server answered something other than 200.
    #[error("key set {url}: HTTP {status}")]
    KeySetStatus {
        /// The URL.
        url: String,
        /// The status.
        status: http::StatusCode,
    },
    /// The key-set document is malformed.
    #[error("key set {url}")]
    KeySetDocument {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: attest_dsse::KeySetError,
    },
}

impl ExportError {
    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind as K;
        match self {
            Self::NotPublished(_) => K::NotFound,
            Self::Evidence(_)
            | Self::V2Evidence(_)
            | Self::EvidenceMismatch { .. }
            | Self::Envelope(_)
            | Self::EnvelopeFormat(_)
            | Self::IdMismatch { .. }
            | Self::NoSignerKeyId
            | Self::Bundle(_) => K::Corrupt,
            Self::Certificate(_) | Self::CertificateKeyMismatch | Self::KeySetUrl { .. } => {
                K::InvalidInput
            }
            Self::KeySetTransport { .. } => K::Unavailable,
            Self::KeySetStatus { status, .. } if status.is_server_error() => K::Unavailable,
            Self::KeySetStatus { .. } | Self::KeySetDocument { .. } => K::Other,
        }
    }
}

/// A published attestation as a Sigstore bundle v0.3: the envelope exactly
/// as stored, a public-key hint (the signer's key id), and the log entry
/// with its inclusion proof, checkpoint and SET — Rekor v2: with the RFC
/// 3161 timestamp instead of a SET — from the evidence kept when the entry
/// was verified. The bundle is checked by [`Bundle::from_json`] before it is
/// returned.
///
/// # Errors
/// [`ExportError`].
pub fn export_bundle(row: &AttestationRow) -> Result<String, ExportError> {
    bundle_json(row, None)
}

/// [`export_bundle`] with the signer's key carried by an X.509 certificate
/// (DER; e.g. `attest_issue::self_signed_certificate`) instead of a key
/// hint, for clients that only read certificate bundles (sigstore-python
/// 4.x refuses v0.3 bundles without a certificate). The certificate's key
/// must be the row's signer key.
///
/// # Errors
/// [`ExportError`]; [`ExportError::Evidence`] when the certificate does not
/// carry the signer's key.
pub fn export_bundle_with_certificate(
    row: &AttestationRow,
    cert_der: &[u8],
) -> Result<String, ExportError> {
    let key =
        attest_rekor::x509::certificate_public_key(cert_der).map_err(ExportError::Certificate)?;
    if !row.attestation.signer_key_ids.contains(&key.key_id()) {
        return Err(ExportError::CertificateKeyMismatch);
    }
    bundle_json(row, Some(cert_der))
}

fn bundle_json(row: &AttestationRow, cert_der: Option<&[u8]>) -> Result<String, ExportError> {
    let a = &row.attestation;
    let stored = row.entry.as_ref().ok_or(ExportError::NotPublished(a.id))?;
    if stored.api == LogApiVersion::V2 {
        // The `TransparencyLogEntry` the log answered, and the timestamp.
        let entry: TlogEntry =
            serde_json::from_slice(&stored.inclusion_proof).map_err(ExportError::V2Evidence)?;
        let leaf = base64ct::Base64::decode_vec(&entry.canonicalized_body)
            .map(|body| attest_merkle::leaf_hash(&body).to_string())
            .unwrap_or_default();
        if leaf != stored.entry_id {
            return Err(ExportError::EvidenceMismatch {
                row: stored.entry_id.clone(),
                evidence: leaf,
            });
        }
        return bundle_of(row, entry, &stored.timestamp, cert_der);
    }
    let entry = LogEntry::from_json(&stored.inclusion_proof).map_err(ExportError::Evidence)?;
    if entry.id.to_string() != stored.entry_id {
        return Err(ExportError::EvidenceMismatch {
            row: stored.entry_id.clone(),
            evidence: entry.id.to_string(),
        });
    }
    let tlog = entry.to_tlog_entry().map_err(ExportError::Evidence)?;
    bundle_of(row, tlog, &[], cert_der)
}

/// The Sigstore bundle of `row`'s envelope with the log entry exactly as
/// `report`'s audit fetched and verified it (the log's answer, not the
/// store's copy): what an auditor downloads to verify independently.
/// `Ok(None)` when the audit fetched no entry (no log, or the log failed).
///
/// # Errors
/// [`ExportError`] when the fetched entry cannot be put in a bundle.
pub fn export_audited_bundle(
    row: &AttestationRow,
    report: &crate::AuditReport,
) -> Result<Option<String>, ExportError> {
    report
        .fetched
        .as_deref()
        .map(|fetched| bundle_from_fetched(row, fetched))
        .transpose()
}

/// The bundle of `row`'s envelope with the entry as the auditor fetched it
/// (the log's answer, not the store's copy), with a key hint.
pub(crate) fn bundle_from_fetched(
    row: &AttestationRow,
    fetched: &Fetched,
) -> Result<String, ExportError> {
    match fetched {
        Fetched::V1(entry) => {
            let tlog = entry.to_tlog_entry().map_err(ExportError::Evidence)?;
            bundle_of(row, tlog, &[], None)
        }
        Fetched::V2 { entry, timestamp } => bundle_of(row, entry.clone(), timestamp, None),
    }
}

/// The bundle of `row`'s envelope with `tlog` and, when not empty, the
/// RFC 3161 `timestamp` response.
fn bundle_of(
    row: &AttestationRow,
    tlog: TlogEntry,
    timestamp: &[u8],
    cert_der: Option<&[u8]>,
) -> Result<String, ExportError> {
    let a = &row.attestation;
    let env = attest_dsse::Envelope::from_json(&a.envelope).map_err(ExportError::EnvelopeFormat)?;
    let derived = crate::binding::attestation_id_of(&env);
    if derived != a.id {
        return Err(ExportError::IdMismatch {
            row: a.id,
            envelope: derived,
        });
    }
    let material = match cert_der {
        Some(der) => VerificationMaterial::with_certificate(der, vec![tlog]),
        None => VerificationMaterial::with_key_hint(
            a.signer_key_ids
                .first()
                .cloned()
                .ok_or(ExportError::NoSignerKeyId)?,
            vec![tlog],
        ),
    };
    let material = if timestamp.is_empty() {
        material
    } else {
        material.with_rfc3161_timestamps(&[timestamp.to_vec()])
    };
    let bundle = Bundle::v03_dsse(material, &a.envelope).map_err(ExportError::Bundle)?;
    let json = bundle.to_json();
    Bundle::from_json(json.as_bytes()).map_err(ExportError::Bundle)?;
    Ok(json)
}

/// The key-set document for the configured signing keys: `previous` (the
/// published document, whose keys and their windows and statuses are kept)
/// plus every key not yet in it, valid from `from` (and until `until`,
/// when given). The version increases when a key was added.
///
/// What `from` should be: a key valid only from the document's making
/// fails every attestation it signed before (`attestlog keys serve-doc`
/// defaults to the Unix epoch for a first document — there is no earlier
/// key whose history it could claim — and to now for a key added to a
/// published one, a rotation).
#[must_use]
pub fn key_set_document(
    previous: Option<KeySet>,
    keys: &[attest_dsse::PublicKey],
    from: attest_dsse::Timestamp,
    until: Option<attest_dsse::Timestamp>,
) -> KeySet {
    let mut set = previous.unwrap_or(KeySet::new(0, Vec::new()));
    let mut added = false;
    for k in keys {
        if set.keys.iter().all(|t| t.key != *k) {
            let mut key = attest_dsse::TrustedKey::always(k.clone()).from(from);
            if let Some(u) = until {
                key = key.until(u);
            }
            set.keys.push(key);
            added = true;
        }
    }
    if added || set.version == 0 {
        set.version += 1;
    }
    set
}

/// Fetches and parses a key-set document (`attestation-keys.json`) over the
/// same kind of transport the log client uses.
///
/// # Errors
/// The `ExportError::KeySet*` variants for a bad URL, a transport failure, a non-200 answer or a
/// malformed document.
pub fn fetch_key_set<T: Transport>(transport: &T, url: &str) -> Result<KeySet, ExportError> {
    let req = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|source| ExportError::KeySetUrl {
            url: url.to_owned(),
            source,
        })?;
    let resp =
        transport
            .send(req, Duration::from_secs(30))
            .map_err(|e| ExportError::KeySetTransport {
                url: url.to_owned(),
                source: Box::new(e),
            })?;
    if resp.status() != http::StatusCode::OK {
        return Err(ExportError::KeySetStatus {
            url: url.to_owned(),
            status: resp.status(),
        });
    }
    KeySet::from_json(resp.body()).map_err(|source| ExportError::KeySetDocument {
        url: url.to_owned(),
        source,
    })
}

//! What binds a signed statement to its row: the annotation keys the
//! attestor adds to every subject (tenant, stored subject, claimed time),
//! and the attestation id derived from the envelope. Shared by the attestor
//! that writes them and the auditor and exporter that check them.

use attest_dsse::Envelope;
use attest_store::AttestationId;

/// The tenant owning the attestation.
pub const TENANT: &str = "attestlog.dev/tenant";
/// The subject as stored (`name` or `name@sha256:hex`).
pub const SUBJECT: &str = "attestlog.dev/subject";
/// The time the attestation claims, Unix seconds.
pub const CLAIMED_TIME: &str = "attestlog.dev/claimedTime";

/// SHA-256 of the envelope's PAE: how an attestation's id is made.
pub(crate) fn attestation_id_of(env: &Envelope) -> AttestationId {
    use sha2::{Digest, Sha256};
    AttestationId(Sha256::digest(env.pae()).into())
}

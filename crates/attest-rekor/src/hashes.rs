//! The hashes a Rekor `dsse` entry records for an envelope, and digests by
//! their protobuf `HashAlgorithm` name.

use sha2::{Digest, Sha256};

use attest_dsse::Envelope;

/// `payloadHash`: lowercase hex SHA-256 of the decoded payload. This is what
/// Rekor checks and what an auditor compares.
#[must_use]
pub fn payload_hash(env: &Envelope) -> String {
    base16ct::lower::encode_string(&Sha256::digest(env.payload_unverified()))
}

/// `envelopeHash`: lowercase hex SHA-256 of the envelope's compact JSON with
/// sorted members ([`Envelope::to_json`]). It depends on serialization, so
/// it identifies an envelope as we emit it; never require it to match a log
/// entry made from other bytes.
#[must_use]
pub fn envelope_hash(env: &Envelope) -> String {
    base16ct::lower::encode_string(&Sha256::digest(env.to_json().as_bytes()))
}

/// `bytes` digested with the protobuf `HashAlgorithm` `algorithm`
/// (`SHA2_256`, `SHA2_384`, `SHA2_512`); `None` for any other.
#[must_use]
pub fn digest_with(algorithm: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    Some(match algorithm {
        "SHA2_256" => Sha256::digest(bytes).to_vec(),
        "SHA2_384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA2_512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => return None,
    })
}

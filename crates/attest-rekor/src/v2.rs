//! Rekor v2, sans I/O: the write request (`POST /api/v2/log/entries`), the
//! `hashedrekord` 0.0.2 body a log must store for it, the checks of the
//! `TransparencyLogEntry` it answers with, and the static tile reads.
//!
//! Rekor v2 logs message signatures and DSSE envelopes alike as
//! `hashedrekord` 0.0.2: for an envelope the digest is SHA-256 of its PAE and
//! it must carry exactly one signature. The log verifies that signature
//! against the digest, so an envelope signed with Ed25519 (which signs the
//! message itself, not a digest) cannot be logged there; use ECDSA.

use attest_dsse::{Algorithm, Envelope, PublicKey, Timestamp};
use base64ct::{Base64, Encoding};
use http::{Method, Request, Response, StatusCode, header};
use serde::Deserialize;

use crate::bundle::TlogEntry;
use crate::sansio::{ResponseError, UrlError};
use crate::verify::{Check, CheckError, Reason, fail};
use crate::verify::{NotVerified, VerifiedEvidence};
use crate::{EntryBody, TrustedLog};

/// The write path of a Rekor v2 log, relative to its base URL.
pub const CREATE_PATH: &str = "/api/v2/log/entries";

/// Why a Rekor v2 request could not be built or read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum V2Error {
    /// A DSSE envelope with other than exactly one signature.
    #[error("Rekor v2 logs an envelope with exactly one signature; this one has {0}")]
    SignatureCount(usize),
    /// Ed25519 signs the PAE itself; a v2 log can only check a signature
    /// over a digest.
    #[error(
        "Rekor v2 cannot log a DSSE envelope signed with Ed25519 (it verifies signatures over the SHA-256 digest); sign with ECDSA P-256"
    )]
    Ed25519Envelope,
    /// The request is not JSON of a `hashedRekordRequestV002`'s shape.
    #[error("not a hashedRekordRequestV002")]
    Json(#[source] std::sync::Arc<serde_json::Error>),
    /// A field of the request is unusable (named).
    #[error("not a hashedRekordRequestV002: {0}")]
    Malformed(&'static str),
    /// A `keyDetails` this crate does not know.
    #[error("unknown keyDetails {0:?}")]
    KeyDetails(String),
    /// A digest whose length is not the one of the hash the key signs
    /// with (`keyDetails` names the hash: SHA-256 for P-256, SHA-384 for
    /// P-384, SHA-512 for P-521).
    #[error(
        "the digest is {got} bytes, but {key_details} signs {algorithm} digests of {want} bytes"
    )]
    DigestLength {
        /// The key details.
        key_details: String,
        /// The hash they name (`SHA2_384`, …).
        algorithm: &'static str,
        /// The length of that hash.
        want: usize,
        /// The digest's length.
        got: usize,
    },
}

/// The hash (protobuf `HashAlgorithm` name) and its length that a key
/// signs digests with, as `keyDetails` names it; `None` for Ed25519, which
/// signs messages, not digests.
#[must_use]
pub const fn digest_algorithm(alg: Algorithm) -> Option<(&'static str, usize)> {
    match alg {
        Algorithm::EcdsaP256Sha256 => Some(("SHA2_256", 32)),
        Algorithm::EcdsaP384Sha384 => Some(("SHA2_384", 48)),
        Algorithm::EcdsaP521Sha512 => Some(("SHA2_512", 64)),
        _ => None,
    }
}

pub use crate::hashes::digest_with;

/// What the log is to check the signature with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Verifier {
    /// A DER SubjectPublicKeyInfo.
    PublicKey(Vec<u8>),
    /// A DER X.509 certificate (keyless signing).
    Certificate(Vec<u8>),
}

/// The protobuf `PublicKeyDetails` name of a key's algorithm.
#[must_use]
pub const fn key_details(alg: Algorithm) -> Option<&'static str> {
    Some(match alg {
        Algorithm::Ed25519 => "PKIX_ED25519",
        Algorithm::EcdsaP256Sha256 => "PKIX_ECDSA_P256_SHA_256",
        Algorithm::EcdsaP384Sha384 => "PKIX_ECDSA_P384_SHA_384",
        Algorithm::EcdsaP521Sha512 => "PKIX_ECDSA_P521_SHA_512",
        _ => return None,
    })
}

/// The algorithm of a `keyDetails` name (see [`key_details`]).
///
/// # Errors
/// [`V2Error::KeyDetails`].
pub fn algorithm_of(details: &str) -> Result<Algorithm, V2Error> {
    Ok(match details {
        "PKIX_ED25519" => Algorithm::Ed25519,
        "PKIX_ECDSA_P256_SHA_256" => Algorithm::EcdsaP256Sha256,
        "PKIX_ECDSA_P384_SHA_384" => Algorithm::EcdsaP384Sha384,
        "PKIX_ECDSA_P521_SHA_512" => Algorithm::EcdsaP521Sha512,
        other => return Err(V2Error::KeyDetails(other.to_owned())),
    })
}

/// A `hashedRekordRequestV002`: a digest, the signature over it (or over
/// the message it digests), and the verifier. The digest's hash is the one
/// `keyDetails` names (SHA-256 for P-256, SHA-384 for P-384, SHA-512 for
/// P-521), and its length is checked against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Request {
    /// The digest of the signed message (for DSSE: of the PAE) with the
    /// hash of [`hash_algorithm`](Self::hash_algorithm).
    pub digest: Vec<u8>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// The key or certificate.
    pub verifier: V2Verifier,
    /// `keyDetails` (see [`key_details`]).
    pub key_details: String,
}

impl V2Request {
    /// A message signature over the artifact whose digest is `digest` (with
    /// the hash the key signs with: SHA-256 for P-256, SHA-384 for P-384,
    /// SHA-512 for P-521), verified by `key`.
    ///
    /// # Errors
    /// [`V2Error::KeyDetails`] for a key type without a `keyDetails` name;
    /// [`V2Error::DigestLength`] for a digest of another length.
    pub fn message(
        digest: impl Into<Vec<u8>>,
        signature: Vec<u8>,
        key: &PublicKey,
    ) -> Result<Self, V2Error> {
        let details = key_details(key.algorithm())
            .ok_or_else(|| V2Error::KeyDetails(format!("{:?}", key.algorithm())))?;
        let req = Self {
            digest: digest.into(),
            signature,
            verifier: V2Verifier::PublicKey(key.spki_der().to_vec()),
            key_details: details.to_owned(),
        };
        req.check_digest_length()?;
        Ok(req)
    }

    /// The hash the digest is made with (protobuf `HashAlgorithm` name), as
    /// `keyDetails` says; `None` for Ed25519 or unknown details.
    #[must_use]
    pub fn hash_algorithm(&self) -> Option<&'static str> {
        algorithm_of(&self.key_details)
            .ok()
            .and_then(digest_algorithm)
            .map(|(name, _)| name)
    }

    /// The `data.algorithm` of the logged body: the key's hash
    /// (`SHA2_256` for an Ed25519 key, as this crate always wrote).
    fn body_algorithm(&self) -> &'static str {
        self.hash_algorithm().unwrap_or("SHA2_256")
    }

    fn check_digest_length(&self) -> Result<(), V2Error> {
        let alg = algorithm_of(&self.key_details)?;
        match digest_algorithm(alg) {
            Some((algorithm, want)) if want != self.digest.len() => Err(V2Error::DigestLength {
                key_details: self.key_details.clone(),
                algorithm,
                want,
                got: self.digest.len(),
            }),
            // Ed25519 has no digest length to check (and is refused by a
            // log that checks signatures over digests).
            _ => Ok(()),
        }
    }

    /// A DSSE envelope logged as `hashedrekord` 0.0.2: digest = the PAE's
    /// digest with the key's hash (SHA-256 for P-256, SHA-384 for P-384,
    /// SHA-512 for P-521), its one signature, verified by `key` (or, with
    /// [`with_certificate`](Self::with_certificate), by a certificate).
    ///
    /// # Errors
    /// [`V2Error`]: not exactly one signature, or an Ed25519 key.
    pub fn dsse(env: &Envelope, key: &PublicKey) -> Result<Self, V2Error> {
        if key.algorithm() == Algorithm::Ed25519 {
            return Err(V2Error::Ed25519Envelope);
        }
        let [sig] = env.signatures() else {
            return Err(V2Error::SignatureCount(env.signatures().len()));
        };
        let signature = sig.sig.clone();
        let (algorithm, _) = digest_algorithm(key.algorithm())
            .ok_or_else(|| V2Error::KeyDetails(format!("{:?}", key.algorithm())))?;
        let digest = digest_with(algorithm, &crate::verify::hazmat::envelope_pae(env))
            .ok_or_else(|| V2Error::KeyDetails(algorithm.to_owned()))?;
        Self::message(digest, signature, key)
    }

    /// The same request with a certificate (DER) as the verifier.
    #[must_use]
    pub fn with_certificate(mut self, der: Vec<u8>) -> Self {
        self.verifier = V2Verifier::Certificate(der);
        self
    }

    fn verifier_json(&self) -> serde_json::Value {
        let (field, raw) = match &self.verifier {
            V2Verifier::PublicKey(d) => ("publicKey", d),
            V2Verifier::Certificate(d) => ("x509Certificate", d),
        };
        serde_json::json!({
            field: { "rawBytes": Base64::encode_string(raw) },
            "keyDetails": self.key_details,
        })
    }

    /// The request body: `{"hashedRekordRequestV002": {...}}`.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        crate::sansio::to_json_vec(&serde_json::json!({
            "hashedRekordRequestV002": {
                "digest": Base64::encode_string(&self.digest),
                "signature": {
                    "content": Base64::encode_string(&self.signature),
                    "verifier": self.verifier_json(),
                },
            }
        }))
    }

    /// Reads a request body (a log's side of [`to_json`](Self::to_json)).
    /// Unknown members are refused: a log must not store what it did not
    /// understand.
    ///
    /// # Errors
    /// [`V2Error::Json`], [`V2Error::Malformed`] or [`V2Error::KeyDetails`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, V2Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Outer {
            hashed_rekord_request_v002: Inner,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Inner {
            digest: String,
            signature: Sig,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Sig {
            content: String,
            verifier: Ver,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Ver {
            #[serde(default)]
            public_key: Option<crate::bundle::RawBytes>,
            #[serde(default)]
            x509_certificate: Option<crate::bundle::RawBytes>,
            key_details: String,
        }
        let bad = V2Error::Malformed;
        let o: Outer = serde_json::from_slice(bytes).map_err(|e| V2Error::Json(e.into()))?;
        let i = o.hashed_rekord_request_v002;
        let digest = crate::b64::decode(&i.digest).map_err(|_| bad("digest is not base64"))?;
        if digest.is_empty() {
            return Err(bad("empty digest"));
        }
        let signature =
            crate::b64::decode(&i.signature.content).map_err(|_| bad("signature is not base64"))?;
        if signature.is_empty() {
            return Err(bad("empty signature"));
        }
        let raw = |r: &crate::bundle::RawBytes| {
            crate::b64::decode(&r.raw_bytes).map_err(|_| bad("verifier is not base64"))
        };
        let v = &i.signature.verifier;
        let verifier = match (&v.public_key, &v.x509_certificate) {
            (Some(k), None) => V2Verifier::PublicKey(raw(k)?),
            (None, Some(c)) => V2Verifier::Certificate(raw(c)?),
            _ => return Err(bad("exactly one of publicKey and x509Certificate")),
        };
        let req = Self {
            digest,
            signature,
            verifier,
            key_details: v.key_details.clone(),
        };
        req.check_digest_length()?;
        Ok(req)
    }

    /// The canonical (RFC 8785) `hashedrekord` 0.0.2 body a log stores for
    /// this request: the bytes its leaf hash covers.
    #[must_use]
    pub fn canonical_body(&self) -> Vec<u8> {
        let v = serde_json::json!({
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": { "hashedRekordV002": {
                "data": {
                    "algorithm": self.body_algorithm(),
                    "digest": Base64::encode_string(&self.digest),
                },
                "signature": {
                    "content": Base64::encode_string(&self.signature),
                    "verifier": self.verifier_json(),
                },
            }},
        });
        // JCS of plain JSON data (strings and objects) cannot fail.
        serde_jcs::to_vec(&v).unwrap_or_default()
    }
}

/// The logged body is the one for this request: `hashedrekord` 0.0.2 with
/// the same digest, signature, verifier bytes and key details. Compared
/// field by field on the body as logged (never re-serialized).
///
/// # Errors
/// [`Check::BodyMatch`].
pub fn check_body_matches_request(body: &[u8], request: &V2Request) -> Result<(), CheckError> {
    let bm = |r: Reason| fail(Check::BodyMatch, r);
    let parsed = EntryBody::parse(body).map_err(|e| bm(Reason::Body(e)))?;
    let EntryBody::HashedRekordV002(h) = parsed else {
        return Err(bm(Reason::NotAMessageEntry));
    };
    let r = &h.hashed_rekord_v0_0_2;
    let digest = crate::b64::decode(&r.data.digest).map_err(|_| bm(Reason::DigestEncoding))?;
    if r.data.algorithm != request.body_algorithm() || digest != request.digest {
        return Err(bm(Reason::MessageDigest));
    }
    if crate::b64::decode(&r.signature.content).ok().as_deref() != Some(&request.signature[..]) {
        return Err(bm(Reason::MessageSignatureDiffers));
    }
    let v = r
        .signature
        .verifier
        .as_ref()
        .ok_or(bm(Reason::LoggedVerifierKey))?;
    let decoded = |raw: &Option<crate::bundle::RawBytes>| {
        raw.as_ref()
            .and_then(|r| crate::b64::decode(&r.raw_bytes).ok())
    };
    let logged = match (decoded(&v.public_key), decoded(&v.x509_certificate)) {
        (Some(k), None) => V2Verifier::PublicKey(k),
        (None, Some(c)) => V2Verifier::Certificate(c),
        _ => return Err(bm(Reason::LoggedVerifierKey)),
    };
    if logged != request.verifier || v.key_details != request.key_details {
        return Err(bm(Reason::LoggedKeyDiffers));
    }
    Ok(())
}

/// `POST /api/v2/log/entries` with `request`.
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn create_entry(base: &str, request: &V2Request) -> Result<Request<Vec<u8>>, UrlError> {
    crate::sansio::request(Method::POST, base, CREATE_PATH, request.to_json())
}

/// The index a log names in a 409 answer to [`create_entry`]: an
/// equivalent entry already exists (Rekor v2: "an equivalent entry already
/// exists in the transparency log with index N"). `None` for any other
/// answer. Nothing is trusted from it but where to look: the entry at that
/// index must then be read from verified tiles and match the request
/// ([`entry_from_tiles`], [`verify_created`]).
#[must_use]
pub fn existing_index(resp: &Response<Vec<u8>>) -> Option<u64> {
    if resp.status() != StatusCode::CONFLICT {
        return None;
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        message: String,
    }
    let body: ErrorBody = serde_json::from_slice(resp.body()).ok()?;
    let (_, tail) = body.message.rsplit_once("with index ")?;
    let digits = tail.trim_end_matches(|c: char| !c.is_ascii_digit());
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The `TransparencyLogEntry` of leaf `index` as read from verified tiles:
/// its body, its inclusion proof in `checkpoint`'s tree, under `log_id`.
/// Verify it like a fresh answer, with [`verify_created`].
#[must_use]
pub fn entry_from_tiles(
    index: u64,
    checkpoint: &crate::verify::VerifiedCheckpoint,
    log_id: &crate::LogId,
    body: &[u8],
    proof: &[attest_merkle::Hash],
) -> TlogEntry {
    use crate::bundle::{CheckpointEnvelope, InclusionProof, KindVersion, LogIdField};
    TlogEntry {
        log_index: index.to_string(),
        log_id: LogIdField {
            key_id: log_id.to_base64(),
        },
        kind_version: KindVersion {
            kind: "hashedrekord".into(),
            version: "0.0.2".into(),
        },
        integrated_time: None,
        inclusion_promise: None,
        inclusion_proof: Some(InclusionProof {
            log_index: index.to_string(),
            root_hash: checkpoint.root.base64().to_string(),
            tree_size: checkpoint.size.to_string(),
            hashes: proof.iter().map(|h| h.base64().to_string()).collect(),
            checkpoint: CheckpointEnvelope {
                envelope: checkpoint.note.clone(),
            },
        }),
        canonicalized_body: Base64::encode_string(body),
    }
}

/// Reads the answer to [`create_entry`]: 201 (or 200) with a
/// `TransparencyLogEntry`. Nothing in it is verified yet: see
/// [`verify_created`].
///
/// # Errors
/// [`ResponseError`].
pub fn parse_created(resp: &Response<Vec<u8>>) -> Result<TlogEntry, ResponseError> {
    let status = resp.status();
    let expected = if status == StatusCode::OK {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    crate::sansio::check(resp, expected)?;
    serde_json::from_slice(resp.body())
        .map_err(|e| ResponseError::Malformed(crate::sansio::Malformed::Json(e)))
}

/// Verifies a v2 log's answer to our request before anyone stores it: the
/// kind is `hashedrekord` 0.0.2, the body is ours, the log is a trusted
/// Rekor v2 log, the checkpoint is signed by its key, the inclusion proof
/// leads to the checkpoint's root, and the entry's index is the proof's.
///
/// # Errors
/// [`NotVerified`] naming the first check that failed.
pub fn verify_created(
    entry: &TlogEntry,
    request: &V2Request,
    logs: &[TrustedLog],
    now: Timestamp,
) -> Result<VerifiedEvidence, NotVerified> {
    let single = |check: Check, reason: Reason| crate::verify::single(check, reason);
    if (
        entry.kind_version.kind.as_str(),
        entry.kind_version.version.as_str(),
    ) != ("hashedrekord", "0.0.2")
    {
        return Err(single(Check::BodyMatch, Reason::NotAMessageEntry));
    }
    let body = crate::b64::decode(&entry.canonicalized_body).map_err(|_| {
        single(
            Check::BodyMatch,
            Reason::Entry(std::sync::Arc::new(crate::BundleError::Field {
                field: "canonicalizedBody",
                reason: crate::FieldProblem::NotBase64,
            })),
        )
    })?;
    if let Err(e) = check_body_matches_request(&body, request) {
        return Err(single(e.check, e.reason));
    }
    let ev = crate::verify::verify_tlog_evidence(entry, logs, now)?;
    if ev.entry.api != crate::LogApi::V2 {
        return Err(single(Check::LogKey, Reason::NotAV2Log));
    }
    Ok(ev)
}

/// `GET <read base>/checkpoint`.
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn get_checkpoint(read_base: &str) -> Result<Request<Vec<u8>>, UrlError> {
    get_static(read_base, "checkpoint")
}

/// `GET <read base>/<path>` of a static resource (a tile path from
/// [`attest_merkle::tiles::TileId::path`] or `entries_path`).
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn get_static(read_base: &str, path: &str) -> Result<Request<Vec<u8>>, UrlError> {
    let uri = crate::sansio::BaseUrl::parse(read_base)?.join(&format!("/{path}"))?;
    Request::get(uri)
        .header(header::ACCEPT, "*/*")
        .body(Vec::new())
        .map_err(|source| UrlError::Request {
            url: format!("{read_base}/{path}"),
            source,
        })
}

/// Reads a static resource's body (200; 404 is [`ResponseError::NotFound`]).
///
/// # Errors
/// [`ResponseError`].
pub fn parse_static(resp: &Response<Vec<u8>>) -> Result<&[u8], ResponseError> {
    crate::sansio::check(resp, StatusCode::OK)?;
    Ok(resp.body())
}

/// The `TransparencyLogEntry` of leaf `index` (exactly `body`) of the tree
/// of `checkpoint`, of the log `log_id`, with `proof` (RFC 6962 order) when
/// there is one: what a v2 log's answer for that leaf would be, assembled
/// by a reader from its tiles (an auditor, a monitor). Nothing is verified
/// here; a bundle carrying it is verified as any other.
#[must_use]
pub fn tlog_entry(
    log_id: &crate::LogId,
    index: u64,
    body: &[u8],
    checkpoint: &crate::verify::VerifiedCheckpoint,
    proof: Option<&[attest_merkle::Hash]>,
) -> TlogEntry {
    use crate::bundle::{CheckpointEnvelope, InclusionProof, KindVersion, LogIdField};
    TlogEntry {
        log_index: index.to_string(),
        log_id: LogIdField {
            key_id: Base64::encode_string(&log_id.0),
        },
        kind_version: KindVersion {
            kind: "hashedrekord".into(),
            version: "0.0.2".into(),
        },
        integrated_time: None,
        inclusion_promise: None,
        inclusion_proof: proof.map(|p| InclusionProof {
            log_index: index.to_string(),
            root_hash: Base64::encode_string(&checkpoint.root.0),
            tree_size: checkpoint.size.to_string(),
            hashes: p.iter().map(|h| Base64::encode_string(&h.0)).collect(),
            checkpoint: CheckpointEnvelope {
                envelope: checkpoint.note.clone(),
            },
        }),
        canonicalized_body: Base64::encode_string(body),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_existing_index_is_read_from_a_409_only() {
        let resp = |status: u16, body: &str| {
            let mut r = Response::new(body.as_bytes().to_vec());
            *r.status_mut() = StatusCode::from_u16(status).unwrap();
            r
        };
        let rekor = r#"{"code":6,"message":"an equivalent entry already exists in the transparency log with index 1234567","details":[]}"#;
        assert_eq!(existing_index(&resp(409, rekor)), Some(1_234_567));
        assert_eq!(existing_index(&resp(201, rekor)), None);
        assert_eq!(existing_index(&resp(400, rekor)), None);
        for bad in [
            "",
            "not json",
            r#"{"message":"with index "}"#,
            r#"{"message":"with index -1"}"#,
            r#"{"message":"with index 99999999999999999999999"}"#,
            r#"{"message":"with index 1x2"}"#,
            r#"{"code":409}"#,
        ] {
            assert_eq!(existing_index(&resp(409, bad)), None, "{bad}");
        }
    }

    /// The staging Rekor v2 entry: its logged body, rebuilt from its fields
    /// by `canonical_body`, is byte for byte what the real log stored.
    #[test]
    fn canonical_body_is_the_real_logs() {
        let bundle = attestlog_testkit::vector_json(attestlog_testkit::BUNDLES[4]);
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let logged = crate::b64::decode(entry["canonicalizedBody"].as_str().unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&logged).unwrap();
        let r = &v["spec"]["hashedRekordV002"];
        let b64 = |v: &serde_json::Value| crate::b64::decode(v.as_str().unwrap()).unwrap();
        let req = V2Request {
            digest: b64(&r["data"]["digest"]),
            signature: b64(&r["signature"]["content"]),
            verifier: V2Verifier::Certificate(b64(
                &r["signature"]["verifier"]["x509Certificate"]["rawBytes"]
            )),
            key_details: "PKIX_ECDSA_P256_SHA_256".into(),
        };
        assert_eq!(req.canonical_body(), logged);
        check_body_matches_request(&logged, &req).unwrap();
        // The real log's answer verifies as the answer to this request.
        let (name, spki, id) = attestlog_testkit::STAGING_V2_LOG;
        let key = PublicKey::from_spki_der(&crate::b64::decode(spki).unwrap()).unwrap();
        let log = TrustedLog::new(
            crate::LogId::from_base64(id).unwrap(),
            key,
            name,
            "https://x",
        )
        .with_api(crate::LogApi::V2);
        let tlog: TlogEntry = serde_json::from_value(entry.clone()).unwrap();
        let ev = verify_created(&tlog, &req, std::slice::from_ref(&log), Timestamp::now()).unwrap();
        assert_eq!(ev.entry.log_index, 4_026_478);
        // … and not as the answer to another request, nor from a v1 log.
        let mut other = req.clone();
        other.digest[5] ^= 1;
        assert!(
            verify_created(&tlog, &other, std::slice::from_ref(&log), Timestamp::now()).is_err()
        );
        let v1 = log.clone().with_api(crate::LogApi::V1);
        assert!(verify_created(&tlog, &req, &[v1], Timestamp::now()).is_err());
        // The request round-trips through its JSON.
        assert_eq!(V2Request::from_json(&req.to_json()).unwrap(), req);

        // Each field differing alone is refused.
        let mut d = req.clone();
        d.digest[0] ^= 1;
        let mut s = req.clone();
        s.signature[3] ^= 1;
        let mut k = req.clone();
        k.verifier = V2Verifier::PublicKey(vec![1, 2, 3]);
        let mut kd = req.clone();
        kd.key_details = "PKIX_ECDSA_P384_SHA_384".into();
        for (bad, reason) in [
            (d, Reason::MessageDigest),
            (s, Reason::MessageSignatureDiffers),
            (k, Reason::LoggedKeyDiffers),
            // P-384 details name SHA-384: the logged SHA2_256 digest is
            // not this request's.
            (kd, Reason::MessageDigest),
        ] {
            let e = check_body_matches_request(&logged, &bad).unwrap_err();
            assert_eq!(e.check, Check::BodyMatch);
            assert_eq!(e.reason.to_string(), reason.to_string());
        }
        // Another kind is not a v2 message entry.
        let v1 = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"00"}},"signature":{"content":"AA==","publicKey":{"content":"AA=="}}}}"#;
        assert!(check_body_matches_request(v1, &req).is_err());
    }

    /// The digest's length follows keyDetails: 32, 48, 64 bytes for P-256,
    /// P-384, P-521; the body names the hash; a 32-byte digest under P-384
    /// details is refused whichever way it comes.
    #[test]
    fn digests_follow_the_key_details() {
        let b64 = |n: usize| Base64::encode_string(&vec![7u8; n]);
        let req = |digest: &str, details: &str| {
            format!(
                r#"{{"hashedRekordRequestV002":{{"digest":"{digest}","signature":{{"content":"AQ==","verifier":{{"publicKey":{{"rawBytes":"AQ=="}},"keyDetails":"{details}"}}}}}}}}"#
            )
        };
        for (details, n, algorithm) in [
            ("PKIX_ECDSA_P256_SHA_256", 32, "SHA2_256"),
            ("PKIX_ECDSA_P384_SHA_384", 48, "SHA2_384"),
            ("PKIX_ECDSA_P521_SHA_512", 64, "SHA2_512"),
        ] {
            let r = V2Request::from_json(req(&b64(n), details).as_bytes()).unwrap();
            assert_eq!(r.hash_algorithm(), Some(algorithm));
            let body = String::from_utf8(r.canonical_body()).unwrap();
            assert!(
                body.contains(&format!(r#""algorithm":"{algorithm}""#)),
                "{body}"
            );
            check_body_matches_request(&r.canonical_body(), &r).unwrap();
            for other in [32, 48, 64].into_iter().filter(|m| *m != n) {
                let e = V2Request::from_json(req(&b64(other), details).as_bytes()).unwrap_err();
                assert!(
                    matches!(e, V2Error::DigestLength { want, got, .. } if want == n && got == other),
                    "{details} {other}: {e}"
                );
            }
        }
        // A logged body naming another hash than the request's: refused.
        let r384 =
            V2Request::from_json(req(&b64(48), "PKIX_ECDSA_P384_SHA_384").as_bytes()).unwrap();
        let relabelled = String::from_utf8(r384.canonical_body())
            .unwrap()
            .replace("SHA2_384", "SHA2_512");
        assert!(check_body_matches_request(relabelled.as_bytes(), &r384).is_err());
        assert_eq!(digest_with("SHA2_384", b"x").unwrap().len(), 48);
        assert_eq!(digest_with("SHA3_256", b"x"), None);
    }

    #[test]
    fn requests_refuse_what_a_log_must_not_store() {
        let ok = br#"{"hashedRekordRequestV002":{"digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","signature":{"content":"AQ==","verifier":{"publicKey":{"rawBytes":"AQ=="},"keyDetails":"PKIX_ECDSA_P256_SHA_256"}}}}"#;
        V2Request::from_json(ok).unwrap();
        let s = std::str::from_utf8(ok).unwrap();
        for bad in [
            s.replace("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAA"),
            s.replace("\"AQ==\",\"verifier\"", "\"\",\"verifier\""),
            s.replace("PKIX_ECDSA_P256_SHA_256", "PKIX_RSA"),
            s.replace("\"publicKey\":{\"rawBytes\":\"AQ==\"},", ""),
            s.replace(
                "\"publicKey\"",
                "\"x509Certificate\":{\"rawBytes\":\"AQ==\"},\"publicKey\"",
            ),
            s.replace("}}}}", "},\"extra\":1}}}"),
            s.replace("hashedRekordRequestV002", "dsseRequestV002"),
        ] {
            assert!(V2Request::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

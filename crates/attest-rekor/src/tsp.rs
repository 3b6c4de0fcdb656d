//! RFC 3161 timestamp tokens, verified offline: the CMS `SignedData`
//! signature over the token's signed attributes (bytes as received), the
//! signed `messageDigest` of the `TSTInfo`, the message imprint equal to the
//! hash of the signature being timestamped, and the signing certificate's
//! path to a timestamp authority of the trusted root at `genTime`.
//!
//! CMS structures are parsed with RustCrypto's `cms`; the `TSTInfo` (five
//! leading fields of a SEQUENCE) is read here, and so is `genTime`, because
//! `der`'s `GeneralizedTime` refuses the fractional seconds TSAs commonly
//! write.

use std::borrow::Cow;

use attest_dsse::Timestamp;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use der::asn1::Any;
use der::{Decode, Encode, Reader, Tag, Tagged};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::pki::{self, Cert, CertificateAuthority, PkiError, Purpose, oid};

/// At most this many timestamps are looked at in one bundle; more is a
/// refusal, not a truncation.
pub const MAX_TIMESTAMPS: usize = 32;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// Why a timestamp token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// `signedTimestamp` is not base64.
    #[error("signedTimestamp is not base64")]
    Base64,
    /// The token is not DER of the expected types.
    #[error("malformed timestamp token")]
    Der(#[source] der::Error),
    /// A part of the token is unusable (named).
    #[error("malformed timestamp token: {0}")]
    Malformed(&'static str),
    /// A response whose status is not granted, or without a token.
    #[error("the timestamp response is not granted or carries no token")]
    NotGranted,
    /// Not a CMS SignedData.
    #[error("the token is not a CMS SignedData")]
    NotSignedData,
    /// The encapsulated content is not a TSTInfo.
    #[error("the token's content is not a TSTInfo")]
    NotTstInfo,
    /// Not exactly one signer.
    #[error("the token has {0} signers, not one")]
    SignerCount(usize),
    /// No signed attributes (RFC 3161 requires them).
    #[error("the token's signer has no signed attributes")]
    NoSignedAttributes,
    /// The signed content-type attribute is missing or not TSTInfo.
    #[error("the signed content-type attribute is missing or not id-ct-TSTInfo")]
    ContentTypeAttribute,
    /// The signed message-digest attribute is missing or differs from the
    /// TSTInfo's digest.
    #[error("the signed message digest does not match the TSTInfo")]
    MessageDigest,
    /// A digest algorithm this crate does not know.
    #[error("unsupported digest algorithm {0}")]
    DigestAlgorithm(String),
    /// The TSTInfo's version is not 1.
    #[error("TSTInfo version is not 1")]
    Version,
    /// The message imprint is not the hash of the signature.
    #[error("the timestamp's message imprint is not the hash of the signature")]
    Imprint,
    /// No certificate matches the signer (none embedded, none trusted).
    #[error("no certificate for the token's signer, embedded or trusted")]
    NoSignerCertificate,
    /// The signer's certificate does not chain to a trusted timestamp
    /// authority at genTime.
    #[error("the timestamp authority")]
    Authority(#[source] PkiError),
    /// The CMS signature does not verify with the signer's key.
    #[error("the token's signature does not verify")]
    Signature,
    /// The response does not carry the request's nonce.
    #[error("the timestamp does not carry the request's nonce")]
    Nonce,
    /// The same token twice.
    #[error("the same timestamp appears twice")]
    Duplicate,
    /// More than [`MAX_TIMESTAMPS`].
    #[error("{0} timestamps: at most {MAX_TIMESTAMPS} are accepted")]
    TooMany(usize),
}

const fn malformed(what: &'static str) -> TimestampError {
    TimestampError::Malformed(what)
}

/// A verified timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedTimestamp {
    /// `genTime`, whole seconds (fractions dropped).
    pub gen_time: Timestamp,
    /// The trusted timestamp authority's URI.
    pub authority: String,
    /// The TSTInfo's nonce, when it has one that fits a `u64` (compare it
    /// with the request's: [`timestamp_request`]).
    pub nonce: Option<u64>,
}

/// An RFC 3161 `TimeStampReq` (DER) for `signature`: version 1, message
/// imprint SHA-256 of the signature bytes (what Sigstore timestamps),
/// `nonce`, and `certReq` true so that the token embeds the TSA's
/// certificate. POST it as `application/timestamp-query`.
#[must_use]
pub fn timestamp_request(signature: &[u8], nonce: u64) -> Vec<u8> {
    let digest = Sha256::digest(signature);
    let alg = [tlv(Tag::ObjectIdentifier, oid::SHA256.as_bytes())].concat();
    let imprint = [
        tlv(Tag::Sequence, &alg),
        tlv(Tag::OctetString, digest.as_slice()),
    ]
    .concat();
    let body = [
        tlv(Tag::Integer, &[1]),
        tlv(Tag::Sequence, &imprint),
        tlv(Tag::Integer, &unsigned_integer(nonce)),
        tlv(Tag::Boolean, &[0xff]),
    ]
    .concat();
    tlv(Tag::Sequence, &body)
}

/// The content octets of a DER INTEGER holding `v` (minimal, non-negative).
#[must_use]
pub fn unsigned_integer(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take(7).take_while(|b| **b == 0).count();
    let mut out = bytes[skip..].to_vec();
    if out[0] & 0x80 != 0 {
        out.insert(0, 0);
    }
    out
}

fn integer_u64(content: &[u8]) -> Option<u64> {
    let trimmed = match content {
        [0, rest @ ..] if !rest.is_empty() => rest,
        [b, ..] if b & 0x80 != 0 => return None,
        c => c,
    };
    if trimmed.len() > 8 {
        return None;
    }
    Some(
        trimmed
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

/// The token of a TSA's `TimeStampResp` verified as [`verify_timestamp`]
/// does, *and* answering this request: its nonce is `nonce`.
///
/// # Errors
/// [`TimestampError`]; [`TimestampError::Nonce`] for another nonce.
pub fn verify_response(
    response: &[u8],
    signature: &[u8],
    nonce: u64,
    authorities: &[CertificateAuthority],
) -> Result<VerifiedTimestamp, TimestampError> {
    let v = verify_timestamp(response, signature, authorities)?;
    if v.nonce != Some(nonce) {
        return Err(TimestampError::Nonce);
    }
    Ok(v)
}

/// One DER TLV of `content` (encoding bytes we hold cannot fail below
/// 256 MiB). A building block of timestamp requests and responses.
#[must_use]
pub fn tlv(tag: Tag, content: &[u8]) -> Vec<u8> {
    Any::new(tag, content)
        .and_then(|a| a.to_der())
        .unwrap_or_default()
}

/// The TLVs of a constructed value's content, each as received.
///
/// # Errors
/// [`TimestampError::Malformed`] when `content` is not a run of DER TLVs.
pub fn tlvs(content: &[u8]) -> Result<Vec<Any>, TimestampError> {
    let mut r = der::SliceReader::new(content).map_err(TimestampError::Der)?;
    let mut out = Vec::new();
    while !r.is_finished() {
        out.push(Any::decode(&mut r).map_err(TimestampError::Der)?);
    }
    Ok(out)
}

fn hash(alg: ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, TimestampError> {
    Ok(match alg {
        oid::SHA256 => Sha256::digest(data).to_vec(),
        oid::SHA384 => Sha384::digest(data).to_vec(),
        oid::SHA512 => Sha512::digest(data).to_vec(),
        other => return Err(TimestampError::DigestAlgorithm(other.to_string())),
    })
}

/// The signed attributes as the signer signed them: the `[0] IMPLICIT`
/// field of the (only) SignerInfo, its tag replaced by SET's (RFC 5652
/// §5.4), every other byte as received.
fn raw_signed_attributes(token: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let content_info = tlvs(token)?;
    let [ci] = content_info.as_slice() else {
        return Err(malformed("trailing data"));
    };
    let ci = tlvs(ci.value())?;
    let explicit = ci.get(1).ok_or(TimestampError::NotSignedData)?;
    let sd = tlvs(explicit.value())?;
    let sd = tlvs(sd.first().ok_or(TimestampError::NotSignedData)?.value())?;
    let infos = sd.last().ok_or(TimestampError::NotSignedData)?;
    let infos = tlvs(infos.value())?;
    let [info] = infos.as_slice() else {
        return Err(TimestampError::SignerCount(infos.len()));
    };
    let fields = tlvs(info.value())?;
    let attrs_tag = Tag::ContextSpecific {
        constructed: true,
        number: der::TagNumber(0),
    };
    let attrs = fields
        .iter()
        .find(|f| f.tag() == attrs_tag)
        .ok_or(TimestampError::NoSignedAttributes)?;
    Any::new(Tag::Set, attrs.value())
        .and_then(|a| a.to_der())
        .map_err(TimestampError::Der)
}

/// genTime `YYYYMMDDHHMMSS[.f*]Z` in whole seconds.
fn parse_gen_time(value: &[u8]) -> Result<Timestamp, TimestampError> {
    let s = std::str::from_utf8(value).map_err(|_| malformed("genTime"))?;
    let s = s
        .strip_suffix('Z')
        .ok_or_else(|| malformed("genTime is not UTC"))?;
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() != 14
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && (frac.is_empty() || frac.ends_with('0')))
    {
        return Err(malformed("genTime"));
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14]
    );
    Timestamp::parse_rfc3339(&rfc3339).map_err(|_| malformed("genTime"))
}

/// The TSTInfo fields this verifier uses.
struct TstInfo {
    imprint_alg: ObjectIdentifier,
    imprint: Vec<u8>,
    gen_time: Timestamp,
    nonce: Option<u64>,
}

fn parse_tst_info(der_bytes: &[u8]) -> Result<TstInfo, TimestampError> {
    let outer = tlvs(der_bytes)?;
    let [seq] = outer.as_slice() else {
        return Err(malformed("TSTInfo: trailing data"));
    };
    if seq.tag() != Tag::Sequence {
        return Err(malformed("TSTInfo is not a SEQUENCE"));
    }
    let f = tlvs(seq.value())?;
    if f.len() < 5 {
        return Err(malformed("TSTInfo: missing fields"));
    }
    if f[0].tag() != Tag::Integer || f[0].value() != [1] {
        return Err(TimestampError::Version);
    }
    let imprint = tlvs(f[2].value())?;
    let [alg, hashed] = imprint.as_slice() else {
        return Err(malformed("messageImprint"));
    };
    let alg: spki::AlgorithmIdentifierOwned = alg.decode_as().map_err(TimestampError::Der)?;
    if hashed.tag() != Tag::OctetString {
        return Err(malformed("messageImprint.hashedMessage"));
    }
    if f[4].tag() != Tag::GeneralizedTime {
        return Err(malformed("genTime"));
    }
    Ok(TstInfo {
        imprint_alg: alg.oid,
        imprint: hashed.value().to_vec(),
        gen_time: parse_gen_time(f[4].value())?,
        // After genTime: accuracy (SEQUENCE), ordering (BOOLEAN), nonce
        // (INTEGER), tsa [0], extensions [1]; the nonce is the only INTEGER.
        nonce: f[5..]
            .iter()
            .find(|t| t.tag() == Tag::Integer)
            .and_then(|t| integer_u64(t.value())),
    })
}

fn matches_sid(cert: &Cert, sid: &SignerIdentifier) -> bool {
    let tbs = cert.cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(i) => {
            tbs.issuer() == &i.issuer && tbs.serial_number() == &i.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => cert
            .raw_extension(ID_SKI)
            .ok()
            .flatten()
            .and_then(|raw| <&der::asn1::OctetStringRef>::from_der(raw).ok())
            .is_some_and(|v| v.as_bytes() == ski.0.as_bytes()),
    }
}

/// The TimeStampToken of a `TimeStampResp` (what Sigstore bundles carry:
/// RFC 3161 §2.4.2, status granted or grantedWithMods), or of a bare token.
fn token_of(der_bytes: &[u8]) -> Result<Vec<u8>, TimestampError> {
    let outer = tlvs(der_bytes)?;
    let [seq] = outer.as_slice() else {
        return Err(malformed("trailing data"));
    };
    let fields = tlvs(seq.value())?;
    match fields.first() {
        // A response: PKIStatusInfo first.
        Some(status) if status.tag() == Tag::Sequence => {
            let info = tlvs(status.value())?;
            let granted = info
                .first()
                .is_some_and(|s| s.tag() == Tag::Integer && matches!(s.value(), [0] | [1]));
            if !granted {
                return Err(TimestampError::NotGranted);
            }
            fields
                .get(1)
                .ok_or(TimestampError::NotGranted)?
                .to_der()
                .map_err(TimestampError::Der)
        }
        _ => Ok(der_bytes.to_vec()),
    }
}

/// Verifies one RFC 3161 timestamp — a `TimeStampResp` or a bare token —
/// over `signature` (the bytes timestamped) against `authorities`.
///
/// # Errors
/// [`TimestampError`] naming the first rule broken.
pub fn verify_timestamp(
    token: &[u8],
    signature: &[u8],
    authorities: &[CertificateAuthority],
) -> Result<VerifiedTimestamp, TimestampError> {
    let token = &token_of(token)?;
    let ci = ContentInfo::from_der(token).map_err(TimestampError::Der)?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(TimestampError::NotSignedData);
    }
    let sd: SignedData = ci.content.decode_as().map_err(TimestampError::Der)?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(TimestampError::NotTstInfo);
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or(TimestampError::NotTstInfo)?;
    if econtent.tag() != Tag::OctetString {
        return Err(TimestampError::NotTstInfo);
    }
    let tst_der = econtent.value();
    let infos = sd.signer_infos.0.as_slice();
    let [info] = infos else {
        return Err(TimestampError::SignerCount(infos.len()));
    };
    let attrs = info
        .signed_attrs
        .as_ref()
        .ok_or(TimestampError::NoSignedAttributes)?;
    let single = |oid: ObjectIdentifier| {
        let mut it = attrs.iter().filter(|a| a.oid == oid);
        match (it.next(), it.next()) {
            (Some(a), None) if a.values.len() == 1 => a.values.get(0),
            _ => None,
        }
    };
    let ct = single(ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or(TimestampError::ContentTypeAttribute)?;
    if ct != ID_CT_TST_INFO {
        return Err(TimestampError::ContentTypeAttribute);
    }
    let digest_alg = info.digest_alg.oid;
    let md = single(ID_MESSAGE_DIGEST)
        .filter(|v| v.tag() == Tag::OctetString)
        .ok_or(TimestampError::MessageDigest)?;
    if md.value() != hash(digest_alg, tst_der)?.as_slice() {
        return Err(TimestampError::MessageDigest);
    }
    let tst = parse_tst_info(tst_der)?;
    if hash(tst.imprint_alg, signature)? != tst.imprint {
        return Err(TimestampError::Imprint);
    }

    // The signer's certificate: embedded, or a trusted authority's own.
    // The authorities' own certificates are parsed already, and their keys
    // keep their verification tables across timestamps: an embedded copy of
    // one is taken by reference to it, never parsed (or cloned) afresh.
    let trusted: Vec<&Cert> = authorities.iter().filter_map(|a| a.chain.first()).collect();
    let embedded = sd
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
            cms::cert::CertificateChoices::Other(_) => None,
        })
        .filter_map(|d| match trusted.iter().find(|t| t.der == d) {
            Some(t) => Some(Cow::Borrowed(*t)),
            None => Cert::parse(&d).ok().map(Cow::Owned),
        });
    let signer = embedded
        .chain(trusted.iter().map(|t| Cow::Borrowed(*t)))
        .find(|c| matches_sid(c, &info.sid))
        .ok_or(TimestampError::NoSignerCertificate)?;
    let authority = pki::verify_path(
        &signer,
        authorities,
        &[tst.gen_time],
        Purpose::TimeStamping,
        "timestamp authority",
    )
    .map_err(TimestampError::Authority)?;

    // The signature over the signed attributes, as received.
    let signed = raw_signed_attributes(token)?;
    let alg = match info.signature_algorithm.oid {
        ID_EC_PUBLIC_KEY => match digest_alg {
            oid::SHA256 => oid::ECDSA_SHA256,
            oid::SHA384 => oid::ECDSA_SHA384,
            _ => oid::ECDSA_SHA512,
        },
        ID_RSA_ENCRYPTION => match digest_alg {
            oid::SHA256 => oid::RSA_SHA256,
            oid::SHA384 => oid::RSA_SHA384,
            _ => oid::RSA_SHA512,
        },
        other => other,
    };
    pki::verify_signature(
        signer.spki(),
        signer.key_cache(),
        alg,
        &signed,
        info.signature.as_bytes(),
    )
    .map_err(|_| TimestampError::Signature)?;
    Ok(VerifiedTimestamp {
        gen_time: tst.gen_time,
        authority: authority.uri.clone(),
        nonce: tst.nonce,
    })
}

#[cfg(test)]
mod request_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_request_is_der_with_the_imprint_and_nonce() {
        for nonce in [0u64, 1, 0x7f, 0x80, 0xff00, u64::MAX] {
            let req = timestamp_request(b"signature bytes", nonce);
            let outer = tlvs(&req).unwrap();
            let [seq] = outer.as_slice() else { panic!() };
            assert_eq!(seq.tag(), Tag::Sequence);
            let f = tlvs(seq.value()).unwrap();
            assert_eq!(f.len(), 4);
            assert_eq!(f[0].value(), [1]);
            let imprint = tlvs(f[1].value()).unwrap();
            assert_eq!(
                imprint[1].value(),
                Sha256::digest(b"signature bytes").as_slice()
            );
            assert_eq!(f[2].tag(), Tag::Integer);
            // Minimal and non-negative, as DER requires.
            let n = f[2].value();
            assert!(n[0] & 0x80 == 0 && !(n.len() > 1 && n[0] == 0 && n[1] & 0x80 == 0));
            assert_eq!(integer_u64(n), Some(nonce));
            assert_eq!((f[3].tag(), f[3].value()), (Tag::Boolean, &[0xff][..]));
        }
        assert_eq!(integer_u64(&[0x80]), None, "negative");
        assert_eq!(integer_u64(&[1; 9]), None, "too large");
    }
}

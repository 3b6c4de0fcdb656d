//! An RFC 3161 timestamp authority, pure: a TSA certificate chain made on
//! demand, and `TimeStampResp` tokens (CMS `SignedData` over a `TSTInfo`)
//! signed with its ECDSA P-256 key, for the embedded services that let the
//! whole Rekor v2 flow run offline.
//!
//! The structures are encoded with RustCrypto `der` (TLV by TLV: the `cms`
//! release candidate's builder wants a signer interface of another
//! generation than this workspace's keys); [`attest_rekor::tsp::verify_timestamp`]
//! reads them back with `cms`, and the tests check one against the other
//! and each refusal.
//!
//! Tokens carry: `TSTInfo` v1 (policy, the request's message imprint, a
//! serial, `genTime` in whole seconds, the request's nonce), signed
//! attributes `contentType`, `messageDigest`, `signingCertificateV2`
//! (RFC 5816: the SHA-256 of the TSA certificate), the signer identified by
//! issuer and serial number, and the TSA certificate when the request asks
//! (`certReq`).

use attest_dsse::{Algorithm, SigningKey, Timestamp};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Tag, TagNumber, Tagged};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use attest_rekor::pki::oid;
use attest_rekor::tsp::tlv;

use crate::x509::IssueError;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERT_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// The policy this TSA stamps under (an arbitrary, private OID arc).
pub const DEFAULT_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.99.1");

/// Why a TSA could not be made or a request not answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    /// The request is not a `TimeStampReq` this TSA answers (named).
    #[error("bad timestamp request: {0}")]
    BadRequest(&'static str),
    /// The request is not DER.
    #[error("bad timestamp request")]
    RequestDer(#[source] der::Error),
    /// The request's parts are not DER TLVs.
    #[error("bad timestamp request")]
    RequestTlv(#[source] attest_rekor::tsp::TimestampError),
    /// The TSA's key is not ECDSA P-256.
    #[error("a timestamp authority key must be ECDSA P-256")]
    KeyType,
    /// A key could not be made.
    #[error("the timestamp authority's key")]
    Key(#[source] attest_dsse::KeyError),
    /// A certificate could not be issued.
    #[error("issuing the timestamp authority's certificates")]
    Issue(#[source] IssueError),
    /// The chain's first certificate does not parse.
    #[error("the timestamp authority's certificate")]
    CertificateDer(#[source] der::Error),
    /// The chain is unusable (named).
    #[error("the timestamp authority's certificate: {0}")]
    Certificate(&'static str),
    /// The chain is not a certificate authority the verifier accepts.
    #[error("the timestamp authority's chain")]
    Chain(#[source] attest_rekor::pki::PkiError),
}

impl TsaError {
    /// Whether the request was refused (the client's fault: answer with
    /// [`TimestampAuthority::rejection`]), not the TSA's material.
    #[must_use]
    pub const fn is_bad_request(&self) -> bool {
        matches!(
            self,
            Self::BadRequest(_) | Self::RequestDer(_) | Self::RequestTlv(_)
        )
    }
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(Tag::Sequence, &parts.concat())
}

fn ctx(number: u32, constructed: bool, content: &[u8]) -> Vec<u8> {
    tlv(
        Tag::ContextSpecific {
            constructed,
            number: TagNumber(number),
        },
        content,
    )
}

fn oid_tlv(o: ObjectIdentifier) -> Vec<u8> {
    tlv(Tag::ObjectIdentifier, o.as_bytes())
}

/// A DER SET OF: elements sorted by their encodings (X.690 §11.6).
fn set_of(mut elems: Vec<Vec<u8>>) -> Vec<u8> {
    elems.sort();
    tlv(Tag::Set, &elems.concat())
}

fn gen_time(t: Timestamp) -> Vec<u8> {
    let s = t.to_string(); // YYYY-MM-DDTHH:MM:SSZ
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    tlv(Tag::GeneralizedTime, format!("{digits}Z").as_bytes())
}

/// A root CA's extensions: CA, no intermediates below it; it signs
/// certificates and CRLs.
pub(crate) fn root_extensions() -> Result<Vec<Extension>, IssueError> {
    Ok(vec![
        ext(
            oid::BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
        )?,
        ext(
            oid::KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        )?,
    ])
}

/// An extension of `v`'s DER.
pub(crate) fn ext<T: Encode>(
    o: ObjectIdentifier,
    critical: bool,
    v: &T,
) -> Result<Extension, IssueError> {
    Ok(Extension {
        extn_id: o,
        critical,
        extn_value: der::asn1::OctetString::new(v.to_der().map_err(IssueError::Der)?)
            .map_err(IssueError::Der)?,
    })
}

/// The fields of a `TimeStampReq` a TSA uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Req {
    /// The whole `MessageImprint` TLV, copied into the TSTInfo as received.
    imprint: Vec<u8>,
    nonce: Option<Vec<u8>>,
    cert_req: bool,
}

fn parse_request(der_bytes: &[u8]) -> Result<Req, TsaError> {
    let bad = TsaError::BadRequest;
    let tlvs = |b: &[u8]| attest_rekor::tsp::tlvs(b).map_err(TsaError::RequestTlv);
    let outer = tlvs(der_bytes)?;
    let [req] = outer.as_slice() else {
        return Err(bad("trailing data"));
    };
    if req.tag() != Tag::Sequence {
        return Err(bad("not a SEQUENCE"));
    }
    let f = tlvs(req.value())?;
    if f.first().map(|v| (v.tag(), v.value())) != Some((Tag::Integer, &[1][..])) {
        return Err(bad("version is not 1"));
    }
    let imprint = f
        .get(1)
        .filter(|i| i.tag() == Tag::Sequence)
        .ok_or_else(|| bad("no messageImprint"))?;
    let parts = tlvs(imprint.value())?;
    let [alg, hashed] = parts.as_slice() else {
        return Err(bad("messageImprint"));
    };
    let alg: spki::AlgorithmIdentifierOwned = alg.decode_as().map_err(|_| bad("hash algorithm"))?;
    let want = match alg.oid {
        oid::SHA256 => 32,
        oid::SHA384 => 48,
        oid::SHA512 => 64,
        _ => return Err(bad("unsupported hash algorithm")),
    };
    if hashed.tag() != Tag::OctetString || hashed.value().len() != want {
        return Err(bad("hashedMessage length does not match its algorithm"));
    }
    let mut out = Req {
        imprint: imprint.to_der().map_err(TsaError::RequestDer)?,
        nonce: None,
        cert_req: false,
    };
    for field in &f[2..] {
        match field.tag() {
            Tag::ObjectIdentifier => {
                if field.value() != DEFAULT_POLICY.as_bytes() {
                    return Err(bad("unsupported policy"));
                }
            }
            Tag::Integer if out.nonce.is_none() => {
                // Copied into the TSTInfo: it must be a DER INTEGER's
                // content (1 to 32 octets, minimal).
                let n = field.value();
                let minimal = !(n.len() > 1
                    && ((n[0] == 0 && n[1] & 0x80 == 0) || (n[0] == 0xff && n[1] & 0x80 != 0)));
                if n.is_empty() || n.len() > 32 || !minimal {
                    return Err(bad("nonce"));
                }
                out.nonce = Some(n.to_vec());
            }
            Tag::Boolean => out.cert_req = field.value() != [0],
            _ => return Err(bad("unsupported field or extension")),
        }
    }
    Ok(out)
}

/// An RFC 3161 timestamp authority's key and certificate chain.
#[derive(Clone)]
pub struct TimestampAuthority {
    key: SigningKey,
    /// DER, the TSA certificate first, the root last.
    chain: Vec<Vec<u8>>,
    issuer_and_serial: Vec<u8>,
    cert_hash: [u8; 32],
}

impl std::fmt::Debug for TimestampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimestampAuthority")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl TimestampAuthority {
    /// A new TSA named `name`: a self-signed root (CA) and a TSA certificate
    /// (EKU timeStamping, critical), both ECDSA P-256, valid from
    /// `not_before` for ten years. Returns the TSA and the root's key (keep
    /// it only to issue another TSA certificate; the TSA does not need it).
    ///
    /// # Errors
    /// [`TsaError::Certificate`] when a certificate cannot be built.
    pub fn generate(name: &str, not_before: Timestamp) -> Result<Self, TsaError> {
        let c = TsaError::Issue;
        let k = || SigningKey::generate(Algorithm::EcdsaP256Sha256).map_err(TsaError::Key);
        let (root_key, tsa_key) = (k()?, k()?);
        let until = Timestamp::from_unix(not_before.unix() + 10 * 366 * 86_400);
        let root_name = format!("CN={name} root,O=attestlog");
        let tsa_name = format!("CN={name},O=attestlog");
        let root = crate::x509::issue_certificate(
            &root_key,
            &root_name,
            root_key.public_key().spki_der(),
            &root_name,
            not_before,
            until,
            root_extensions().map_err(c)?,
        )
        .map_err(c)?;
        let leaf = crate::x509::issue_certificate(
            &root_key,
            &root_name,
            tsa_key.public_key().spki_der(),
            &tsa_name,
            not_before,
            until,
            vec![
                ext(
                    oid::KEY_USAGE,
                    true,
                    &KeyUsage(KeyUsages::DigitalSignature.into()),
                )
                .map_err(c)?,
                ext(
                    oid::EXT_KEY_USAGE,
                    true,
                    &ExtendedKeyUsage(vec![oid::TIME_STAMPING]),
                )
                .map_err(c)?,
            ],
        )
        .map_err(c)?;
        Self::new(tsa_key, vec![leaf, root])
    }

    /// A TSA from its key and chain (DER, its own certificate first).
    ///
    /// # Errors
    /// [`TsaError`]: not a P-256 key, or a chain that does not parse or
    /// whose first certificate is not the key's.
    pub fn new(key: SigningKey, chain: Vec<Vec<u8>>) -> Result<Self, TsaError> {
        if key.public_key().algorithm() != Algorithm::EcdsaP256Sha256 {
            return Err(TsaError::KeyType);
        }
        let leaf_der = chain.first().ok_or(TsaError::Certificate("empty chain"))?;
        let leaf = Certificate::from_der(leaf_der).map_err(TsaError::CertificateDer)?;
        let tbs = leaf.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(TsaError::CertificateDer)?;
        if spki != key.public_key().spki_der() {
            return Err(TsaError::Certificate("the certificate is not the key's"));
        }
        let issuer = tbs.issuer().to_der().map_err(TsaError::CertificateDer)?;
        let serial = tbs
            .serial_number()
            .to_der()
            .map_err(TsaError::CertificateDer)?;
        Ok(Self {
            key,
            issuer_and_serial: seq(&[&issuer, &serial]),
            cert_hash: Sha256::digest(leaf_der).into(),
            chain,
        })
    }

    /// The TSA's key (PKCS#8 to keep it).
    #[must_use]
    pub const fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The chain, DER, the TSA certificate first.
    #[must_use]
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The chain as PEM certificates (what `GET …/timestamp/certchain`
    /// serves).
    #[must_use]
    pub fn chain_pem(&self) -> String {
        self.chain
            .iter()
            .filter_map(|d| {
                der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, d).ok()
            })
            .collect()
    }

    /// This TSA as a trusted root's timestamp authority named `uri`,
    /// trusted from `valid_from` (add it with
    /// [`TrustedRoot::with_timestamp_authority`](attest_rekor::TrustedRoot::with_timestamp_authority)).
    ///
    /// # Errors
    /// [`TsaError::Chain`] if its own chain does not parse (it was
    /// checked when the TSA was made).
    pub fn authority(
        &self,
        uri: &str,
        valid_from: Timestamp,
    ) -> Result<attest_rekor::pki::CertificateAuthority, TsaError> {
        attest_rekor::pki::CertificateAuthority::new(uri, &self.chain, valid_from, None)
            .map_err(TsaError::Chain)
    }

    /// Answers a DER `TimeStampReq` with a granted DER `TimeStampResp`
    /// stamped `at` with serial number `serial`.
    ///
    /// # Errors
    /// A [`TsaError::is_bad_request`] error for a request this TSA does not
    /// answer (see [`rejection`](Self::rejection) for the response to send).
    pub fn respond(&self, request: &[u8], at: Timestamp, serial: u64) -> Result<Vec<u8>, TsaError> {
        let req = parse_request(request)?;
        let mut tst = vec![
            tlv(Tag::Integer, &[1]),
            oid_tlv(DEFAULT_POLICY),
            req.imprint.clone(),
            tlv(Tag::Integer, &attest_rekor::tsp::unsigned_integer(serial)),
            gen_time(at),
        ];
        if let Some(n) = &req.nonce {
            tst.push(tlv(Tag::Integer, n));
        }
        let tst_info = tlv(Tag::Sequence, &tst.concat());

        let sha256_alg = seq(&[&oid_tlv(oid::SHA256)]);
        let attr = |o: ObjectIdentifier, value: Vec<u8>| seq(&[&oid_tlv(o), &set_of(vec![value])]);
        let ess = seq(&[&seq(&[&seq(&[&tlv(Tag::OctetString, &self.cert_hash)])])]);
        let attrs = vec![
            attr(ID_CONTENT_TYPE, oid_tlv(ID_CT_TST_INFO)),
            attr(
                ID_MESSAGE_DIGEST,
                tlv(Tag::OctetString, &Sha256::digest(&tst_info)),
            ),
            attr(ID_SIGNING_CERT_V2, ess),
        ];
        // Signed as a SET OF (tag 0x31); carried as [0] IMPLICIT.
        let signed = set_of(attrs);
        let signature = self.key.sign(&signed);
        let signed_implicit = ctx(0, true, &signed[header_len(&signed)..]);
        let signer_info = seq(&[
            &tlv(Tag::Integer, &[1]),
            &self.issuer_and_serial,
            &sha256_alg,
            &signed_implicit,
            &seq(&[&oid_tlv(ECDSA_WITH_SHA256)]),
            &tlv(Tag::OctetString, &signature),
        ]);
        let encap = seq(&[
            &oid_tlv(ID_CT_TST_INFO),
            &ctx(0, true, &tlv(Tag::OctetString, &tst_info)),
        ]);
        let mut sd = vec![
            tlv(Tag::Integer, &[3]),
            set_of(vec![sha256_alg.clone()]),
            encap,
        ];
        if req.cert_req {
            sd.push(ctx(0, true, &self.chain[0]));
        }
        sd.push(set_of(vec![signer_info]));
        let content_info = seq(&[
            &oid_tlv(ID_SIGNED_DATA),
            &ctx(0, true, &tlv(Tag::Sequence, &sd.concat())),
        ]);
        // PKIStatusInfo { status granted (0) }.
        let status = seq(&[&tlv(Tag::Integer, &[0])]);
        Ok(seq(&[&status, &content_info]))
    }

    /// A `TimeStampResp` refusing a request (status rejection, failInfo
    /// badDataFormat), for a request [`respond`](Self::respond) refused.
    #[must_use]
    pub fn rejection(reason: &str) -> Vec<u8> {
        let text = seq(&[&tlv(Tag::Utf8String, reason.as_bytes())]);
        // failInfo BIT STRING: badDataFormat is bit 5.
        let fail_info = tlv(Tag::BitString, &[2, 0x04]);
        seq(&[&seq(&[&tlv(Tag::Integer, &[2]), &text, &fail_info])])
    }
}

/// The length of a TLV's header (tag and length octets).
fn header_len(tlv_bytes: &[u8]) -> usize {
    match tlv_bytes.get(1) {
        Some(l) if l & 0x80 == 0 => 2,
        Some(l) => 2 + usize::from(l & 0x7f),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use attest_rekor::pki::CertificateAuthority;
    use attest_rekor::tsp::{TimestampError, timestamp_request, verify_response, verify_timestamp};

    fn tsa() -> (TimestampAuthority, CertificateAuthority) {
        let t0 = Timestamp::from_unix(1_700_000_000);
        let tsa = TimestampAuthority::generate("tsa.test", t0).unwrap();
        let ca = CertificateAuthority::new("tsa.test", tsa.chain_der(), t0, None).unwrap();
        (tsa, ca)
    }

    #[test]
    fn a_token_verifies_and_carries_the_nonce_and_time() {
        let (tsa, ca) = tsa();
        let at = Timestamp::from_unix(1_750_000_123);
        for cert_req in [true, false] {
            let mut req = timestamp_request(b"the signature", 0x8000_0000_0000_0001);
            if !cert_req {
                // The same request without certReq (its last 3 bytes).
                req.truncate(req.len() - 3);
                req[1] -= 3;
            }
            let resp = tsa.respond(&req, at, 42).unwrap();
            let v = verify_response(
                &resp,
                b"the signature",
                0x8000_0000_0000_0001,
                std::slice::from_ref(&ca),
            )
            .unwrap();
            assert_eq!(v.gen_time, at);
            assert_eq!(v.nonce, Some(0x8000_0000_0000_0001));
            // Another signature, another nonce, an untrusted TSA: refused.
            assert_eq!(
                verify_timestamp(&resp, b"another", std::slice::from_ref(&ca)).unwrap_err(),
                TimestampError::Imprint
            );
            assert_eq!(
                verify_response(&resp, b"the signature", 7, std::slice::from_ref(&ca)).unwrap_err(),
                TimestampError::Nonce
            );
            let (_, other) = tsa_other();
            assert!(verify_timestamp(&resp, b"the signature", &[other]).is_err());
            // Any flipped byte of the token is refused or changes nothing
            // verifiable: never a different verified time.
            for i in (0..resp.len()).step_by(7) {
                let mut bad = resp.clone();
                bad[i] ^= 0x01;
                if let Ok(v) = verify_timestamp(&bad, b"the signature", std::slice::from_ref(&ca)) {
                    assert_eq!(v.gen_time, at, "byte {i}");
                }
            }
        }
    }

    fn tsa_other() -> (TimestampAuthority, CertificateAuthority) {
        tsa()
    }

    #[test]
    fn bad_requests_are_refused() {
        let (tsa, _) = tsa();
        let good = timestamp_request(b"s", 1);
        assert!(
            tsa.respond(&good, Timestamp::from_unix(1_750_000_000), 1)
                .is_ok()
        );
        let mut wrong_len = good.clone();
        // Shorten the hashed message: SHA-256 imprints must be 32 bytes.
        let pos = good.windows(2).position(|w| w == [0x04, 0x20]).unwrap();
        wrong_len[pos + 1] = 0x1f;
        for bad in [
            &b""[..],
            b"\x30\x00",
            &good[..good.len() - 1],
            &wrong_len[..],
        ] {
            assert!(matches!(
                tsa.respond(bad, Timestamp::from_unix(0), 1),
                Err(e) if e.is_bad_request()
            ));
        }
        // Nonces that are not a DER INTEGER's content are refused.
        for nonce in [&[][..], &[0, 1][..], &[7u8; 33][..]] {
            let mut req = good.clone();
            let pos = req.len() - 3 - 2 - 1; // the 1-byte nonce before certReq
            assert_eq!(&req[pos..pos + 3], &[0x02, 0x01, 0x01]);
            req.splice(
                pos..pos + 3,
                [&[0x02, nonce.len() as u8][..], nonce].concat(),
            );
            req[1] = (req.len() - 2) as u8;
            assert!(
                matches!(
                    tsa.respond(&req, Timestamp::from_unix(0), 1),
                    Err(e) if e.is_bad_request()
                ),
                "{nonce:?}"
            );
        }
        let rej = TimestampAuthority::rejection("no");
        assert_eq!(
            verify_timestamp(&rej, b"s", &[]).unwrap_err(),
            TimestampError::NotGranted
        );
    }

    #[test]
    fn keys_and_chains_must_match() {
        let (tsa, _) = tsa();
        let ed = SigningKey::ed25519_from_seed(&[1; 32]);
        assert!(matches!(
            TimestampAuthority::new(ed, tsa.chain_der().to_vec()),
            Err(TsaError::KeyType)
        ));
        let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        assert!(matches!(
            TimestampAuthority::new(other, tsa.chain_der().to_vec()),
            Err(TsaError::Certificate("the certificate is not the key's"))
        ));
        assert!(matches!(
            TimestampAuthority::new(tsa.key().clone(), Vec::new()),
            Err(TsaError::Certificate("empty chain"))
        ));
        assert!(matches!(
            TimestampAuthority::new(tsa.key().clone(), vec![vec![0x30, 0x00]]),
            Err(TsaError::CertificateDer(_))
        ));
    }
}

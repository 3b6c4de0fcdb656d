//! Embedded SCTs (RFC 6962 §3.2) verified against trusted CT logs.

#[allow(clippy::wildcard_imports)]
use super::*;

// ---------------------------------------------------------------- SCTs

/// One embedded SCT (RFC 6962 §3.2), as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sct<'a> {
    log_id: [u8; 32],
    timestamp_ms: u64,
    extensions: &'a [u8],
    hash_alg: u8,
    sig_alg: u8,
    signature: &'a [u8],
}

/// How many SCTs a `SignedCertificateTimestampList` extension value holds
/// (parsing only; for fuzzing and diagnostics).
///
/// # Errors
/// [`PkiError::SctMalformed`].
pub fn parse_sct_list_len(ext_value: &[u8]) -> Result<usize, PkiError> {
    parse_sct_list(ext_value).map(|l| l.len())
}

/// A TLS-style reader over bytes (RFC 5246 §4 vectors).
pub(super) struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], PkiError> {
        if self.0.len() < n {
            return Err(PkiError::SctMalformed("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub(super) fn uint(&mut self, n: usize) -> Result<u64, PkiError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
    pub(super) fn vec(&mut self, len_bytes: usize) -> Result<&'a [u8], PkiError> {
        let n =
            usize::try_from(self.uint(len_bytes)?).map_err(|_| PkiError::SctMalformed("length"))?;
        self.take(n)
    }
}

/// Parses a `SignedCertificateTimestampList` (the extension's OCTET STRING
/// content, itself an OCTET STRING).
pub(crate) fn parse_sct_list(ext_value: &[u8]) -> Result<Vec<Sct<'_>>, PkiError> {
    let inner = <&der::asn1::OctetStringRef>::from_der(ext_value)
        .map_err(|_| PkiError::SctMalformed("not an OCTET STRING"))?;
    let mut list = Tls(inner.as_bytes());
    let mut items = Tls(list.vec(2)?);
    if !list.0.is_empty() {
        return Err(PkiError::SctMalformed("trailing bytes"));
    }
    let mut out = Vec::new();
    while !items.0.is_empty() {
        let mut s = Tls(items.vec(2)?);
        if s.uint(1)? != 0 {
            return Err(PkiError::SctMalformed("version is not v1"));
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(s.take(32)?);
        let timestamp_ms = s.uint(8)?;
        let extensions = s.vec(2)?;
        let hash_alg = u8::try_from(s.uint(1)?).unwrap_or(u8::MAX);
        let sig_alg = u8::try_from(s.uint(1)?).unwrap_or(u8::MAX);
        let signature = s.vec(2)?;
        if !s.0.is_empty() {
            return Err(PkiError::SctMalformed("trailing bytes in an SCT"));
        }
        out.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            hash_alg,
            sig_alg,
            signature,
        });
    }
    if out.is_empty() {
        return Err(PkiError::SctMalformed("empty list"));
    }
    Ok(out)
}

/// The precertificate TBS a CT log signed: the leaf's TBS with the SCT
/// list extension removed. Every other field is copied as received; only
/// the extensions' wrapper is rebuilt (RFC 6962 §3.2 defines the signed
/// TBS as this re-encoding).
pub(super) fn precert_tbs(leaf: &Cert) -> Result<Vec<u8>, PkiError> {
    let malformed = |_| PkiError::SctMalformed("the certificate's TBS");
    let fields: Vec<Any> = Vec::from_der(&leaf.tbs).map_err(malformed)?;
    let mut out: Vec<Any> = Vec::with_capacity(fields.len());
    for f in fields {
        let extensions_tag = Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(3),
        };
        if f.tag() == extensions_tag {
            let exts: Vec<Any> = Vec::from_der(f.value()).map_err(malformed)?;
            let mut kept = Vec::with_capacity(exts.len());
            for e in exts {
                let ext: x509_cert::ext::Extension = e.decode_as().map_err(malformed)?;
                if ext.extn_id != oid::SCT_LIST {
                    kept.push(e);
                }
            }
            let inner = kept.to_der().map_err(malformed)?;
            out.push(Any::new(f.tag(), inner).map_err(malformed)?);
        } else {
            out.push(f);
        }
    }
    out.to_der().map_err(malformed)
}

/// Verifies the leaf's embedded SCTs against `ct_logs`: at least one from a
/// trusted log must verify with that log's key valid at the SCT's time; an
/// SCT naming a trusted log that does not verify is a failure. Returns how
/// many verified.
pub(crate) fn verify_scts(
    leaf: &Cert,
    issuer: &Cert,
    ct_logs: &[CtLog],
) -> Result<usize, PkiError> {
    let raw = leaf.raw_extension(oid::SCT_LIST)?.ok_or(PkiError::NoSct)?;
    let scts = parse_sct_list(raw)?;
    let tbs = precert_tbs(leaf)?;
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or(PkiError::SctMalformed("TBS too long"))?;
    let issuer_key_hash = Sha256::digest(issuer.spki());
    let mut verified = 0;
    for sct in &scts {
        let Some(log) = ct_logs.iter().find(|l| l.log_id == sct.log_id) else {
            continue;
        };
        let log_hex = base16ct::lower::encode_string(&log.log_id);
        let at = Timestamp::from_unix(i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX));
        if at < log.valid_from || log.valid_until.is_some_and(|end| at > end) {
            return Err(PkiError::SctLogNotValid { log: log_hex, at });
        }
        let mut signed = Vec::with_capacity(tbs.len() + 64);
        signed.push(0); // v1
        signed.push(0); // certificate_timestamp
        signed.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        let ext_len = u16::try_from(sct.extensions.len())
            .map_err(|_| PkiError::SctMalformed("extensions too long"))?;
        signed.extend_from_slice(&ext_len.to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        // RFC 5246 SignatureAndHashAlgorithm: sha256(4) with rsa(1) or ecdsa(3).
        let alg = match (sct.hash_alg, sct.sig_alg) {
            (4, 3) => oid::ECDSA_SHA256,
            (4, 1) => oid::RSA_SHA256,
            _ => return Err(PkiError::SctSignature(log_hex)),
        };
        verify_signature(&log.spki, &log.key, alg, &signed, sct.signature)
            .map_err(|_| PkiError::SctSignature(log_hex))?;
        verified += 1;
    }
    if verified == 0 {
        return Err(PkiError::NoValidSct(scts.len()));
    }
    Ok(verified)
}

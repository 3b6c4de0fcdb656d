//! Just enough DER to find the SubjectPublicKeyInfo inside an X.509
//! certificate. The certificate is not validated: here it only carries a key.

use crate::KeyError;

/// One DER element and what follows it.
struct Tlv<'a> {
    tag: u8,
    /// The whole element, header included.
    whole: &'a [u8],
    content: &'a [u8],
    rest: &'a [u8],
}

/// Splits one DER element off `input`.
fn tlv(input: &[u8]) -> Result<Tlv<'_>, KeyError> {
    let bad = KeyError::Certificate;
    let (&tag, rest) = input.split_first().ok_or(bad("truncated"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("multi-byte tags are not used in certificates"));
    }
    let (&first, rest) = rest.split_first().ok_or(bad("truncated length"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(bad("unsupported length encoding"));
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(bad("truncated value"));
    }
    let header = input.len() - rest.len();
    Ok(Tlv {
        tag,
        whole: &input[..header + len],
        content: &rest[..len],
        rest: &rest[len..],
    })
}

/// The DER SubjectPublicKeyInfo of a DER certificate.
pub(crate) fn subject_public_key_info(cert: &[u8]) -> Result<&[u8], KeyError> {
    const SEQUENCE: u8 = 0x30;
    let cert = tlv(cert)?;
    if cert.tag != SEQUENCE {
        return Err(KeyError::Certificate("not a SEQUENCE"));
    }
    let tbs = tlv(cert.content)?;
    if tbs.tag != SEQUENCE {
        return Err(KeyError::Certificate("tbsCertificate is not a SEQUENCE"));
    }
    let mut rest = tbs.content;
    // [0] EXPLICIT version, optional.
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest)?.rest;
    }
    // serialNumber, signature, issuer, validity, subject.
    for _ in 0..5 {
        rest = tlv(rest)?.rest;
    }
    let spki = tlv(rest)?;
    if spki.tag != SEQUENCE {
        return Err(KeyError::Certificate(
            "subjectPublicKeyInfo is not a SEQUENCE",
        ));
    }
    Ok(spki.whole)
}

/// DER: a tag, a definite length, the content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// A time as `UTCTime` (until 2049) or `GeneralizedTime`, from RFC 3339 text.
fn der_time(t: crate::Timestamp) -> Vec<u8> {
    let s = t.to_string(); // YYYY-MM-DDTHH:MM:SSZ
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if t.unix() < 2_524_608_000 {
        der(0x17, format!("{}Z", &digits[2..]).as_bytes())
    } else {
        der(0x18, format!("{digits}Z").as_bytes())
    }
}

/// A self-signed X.509 v3 certificate (DER) for `key`, named `CN=<name>`,
/// valid from `not_before` to `not_after`. It carries the key where a
/// format requires a certificate (Sigstore bundles v0.3 as parsed by some
/// clients); it asserts no identity and chains to nothing.
#[must_use]
pub fn self_signed_certificate(
    key: &crate::SigningKey,
    name: &str,
    not_before: crate::Timestamp,
    not_after: crate::Timestamp,
) -> Vec<u8> {
    // ecdsa-with-SHA256 1.2.840.10045.4.3.2; Ed25519 1.3.101.112.
    let alg = match key.public_key().algorithm() {
        crate::Algorithm::EcdsaP256Sha256 => seq(&[&der(
            0x06,
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        )]),
        crate::Algorithm::Ed25519 => seq(&[&der(0x06, &[0x2b, 0x65, 0x70])]),
    };
    // CN (2.5.4.3) as UTF8String.
    let cn = seq(&[&der(0x06, &[0x55, 0x04, 0x03]), &der(0x0c, name.as_bytes())]);
    let rdn = seq(&[&der(0x31, &cn)]);
    // A positive serial from the key and time: deterministic for a key.
    let mut serial = [0u8; 16];
    let digest = <sha2::Sha256 as sha2::Digest>::digest(
        [
            key.public_key().spki_der(),
            &not_before.unix().to_be_bytes(),
        ]
        .concat(),
    );
    serial.copy_from_slice(&digest[..16]);
    serial[0] &= 0x7f;
    serial[0] |= 0x01;
    let tbs = seq(&[
        &der(0xa0, &der(0x02, &[2])),
        &der(0x02, &serial),
        &alg,
        &rdn,
        &seq(&[&der_time(not_before), &der_time(not_after)]),
        &rdn,
        key.public_key().spki_der(),
    ]);
    let sig = key.sign(&tbs);
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    seq(&[&tbs, &alg, &der(0x03, &bits)])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{Algorithm, PublicKey, SigningKey, Timestamp};

    #[test]
    fn self_signed_certificates_carry_the_key_and_verify() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256Sha256] {
            let k = SigningKey::generate(alg).unwrap();
            let from = Timestamp::from_unix(1_700_000_000);
            let cert =
                self_signed_certificate(&k, "attestlog", from, Timestamp::from_unix(4_102_444_800));
            let key = PublicKey::from_certificate_der(&cert).unwrap();
            assert_eq!(key.spki_der(), k.public_key().spki_der());
            // The signature covers the TBS: the first element of the outer SEQUENCE.
            let outer = tlv(&cert).unwrap();
            let tbs = tlv(outer.content).unwrap();
            let tbs_der = tbs.whole;
            let sig_alg = tlv(tbs.rest).unwrap();
            let bits = tlv(sig_alg.rest).unwrap();
            assert!(key.verifies(tbs_der, &bits.content[1..]));
        }
    }
}

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

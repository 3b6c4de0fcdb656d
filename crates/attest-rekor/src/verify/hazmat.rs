//! The individual checks a [`Verifier`] composes, one rule each. **None of them alone verifies anything**: a caller that strings them together must establish signer, artifact, time and log evidence itself, as the verifier does.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The trusted log whose id is `log_id`.
///
/// # Errors
/// [`Check::LogKey`] when no trusted log has that id.
pub fn find_log<'a>(logs: &'a [TrustedLog], log_id: &[u8]) -> Result<&'a TrustedLog, CheckError> {
    logs.iter()
        .find(|l| l.log_id.as_bytes()[..] == *log_id)
        .ok_or_else(|| fail(Check::LogKey, Reason::UntrustedLog))
}

/// The log key was valid at `integrated_time` (inclusive window).
///
/// # Errors
/// [`Check::LogKey`].
pub fn check_log_key_valid(log: &TrustedLog, integrated_time: i64) -> Result<(), CheckError> {
    if log.valid_at(Timestamp::from_unix(integrated_time)) {
        Ok(())
    } else {
        Err(fail(Check::LogKey, Reason::LogKeyNotValidAtTime))
    }
}

/// integratedTime is not later than `now`.
///
/// # Errors
/// [`Check::IntegratedTime`].
pub fn check_integrated_time(integrated_time: i64, now: Timestamp) -> Result<(), CheckError> {
    if integrated_time <= now.unix() {
        Ok(())
    } else {
        Err(fail(
            Check::IntegratedTime,
            Reason::FutureIntegratedTime(integrated_time),
        ))
    }
}

/// The bytes a SET signs: the RFC 8785 JSON of
/// `{"body","integratedTime","logID","logIndex"}` (members already in
/// canonical order; the body is the base64 text as sent, JSON-escaped).
#[must_use]
pub fn set_payload(
    body_b64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    global_index: u64,
) -> Vec<u8> {
    // Fast path, for what real entries carry: strings of characters that
    // JSON never escapes, integers that RFC 8785 writes as plain decimals
    // (|n| < 2^53). The members are already in canonical order. Anything
    // else takes the general canonicalizer; a test holds both equal.
    const EXACT: i64 = 1 << 53;
    let plain = |t: &str| {
        t.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    };
    if plain(body_b64)
        && plain(log_id_hex)
        && integrated_time.unsigned_abs() < EXACT.unsigned_abs()
        && global_index < EXACT.unsigned_abs()
    {
        let mut out = Vec::with_capacity(body_b64.len() + log_id_hex.len() + 80);
        out.extend_from_slice(b"{\"body\":\"");
        out.extend_from_slice(body_b64.as_bytes());
        out.extend_from_slice(b"\",\"integratedTime\":");
        out.extend_from_slice(integrated_time.to_string().as_bytes());
        out.extend_from_slice(b",\"logID\":\"");
        out.extend_from_slice(log_id_hex.as_bytes());
        out.extend_from_slice(b"\",\"logIndex\":");
        out.extend_from_slice(global_index.to_string().as_bytes());
        out.push(b'}');
        return out;
    }
    set_payload_jcs(body_b64, integrated_time, log_id_hex, global_index)
}

/// [`set_payload`] through the general RFC 8785 canonicalizer.
#[doc(hidden)]
#[must_use]
pub fn set_payload_jcs(
    body_b64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    global_index: u64,
) -> Vec<u8> {
    let payload = serde_json::json!({
        "body": body_b64,
        "integratedTime": integrated_time,
        "logID": log_id_hex,
        "logIndex": global_index,
    });
    // A JSON object of strings and integers: canonicalization cannot fail.
    #[allow(clippy::expect_used)]
    serde_jcs::to_vec(&payload).expect("RFC 8785 of strings and integers")
}

/// The SET: the log's signature over the RFC 8785 JSON of
/// `{body, integratedTime, logID, logIndex}` (body as the base64 string sent,
/// logID lowercase hex, logIndex the global index).
///
/// # Errors
/// [`Check::Set`].
pub fn verify_set(
    log: &TrustedLog,
    body_b64: &str,
    integrated_time: i64,
    global_index: u64,
    set: &[u8],
) -> Result<(), CheckError> {
    let msg = set_payload(body_b64, integrated_time, &log.log_id_hex(), global_index);
    if log.key.verifies(&msg, set) {
        Ok(())
    } else {
        Err(fail(Check::Set, Reason::SetSignature))
    }
}

/// Verifies a checkpoint's signature with the log key and parses its body.
///
/// # Errors
/// [`Check::CheckpointSignature`].
pub fn verify_checkpoint(note: &str, log: &TrustedLog) -> Result<VerifiedCheckpoint, CheckError> {
    let sig = |e: NoteError| fail(Check::CheckpointSignature, Reason::Note(e));
    let parsed = SignedNote::parse(note).map_err(sig)?;
    parsed.verify(&[log.note_verifier()]).map_err(sig)?;
    let cp = parsed
        .checkpoint()
        .map_err(|e| fail(Check::CheckpointSignature, Reason::CheckpointBody(e)))?;
    if !log.origin_matches(cp.origin()) {
        return Err(fail(
            Check::CheckpointSignature,
            Reason::UnexpectedOrigin {
                found: cp.origin().to_owned(),
                expected: log.origin.clone().unwrap_or_default(),
            },
        ));
    }
    Ok(VerifiedCheckpoint {
        origin: cp.origin().to_owned(),
        size: cp.size(),
        root: *cp.root(),
        note: note.to_owned(),
    })
}

/// The log's witness policy on a checkpoint note at the verifier's time
/// `now`: Ok when the log has none, or when enough of its witnesses
/// cosigned. The note's own signature is [`verify_checkpoint`]'s.
///
/// # Errors
/// [`Check::Witnesses`].
pub fn verify_witnesses(
    note: &str,
    log: &TrustedLog,
    now: Timestamp,
) -> Result<Vec<crate::witness::Cosignature>, CheckError> {
    let Some(policy) = &log.witnesses else {
        return Ok(Vec::new());
    };
    let parsed =
        SignedNote::parse(note).map_err(|e| fail(Check::CheckpointSignature, Reason::Note(e)))?;
    policy
        .verify(&parsed, now.unix())
        .map_err(|e| fail(Check::Witnesses, Reason::Witnesses(e)))
}

/// Inclusion of `body` (the exact canonical bytes) at shard-local `index`,
/// bound to a verified checkpoint: the proof's claimed root and size must be
/// the checkpoint's, and the proof must lead to that root.
///
/// # Errors
/// [`Check::CheckpointBinding`] or [`Check::Inclusion`].
pub fn verify_inclusion_in(
    checkpoint: &VerifiedCheckpoint,
    body: &[u8],
    index: u64,
    tree_size: u64,
    claimed_root: &Hash,
    proof: &[Hash],
) -> Result<(), CheckError> {
    if checkpoint.size != tree_size {
        return Err(fail(
            Check::CheckpointBinding,
            Reason::TreeSizeMismatch {
                proof: tree_size,
                checkpoint: checkpoint.size,
            },
        ));
    }
    if checkpoint.root != *claimed_root {
        return Err(fail(Check::CheckpointBinding, Reason::RootMismatch));
    }
    attest_merkle::verify_inclusion(index, tree_size, &leaf_hash(body), proof, &checkpoint.root)
        .map_err(|e: ProofError| fail(Check::Inclusion, Reason::Proof(e)))
}

/// Consistency between two verified checkpoints of the same log.
///
/// # Errors
/// [`Check::Inclusion`]-style errors under the check name `checkpoint-binding`
/// for different origins, and the proof error otherwise.
pub fn verify_checkpoint_consistency(
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
    proof: &[Hash],
) -> Result<(), CheckError> {
    if old.origin != new.origin {
        return Err(fail(Check::CheckpointBinding, Reason::OriginMismatch));
    }
    verify_consistency(old.size, new.size, proof, &old.root, &new.root)
        .map_err(|e| fail(Check::Inclusion, Reason::Consistency(e)))
}

/// A claimed time is confirmed when `claimed <= integrated <= claimed + window`.
///
/// # Errors
/// [`Check::NotBackdated`].
pub fn check_not_backdated(
    claimed: i64,
    integrated_time: i64,
    window_secs: i64,
) -> Result<(), CheckError> {
    if claimed > integrated_time {
        return Err(fail(
            Check::NotBackdated,
            Reason::ClaimedAfterLogTime {
                claimed,
                log_time: integrated_time,
            },
        ));
    }
    let behind = integrated_time
        .checked_sub(claimed)
        .ok_or(fail(Check::NotBackdated, Reason::TimesOutOfRange))?;
    if behind > window_secs {
        return Err(fail(
            Check::NotBackdated,
            Reason::Backdated {
                claimed,
                log_time: integrated_time,
                behind,
                window: window_secs,
            },
        ));
    }
    Ok(())
}

pub(super) fn sha256_hex(b: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(b))
}

/// The logged body is the one for this envelope: `dsse` 0.0.1 (payload hash
/// and every signature with its verifier), `intoto` 0.0.2 (payload hash,
/// type, signatures), or Rekor v2 `hashedrekord` 0.0.2 (digest = SHA-256 of
/// the PAE, the one signature).
///
/// # Errors
/// [`Check::BodyMatch`].
pub fn check_body_matches_envelope(body: &EntryBody, env: &Envelope) -> Result<(), CheckError> {
    body_matches_envelope(body, env, None)
}

/// The key the signature check verified with, and the certificate (DER) it
/// was read from, if any.
#[derive(Clone, Copy)]
pub(crate) struct VerifiedWith<'a> {
    pub(crate) key: &'a PublicKey,
    pub(crate) certificate_der: Option<&'a [u8]>,
}

impl VerifiedWith<'_> {
    /// Whether a logged verifier (PEM text) is this key, or the certificate
    /// it came from, without parsing it as X.509.
    pub(super) fn is(&self, pem: &[u8]) -> bool {
        let pem = pem.trim_ascii();
        if let Some(der) = crate::b64::strict_pem(pem, "CERTIFICATE") {
            return self.certificate_der == Some(der.as_slice());
        }
        if let Some(der) = crate::b64::strict_pem(pem, "PUBLIC KEY") {
            return der == self.key.spki_der();
        }
        match der::pem::decode_vec(pem) {
            Ok(("PUBLIC KEY", der)) => der == self.key.spki_der(),
            Ok(("CERTIFICATE", der)) => self.certificate_der == Some(der.as_slice()),
            _ => false,
        }
    }
}

/// [`check_body_matches_envelope`], skipping the signature check of a logged
/// (signature, verifier) pair that is the envelope's only signature, already
/// verified with that same key by the signature check.
pub(crate) fn body_matches_envelope(
    body: &EntryBody,
    env: &Envelope,
    verified_with: Option<VerifiedWith<'_>>,
) -> Result<(), CheckError> {
    let bm = |r: Reason| fail(Check::BodyMatch, r);
    let payload_hash = sha256_hex(env.payload_unverified());
    let env_sigs: Vec<&[u8]> = env.signatures().iter().map(|s| s.sig.as_slice()).collect();
    let pae = env.pae();
    match body {
        EntryBody::DsseV001(d) => {
            if d.payload_hash.algorithm != "sha256" || d.payload_hash.value != payload_hash {
                return Err(bm(Reason::PayloadHash));
            }
            let mut logged = Vec::new();
            for s in &d.signatures {
                let sig = crate::b64::decode(&s.signature)
                    .map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                let pem = crate::b64::decode(&s.verifier)
                    .map_err(|_| bm(Reason::LoggedVerifierEncoding))?;
                // The verifier the signature check used (its key or its
                // certificate, byte for byte) need not be parsed again.
                let same = verified_with.filter(|v| v.is(&pem)).map(|v| v.key);
                let key = same
                    .cloned()
                    .or_else(|| {
                        std::str::from_utf8(&pem)
                            .ok()
                            .and_then(|p| crate::x509::public_key_from_pem(p).ok())
                    })
                    .ok_or_else(|| bm(Reason::LoggedVerifierKey))?;
                // With one envelope signature, the signature check verified
                // exactly that signature with that key.
                let already = env_sigs.len() == 1
                    && verified_with.is_some_and(|v| *v.key == key)
                    && env_sigs[0] == sig.as_slice();
                if !already && !key.verifies(&pae, &sig) {
                    return Err(bm(Reason::LoggedSignatureInvalid));
                }
                logged.push(sig);
            }
            same_signatures(&logged, &env_sigs).map_err(bm)
        }
        EntryBody::IntotoV002(i) => {
            let c = &i.content;
            if c.payload_hash.value != payload_hash {
                return Err(bm(Reason::PayloadHash));
            }
            if c.envelope.payload_type != env.payload_type() {
                return Err(bm(Reason::PayloadType));
            }
            let mut logged = Vec::new();
            for s in &c.envelope.signatures {
                let inner =
                    crate::b64::decode(&s.sig).map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                let inner =
                    std::str::from_utf8(&inner).map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                let sig =
                    crate::b64::decode(inner).map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
                logged.push(sig);
            }
            same_signatures(&logged, &env_sigs).map_err(bm)
        }
        EntryBody::HashedRekordV002(h) => {
            let r = &h.hashed_rekord_v0_0_2;
            let digest =
                crate::b64::decode(&r.data.digest).map_err(|_| bm(Reason::DigestEncoding))?;
            // The PAE's digest with the hash the entry names (the log
            // checked the key signs with it).
            if crate::hashes::digest_with(&r.data.algorithm, &pae).as_deref() != Some(&digest[..]) {
                return Err(bm(Reason::PaeDigest));
            }
            let sig = crate::b64::decode(&r.signature.content)
                .map_err(|_| bm(Reason::LoggedSignatureEncoding))?;
            same_signatures(&[sig], &env_sigs).map_err(bm)
        }
        EntryBody::HashedRekordV001(_) => Err(bm(Reason::NotAnEnvelopeEntry)),
    }
}

pub(super) fn same_signatures(logged: &[Vec<u8>], envelope: &[&[u8]]) -> Result<(), Reason> {
    let mut a: Vec<&[u8]> = logged.iter().map(Vec::as_slice).collect();
    let mut b: Vec<&[u8]> = envelope.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    if a == b {
        Ok(())
    } else {
        Err(Reason::SignaturesDiffer)
    }
}

/// The logged `hashedrekord` body (0.0.1, or Rekor v2's 0.0.2) is the one
/// for this message signature: the same digest with the same hash
/// (`algorithm`: `SHA2_256`, `SHA2_384`, `SHA2_512`), the same signature,
/// and a logged key (or certificate's key) equal to `signer`.
///
/// # Errors
/// [`Check::BodyMatch`].
pub fn check_body_matches_message(
    body: &EntryBody,
    algorithm: &str,
    digest: &[u8],
    signature: &[u8],
    signer: &PublicKey,
) -> Result<(), CheckError> {
    let bm = |r: Reason| fail(Check::BodyMatch, r);
    let (same_digest, logged_sig) = match body {
        EntryBody::HashedRekordV001(h) => (
            // 0.0.1 names the hash in lower case: sha256, sha384, sha512.
            algorithm
                .strip_prefix("SHA2_")
                .is_some_and(|bits| h.data.hash.algorithm == format!("sha{bits}"))
                && h.data.hash.value == base16ct::lower::encode_string(digest),
            &h.signature.content,
        ),
        EntryBody::HashedRekordV002(h) => {
            let r = &h.hashed_rekord_v0_0_2;
            let logged =
                crate::b64::decode(&r.data.digest).map_err(|_| bm(Reason::DigestEncoding))?;
            (
                r.data.algorithm == algorithm && logged == digest,
                &r.signature.content,
            )
        }
        _ => return Err(bm(Reason::NotAMessageEntry)),
    };
    if !same_digest {
        return Err(bm(Reason::MessageDigest));
    }
    if crate::b64::decode(logged_sig).ok().as_deref() != Some(signature) {
        return Err(bm(Reason::MessageSignatureDiffers));
    }
    match logged_key(body) {
        Some(k) if k == *signer => Ok(()),
        Some(_) => Err(bm(Reason::LoggedKeyDiffers)),
        None => Err(bm(Reason::LoggedVerifierKey)),
    }
}

/// The public key a `hashedrekord` body records: 0.0.1's PEM public key or
/// certificate, 0.0.2's DER public key or certificate, when it is one we read.
#[must_use]
pub fn logged_key(body: &EntryBody) -> Option<PublicKey> {
    match body {
        EntryBody::HashedRekordV001(h) => {
            let pem = crate::b64::decode(&h.signature.public_key.content).ok()?;
            crate::x509::public_key_from_pem(std::str::from_utf8(&pem).ok()?).ok()
        }
        EntryBody::HashedRekordV002(h) => {
            let v = h.hashed_rekord_v0_0_2.signature.verifier.as_ref()?;
            match (&v.public_key, &v.x509_certificate) {
                (Some(k), None) => {
                    PublicKey::from_spki_der(&crate::b64::decode(&k.raw_bytes).ok()?).ok()
                }
                (None, Some(c)) => {
                    crate::x509::certificate_public_key(&crate::b64::decode(&c.raw_bytes).ok()?)
                        .ok()
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// PAE bytes of an envelope (re-exported for callers building Rekor v2 digests).
#[must_use]
pub fn envelope_pae(env: &Envelope) -> Vec<u8> {
    pae(env.payload_type(), env.payload_unverified())
}

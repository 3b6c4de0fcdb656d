//! What both v2 clients share: published entries checked, notes verified, proofs read from tiles, errors mapped.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn tile_error(e: TileError<ClientError>) -> ClientError {
    e.into_source().unwrap_or_else(ClientError::Tiles)
}

/// A proof's failure: the tiles' (or their source's), or the proof's own.
#[derive(Debug)]
pub(super) enum ProofError<E> {
    Tiles(TileError<E>),
    Proof(attest_merkle::ProofError),
}

pub(super) fn proof_error(e: ProofError<ClientError>) -> ClientError {
    match e {
        ProofError::Tiles(t) => tile_error(t),
        ProofError::Proof(p) => ClientError::Proof(p),
    }
}

/// The trusted logs of API version 2.
pub(super) fn v2_only(logs: &[TrustedLog]) -> Vec<TrustedLog> {
    logs.iter()
        .filter(|l| l.api == LogApi::V2)
        .cloned()
        .collect()
}

/// A create answer, verified.
pub(super) fn published(
    resp: &http::Response<Vec<u8>>,
    attempts: u32,
    request: &V2Request,
    logs: &[TrustedLog],
    now: attest_dsse::Timestamp,
) -> Result<V2Published, ClientError> {
    let entry =
        proto::parse_created(resp).map_err(|source| ClientError::Response { attempts, source })?;
    let evidence = proto::verify_created(&entry, request, logs, now)
        .map_err(|e| ClientError::Verification(e.report))?;
    let body = Base64::decode_vec(&entry.canonicalized_body).unwrap_or_default();
    Ok(V2Published {
        entry,
        body,
        evidence,
        existing: false,
    })
}

/// The entry a 409 pointed at, read from verified tiles, as a verified
/// answer to `request` (its body must be the request's).
pub(super) fn existing(
    request: &V2Request,
    index: u64,
    head: &VerifiedCheckpoint,
    body: Vec<u8>,
    proof: &attest_merkle::Proof,
    logs: &[TrustedLog],
    now: attest_dsse::Timestamp,
) -> Result<V2Published, ClientError> {
    let log = logs
        .iter()
        .find(|l| attest_rekor::verify::hazmat::verify_checkpoint(&head.note, l).is_ok())
        .ok_or_else(|| {
            crate::client::single_failure(
                Check::CheckpointSignature,
                "no trusted v2 log signed the checkpoint",
            )
        })?;
    let entry = proto::entry_from_tiles(index, head, &log.log_id, &body, proof.as_slice());
    let evidence = proto::verify_created(&entry, request, logs, now)
        .map_err(|e| ClientError::Verification(e.report))?;
    Ok(V2Published {
        entry,
        body,
        evidence,
        existing: true,
    })
}

pub(super) fn static_bytes(
    resp: &http::Response<Vec<u8>>,
    attempts: u32,
) -> Result<Vec<u8>, ClientError> {
    proto::parse_static(resp)
        .map(<[u8]>::to_vec)
        .map_err(|source| ClientError::Response { attempts, source })
}

pub(super) fn note_text(bytes: Vec<u8>) -> Result<String, ClientError> {
    String::from_utf8(bytes).map_err(|_| {
        crate::client::single_failure(Check::CheckpointSignature, "the checkpoint is not UTF-8")
    })
}

/// `note` verified by one of the trusted v2 `logs`.
pub(super) fn verify_note(
    logs: &[TrustedLog],
    note: &str,
) -> Result<VerifiedCheckpoint, ClientError> {
    let mut last = None;
    for log in logs {
        match attest_rekor::verify::hazmat::verify_checkpoint(note, log) {
            Ok(cp) => return Ok(cp),
            Err(e) => last = Some(e),
        }
    }
    Err(crate::client::single_failure(
        Check::CheckpointSignature,
        &last.map_or_else(
            || "no trusted Rekor v2 log".to_owned(),
            |e| attest_dsse::ErrorChain(&e).to_string(),
        ),
    ))
}

/// Consistency of two checkpoints when no tile is needed to decide it.
pub(super) fn consistency_without_tiles(
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
) -> Option<Result<(), ClientError>> {
    let fail = |d: &str| Some(Err(crate::client::single_failure(Check::Inclusion, d)));
    if old.origin != new.origin {
        return fail("the checkpoints are of different logs");
    }
    if new.size < old.size {
        return fail("the log shrank");
    }
    if old.size == new.size {
        return if old.root == new.root {
            Some(Ok(()))
        } else {
            fail("two checkpoints of the same size with different roots: the log forked")
        };
    }
    (old.size == 0).then_some(Ok(()))
}

/// The consistency proof from `old` to `new`, read through `reader` (of
/// `new`'s tree) and checked.
pub(super) fn consistency_in<S: TileSource>(
    reader: &TileReader<S>,
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
) -> Result<(), ProofError<S::Error>> {
    let proof = consistency_plan(old.size, new.size)
        .map_err(ProofError::Proof)?
        .read_proof(reader)
        .map_err(ProofError::Tiles)?;
    verify_consistency(old.size, new.size, &proof, &old.root, &new.root).map_err(ProofError::Proof)
}

/// Leaf `index`'s data, and apart its proof (checked against the data),
/// read through `reader`.
#[allow(clippy::type_complexity)]
pub(super) fn entry_with_proof_in<S: TileSource>(
    reader: &TileReader<S>,
    index: u64,
    checkpoint: &VerifiedCheckpoint,
) -> Result<(Vec<u8>, Result<attest_merkle::Proof, ProofError<S::Error>>), TileError<S::Error>> {
    let body = reader.entry(index)?;
    let proof = inclusion_plan(index, checkpoint.size)
        .map_err(ProofError::Proof)
        .and_then(|plan| plan.read_proof(reader).map_err(ProofError::Tiles))
        .and_then(|proof| {
            verify_inclusion(
                index,
                checkpoint.size,
                &leaf_hash(&body),
                &proof,
                &checkpoint.root,
            )
            .map(|()| proof)
            .map_err(ProofError::Proof)
        });
    Ok((body, proof))
}

/// The first `width` hashes (`hashed`) or entries of a full tile: a
/// partial tile the log has since replaced.
pub(super) fn cut_from_full(bytes: &[u8], width: u16, hashed: bool) -> Vec<u8> {
    if hashed {
        bytes
            .get(..usize::from(width) * 32)
            .unwrap_or(bytes)
            .to_vec()
    } else {
        prefix_entries(bytes, width)
    }
}

//! Comparisons and line builders: stored copies against the log, the binding of a statement to its row, checkpoint keys.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The store's copies of the log's answer equal what the log returned now
/// (the evidence lines say whether that answer verified).
pub(super) fn stored_copies(stored: &LogEntryRecord, fetched: &LogEntry) -> Result<(), String> {
    let shard = fetched
        .inclusion_proof
        .as_ref()
        .map_or(fetched.log_index, |p| p.log_index);
    let mut differ = Vec::new();
    if stored.entry_id != fetched.id.to_string() {
        differ.push(format!("entry id {} ≠ {}", stored.entry_id, fetched.id));
    }
    if stored.log_id != fetched.log_id.to_hex() {
        differ.push(format!(
            "log id {} ≠ {}",
            stored.log_id,
            fetched.log_id.to_hex()
        ));
    }
    if stored.global_index != fetched.log_index {
        differ.push(format!(
            "global index {} ≠ {}",
            stored.global_index, fetched.log_index
        ));
    }
    if stored.shard_index != shard {
        differ.push(format!("shard index {} ≠ {shard}", stored.shard_index));
    }
    if stored.integrated_time != fetched.integrated_time {
        differ.push(format!(
            "integrated time {} ≠ {}",
            unix_and_rfc3339(stored.integrated_time),
            unix_and_rfc3339(fetched.integrated_time)
        ));
    }
    differences(&differ)
}

/// A v2 row's stored copies equal what the log and the timestamp say now:
/// the log id of the log whose checkpoint covers it, its one index, and
/// the verified genTime (compared when the timestamp verifies; its own
/// line fails otherwise).
pub(super) fn stored_copies_v2(
    stored: &LogEntryRecord,
    log: &TrustedLog,
    index: u64,
    stamped: Option<i64>,
) -> Result<(), String> {
    let mut differ = Vec::new();
    if stored.log_id != log.log_id_hex() {
        differ.push(format!("log id {} ≠ {}", stored.log_id, log.log_id_hex()));
    }
    if stored.shard_index != index {
        differ.push(format!("shard index {} ≠ {index}", stored.shard_index));
    }
    if let Some(t) = stamped.filter(|t| *t != stored.integrated_time) {
        differ.push(format!(
            "timestamp time {} ≠ {}",
            unix_and_rfc3339(stored.integrated_time),
            unix_and_rfc3339(t)
        ));
    }
    differences(&differ)
}

/// A time as Unix seconds and RFC 3339, for failure details.
fn unix_and_rfc3339(t: i64) -> String {
    format!("{t} ({})", attest_dsse::Timestamp::from_unix(t))
}

/// The stored-entry line from what differs.
pub(super) fn differences(differ: &[String]) -> Result<(), String> {
    if differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the stored copy differs from the log: {}",
            differ.join(", ")
        ))
    }
}

/// The lines of a Rekor v2 row after `binding`.
pub(super) const V2_LOG_CHECKS: &[AuditCheck] = &[
    AuditCheck::EntryFetched,
    AuditCheck::StoredEntry,
    AuditCheck::BodyMatch,
    AuditCheck::Inclusion,
    AuditCheck::Consistency,
    AuditCheck::Timestamp,
    AuditCheck::KeyValidAtTimestamp,
    AuditCheck::NotBackdated,
];

pub(super) const ALL_AFTER_ID: &[AuditCheck] = &[
    AuditCheck::EnvelopeSignature,
    AuditCheck::Binding,
    AuditCheck::EntryFetched,
    AuditCheck::StoredEntry,
    AuditCheck::BodyMatch,
    AuditCheck::Inclusion,
    AuditCheck::Consistency,
    AuditCheck::Set,
    AuditCheck::KeyValidAtIntegratedTime,
    AuditCheck::NotBackdated,
];

/// The checks that need the log's evidence.
pub(super) const ALL_LOG_CHECKS: &[AuditCheck] = ALL_AFTER_ID.split_at(2).1;

/// One audit line from a group of rekor-client checks: the first that did
/// not pass, or a failure when none of them ran.
pub(super) fn from_rekor(report: &attest_rekor::Report, checks: &[Check]) -> Result<(), String> {
    match report
        .checks
        .iter()
        .find(|c: &&CheckResult| checks.contains(&c.check) && c.outcome != Outcome::Passed)
    {
        Some(c) => Err(format!("{}: {}", c.check, c.detail)),
        None if report.checks.iter().any(|c| checks.contains(&c.check)) => Ok(()),
        None => Err("not in the log's evidence".into()),
    }
}

/// The inclusion line's part from the rekor report: the checkpoint's
/// signature and binding, and the proof.
pub(super) fn proof_lines(report: &attest_rekor::Report) -> Result<(), String> {
    from_rekor(
        report,
        &[
            Check::CheckpointSignature,
            Check::CheckpointBinding,
            Check::Inclusion,
        ],
    )
}

/// The binding line; returns the signed claimed time.
pub(super) fn binding_check(
    r: &mut AuditReport,
    statement: &Statement,
    row: &AttestationRow,
) -> Option<i64> {
    let a = &row.attestation;
    let claimed = claimed_time(statement);
    let bound = statement.subject.iter().any(|s| {
        s.annotations.get(binding::TENANT).and_then(|v| v.as_str()) == Some(a.tenant.as_str())
            && s.annotations.get(binding::SUBJECT).and_then(|v| v.as_str())
                == Some(a.subject.as_str())
    });
    let result = if !bound {
        Err(format!(
            "the signed statement is not about tenant {:?} and subject {:?}",
            a.tenant, a.subject
        ))
    } else if statement.predicate_type != a.predicate_type {
        Err("the stored predicate type is not the signed one".into())
    } else if claimed != Some(a.claimed_time) {
        Err(format!(
            "the stored claimed time {} is not the signed one {claimed:?}",
            a.claimed_time
        ))
    } else {
        Ok(())
    };
    r.push(AuditCheck::Binding, result);
    claimed
}

/// The binding line of an offline bundle audit: the signed statement names
/// a tenant and subject (taken into the report); returns the claimed time.
pub(super) fn bundle_binding(r: &mut AuditReport, statement: &Statement) -> Option<i64> {
    let bound = statement.subject.iter().find_map(|s| {
        let get = |k| s.annotations.get(k).and_then(|v| v.as_str());
        Some((get(binding::TENANT)?, get(binding::SUBJECT)?))
    });
    match bound {
        Some((tenant, subject)) => {
            r.tenant = tenant.to_owned();
            r.subject = subject.to_owned();
            r.push(AuditCheck::Binding, Ok(()));
        }
        None => r.push(
            AuditCheck::Binding,
            Err("the signed statement names no attestlog tenant and subject".into()),
        ),
    }
    claimed_time(statement)
}

pub(super) fn claimed_time(s: &Statement) -> Option<i64> {
    s.subject.iter().find_map(|s| {
        s.annotations
            .get(binding::CLAIMED_TIME)
            .and_then(serde_json::Value::as_i64)
    })
}

/// The checkpoint, if a trusted log signed it (each text verified once per
/// auditor: rows published under one checkpoint share it).
pub(super) fn verified_checkpoint(
    memo: &CheckpointMemo,
    logs: &[TrustedLog],
    note: &str,
) -> Option<VerifiedCheckpoint> {
    logs.iter().find_map(|l| memo.verify(note, l).ok())
}

/// The key the store files checkpoints under: hex SHA-256 of the log id of
/// the trusted log that signed `cp` and the checkpoint origin, which names
/// the tree (a Rekor shard) — trees are only comparable within one origin.
pub(super) fn log_key(signer: &TrustedLog, cp: &VerifiedCheckpoint) -> String {
    use sha2::{Digest, Sha256};
    let id = signer.log_id_hex();
    attest_merkle::Hash(Sha256::digest(format!("{id}\n{}", cp.origin)).into()).to_string()
}

/// The trusted log whose key signed `cp`.
pub(super) fn signer_of<'a>(
    memo: &CheckpointMemo,
    logs: &'a [TrustedLog],
    cp: &VerifiedCheckpoint,
) -> Option<&'a TrustedLog> {
    logs.iter().find(|l| memo.verify(&cp.note, l).is_ok())
}

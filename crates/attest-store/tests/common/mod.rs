//! Shared by the store tests: sample data, the conformance suite, and
//! per-test databases.

#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod conformance;

use attest_store::{AttestationId, LogEntryRecord, NewAttestation};

/// An attestation whose id is derived from `n`.
pub fn attestation(n: u64, tenant: &str, subject: &str) -> NewAttestation {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&n.to_be_bytes());
    id[31] = 1;
    NewAttestation::new(
        AttestationId(id),
        tenant,
        subject,
        format!("https://example.com/predicate/{}", n % 3),
        format!(r#"{{"payload":"{n}","payloadType":"t","signatures":[]}}"#).into_bytes(),
        vec![format!("sha256:{n:064x}")],
        1_764_000_000 + i64::try_from(n).unwrap(),
    )
}

/// A log entry whose ids are derived from `n`.
pub fn entry(n: u64) -> LogEntryRecord {
    LogEntryRecord::new(
        format!("24296fb24b8ad77a{n:064x}"),
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d",
        155_690_850 + n,
        33_786_588 + n,
        1_764_000_010 + i64::try_from(n).unwrap(),
    )
    .with_evidence(
        vec![1, 2, 3, n as u8],
        b"rekor.sigstore.dev - 1193050959916656506\n33786589\nroot\n".to_vec(),
        vec![0x30, n as u8],
    )
}

/// A Rekor v2 entry whose leaf hash and index are derived from `n`.
pub fn entry_v2(n: u64) -> LogEntryRecord {
    LogEntryRecord::v2(
        format!("{n:064x}"),
        "7e1e25e6a8d3e4a14bd2e1a4f0b0d4aa1ef92ad6aa0a1b1c1d1e1f2021222324",
        n,
        1_764_000_020 + i64::try_from(n).unwrap(),
    )
    .with_evidence(
        vec![4, 5, 6, n as u8],
        b"log2025-1.rekor.sigstore.dev\n10\nroot\n".to_vec(),
        Vec::new(),
    )
    .with_timestamp(vec![0x30, 0x82, n as u8])
}

/// A fresh, empty PostgreSQL database for one test (see the testkit).
pub fn postgres_database(name: &str) -> Option<String> {
    attestlog_testkit::postgres_database(name)
}

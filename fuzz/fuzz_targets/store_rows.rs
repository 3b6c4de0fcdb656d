//! Store rows as the auditor reads them back. A database is not trusted:
//! whoever can write it can put anything in any column. Two honest rows
//! (published to an embedded Rekor v1 log) are the base; the input picks
//! one, picks a column, and replaces or splices that column's value with its
//! own bytes. The auditor then audits the row against the log. It never
//! panics, and it never passes a row whose signed content (payload type and
//! payload) or log entry differs from the honest row's: what a row claims
//! must come from the signature and the log, not from the database.
#![no_main]

use std::sync::{Arc, OnceLock};

use attestlog::client::RekorClient;
use attestlog::dsse::{Envelope, KeySet, SigningKey, Statement, Subject, TrustedKey};
use attestlog::store::{AttestationId, LogApiVersion, MemoryStore};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{AttestationRow, AttestationStore, Attestor, Auditor, LogTransport};
use libfuzzer_sys::fuzz_target;

#[path = "scratch.rs"]
mod scratch;

struct Fixture {
    auditor: Auditor,
    rows: Vec<AttestationRow>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = scratch::dir("attestlog-fuzz-store-rows-");
        let log = LocalLog::open(
            &dir,
            SigningKey::ed25519_from_seed(&[77; 32]),
            LogOptions::default(),
        )
        .unwrap();
        let client = || {
            RekorClient::new(
                "http://attestlog.local",
                LogTransport::Local(log.clone()),
                vec![log.trusted_log()],
            )
        };
        let key = SigningKey::ed25519_from_seed(&[3; 32]);
        let keys = KeySet::new(1, vec![TrustedKey::always(key.public_key().clone())]);
        let store = Arc::new(MemoryStore::new());
        let attestor = Attestor::builder(key, Box::new(store.clone()))
            .log(client())
            .build();
        for n in 0..2u8 {
            let st = Statement::new(
                Subject::sha256("app", &[n; 32]),
                "https://slsa.dev/provenance/v1",
                serde_json::json!({ "n": n }),
            );
            let done = attestor.attest("acme", &format!("app@{n}"), st).unwrap();
            assert!(done.entry.is_some(), "{:?}", done.publish_error);
        }
        let rows = store.list("acme", None, 10).unwrap().rows;
        assert_eq!(rows.len(), 2);
        let auditor = Auditor::builder(keys, Box::new(store))
            .log(client())
            .trust_current_tree(true)
            .build();
        for row in &rows {
            let r = auditor.audit_row(row).unwrap();
            assert!(r.passed(), "the honest row fails: {r:#?}");
        }
        Fixture { auditor, rows }
    })
}

/// Replaces `field` with `new`, or (when `splice`) overwrites it from
/// `at` on, as a byte-level edit of the stored value would.
fn edit(field: &mut Vec<u8>, new: &[u8], splice: Option<usize>) {
    match splice {
        None => *field = new.to_vec(),
        Some(at) if !field.is_empty() => {
            let at = at % field.len();
            let end = (at + new.len()).min(field.len());
            field[at..end].copy_from_slice(&new[..end - at]);
        }
        Some(_) => {}
    }
}

fn text(field: &mut String, new: &[u8], splice: Option<usize>) {
    let mut bytes = std::mem::take(field).into_bytes();
    edit(&mut bytes, new, splice);
    *field = String::from_utf8_lossy(&bytes).into_owned();
}

fn number(new: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    let n = new.len().min(8);
    b[..n].copy_from_slice(&new[..n]);
    i64::from_le_bytes(b)
}

fn signed(row: &AttestationRow) -> Option<(String, Vec<u8>)> {
    let env = Envelope::from_json(&row.attestation.envelope).ok()?;
    Some((
        env.payload_type().to_owned(),
        env.payload_unverified().to_vec(),
    ))
}

fn entry_of(row: &AttestationRow) -> Option<(String, String, u64)> {
    row.entry
        .as_ref()
        .map(|e| (e.entry_id.clone(), e.log_id.clone(), e.global_index))
}

fuzz_target!(|data: &[u8]| {
    let [which, column, mode, rest @ ..] = data else {
        return;
    };
    let f = fixture();
    let honest = &f.rows[usize::from(*which) % f.rows.len()];
    let mut row = honest.clone();
    let splice = (mode & 1 == 1).then(|| usize::from(mode >> 1));
    let a = &mut row.attestation;
    match column % 18 {
        0 => edit(&mut a.envelope, rest, splice),
        1 => text(&mut a.subject, rest, splice),
        2 => text(&mut a.tenant, rest, splice),
        3 => text(&mut a.predicate_type, rest, splice),
        4 => {
            a.signer_key_ids = String::from_utf8_lossy(rest)
                .split(',')
                .map(str::to_owned)
                .collect()
        }
        5 => a.claimed_time = number(rest),
        6 => {
            let mut id = a.id.0.to_vec();
            edit(&mut id, rest, splice.or(Some(0)));
            a.id = AttestationId(id.try_into().unwrap());
        }
        7 => row.entry = None,
        8 => {
            // Another honest row's entry under this row.
            let other = &f.rows[(usize::from(*which) + 1) % f.rows.len()];
            row.entry = other.entry.clone();
        }
        c => {
            let Some(e) = row.entry.as_mut() else { return };
            match c {
                9 => text(&mut e.entry_id, rest, splice),
                10 => text(&mut e.log_id, rest, splice),
                11 => e.global_index = number(rest) as u64,
                12 => e.shard_index = number(rest) as u64,
                13 => e.integrated_time = number(rest),
                14 => edit(&mut e.inclusion_proof, rest, splice),
                15 => edit(&mut e.checkpoint, rest, splice),
                16 => edit(&mut e.set, rest, splice),
                _ => {
                    e.api = LogApiVersion::V2;
                    edit(&mut e.timestamp, rest, splice);
                }
            }
        }
    }
    let Ok(report) = f.auditor.audit_row(&row) else {
        return;
    };
    if report.passed() {
        assert_eq!(
            signed(&row),
            signed(honest),
            "a row with other signed content passed: {row:?}"
        );
        assert_eq!(
            entry_of(&row),
            entry_of(honest),
            "a row with another log entry passed: {row:?}"
        );
    }
});

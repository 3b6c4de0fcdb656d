//! The conformance suite: every rule of `AttestationStore`, written once and
//! run against every backend by `conformance_tests!`.

use attest_store::{AttestationStore, CheckpointRecord, StoreError, StoreLimits};

use super::{attestation, entry, entry_v2};

/// Builds a fresh, empty store with the given limits.
pub type Factory<'a> = &'a dyn Fn(StoreLimits) -> Box<dyn AttestationStore>;

fn fresh(f: Factory<'_>) -> Box<dyn AttestationStore> {
    f(StoreLimits::default())
}

pub fn put_and_get_round_trip(f: Factory<'_>) {
    let s = fresh(f);
    let a = attestation(1, "acme", "app@sha256:01");
    let row = s.put(&a).unwrap();
    assert_eq!(row.attestation, a);
    assert!(row.entry.is_none());
    let got = s.get(&a.id).unwrap().unwrap();
    assert_eq!(got, row);
    assert_eq!(
        got.attestation.envelope, a.envelope,
        "envelope bytes exactly as given"
    );
    assert!(s.get(&attestation(2, "acme", "x").id).unwrap().is_none());
}

pub fn put_is_idempotent(f: Factory<'_>) {
    let s = fresh(f);
    let a = attestation(1, "acme", "app");
    let first = s.put(&a).unwrap();
    let again = s.put(&a).unwrap();
    assert_eq!(first, again);
    // Another signature over the same PAE: the same attestation, first envelope kept.
    let mut resigned = a.clone();
    resigned.envelope = b"{\"other\":\"bytes\"}".to_vec();
    assert_eq!(s.put(&resigned).unwrap(), first);
    assert_eq!(s.list("acme", None, 100).unwrap().rows.len(), 1);
    // The same id under another tenant or subject is a conflict.
    let mut other = a.clone();
    other.tenant = "globex".into();
    assert!(matches!(s.put(&other), Err(StoreError::Conflict { .. })));
    let mut other = a.clone();
    other.subject = "lib".into();
    assert!(matches!(s.put(&other), Err(StoreError::Conflict { .. })));
    assert_eq!(s.get(&a.id).unwrap().unwrap(), first);
}

pub fn put_many_is_all_or_nothing(f: Factory<'_>) {
    let s = fresh(f);
    let batch: Vec<_> = (0..5).map(|n| attestation(n, "acme", "app")).collect();
    let rows = s.put_many(&batch).unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    // A batch with a conflict in the middle stores nothing.
    let mut bad = attestation(3, "acme", "app");
    bad.tenant = "globex".into();
    let batch2 = vec![
        attestation(10, "acme", "app"),
        bad,
        attestation(11, "acme", "app"),
    ];
    assert!(matches!(
        s.put_many(&batch2),
        Err(StoreError::Conflict { .. })
    ));
    assert!(s.get(&attestation(10, "acme", "app").id).unwrap().is_none());
    // And an invalid item anywhere rejects the batch before anything is written.
    let mut empty = attestation(12, "acme", "app");
    empty.tenant.clear();
    assert!(matches!(
        s.put_many(&[attestation(13, "acme", "app"), empty]),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(s.get(&attestation(13, "acme", "app").id).unwrap().is_none());
    assert_eq!(s.list("acme", None, 100).unwrap().rows.len(), 5);
}

pub fn bad_input_is_rejected_and_changes_nothing(f: Factory<'_>) {
    let s = f(StoreLimits::default()
        .with_max_envelope_bytes(100)
        .with_max_evidence_bytes(50));
    let good = attestation(1, "acme", "app");
    let mut a = good.clone();
    a.tenant.clear();
    assert!(matches!(s.put(&a), Err(StoreError::InvalidInput(_))));
    let mut a = good.clone();
    a.subject.clear();
    assert!(matches!(s.put(&a), Err(StoreError::InvalidInput(_))));
    let mut a = good.clone();
    a.envelope = vec![b'x'; 101];
    assert!(matches!(
        s.put(&a),
        Err(StoreError::TooLarge {
            what: "envelope",
            size: 101,
            limit: 100
        })
    ));
    assert!(s.get(&good.id).unwrap().is_none());

    s.put(&good).unwrap();
    let bad_entries = [
        ("short entry id", {
            let mut e = entry(1);
            e.entry_id.pop();
            e
        }),
        ("64-hex entry id", {
            let mut e = entry(1);
            e.entry_id = e.entry_id[16..].to_string();
            e
        }),
        ("uppercase entry id", {
            let mut e = entry(1);
            e.entry_id = e.entry_id.to_uppercase();
            e
        }),
        ("zero tree id", {
            let mut e = entry(1);
            e.entry_id.replace_range(..16, "0000000000000000");
            e
        }),
        ("bad log id", {
            let mut e = entry(1);
            e.log_id = "xyz".into();
            e
        }),
        ("index over i64", {
            let mut e = entry(1);
            e.global_index = u64::MAX;
            e
        }),
        ("oversized proof", {
            let mut e = entry(1);
            e.inclusion_proof = vec![0; 51];
            e
        }),
    ];
    for (what, e) in bad_entries {
        let err = s.attach_entry(&good.id, &e).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::InvalidInput(_) | StoreError::TooLarge { .. }
            ),
            "{what}: {err}"
        );
        assert!(
            s.get(&good.id).unwrap().unwrap().entry.is_none(),
            "{what} changed the row"
        );
    }
    assert!(matches!(
        s.store_checkpoint(&CheckpointRecord::new("nothex", 1, b"x".to_vec())),
        Err(StoreError::InvalidInput(_))
    ));
}

pub fn attach_once_never_overwrite(f: Factory<'_>) {
    let s = fresh(f);
    let a = attestation(1, "acme", "app");
    let b = attestation(2, "acme", "app");
    s.put(&a).unwrap();
    s.put(&b).unwrap();
    let row = s.attach_entry(&a.id, &entry(1)).unwrap();
    assert_eq!(row.entry.as_ref(), Some(&entry(1)));
    assert_eq!(
        s.get(&a.id).unwrap().unwrap().entry.as_ref(),
        Some(&entry(1))
    );
    // The same entry again: no-op.
    assert_eq!(s.attach_entry(&a.id, &entry(1)).unwrap(), row);
    // A different entry: refused, the first one stays.
    assert!(matches!(
        s.attach_entry(&a.id, &entry(2)),
        Err(StoreError::EntryConflict { .. })
    ));
    assert_eq!(
        s.get(&a.id).unwrap().unwrap().entry.as_ref(),
        Some(&entry(1))
    );
    // The same entry on another row: refused.
    assert!(matches!(
        s.attach_entry(&b.id, &entry(1)),
        Err(StoreError::EntryAlreadyAttached { .. })
    ));
    assert!(s.get(&b.id).unwrap().unwrap().entry.is_none());
    // No such row.
    assert!(matches!(
        s.attach_entry(&attestation(9, "acme", "app").id, &entry(9)),
        Err(StoreError::NotFound { .. })
    ));
    // A re-put keeps the entry.
    assert_eq!(s.put(&a).unwrap().entry.as_ref(), Some(&entry(1)));
}

/// A Rekor v2 entry keeps its API version and timestamp; it is checked
/// as one (a leaf hash, one index, no SET), and a v1 and a v2 entry never
/// collide.
pub fn rekor_v2_entries(f: Factory<'_>) {
    use attest_store::LogApiVersion;
    let s = fresh(f);
    let a = attestation(1, "acme", "app");
    let b = attestation(2, "acme", "app");
    s.put(&a).unwrap();
    s.put(&b).unwrap();
    // Malformed v2 records change nothing.
    let mut bad = entry_v2(3);
    bad.entry_id = entry(3).entry_id; // a v1 entry id on a v2 record
    let mut two_indices = entry_v2(3);
    two_indices.shard_index += 1;
    let mut with_set = entry_v2(3);
    with_set.set = vec![1];
    for bad in [bad, two_indices, with_set] {
        assert!(
            matches!(
                s.attach_entry(&a.id, &bad),
                Err(StoreError::InvalidInput(_))
            ),
            "{bad:?}"
        );
    }
    assert!(s.get(&a.id).unwrap().unwrap().entry.is_none());
    let row = s.attach_entry(&a.id, &entry_v2(3)).unwrap();
    let got = s.get(&a.id).unwrap().unwrap().entry.unwrap();
    assert_eq!(Some(&got), row.entry.as_ref());
    assert_eq!(got, entry_v2(3));
    assert_eq!(got.api, LogApiVersion::V2);
    assert_eq!(got.timestamp, vec![0x30, 0x82, 3]);
    // Attached: no longer pending; again is a no-op; another v2 entry conflicts.
    assert!(
        s.pending(None, 10)
            .unwrap()
            .iter()
            .all(|r| r.attestation.id != a.id)
    );
    s.attach_entry(&a.id, &entry_v2(3)).unwrap();
    assert!(matches!(
        s.attach_entry(&a.id, &entry_v2(4)),
        Err(StoreError::EntryConflict { .. })
    ));
    // The same leaf on another row is refused; a v1 entry there is fine.
    assert!(matches!(
        s.attach_entry(&b.id, &entry_v2(3)),
        Err(StoreError::EntryAlreadyAttached { .. })
    ));
    let v1 = s.attach_entry(&b.id, &entry(3)).unwrap().entry.unwrap();
    assert_eq!(v1.api, LogApiVersion::V1);
    assert!(v1.timestamp.is_empty());
}

pub fn entry_tenants_across_tenants(f: Factory<'_>) {
    let s = fresh(f);
    let a = attestation(1, "acme", "app");
    let b = attestation(2, "globex", "app");
    let c = attestation(3, "acme", "pending");
    for x in [&a, &b, &c] {
        s.put(x).unwrap();
    }
    s.attach_entry(&a.id, &entry(1)).unwrap();
    s.attach_entry(&b.id, &entry_v2(2)).unwrap();
    let ids = vec![
        entry(1).entry_id,
        entry_v2(2).entry_id,
        entry(3).entry_id,
        String::new(),
        entry(1).entry_id,
    ];
    assert_eq!(
        s.entry_tenants(&ids).unwrap(),
        vec![
            Some("acme".to_owned()),
            Some("globex".to_owned()),
            None,
            None,
            Some("acme".to_owned()),
        ]
    );
    assert!(s.entry_tenants(&[]).unwrap().is_empty());
}

pub fn reading_by_subject(f: Factory<'_>) {
    let s = fresh(f);
    for n in 0..6 {
        s.put(&attestation(
            n,
            "acme",
            if n % 2 == 0 { "app" } else { "lib" },
        ))
        .unwrap();
    }
    s.put(&attestation(100, "globex", "app")).unwrap();
    let rows = s.by_subject("acme", "app").unwrap();
    let ns: Vec<u8> = rows.iter().map(|r| r.attestation.id.0[7]).collect();
    assert_eq!(ns, [0, 2, 4]);
    // Several predicate types for one subject.
    let types: std::collections::BTreeSet<_> = rows
        .iter()
        .map(|r| r.attestation.predicate_type.clone())
        .collect();
    assert_eq!(types.len(), 3);
    assert!(s.by_subject("acme", "nothing").unwrap().is_empty());
    assert_eq!(s.by_subject("globex", "app").unwrap().len(), 1);
}

pub fn keyset_pagination(f: Factory<'_>) {
    let s = fresh(f);
    for n in 0..25 {
        s.put(&attestation(n, "acme", "app")).unwrap();
        s.put(&attestation(1000 + n, "globex", "app")).unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.list("acme", after, 10).unwrap();
        pages += 1;
        assert!(page.rows.iter().all(|r| r.attestation.tenant == "acme"));
        seen.extend(page.rows.iter().map(|r| r.seq));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    // `count` agrees with the pages, per tenant.
    assert_eq!(s.count("acme").unwrap(), 25);
    assert_eq!(s.count("globex").unwrap(), 25);
    assert_eq!(s.count("initech").unwrap(), 0);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    // Rows added after a page was read show up on later pages, never twice.
    let first = s.list("acme", None, 10).unwrap();
    s.put(&attestation(500, "acme", "app")).unwrap();
    let mut after = first.next;
    let mut rest = 0;
    while let Some(a) = after {
        let p = s.list("acme", Some(a), 10).unwrap();
        rest += p.rows.len();
        after = p.next;
    }
    assert_eq!(rest, 16);
}

pub fn pending_rows(f: Factory<'_>) {
    let s = fresh(f);
    for n in 0..5 {
        s.put(&attestation(n, "acme", "app")).unwrap();
    }
    s.put(&attestation(50, "globex", "app")).unwrap();
    assert_eq!(s.pending(None, 100).unwrap().len(), 6);
    assert_eq!(s.pending(Some("acme"), 100).unwrap().len(), 5);
    assert_eq!(s.pending(Some("acme"), 2).unwrap().len(), 2);
    s.attach_entry(&attestation(1, "acme", "app").id, &entry(1))
        .unwrap();
    let pending: Vec<u8> = s
        .pending(Some("acme"), 100)
        .unwrap()
        .iter()
        .map(|r| r.attestation.id.0[7])
        .collect();
    assert_eq!(pending, [0, 2, 3, 4]);
}

pub fn checkpoints_only_move_forward(f: Factory<'_>) {
    let s = fresh(f);
    let log = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
    let other = "ab".repeat(32);
    let cp = |size: u64, text: &str| CheckpointRecord::new(log, size, text.as_bytes().to_vec());
    assert!(s.last_checkpoint(log).unwrap().is_none());
    s.store_checkpoint(&cp(10, "ten")).unwrap();
    assert_eq!(s.last_checkpoint(log).unwrap(), Some(cp(10, "ten")));
    assert!(matches!(
        s.store_checkpoint(&cp(9, "nine")),
        Err(StoreError::CheckpointRegression {
            stored: 10,
            offered: 9,
            ..
        })
    ));
    s.store_checkpoint(&cp(10, "ten, cosigned")).unwrap();
    assert_eq!(s.last_checkpoint(log).unwrap(), Some(cp(10, "ten")));
    s.store_checkpoint(&cp(20, "twenty")).unwrap();
    assert_eq!(s.last_checkpoint(log).unwrap(), Some(cp(20, "twenty")));
    assert!(s.last_checkpoint(&other).unwrap().is_none());
    s.store_checkpoint(&CheckpointRecord::new(other.clone(), 1, b"x".to_vec()))
        .unwrap();
    assert_eq!(s.last_checkpoint(log).unwrap().unwrap().tree_size, 20);
}

/// One `#[test]` per rule for a backend.
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ident, $factory:expr) => {
        mod $backend {
            use super::common::conformance as c;
            #[allow(unused_imports)]
            use super::*;

            fn run(check: fn(c::Factory<'_>)) {
                let factory = $factory;
                if let Some(factory) = factory {
                    check(&factory);
                }
            }

            #[test]
            fn put_and_get_round_trip() {
                run(c::put_and_get_round_trip)
            }
            #[test]
            fn put_is_idempotent() {
                run(c::put_is_idempotent)
            }
            #[test]
            fn put_many_is_all_or_nothing() {
                run(c::put_many_is_all_or_nothing)
            }
            #[test]
            fn bad_input_is_rejected_and_changes_nothing() {
                run(c::bad_input_is_rejected_and_changes_nothing)
            }
            #[test]
            fn attach_once_never_overwrite() {
                run(c::attach_once_never_overwrite)
            }
            #[test]
            fn rekor_v2_entries() {
                run(c::rekor_v2_entries)
            }
            #[test]
            fn entry_tenants_across_tenants() {
                run(c::entry_tenants_across_tenants)
            }
            #[test]
            fn reading_by_subject() {
                run(c::reading_by_subject)
            }
            #[test]
            fn keyset_pagination() {
                run(c::keyset_pagination)
            }
            #[test]
            fn pending_rows() {
                run(c::pending_rows)
            }
            #[test]
            fn checkpoints_only_move_forward() {
                run(c::checkpoints_only_move_forward)
            }
        }
    };
}

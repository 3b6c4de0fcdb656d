//! `attestlog store list / show` through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::process::Command;

use attest_store::{AttestationId, AttestationStore, LogEntryRecord, NewAttestation, SqliteStore};
use serde_json::Value;

fn attestlog(args: &[&str]) -> (Option<i32>, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(args)
        .env_remove("ATTESTLOG_DB")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A new signing key in `dir` and its key-set document (`keys.json`), made
/// by the binary.
fn key_set(dir: &attestlog_testkit::TempDir) -> std::path::PathBuf {
    let key = dir.file("key.pem");
    let bin = env!("CARGO_BIN_EXE_attestlog");
    let o = Command::new(bin)
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success());
    let doc = Command::new(bin)
        .args(["keys", "serve-doc", "--key"])
        .arg(&key)
        .output()
        .unwrap();
    let keys = dir.file("keys.json");
    std::fs::write(&keys, &doc.stdout).unwrap();
    keys
}

#[test]
fn list_and_show() {
    let tmp = attestlog_testkit::TempDir::created("store-cli");
    let dir = tmp.path().to_path_buf();
    let db = dir.join("store.db");
    let db_s = db.to_str().unwrap();
    let store = SqliteStore::open(&db).unwrap();
    for n in 0..5u8 {
        store
            .put(&NewAttestation::new(
                AttestationId([n; 32]),
                "acme",
                format!("app-{n}"),
                "https://slsa.dev/provenance/v1",
                br#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}"#.to_vec(),
                vec!["sha256:ab".into()],
                1_764_000_000,
            ))
            .unwrap();
    }
    store
        .attach_entry(
            &AttestationId([1; 32]),
            &LogEntryRecord::new(
                format!("24296fb24b8ad77a{}", "12".repeat(32)),
                "c0".repeat(32),
                9,
                3,
                1_764_000_005,
            ),
        )
        .unwrap();
    drop(store);

    let (code, v, _) = attestlog(&[
        "store", "list", "--db", db_s, "--tenant", "acme", "--limit", "3",
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(v["rows"].as_array().unwrap().len(), 3);
    let next = v["next"].as_u64().unwrap().to_string();
    let (_, v, _) = attestlog(&[
        "store", "list", "--db", db_s, "--tenant", "acme", "--after", &next,
    ]);
    assert_eq!(v["rows"].as_array().unwrap().len(), 2);
    assert!(v["next"].is_null());

    let (_, v, _) = attestlog(&[
        "store",
        "list",
        "--db",
        db_s,
        "--tenant",
        "acme",
        "--pending",
    ]);
    assert_eq!(v["rows"].as_array().unwrap().len(), 4);

    let id = "01".repeat(32);
    let (code, v, _) = attestlog(&["store", "show", "--db", db_s, &id]);
    assert_eq!(code, Some(0));
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["entry"]["global_index"], 9);
    assert_eq!(v["envelope"]["payloadType"], "application/vnd.in-toto+json");

    // ATTESTLOG_DB works in place of --db.
    let out = Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(["store", "show", &id])
        .env("ATTESTLOG_DB", db_s)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    // Bad input: exit 2 with a message; a missing row: exit 1.
    let (code, _, err) = attestlog(&["store", "show", "--db", db_s, "xyz"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = attestlog(&["store", "show", "--db", db_s, &"ff".repeat(32)]);
    assert_eq!(code, Some(1), "{err}");
    let (code, _, err) = attestlog(&[
        "store",
        "list",
        "--db",
        "/nonexistent/x.db",
        "--tenant",
        "a",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no such database"), "{err}");
}

/// Read-only commands open the database read-only (issue 15, item 8): a
/// database at an older schema is refused by `store list`, `store show`,
/// `audit` and `bundle export` — a writable open would have migrated it —
/// and stays at its version until a writing command upgrades it.
#[test]
fn read_only_commands_never_migrate_or_write() {
    let dir = attestlog_testkit::TempDir::created("store-cli-ro");
    let db = dir.file("old.db");
    attest_store::SqliteStore::create_at_schema_version(&db, 1).unwrap();
    let db_s = db.to_str().unwrap();
    let id = "00".repeat(32);
    let keys = key_set(&dir);
    for args in [
        vec!["store", "list", "--db", db_s, "--tenant", "acme"],
        vec!["store", "show", "--db", db_s, &id],
        vec!["bundle", "export", "--db", db_s, &id],
        vec![
            "audit",
            "--db",
            db_s,
            "--tenant",
            "acme",
            "--all",
            "--key",
            keys.to_str().unwrap(),
        ],
    ] {
        let (code, _, stderr) = attestlog(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("opened read-only"), "{args:?}: {stderr}");
    }
    let version = || -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(), 1);
    // A writing command upgrades it; then the reader opens it.
    attest_store::SqliteStore::open(&db).unwrap();
    assert!(version() > 1);
    let (code, v, stderr) = attestlog(&["store", "list", "--db", db_s, "--tenant", "acme"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(v["rows"], serde_json::json!([]));
}

/// Issue 30, item 11 for `audit --all`: a row the store cannot decode fails
/// its own report (`attestation-id`: the store's reason) and the tenant's
/// other rows are audited — the audit is not aborted by it.
#[test]
fn audit_all_reports_a_corrupt_row_and_audits_the_others() {
    let tmp = attestlog_testkit::TempDir::created("store-cli-corrupt");
    let db = tmp.file("store.db");
    let store = SqliteStore::open(&db).unwrap();
    for n in 0..3u8 {
        store
            .put(&NewAttestation::new(
                AttestationId([n; 32]),
                "acme",
                "app@sha256:00",
                "https://example.com/p",
                b"{}".to_vec(),
                vec![],
                1,
            ))
            .unwrap();
    }
    drop(store);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE attestations SET signer_key_ids = 'x' WHERE id = ?1",
            [&[1u8; 32][..]],
        )
        .unwrap();
    let keys = key_set(&tmp);
    let bin = env!("CARGO_BIN_EXE_attestlog");
    let out = Command::new(bin)
        .args(["audit", "--tenant", "acme", "--all", "--key"])
        .arg(&keys)
        .arg("--db")
        .arg(&db)
        .env_remove("REKOR_URL")
        .env_remove("ATTESTLOG_DB")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("3 audited, 0 passed, 3 failed"), "{text}");
    assert!(
        text.contains(&format!(
            "FAIL attestation-id: the store's corrupt row {}: signer key ids",
            "01".repeat(32)
        )),
        "{text}"
    );
}

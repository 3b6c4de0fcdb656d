//! `attestlog attest / audit / bundle export / keys serve-doc` through the
//! real binary, against `attestlog log serve` over loopback and against the
//! embedded log in process (`REKOR_URL=local:DIR`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::process::{Command, Output};

use common::{bin, serve};

use serde_json::Value;

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// `keys serve-doc --key KEY` written to `out` (the key-set document an
/// auditor trusts), which must succeed.
fn key_set_doc(key: &std::path::Path, out: &std::path::Path) {
    let o = bin()
        .args(["keys", "serve-doc", "--key"])
        .arg(key)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(out, &o.stdout).unwrap();
}

fn commit(n: u32) -> String {
    format!("app@sha256:{n:064x}")
}

/// A scratch directory with a signer's key and a predicate file.
struct Signer {
    _tmp: attestlog_testkit::TempDir,
    dir: std::path::PathBuf,
    key: std::path::PathBuf,
    predicate: std::path::PathBuf,
}

fn signer(name: &str) -> Signer {
    let tmp = attestlog_testkit::TempDir::created(name);
    let dir = tmp.path().to_path_buf();
    let key = dir.join("key.pem");
    common::keygen(&key);
    let predicate = dir.join("predicate.json");
    std::fs::write(&predicate, br#"{"ok":true}"#).unwrap();
    Signer {
        _tmp: tmp,
        dir,
        key,
        predicate,
    }
}

impl Signer {
    /// `attest --tenant TENANT --subject SUBJECT` with this key, the
    /// environment set by `env`.
    fn attest(&self, tenant: &str, subject: &str, env: impl FnOnce(&mut Command)) -> Output {
        let mut c = bin();
        env(&mut c);
        c.args(["attest", "--tenant", tenant, "--subject", subject])
            .args(["--predicate-type", "https://example.com/p", "--predicate"])
            .arg(&self.predicate)
            .arg("--key")
            .arg(&self.key)
            .output()
            .unwrap()
    }
}

#[test]
fn attest_audit_export_and_tamper_through_the_binary() {
    let tmp = attestlog_testkit::TempDir::created("pipeline-cli");
    let dir = tmp.path().to_path_buf();
    let key = dir.join("key.pem");
    common::keygen(&key);
    let keys = dir.join("attestation-keys.json");
    key_set_doc(&key, &keys);
    let predicate = dir.join("predicate.json");
    std::fs::write(
        &predicate,
        br#"{"buildDefinition":{"buildType":"https://example.com/ci"}}"#,
    )
    .unwrap();
    let db = dir.join("store.db");
    let served = serve(&dir.join("log"));
    let (url, log_pub) = (served.url.clone(), served.public_key.clone());

    let baseline = dir.join("audit-baseline.json");
    let with_log = |c: &mut Command| {
        c.arg("--db")
            .arg(&db)
            .args([
                "--rekor-url",
                &url,
                "--log-name",
                "attestlog.local",
                "--log-key",
            ])
            .arg(&log_pub);
    };
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut c = bin();
        c.args([
            "attest",
            "--tenant",
            "acme",
            "--subject",
            &commit(n),
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
        ])
        .arg(&predicate)
        .arg("--key")
        .arg(&key);
        with_log(&mut c);
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = &json_lines(&o)[0];
        assert_eq!(v["pending"], false);
        assert!(v["entryId"].as_str().unwrap().len() == 80);
        ids.push(v["attestationId"].as_str().unwrap().to_owned());
    }

    // The key set fetched from a URL (one HTTP/1.1 answer from a thread).
    let doc_body = std::fs::read(&keys).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let keys_url = format!(
        "http://{}/.well-known/attestlog/attestation-keys.json",
        listener.local_addr().unwrap()
    );
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).unwrap();
        write!(s, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", doc_body.len()).unwrap();
        s.write_all(&doc_body).unwrap();
    });
    // The first audit has no baseline: it fails, saying how to start one.
    let mut c = bin();
    c.args([
        "audit",
        "--tenant",
        "acme",
        "--subject",
        &commit(0),
        "--key",
    ])
    .arg(&keys)
    .arg("--baseline")
    .arg(&baseline);
    with_log(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("FAIL consistency: no baseline: run with `--trust-current-tree`"),
        "{text}"
    );
    assert!(!baseline.exists());
    // Told to trust the current tree once, it starts the baseline and says so.
    let mut c = bin();
    c.args([
        "audit",
        "--tenant",
        "acme",
        "--subject",
        &commit(0),
        "--trust-current-tree",
        "--key",
        &keys_url,
    ])
    .arg("--baseline")
    .arg(&baseline);
    with_log(&mut c);
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("started one at tree size 3"));
    assert!(baseline.exists());
    server.join().unwrap();

    // Audit one (readable), one as JSON, then all.
    let mut c = bin();
    c.args([
        "audit",
        "--tenant",
        "acme",
        "--subject",
        &commit(1),
        "--key",
    ])
    .arg(&keys)
    .arg("--baseline")
    .arg(&baseline);
    with_log(&mut c);
    let o = c.output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("PASS acme / app@sha256:") && text.contains("ok   not-backdated"),
        "{text}"
    );
    let mut c = bin();
    c.args(["audit", "--tenant", "acme", "--all", "--json", "--key"])
        .arg(&keys)
        .env("ATTESTLOG_BASELINE", &baseline);
    with_log(&mut c);
    let o = c.output().unwrap();
    assert!(o.status.success());
    let lines = json_lines(&o);
    assert_eq!(lines.last().unwrap()["passed"], 3);
    assert!(
        lines[..3]
            .iter()
            .all(|r| r["checks"].as_array().unwrap().len() == 11)
    );

    // Export a bundle; our own `bundle verify` accepts it.
    let o = bin()
        .args(["bundle", "export", "--db"])
        .arg(&db)
        .arg(&ids[0])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = dir.join("bundle.json");
    std::fs::write(&bundle, &o.stdout).unwrap();
    let pubkey = dir.join("signer.pub.pem");
    std::fs::write(
        &pubkey,
        attest_dsse::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&key).unwrap())
            .unwrap()
            .public_key()
            .to_pem(),
    )
    .unwrap();
    // The artifact is the attested subject's digest.
    let subject_digest = format!("sha256:{:064x}", 0);
    let o = bin()
        .args(["bundle", "verify", "--log-key"])
        .arg(&log_pub)
        .arg("--key")
        .arg(&pubkey)
        .args(["--artifact", &subject_digest])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(json_lines(&o)[0]["verified"], true);
    // The one verify command in its conformance shape (issue 30, item 3):
    // the log key from the environment as every command reads it, the
    // key-set document as the signer, two bundles in one run.
    let keyset = dir.join("attestation-keys.json");
    key_set_doc(&key, &keyset);
    let o = bin()
        .env("REKOR_PUBLIC_KEY", &log_pub)
        .args(["verify-bundle", "--key"])
        .arg(&keyset)
        .arg("--bundle")
        .arg(&bundle)
        .arg("--bundle")
        .arg(&bundle)
        .arg(&subject_digest)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_lines(&o).len(), 2);
    assert!(json_lines(&o).iter().all(|v| v["verified"] == true));
    // Without the log's key from anywhere, the embedded log is not trusted.
    let o = bin()
        .args(["verify-bundle", "--key"])
        .arg(&keyset)
        .arg("--bundle")
        .arg(&bundle)
        .arg(&subject_digest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json_lines(&o)[0]["failed"], "log-key");
    // Another artifact, or no signer named: not verified.
    let o = bin()
        .args(["bundle", "verify", "--log-key"])
        .arg(&log_pub)
        .arg("--key")
        .arg(&pubkey)
        .args(["--artifact", &format!("sha256:{:064x}", 1)])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json_lines(&o)[0]["failed"], "artifact");
    let o = bin()
        .args(["bundle", "verify", "--log-key"])
        .arg(&log_pub)
        .args(["--artifact", &subject_digest])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a signer is required");

    // Tamper with a stored row: the audit fails, naming the check.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE attestations SET envelope = CAST(replace(CAST(envelope AS TEXT), '\"payload\":\"ey', '\"payload\":\"ez') AS BLOB) WHERE subject = ?1",
        [commit(2)],
    )
    .unwrap();
    let mut c = bin();
    c.args([
        "audit",
        "--tenant",
        "acme",
        "--subject",
        &commit(2),
        "--key",
    ])
    .arg(&keys)
    .arg("--baseline")
    .arg(&baseline);
    with_log(&mut c);
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL envelope-signature"));

    // The log down: the row is stored and pending (exit 1), nothing lost.
    drop(served);
    let o = bin()
        .args([
            "attest",
            "--tenant",
            "acme",
            "--subject",
            &commit(9),
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
        ])
        .arg(&predicate)
        .arg("--key")
        .arg(&key)
        .arg("--db")
        .arg(&db)
        .args([
            "--rekor-url",
            &url,
            "--log-name",
            "attestlog.local",
            "--log-key",
        ])
        .arg(&log_pub)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = &json_lines(&o)[0];
    assert_eq!(
        (v["pending"].as_bool(), v["retryable"].as_bool()),
        (Some(true), Some(true))
    );
    let listed = bin()
        .args(["store", "list", "--tenant", "acme", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(v["attestationId"].as_str().unwrap()));

    // The environment instead of flags, and the embedded log in process.
    let local = dir.join("local-log");
    let o = bin()
        .args([
            "attest",
            "--tenant",
            "t",
            "--subject",
            &commit(1),
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
        ])
        .arg(&predicate)
        .env("ATTESTLOG_KEY", &key)
        .env("ATTESTLOG_DB", dir.join("env.db"))
        .env("REKOR_URL", format!("local:{}", local.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args([
            "audit",
            "--tenant",
            "t",
            "--subject",
            &commit(1),
            "--trust-current-tree",
        ])
        .env("ATTESTLOG_BASELINE", dir.join("env-baseline.json"))
        .env("ATTESTLOG_KEYS", &keys)
        .env("ATTESTLOG_DB", dir.join("env.db"))
        .env("REKOR_URL", format!("local:{}", local.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

/// Issue 15, item 3: a row stored while the log was down is published
/// later by `publish-pending`, which `attest`'s failure message names;
/// nothing is stored twice.
#[test]
fn a_pending_row_is_published_by_publish_pending() {
    let tmp = attestlog_testkit::TempDir::created("publish-pending-cli");
    let dir = tmp.path().to_path_buf();
    let key = dir.join("key.pem");
    common::keygen(&key);
    let predicate = dir.join("predicate.json");
    std::fs::write(&predicate, br#"{"b":1}"#).unwrap();
    let db = dir.join("store.db");
    // A port nobody listens on: the listener is closed before `attest` runs.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let log_key = attestlog_testkit::vector_path(
        "sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub",
    );
    let o = bin()
        .args(["attest", "--tenant", "acme", "--subject", &commit(7)])
        .args([
            "--predicate-type",
            "https://slsa.dev/provenance/v1",
            "--predicate",
        ])
        .arg(&predicate)
        .arg("--key")
        .arg(&key)
        .arg("--db")
        .arg(&db)
        .args(["--rekor-url", &down, "--log-key"])
        .arg(&log_key)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = &json_lines(&o)[0];
    assert_eq!(v["pending"], true);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("attestlog publish-pending --tenant acme"),
        "{stderr}"
    );

    // Audited while pending: it fails, and the log's checks say they were
    // not checked and why — never "skip" (issue 30, item 8).
    let keys = dir.join("keys.json");
    key_set_doc(&key, &keys);
    let o = bin()
        .args(["audit", "--tenant", "acme", "--all", "--key"])
        .arg(&keys)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("    --   inclusion: not checked: not published"),
        "{out}"
    );
    assert!(!out.contains("skip"), "{out}");
    // `--key` takes one PEM public key too (issue 30, item 4): the
    // signature verifies with it; a file that is neither is exit 2, named.
    let public = dir.join("signer.pub.pem");
    std::fs::write(
        &public,
        attest_dsse::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&key).unwrap())
            .unwrap()
            .public_key()
            .to_pem(),
    )
    .unwrap();
    let audit_with = |k: &std::path::Path| {
        bin()
            .args(["audit", "--tenant", "acme", "--all", "--key"])
            .arg(k)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap()
    };
    let o = audit_with(&public);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("    ok   envelope-signature"), "{out}");
    let o = audit_with(&predicate);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("neither a key-set document (JSON) nor a PEM key")
            || err.contains("not a key-set document"),
        "{err}"
    );

    let local = format!("local:{}", dir.join("log").display());
    let publish = || {
        bin()
            .args(["publish-pending", "--tenant", "acme", "--key"])
            .arg(&key)
            .arg("--db")
            .arg(&db)
            .args(["--rekor-url", &local])
            .output()
            .unwrap()
    };
    let o = publish();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json_lines(&o)[0]["published"], 1);
    // Nothing is left, and nothing is published twice.
    let o = publish();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(json_lines(&o)[0]["published"], 0);
    let rows = |pending: bool| {
        let mut c = bin();
        c.args(["store", "list", "--tenant", "acme", "--db"])
            .arg(&db);
        if pending {
            c.arg("--pending");
        }
        let o = c.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        json_lines(&o)[0]["rows"].as_array().unwrap().len()
    };
    assert_eq!((rows(false), rows(true)), (1, 0));
    // Without a log it is an input error, not a silent no-op.
    let o = bin()
        .args(["publish-pending", "--key"])
        .arg(&key)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 15, item 8: commands that only read (or re-publish) never create a
/// database: a mistyped `--db` is an error naming it, and no file appears.
#[test]
fn a_missing_database_is_refused_not_created() {
    let tmp = attestlog_testkit::TempDir::created("missing-db-cli");
    let typo = tmp.path().join("typo.db");
    let keys = tmp.path().join("keys.json");
    std::fs::write(&keys, br#"{"version":1,"keys":[]}"#).unwrap();
    let key = tmp.path().join("key.pem");
    common::keygen(&key);
    let local = format!("local:{}", tmp.path().join("log").display());
    let typo_s = typo.display().to_string();
    let keys_s = keys.display().to_string();
    let key_s = key.display().to_string();
    for args in [
        vec![
            "audit", "--tenant", "acme", "--all", "--key", &keys_s, "--db", &typo_s,
        ],
        vec!["bundle", "export", "--db", &typo_s, &"ab".repeat(32)],
        vec![
            "publish-pending",
            "--key",
            &key_s,
            "--rekor-url",
            &local,
            "--db",
            &typo_s,
        ],
        vec!["store", "list", "--tenant", "acme", "--db", &typo_s],
    ] {
        let o = bin().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no such database file"),
            "{args:?}: {stderr}"
        );
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}

/// The log-name trap (issue 15, item 2): without `REKOR_LOG_NAME`, `attest`
/// against `attestlog log serve` (which signs as `attestlog.local`) finds
/// the checkpoint signature by the log key's id and succeeds; the `rekor`,
/// `bundle verify` and `checkpoint verify` commands read the same
/// environment; a wrong pinned name fails naming the origin.
#[test]
fn the_log_name_is_not_needed_and_a_wrong_pin_names_the_origin() {
    let s = signer("log-name-cli");
    let (dir, key) = (s.dir.clone(), s.key.clone());
    let served = serve(&dir.join("log"));
    let db = dir.join("store.db");
    let env = |c: &mut Command| {
        c.env("REKOR_URL", &served.url)
            .env("REKOR_PUBLIC_KEY", &served.public_key)
            .env("ATTESTLOG_DB", &db);
    };
    let attest = |n: u32, name: Option<&str>| {
        s.attest("acme", &commit(n), |c| {
            env(c);
            if let Some(n) = name {
                c.env("REKOR_LOG_NAME", n);
            }
        })
    };
    let o = attest(0, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let id = json_lines(&o)[0]["attestationId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(attest(1, Some("attestlog.local")).status.success());
    let o = attest(2, Some("rekor.example"));
    assert_eq!(o.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains("origin is"), "{all}");
    assert!(all.contains("rekor.example"), "{all}");
    assert!(all.contains("attestlog.local - "), "{all}");

    // `rekor info` reads REKOR_URL / REKOR_PUBLIC_KEY / REKOR_LOG_NAME too.
    let mut c = bin();
    env(&mut c);
    let o = c.args(["rekor", "info"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cp = json_lines(&o)[0]["signedTreeHead"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut c = bin();
    env(&mut c);
    let o = c
        .env("REKOR_LOG_NAME", "rekor.example")
        .args(["rekor", "info"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // `checkpoint verify --log-key` with and without a pinned name.
    let note = dir.join("checkpoint.txt");
    std::fs::write(&note, &cp).unwrap();
    let mut c = bin();
    env(&mut c);
    let o = c
        .args(["checkpoint", "verify"])
        .arg(&note)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let o = bin()
        .args([
            "checkpoint",
            "verify",
            "--log-name",
            "rekor.example",
            "--log-key",
        ])
        .arg(&served.public_key)
        .arg(&note)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json_lines(&o)[0]["error"], "unexpected-origin");

    // `bundle export` then `bundle verify` with the environment's log key.
    let mut c = bin();
    env(&mut c);
    let o = c.args(["bundle", "export", &id]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = dir.join("b.sigstore.json");
    std::fs::write(&bundle, &o.stdout).unwrap();
    let mut c = bin();
    env(&mut c);
    let o = c
        .args([
            "bundle",
            "verify",
            "--artifact",
            &commit(0)["app@".len()..],
            "--key",
        ])
        .arg(&key)
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `attestlog log trusted-root DIR` (issue 15): a Sigstore trusted root for
/// the embedded log, with which `verify-bundle` and `bundle verify` accept a
/// bundle the log's attestation was exported as; another log's root does
/// not verify it.
#[test]
fn the_embedded_log_exports_a_trusted_root_that_verifies_its_bundles() {
    let s = signer("trusted-root-cli");
    let (dir, key) = (s.dir.clone(), s.key.clone());
    let served = serve(&dir.join("log"));
    let db = dir.join("store.db");
    let digest = format!("{:064x}", 7);
    let o = s.attest("acme", &format!("app@sha256:{digest}"), |c| {
        c.env("REKOR_URL", &served.url)
            .env("REKOR_PUBLIC_KEY", &served.public_key)
            .env("ATTESTLOG_DB", &db);
    });
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let id = json_lines(&o)[0]["attestationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = bin()
        .args(["bundle", "export", "--db"])
        .arg(&db)
        .arg(&id)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = dir.join("b.sigstore.json");
    std::fs::write(&bundle, &o.stdout).unwrap();

    // Exported while the server holds the log open.
    let o = bin()
        .args(["log", "trusted-root", "--rekor-url", &served.url])
        .arg(dir.join("log"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let root: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(root["tlogs"][0]["baseUrl"], served.url.as_str());
    assert!(root["tlogs"][0]["publicKey"]["validFor"]["start"].is_string());
    let root_path = dir.join("trusted_root.json");
    std::fs::write(&root_path, &o.stdout).unwrap();
    let verify = |root: &std::path::Path| {
        bin()
            .args(["verify-bundle", "--bundle"])
            .arg(&bundle)
            .arg("--key")
            .arg(&key)
            .arg("--trusted-root")
            .arg(root)
            .arg(format!("sha256:{digest}"))
            .output()
            .unwrap()
    };
    let o = verify(&root_path);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = bin()
        .args(["bundle", "verify", "--trusted-root"])
        .arg(&root_path)
        .args(["--artifact", &format!("sha256:{digest}"), "--key"])
        .arg(&key)
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    // Another log's trusted root: the bundle is not its.
    let other = serve(&dir.join("other-log"));
    let o = bin()
        .args(["log", "trusted-root", "--rekor-url", &other.url])
        .arg(dir.join("other-log"))
        .output()
        .unwrap();
    let other_root = dir.join("other_root.json");
    std::fs::write(&other_root, &o.stdout).unwrap();
    assert_eq!(verify(&other_root).status.code(), Some(1));
    // Not a log directory.
    let o = bin()
        .args(["log", "trusted-root"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// `audit --all` on a terminal (issue 15, item 6): a progress bar with the
/// count out of the tenant's total, the rate, elapsed time and an ETA,
/// drawn on a pseudo-terminal (`script`), while the reports stream.
#[test]
fn audit_all_on_a_terminal_shows_count_of_total_and_an_eta() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI has no `script` (util-linux)"
        );
        eprintln!("SKIPPED: no `script` to make a pseudo-terminal");
        return;
    }
    let s = signer("audit-tty");
    let (dir, key) = (s.dir.clone(), s.key.clone());
    let keys = dir.join("keys.json");
    key_set_doc(&key, &keys);
    let db = dir.join("store.db");
    let log = format!("local:{}", dir.join("log").display());
    for n in 0..3 {
        let o = s.attest("acme", &commit(n), |c| {
            c.env("REKOR_URL", &log).env("ATTESTLOG_DB", &db);
        });
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let audit = format!(
        "{} audit --tenant acme --all --trust-current-tree --key {} --baseline {}",
        env!("CARGO_BIN_EXE_attestlog"),
        keys.display(),
        dir.join("baseline.json").display()
    );
    let o = bin_script(&audit, &db, &log);
    let screen = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{screen}");
    assert!(screen.contains("/3 audited"), "{screen}");
    assert!(screen.contains("ETA"), "{screen}");
}

/// Runs `cmd` under `script` (a pseudo-terminal for stdin, stdout, stderr).
fn bin_script(cmd: &str, db: &std::path::Path, log: &str) -> Output {
    let mut c = Command::new("script");
    for v in [
        "REKOR_PUBLIC_KEY",
        "REKOR_LOG_NAME",
        "REKOR_TRUSTED_ROOT",
        "ATTESTLOG_KEYS",
    ] {
        c.env_remove(v);
    }
    c.env("REKOR_URL", log)
        .env("ATTESTLOG_DB", db)
        .args(["-qec", cmd, "/dev/null"])
        .output()
        .unwrap()
}

/// Issue 30, item 2: a key-set document made *after* attesting does not
/// fail the honest history (a first document's keys are valid from the
/// epoch unless `--valid-from` says otherwise), and a window that does
/// exclude an attestation fails its audit line with a hint.
#[test]
fn a_key_set_made_after_attesting_keeps_honest_history_valid() {
    let s = signer("keyset-after");
    let db = s.dir.join("store.db");
    let log = format!("local:{}", s.dir.join("log").display());
    let with = |c: &mut Command| {
        c.env("ATTESTLOG_DB", &db).env("REKOR_URL", &log);
    };
    let o = s.attest("acme", &commit(1), with);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let audit = |doc: &[u8]| {
        let keys = s.dir.join("attestation-keys.json");
        std::fs::write(&keys, doc).unwrap();
        let mut c = bin();
        c.args(["audit", "--tenant", "acme", "--all", "--json", "--key"])
            .arg(&keys)
            .arg("--baseline")
            .arg(s.dir.join("baseline.json"))
            .arg("--trust-current-tree");
        with(&mut c);
        c.output().unwrap()
    };
    let serve_doc = |extra: &[&str]| {
        let o = bin()
            .args(["keys", "serve-doc", "--key"])
            .arg(&s.key)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    // Made now, after the attestation: the default window (a first
    // document's keys from the epoch) still covers it.
    let first = serve_doc(&[]);
    let doc: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(
        doc["keys"][0]["valid_from"], "1970-01-01T00:00:00Z",
        "{doc}"
    );
    let o = audit(&first);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // A window that starts after it: FAIL, with the hint.
    let o = audit(&serve_doc(&["--valid-from", "2099-01-01T00:00:00Z"]));
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("keys serve-doc --valid-from"), "{out}");
    // Issue 30, item 5: a mistyped local:DIR in a reading command is an
    // error, never a new empty log (and key).
    let typo = s.dir.join("lgo");
    let keys = s.dir.join("attestation-keys.json");
    let o = bin()
        .args(["audit", "--tenant", "acme", "--all", "--key"])
        .arg(&keys)
        .env("ATTESTLOG_DB", &db)
        .env("REKOR_URL", format!("local:{}", typo.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no embedded log there"), "{err}");
    assert!(!typo.exists());
    // A window that ends before it starts is refused.
    let o = bin()
        .args(["keys", "serve-doc", "--key"])
        .arg(&s.key)
        .args([
            "--valid-from",
            "2030-01-01T00:00:00Z",
            "--valid-until",
            "2029-01-01T00:00:00Z",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 30, item 8: `attest` refuses a predicate that is not a JSON object
/// and a predicate type that is not a URI, before anything is stored.
#[test]
fn attest_refuses_an_array_predicate_and_a_non_uri_type() {
    let s = signer("attest-types");
    let db = s.dir.join("store.db");
    let run = |ptype: &str, predicate: &[u8]| {
        std::fs::write(&s.predicate, predicate).unwrap();
        bin()
            .args(["attest", "--tenant", "acme", "--subject", &commit(1)])
            .args(["--predicate-type", ptype, "--predicate"])
            .arg(&s.predicate)
            .arg("--key")
            .arg(&s.key)
            .env("ATTESTLOG_DB", &db)
            .output()
            .unwrap()
    };
    let o = run("https://example.com/p", b"[1,2]");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must be a JSON object"));
    let o = run("my predicate", br#"{"ok":true}"#);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a URI"));
    assert!(!db.exists(), "nothing is stored");
    // A predicate bigger than any storable envelope: refused after its
    // first 3 MiB, the rest never read (the writer sees the pipe close
    // long before 100 MB).
    let mut child = bin()
        .args(["attest", "--tenant", "acme", "--subject", &commit(1)])
        .args([
            "--predicate-type",
            "https://example.com/p",
            "--predicate",
            "-",
        ])
        .arg("--key")
        .arg(&s.key)
        .env("ATTESTLOG_DB", &db)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let chunk = vec![b' '; 1 << 20];
    let written = (0..100)
        .take_while(|_| std::io::Write::write_all(&mut stdin, &chunk).is_ok())
        .count();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("refused before reading the rest"), "{err}");
    assert!(written < 100, "the whole 100 MB was read");
    assert!(!db.exists(), "nothing is stored");
    let o = run("https://example.com/p", br#"{"ok":true}"#);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs `c` as a user who owns nothing here (`nobody`, through `setpriv`)
/// when the tests run as root — root may write any file — and as is
/// otherwise, where `chmod` alone takes write access away.
fn as_non_owner(c: &Command) -> Command {
    if !is_root() {
        return wrapped(c, "env", &[]);
    }
    wrapped(
        c,
        "setpriv",
        &["--reuid=65534", "--regid=65534", "--clear-groups"],
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `c` run through `program args… c.program c.args…`, with `c`'s environment.
fn wrapped(c: &Command, program: &str, args: &[&str]) -> Command {
    let mut w = Command::new(program);
    w.args(args).arg(c.get_program()).args(c.get_args());
    copy_env(c, &mut w);
    w
}

fn copy_env(from: &Command, to: &mut Command) {
    for (k, v) in from.get_envs() {
        match v {
            Some(v) => to.env(k, v),
            None => to.env_remove(k),
        };
    }
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Issue 30, item 1: an auditor audits a copy of the database it may not
/// write — a bare `.db` (no `-wal`, no `-shm`) in a directory it may not
/// write, and (as root) on a read-only mount — and is told what to do when
/// the copy has a write-ahead log it cannot read.
#[test]
fn an_auditor_audits_a_database_copy_it_may_not_write() {
    let s = signer("audit-read-only");
    let served = serve(&s.dir.join("log"));
    let db = s.dir.join("store.db");
    for n in 1..=2 {
        let o = s.attest("acme", &commit(n), |c| {
            c.env("ATTESTLOG_DB", &db)
                .env("REKOR_URL", &served.url)
                .env("REKOR_PUBLIC_KEY", &served.public_key);
        });
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let keys = s.dir.join("keys.json");
    key_set_doc(&s.key, &keys);
    // The auditor's own writable place, for its baseline.
    let mine = s.dir.join("auditor");
    std::fs::create_dir(&mine).unwrap();
    chmod(&mine, 0o777);
    // The copy: the database alone, in a directory nobody may write.
    let copy = s.dir.join("copy");
    std::fs::create_dir(&copy).unwrap();
    let copied = copy.join("store.db");
    std::fs::copy(&db, &copied).unwrap();
    chmod(&copied, 0o444);
    chmod(&copy, 0o555);
    chmod(&keys, 0o444);
    let audit = |db: &std::path::Path| {
        let mut c = bin();
        c.args(["audit", "--tenant", "acme", "--all", "--json", "--key"])
            .arg(&keys)
            .arg("--db")
            .arg(db)
            .arg("--baseline")
            .arg(mine.join("baseline.json"))
            .arg("--trust-current-tree")
            .args(["--rekor-url", &served.url, "--log-key"])
            .arg(&served.public_key)
            .env("HOME", &mine);
        c
    };
    let run = |mut c: Command| {
        let o = c.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(as_non_owner(&audit(&copied)));
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(r#"{"audited":2,"failed":0,"passed":2}"#),
        "{out}"
    );
    let (code, out, err) = run(as_non_owner(&list_of(&copied)));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["rows"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Nothing was created beside it.
    assert_eq!(std::fs::read_dir(&copy).unwrap().count(), 1);

    // As root: a read-only bind mount (EROFS rather than EACCES).
    if is_root() {
        let c = audit(&copied);
        let mut script = format!(
            "mount --bind -o ro '{0}' '{0}' && touch '{0}/x' 2>/dev/null && exit 9; exec '{1}'",
            copy.display(),
            c.get_program().to_string_lossy()
        );
        for a in c.get_args() {
            script.push_str(&format!(" '{}'", a.to_string_lossy()));
        }
        let mut u = Command::new("unshare");
        u.args(["-m", "sh", "-c", &script]);
        copy_env(&c, &mut u);
        let (code, out, err) = run(u);
        assert_eq!(code, Some(0), "{out}{err}");
    }

    // A copy with a write-ahead log but no index beside it: refused with
    // what to do, never read without the log's commits.
    let walled = s.dir.join("walled");
    std::fs::create_dir(&walled).unwrap();
    use attest_store::AttestationStore as _;
    let writer = attest_store::SqliteStore::open(&db).unwrap();
    writer
        .put(&attest_store::NewAttestation::new(
            attest_store::AttestationId([9; 32]),
            "acme",
            "other@sha256:00",
            "https://example.com/p",
            b"{}".to_vec(),
            vec![],
            1,
        ))
        .unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    std::fs::copy(&db, walled.join("store.db")).unwrap();
    std::fs::copy(&wal, walled.join("store.db-wal")).unwrap();
    drop(writer);
    chmod(&walled, 0o555);
    let (code, _, err) = run(as_non_owner(&list_of(&walled.join("store.db"))));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("wal_checkpoint"), "{err}");
    chmod(&copy, 0o755);
    chmod(&walled, 0o755);
}

fn list_of(db: &std::path::Path) -> Command {
    let mut c = bin();
    c.args(["store", "list", "--tenant", "acme", "--db"])
        .arg(db);
    c
}

/// Issue 30, item 6: cosign's shape — `attest ARTIFACT... --bundle FILE`
/// hashes each file for its subject — with the keys OpenSSL writes by
/// default: SEC1 `EC PRIVATE KEY` and encrypted PKCS#8 (the passphrase from
/// ATTESTLOG_KEY_PASSWORD; refused, naming the variable, without it).
#[test]
fn attest_artifacts_into_a_bundle_with_openssl_keys() {
    let s = signer("attest-artifacts");
    let served = serve(&s.dir.join("log"));
    let db = s.dir.join("store.db");
    let keyfile = |name: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../attest-dsse/tests/vectors/keyfiles")
            .join(name)
    };
    let app = s.dir.join("app.tar.gz");
    let lib = s.dir.join("lib.tar.gz");
    std::fs::write(&app, b"pretend this is a release tarball").unwrap();
    std::fs::write(&lib, b"and this its library").unwrap();
    let bundle = s.dir.join("app.sigstore.json");
    let attest = |key: &std::path::Path, files: &[&std::path::Path], extra: &[&str]| {
        let mut c = bin();
        c.args(["attest", "--tenant", "acme"])
            .args([
                "--predicate-type",
                "https://slsa.dev/provenance/v1",
                "--predicate",
            ])
            .arg(&s.predicate)
            .arg("--key")
            .arg(key)
            .arg("--db")
            .arg(&db)
            .args(["--rekor-url", &served.url, "--log-key"])
            .arg(&served.public_key)
            .args(extra)
            .args(files);
        c
    };
    // SEC1, one artifact, its bundle.
    let o = attest(
        &keyfile("p256-sec1.pem"),
        &[&app],
        &["--bundle", bundle.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = &json_lines(&o)[0];
    assert_eq!(v["pending"], false);
    // The bundle verifies for the file itself, with OpenSSL's public key.
    let o = bin()
        .args(["verify-bundle", "--bundle"])
        .arg(&bundle)
        .arg("--key")
        .arg(keyfile("p256-sec1.pub.pem"))
        .arg("--log-key")
        .arg(&served.public_key)
        .arg(&app)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The stored subject is the file's name and digest.
    let o = bin()
        .args(["store", "list", "--tenant", "acme", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let digest = base16ct::lower::encode_string(&<sha2::Sha256 as sha2::Digest>::digest(
        b"pretend this is a release tarball",
    ));
    assert_eq!(
        json_lines(&o)[0]["rows"][0]["subject"],
        format!("app.tar.gz@sha256:{digest}")
    );

    // An encrypted key: without its passphrase, refused by name (not a
    // terminal here, so nobody is asked); with it, two artifacts, two rows.
    // (Another predicate: the same statement in the same second by another
    // key would be refused as SignedDifferently.)
    std::fs::write(&s.predicate, br#"{"ok":2}"#).unwrap();
    let encrypted = keyfile("p256-pbkdf2-aes256.pem");
    let o = attest(&encrypted, &[&app, &lib], &[])
        .env_remove("ATTESTLOG_KEY_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ATTESTLOG_KEY_PASSWORD"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = attest(&encrypted, &[&app, &lib], &[])
        .env("ATTESTLOG_KEY_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did not decrypt"));
    let o = attest(&encrypted, &[&app, &lib], &[])
        .env("ATTESTLOG_KEY_PASSWORD", "correct-horse")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json_lines(&o).len(), 2);
    // --bundle with two artifacts, or with --subject and files: refused.
    let o = attest(
        &keyfile("p256-sec1.pem"),
        &[&app, &lib],
        &["--bundle", "x.json"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = attest(
        &keyfile("p256-sec1.pem"),
        &[&app],
        &["--subject", &commit(1)],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // A P-384 SEC1 key is refused (we sign with P-256 and Ed25519).
    let o = attest(&keyfile("p384-sec1.pem"), &[&app], &[])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

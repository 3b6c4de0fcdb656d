//! The defects of issue 12 that need a log, a store or an auditor (the
//! rekor crate's `tests/defects.rs` holds the others): each reproduced
//! against the earlier code and refused now.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::Path;

use attestlog::client::RekorClient;
use attestlog::dsse::{
    Envelope, IN_TOTO_PAYLOAD_TYPE, KeySet, SigningKey, Statement, Subject, Timestamp, TrustedKey,
};
use attestlog::rekor::bundle::VerificationMaterial;
use attestlog::rekor::{
    Artifact, Bundle, Check, Outcome, Policy, SignerPolicy, TrustedRoot, Verifier,
};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{
    Attestor, AuditCheck, AuditReport, Auditor, Config, ExportError, FileBaseline, LogClient,
    LogTransport, MemoryBaseline,
};
use attestlog_testkit::TempDir;
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};

fn open_log(dir: &Path) -> LocalLog {
    LocalLog::open(
        dir,
        SigningKey::ed25519_from_seed(&[42; 32]),
        LogOptions::default(),
    )
    .unwrap()
}

fn client(log: &LocalLog) -> LogClient {
    RekorClient::new(
        "http://attestlog.local",
        LogTransport::Local(log.clone()),
        vec![log.trusted_log()],
    )
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[5; 32])
}

fn keys() -> KeySet {
    KeySet::new(1, vec![TrustedKey::always(signer().public_key().clone())])
}

fn statement(n: u64) -> Statement {
    Statement::new(
        Subject::sha256(
            format!("artifact-{n}"),
            &Sha256::digest(n.to_be_bytes()).into(),
        ),
        "https://slsa.dev/provenance/v1",
        serde_json::json!({ "n": n }),
    )
}

fn attest(db: &str, log: &LocalLog, n: u64) -> attestlog::Attested {
    let a = Attestor::builder(signer(), attestlog::store::open(db).unwrap())
        .log(client(log))
        .build();
    let done = a
        .attest("acme", &format!("artifact-{n}"), statement(n))
        .unwrap();
    assert!(done.entry.is_some(), "{:?}", done.publish_error);
    done
}

fn only(mut r: Vec<AuditReport>) -> AuditReport {
    assert_eq!(r.len(), 1);
    r.remove(0)
}

fn sql(db: &str, q: &str) {
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(q)
        .unwrap();
}

/// A copy of a log's files: the same history up to now, then its own.
fn fork(from: &Path, to: &Path) -> LocalLog {
    attestlog_testkit::copy_files(from, to);
    open_log(to)
}

#[test]
fn defect_6_the_auditors_memory_is_not_in_the_audited_store() {
    let tmp = TempDir::created("defect6");
    let db = tmp.file("store.db").display().to_string();
    let log_dir = tmp.file("log");
    let log = open_log(&log_dir);
    attest(&db, &log, 1);
    drop(log);
    let forked = fork(&log_dir, &tmp.file("fork"));
    let log = open_log(&log_dir);
    // The honest log and the fork each grow differently.
    attest(&tmp.file("a.db").display().to_string(), &log, 2);
    attest(&tmp.file("b.db").display().to_string(), &forked, 3);

    let baseline = tmp.file("baseline.json");
    let auditor = |l: &LocalLog, trust: bool| {
        Auditor::builder(keys(), attestlog::store::open(&db).unwrap())
            .log(client(l))
            .baseline(FileBaseline::new(&baseline))
            .trust_current_tree(trust)
            .build()
    };
    // No baseline and no trust asked for: the consistency check fails.
    let r = only(auditor(&log, false).audit("acme", "artifact-1").unwrap());
    assert_eq!(r.outcome(AuditCheck::Consistency), Some(Outcome::Failed));
    assert!(r.first_problem().unwrap().detail.contains("no baseline"));
    // Start it, explicitly; the pass says so.
    let r = only(auditor(&log, true).audit("acme", "artifact-1").unwrap());
    assert!(r.passed(), "{r}");
    let line = r
        .checks
        .iter()
        .find(|c| c.check == AuditCheck::Consistency)
        .unwrap();
    assert!(
        line.detail.contains("trusted on first use"),
        "{}",
        line.detail
    );
    // The fork is caught ...
    let r = only(auditor(&forked, true).audit("acme", "artifact-1").unwrap());
    assert_eq!(r.outcome(AuditCheck::Consistency), Some(Outcome::Failed));
    // ... and deleting every checkpoint the audited store keeps changes
    // nothing: the baseline is the auditor's.
    sql(&db, "DELETE FROM log_checkpoints;");
    let r = only(auditor(&forked, true).audit("acme", "artifact-1").unwrap());
    assert_eq!(r.outcome(AuditCheck::Consistency), Some(Outcome::Failed));
    // An in-memory baseline starts empty: without trust, a failure.
    let r = only(
        Auditor::builder(keys(), attestlog::store::open(&db).unwrap())
            .log(client(&log))
            .baseline(MemoryBaseline::new())
            .build()
            .audit("acme", "artifact-1")
            .unwrap(),
    );
    assert_eq!(r.outcome(AuditCheck::Consistency), Some(Outcome::Failed));
    // A damaged baseline file is a failure, never an empty baseline.
    std::fs::write(&baseline, b"{").unwrap();
    let r = only(auditor(&log, true).audit("acme", "artifact-1").unwrap());
    assert_eq!(r.outcome(AuditCheck::Consistency), Some(Outcome::Failed));
}

#[test]
fn defect_7_the_audit_rederives_what_it_is_given() {
    let tmp = TempDir::created("defect7");
    let db = tmp.file("store.db").display().to_string();
    let log = open_log(&tmp.file("log"));
    let one = attest(&db, &log, 1);
    let two = attest(&db, &log, 2);
    attest(&db, &log, 3);
    let auditor = || {
        Auditor::builder(keys(), attestlog::store::open(&db).unwrap())
            .log(client(&log))
            .baseline(FileBaseline::new(tmp.file("baseline.json")))
            .trust_current_tree(true)
            .build()
    };
    assert!(only(auditor().audit("acme", "artifact-1").unwrap()).passed());

    // Swapped ids: each row's id is re-derived from its envelope.
    sql(
        &db,
        &format!(
            "UPDATE attestations SET id = x'{t}' WHERE id = x'{a}'; \
             UPDATE attestations SET id = x'{a}' WHERE id = x'{b}'; \
             UPDATE attestations SET id = x'{b}' WHERE id = x'{t}';",
            t = "ff".repeat(32),
            a = one.id,
            b = two.id
        ),
    );
    for s in ["artifact-1", "artifact-2"] {
        let r = only(auditor().audit("acme", s).unwrap());
        assert_eq!(
            r.outcome(AuditCheck::AttestationId),
            Some(Outcome::Failed),
            "{r}"
        );
    }
    // ... and the export of "one" does not hand out the other attestation.
    let store = attestlog::store::open(&db).unwrap();
    let row = store.get(&one.id).unwrap().unwrap();
    assert!(matches!(
        attestlog::export_bundle(&row),
        Err(ExportError::IdMismatch { .. })
    ));

    // A forged stored integrated time (and each other stored copy).
    for (column, change) in [
        ("integrated_time", "integrated_time - 100"),
        ("log_index", "log_index + 1"),
        ("shard_index", "shard_index + 1"),
        ("log_id", "'00' || substr(log_id, 3)"),
    ] {
        let before = "CREATE TABLE IF NOT EXISTS keep AS SELECT * FROM attestations WHERE subject = 'artifact-3';";
        sql(
            &db,
            &format!(
                "{before} UPDATE attestations SET {column} = {change} WHERE subject = 'artifact-3';"
            ),
        );
        let r = only(auditor().audit("acme", "artifact-3").unwrap());
        assert_eq!(
            r.outcome(AuditCheck::StoredEntry),
            Some(Outcome::Failed),
            "{column}: {r}"
        );
        sql(
            &db,
            &format!(
                "UPDATE attestations SET {column} = (SELECT {column} FROM keep) WHERE subject = 'artifact-3'; DROP TABLE keep;"
            ),
        );
        assert!(only(auditor().audit("acme", "artifact-3").unwrap()).passed());
    }

    // A signed claimed time near i64::MIN is not "not back-dated".
    let early = Attestor::builder(signer(), attestlog::store::open(&db).unwrap())
        .log(client(&log))
        .clock(|| Timestamp::from_unix(i64::MIN + 10))
        .build();
    early.attest("acme", "artifact-min", statement(9)).unwrap();
    let r = only(auditor().audit("acme", "artifact-min").unwrap());
    assert_eq!(
        r.outcome(AuditCheck::NotBackdated),
        Some(Outcome::Failed),
        "{r}"
    );
    assert_eq!(r.outcome(AuditCheck::Binding), Some(Outcome::Passed));
}

#[test]
fn defect_7_a_pinned_log_key_or_name_is_honoured_for_the_embedded_log() {
    let tmp = TempDir::created("defect7-pinned");
    let other = tmp.file("other.pem");
    std::fs::write(
        &other,
        SigningKey::ed25519_from_seed(&[99; 32])
            .public_key()
            .to_pem(),
    )
    .unwrap();
    let attest_with = |pin: &dyn Fn(&mut Config)| {
        let mut c = Config::default();
        c.db = tmp.file("store.db").display().to_string();
        c.rekor_url = Some(format!("local:{}", tmp.file("log").display()));
        pin(&mut c);
        let conn = c.log_connection().unwrap().unwrap();
        Attestor::builder(signer(), c.open_store().unwrap())
            .log(conn.log())
            .build()
            .attest("acme", "x", statement(1))
            .unwrap()
    };
    // Unpinned, the embedded log's own key: published.
    assert!(attest_with(&|_| {}).entry.is_some());
    // Pinned to another key: the log's answer does not verify.
    let done = attest_with(&|c| c.rekor_public_key = Some(other.clone()));
    assert!(done.entry.is_none() && done.publish_error.is_some());
    // Pinned to another name: its checkpoints are not signed under it.
    let done = attest_with(&|c| c.rekor_log_name = Some("another.example".into()));
    assert!(done.entry.is_none() && done.publish_error.is_some());
}

#[test]
fn defect_7_audit_bundle_passes_offline_and_reports_binding() {
    let tmp = TempDir::created("defect7-bundle");
    let db = tmp.file("store.db").display().to_string();
    let log = open_log(&tmp.file("log"));
    let done = attest(&db, &log, 1);
    let store = attestlog::store::open(&db).unwrap();
    let bundle = Bundle::from_json(
        attestlog::export_bundle(&store.get(&done.id).unwrap().unwrap())
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let a = Auditor::builder(keys(), attestlog::store::open(&db).unwrap()).build();
    let r = a.audit_bundle(&bundle, &[log.trusted_log()]);
    assert!(r.passed(), "{r}");
    assert_eq!(r.outcome(AuditCheck::Binding), Some(Outcome::Passed));
    assert_eq!(
        (r.tenant.as_str(), r.subject.as_str()),
        ("acme", "artifact-1")
    );
    // Another key set: the signature line fails, the report does not pass.
    let stranger = KeySet::new(
        1,
        vec![TrustedKey::always(
            SigningKey::ed25519_from_seed(&[6; 32]).public_key().clone(),
        )],
    );
    let r = Auditor::builder(stranger, attestlog::store::open(&db).unwrap())
        .build()
        .audit_bundle(&bundle, &[log.trusted_log()]);
    assert!(!r.passed());
    assert_eq!(
        r.outcome(AuditCheck::EnvelopeSignature),
        Some(Outcome::Failed)
    );
}

/// A bundle v0.3 of a message signature from a REST log entry.
fn message_bundle(entry: &attestlog::rekor::LogEntry, digest: &[u8], sig: &[u8]) -> Bundle {
    let tlog = entry.to_tlog_entry().unwrap();
    let v = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": { "publicKey": { "hint": "k" }, "tlogEntries": [tlog] },
        "messageSignature": {
            "messageDigest": { "algorithm": "SHA2_256", "digest": Base64::encode_string(digest) },
            "signature": Base64::encode_string(sig),
        },
    });
    Bundle::from_json(v.to_string().as_bytes()).unwrap()
}

#[test]
fn defect_5_ecdsa_p384_signers_verify_wherever_p256_ones_do() {
    use p384::ecdsa::signature::Signer as _;
    use p384::ecdsa::signature::hazmat::PrehashSigner as _;
    use p384::pkcs8::EncodePublicKey as _;
    let tmp = TempDir::created("defect5-p384");
    let log = open_log(&tmp.file("log"));
    let c = client(&log);
    let sk = p384::ecdsa::SigningKey::from_slice(&[3; 48]).unwrap();
    let key = attestlog::PublicKey::from_spki_der(
        sk.verifying_key().to_public_key_der().unwrap().as_bytes(),
    )
    .unwrap();
    let verifier = Verifier::new(TrustedRoot::from_logs([log.trusted_log()]));
    let policy = Policy::new(SignerPolicy::Key(key.clone()), Timestamp::now());

    // A message signature (hashedrekord over the SHA-256 digest).
    let artifact = b"release.tar.gz bytes";
    let digest: [u8; 32] = Sha256::digest(artifact).into();
    let sig: p384::ecdsa::Signature = sk.sign_prehash(&digest).unwrap();
    let sig = sig.to_der().as_bytes().to_vec();
    let p = c.publish_hashedrekord(&digest, &sig, &key).unwrap();
    let b = message_bundle(&p.entry, &digest, &sig);
    // The verifier's clock is read after the log's (an entry is never in
    // the future of a verifier that reads its clock later).
    let now = || policy.clone().with_now(Timestamp::now());
    let v = verifier
        .verify(&b, &Artifact::of_bytes(artifact), &now())
        .unwrap();
    assert_eq!(v.signer, key);

    // A DSSE envelope signed with P-384 (SHA-384 over the PAE).
    let st = statement(7);
    let payload = st.to_json();
    let pae = attestlog::dsse::pae(IN_TOTO_PAYLOAD_TYPE, &payload);
    let dsig: p384::ecdsa::Signature = sk.sign(&pae);
    let env = Envelope::from_json(
        serde_json::json!({
            "payload": Base64::encode_string(&payload),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "sig": Base64::encode_string(dsig.to_der().as_bytes()) }],
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let p = c.publish_dsse(&env, &key).unwrap();
    let material = VerificationMaterial::with_key_hint("k", vec![p.entry.to_tlog_entry().unwrap()]);
    let b = Bundle::v03_dsse(material, env.to_json().as_bytes()).unwrap();
    let subject = Sha256::digest(7u64.to_be_bytes());
    let v = verifier
        .verify(&b, &Artifact::sha256_digest(subject.into()), &now())
        .unwrap();
    assert_eq!(v.times.len(), 1);
}

#[test]
fn defect_5_a_statement_of_unknown_type_does_not_verify() {
    let tmp = TempDir::created("defect5-type");
    let log = open_log(&tmp.file("log"));
    let c = client(&log);
    let verifier = Verifier::new(TrustedRoot::from_logs([log.trusted_log()]));
    let key = signer();
    let policy = Policy::new(
        SignerPolicy::Key(key.public_key().clone()),
        Timestamp::now(),
    );
    let subject = Sha256::digest(1u64.to_be_bytes());
    for (ty, ok) in [
        (Some("https://in-toto.io/Statement/v1"), true),
        (Some("https://in-toto.io/Statement/v0.1"), true),
        (Some("https://example.com/NotAStatement"), false),
        (None, false),
    ] {
        let mut st = serde_json::to_value(statement(1)).unwrap();
        match ty {
            Some(t) => st["_type"] = t.into(),
            None => {
                st.as_object_mut().unwrap().remove("_type");
            }
        }
        let env = Envelope::sign(
            IN_TOTO_PAYLOAD_TYPE,
            serde_json::to_vec(&st).unwrap(),
            &[&key],
        )
        .unwrap();
        let p = c.publish_dsse(&env, key.public_key()).unwrap();
        let material =
            VerificationMaterial::with_key_hint("k", vec![p.entry.to_tlog_entry().unwrap()]);
        let b = Bundle::v03_dsse(material, env.to_json().as_bytes()).unwrap();
        let r = verifier.verify(
            &b,
            &Artifact::sha256_digest(subject.into()),
            &policy.clone().with_now(Timestamp::now()),
        );
        assert_eq!(r.is_ok(), ok, "{ty:?}");
        if !ok {
            assert_eq!(r.unwrap_err().first.check, Check::Artifact);
        }
    }
    // Another payload type is not an in-toto statement either.
    let env = Envelope::sign("text/plain", b"hello".to_vec(), &[&key]).unwrap();
    let p = c.publish_dsse(&env, key.public_key()).unwrap();
    let material = VerificationMaterial::with_key_hint("k", vec![p.entry.to_tlog_entry().unwrap()]);
    let b = Bundle::v03_dsse(material, env.to_json().as_bytes()).unwrap();
    let e = verifier
        .verify(
            &b,
            &Artifact::of_bytes(b"hello"),
            &policy.clone().with_now(Timestamp::now()),
        )
        .unwrap_err();
    assert_eq!(e.first.check, Check::Artifact);
}

#[test]
fn an_identity_policy_auditor_refuses_rows_signed_with_keys() {
    // The logged verifier of a key-signed row is a public key, not a
    // certificate: under an identity policy there is no signing
    // certificate, so the signature line fails (and the certificate line),
    // while the same rows pass under the key set.
    let tmp = TempDir::created("identity-rows");
    let db = tmp.file("store.db").display().to_string();
    let log = open_log(&tmp.file("log"));
    attest(&db, &log, 1);
    let identity = attestlog::rekor::SignerPolicy::identity(
        "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    let r = only(
        Auditor::builder(identity, attestlog::store::open(&db).unwrap())
            .log(client(&log))
            .trust_current_tree(true)
            .build()
            .audit("acme", "artifact-1")
            .unwrap(),
    );
    assert_eq!(
        r.outcome(AuditCheck::EnvelopeSignature),
        Some(Outcome::Failed),
        "{r}"
    );
    assert_eq!(
        r.outcome(AuditCheck::Certificate),
        Some(Outcome::Failed),
        "{r}"
    );
    assert!(!r.passed());
    let r = only(
        Auditor::builder(keys(), attestlog::store::open(&db).unwrap())
            .log(client(&log))
            .trust_current_tree(true)
            .build()
            .audit("acme", "artifact-1")
            .unwrap(),
    );
    assert!(r.passed(), "{r}");
    assert_eq!(r.outcome(AuditCheck::Certificate), None);
}

#[test]
fn audit_tenant_each_hands_over_every_report_as_it_is_made() {
    let tmp = TempDir::created("audit-each");
    let db = tmp.file("store.db").display().to_string();
    let log = open_log(&tmp.file("log"));
    for n in 0..3 {
        attest(&db, &log, n);
    }
    let auditor = Auditor::builder(keys(), attestlog::store::open(&db).unwrap())
        .log(client(&log))
        .trust_current_tree(true)
        .build();
    let mut seen = Vec::new();
    let n = auditor.audit_tenant_each("acme", |r| seen.push(r)).unwrap();
    assert_eq!(n, 3);
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(AuditReport::passed));
    let mut progress = Vec::new();
    let collected = auditor.audit_tenant("acme", |k| progress.push(k)).unwrap();
    assert_eq!(progress, [1, 2, 3]);
    assert_eq!(
        collected
            .iter()
            .map(|r| &r.attestation_id)
            .collect::<Vec<_>>(),
        seen.iter().map(|r| &r.attestation_id).collect::<Vec<_>>()
    );
}

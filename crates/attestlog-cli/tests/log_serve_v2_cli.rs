//! `attestlog log serve --rekor-api 2` over loopback: the v2 client publishes
//! message signatures and DSSE envelopes and verifies each answer; tiles are
//! read, cached and proven from; the served files are plain files in DIR;
//! the server is killed with SIGKILL while clients publish, restarted on the
//! same directory, and every acknowledged entry is there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use attest_dsse::{Algorithm, Envelope, PublicKey, SigningKey};
use attest_rekor::v2::V2Request;
use attest_rekor::{LogApi, LogId, TrustedLog};
use attestlog_testkit::TempDir;
use common::{bin, spawn_listening};
use rekor_client::UreqTransport;
use rekor_client::v2::RekorV2Client;
use serde_json::Value;
use sha2::{Digest, Sha256};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `attestlog log serve --rekor-api 2` on `dir`, on a free loopback port.
fn serve_command(dir: &std::path::Path) -> std::process::Command {
    let mut cmd = bin();
    cmd.args([
        "log",
        "serve",
        "--rekor-api",
        "2",
        "--addr",
        "127.0.0.1:0",
        "--dir",
    ])
    .arg(dir);
    cmd
}

fn serve(dir: &std::path::Path) -> (Killed, Value) {
    let (child, v) = spawn_listening(serve_command(dir));
    (Killed(child), v)
}

fn trusted(v: &Value) -> Vec<TrustedLog> {
    let pem = std::fs::read_to_string(v["logPublicKey"].as_str().unwrap()).unwrap();
    let id = LogId::from_base64(v["logId"].as_str().unwrap()).unwrap();
    vec![
        TrustedLog::new(
            id,
            PublicKey::from_pem(&pem).unwrap(),
            v["name"].as_str().unwrap(),
            v["listening"].as_str().unwrap(),
        )
        .with_api(LogApi::V2),
    ]
}

fn client(v: &Value) -> RekorV2Client<UreqTransport> {
    RekorV2Client::new(
        v["listening"].as_str().unwrap(),
        UreqTransport::new(),
        trusted(v),
    )
}

fn message(key: &SigningKey, n: u64) -> V2Request {
    let a = format!("artifact {n}");
    let d: [u8; 32] = Sha256::digest(a.as_bytes()).into();
    V2Request::message(d, key.sign(a.as_bytes()), key.public_key()).unwrap()
}

#[test]
fn a_v2_log_publishes_proves_and_survives_sigkill() {
    let tmp = TempDir::new("cli-v2");
    let dir = tmp.file("log");
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let (server, v) = serve(&dir);
    assert_eq!(v["api"], 2);
    assert_eq!(v["treeSize"], 0);
    let c = client(&v).with_tile_cache(tmp.file("cache"));
    let m = c.publish(&message(&key, 0)).unwrap();
    let env = Envelope::sign("application/vnd.in-toto+json", b"{}".to_vec(), &[&key]).unwrap();
    let d = c
        .publish(&V2Request::dsse(&env, key.public_key()).unwrap())
        .unwrap();
    let head = c.checkpoint().unwrap();
    c.prove_inclusion(&m.body, 0, &head).unwrap();
    assert_eq!(c.entry(1, &head).unwrap(), d.body);
    // The reads are plain files in the log directory.
    assert_eq!(
        std::fs::read_to_string(dir.join("tiles/checkpoint")).unwrap(),
        head.note
    );
    assert!(dir.join("tiles/tile/0/000.p/2").exists());
    // No key is among the files a static server would serve.
    assert!(!dir.join("tiles/log-key.pem").exists() && dir.join("log-key.pem").exists());
    assert!(dir.join("tiles/tile/entries/000.p/2").exists());
    // A request the log refuses is a 400 with a reason, not an entry.
    let mut bad = message(&key, 1);
    bad.signature[8] ^= 1;
    let e = attestlog::dsse::ErrorChain(&c.publish(&bad).unwrap_err()).to_string();
    assert!(e.contains("400") && e.contains("does not verify"), "{e}");

    // SIGKILL while four clients publish; every acknowledged entry stays.
    type Acked = Vec<(u64, Vec<u8>)>;
    let acked: Arc<Mutex<Acked>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (acked, stop, v, key) = (acked.clone(), stop.clone(), v.clone(), key.clone());
            std::thread::spawn(move || {
                let c = client(&v)
                    .with_retry(rekor_client::RetryPolicy::default().with_max_attempts(1));
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match c.publish(&message(&key, 1000 * (t + 1) + i)) {
                        Ok(p) => acked
                            .lock()
                            .unwrap()
                            .push((p.evidence.entry.log_index, p.body)),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Kill once 40 entries are acknowledged (the event, not a time).
    // (If every publisher stopped first, the server failed: the asserts
    // below say so instead of this loop waiting forever.)
    while acked.lock().unwrap().len() < 40 && !threads.iter().all(|t| t.is_finished()) {
        std::thread::yield_now();
    }
    assert!(
        acked.lock().unwrap().len() >= 40,
        "the publishers stopped early"
    );
    drop(server);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let (_server, v2) = serve(&dir);
    assert!(v2["treeSize"].as_u64().unwrap() >= acked.len() as u64 + 2);
    assert_eq!(v2["logId"], v["logId"], "the same log after restart");
    let c = client(&v2);
    let after = c.checkpoint().unwrap();
    c.prove_consistency(&head, &after).unwrap();
    for (index, body) in &acked {
        c.prove_inclusion(body, *index, &after).unwrap();
    }
    // And it goes on.
    assert!(c.publish(&message(&key, 99)).is_ok());
}

/// `attestlog keygen --alg p256 --out PATH`, which must succeed.
fn keygen_p256(path: &std::path::Path) {
    let o = bin()
        .args(["keygen", "--alg", "p256", "--out"])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = bin().args(args).output().unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

/// The whole v2 flow from the shell: `log serve --rekor-api 2` → `rekor-v2
/// publish` (signed, logged, timestamped, bundled) → `verify-bundle` with
/// the trusted root the server wrote; `checkpoint`, `entry`, `monitor`.
#[test]
fn the_v2_flow_from_the_shell() {
    let tmp = TempDir::new("cli-v2-flow");
    let dir = tmp.file("log");
    let (_server, v) = serve(&dir);
    let url = v["listening"].as_str().unwrap();
    let tsa = v["tsaUrl"].as_str().unwrap();
    let root = v["trustedRoot"].as_str().unwrap();
    let key = tmp.file("signer.pem");
    keygen_p256(&key);
    let artifact = tmp.file("app.tar.gz");
    std::fs::write(&artifact, b"a release").unwrap();
    let a = artifact.to_str().unwrap();
    let k = key.to_str().unwrap();
    let log = ["--rekor-url", url, "--trusted-root", root];
    let (code, bundle, err) = run(&[
        &["rekor-v2", "publish"][..],
        &log,
        &["--key", k, "--tsa-url", tsa, a],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let bundle_path = tmp.file("app.sigstore.json");
    std::fs::write(&bundle_path, &bundle).unwrap();
    let b = bundle_path.to_str().unwrap();
    let (code, out, err) = run(&[
        "verify-bundle",
        "--bundle",
        b,
        "--key",
        k,
        "--trusted-root",
        root,
        a,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(r#""check":"timestamp","outcome":"passed""#),
        "{out}"
    );
    // Another artifact: refused.
    std::fs::write(tmp.file("other"), b"x").unwrap();
    let (code, _, _) = run(&[
        "verify-bundle",
        "--bundle",
        b,
        "--key",
        k,
        "--trusted-root",
        root,
        tmp.file("other").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);

    let (code, out, err) = run(&[&["rekor-v2", "checkpoint"][..], &log].concat());
    assert_eq!(code, 0, "{err}");
    let cp: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cp["treeSize"], 1);
    let (code, out, err) = run(&[&["rekor-v2", "entry"][..], &log, &["0"]].concat());
    assert_eq!(code, 0, "{err}");
    let e: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["body"]["kind"], "hashedrekord");
    assert_eq!(e["included"], true);
    let (code, _, _) = run(&[&["rekor-v2", "entry"][..], &log, &["5"]].concat());
    assert_ne!(code, 0, "an index past the tree");

    // Monitoring from a kept checkpoint.
    let state = tmp.file("kept-checkpoint");
    let s = state.to_str().unwrap();
    let (code, _, err) = run(&[&["rekor-v2", "monitor"][..], &log, &["--state", s]].concat());
    assert_eq!(code, 2, "no state and no --trust-current-tree: {err}");
    let (code, out, _) = run(&[
        &["rekor-v2", "monitor"][..],
        &log,
        &["--state", s, "--trust-current-tree"],
    ]
    .concat());
    assert_eq!(code, 0);
    assert!(out.contains(r#""started":true"#), "{out}");
    // The same artifact again is the same entry (the log answers 409 with
    // its index; the client reads it back from verified tiles).
    let (code, again, err) = run(&[
        &["rekor-v2", "publish"][..],
        &log,
        &["--key", k, "--tsa-url", tsa, a],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(
        again["verificationMaterial"]["tlogEntries"][0]["logIndex"],
        "0"
    );
    // Another artifact is a new one.
    let second = tmp.file("app2.tar.gz");
    std::fs::write(&second, b"another release").unwrap();
    let (code, _, err) = run(&[
        &["rekor-v2", "publish"][..],
        &log,
        &["--key", k, "--tsa-url", tsa, second.to_str().unwrap()],
    ]
    .concat());
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&[&["rekor-v2", "monitor"][..], &log, &["--state", s]].concat());
    assert_eq!(code, 0);
    assert!(
        out.contains(r#""from":1"#)
            && out.contains(r#""to":2"#)
            && out.contains(r#""consistent":true"#),
        "{out}"
    );
    // A kept checkpoint of another log (same key, another history) is a fork.
    let other = tmp.file("other-log");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(dir.join("log-key.pem"), other.join("log-key.pem")).unwrap();
    let (_other_server, ov) = serve(&other);
    let ourl = ov["listening"].as_str().unwrap();
    let oroot = ov["trustedRoot"].as_str().unwrap();
    // (ECDSA signatures here are deterministic: the same artifact would log
    // the same leaves, and a log of the same leaves is no fork.)
    let other_artifact = tmp.file("other-artifact");
    std::fs::write(&other_artifact, b"another history").unwrap();
    for _ in 0..3 {
        let (code, _, err) = run(&[
            "rekor-v2",
            "publish",
            "--rekor-url",
            ourl,
            "--trusted-root",
            oroot,
            "--key",
            k,
            "--tsa-url",
            ov["tsaUrl"].as_str().unwrap(),
            other_artifact.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let before = std::fs::read_to_string(&state).unwrap();
    let (code, _, err) = run(&[
        "rekor-v2",
        "monitor",
        "--rekor-url",
        ourl,
        "--trusted-root",
        oroot,
        "--state",
        s,
    ]);
    assert_eq!(code, 1, "a fork must fail: {err}");
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        before,
        "the kept checkpoint is unchanged"
    );

    // `log check` reads a v2 log's files while it is served…
    let (code, out, err) = run(&["log", "check", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(r#""healthy":true"#) && out.contains(r#""treeSize":2"#),
        "{out}"
    );
    // …and names a damaged one (exit 1).
    let tile = dir.join("tiles/tile/0/000.p/2");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[3] ^= 1;
    std::fs::write(&tile, &bytes).unwrap();
    let (code, out, _) = run(&["log", "check", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(r#""healthy":false"#), "{out}");
    bytes[3] ^= 1;
    std::fs::write(&tile, &bytes).unwrap();

    // Signing-config selection.
    let cfg = tmp.file("signing_config.json");
    std::fs::write(&cfg, format!(r#"{{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
      "rekorTlogUrls":[{{"url":"{url}","majorApiVersion":2,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}},
                       {{"url":"https://rekor.example","majorApiVersion":1,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}}],
      "tsaUrls":[{{"url":"{tsa}","majorApiVersion":1,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}}]}}"#)).unwrap();
    let (code, out, err) = run(&["rekor-v2", "select", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let sel: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sel["rekorTlogs"][0]["url"], url);
    assert_eq!(sel["rekorTlogs"][0]["majorApiVersion"], 2);
    assert_eq!(sel["tsas"][0]["url"], tsa);
}

/// The pipeline over a Rekor v2 log from the shell: `attest` publishes to
/// `log serve --rekor-api 2` (chosen by `--rekor-api 2`, or by a signing config),
/// `audit` re-verifies from tiles and the stored timestamp, `bundle export`
/// gives a bundle `verify-bundle` accepts; a tampered row fails its line.
#[test]
fn attest_audit_export_over_a_v2_log() {
    let tmp = TempDir::new("cli-v2-pipeline");
    let (_server, v) = serve(&tmp.file("log"));
    let url = v["listening"].as_str().unwrap();
    let root = v["trustedRoot"].as_str().unwrap();
    let tsa = v["tsaUrl"].as_str().unwrap();
    let key = tmp.file("p256.pem");
    keygen_p256(&key);
    let k = key.to_str().unwrap();
    let (code, doc, err) = run(&["keys", "serve-doc", "--key", k]);
    assert_eq!(code, 0, "{err}");
    let keys = tmp.file("attestation-keys.json");
    std::fs::write(&keys, doc).unwrap();
    let keys = keys.to_str().unwrap();
    let predicate = tmp.file("predicate.json");
    std::fs::write(&predicate, br#"{"ok":true}"#).unwrap();
    let predicate = predicate.to_str().unwrap();
    let db = tmp.file("store.db");
    let db = db.to_str().unwrap();
    let baseline = tmp.file("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let subject = |n: u32| format!("app@sha256:{n:064x}");
    let attest = |n: u32, log: &[&str]| {
        let s = subject(n);
        let args = [
            &["attest", "--tenant", "acme", "--subject", &s][..],
            &[
                "--predicate-type",
                "https://example.com/p",
                "--predicate",
                predicate,
            ],
            &["--key", k, "--db", db, "--trusted-root", root],
            log,
        ]
        .concat();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let direct = ["--rekor-url", url, "--rekor-api", "2", "--tsa-url", tsa];
    let a0 = attest(0, &direct);
    assert_eq!(a0["rekorApi"], 2, "{a0}");
    assert_eq!(a0["logIndex"], 0);
    assert_eq!(a0["entryId"].as_str().unwrap().len(), 64);
    assert!(a0["timestampTime"].as_i64().is_some() && a0["integratedTime"].is_null());
    // A signing config naming this log (v2) and its TSA picks them.
    let cfg = tmp.file("signing_config.json");
    std::fs::write(&cfg, format!(r#"{{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
      "rekorTlogUrls":[{{"url":"{url}","majorApiVersion":2,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}}],
      "tsaUrls":[{{"url":"{tsa}","majorApiVersion":1,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}}]}}"#)).unwrap();
    let by_config = ["--signing-config", cfg.to_str().unwrap()];
    let a1 = attest(1, &by_config);
    assert_eq!(
        (a1["rekorApi"].as_u64(), a1["logIndex"].as_u64()),
        (Some(2), Some(1))
    );

    let audit = |extra: &[&str]| {
        let args = [
            &[
                "audit", "--tenant", "acme", "--all", "--json", "--key", keys,
            ][..],
            &["--db", db, "--trusted-root", root, "--baseline", baseline],
            extra,
        ]
        .concat();
        run(&args)
    };
    let (code, out, err) = audit(&[&direct[..4], &["--trust-current-tree"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(r#""audited":2,"failed":0,"passed":2"#),
        "{out}"
    );
    assert!(
        out.contains(r#""check":"timestamp","outcome":"passed""#),
        "{out}"
    );
    // Without a v2 log to read, a v2 row is not checked: a failure.
    let (code, out, _) = audit(&[]);
    assert_eq!(code, 1, "{out}");
    // The baseline now exists: the next audit proves consistency.
    let (code, out, err) = audit(&by_config);
    assert_eq!(code, 0, "{out}{err}");

    // The exported bundle carries the entry and the timestamp.
    let id = a0["attestationId"].as_str().unwrap();
    let (code, bundle, err) = run(&["bundle", "export", "--db", db, id]);
    assert_eq!(code, 0, "{err}");
    let bundle_path = tmp.file("a0.sigstore.json");
    std::fs::write(&bundle_path, &bundle).unwrap();
    let digest = format!("sha256:{:064x}", 0);
    let (code, out, err) = run(&[
        "verify-bundle",
        "--bundle",
        bundle_path.to_str().unwrap(),
        "--key",
        k,
        "--trusted-root",
        root,
        &digest,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(r#""check":"timestamp","outcome":"passed""#),
        "{out}"
    );

    // A row whose stored time was edited fails stored-entry.
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(
            "UPDATE attestations SET integrated_time = integrated_time + 5 WHERE log_index = 1",
        )
        .unwrap();
    let (code, out, _) = audit(&direct[..4]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(r#""check":"stored-entry","detail":"the stored copy differs from the log: timestamp time"#),
        "{out}"
    );
    assert!(
        out.contains(r#""audited":2,"failed":1,"passed":1"#),
        "{out}"
    );
}

/// Keyless-style v2 bundles from the shell: `rekor-v2 test-ca` certifies a
/// key (SCT included) and extends the trusted root; `rekor-v2 publish
/// --certificate` logs and bundles with it, as a message signature and as a
/// DSSE envelope; `verify-bundle` checks chain, SCT and identity.
#[test]
fn keyless_style_bundles_from_the_offline_test_ca() {
    let tmp = TempDir::new("cli-v2-keyless");
    let (_server, v) = serve(&tmp.file("log"));
    let url = v["listening"].as_str().unwrap();
    let root = v["trustedRoot"].as_str().unwrap();
    let tsa = v["tsaUrl"].as_str().unwrap();
    let keygen = |name: &str| {
        let p = tmp.file(name);
        keygen_p256(&p);
        p.to_str().unwrap().to_owned()
    };
    let (k, other) = (keygen("k.pem"), keygen("other.pem"));
    let ca = tmp.file("ca");
    let ca = ca.to_str().unwrap();
    let id = "dev@attestlog.test";
    let iss = "https://oidc.attestlog.test";
    let test_ca = |key: &str| {
        let (code, out, err) = run(&[
            "rekor-v2",
            "test-ca",
            "--dir",
            ca,
            "--key",
            key,
            "--identity",
            id,
            "--oidc-issuer",
            iss,
            "--trusted-root",
            root,
        ]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let issued = test_ca(&k);
    let kl_root = issued["trustedRoot"].as_str().unwrap().to_owned();
    let cert = issued["certificate"].as_str().unwrap().to_owned();
    let root_pem = std::fs::read(tmp.file("ca/root.pem")).unwrap();
    // The CA is kept: a second certificate comes from the same root.
    let other_cert = tmp.file("other-cert.pem");
    test_ca(&other);
    std::fs::copy(tmp.file("ca/leaf.pem"), &other_cert).unwrap();
    assert_eq!(std::fs::read(tmp.file("ca/root.pem")).unwrap(), root_pem);
    test_ca(&k);

    let artifact = tmp.file("artifact.txt");
    std::fs::write(&artifact, b"a release").unwrap();
    let a = artifact.to_str().unwrap();
    let statement = tmp.file("statement.json");
    let digest = base16ct::lower::encode_string(&Sha256::digest(b"a release"));
    std::fs::write(&statement, format!(r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{{"sha256":"{digest}"}}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#)).unwrap();
    let publish = |certificate: &str, extra: &[&str], file: &str| {
        run(&[
            &[
                "rekor-v2",
                "publish",
                "--rekor-url",
                url,
                "--trusted-root",
                &kl_root,
            ][..],
            &["--key", &k, "--tsa-url", tsa, "--certificate", certificate],
            extra,
            &[file],
        ]
        .concat())
    };
    // Another key's certificate is refused before anything is logged.
    let (code, _, err) = publish(other_cert.to_str().unwrap(), &[], a);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not for --key"), "{err}");
    let verify = |bundle: &str, identity: &str, trusted: &str| {
        let path = tmp.file("b.sigstore.json");
        std::fs::write(&path, bundle).unwrap();
        run(&[
            "verify-bundle",
            "--bundle",
            path.to_str().unwrap(),
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            iss,
            "--trusted-root",
            trusted,
            a,
        ])
        .0
    };
    for extra in [&[][..], &["--dsse", "application/vnd.in-toto+json"][..]] {
        let file = if extra.is_empty() {
            a
        } else {
            statement.to_str().unwrap()
        };
        let (code, bundle, err) = publish(&cert, extra, file);
        assert_eq!(code, 0, "{err}");
        let b: Value = serde_json::from_str(&bundle).unwrap();
        assert!(
            b["verificationMaterial"]["certificate"]["rawBytes"].is_string(),
            "{b}"
        );
        assert!(
            b["verificationMaterial"]["timestampVerificationData"].is_object(),
            "{b}"
        );
        assert_eq!(verify(&bundle, id, &kl_root), 0, "{extra:?}");
        // Another identity, or a trusted root without the test CA: refused.
        assert_eq!(verify(&bundle, "eve@attestlog.test", &kl_root), 1);
        assert_eq!(verify(&bundle, id, root), 1);
    }
}

/// The operator's damages from the shell, on a stopped `log serve --rekor-api 2`
/// log: a deleted public checkpoint and an older genuine one written back
/// each make `log serve` refuse (exit 1, the damage named), `log check`
/// report it, and `log repair` rewrite it from the journal; the next
/// publish then gets the next index, never an acknowledged one.
#[test]
fn a_deleted_or_rolled_back_checkpoint_is_refused_never_forgotten() {
    let tmp = TempDir::new("cli-v2-damage");
    let dir = tmp.file("log");
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let old_checkpoint = {
        let (_server, v) = serve(&dir);
        let c = client(&v);
        for n in 0..3 {
            c.publish(&message(&key, n)).unwrap();
        }
        let old = std::fs::read(dir.join("tiles/checkpoint")).unwrap();
        for n in 3..6 {
            c.publish(&message(&key, n)).unwrap();
        }
        old
    };
    let refuse_serve = |what: &str| {
        let o = serve_command(&dir).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{what}: {err}");
        assert!(err.contains("log repair"), "{what}: {err}");
        assert!(o.stdout.is_empty(), "{what}: it must not listen");
    };
    for (what, damage) in [
        ("deleted", None),
        ("an older genuine copy", Some(old_checkpoint.clone())),
    ] {
        match &damage {
            None => std::fs::remove_file(dir.join("tiles/checkpoint")).unwrap(),
            Some(b) => std::fs::write(dir.join("tiles/checkpoint"), b).unwrap(),
        }
        refuse_serve(what);
        let (code, out, _) = run(&["log", "check", dir.to_str().unwrap()]);
        assert_eq!(code, 1, "{what}: {out}");
        let report: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(report["healthy"], false, "{out}");
        assert_eq!(report["repairable"], true, "{out}");
        let (code, out, err) = run(&["log", "repair", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{what}: {out}{err}");
        assert!(
            out.contains(r#""rewritten":["checkpoint"]"#),
            "{what}: {out}"
        );
        let (code, _, _) = run(&["log", "check", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{what}");
    }
    // Served again: the next publish is index 6.
    let (_server, v) = serve(&dir);
    assert_eq!(v["treeSize"], 6);
    let m = client(&v).publish(&message(&key, 6)).unwrap();
    assert_eq!(m.entry.log_index, "6");
}

/// Issue 30, item 5: `log serve` refuses a directory holding the other
/// API's log (it used to start an empty log of its own beside it), and a
/// port in use before it creates anything.
#[test]
fn the_wrong_api_for_a_directory_or_a_port_in_use_creates_nothing() {
    let tmp = TempDir::created("cli-serve-refusals");
    let v2 = tmp.file("v2");
    drop(serve(&v2));
    let o = bin()
        .args(["log", "serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(&v2)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds a Rekor v2 (tile) log; serve it with --rekor-api 2"),
        "{err}"
    );
    assert!(!v2.join("log.json").exists());

    let v1 = tmp.file("v1");
    let mut c = bin();
    c.args(["log", "serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(&v1);
    let (child, _) = spawn_listening(c);
    drop(Killed(child));
    let o = serve_command(&v1).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds a Rekor v1 log; serve it with --rekor-api 1"),
        "{err}"
    );
    assert!(!v1.join("tilelog.json").exists());

    // A port in use: refused, and the directory is not made.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for api in ["1", "2"] {
        let dir = tmp.file(&format!("never-{api}"));
        let o = bin()
            .args(["log", "serve", "--rekor-api", api, "--addr", &addr, "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(0));
        assert!(
            !dir.exists(),
            "api {api}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

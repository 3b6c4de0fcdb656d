//! `attestlog witness serve` over loopback, witnessing `attestlog log
//! serve`: the embedded v1 log's own checkpoints (ECDSA, Rekor's key ids)
//! are cosigned as the log grows, the line verifies under the verifier key
//! the witness printed (and `witness vkey` prints), a stale size is a 409
//! naming what the witness knows — also after a SIGKILL and a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::time::Duration;

use attest_dsse::{Envelope, PublicKey, SigningKey};
use attest_merkle::Hash;
use attest_rekor::witness::{WitnessKey, WitnessPolicy};
use attest_rekor::{NoteSignature, SignedNote, TrustedLog};
use attest_tlog::AddCheckpoint;
use common::{bin, serve, spawn_listening};
use http::Request;
use rekor_client::{RekorClient, Transport, UreqTransport};
use serde_json::Value;

fn get(url: &str) -> Value {
    let r = UreqTransport::new()
        .send(
            Request::get(url).body(vec![]).unwrap(),
            Duration::from_secs(10),
        )
        .unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    serde_json::from_slice(r.body()).unwrap()
}

fn post(url: &str, body: String) -> (u16, String) {
    let r = UreqTransport::new()
        .send(
            Request::post(format!("{url}/add-checkpoint"))
                .body(body.into_bytes())
                .unwrap(),
            Duration::from_secs(10),
        )
        .unwrap();
    (
        r.status().as_u16(),
        String::from_utf8(r.body().clone()).unwrap(),
    )
}

struct Witness {
    child: std::process::Child,
    url: String,
    vkey: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn witness(dir: &std::path::Path, log: &str) -> Witness {
    let mut cmd = bin();
    cmd.args([
        "witness",
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--name",
        "witness.test/w1",
        "--log",
        log,
        "--dir",
    ])
    .arg(dir);
    let (child, v) = spawn_listening(cmd);
    Witness {
        child,
        url: v["listening"].as_str().unwrap().to_owned(),
        vkey: v["vkey"].as_str().unwrap().to_owned(),
    }
}

#[test]
fn a_witness_cosigns_the_embedded_logs_checkpoints_as_it_grows() {
    let tmp = attestlog_testkit::TempDir::created("witness-cli");
    let served = serve(&tmp.file("log"));
    let pem = std::fs::read_to_string(&served.public_key).unwrap();
    let mut trusted = TrustedLog::rekor_v1(&served.url, PublicKey::from_pem(&pem).unwrap());
    trusted.name = "attestlog.local".into();
    let client = RekorClient::new(&served.url, UreqTransport::new(), vec![trusted]);
    let signer = SigningKey::ed25519_from_seed(&[5; 32]);
    let publish = |n: u64| {
        let env = Envelope::sign(
            "application/vnd.in-toto+json",
            format!("{{\"n\":{n}}}").into_bytes(),
            &[&signer],
        )
        .unwrap();
        client.publish_dsse(&env, signer.public_key()).unwrap();
    };
    publish(0);
    let sth = |u: &str| {
        get(&format!("{u}/api/v1/log"))["signedTreeHead"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let note1 = sth(&served.url);
    let origin = note1.lines().next().unwrap().to_owned();
    let spec = format!("{origin}={}", served.public_key.display());
    let wdir = tmp.file("witness");
    let w = witness(&wdir, &spec);

    let policy = WitnessPolicy::new(vec![WitnessKey::from_vkey(&w.vkey).unwrap()], 1).unwrap();
    let check = |note: &str, lines: &str| {
        let mut n = SignedNote::parse(note).unwrap();
        for l in lines.lines() {
            n.push_signature(NoteSignature::parse_line(l).unwrap());
        }
        let now = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        policy.verify(&n, now).unwrap();
    };
    let (status, lines) = post(
        &w.url,
        AddCheckpoint {
            old: 0,
            proof: vec![],
            note: &note1,
        }
        .to_body(),
    );
    assert_eq!(status, 200, "{lines}");
    check(&note1, &lines);

    // The log grows; the witness follows with the log's own proof.
    publish(1);
    publish(2);
    let note3 = sth(&served.url);
    let proof: Vec<Hash> = get(&format!(
        "{}/api/v1/log/proof?firstSize=1&lastSize=3",
        served.url
    ))["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().parse().unwrap())
        .collect();
    let (status, lines) = post(
        &w.url,
        AddCheckpoint {
            old: 1,
            proof: proof.clone(),
            note: &note3,
        }
        .to_body(),
    );
    assert_eq!(status, 200, "{lines}");
    check(&note3, &lines);
    // A stale size: 409 with the size it knows.
    let stale = AddCheckpoint {
        old: 0,
        proof: vec![],
        note: &note3,
    }
    .to_body();
    assert_eq!(post(&w.url, stale.clone()), (409, "3\n".to_owned()));

    // `witness vkey` prints what `serve` printed.
    let out = bin()
        .args([
            "witness",
            "vkey",
            "--name",
            "witness.test/w1",
            "--witness-key",
        ])
        .arg(wdir.join("witness-key.pem"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), w.vkey);

    // Killed and restarted: it still knows size 3, with the same key.
    let vkey = w.vkey.clone();
    drop(w);
    let w = witness(&wdir, &spec);
    assert_eq!(w.vkey, vkey);
    assert_eq!(post(&w.url, stale), (409, "3\n".to_owned()));
}

#[test]
fn bad_log_specs_are_refused_before_anything_is_created() {
    let tmp = attestlog_testkit::TempDir::created("witness-cli-bad");
    let dir = tmp.file("w");
    for spec in ["not-a-spec", "origin=/nonexistent.pem", "=x.pem"] {
        let out = bin()
            .args([
                "witness",
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--name",
                "w.test/w",
                "--log",
                spec,
                "--dir",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("--log") || err.contains("nonexistent"),
            "{spec}: {err}"
        );
        assert!(!dir.exists(), "{spec}: created the directory");
    }
}

/// `verify-bundle --witness … [--witness-threshold K]`: a real managed-key
/// bundle (production Rekor v1, trusted from the TUF mirror) with
/// cosignatures added to its checkpoint.
#[test]
fn verify_bundle_requires_the_witnesses_it_is_given() {
    use attest_rekor::witness::Cosigner;
    let tmp = attestlog_testkit::TempDir::created("witness-verify");
    let suite = attestlog_testkit::vector_path("sigstore-conformance/bundle-verify");
    let case = suite.join("managed-key-happy-path");
    let artifact = suite.parent().unwrap().join("a.txt");
    let a = Cosigner::new("w.example/a", SigningKey::ed25519_from_seed(&[1; 32])).unwrap();
    let b = Cosigner::new("w.example/b", SigningKey::ed25519_from_seed(&[2; 32])).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(case.join("bundle.sigstore.json")).unwrap()).unwrap();
    let cp = &mut bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"];
    let mut note = SignedNote::parse(cp.as_str().unwrap()).unwrap();
    note.push_signature(a.cosign(note.text(), now - 5).unwrap());
    *cp = note.to_text().into();
    let path = tmp.file("cosigned.sigstore.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let verify = |extra: &[&str]| {
        let o = bin()
            .arg("verify-bundle")
            .arg("--bundle")
            .arg(&path)
            .arg("--key")
            .arg(case.join("key.pub"))
            .args(extra)
            .arg(&artifact)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (va, vb) = (a.witness().to_vkey(), b.witness().to_vkey());
    assert_eq!(verify(&[]).0, 0, "{}", verify(&[]).1);
    assert_eq!(
        verify(&["--witness", &va]).0,
        0,
        "{}",
        verify(&["--witness", &va]).1
    );
    let (code, out) = verify(&["--witness", &va, "--witness", &vb]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("witnesses") && out.contains("1 of the 2"),
        "{out}"
    );
    assert_eq!(
        verify(&[
            "--witness",
            &va,
            "--witness",
            &vb,
            "--witness-threshold",
            "1"
        ])
        .0,
        0
    );
    let (code, out) = verify(&["--witness", &vb]);
    assert_eq!(code, 1, "{out}");
    // Policies that mean nothing, and keys that are not keys: exit 2.
    assert_eq!(verify(&["--witness", &va, "--witness-threshold", "2"]).0, 2);
    assert_eq!(verify(&["--witness", &va, "--witness-threshold", "0"]).0, 2);
    assert_eq!(verify(&["--witness", &va, "--witness", &va]).0, 2);
    assert_eq!(verify(&["--witness", "w.example/a+00000000+AAAA"]).0, 2);
}

/// A witness whose key exists but whose state is gone refuses to start:
/// it would otherwise cosign a fork of what it cosigned before.
#[test]
fn a_witness_without_its_state_refuses_to_start() {
    let tmp = attestlog_testkit::TempDir::created("witness-cli-state");
    let spec = "example.com/log=NAME+00000000+AAAA";
    let key = SigningKey::ed25519_from_seed(&[9; 32]);
    let pem = tmp.file("log.pem");
    std::fs::write(&pem, key.public_key().to_pem()).unwrap();
    let spec = spec.replace("NAME+00000000+AAAA", pem.to_str().unwrap());
    let wdir = tmp.file("w");
    drop(witness(&wdir, &spec));
    assert!(wdir.join("witness-state.json").exists());
    std::fs::remove_file(wdir.join("witness-state.json")).unwrap();
    let o = bin()
        .args([
            "witness",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--name",
            "witness.test/w1",
        ])
        .args(["--log", &spec, "--dir"])
        .arg(&wdir)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is missing"), "{err}");
}

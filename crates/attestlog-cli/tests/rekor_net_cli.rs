//! `attestlog rekor info / get / consistency` against a scripted HTTP server
//! on loopback serving real production data and a synthetic log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::net::TcpListener;
use std::process::Command;

use attest_dsse::{Algorithm, SigningKey};
use attest_merkle::{Checkpoint, MerkleTree};
use attest_rekor::{SignedNote, TrustedLog};
use serde_json::{Value, json};

fn vectors(name: &str) -> String {
    attestlog_testkit::vector_path(name).display().to_string()
}

/// Serves one `(status, body)` per connection, in order, on `l`.
fn start(l: TcpListener, bodies: Vec<(u16, String)>) -> std::thread::JoinHandle<Vec<String>> {
    attestlog_testkit::http::serve_on(
        l,
        bodies
            .into_iter()
            .map(|(status, body)| attestlog_testkit::http::Scripted::new(status, body))
            .collect(),
    )
}

fn attestlog(args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(args)
        .env_remove("REKOR_URL")
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| json!({"stderr": String::from_utf8_lossy(&out.stderr)}));
    (out.status.code(), v)
}

fn hex(b: &Value) -> String {
    attestlog_testkit::hex_of_b64(b.as_str().unwrap())
}

#[test]
fn info_and_get_on_production_data() {
    let raw: Value =
        serde_json::from_slice(&std::fs::read(vectors("prod-v1-dsse-v001.sigstore.json")).unwrap())
            .unwrap();
    let e = &raw["verificationMaterial"]["tlogEntries"][0];
    let p = &e["inclusionProof"];
    let info = json!({
        "rootHash": hex(&p["rootHash"]), "treeSize": p["treeSize"].as_str().unwrap().parse::<u64>().unwrap(),
        "signedTreeHead": p["checkpoint"]["envelope"], "treeID": "1193050959916656506", "inactiveShards": [{"rootHash": "00".repeat(32), "treeSize": 1, "signedTreeHead": "x", "treeID": "1"}],
    });
    let mut entry = attestlog_testkit::rest_entry(&raw, "24296fb24b8ad77a");
    let good = entry.to_string();
    let key = entry.as_object().unwrap().keys().next().unwrap().clone();
    entry[&key]["integratedTime"] = (entry[&key]["integratedTime"].as_i64().unwrap() + 1).into();
    let lying = entry.to_string();

    let (l, base) = attestlog_testkit::http::listener();
    let server = start(
        l,
        vec![
            (200, info.to_string()),
            (200, good),
            (200, lying),
            (404, String::new()),
        ],
    );
    let root = vectors("trusted_root.json");
    let (code, v) = attestlog(&[
        "rekor",
        "info",
        "--rekor-url",
        &base,
        "--trusted-root",
        &root,
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["treeSize"], 33_786_589);
    assert_eq!(v["inactiveShards"], 1);
    let (code, v) = attestlog(&[
        "rekor",
        "get",
        "--rekor-url",
        &base,
        "--trusted-root",
        &root,
        "--index",
        "155690850",
    ]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        (v["logIndex"].as_u64(), v["shardIndex"].as_u64()),
        (Some(155_690_850), Some(33_786_588))
    );
    let (code, v) = attestlog(&[
        "rekor",
        "get",
        "--rekor-url",
        &base,
        "--trusted-root",
        &root,
        "--index",
        "155690850",
    ]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "set" && c["outcome"] == "failed")
    );
    let (code, v) = attestlog(&[
        "rekor",
        "get",
        "--rekor-url",
        &base,
        "--trusted-root",
        &root,
        &"ab".repeat(32),
    ]);
    assert_eq!(code, Some(1), "{v}");
    let seen = server.join().unwrap();
    assert_eq!(seen[0], "GET /api/v1/log HTTP/1.1");
    assert_eq!(
        seen[1],
        "GET /api/v1/log/entries?logIndex=155690850 HTTP/1.1"
    );
}

#[test]
fn consistency_from_a_kept_checkpoint() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let mut tree = MerkleTree::new();
    for i in 0u32..40 {
        tree.push(&i.to_be_bytes());
    }
    let (l, base) = attestlog_testkit::http::listener();
    let log = TrustedLog::rekor_v1(&base, key.public_key().clone());
    let note = |size: u64| {
        let text = Checkpoint::new("test-log - 9", size, tree.root_at(size).unwrap())
            .unwrap()
            .to_string();
        SignedNote::sign(&text, &log.name, log.note_verifier().key_id(), &key)
            .unwrap()
            .to_text()
    };
    let info = json!({"rootHash": tree.root().to_string(), "treeSize": 40, "signedTreeHead": note(40), "treeID": "9"});
    let proof: Vec<String> = tree
        .consistency_proof(25, 40)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let wrong: Vec<String> = tree
        .consistency_proof(24, 40)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let server = start(
        l,
        vec![
            (200, info.to_string()),
            (
                200,
                json!({"rootHash": tree.root().to_string(), "hashes": proof}).to_string(),
            ),
            (200, info.to_string()),
            (
                200,
                json!({"rootHash": tree.root().to_string(), "hashes": wrong}).to_string(),
            ),
        ],
    );
    let tmp = attestlog_testkit::TempDir::created("rekor-net");
    let dir = tmp.path().to_path_buf();
    let (kept, pem) = (dir.join("checkpoint.txt"), dir.join("log.pub.pem"));
    std::fs::write(&kept, note(25)).unwrap();
    std::fs::write(&pem, key.public_key().to_pem()).unwrap();
    let args = [
        "rekor",
        "consistency",
        "--rekor-url",
        &base,
        "--log-key",
        pem.to_str().unwrap(),
        "--from",
        kept.to_str().unwrap(),
    ];
    let (code, v) = attestlog(&args);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        (v["from"]["treeSize"].as_u64(), v["to"]["treeSize"].as_u64()),
        (Some(25), Some(40))
    );
    let (code, v) = attestlog(&args);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["verified"], false);
    server.join().unwrap();
}

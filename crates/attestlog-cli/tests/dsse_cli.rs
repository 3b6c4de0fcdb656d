//! `attestlog keygen`, `dsse sign`, `dsse verify` and `keys export` through the
//! real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn attestlog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn tmp() -> attestlog_testkit::TempDir {
    attestlog_testkit::TempDir::created("dsse-cli")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const T: &str = "application/vnd.in-toto+json";

#[test]
fn keygen_sign_verify_and_key_sets() {
    let tmp = tmp();
    let dir = tmp.path().to_path_buf();
    let key = dir.join("key.pem");
    let out = attestlog(&["keygen", "--alg", "p256", "--out", s(&key)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = json(&out);
    let keyid = info["keyid"].as_str().unwrap().to_owned();
    assert!(keyid.starts_with("sha256:"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Never overwrites.
    let again = attestlog(&["keygen", "--out", s(&key)]);
    assert_eq!(again.status.code(), Some(2));
    let pubkey = dir.join("key.pub.pem");
    std::fs::write(&pubkey, info["publicKeyPem"].as_str().unwrap()).unwrap();

    let payload = dir.join("statement.json");
    std::fs::write(&payload, br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"x","predicate":{}}"#).unwrap();
    let out = attestlog(&[
        "dsse",
        "sign",
        "--key",
        s(&key),
        "--payload-type",
        T,
        s(&payload),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let env = dir.join("env.json");
    std::fs::write(&env, &out.stdout).unwrap();

    let out = attestlog(&[
        "dsse",
        "verify",
        "--key",
        s(&pubkey),
        "--payload-type",
        T,
        s(&env),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    assert_eq!(report["verified"], true);
    assert_eq!(report["keyids"][0], keyid.as_str());

    // Wrong payload type: a verification failure, exit 1.
    let out = attestlog(&[
        "dsse",
        "verify",
        "--key",
        s(&pubkey),
        "--payload-type",
        "text/plain",
        s(&env),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"], "wrong-payload-type");

    // A key set with a window: valid inside, not outside.
    let out = attestlog(&[
        "keys",
        "export",
        "--valid-from",
        "2026-01-01T00:00:00Z",
        "--valid-until",
        "2026-12-31T23:59:59Z",
        s(&pubkey),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let set = dir.join("attestation-keys.json");
    std::fs::write(&set, &out.stdout).unwrap();
    let verify_at = |at: &str| {
        attestlog(&[
            "dsse",
            "verify",
            "--key",
            s(&set),
            "--payload-type",
            T,
            "--at",
            at,
            s(&env),
        ])
    };
    assert_eq!(verify_at("2026-06-01T00:00:00Z").status.code(), Some(0));
    let out = verify_at("2027-01-01T00:00:00Z");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"], "threshold-not-met");

    // Threshold 2 with one trusted key can never pass: a usage error.
    let out = attestlog(&[
        "dsse",
        "verify",
        "--key",
        s(&pubkey),
        "--payload-type",
        T,
        "--threshold",
        "2",
        s(&env),
    ]);
    assert_eq!(out.status.code(), Some(2));

    // Malformed input: exit 2 and a message naming the file.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        br#"{"payload":"QQ==","payload":"QQ==","payloadType":"t","signatures":[]}"#,
    )
    .unwrap();
    let out = attestlog(&[
        "dsse",
        "verify",
        "--key",
        s(&pubkey),
        "--payload-type",
        T,
        s(&bad),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("duplicate member"),
        "{err}"
    );
    let out = attestlog(&[
        "dsse",
        "verify",
        "--key",
        s(&payload),
        "--payload-type",
        T,
        s(&env),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

//! `attestlog trust update|show` and the TUF flags through the real binary,
//! against Sigstore's TUF repository as published, served over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::process::Output;

use attestlog_testkit::TempDir;
use attestlog_testkit::files::{FileServer, Reply, TUF_CLOCK, sigstore_tuf_layout};
use serde_json::Value;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn path(p: &str) -> String {
    attestlog_testkit::vector_path(p).display().to_string()
}

/// `attestlog ARGS` with TUF from `server` (trusted from root 5 of the
/// published chain), caching in `cache`.
fn run(server: &FileServer, cache: &TempDir, args: &[&str]) -> Output {
    common::clean(std::process::Command::new(env!("CARGO_BIN_EXE_attestlog")))
        .args(args)
        .args(["--tuf-url", server.base(), "--tuf-root"])
        .arg(path(
            "tuf/sigstore-root-signing/metadata/root_history/5.root.json",
        ))
        .arg("--tuf-cache")
        .arg(cache.path())
        .env("ATTESTLOG_TUF_CLOCK", TUF_CLOCK)
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn verify_args() -> Vec<String> {
    let case = "sigstore-conformance/bundle-verify/happy-path-v0.3";
    vec![
        "verify-bundle".into(),
        "--bundle".into(),
        path(&format!("{case}/bundle.sigstore.json")),
        "--certificate-identity".into(),
        IDENTITY.into(),
        "--certificate-oidc-issuer".into(),
        ISSUER.into(),
    ]
}

fn verify(server: &FileServer, cache: &TempDir, extra: &[&str]) -> Output {
    let mut args = verify_args();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    // The artifact is the positional argument; the TUF flags come after it
    // (clap takes them anywhere).
    args.push(path("sigstore-conformance/a.txt"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(server, cache, &args)
}

#[test]
fn update_then_show_then_verify_with_trust_from_tuf_alone() {
    let server = FileServer::start(sigstore_tuf_layout());
    let cache = TempDir::new("cli-tuf");
    let up = json(&run(&server, &cache, &["trust", "update"]));
    assert_eq!(up["root"]["version"], 15);
    assert_eq!(up["targets"]["version"], 14);
    assert_eq!(up["offline"], false);
    let logs = up["tlogs"].as_array().unwrap();
    assert!(
        logs.iter()
            .any(|l| l["baseUrl"] == "https://log2025-1.rekor.sigstore.dev"
                && l["validFor"]["start"] == "2025-09-23T00:00:00Z"),
        "{up}"
    );
    assert_eq!(
        up["signingConfig"]["rekorTlogs"][0],
        "https://rekor.sigstore.dev"
    );

    // `show` reads the cache: the same, offline.
    let shown = json(&run(&server, &cache, &["trust", "show"]));
    assert_eq!(shown["offline"], true);
    assert_eq!(shown["root"], up["root"]);
    assert_eq!(shown["tlogs"], up["tlogs"]);

    // A production bundle verifies with no --trusted-root: online ...
    let v = json(&verify(&server, &cache, &[]));
    assert_eq!(v["verified"], true);
    // ... and offline, with the server unreachable.
    drop(server);
    let gone = FileServer::start(std::collections::HashMap::new());
    let v = json(&verify(&gone, &cache, &["--offline"]));
    assert_eq!(v["verified"], true);
    // Online with nothing to fetch: refused, never the cache silently.
    let o = verify(&gone, &cache, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is not in the TUF repository"), "{err}");
    assert!(err.contains("--offline"), "{err}");

    // `rekor-v2 select` takes the signing config from the cache too.
    let sel = json(&run(&gone, &cache, &["rekor-v2", "select", "--offline"]));
    assert_eq!(sel["rekorTlogs"][0]["url"], "https://rekor.sigstore.dev");
}

#[test]
fn offline_without_a_cache_says_how_to_make_one() {
    let server = FileServer::start(sigstore_tuf_layout());
    let cache = TempDir::new("cli-tuf-none");
    for args in [vec!["trust", "show"], vec!["trust", "update", "--offline"]] {
        let o = run(&server, &cache, &args);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("no cached TUF metadata"), "{err}");
        assert!(err.contains("attestlog trust update"), "{err}");
    }
    let o = verify(&server, &cache, &["--offline"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_tampered_trusted_root_is_refused_before_any_verification() {
    let server = FileServer::start(sigstore_tuf_layout());
    let targets: Value = serde_json::from_slice(
        &std::fs::read(path("tuf/sigstore-root-signing/metadata/targets.json")).unwrap(),
    )
    .unwrap();
    let hash = targets["signed"]["targets"]["trusted_root.json"]["hashes"]["sha256"]
        .as_str()
        .unwrap();
    let at = format!("/targets/{hash}.trusted_root.json");
    let mut bytes = server.get(&at).unwrap();
    // An attacker's log key in place of one byte of the real one.
    bytes[200] ^= 1;
    server.set(&at, Reply::Bytes(bytes));
    let cache = TempDir::new("cli-tuf-tamper");
    let o = verify(&server, &cache, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("integrity check failed"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_file_pins_trust_and_the_tuf_repository_is_not_asked() {
    let server = FileServer::start(sigstore_tuf_layout());
    let cache = TempDir::new("cli-tuf-pinned");
    let o = verify(
        &server,
        &cache,
        &["--trusted-root", &path("trusted_root.json")],
    );
    assert_eq!(json(&o)["verified"], true);
    assert!(server.take_requests().is_empty());
}

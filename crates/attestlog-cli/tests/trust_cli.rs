//! `attestlog trust update|show` and the TUF flags through the real binary,
//! against Sigstore's TUF repository as published, served over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::process::Output;

use attestlog_testkit::TempDir;
use attestlog_testkit::files::{FileServer, Reply, TUF_CLOCK, TufRepo, sigstore_tuf_layout};
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

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private Sigstore: our own Rekor v2 log and TSA (`log serve --rekor-api 2`),
/// its client trust configuration (`log trusted-root --trust-config`)
/// published as the targets of a TUF repository of our own. The pipeline
/// — attest, audit, export, verify — is given only the repository and its
/// initial root: no trusted root, signing config, log URL or key file.
#[test]
fn a_private_sigstore_the_pipeline_trusts_through_tuf_alone() {
    let tmp = TempDir::created("cli-tuf-private");
    let mut serve = common::bin();
    serve
        .args([
            "log",
            "serve",
            "--rekor-api",
            "2",
            "--addr",
            "127.0.0.1:0",
            "--dir",
        ])
        .arg(tmp.file("log"));
    let (child, served) = common::spawn_listening(serve);
    let _server = Killed(child);

    let o = common::bin()
        .args(["log", "trusted-root", "--trust-config"])
        .arg(tmp.file("log"))
        .output()
        .unwrap();
    let tc = json(&o);
    assert_eq!(
        tc["mediaType"],
        "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
    );
    let logs = &tc["signingConfig"]["rekorTlogUrls"];
    assert_eq!(logs[0]["url"], served["listening"]);
    assert_eq!(logs[0]["majorApiVersion"], 2);
    assert_eq!(tc["signingConfig"]["tsaUrls"][0]["url"], served["tsaUrl"]);
    // The file is a trust document every command reads.
    let tc_path = tmp.file("trust_config.json");
    std::fs::write(&tc_path, &o.stdout).unwrap();

    let repo = TufRepo::new(
        1,
        1,
        1,
        &[
            (
                "trusted_root.json",
                &serde_json::to_vec(&tc["trustedRoot"]).unwrap(),
            ),
            (
                "signing_config.v0.2.json",
                &serde_json::to_vec(&tc["signingConfig"]).unwrap(),
            ),
        ],
    );
    let tuf = FileServer::start(repo.files.clone());
    let initial = tmp.file("root.json");
    std::fs::write(&initial, repo.root()).unwrap();
    let cache = tmp.file("tuf-cache");
    let run = |args: &[&str]| {
        let o = common::bin()
            .args(args)
            .env("ATTESTLOG_TUF_URL", tuf.base())
            .env("ATTESTLOG_TUF_ROOT", &initial)
            .env("ATTESTLOG_TUF_CACHE", &cache)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };

    let key = tmp.file("signer.pem");
    let k = key.to_str().unwrap();
    let (code, _, err) = run(&["keygen", "--alg", "p256", "--out", k]);
    assert_eq!(code, 0, "{err}");
    let (code, doc, err) = run(&["keys", "serve-doc", "--key", k]);
    assert_eq!(code, 0, "{err}");
    let keys = tmp.file("attestation-keys.json");
    std::fs::write(&keys, doc).unwrap();
    let predicate = tmp.file("predicate.json");
    std::fs::write(&predicate, br#"{"ok":true}"#).unwrap();
    let db = tmp.file("store.db");
    let db = db.to_str().unwrap();
    let subject = format!("app@sha256:{:064x}", 7);

    let (code, out, err) = run(&[
        "attest",
        "--tenant",
        "acme",
        "--subject",
        &subject,
        "--predicate-type",
        "https://example.com/p",
        "--predicate",
        predicate.to_str().unwrap(),
        "--key",
        k,
        "--db",
        db,
        "--signing-config",
        "tuf",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let attested: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(attested["rekorApi"], 2, "{attested}");
    assert_eq!(attested["logIndex"], 0);
    assert!(attested["timestampTime"].as_i64().is_some());

    let (code, out, err) = run(&[
        "audit",
        "--tenant",
        "acme",
        "--all",
        "--json",
        "--key",
        keys.to_str().unwrap(),
        "--db",
        db,
        "--baseline",
        tmp.file("baseline.json").to_str().unwrap(),
        "--signing-config",
        "tuf",
        "--trust-current-tree",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(r#""audited":1,"failed":0,"passed":1"#),
        "{out}"
    );
    assert!(
        out.contains(r#""check":"timestamp","outcome":"passed""#),
        "{out}"
    );

    let id = attested["attestationId"].as_str().unwrap();
    let (code, bundle, err) = run(&["bundle", "export", "--db", db, id]);
    assert_eq!(code, 0, "{err}");
    let bundle_path = tmp.file("a.sigstore.json");
    std::fs::write(&bundle_path, bundle).unwrap();
    let digest = format!("sha256:{:064x}", 7);
    let b = bundle_path.to_str().unwrap();
    // With trust from TUF alone, and with the trust config file pinned.
    for pinned in [None, Some(tc_path.to_str().unwrap())] {
        let mut args = vec!["verify-bundle", "--bundle", b, "--key", k];
        if let Some(p) = pinned {
            args.extend(["--trusted-root", p]);
        }
        args.push(&digest);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{pinned:?}: {out}{err}");
        assert!(out.contains(r#""verified":true"#), "{out}");
    }

    // The v2 commands read the log with the TUF root's key for it.
    let url = served["listening"].as_str().unwrap();
    let (code, out, err) = run(&["rekor-v2", "checkpoint", "--rekor-url", url]);
    assert_eq!(code, 0, "{out}{err}");
    let cp: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cp["treeSize"], 1, "{cp}");
    let (code, out, err) = run(&["rekor-v2", "entry", "--rekor-url", url, "0"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(r#""included":true"#), "{out}");
    // And pick it from the repository's signing config.
    let (code, out, err) = run(&["rekor-v2", "select"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(url), "{out}");
    // A log the TUF root does not list is refused before any request.
    let (code, _, err) = run(&[
        "rekor-v2",
        "checkpoint",
        "--rekor-url",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("lists no log at http://127.0.0.1:1"), "{err}");

    // Sigstore's production root (the default repository) does not vouch
    // for this log: the same bundle is refused by the log-key check.
    let mut prod = common::bin();
    let o = prod
        .args(["verify-bundle", "--bundle", b, "--key", k, &digest])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `checkpoint verify` with neither a key nor a root: any log of the TUF
/// repository's trusted root may have signed (the production mirror of
/// `common::bin`); the same note with a byte changed is refused.
#[test]
fn checkpoint_verify_trusts_the_tuf_root_by_default() {
    let bundle: Value = serde_json::from_slice(
        &std::fs::read(path(
            "sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let note = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .unwrap()
        .to_owned();
    let tmp = TempDir::created("cli-tuf-checkpoint");
    let verify = |text: &str| {
        let f = tmp.file("note");
        std::fs::write(&f, text).unwrap();
        common::bin()
            .args(["checkpoint", "verify"])
            .arg(&f)
            .output()
            .unwrap()
    };
    let o = verify(&note);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("rekor.sigstore.dev"));
    let o = verify(&note.replacen("rekor.sigstore.dev", "rekor.sigstore.dew", 1));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

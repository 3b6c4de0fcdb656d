//! The TUF client against repositories served over loopback: Sigstore's
//! public-good repository as published (`vectors/tuf`), laid out as its CDN
//! serves it, and small repositories signed here with keys of our own
//! where an attack needs metadata Sigstore never signed (a rollback).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;

use attest_dsse::Timestamp;
use attest_rekor::{Artifact, Bundle, Policy, SignerPolicy, TrustedRoot, Verifier};
use attestlog_testkit::TempDir;
use attestlog_testkit::files::{FileServer, Reply, TufRepo, sigstore_tuf_layout};
use rekor_client::UreqTransport;
use rekor_client::tuf::{TufClient, TufError, TufRepository};
use serde_json::Value;

/// Inside the published timestamp's window (2026-08-21T19:25 to 08-28).
fn in_window() -> Timestamp {
    Timestamp::parse_rfc3339("2026-08-22T00:00:00Z").unwrap()
}

fn vector(p: &str) -> Vec<u8> {
    std::fs::read(attestlog_testkit::vector_path(&format!(
        "tuf/sigstore-root-signing/{p}"
    )))
    .unwrap()
}

fn root(version: u64) -> Vec<u8> {
    vector(&format!("metadata/root_history/{version}.root.json"))
}

fn client(server: &FileServer, initial: Vec<u8>, cache: &Path) -> TufClient {
    TufClient::new(TufRepository::custom(server.base(), initial)).with_cache_dir(cache)
}

fn update(c: &TufClient, at: Timestamp) -> Result<rekor_client::tuf::SigstoreTrust, TufError> {
    c.update(&UreqTransport::new(), &move || at)
}

/// The path the layout serves target `name` at.
fn target_path(server: &FileServer, name: &str) -> String {
    let targets: Value = serde_json::from_slice(&vector("metadata/targets.json")).unwrap();
    let hash = targets["signed"]["targets"][name]["hashes"]["sha256"]
        .as_str()
        .unwrap();
    let path = format!("/targets/{hash}.{name}");
    assert!(server.get(&path).is_some());
    path
}

#[test]
fn bootstraps_from_root_5_to_15_and_the_trusted_root_verifies_a_production_bundle() {
    let server = FileServer::start(sigstore_tuf_layout());
    let cache = TempDir::new("tuf-boot");
    let trust = update(&client(&server, root(5), cache.path()), in_window()).unwrap();

    let m = &trust.metadata;
    assert_eq!(m.root.0, 15);
    assert_eq!(
        m.root.1,
        Timestamp::parse_rfc3339("2026-11-20T13:58:18Z").unwrap()
    );
    assert_eq!(m.targets.0, 14);
    assert!(!m.offline);
    // The targets' bytes, exactly.
    assert_eq!(trust.trusted_root, vector("targets/trusted_root.json"));
    assert_eq!(
        trust.signing_config.as_deref(),
        Some(&vector("targets/signing_config.v0.2.json")[..])
    );
    // Every root from 6 to 15 was fetched, in order, and 16 was asked for.
    let requests = server.take_requests();
    let roots: Vec<&String> = requests
        .iter()
        .filter(|r| r.ends_with(".root.json"))
        .collect();
    let expected: Vec<String> = (6..=16).map(|v| format!("/{v}.root.json")).collect();
    assert_eq!(roots, expected.iter().collect::<Vec<_>>());

    // The trusted root verifies a production keyless bundle.
    let case = attestlog_testkit::vector_path("sigstore-conformance/bundle-verify/happy-path-v0.3");
    let bundle =
        Bundle::from_json(&std::fs::read(case.join("bundle.sigstore.json")).unwrap()).unwrap();
    let artifact = Artifact::of_bytes(
        &std::fs::read(attestlog_testkit::vector_path("sigstore-conformance/a.txt")).unwrap(),
    );
    let policy = Policy::new(
        SignerPolicy::identity(
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            "https://token.actions.githubusercontent.com",
        ),
        Timestamp::now(),
    );
    let verifier = Verifier::new(TrustedRoot::from_json(&trust.trusted_root).unwrap());
    verifier.verify(&bundle, &artifact, &policy).unwrap();
}

#[test]
fn the_embedded_production_root_chains_from_the_published_root_15() {
    // Serve root 16 (the embedded one) after the published 1..15: a client
    // that trusts 15 accepts 16 only if 15's root keys signed it.
    let mut files = sigstore_tuf_layout();
    let embedded = TufRepository::production().initial_root().to_vec();
    files.insert("/16.root.json".into(), embedded);
    let server = FileServer::start(files);
    let cache = TempDir::new("tuf-16");
    // Root 16 keeps the online keys that signed the published timestamp.
    let trust = update(&client(&server, root(15), cache.path()), in_window()).unwrap();
    assert_eq!(trust.metadata.root.0, 16);
    let cached: Value =
        serde_json::from_slice(&std::fs::read(cache.file("root.json")).unwrap()).unwrap();
    assert_eq!(cached["signed"]["version"], 16);
}

#[test]
fn the_embedded_roots_are_roots_signed_to_their_threshold() {
    // An update against an empty server: the initial root is checked first
    // (a malformed one would be InitialRoot), then root 17 / 16 is missing
    // and timestamp.json is too.
    let server = FileServer::start(HashMap::new());
    for repo in [TufRepository::production(), TufRepository::staging()] {
        let cache = TempDir::new("tuf-embedded");
        let c = TufClient::new(TufRepository::custom(
            server.base(),
            repo.initial_root().to_vec(),
        ))
        .with_cache_dir(cache.path());
        let err = update(&c, in_window()).unwrap_err();
        assert!(
            matches!(&err, TufError::Missing { file } if file == "timestamp.json"),
            "{err:?}"
        );
    }
    let err = update(
        &TufClient::new(TufRepository::custom(server.base(), b"{}".to_vec())).without_cache(),
        in_window(),
    )
    .unwrap_err();
    assert!(matches!(err, TufError::InitialRoot(_)), "{err:?}");
}

#[test]
fn a_target_whose_bytes_do_not_match_its_hash_or_length_is_refused() {
    let server = FileServer::start(sigstore_tuf_layout());
    let path = target_path(&server, "trusted_root.json");
    let good = server.get(&path).unwrap();

    // Same length, one byte changed.
    let mut flipped = good.clone();
    flipped[100] ^= 1;
    server.set(&path, Reply::Bytes(flipped));
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-t1").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(matches!(err, TufError::Integrity { .. }), "{err:?}");

    // One byte longer: refused before any hashing.
    let mut longer = good.clone();
    longer.push(b'\n');
    server.set(&path, Reply::Bytes(longer));
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-t2").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(matches!(err, TufError::TooLarge { .. }), "{err:?}");

    // One byte shorter.
    server.set(&path, Reply::Bytes(good[..good.len() - 1].to_vec()));
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-t3").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(matches!(err, TufError::Integrity { .. }), "{err:?}");
}

#[test]
fn expired_metadata_is_refused_at_the_real_clock_and_after_the_timestamp_window() {
    let server = FileServer::start(sigstore_tuf_layout());
    // After the timestamp expired, before root 15 did.
    let september = Timestamp::parse_rfc3339("2026-09-15T00:00:00Z").unwrap();
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-e1").path()),
        september,
    )
    .unwrap_err();
    assert!(
        matches!(&err, TufError::Expired { role, expires } if role == "timestamp"
            && *expires == Timestamp::parse_rfc3339("2026-08-28T19:25:56Z").unwrap()),
        "{err:?}"
    );
    // The real clock: everything published at that commit has expired
    // (root 15 first, on 2026-11-20).
    let err = TufClient::new(TufRepository::custom(server.base(), root(15)))
        .with_cache_dir(TempDir::new("tuf-e2").path())
        .update(&UreqTransport::new(), &attest_dsse::SystemClock)
        .unwrap_err();
    assert!(matches!(err, TufError::Expired { .. }), "{err:?}");
}

/// Root `version` with its signatures cut to the first `keep`.
fn root_with_signatures(version: u64, keep: usize) -> (Vec<u8>, usize) {
    let mut v: Value = serde_json::from_slice(&root(version)).unwrap();
    let threshold = v["signed"]["roles"]["root"]["threshold"].as_u64().unwrap() as usize;
    v["signatures"].as_array_mut().unwrap().truncate(keep);
    (serde_json::to_vec(&v).unwrap(), threshold)
}

#[test]
fn a_root_signed_by_fewer_keys_than_its_threshold_is_refused() {
    let server = FileServer::start(sigstore_tuf_layout());
    let (_, threshold) = root_with_signatures(7, 0);
    // Re-serialized JSON is fine: TUF signs the canonical form of `signed`.
    let (short, _) = root_with_signatures(7, threshold - 1);
    server.set("/7.root.json", Reply::Bytes(short));
    let err = update(
        &client(&server, root(6), TempDir::new("tuf-th").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TufError::Threshold { role, found, threshold: t }
            if role == "root" && *found < *t),
        "{err:?}"
    );
}

#[test]
fn a_root_with_a_signature_repeated_is_refused() {
    let server = FileServer::start(sigstore_tuf_layout());
    let mut v: Value = serde_json::from_slice(&root(7)).unwrap();
    let first = v["signatures"][0].clone();
    v["signatures"].as_array_mut().unwrap().push(first);
    server.set(
        "/7.root.json",
        Reply::Bytes(serde_json::to_vec(&v).unwrap()),
    );
    let err = update(
        &client(&server, root(6), TempDir::new("tuf-dup").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(err, TufError::DuplicateSignature { .. }),
        "{err:?}"
    );
}

#[test]
fn a_root_chain_with_a_gap_is_refused() {
    let server = FileServer::start(sigstore_tuf_layout());
    // The server skips version 7: it offers 8 where 7 belongs.
    server.set("/7.root.json", Reply::Bytes(root(8)));
    let err = update(
        &client(&server, root(6), TempDir::new("tuf-gap").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TufError::RootChain {
                trusted: 6,
                offered: 8
            } | TufError::Threshold { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn an_endless_or_oversized_response_is_cut_off() {
    let server = FileServer::start(sigstore_tuf_layout());
    server.set("/timestamp.json", Reply::Endless);
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-end").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TufError::Fetch { file, .. } if file == "timestamp.json"),
        "{err:?}"
    );

    // A finite body over the timestamp's limit (16 KiB).
    server.set("/timestamp.json", Reply::Bytes(vec![b' '; 100_000]));
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-big").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TufError::TooLarge { file, .. } if file == "timestamp.json"),
        "{err:?}"
    );
}

#[test]
fn metadata_from_another_repository_is_refused() {
    // Our own repository's timestamp, served as Sigstore's.
    let ours = ours(2, 2, 2);
    let server = FileServer::start(sigstore_tuf_layout());
    server.set(
        "/timestamp.json",
        Reply::Bytes(ours.files["/timestamp.json"].clone()),
    );
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-other").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TufError::Threshold { role, found: 0, .. } if role == "timestamp"),
        "{err:?}"
    );
    // And its root as the next one in Sigstore's chain.
    server.set(
        "/16.root.json",
        Reply::Bytes(ours.files["/1.root.json"].clone()),
    );
    let err = update(
        &client(&server, root(15), TempDir::new("tuf-other2").path()),
        in_window(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TufError::Threshold { role, .. } if role == "root")
            || matches!(err, TufError::RootChain { .. }),
        "{err:?}"
    );
}

#[test]
fn offline_uses_the_cache_and_without_one_says_so() {
    let cache = TempDir::new("tuf-off");
    let online = {
        let server = FileServer::start(sigstore_tuf_layout());
        update(&client(&server, root(5), cache.path()), in_window()).unwrap()
        // The server stops here.
    };
    let c = TufClient::new(TufRepository::custom("http://127.0.0.1:1", root(5)))
        .with_cache_dir(cache.path());
    let offline = c.offline(&in_window).unwrap();
    assert!(offline.metadata.offline);
    assert_eq!(offline.trusted_root, online.trusted_root);
    assert_eq!(offline.signing_config, online.signing_config);
    assert_eq!(offline.metadata.root, online.metadata.root);
    // Online with the server gone: a fetch error, not the cache.
    let err = update(&c, in_window()).unwrap_err();
    assert!(matches!(err, TufError::Fetch { .. }), "{err:?}");
    // Offline after the cached timestamp expired.
    let september = Timestamp::parse_rfc3339("2026-09-15T00:00:00Z").unwrap();
    let err = c.offline(&move || september).unwrap_err();
    assert!(matches!(err, TufError::Expired { .. }), "{err:?}");

    let empty = TempDir::new("tuf-none");
    let err = client_at("http://127.0.0.1:1", empty.path())
        .offline(&in_window)
        .unwrap_err();
    assert!(matches!(err, TufError::NoCache { .. }), "{err:?}");
    let err = TufClient::new(TufRepository::custom("http://127.0.0.1:1", root(5)))
        .without_cache()
        .offline(&in_window)
        .unwrap_err();
    assert!(matches!(err, TufError::NoCacheDir), "{err:?}");
}

fn client_at(url: &str, cache: &Path) -> TufClient {
    TufClient::new(TufRepository::custom(url, root(5))).with_cache_dir(cache)
}

#[test]
fn a_flipped_cache_file_is_never_used() {
    let server = FileServer::start(sigstore_tuf_layout());
    let cache = TempDir::new("tuf-flip");
    let c = client(&server, root(5), cache.path());
    let good = update(&c, in_window()).unwrap();
    // One bit of the first digit after `at` (a version or a date in the
    // signed part of metadata; anywhere in a target).
    let flip_after = |name: &str, at: &str| {
        let p = cache.file(name);
        let mut b = std::fs::read(&p).unwrap();
        let start = b
            .windows(at.len())
            .position(|w| w == at.as_bytes())
            .unwrap();
        let digit = start + b[start..].iter().position(u8::is_ascii_digit).unwrap();
        b[digit] ^= 1;
        std::fs::write(&p, b).unwrap();
    };
    let flip = |name: &str| flip_after(name, "\"expires\"");

    // A flipped target: offline refuses it, online fetches it again.
    flip_after("targets/trusted_root.json", "\"start\"");
    let err = c.offline(&in_window).unwrap_err();
    assert!(
        matches!(&err, TufError::NotCached { file } if file.ends_with(".trusted_root.json")),
        "{err:?}"
    );
    let _ = server.take_requests();
    let again = update(&c, in_window()).unwrap();
    assert_eq!(again.trusted_root, good.trusted_root);
    let path = target_path(&server, "trusted_root.json");
    assert!(server.take_requests().contains(&path));
    // ... and the cache holds the good bytes again.
    assert_eq!(
        c.offline(&in_window).unwrap().trusted_root,
        good.trusted_root
    );

    // Flipped metadata: refused offline, replaced online.
    flip("timestamp.json");
    assert!(c.offline(&in_window).is_err());
    assert_eq!(update(&c, in_window()).unwrap(), good);
    assert_eq!(
        c.offline(&in_window).unwrap().trusted_root,
        good.trusted_root
    );

    // A flipped cached root: the chain is walked again from the network.
    flip("root_history/15.root.json");
    assert_eq!(update(&c, in_window()).unwrap(), good);
}

/// Our repository's release `v`: one target, `trusted_root.json`.
fn release(v: u64) -> Vec<u8> {
    format!("{{\"mediaType\":\"ours\",\"v\":{v}}}").into_bytes()
}

fn ours(ts: u64, snap: u64, tgt: u64) -> TufRepo {
    TufRepo::new(ts, snap, tgt, &[("trusted_root.json", &release(tgt))])
}

fn republish(repo: &mut TufRepo, ts: u64, snap: u64, tgt: u64) {
    repo.publish(ts, snap, tgt, &[("trusted_root.json", &release(tgt))]);
}

#[test]
fn our_own_repository_updates_and_rollbacks_of_each_role_are_refused() {
    let mut repo = ours(2, 2, 2);
    let server = FileServer::start(repo.files.clone());
    let cache = TempDir::new("tuf-rb");
    let initial = repo.files["/1.root.json"].clone();
    let c = client(&server, initial, cache.path());
    let first = update(&c, in_window()).unwrap();
    assert_eq!(first.trusted_root, b"{\"mediaType\":\"ours\",\"v\":2}");
    assert_eq!(first.signing_config, None);
    assert_eq!(
        (first.metadata.timestamp.0, first.metadata.targets.0),
        (2, 2)
    );

    // A newer release is taken.
    republish(&mut repo, 3, 3, 3);
    repo.serve(&server);
    assert_eq!(update(&c, in_window()).unwrap().metadata.targets.0, 3);

    // The timestamp rolled back (version 1 < 3).
    let mut old = ours(1, 1, 1);
    old.files.remove("/1.root.json");
    old.serve(&server);
    let err = update(&c, in_window()).unwrap_err();
    assert!(
        matches!(&err, TufError::Rollback { role, trusted: 3, offered: 1 } if role == "timestamp"),
        "{err:?}"
    );

    // A new timestamp pinning an older snapshot.
    republish(&mut repo, 4, 1, 3);
    repo.serve(&server);
    let err = update(&c, in_window()).unwrap_err();
    assert!(
        matches!(&err, TufError::Rollback { offered: 1, .. }),
        "{err:?}"
    );

    // A new timestamp and snapshot pinning older targets.
    republish(&mut repo, 5, 5, 1);
    repo.serve(&server);
    let err = update(&c, in_window()).unwrap_err();
    assert!(
        matches!(&err, TufError::Rollback { role, offered: 1, .. } if role.starts_with("targets")),
        "{err:?}"
    );

    // A fresh client with the same cache keeps the floor: the cache is
    // where the versions it trusted are remembered.
    // A refused update leaves the cache as the last good one left it.
    let fresh = client(&server, repo.files["/1.root.json"].clone(), cache.path());
    let err = update(&fresh, in_window()).unwrap_err();
    assert!(
        matches!(&err, TufError::Rollback { role, trusted: 3, offered: 1 } if role.starts_with("targets")),
        "{err:?}"
    );
}

/// The async client runs the same workflow over an `AsyncTransport`.
#[tokio::test]
async fn update_async_reaches_the_same_trust() {
    use rekor_client::Transport as _;
    let server = FileServer::start(sigstore_tuf_layout());
    let cache = TempDir::new("tuf-async");
    let transport = |req: http::Request<Vec<u8>>, timeout| {
        // A transport that answers at once: the workflow's await points
        // are exercised all the same.
        let answer = UreqTransport::new().send(req, timeout);
        async move { answer }
    };
    let c = client(&server, root(5), cache.path());
    let at = in_window();
    let trust = c.update_async(&transport, &move || at).await.unwrap();
    assert_eq!(trust.metadata.root.0, 15);
    assert_eq!(trust.trusted_root, vector("targets/trusted_root.json"));
    // And its cache serves the blocking client offline.
    assert_eq!(
        c.offline(&in_window).unwrap().trusted_root,
        trust.trusted_root
    );
}

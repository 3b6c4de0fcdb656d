//! One conformance bundle verified cold again and again — the trusted
//! root parsed, the verifier built, one verification — for a profiler:
//! `cargo build --release -p attestlog-benches --example cold_verify &&
//! perf record -g target/release/examples/cold_verify happy-path-v0.3 200`.
//! (Timings with the peer beside: `benches/sigstore-rust-compare.sh`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use attest_rekor::{Artifact, Bundle, Policy, SignerPolicy, TrustedRoot, Verifier};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "happy-path-v0.3".into());
    let n: u32 = args.next().map_or(100, |s| s.parse().unwrap());
    let vectors = attestlog_testkit::vector_path("");
    let dir = vectors
        .join("sigstore-conformance/bundle-verify")
        .join(&case);
    let root_path = if dir.join("trusted_root.json").exists() {
        dir.join("trusted_root.json")
    } else {
        vectors.join("trusted_root.json")
    };
    let root_json = std::fs::read(root_path).unwrap();
    let bundle_json = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
    let artifact = std::fs::read(vectors.join("sigstore-conformance/a.txt")).unwrap();
    let key = std::fs::read_to_string(dir.join("key.pub")).ok();
    let start = std::time::Instant::now();
    for _ in 0..n {
        let verifier = Verifier::new(TrustedRoot::from_json(&root_json).unwrap());
        let bundle = Bundle::from_json(&bundle_json).unwrap();
        let signer = match &key {
            Some(pem) => SignerPolicy::Key(attest_rekor::x509::public_key_from_pem(pem).unwrap()),
            None => SignerPolicy::identity(IDENTITY, ISSUER),
        };
        let policy = Policy::new(signer, attest_dsse::Timestamp::now());
        verifier
            .verify(&bundle, &Artifact::of_bytes(&artifact), &policy)
            .unwrap();
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{case}: {us:.0} µs per cold verification");
}

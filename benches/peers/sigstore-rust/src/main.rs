//! Times sigstore-rust's `sigstore-verify` verifying the production keyless
//! DSSE bundle that `cargo bench -p attestlog-benches --bench rekor`
//! verifies as `bundle_verify/prod_dsse_keyless` (same trusted root, same
//! identity policy, same artifact), on the same machine. Run by
//! `bash benches/sigstore-rust-verify.sh`.

use std::path::PathBuf;
use std::time::Instant;

use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::Bundle;
use sigstore_verify::{VerificationPolicy, Verifier};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let vectors = PathBuf::from(std::env::args().nth(1).ok_or("usage: VECTORS_DIR")?);
    let root =
        TrustedRoot::from_json(&std::fs::read_to_string(vectors.join("trusted_root.json"))?)?;
    let bundle = Bundle::from_json(&std::fs::read_to_string(
        vectors.join("prod-v1-dsse-v001.sigstore.json"),
    )?)?;
    let artifact = std::fs::read(vectors.join("sigstore-conformance/a.txt"))?;
    let policy = VerificationPolicy::any_identity()
        .require_identity(IDENTITY)
        .require_issuer(ISSUER);
    let verifier = Verifier::new(&root)?;
    verifier.verify(artifact.as_slice(), &bundle, &policy)?; // warm up; fail loudly
    let n = 1000u32;
    let start = Instant::now();
    for _ in 0..n {
        verifier.verify(artifact.as_slice(), &bundle, &policy)?;
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!(
        "{}",
        serde_json::json!({"bundle": "prod_dsse_keyless", "verifier": "sigstore-rust sigstore-verify 0.15.1", "microseconds_per_verify": (us * 10.0).round() / 10.0})
    );
    Ok(())
}

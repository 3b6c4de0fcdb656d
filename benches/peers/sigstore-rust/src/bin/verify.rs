//! sigstore-rust's `sigstore-verify` as an independent verifier of a bundle
//! exported from attestlog's embedded log: `verify TRUSTED_ROOT BUNDLE
//! PUBLIC_KEY_PEM SHA256_HEX` exits 0 and prints one JSON line when the
//! bundle verifies for that key and artifact digest, 1 otherwise. Used by
//! `crates/attestlog-cli/interop/sigstore-rust.sh` in CI.

use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle, DerPublicKey, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, Verifier};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root, bundle, key, digest] = args.as_slice() else {
        eprintln!("usage: verify TRUSTED_ROOT BUNDLE PUBLIC_KEY_PEM SHA256_HEX");
        return std::process::ExitCode::from(2);
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let root = TrustedRoot::from_json(&std::fs::read_to_string(root)?)?;
        let bundle = Bundle::from_json(&std::fs::read_to_string(bundle)?)?;
        let key = DerPublicKey::from_pem(&std::fs::read_to_string(key)?)?;
        let digest = Sha256Hash::from_hex(digest)?;
        Verifier::new(&root)?.verify(
            digest,
            &bundle,
            &PublicKeyVerificationPolicy::new(key),
        )?;
        Ok(())
    };
    match run() {
        Ok(()) => {
            println!("{{\"verified\":true,\"verifier\":\"sigstore-rust sigstore-verify 0.15.1\"}}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{{\"verified\":false,\"error\":{:?}}}", e.to_string());
            std::process::ExitCode::from(1)
        }
    }
}

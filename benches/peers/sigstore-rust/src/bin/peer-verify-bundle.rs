//! sigstore-rust's `sigstore-verify` behind sigstore-conformance's client
//! protocol, the same shape as `attestlog verify-bundle`: `--bundle FILE
//! (--key KEY | --certificate-identity ID --certificate-oidc-issuer URL)
//! --trusted-root FILE ARTIFACT`. Exit 0 when verified, 1 when not, 2 for
//! bad arguments. The whole-process comparison of `compare --process` runs
//! it beside `attestlog verify-bundle`.

use std::process::ExitCode;

use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Bundle, DerPublicKey};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut bundle, mut key, mut id, mut issuer, mut root, mut artifact) =
        (None, None, None, None, None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bundle" => bundle = args.next(),
            "--key" => key = args.next(),
            "--certificate-identity" => id = args.next(),
            "--certificate-oidc-issuer" => issuer = args.next(),
            "--trusted-root" => root = args.next(),
            _ => artifact = Some(a),
        }
    }
    let (Some(bundle), Some(root), Some(artifact)) = (bundle, root, artifact) else {
        eprintln!(
            "usage: --bundle FILE (--key K | --certificate-identity I --certificate-oidc-issuer O) --trusted-root FILE ARTIFACT"
        );
        return ExitCode::from(2);
    };
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let root = TrustedRoot::from_json(&std::fs::read_to_string(root)?)?;
        let bundle = Bundle::from_json(&std::fs::read_to_string(bundle)?)?;
        let artifact = std::fs::read(artifact)?;
        let verifier = Verifier::new(&root)?;
        match (key, id, issuer) {
            (Some(k), _, _) => {
                let k = DerPublicKey::from_pem(&std::fs::read_to_string(k)?)?;
                verifier.verify(
                    artifact.as_slice(),
                    &bundle,
                    &PublicKeyVerificationPolicy::new(k),
                )?;
            }
            (None, Some(id), Some(iss)) => {
                let policy = VerificationPolicy::any_identity()
                    .require_identity(id)
                    .require_issuer(iss);
                verifier.verify(artifact.as_slice(), &bundle, &policy)?;
            }
            _ => {
                return Err(
                    "give --key or --certificate-identity and --certificate-oidc-issuer".into(),
                );
            }
        }
        Ok(())
    };
    match run() {
        Ok(()) => {
            println!("{{\"verified\":true}}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("not verified: {e}");
            ExitCode::from(1)
        }
    }
}

//! `attestlog verify-bundle`: sigstore-conformance's client protocol for
//! bundle verification, and the verification `bundle verify` shares.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::Timestamp;
use attest_rekor::{
    Artifact, Bundle, BundlePolicy, SignerPolicy, TrustedLog, logs_from_trusted_root, verify_bundle,
};
use clap::Args;

use crate::Failure;
use crate::cmd::keys::load_public_key;
use crate::cmd::{print_json, read_input};
use crate::failure::EXIT_FAILED;

/// The Sigstore production trust root this binary trusts by default (see
/// `trust/README.md`; pass `--trusted-root` for a current one).
const PRODUCTION_ROOT: &[u8] = include_bytes!("../../trust/production_trusted_root.json");
/// The Sigstore staging trust root (`--staging`).
const STAGING_ROOT: &[u8] = include_bytes!("../../trust/staging_trusted_root.json");

/// Arguments of `verify-bundle`, in the order sigstore-conformance passes
/// them: `[--staging] --bundle FILE (--key KEY | --certificate-identity ID
/// --certificate-oidc-issuer URL) [--trusted-root FILE] FILE_OR_DIGEST`.
#[derive(Debug, Args)]
pub(crate) struct VerifyBundleArgs {
    /// Trust Sigstore's staging instance instead of production (when no
    /// `--trusted-root` is given).
    #[arg(long)]
    staging: bool,
    /// The Sigstore bundle (JSON).
    #[arg(long)]
    bundle: PathBuf,
    #[command(flatten)]
    signer: SignerArgs,
    /// A Sigstore `trusted_root.json` (default: the production root compiled
    /// into this binary, or the staging one with `--staging`).
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// The artifact: a file, or `sha256:` + 64 hex digits when that is not
    /// a path on disk.
    #[arg(value_name = "FILE_OR_DIGEST")]
    artifact: String,
}

/// Who must have signed: a key, or a certificate identity.
#[derive(Debug, Args)]
pub(crate) struct SignerArgs {
    /// The signer's public key (PEM public key or certificate; of a PKCS#8
    /// private key only the public half is used).
    #[arg(
        long,
        conflicts_with = "certificate_identity",
        required_unless_present = "certificate_identity"
    )]
    key: Option<PathBuf>,
    /// The identity (SAN) the signing certificate must name.
    #[arg(long, requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// The OIDC issuer the signing certificate must name.
    #[arg(long, requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
}

impl SignerArgs {
    pub(crate) fn policy(&self) -> Result<SignerPolicy, Failure> {
        match (
            &self.key,
            &self.certificate_identity,
            &self.certificate_oidc_issuer,
        ) {
            (Some(k), _, _) => Ok(SignerPolicy::Key(load_public_key(k)?)),
            (None, Some(identity), Some(issuer)) => Ok(SignerPolicy::CertificateIdentity {
                identity: identity.clone(),
                issuer: issuer.clone(),
            }),
            _ => Err(Failure::input(
                "give --key, or --certificate-identity with --certificate-oidc-issuer",
            )),
        }
    }
}

/// `FILE_OR_DIGEST`: a path on disk is read and hashed; otherwise a
/// `sha256:`/`sha512:` digest.
pub(crate) fn parse_artifact(arg: &str) -> Result<Artifact, Failure> {
    let path = Path::new(arg);
    if path.exists() {
        return Ok(Artifact::of_bytes(&read_input(path)?));
    }
    Artifact::parse_digest(arg).map_err(|e| {
        Failure::input(format_args!(
            "{arg}: not a file, and {e} (expected a path or sha256:<64 hex>)"
        ))
    })
}

/// The logs of a trusted root file, or of a compiled-in one.
pub(crate) fn logs_of_root(path: Option<&Path>, staging: bool) -> Result<Vec<TrustedLog>, Failure> {
    let (bytes, name) = match path {
        Some(p) => (read_input(p)?, p.display().to_string()),
        None if staging => (STAGING_ROOT.to_vec(), "the staging trust root".into()),
        None => (PRODUCTION_ROOT.to_vec(), "the production trust root".into()),
    };
    logs_from_trusted_root(&bytes).map_err(|e| Failure::input(format_args!("{name}: {e}")))
}

/// Parses a bundle file (malformed input is exit 2).
pub(crate) fn read_bundle(path: &Path) -> Result<Bundle, Failure> {
    Bundle::from_json(&read_input(path)?)
        .map_err(|e| Failure::input(format_args!("{}: {e}", path.display())))
}

/// Verifies one bundle: a JSON line on stdout either way; `false` when not
/// verified, after one line on stderr naming the failing element.
pub(crate) fn verify_and_print(
    path: &Path,
    bundle: &Bundle,
    artifact: &Artifact,
    policy: &BundlePolicy<'_>,
) -> Result<bool, Failure> {
    match verify_bundle(bundle, artifact, policy) {
        Ok(v) => {
            let e = &v.entries[0];
            print_json(&serde_json::json!({
                "bundle": path,
                "verified": true,
                "signer": v.signer.key_id(),
                "times": v.times.iter().map(|t| t.at.to_string()).collect::<Vec<_>>(),
                "logIndex": e.log_index,
                "treeIndex": e.tree_index,
                "checkpointOrigin": e.checkpoint.origin,
                "unverifiedTimestamps": v.unverified_timestamps,
                "checks": v.report.checks,
            }))?;
            Ok(true)
        }
        Err(e) => {
            print_json(&serde_json::json!({
                "bundle": path,
                "verified": false,
                "failed": e.first.check,
                "reason": e.first.reason.to_string(),
                "checks": e.report.checks,
            }))?;
            eprintln!("attestlog: {}: not verified: {e}", path.display());
            Ok(false)
        }
    }
}

/// `attestlog verify-bundle`.
pub(crate) fn verify_bundle_cmd(args: &VerifyBundleArgs) -> Result<ExitCode, Failure> {
    let logs = logs_of_root(args.trusted_root.as_deref(), args.staging)?;
    let signer = args.signer.policy()?;
    let artifact = parse_artifact(&args.artifact)?;
    let bundle = read_bundle(&args.bundle)?;
    let policy = BundlePolicy::new(&logs, signer, Timestamp::now());
    Ok(
        if verify_and_print(&args.bundle, &bundle, &artifact, &policy)? {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FAILED)
        },
    )
}

//! `attestlog verify-bundle`: sigstore-conformance's client protocol for
//! bundle verification (`bundle verify` is its hidden old spelling).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::Timestamp;
use attest_rekor::pki::{FulcioExtension, IdentityPolicy, Matcher};
use attest_rekor::witness::{WitnessKey, WitnessPolicy};
use attest_rekor::{Artifact, Bundle, Policy, SignerPolicy, TrustedLog, TrustedRoot, Verifier};
use clap::Args;

use crate::Failure;
use crate::cmd::trust::TufArgs;
use crate::cmd::{LogTrust, print_json, read_input};
use crate::failure::EXIT_FAILED;

/// Arguments of `verify-bundle`, in the order sigstore-conformance passes
/// them: `[--staging] --bundle FILE (--key KEY | --certificate-identity ID
/// --certificate-oidc-issuer URL) [--trusted-root FILE] FILE_OR_DIGEST`;
/// the log's keys come from the same sources as every other command's
/// (`--log-key`/`REKOR_PUBLIC_KEY`, `--trusted-root`/`REKOR_TRUSTED_ROOT`,
/// else the TUF repository).
#[derive(Debug, Args)]
pub(crate) struct VerifyBundleArgs {
    /// The log's keys and the certificate authorities: a pinned log key, a
    /// trusted root (or a client trust configuration holding one), else
    /// the current trusted root from Sigstore's TUF repository (production,
    /// or `--staging`).
    #[command(flatten)]
    trust: LogTrust,
    /// The Sigstore bundle (JSON); repeat it to verify several bundles of
    /// the same artifact (a JSON report each; exit 0 only when all verify).
    #[arg(long, required = true, value_name = "FILE")]
    bundle: Vec<PathBuf>,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    witnesses: WitnessArgs,
    /// The artifact: a file, or `sha256:` + 64 hex digits when that is not
    /// a path on disk.
    #[arg(value_name = "FILE_OR_DIGEST")]
    artifact: String,
}

/// Witnesses whose cosignatures a log's checkpoints must carry.
#[derive(Debug, Args)]
pub(crate) struct WitnessArgs {
    /// A witness whose cosignature (C2SP cosignature/v1) each bundle's
    /// checkpoint must carry: its verifier key `NAME+ID+KEY` (`attestlog
    /// witness vkey` prints it). Repeat for more witnesses.
    #[arg(long = "witness", value_name = "VKEY")]
    pub(crate) witnesses: Vec<String>,
    /// How many of the `--witness` keys must have cosigned (default: all).
    #[arg(long, value_name = "K", requires = "witnesses")]
    pub(crate) witness_threshold: Option<usize>,
}

impl WitnessArgs {
    /// The policy, or `None` without `--witness`.
    pub(crate) fn policy(&self) -> Result<Option<WitnessPolicy>, Failure> {
        if self.witnesses.is_empty() {
            return Ok(None);
        }
        let keys = self
            .witnesses
            .iter()
            .map(|v| {
                WitnessKey::from_vkey(v)
                    .map_err(|e| Failure::input(format_args!("--witness {v}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let k = self.witness_threshold.unwrap_or(keys.len());
        WitnessPolicy::new(keys, k)
            .map(Some)
            .map_err(|e| Failure::input(format_args!("--witness-threshold {k}: {e}")))
    }
}

/// Who must have signed: a key, or a Fulcio certificate identity.
#[derive(Debug, Args)]
pub(crate) struct SignerArgs {
    /// Who signed: a key-set document (JSON, e.g. `attestation-keys.json`
    /// from `keys export`; any key valid at the verified times), or one key
    /// (PEM public key or certificate; of a PKCS#8 private key only the
    /// public half is used).
    #[arg(
        long,
        conflicts_with_all = ["certificate_identity", "certificate_identity_regexp"],
        required_unless_present_any = ["certificate_identity", "certificate_identity_regexp"]
    )]
    key: Option<PathBuf>,
    /// The identity (a SAN: URI, email or other-name) the signing
    /// certificate must name, exactly.
    #[arg(long, conflicts_with = "certificate_identity_regexp")]
    certificate_identity: Option<String>,
    /// Or a pattern the whole identity must match (anchored at both ends).
    #[arg(long)]
    certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the signing certificate must name, exactly.
    #[arg(long, conflicts_with = "certificate_oidc_issuer_regexp")]
    certificate_oidc_issuer: Option<String>,
    /// Or a pattern the whole OIDC issuer must match.
    #[arg(long)]
    certificate_oidc_issuer_regexp: Option<String>,
    /// The certificate's GitHub workflow trigger (1.3.6.1.4.1.57264.1.2) must be this.
    #[arg(long)]
    certificate_github_workflow_trigger: Option<String>,
    /// The certificate's GitHub workflow commit SHA (…1.3) must be this.
    #[arg(long)]
    certificate_github_workflow_sha: Option<String>,
    /// The certificate's GitHub workflow name (…1.4) must be this.
    #[arg(long)]
    certificate_github_workflow_name: Option<String>,
    /// The certificate's GitHub repository, `owner/name` (…1.5), must be this.
    #[arg(long)]
    certificate_github_workflow_repository: Option<String>,
    /// The certificate's GitHub ref (…1.6) must be this.
    #[arg(long)]
    certificate_github_workflow_ref: Option<String>,
}

impl SignerArgs {
    pub(crate) fn policy(&self) -> Result<SignerPolicy, Failure> {
        if let Some(k) = &self.key {
            return crate::cmd::keys::load_signer(k);
        }
        let matcher = |exact: &Option<String>, pattern: &Option<String>, what: &str| match (
            exact, pattern,
        ) {
            (Some(e), _) => Ok(Matcher::exact(e.clone())),
            (None, Some(p)) => Matcher::regex(p).map_err(Failure::error),
            (None, None) => Err(Failure::input(format_args!(
                "give --key, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp] (missing the {what})"
            ))),
        };
        let identity = matcher(
            &self.certificate_identity,
            &self.certificate_identity_regexp,
            "identity",
        )?;
        let issuer = matcher(
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
            "OIDC issuer",
        )?;
        let mut policy = IdentityPolicy::new(identity, issuer);
        for (ext, value) in [
            (
                FulcioExtension::GithubWorkflowTrigger,
                &self.certificate_github_workflow_trigger,
            ),
            (
                FulcioExtension::GithubWorkflowSha,
                &self.certificate_github_workflow_sha,
            ),
            (
                FulcioExtension::GithubWorkflowName,
                &self.certificate_github_workflow_name,
            ),
            (
                FulcioExtension::GithubWorkflowRepository,
                &self.certificate_github_workflow_repository,
            ),
            (
                FulcioExtension::GithubWorkflowRef,
                &self.certificate_github_workflow_ref,
            ),
        ] {
            if let Some(v) = value {
                policy = policy.with_extension(ext, v.clone());
            }
        }
        Ok(SignerPolicy::CertificateIdentity(policy))
    }
}

/// `FILE_OR_DIGEST`: a path on disk is read and hashed; otherwise a
/// `sha256:`/`sha384:`/`sha512:` digest.
pub(crate) fn parse_artifact(arg: &str) -> Result<Artifact, Failure> {
    let path = Path::new(arg);
    if path.exists() {
        return Ok(Artifact::of_bytes(&read_input(path)?));
    }
    Artifact::parse_digest(arg).map_err(|e| {
        Failure::input(format_args!(
            "{arg}: not a file, and {e} (expected a path or sha256:<64 hex>)",
            e = attest_dsse::ErrorChain(&e)
        ))
    })
}

/// A trusted root file, or the current one from the TUF repository, parsed.
pub(crate) fn root_of(path: Option<&Path>, tuf: &TufArgs) -> Result<TrustedRoot, Failure> {
    match path {
        Some(p) => root_file(p),
        None => tuf.trusted_root(),
    }
}

/// A trusted root file (or a client trust configuration holding one),
/// parsed.
pub(crate) fn root_file(p: &Path) -> Result<TrustedRoot, Failure> {
    attest_rekor::TrustDocument::from_json(&read_input(p)?)
        .and_then(attest_rekor::TrustDocument::into_trusted_root)
        .map_err(|e| Failure::in_file(p, &e))
}

/// Parses a bundle file (malformed input is exit 2).
pub(crate) fn read_bundle(path: &Path) -> Result<Bundle, Failure> {
    Bundle::from_json(&read_input(path)?).map_err(|e| Failure::in_file(path, &e))
}

/// Verifies one bundle: a JSON line on stdout either way; `false` when not
/// verified, after one line on stderr naming the failing element.
pub(crate) fn verify_and_print(
    path: &Path,
    bundle: &Bundle,
    artifact: &Artifact,
    verifier: &Verifier,
    policy: &Policy,
) -> Result<bool, Failure> {
    match verifier.verify(bundle, artifact, policy) {
        Ok(v) => {
            let e = &v.entries[0];
            print_json(&serde_json::json!({
                "bundle": path,
                "verified": true,
                "signer": v.signer.key_id(),
                "times": v.times.iter().map(|t| t.at.to_string()).collect::<Vec<_>>(),
                "certificateIdentities": v.certificate.as_ref().map(|c| &c.identities),
                "certificateIssuer": v.certificate.as_ref().map(|c| &c.issuer),
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
                "reason": attest_dsse::ErrorChain(&e.first.reason).to_string(),
                "checks": e.report.checks,
            }))?;
            eprintln!(
                "{}: {}: not verified: {e}",
                crate::failure::program(),
                path.display(),
                e = attest_dsse::ErrorChain(&e)
            );
            Ok(false)
        }
    }
}

/// `attestlog verify-bundle`.
pub(crate) fn verify_bundle_cmd(args: &VerifyBundleArgs) -> Result<ExitCode, Failure> {
    let witnesses = args.witnesses.policy()?;
    verify_bundles(
        &args.trust,
        &args.signer,
        witnesses.as_ref(),
        &args.artifact,
        &args.bundle,
    )
}

/// The trust `verify-bundle` verifies with: a pinned log key (with no
/// certificate authorities), else a trusted root file, else the TUF
/// repository's current root; a pinned log name applied either way.
fn trusted_root_of(
    trust: &LogTrust,
    witnesses: Option<&WitnessPolicy>,
) -> Result<TrustedRoot, Failure> {
    let witnessed = |logs: Vec<TrustedLog>| -> Vec<TrustedLog> {
        match witnesses {
            Some(p) => logs
                .into_iter()
                .map(|l| l.with_witnesses(p.clone()))
                .collect(),
            None => logs,
        }
    };
    if trust.log_key.is_some() {
        return Ok(TrustedRoot::from_logs(witnessed(
            trust.logs("http://attestlog.local")?.unwrap_or_default(),
        )));
    }
    let (logs, authorities) = root_of(trust.trusted_root.as_deref(), &trust.tuf)?.into_parts();
    Ok(TrustedRoot::from_logs(witnessed(trust.pin(logs))).with_authorities(authorities))
}

/// Verifies `bundles` of one artifact for one signer: a JSON report per
/// bundle; exit 0 only when all verified.
pub(crate) fn verify_bundles(
    trust: &LogTrust,
    signer: &SignerArgs,
    witnesses: Option<&WitnessPolicy>,
    artifact: &str,
    bundles: &[PathBuf],
) -> Result<ExitCode, Failure> {
    // The inputs first: a malformed one is exit 2 before any network.
    let policy = Policy::new(signer.policy()?, Timestamp::now());
    let artifact = parse_artifact(artifact)?;
    let parsed = bundles
        .iter()
        .map(|p| read_bundle(p))
        .collect::<Result<Vec<_>, _>>()?;
    let verifier = Verifier::new(trusted_root_of(trust, witnesses)?);
    let mut all = true;
    for (path, b) in bundles.iter().zip(&parsed) {
        all &= verify_and_print(path, b, &artifact, &verifier, &policy)?;
    }
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

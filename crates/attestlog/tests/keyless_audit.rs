//! The auditor under a certificate-identity policy: a real keyless bundle
//! is audited with a `certificate` line (chain, SCT, identity), and stored
//! rows signed with keys are refused by such an auditor.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use attestlog::rekor::verify::Outcome;
use attestlog::rekor::{Bundle, SignerPolicy, TrustedRoot};
use attestlog::{AuditCheck, Auditor, MemoryStore};

const ID: &str = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const GITHUB: &str = "https://token.actions.githubusercontent.com";

#[test]
fn a_keyless_bundle_is_audited_for_its_identity() {
    let root = attestlog_testkit::vector("trusted_root.json");
    let logs = TrustedRoot::from_json(&root)
        .map(TrustedRoot::into_logs)
        .unwrap();
    let bundle = Bundle::from_json(&attestlog_testkit::vector(
        "prod-v1-dsse-v001-tsa.sigstore.json",
    ))
    .unwrap();
    let audit = |signer: SignerPolicy| {
        Auditor::builder(signer, Box::new(MemoryStore::new()))
            .authorities(
                TrustedRoot::from_json(&root)
                    .map(TrustedRoot::into_authorities)
                    .unwrap(),
            )
            .build()
            .audit_bundle(&bundle, &logs)
    };
    let r = audit(SignerPolicy::identity(ID, GITHUB));
    for c in [
        AuditCheck::EnvelopeSignature,
        AuditCheck::Certificate,
        AuditCheck::BodyMatch,
        AuditCheck::Inclusion,
        AuditCheck::Set,
        AuditCheck::KeyValidAtIntegratedTime,
    ] {
        assert_eq!(r.outcome(c), Some(Outcome::Passed), "{c}: {r}");
    }
    // Another identity: the certificate line fails; the signature (by the
    // certificate's key) alone proves nothing and the report does not pass.
    let r = audit(SignerPolicy::identity(
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
        GITHUB,
    ));
    assert_eq!(
        r.outcome(AuditCheck::Certificate),
        Some(Outcome::Failed),
        "{r}"
    );
    assert!(!r.passed());
    // Without the trusted root's authorities: the certificate line fails.
    let r = Auditor::builder(
        SignerPolicy::identity(ID, GITHUB),
        Box::new(MemoryStore::new()),
    )
    .build()
    .audit_bundle(&bundle, &logs);
    assert_eq!(
        r.outcome(AuditCheck::Certificate),
        Some(Outcome::Failed),
        "{r}"
    );
    // Key policies write no certificate line.
    let key =
        attestlog::rekor::x509::certificate_public_key(&bundle.certificate_der().unwrap().unwrap())
            .unwrap();
    let r = audit(SignerPolicy::Key(key));
    assert_eq!(r.outcome(AuditCheck::Certificate), None);
    assert_eq!(
        r.outcome(AuditCheck::EnvelopeSignature),
        Some(Outcome::Passed)
    );
}

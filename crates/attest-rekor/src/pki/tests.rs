#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use attest_dsse::{Algorithm, SigningKey};
use der::asn1::OctetString;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::KeyUsages;

const T0: i64 = 1_700_000_000;

fn ext<T: Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}
fn bc(ca: bool, path_len: Option<u8>) -> Extension {
    ext(
        ObjectIdentifier::new_unwrap("2.5.29.19"),
        true,
        &BasicConstraints {
            ca,
            path_len_constraint: path_len,
        },
    )
}
fn ku(k: KeyUsage) -> Extension {
    ext(ObjectIdentifier::new_unwrap("2.5.29.15"), true, &k)
}
fn eku(oids: &[ObjectIdentifier]) -> Extension {
    ext(
        ObjectIdentifier::new_unwrap("2.5.29.37"),
        false,
        &ExtendedKeyUsage(oids.to_vec()),
    )
}

/// A root, an intermediate and a leaf, each part replaceable.
struct Pki {
    root_key: SigningKey,
    inter_key: SigningKey,
    leaf_key: SigningKey,
    root_ext: Vec<Extension>,
    inter_ext: Vec<Extension>,
    leaf_ext: Vec<Extension>,
    leaf_window: (i64, i64),
}

impl Pki {
    fn new() -> Self {
        let k = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        Self {
            root_key: k(),
            inter_key: k(),
            leaf_key: k(),
            root_ext: vec![
                bc(true, None),
                ku(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
            ],
            inter_ext: vec![
                bc(true, Some(0)),
                ku(KeyUsage(KeyUsages::KeyCertSign.into())),
                eku(&[oid::CODE_SIGNING]),
            ],
            leaf_ext: vec![
                ku(KeyUsage(KeyUsages::DigitalSignature.into())),
                eku(&[oid::CODE_SIGNING]),
            ],
            leaf_window: (T0, T0 + 600),
        }
    }

    fn certs(&self) -> (Cert, CertificateAuthority) {
        let t = Timestamp::from_unix;
        let issue = |key: &SigningKey, issuer, spki: &[u8], subject, from, to, e: &[Extension]| {
            Cert::parse(
                &attest_issue::issue_certificate(
                    key,
                    issuer,
                    spki,
                    subject,
                    t(from),
                    t(to),
                    e.to_vec(),
                )
                .unwrap(),
            )
            .unwrap()
        };
        let root = issue(
            &self.root_key,
            "CN=root",
            self.root_key.public_key().spki_der(),
            "CN=root",
            T0 - 1000,
            T0 + 10_000,
            &self.root_ext,
        );
        let inter = issue(
            &self.root_key,
            "CN=root",
            self.inter_key.public_key().spki_der(),
            "CN=inter",
            T0 - 1000,
            T0 + 10_000,
            &self.inter_ext,
        );
        let leaf = issue(
            &self.inter_key,
            "CN=inter",
            self.leaf_key.public_key().spki_der(),
            "CN=leaf",
            self.leaf_window.0,
            self.leaf_window.1,
            &self.leaf_ext,
        );
        let ca = CertificateAuthority::new(
            "https://ca.example",
            &[inter.der.clone(), root.der.clone()],
            t(T0 - 1000),
            Some(t(T0 + 10_000)),
        )
        .unwrap();
        (leaf, ca)
    }

    fn verify_at(&self, at: i64) -> Result<(), PkiError> {
        let (leaf, ca) = self.certs();
        verify_path(
            &leaf,
            std::slice::from_ref(&ca),
            &[Timestamp::from_unix(at)],
            Purpose::CodeSigning,
            "certificate authority",
        )
        .map(|_| ())
    }
}

#[test]
fn a_good_path_verifies_and_each_broken_rule_is_named() {
    let good = Pki::new();
    good.verify_at(T0 + 1).unwrap();

    let mut p = Pki::new();
    p.leaf_ext = vec![ku(KeyUsage(KeyUsages::DigitalSignature.into()))];
    assert!(matches!(
        p.verify_at(T0 + 1),
        Err(PkiError::ExtKeyUsage {
            role: Role::Leaf,
            ..
        })
    ));

    let mut p = Pki::new();
    p.leaf_ext = vec![eku(&[oid::CODE_SIGNING])];
    assert!(matches!(
        p.verify_at(T0 + 1),
        Err(PkiError::KeyUsage {
            role: Role::Leaf,
            ..
        })
    ));

    let mut p = Pki::new();
    p.leaf_ext.push(bc(true, None));
    assert_eq!(p.verify_at(T0 + 1), Err(PkiError::LeafIsCa));

    let mut p = Pki::new();
    p.inter_ext[0] = bc(false, None);
    assert_eq!(p.verify_at(T0 + 1), Err(PkiError::NotCa(Role::Issuer(1))));

    let mut p = Pki::new();
    p.inter_ext.remove(0);
    assert_eq!(p.verify_at(T0 + 1), Err(PkiError::NotCa(Role::Issuer(1))));

    let mut p = Pki::new();
    p.inter_ext[1] = ku(KeyUsage(KeyUsages::DigitalSignature.into()));
    assert!(matches!(
        p.verify_at(T0 + 1),
        Err(PkiError::KeyUsage {
            role: Role::Issuer(1),
            needed: "keyCertSign"
        })
    ));

    let mut p = Pki::new();
    p.inter_ext[2] = eku(&[oid::TIME_STAMPING]);
    assert!(matches!(
        p.verify_at(T0 + 1),
        Err(PkiError::ExtKeyUsage {
            role: Role::Issuer(1),
            ..
        })
    ));

    // The root allows no intermediate below it.
    let mut p = Pki::new();
    p.root_ext[0] = bc(true, Some(0));
    assert_eq!(
        p.verify_at(T0 + 1),
        Err(PkiError::PathLength(Role::Issuer(2)))
    );

    let mut p = Pki::new();
    p.leaf_ext.push(ext(
        ObjectIdentifier::new_unwrap("1.2.3.4.5"),
        true,
        &der::asn1::Null,
    ));
    assert!(matches!(
        p.verify_at(T0 + 1),
        Err(PkiError::CriticalExtension {
            role: Role::Leaf,
            ..
        })
    ));
    // Not critical: ignored.
    let mut p = Pki::new();
    p.leaf_ext.push(ext(
        ObjectIdentifier::new_unwrap("1.2.3.4.5"),
        false,
        &der::asn1::Null,
    ));
    p.verify_at(T0 + 1).unwrap();
}

#[test]
fn a_leaf_signed_by_a_stranger_under_the_issuers_name_is_refused() {
    let mut p = Pki::new();
    let (_, ca) = p.certs();
    p.inter_key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let (forged, _) = p.certs();
    assert_eq!(
        verify_path(
            &forged,
            std::slice::from_ref(&ca),
            &[Timestamp::from_unix(T0 + 1)],
            Purpose::CodeSigning,
            "certificate authority",
        )
        .unwrap_err(),
        PkiError::Signature(Role::Leaf)
    );
}

#[test]
fn an_authority_chain_is_trusted_material_its_signatures_checked_on_request() {
    // The intermediate signed by one root key, the trusted root
    // certificate (same name) holding another. The trusted root is the
    // trust anchor as a whole: verification checks the chain's names, not
    // its inner signatures (whoever can change the root can add a whole
    // authority); `chain_signatures_verify` finds the forged link, and a
    // chain whose names do not link issues nothing.
    let p = Pki::new();
    let (leaf, ca) = p.certs();
    let mut q = Pki::new();
    q.inter_key = p.inter_key.clone();
    let (_, other) = q.certs();
    let forged_link = CertificateAuthority::new(
        "https://ca.example",
        &[ca.chain[0].der.clone(), other.chain[1].der.clone()],
        Timestamp::from_unix(T0 - 1000),
        None,
    )
    .unwrap();
    assert_eq!(
        forged_link.chain_signatures_verify().unwrap_err(),
        PkiError::Signature(Role::Issuer(1))
    );
    ca.chain_signatures_verify().unwrap();
    let at = [Timestamp::from_unix(T0 + 1)];
    for authority in [&ca, &forged_link] {
        verify_path(
            &leaf,
            std::slice::from_ref(authority),
            &at,
            Purpose::CodeSigning,
            "ca",
        )
        .unwrap();
    }
    // The leaf's own signature is always checked: the leaf of another
    // intermediate key, under the same names, is refused.
    let (other_leaf, _) = Pki::new().certs();
    assert!(
        verify_path(
            &other_leaf,
            std::slice::from_ref(&ca),
            &at,
            Purpose::CodeSigning,
            "ca"
        )
        .is_err()
    );
    // A chain whose names do not link (the leaf's issuer as its own root).
    let unlinked = CertificateAuthority::new(
        "https://ca.example",
        &[ca.chain[0].der.clone(), ca.chain[0].der.clone()],
        Timestamp::from_unix(T0 - 1000),
        None,
    )
    .unwrap();
    assert!(matches!(
        verify_path(
            &leaf,
            std::slice::from_ref(&unlinked),
            &at,
            Purpose::CodeSigning,
            "ca"
        ),
        Err(PkiError::NoIssuer(_))
    ));
}

#[test]
fn validity_windows_are_inclusive_at_both_ends() {
    let p = Pki::new();
    p.verify_at(T0).unwrap();
    p.verify_at(T0 + 600).unwrap();
    assert!(matches!(
        p.verify_at(T0 - 1),
        Err(PkiError::NotValidAt {
            role: Role::Leaf,
            ..
        })
    ));
    assert!(matches!(
        p.verify_at(T0 + 601),
        Err(PkiError::NotValidAt {
            role: Role::Leaf,
            ..
        })
    ));
    // The authority's trusted-root window, inclusive too.
    let mut p = Pki::new();
    p.leaf_window = (T0 - 5000, T0 + 50_000);
    let (leaf, ca) = p.certs();
    let at = |t| {
        verify_path(
            &leaf,
            std::slice::from_ref(&ca),
            &[Timestamp::from_unix(t)],
            Purpose::CodeSigning,
            "ca",
        )
    };
    assert!(at(T0 + 10_000).is_ok());
    assert!(matches!(
        at(T0 + 10_001),
        Err(PkiError::NotValidAt { .. } | PkiError::AuthorityNotValidAt { .. })
    ));
    // Every verified time must fall inside.
    let both = verify_path(
        &leaf,
        std::slice::from_ref(&ca),
        &[Timestamp::from_unix(T0), Timestamp::from_unix(T0 + 20_000)],
        Purpose::CodeSigning,
        "ca",
    );
    assert!(both.is_err());
}

#[test]
fn a_leaf_without_an_sct_or_with_a_malformed_list_is_refused() {
    let p = Pki::new();
    let (leaf, ca) = p.certs();
    let (_, a) = production();
    assert_eq!(
        verify_scts(&leaf, &ca.chain[0], &a.ct_logs),
        Err(PkiError::NoSct)
    );
    // A list that is not an OCTET STRING, or whose TLS vector overruns.
    let mut bad = Pki::new();
    bad.leaf_ext
        .push(ext(oid::SCT_LIST, false, &der::asn1::Null));
    let (leaf, ca) = bad.certs();
    assert!(matches!(
        verify_scts(&leaf, &ca.chain[0], &a.ct_logs),
        Err(PkiError::SctMalformed(_))
    ));
    let mut bad = Pki::new();
    bad.leaf_ext.push(ext(
        oid::SCT_LIST,
        false,
        &OctetString::new(vec![0x00, 0x09, 0x00, 0x01]).unwrap(),
    ));
    let (leaf, ca) = bad.certs();
    assert_eq!(
        verify_scts(&leaf, &ca.chain[0], &a.ct_logs),
        Err(PkiError::SctMalformed("truncated"))
    );
}

#[test]
fn the_bundle_chain_has_a_leaf_and_no_root() {
    let p = Pki::new();
    let (leaf, ca) = p.certs();
    assert_eq!(bundle_leaf(&[]).unwrap_err(), PkiError::EmptyChain);
    let root = ca.chain[1].der.clone();
    assert_eq!(
        bundle_leaf(&[leaf.der.clone(), ca.chain[0].der.clone(), root]).unwrap_err(),
        PkiError::RootInBundle
    );
    assert_eq!(
        bundle_leaf(&[leaf.der.clone(), ca.chain[0].der.clone()]).unwrap(),
        leaf
    );
    assert!(matches!(
        bundle_leaf(&[vec![0x30, 0]]),
        Err(PkiError::Der(_))
    ));
    let long = vec![leaf.der.clone(); MAX_BUNDLE_CHAIN + 1];
    assert_eq!(
        bundle_leaf(&long).unwrap_err(),
        PkiError::ChainTooLong(MAX_BUNDLE_CHAIN + 1)
    );
    bundle_leaf(&vec![leaf.der.clone(); MAX_BUNDLE_CHAIN]).unwrap();
}

/// The production DSSE bundle's Fulcio leaf and the production root.
fn production() -> (Cert, Authorities) {
    let b: serde_json::Value = serde_json::from_slice(&attestlog_testkit::vector(
        "prod-v1-dsse-v001.sigstore.json",
    ))
    .unwrap();
    use base64ct::Encoding;
    let der = base64ct::Base64::decode_vec(
        b["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let a = crate::TrustedRoot::from_json(&attestlog_testkit::vector("trusted_root.json"))
        .map(crate::TrustedRoot::into_authorities)
        .unwrap();
    (Cert::parse(&der).unwrap(), a)
}

#[test]
fn real_scts_verify_and_each_mutation_is_refused() {
    let (leaf, a) = production();
    let issued = Timestamp::from_unix(leaf.not_before().unix() + 1);
    let ca = verify_path(
        &leaf,
        &a.certificate_authorities,
        &[issued],
        Purpose::CodeSigning,
        "ca",
    )
    .unwrap();
    let issuer = &ca.chain[0];
    assert_eq!(verify_scts(&leaf, issuer, &a.ct_logs).unwrap(), 1);
    // No trusted CT log.
    assert_eq!(
        verify_scts(&leaf, issuer, &[]),
        Err(PkiError::NoValidSct(1))
    );
    // The CT log's key not yet valid at the SCT's time.
    let mut late = a.ct_logs.clone();
    for l in &mut late {
        l.valid_from = Timestamp::from_unix(leaf.not_after().unix() + 1);
    }
    assert!(matches!(
        verify_scts(&leaf, issuer, &late),
        Err(PkiError::SctLogNotValid { .. })
    ));
    // The wrong issuer key hash (another CA's certificate as issuer).
    let other = &ca.chain[1];
    assert!(matches!(
        verify_scts(&leaf, other, &a.ct_logs),
        Err(PkiError::SctSignature(_))
    ));
    // A flipped byte in the SCT's signature (inside the certificate).
    let raw = leaf.raw_extension(oid::SCT_LIST).unwrap().unwrap().to_vec();
    let at = leaf.der.windows(raw.len()).position(|w| w == raw).unwrap();
    let mut der = leaf.der.clone();
    let last = at + raw.len() - 3;
    der[last] ^= 1;
    let mutated = Cert::parse(&der).unwrap();
    assert!(matches!(
        verify_scts(&mutated, issuer, &a.ct_logs),
        Err(PkiError::SctSignature(_))
    ));
    // ... and the certificate's own signature no longer verifies either.
    assert!(matches!(
        verify_path(
            &mutated,
            &a.certificate_authorities,
            &[issued],
            Purpose::CodeSigning,
            "ca"
        ),
        Err(PkiError::Signature(Role::Leaf))
    ));
    // Truncated and empty lists.
    assert!(parse_sct_list(&[0x04, 0x02, 0x00, 0x05]).is_err());
    assert_eq!(
        parse_sct_list(&[0x04, 0x02, 0x00, 0x00]).unwrap_err(),
        PkiError::SctMalformed("empty list")
    );
}

#[test]
fn real_identity_is_read_and_matched_exactly_or_anchored() {
    let (leaf, _) = production();
    let id = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let iss = "https://token.actions.githubusercontent.com";
    assert_eq!(san_identities(&leaf).unwrap(), vec![id.to_owned()]);
    assert_eq!(oidc_issuer(&leaf).unwrap(), iss);
    check_identity(&leaf, &IdentityPolicy::exact(id, iss)).unwrap();
    assert!(matches!(
        check_identity(
            &leaf,
            &IdentityPolicy::exact(id, "https://accounts.google.com")
        ),
        Err(PkiError::OidcIssuerMismatch { .. })
    ));
    assert!(matches!(
        check_identity(&leaf, &IdentityPolicy::exact(&id[..id.len() - 1], iss)),
        Err(PkiError::IdentityMismatch { .. })
    ));
    let re = |i: &str, s: &str| {
        IdentityPolicy::new(Matcher::regex(i).unwrap(), Matcher::regex(s).unwrap())
    };
    check_identity(
        &leaf,
        &re(
            r"https://github\.com/sigstore-conformance/.*",
            r"https://token\.actions\.githubusercontent\.com",
        ),
    )
    .unwrap();
    // Anchored: a pattern matching only part of the identity fails.
    assert!(check_identity(&leaf, &re(r"github\.com/sigstore-conformance", ".*")).is_err());
    assert!(Matcher::regex("(").is_err());
    // GitHub extensions: present ones compared, a wrong value refused.
    let repo = leaf
        .raw_extension(oid::FULCIO_GH_REPOSITORY)
        .unwrap()
        .map(|r| String::from_utf8_lossy(r).into_owned());
    if let Some(repo) = repo {
        check_identity(
            &leaf,
            &IdentityPolicy::exact(id, iss)
                .with_extension(FulcioExtension::GithubWorkflowRepository, repo),
        )
        .unwrap();
    }
    assert!(matches!(
        check_identity(
            &leaf,
            &IdentityPolicy::exact(id, iss)
                .with_extension(FulcioExtension::GithubWorkflowRepository, "evil/repo")
        ),
        Err(PkiError::ExtensionMismatch { .. })
    ));
}

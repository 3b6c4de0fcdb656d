//! The Fulcio identity a certificate names, and identity policies.

#[allow(clippy::wildcard_imports)]
use super::*;

// ------------------------------------------------------------ identity

/// A value an identity policy requires: exact, or a regular expression
/// matched against the whole value (anchored at both ends, unlike Go's
/// `regexp.MatchString`, so that `https://github.com/acme/` cannot be
/// satisfied by `https://evil.example/?https://github.com/acme/`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// Equal to this string.
    Exact(String),
    /// The whole value matches this pattern.
    Regex(regex_lite::Regex),
}

/// Why a [`Matcher::regex`] pattern was refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {message}")]
pub struct PatternError {
    /// The pattern.
    pub pattern: String,
    /// What is wrong.
    pub message: String,
}

impl Matcher {
    /// An exact value.
    #[must_use]
    pub fn exact(s: impl Into<String>) -> Self {
        Self::Exact(s.into())
    }

    /// A pattern matched against the whole value.
    ///
    /// # Errors
    /// [`PatternError`] when it is not a valid pattern.
    pub fn regex(pattern: &str) -> Result<Self, PatternError> {
        regex_lite::Regex::new(&format!("^(?:{pattern})$"))
            .map(Self::Regex)
            .map_err(|e| PatternError {
                pattern: pattern.to_owned(),
                message: attest_dsse::ErrorChain(&e).to_string(),
            })
    }

    /// Whether `value` is matched.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(s) => write!(f, "{s:?}"),
            Self::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

/// Who a Fulcio certificate must have been issued to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IdentityPolicy {
    /// The subject alternative name (URI, email or Fulcio other-name).
    pub identity: Matcher,
    /// The OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1).
    pub issuer: Matcher,
    /// Further Fulcio extensions that must be equal (GitHub workflow).
    pub extensions: Vec<(FulcioExtension, String)>,
}

/// A legacy Fulcio GitHub Actions extension (raw string values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FulcioExtension {
    /// 1.3.6.1.4.1.57264.1.2: the event that triggered the workflow.
    GithubWorkflowTrigger,
    /// 1.3.6.1.4.1.57264.1.3: the commit SHA.
    GithubWorkflowSha,
    /// 1.3.6.1.4.1.57264.1.4: the workflow's name.
    GithubWorkflowName,
    /// 1.3.6.1.4.1.57264.1.5: `owner/repository`.
    GithubWorkflowRepository,
    /// 1.3.6.1.4.1.57264.1.6: the git ref.
    GithubWorkflowRef,
}

impl FulcioExtension {
    pub(super) const fn oid(self) -> ObjectIdentifier {
        match self {
            Self::GithubWorkflowTrigger => oid::FULCIO_GH_TRIGGER,
            Self::GithubWorkflowSha => oid::FULCIO_GH_SHA,
            Self::GithubWorkflowName => oid::FULCIO_GH_WORKFLOW,
            Self::GithubWorkflowRepository => oid::FULCIO_GH_REPOSITORY,
            Self::GithubWorkflowRef => oid::FULCIO_GH_REF,
        }
    }

    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::GithubWorkflowTrigger => "github-workflow-trigger",
            Self::GithubWorkflowSha => "github-workflow-sha",
            Self::GithubWorkflowName => "github-workflow-name",
            Self::GithubWorkflowRepository => "github-workflow-repository",
            Self::GithubWorkflowRef => "github-workflow-ref",
        }
    }
}

impl IdentityPolicy {
    /// Exactly `identity`, issued by exactly `issuer`.
    #[must_use]
    pub fn exact(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::new(Matcher::exact(identity), Matcher::exact(issuer))
    }

    /// From two matchers.
    #[must_use]
    pub const fn new(identity: Matcher, issuer: Matcher) -> Self {
        Self {
            identity,
            issuer,
            extensions: Vec::new(),
        }
    }

    /// Also require a Fulcio GitHub extension to equal `value`.
    #[must_use]
    pub fn with_extension(mut self, ext: FulcioExtension, value: impl Into<String>) -> Self {
        self.extensions.push((ext, value.into()));
        self
    }
}

/// The identities a certificate names: SAN URIs, emails and Fulcio
/// other-names, as strings.
pub(crate) fn san_identities(leaf: &Cert) -> Result<Vec<String>, PkiError> {
    let Some((_, san)) = leaf.extension::<SubjectAltName>(Role::Leaf)? else {
        return Err(PkiError::NoIdentity);
    };
    let mut out = Vec::new();
    for name in &san.0 {
        match name {
            GeneralName::UniformResourceIdentifier(s) | GeneralName::Rfc822Name(s) => {
                out.push(s.as_str().to_owned());
            }
            GeneralName::OtherName(o) if o.type_id == oid::FULCIO_OTHERNAME_SAN => {
                if let Ok(s) = o.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                    out.push(s.as_str().to_owned());
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(PkiError::NoIdentity);
    }
    Ok(out)
}

/// The OIDC issuer: the DER extension (.1.8) or the legacy raw one (.1.1);
/// both present and different is a refusal.
pub(crate) fn oidc_issuer(leaf: &Cert) -> Result<String, PkiError> {
    let v2 = leaf
        .raw_extension(oid::FULCIO_ISSUER_V2)?
        .map(|raw| {
            der::asn1::Utf8StringRef::from_der(raw)
                .map(|s| s.as_str().to_owned())
                .map_err(|_| PkiError::Extension {
                    role: Role::Leaf,
                    oid: oid::FULCIO_ISSUER_V2.to_string(),
                })
        })
        .transpose()?;
    let v1 = leaf
        .raw_extension(oid::FULCIO_ISSUER_V1)?
        .map(|raw| {
            std::str::from_utf8(raw)
                .map(str::to_owned)
                .map_err(|_| PkiError::Extension {
                    role: Role::Leaf,
                    oid: oid::FULCIO_ISSUER_V1.to_string(),
                })
        })
        .transpose()?;
    match (v2, v1) {
        (Some(a), Some(b)) if a != b => Err(PkiError::OidcIssuerConflict(a, b)),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Err(PkiError::NoOidcIssuer),
    }
}

/// The leaf names the policy's identity and issuer (and extensions); the
/// names and issuer it read.
/// The identities and OIDC issuer of the DER certificate `der`, when they
/// satisfy `policy` (its chain, validity and SCTs are
/// [`verify_certificate`]'s job).
///
/// # Errors
/// [`PkiError`]: a malformed certificate, or the first mismatch.
pub fn verify_identity(
    der: &[u8],
    policy: &IdentityPolicy,
) -> Result<(Vec<String>, String), PkiError> {
    check_identity(&Cert::parse(der)?, policy)
}

pub(crate) fn check_identity(
    leaf: &Cert,
    policy: &IdentityPolicy,
) -> Result<(Vec<String>, String), PkiError> {
    let names = san_identities(leaf)?;
    if !names.iter().any(|n| policy.identity.matches(n)) {
        return Err(PkiError::IdentityMismatch {
            expected: policy.identity.to_string(),
            found: names,
        });
    }
    let issuer = oidc_issuer(leaf)?;
    if !policy.issuer.matches(&issuer) {
        return Err(PkiError::OidcIssuerMismatch {
            expected: policy.issuer.to_string(),
            found: issuer,
        });
    }
    for (ext, want) in &policy.extensions {
        let found = leaf
            .raw_extension(ext.oid())?
            .map(|raw| String::from_utf8_lossy(raw).into_owned());
        if found.as_deref() != Some(want.as_str()) {
            return Err(PkiError::ExtensionMismatch {
                name: ext.name(),
                expected: want.clone(),
                found,
            });
        }
    }
    Ok((names, issuer))
}

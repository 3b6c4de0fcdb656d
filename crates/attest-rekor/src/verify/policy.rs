//! What the caller trusts in and requires: who signed, the artifact, the policy.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The in-toto statement types whose subjects name artifacts.
pub const STATEMENT_TYPES: &[&str] = &[
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// Who must have signed. There is no policy that trusts a key found in the
/// bundle or the log entry by itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SignerPolicy {
    /// One pinned key.
    Key(PublicKey),
    /// Any key of the set that is valid (window, not revoked) at every
    /// verified time.
    KeySet(KeySet),
    /// A Fulcio certificate: chaining to a certificate authority of the
    /// trusted root ([`crate::TrustedRoot::authorities`]) at every verified
    /// time, seen by a trusted CT log (an SCT), and issued to the identity
    /// by the OIDC issuer the [`IdentityPolicy`] names.
    CertificateIdentity(IdentityPolicy),
}

impl From<KeySet> for SignerPolicy {
    fn from(set: KeySet) -> Self {
        Self::KeySet(set)
    }
}

impl From<PublicKey> for SignerPolicy {
    fn from(key: PublicKey) -> Self {
        Self::Key(key)
    }
}

impl From<IdentityPolicy> for SignerPolicy {
    fn from(identity: IdentityPolicy) -> Self {
        Self::CertificateIdentity(identity)
    }
}

impl SignerPolicy {
    /// One pinned key.
    #[must_use]
    pub const fn key(key: PublicKey) -> Self {
        Self::Key(key)
    }

    /// Any valid key of a key set.
    #[must_use]
    pub const fn key_set(set: KeySet) -> Self {
        Self::KeySet(set)
    }

    /// A Fulcio certificate issued to exactly `identity` (a SAN: URI, email
    /// or other-name) by exactly the OIDC `issuer`.
    #[must_use]
    pub fn identity(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::CertificateIdentity(IdentityPolicy::exact(identity, issuer))
    }
}

/// The artifact a signature must be about, named by its digests: from its
/// content (SHA-256 and SHA-512), or by a digest alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Artifact {
    sha256: Option<[u8; 32]>,
    sha384: Option<[u8; 48]>,
    sha512: Option<[u8; 64]>,
}

/// Why an artifact digest could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not sha256: + 64, sha384: + 96 or sha512: + 128 hex digits")]
pub struct ArtifactDigestError(pub String);

impl Artifact {
    /// The artifact whose content is `bytes`.
    #[must_use]
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self {
            sha256: Some(Sha256::digest(bytes).into()),
            sha384: Some(sha2::Sha384::digest(bytes).into()),
            sha512: Some(sha2::Sha512::digest(bytes).into()),
        }
    }

    /// The artifact whose SHA-256 is `digest`.
    #[must_use]
    pub const fn sha256_digest(digest: [u8; 32]) -> Self {
        Self {
            sha256: Some(digest),
            sha384: None,
            sha512: None,
        }
    }

    /// Parses `sha256:` + 64, `sha384:` + 96 or `sha512:` + 128 hex digits
    /// (either case).
    ///
    /// # Errors
    /// [`ArtifactDigestError`].
    pub fn parse_digest(s: &str) -> Result<Self, ArtifactDigestError> {
        let err = || ArtifactDigestError(s.to_owned());
        if let Some(hex) = s.strip_prefix("sha256:") {
            let mut out = [0u8; 32];
            if hex.len() != 64 || base16ct::mixed::decode(hex, &mut out).is_err() {
                return Err(err());
            }
            return Ok(Self::sha256_digest(out));
        }
        if let Some(hex) = s.strip_prefix("sha384:") {
            let mut out = [0u8; 48];
            if hex.len() != 96 || base16ct::mixed::decode(hex, &mut out).is_err() {
                return Err(err());
            }
            return Ok(Self {
                sha256: None,
                sha384: Some(out),
                sha512: None,
            });
        }
        let hex = s.strip_prefix("sha512:").ok_or_else(err)?;
        let mut out = [0u8; 64];
        if hex.len() != 128 || base16ct::mixed::decode(hex, &mut out).is_err() {
            return Err(err());
        }
        Ok(Self {
            sha256: None,
            sha384: None,
            sha512: Some(out),
        })
    }

    /// The SHA-384, when known.
    #[must_use]
    pub const fn sha384(&self) -> Option<&[u8; 48]> {
        self.sha384.as_ref()
    }

    /// The digest with a protobuf `HashAlgorithm` (`SHA2_256`, `SHA2_384`,
    /// `SHA2_512`), when known.
    #[must_use]
    pub fn digest_for(&self, algorithm: &str) -> Option<&[u8]> {
        match algorithm {
            "SHA2_256" => self.sha256.as_ref().map(|d| &d[..]),
            "SHA2_384" => self.sha384.as_ref().map(|d| &d[..]),
            "SHA2_512" => self.sha512.as_ref().map(|d| &d[..]),
            _ => None,
        }
    }

    /// The SHA-256, when known.
    #[must_use]
    pub const fn sha256(&self) -> Option<&[u8; 32]> {
        self.sha256.as_ref()
    }

    /// The SHA-512, when known.
    #[must_use]
    pub const fn sha512(&self) -> Option<&[u8; 64]> {
        self.sha512.as_ref()
    }

    /// Whether an in-toto subject's digest set names this artifact: some
    /// algorithm both know (sha256, sha512) with equal values.
    pub(super) fn named_by(&self, digests: &std::collections::BTreeMap<String, String>) -> bool {
        let eq = |alg: &str, ours: Option<&[u8]>| {
            ours.zip(digests.get(alg)).is_some_and(|(o, hex)| {
                hex.eq_ignore_ascii_case(&base16ct::lower::encode_string(o))
            })
        };
        eq("sha256", self.sha256.as_ref().map(|d| &d[..]))
            || eq("sha384", self.sha384.as_ref().map(|d| &d[..]))
            || eq("sha512", self.sha512.as_ref().map(|d| &d[..]))
    }
}

/// The hash a logged `hashedrekord` body names for its digest, as a
/// protobuf `HashAlgorithm` name: 0.0.2's `data.algorithm`, 0.0.1's
/// lower-case name mapped; `SHA2_256` when the body names none we know
/// (the body check then fails on its own).
pub(super) fn logged_digest_algorithm(entry: &TlogEntry) -> &'static str {
    let body = crate::b64::decode(&entry.canonicalized_body)
        .ok()
        .and_then(|b| EntryBody::parse(&b).ok());
    let name = match &body {
        Some(EntryBody::HashedRekordV002(h)) => h.hashed_rekord_v0_0_2.data.algorithm.as_str(),
        Some(EntryBody::HashedRekordV001(h)) => match h.data.hash.algorithm.as_str() {
            "sha384" => "SHA2_384",
            "sha512" => "SHA2_512",
            _ => "SHA2_256",
        },
        _ => "SHA2_256",
    };
    match name {
        "SHA2_384" => "SHA2_384",
        "SHA2_512" => "SHA2_512",
        _ => "SHA2_256",
    }
}

/// What a bundle or log entry is verified against.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub(crate) struct BundlePolicy<'a> {
    /// Trusted logs: each entry's evidence is checked by the policy of the
    /// log its log id names.
    pub(crate) logs: &'a [TrustedLog],
    /// Who must have signed.
    pub(crate) signer: SignerPolicy,
    /// The verifier's clock.
    pub(crate) now: Timestamp,
    /// A claimed time and allowed window (seconds) to confirm against the
    /// log's time — a v1 log's integratedTime, a v2 log's earliest verified
    /// RFC 3161 genTime (required when set).
    pub(crate) claimed_time: Option<(i64, i64)>,
    /// The trusted root's certificate authorities, CT logs and timestamp
    /// authorities: needed by a certificate policy, and to verify RFC 3161
    /// timestamps (without them a bundle's timestamps are counted in
    /// [`Verified::unverified_timestamps`], never used).
    pub(crate) authorities: Option<&'a Authorities>,
}

impl<'a> BundlePolicy<'a> {
    /// A policy trusting `logs` and `signer`, at time `now`.
    #[must_use]
    pub(crate) const fn new(logs: &'a [TrustedLog], signer: SignerPolicy, now: Timestamp) -> Self {
        Self {
            logs,
            signer,
            now,
            claimed_time: None,
            authorities: None,
        }
    }

    /// The trusted root's certificate authorities, CT logs and timestamp
    /// authorities (from [`crate::TrustedRoot`]).
    #[must_use]
    pub(crate) const fn with_authorities(mut self, authorities: &'a Authorities) -> Self {
        self.authorities = Some(authorities);
        self
    }

    /// A claimed time (Unix seconds) and the window (seconds) within which
    /// the log's time (v1: integratedTime; v2: the earliest verified RFC
    /// 3161 genTime) must confirm it: `claimed <= t <= claimed + window`.
    #[must_use]
    pub(crate) const fn with_claimed_time(mut self, claimed: i64, window: i64) -> Self {
        self.claimed_time = Some((claimed, window));
        self
    }
}

/// Where a verified time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeSource {
    /// A Rekor v1 entry's integratedTime, whose SET verified with the key
    /// of the trusted log `log_id`.
    IntegratedTime {
        /// The log.
        log_id: LogId,
    },
    /// An RFC 3161 timestamp's genTime, verified with a timestamp authority
    /// of the trusted root.
    Rfc3161 {
        /// The authority's URI.
        authority: String,
    },
}

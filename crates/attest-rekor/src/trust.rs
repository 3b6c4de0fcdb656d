//! Trusted log keys, and why a trusted root is refused (the root itself is
//! [`crate::TrustedRoot`]).

use attest_dsse::{Algorithm, PublicKey, Timestamp};

use crate::{LogId, NoteVerifier};

/// Which Rekor API a trusted log speaks: it decides what evidence its
/// entries must carry, and is a property of the trusted log, never guessed
/// from the fields a bundle happens to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogApi {
    /// Rekor v1: entries carry integratedTime and a signed entry timestamp
    /// (SET), both required; the log id is SHA-256 of the key's SPKI.
    V1,
    /// Rekor v2 (tile-based): entries carry no time of their own; a verified
    /// time must come from an RFC 3161 timestamp.
    V2,
}

/// A transparency log this verifier trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrustedLog {
    /// The log's id: SHA-256 of its SPKI for Rekor v1; the C2SP key hash for
    /// Rekor v2 (as the trust root's `logId.keyId` says).
    pub log_id: LogId,
    /// The log's public key.
    pub key: PublicKey,
    /// The key name: what C2SP Ed25519 key ids are computed from (the host
    /// of its URL by default). Signature lines are selected by key id, so
    /// for ECDSA and Rekor v1 keys the name on a line need not equal it.
    pub name: String,
    /// The log name its checkpoints' origin line must carry, when the
    /// caller pins one: the origin is then `<name>` or `<name> - <tree id>`
    /// (Rekor v1). `None` (the default, and for trusted roots): not checked.
    pub origin: Option<String>,
    /// The log's base URL.
    pub base_url: String,
    /// First instant the key is valid (inclusive).
    pub valid_from: Option<Timestamp>,
    /// Last instant the key is valid (inclusive); `None` = still valid.
    pub valid_until: Option<Timestamp>,
    /// The API the log speaks.
    pub api: LogApi,
    /// Witnesses whose cosignatures its checkpoints must carry (k of n);
    /// `None` (the default): none required.
    pub witnesses: Option<crate::witness::WitnessPolicy>,
}

impl TrustedLog {
    /// A log trusted with `key` under `log_id`, signing checkpoints as `name`,
    /// at `base_url`, valid at all times (see [`valid_from`](Self::valid_from)).
    #[must_use]
    pub fn new(
        log_id: LogId,
        key: PublicKey,
        name: impl Into<String>,
        base_url: impl Into<String>,
    ) -> Self {
        Self {
            log_id,
            key,
            name: name.into(),
            origin: None,
            base_url: base_url.into(),
            valid_from: None,
            valid_until: None,
            api: LogApi::V1,
            witnesses: None,
        }
    }

    /// Requires its checkpoints to carry cosignatures from the policy's
    /// witnesses ([`crate::witness`]): a checkpoint without enough valid
    /// ones fails [`Check::Witnesses`](crate::verify::Check::Witnesses).
    #[must_use]
    pub fn with_witnesses(mut self, policy: crate::witness::WitnessPolicy) -> Self {
        self.witnesses = Some(policy);
        self
    }

    /// The API the log speaks (default [`LogApi::V1`] for [`new`](Self::new)
    /// and [`rekor_v1`](Self::rekor_v1)).
    #[must_use]
    pub const fn with_api(mut self, api: LogApi) -> Self {
        self.api = api;
        self
    }

    /// The key is named `name` (e.g. an embedded log's name rather than the
    /// URL's host); see [`name`](Self::name).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Pins the log's name: the key is named `name` and every checkpoint's
    /// origin must be `name` or `name - <tree id>` ("origin is X, expected
    /// Y" otherwise). What `REKOR_LOG_NAME` and `--log-name` set.
    #[must_use]
    pub fn pinned_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.origin = Some(name.clone());
        self.name = name;
        self
    }

    /// Whether a checkpoint origin satisfies the pinned name (always, when
    /// none is pinned).
    #[must_use]
    pub fn origin_matches(&self, origin: &str) -> bool {
        self.origin
            .as_deref()
            .is_none_or(|want| origin_names(origin, want))
    }

    /// The key's validity window (both ends inclusive, `None` = open).
    #[must_use]
    pub const fn valid_between(
        mut self,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Self {
        self.valid_from = from;
        self.valid_until = until;
        self
    }

    /// A Rekor v1 log: the log id is SHA-256 of the key's SPKI, valid at all
    /// times.
    #[must_use]
    pub fn rekor_v1(base_url: &str, key: PublicKey) -> Self {
        Self {
            log_id: LogId::of_key(&key),
            name: host_of(base_url),
            origin: None,
            base_url: base_url.to_owned(),
            key,
            valid_from: None,
            valid_until: None,
            api: LogApi::V1,
            witnesses: None,
        }
    }

    /// Whether the key was valid at `t` (both ends inclusive).
    #[must_use]
    pub fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from.is_none_or(|f| f <= t) && self.valid_until.is_none_or(|u| t <= u)
    }

    /// The verifier for this log's checkpoints: Rekor v1 key ids for logs
    /// whose id is SHA-256 of the SPKI, C2SP key ids otherwise.
    #[must_use]
    pub fn note_verifier(&self) -> NoteVerifier {
        if self.api == LogApi::V1 || self.key.algorithm() != Algorithm::Ed25519 {
            NoteVerifier::rekor_v1(self.name.clone(), self.key.clone())
        } else {
            // A Rekor v2 log's id is the C2SP key hash of (name, key): its
            // first 4 bytes are the key id its checkpoints are signed under,
            // so the trusted id selects the lines even when the URL's host
            // is not the key's name (an embedded log behind any address).
            let mut id = [0u8; 4];
            id.copy_from_slice(&self.log_id.0[..4]);
            NoteVerifier::with_key_id(self.name.clone(), id, self.key.clone())
        }
    }

    /// The log id as lowercase hex (the REST API's `logID`).
    #[must_use]
    pub fn log_id_hex(&self) -> String {
        self.log_id.to_hex()
    }
}

/// The host part of a URL (`https://rekor.sigstore.dev/x` → `rekor.sigstore.dev`).
#[must_use]
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_owned()
}

/// Why a trust root could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustRootError {
    /// Not a trusted-root document.
    #[error("not a trusted root")]
    Json(#[source] serde_json::Error),
    /// A trusted-root media type this crate does not read.
    #[error("unsupported trusted root media type {0:?}")]
    MediaType(String),
    /// A certificate authority, CT log or timestamp authority that is not
    /// usable.
    #[error("{kind} {index}: {problem}")]
    Authority {
        /// `certificateAuthorities`, `ctlogs` or `timestampAuthorities`.
        kind: &'static str,
        /// Position in that list.
        index: usize,
        /// What is wrong.
        #[source]
        problem: AuthorityProblem,
    },
    /// A log entry that is not usable.
    #[error("tlog {index}: {problem}")]
    Log {
        /// Position in `tlogs`.
        index: usize,
        /// What is wrong.
        #[source]
        problem: TlogProblem,
    },
}

/// What is wrong with one `tlogs` entry of a trusted root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogProblem {
    /// `publicKey.rawBytes` is not base64.
    #[error("publicKey.rawBytes is not base64")]
    RawBytes,
    /// The key is not one we read.
    #[error("publicKey")]
    Key(#[source] attest_dsse::KeyError),
    /// `logId.keyId` is not base64 of 32 bytes.
    #[error("logId.keyId")]
    KeyId(#[source] crate::LogIdError),
    /// `publicKey.validFor.start` is missing: a key with no start would be
    /// trusted for all past time.
    #[error("publicKey.validFor.start is missing")]
    NoValidityStart,
    /// `validFor.end` is before `validFor.start`.
    #[error("publicKey.validFor ends before it starts")]
    ValidityReversed,
}

/// What is wrong with one certificate authority, CT log or timestamp
/// authority of a trusted root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityProblem {
    /// A `rawBytes` field is not base64.
    #[error("rawBytes is not base64")]
    RawBytes,
    /// A certificate of the chain does not parse, or the chain is empty.
    #[error("certChain")]
    Chain(#[source] crate::pki::PkiError),
    /// A CT log key that is not ECDSA or RSA in the declared form.
    #[error("publicKey is not a {0} key")]
    Key(String),
    /// `logId.keyId` is not base64 of 32 bytes.
    #[error("logId.keyId is not base64 of 32 bytes")]
    KeyId,
    /// `validFor.start` is missing.
    #[error("validFor.start is missing")]
    NoValidityStart,
    /// `validFor.end` is before `validFor.start`.
    #[error("validFor ends before it starts")]
    ValidityReversed,
}

/// Whether a checkpoint origin names the log `name`: it is `name` (Rekor
/// v2, C2SP) or `name - <decimal tree id>` (Rekor v1).
#[must_use]
pub fn origin_names(origin: &str, name: &str) -> bool {
    origin == name
        || origin
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(" - "))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

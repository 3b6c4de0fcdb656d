//! in-toto Statement v1, the payload attestations carry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The payload type of an in-toto statement in a DSSE envelope.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_V1`].
    #[serde(rename = "_type")]
    pub type_: String,
    /// The artifacts the statement is about.
    pub subject: Vec<Subject>,
    /// URI naming the predicate's schema.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate (arbitrary JSON).
    #[serde(default)]
    pub predicate: serde_json::Value,
}

/// One artifact: a name and its digests by algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Artifact name (a path, a package URL, a commit…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Digests: algorithm name → lowercase hex.
    pub digest: BTreeMap<String, String>,
    /// Extra information about the artifact (in-toto ResourceDescriptor
    /// `annotations`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

impl Subject {
    /// A subject named `name` with one SHA-256 digest.
    #[must_use]
    pub fn sha256(name: impl Into<String>, digest: &[u8; 32]) -> Self {
        Self {
            name: name.into(),
            digest: [("sha256".to_owned(), base16ct::lower::encode_string(digest))].into(),
            annotations: BTreeMap::new(),
        }
    }

    /// A subject named `name` for `content`, digested with SHA-256.
    #[must_use]
    pub fn of_bytes(name: impl Into<String>, content: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        Self::sha256(name, &Sha256::digest(content).into())
    }
}

/// Why a statement is not a valid in-toto Statement v1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// Not JSON of the statement's shape.
    #[error("not an in-toto statement")]
    Json(#[source] serde_json::Error),
    /// `_type` is not `https://in-toto.io/Statement/v1`.
    #[error("_type is {0:?}, expected \"https://in-toto.io/Statement/v1\"")]
    WrongType(String),
    /// No subject.
    #[error("a statement needs at least one subject")]
    NoSubject,
    /// A subject without digests.
    #[error("subject {0} has no digest")]
    NoDigest(usize),
    /// A digest of the wrong form.
    #[error("subject {index}: {algorithm} digest must be {len} lowercase hex digits")]
    BadDigest {
        /// Subject position.
        index: usize,
        /// Algorithm name.
        algorithm: String,
        /// Required hex length.
        len: usize,
    },
    /// An empty predicate type.
    #[error("predicateType is empty")]
    NoPredicateType,
    /// The predicate type is not an absolute URI (in-toto's TypeURI).
    #[error("predicateType {0:?} is not a URI (like https://slsa.dev/provenance/v1)")]
    PredicateTypeNotUri(String),
    /// The predicate is present but not a JSON object.
    #[error("the predicate must be a JSON object")]
    PredicateNotObject,
}

impl Statement {
    /// A statement about one subject.
    #[must_use]
    pub fn new(
        subject: Subject,
        predicate_type: impl Into<String>,
        predicate: serde_json::Value,
    ) -> Self {
        Self {
            type_: STATEMENT_V1.to_owned(),
            subject: vec![subject],
            predicate_type: predicate_type.into(),
            predicate,
        }
    }

    /// Parses and validates.
    ///
    /// # Errors
    /// [`StatementError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, StatementError> {
        let s: Self = serde_json::from_slice(bytes).map_err(StatementError::Json)?;
        s.validate()?;
        Ok(s)
    }

    /// Compact JSON.
    #[must_use]
    #[allow(clippy::expect_used)] // plain structs with string keys: cannot fail
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a statement serializes")
    }

    /// Checks the rules of Statement v1: the `_type`, at least one subject,
    /// each with a digest, and `sha256`/`sha384`/`sha512` digests of 64/96/128
    /// lowercase hex digits (other algorithms must be non-empty).
    ///
    /// # Errors
    /// [`StatementError`].
    pub fn validate(&self) -> Result<(), StatementError> {
        if self.type_ != STATEMENT_V1 {
            return Err(StatementError::WrongType(self.type_.clone()));
        }
        if self.subject.is_empty() {
            return Err(StatementError::NoSubject);
        }
        if self.predicate_type.is_empty() {
            return Err(StatementError::NoPredicateType);
        }
        for (index, s) in self.subject.iter().enumerate() {
            if s.digest.is_empty() {
                return Err(StatementError::NoDigest(index));
            }
            for (alg, value) in &s.digest {
                let len = match alg.as_str() {
                    "sha256" => 64,
                    "sha384" => 96,
                    "sha512" => 128,
                    _ if value.is_empty() => 1,
                    _ => continue,
                };
                let hex = value
                    .bytes()
                    .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                if value.len() != len || !hex {
                    return Err(StatementError::BadDigest {
                        index,
                        algorithm: alg.clone(),
                        len,
                    });
                }
            }
        }
        Ok(())
    }

    /// [`validate`](Self::validate), and what a statement this project
    /// signs must also be: a `predicateType` that is an absolute URI and a
    /// predicate that is a JSON object (or absent), as in-toto's Statement
    /// v1 specifies. Statements read back are held only to `validate`, so
    /// that history signed before these rules still reads.
    ///
    /// # Errors
    /// [`StatementError`].
    pub fn validate_for_signing(&self) -> Result<(), StatementError> {
        self.validate()?;
        let t = &self.predicate_type;
        let scheme_ok = t.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if !scheme_ok || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(StatementError::PredicateTypeNotUri(t.clone()));
        }
        if !(self.predicate.is_object() || self.predicate.is_null()) {
            return Err(StatementError::PredicateNotObject);
        }
        Ok(())
    }
}

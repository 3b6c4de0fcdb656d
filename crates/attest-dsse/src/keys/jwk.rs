//! Keys as JSON Web Keys (RFC 7517): Ed25519 as `OKP`, P-256 as `EC`, with the members a key set uses.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A JSON Web Key (RFC 7517) for an Ed25519 or P-256 public key, with the
/// extra members a key set uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `OKP` or `EC`.
    pub kty: String,
    /// `Ed25519` or `P-256`.
    pub crv: String,
    /// Base64url x coordinate (or the Ed25519 key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Base64url y coordinate (P-256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// JOSE algorithm name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Public key use (`sig`).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    pub(super) fn new(kty: &str, crv: &str, x: Option<String>, y: Option<String>) -> Self {
        Self {
            kty: kty.to_owned(),
            crv: crv.to_owned(),
            x,
            y,
            kid: None,
            alg: None,
            use_: None,
        }
    }
}

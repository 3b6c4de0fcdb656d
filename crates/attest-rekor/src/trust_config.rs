//! A Sigstore client trust configuration: a trusted root and a signing
//! config in one document (`ClientTrustConfig`, media type
//! [`CLIENT_TRUST_CONFIG_MEDIA_TYPE`]), as sigstore-python's
//! `--trust-config` and its test assets use.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::TrustedRoot;
use crate::signing::{SigningConfig, SigningConfigError};
use crate::trust::TrustRootError;

/// The client trust configuration media type this crate reads.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// Why a client trust configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientTrustConfigError {
    /// Not JSON of the configuration's shape.
    #[error("not a client trust configuration")]
    Json(#[source] serde_json::Error),
    /// Another media type.
    #[error("client trust configuration media type {0:?} is not {CLIENT_TRUST_CONFIG_MEDIA_TYPE}")]
    MediaType(String),
    /// A member that must be present is missing (`trustedRoot`,
    /// `signingConfig`).
    #[error("the client trust configuration has no {0}")]
    Missing(&'static str),
    /// Its trusted root is refused.
    #[error("its trusted root")]
    TrustedRoot(#[source] TrustRootError),
    /// Its signing config is refused.
    #[error("its signing config")]
    SigningConfig(#[source] SigningConfigError),
}

/// A trusted root and a signing config, each parsed and validated as on
/// its own (bytes as received: the members are parsed from their own text).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientTrustConfig {
    /// What to trust when verifying.
    pub trusted_root: TrustedRoot,
    /// Where to sign, log and timestamp.
    pub signing_config: SigningConfig,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Json<'a> {
    media_type: String,
    #[serde(borrow, default)]
    trusted_root: Option<&'a RawValue>,
    #[serde(borrow, default)]
    signing_config: Option<&'a RawValue>,
}

impl ClientTrustConfig {
    /// Parses a client trust configuration: the media type, then the
    /// trusted root ([`TrustedRoot::from_json`]) and the signing config
    /// ([`SigningConfig::from_json`]), both required.
    ///
    /// # Errors
    /// [`ClientTrustConfigError`] naming the part refused.
    pub fn from_json(json: &[u8]) -> Result<Self, ClientTrustConfigError> {
        let parsed: Json<'_> =
            serde_json::from_slice(json).map_err(ClientTrustConfigError::Json)?;
        if parsed.media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            return Err(ClientTrustConfigError::MediaType(parsed.media_type));
        }
        let root = parsed
            .trusted_root
            .ok_or(ClientTrustConfigError::Missing("trustedRoot"))?;
        let signing = parsed
            .signing_config
            .ok_or(ClientTrustConfigError::Missing("signingConfig"))?;
        Ok(Self {
            trusted_root: TrustedRoot::from_json(root.get().as_bytes())
                .map_err(ClientTrustConfigError::TrustedRoot)?,
            signing_config: SigningConfig::from_json(signing.get().as_bytes())
                .map_err(ClientTrustConfigError::SigningConfig)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const SIGNING: &str = r#"{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [], "oidcUrls": [],
        "rekorTlogUrls": [{"url": "https://log.example", "majorApiVersion": 1,
            "validFor": {"start": "2024-01-01T00:00:00Z"}, "operator": "example"}],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [], "tsaConfig": {"selector": "ANY"}}"#;

    fn config(root: &str, signing: &str) -> String {
        format!(
            r#"{{"mediaType": "{CLIENT_TRUST_CONFIG_MEDIA_TYPE}", "trustedRoot": {root}, "signingConfig": {signing}}}"#
        )
    }

    fn root() -> String {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../attestlog-testkit/vectors/trusted_root.json"
        ))
        .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn both_parts_are_read_as_on_their_own() {
        let c = ClientTrustConfig::from_json(config(&root(), SIGNING).as_bytes()).unwrap();
        let alone = TrustedRoot::from_json(root().as_bytes()).unwrap();
        assert_eq!(c.trusted_root.logs(), alone.logs());
        assert_eq!(
            c.signing_config,
            SigningConfig::from_json(SIGNING.as_bytes()).unwrap()
        );
    }

    #[test]
    fn each_part_missing_or_refused_is_named() {
        let r = root();
        let other = config(&r, SIGNING).replace("clienttrustconfig.v0.1", "clienttrustconfig.v9");
        assert!(matches!(
            ClientTrustConfig::from_json(other.as_bytes()),
            Err(ClientTrustConfigError::MediaType(_))
        ));
        let no_root = format!(
            r#"{{"mediaType": "{CLIENT_TRUST_CONFIG_MEDIA_TYPE}", "signingConfig": {SIGNING}}}"#
        );
        assert!(matches!(
            ClientTrustConfig::from_json(no_root.as_bytes()),
            Err(ClientTrustConfigError::Missing("trustedRoot"))
        ));
        let no_signing =
            format!(r#"{{"mediaType": "{CLIENT_TRUST_CONFIG_MEDIA_TYPE}", "trustedRoot": {r}}}"#);
        assert!(matches!(
            ClientTrustConfig::from_json(no_signing.as_bytes()),
            Err(ClientTrustConfigError::Missing("signingConfig"))
        ));
        let bad_root = config(&r.replace("trustedroot+json", "trustedroot+yaml"), SIGNING);
        assert!(matches!(
            ClientTrustConfig::from_json(bad_root.as_bytes()),
            Err(ClientTrustConfigError::TrustedRoot(_))
        ));
        let bad_signing = config(
            &r,
            &SIGNING.replace("signingconfig.v0.2", "signingconfig.v0.9"),
        );
        assert!(matches!(
            ClientTrustConfig::from_json(bad_signing.as_bytes()),
            Err(ClientTrustConfigError::SigningConfig(_))
        ));
        assert!(matches!(
            ClientTrustConfig::from_json(b"[]"),
            Err(ClientTrustConfigError::Json(_))
        ));
    }
}

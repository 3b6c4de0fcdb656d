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
    /// Both halves in one.
    #[must_use]
    pub const fn new(trusted_root: TrustedRoot, signing_config: SigningConfig) -> Self {
        Self {
            trusted_root,
            signing_config,
        }
    }

    /// The document ([`CLIENT_TRUST_CONFIG_MEDIA_TYPE`]) that
    /// [`from_json`](Self::from_json) reads back.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": self.trusted_root.to_json(),
            "signingConfig": self.signing_config.to_json(),
        })
    }

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

/// A document that carries trust, told apart by its `mediaType`: a trusted
/// root, a signing config, or a client trust configuration (both in one).
/// Wherever a trusted root or a signing config is read, any document that
/// holds one is accepted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TrustDocument {
    /// A trusted root alone ([`crate::TRUSTED_ROOT_MEDIA_TYPE`]).
    TrustedRoot(TrustedRoot),
    /// A signing config alone
    /// ([`crate::signing::SIGNING_CONFIG_MEDIA_TYPE`]).
    SigningConfig(SigningConfig),
    /// Both ([`CLIENT_TRUST_CONFIG_MEDIA_TYPE`]).
    ClientTrustConfig(ClientTrustConfig),
}

/// Why a trust document was refused, or lacks what was asked of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustDocumentError {
    /// Not a JSON object with a `mediaType` string.
    #[error("not a Sigstore trust document (a JSON object with a mediaType)")]
    Json(#[source] serde_json::Error),
    /// A trusted root that is refused (including an unknown media type).
    #[error("not a usable trusted root")]
    TrustedRoot(#[source] TrustRootError),
    /// A signing config that is refused.
    #[error("not a usable signing config")]
    SigningConfig(#[source] SigningConfigError),
    /// A client trust configuration that is refused.
    #[error("not a usable client trust configuration")]
    ClientTrustConfig(#[source] Box<ClientTrustConfigError>),
    /// A trusted root was asked of a signing config.
    #[error("a signing config holds no trusted root")]
    NoTrustedRoot,
    /// A signing config was asked of a trusted root.
    #[error("a trusted root holds no signing config")]
    NoSigningConfig,
}

impl TrustDocument {
    /// Parses whichever document `json` is, by its `mediaType`: a client
    /// trust configuration's or a signing config's is read as such; any
    /// other is read as a trusted root (which refuses a media type it does
    /// not know).
    ///
    /// # Errors
    /// [`TrustDocumentError`] naming the document refused.
    pub fn from_json(json: &[u8]) -> Result<Self, TrustDocumentError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Kind {
            media_type: String,
        }
        // Most documents are trusted roots: read as one first, so that a
        // root's text is parsed once; another media type is read again as
        // what it says it is.
        let media_type = match TrustedRoot::from_json(json) {
            Ok(root) => return Ok(Self::TrustedRoot(root)),
            Err(crate::TrustRootError::MediaType(m)) => m,
            Err(crate::TrustRootError::Json(_)) => {
                let kind: Kind = serde_json::from_slice(json).map_err(TrustDocumentError::Json)?;
                kind.media_type
            }
            Err(e) => return Err(TrustDocumentError::TrustedRoot(e)),
        };
        match media_type.as_str() {
            CLIENT_TRUST_CONFIG_MEDIA_TYPE => ClientTrustConfig::from_json(json)
                .map(Self::ClientTrustConfig)
                .map_err(|e| TrustDocumentError::ClientTrustConfig(Box::new(e))),
            crate::signing::SIGNING_CONFIG_MEDIA_TYPE => SigningConfig::from_json(json)
                .map(Self::SigningConfig)
                .map_err(TrustDocumentError::SigningConfig),
            _ => TrustedRoot::from_json(json)
                .map(Self::TrustedRoot)
                .map_err(TrustDocumentError::TrustedRoot),
        }
    }

    /// The trusted root it holds.
    ///
    /// # Errors
    /// [`TrustDocumentError::NoTrustedRoot`] for a signing config alone.
    pub fn into_trusted_root(self) -> Result<TrustedRoot, TrustDocumentError> {
        match self {
            Self::TrustedRoot(r) => Ok(r),
            Self::ClientTrustConfig(c) => Ok(c.trusted_root),
            Self::SigningConfig(_) => Err(TrustDocumentError::NoTrustedRoot),
        }
    }

    /// The signing config it holds.
    ///
    /// # Errors
    /// [`TrustDocumentError::NoSigningConfig`] for a trusted root alone.
    pub fn into_signing_config(self) -> Result<SigningConfig, TrustDocumentError> {
        match self {
            Self::SigningConfig(c) => Ok(c),
            Self::ClientTrustConfig(c) => Ok(c.signing_config),
            Self::TrustedRoot(_) => Err(TrustDocumentError::NoSigningConfig),
        }
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

    #[test]
    fn a_trust_document_is_whichever_its_media_type_says() {
        let r = root();
        let both = TrustDocument::from_json(config(&r, SIGNING).as_bytes()).unwrap();
        assert!(matches!(both, TrustDocument::ClientTrustConfig(_)));
        assert_eq!(
            both.clone().into_trusted_root().unwrap().logs(),
            TrustedRoot::from_json(r.as_bytes()).unwrap().logs()
        );
        assert_eq!(
            both.into_signing_config().unwrap(),
            SigningConfig::from_json(SIGNING.as_bytes()).unwrap()
        );
        let root_only = TrustDocument::from_json(r.as_bytes()).unwrap();
        assert!(root_only.clone().into_trusted_root().is_ok());
        assert!(matches!(
            root_only.into_signing_config(),
            Err(TrustDocumentError::NoSigningConfig)
        ));
        let signing_only = TrustDocument::from_json(SIGNING.as_bytes()).unwrap();
        assert!(matches!(
            signing_only.clone().into_trusted_root(),
            Err(TrustDocumentError::NoTrustedRoot)
        ));
        assert!(signing_only.into_signing_config().is_ok());
        // An unknown media type is the trusted root's refusal; no media
        // type at all is not a trust document.
        let unknown = r.replace("trustedroot+json", "trustedroot+yaml");
        assert!(matches!(
            TrustDocument::from_json(unknown.as_bytes()),
            Err(TrustDocumentError::TrustedRoot(TrustRootError::MediaType(
                _
            )))
        ));
        assert!(matches!(
            TrustDocument::from_json(br#"{"logs": []}"#),
            Err(TrustDocumentError::Json(_))
        ));
        // A client trust configuration's own refusals stay its own.
        let bad = config(
            &r,
            &SIGNING.replace("signingconfig.v0.2", "signingconfig.v0.9"),
        );
        assert!(matches!(
            TrustDocument::from_json(bad.as_bytes()),
            Err(TrustDocumentError::ClientTrustConfig(e))
                if matches!(*e, ClientTrustConfigError::SigningConfig(_))
        ));
    }
}

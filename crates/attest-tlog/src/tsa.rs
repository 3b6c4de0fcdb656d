//! An embedded RFC 3161 timestamp authority over HTTP, as Sigstore's
//! timestamp-authority serves it: `POST /api/v1/timestamp` (a DER
//! `TimeStampReq`, `application/timestamp-query`) answers a DER
//! `TimeStampResp` (`application/timestamp-reply`); `GET
//! /api/v1/timestamp/certchain` serves the chain as PEM. Its key and chain
//! live in a directory and are made on first start.

use std::path::Path;
use std::sync::Arc;

use attest_dsse::{Clock, SigningKey, SystemClock, Timestamp};
use attest_issue::TimestampAuthority;
use http::{Method, Request, Response, StatusCode, header};

/// The timestamp endpoint, relative to the service's base URL.
pub const TIMESTAMP_PATH: &str = "/api/v1/timestamp";
/// The certificate chain endpoint.
pub const CERTCHAIN_PATH: &str = "/api/v1/timestamp/certchain";

/// Why the TSA's material could not be loaded or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaServiceError {
    /// Reading or writing its files.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A key file's key cannot be read or written.
    #[error("{file}")]
    Key {
        /// The file.
        file: &'static str,
        /// Why.
        #[source]
        source: attest_dsse::KeyError,
    },
    /// `tsa-chain.pem` has a block that is not PEM.
    #[error("tsa-chain.pem")]
    ChainPem(#[source] pem_rfc7468::Error),
    /// `tsa-chain.pem` is not a chain of certificates (named).
    #[error("tsa-chain.pem: {0}")]
    Chain(&'static str),
    /// The key and chain do not make a timestamp authority.
    #[error("the timestamp authority's material")]
    Authority(#[source] attest_issue::tsa::TsaError),
}

/// An embedded timestamp authority. Cheap to clone.
#[derive(Clone)]
pub struct TsaService {
    authority: Arc<TimestampAuthority>,
    /// Its chain as a trusted root's timestamp authority (parsed once).
    entry: Arc<attest_rekor::pki::CertificateAuthority>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TsaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsaService").finish_non_exhaustive()
    }
}

impl TsaService {
    /// Opens the TSA whose key (`tsa-key.pem`, PKCS#8, owner-only) and chain
    /// (`tsa-chain.pem`) are in `dir`, making them (named `name`) when
    /// missing.
    ///
    /// # Errors
    /// [`TsaServiceError`].
    pub fn open(dir: &Path, name: &str) -> Result<Self, TsaServiceError> {
        let io = |context: &str| {
            let context = context.to_owned();
            move |source| TsaServiceError::Io { context, source }
        };
        let key_path = dir.join("tsa-key.pem");
        let chain_path = dir.join("tsa-chain.pem");
        let key_file = |file| move |source| TsaServiceError::Key { file, source };
        if !key_path.exists() {
            std::fs::create_dir_all(dir).map_err(io("create the TSA directory"))?;
            let tsa = TimestampAuthority::generate(name, SystemClock.now())
                .map_err(TsaServiceError::Authority)?;
            let pem = tsa.key().to_pkcs8_pem().map_err(key_file("tsa-key.pem"))?;
            // The chain first: a key without its chain is never left behind.
            write_new(&chain_path, tsa.chain_pem().as_bytes(), false)
                .map_err(io("write tsa-chain.pem"))?;
            write_new(&key_path, pem.as_bytes(), true).map_err(io("write tsa-key.pem"))?;
        }
        let key_pem = std::fs::read_to_string(&key_path).map_err(io("read tsa-key.pem"))?;
        let key = SigningKey::from_pkcs8_pem(&key_pem).map_err(key_file("tsa-key.pem"))?;
        let chain_pem = std::fs::read_to_string(&chain_path).map_err(io("read tsa-chain.pem"))?;
        let chain = pem_blocks(&chain_pem)?;
        let authority = TimestampAuthority::new(key, chain).map_err(TsaServiceError::Authority)?;
        let created = std::fs::metadata(&chain_path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or_else(
                || SystemClock.now(),
                |d| Timestamp::from_unix(i64::try_from(d.as_secs()).unwrap_or(0)),
            );
        // The certificate is valid from its own notBefore; the trusted
        // root may say so from a day before the files were written.
        Self::new(authority, Timestamp::from_unix(created.unix() - 86_400))
    }

    /// A TSA over given material, trusted from `created`.
    ///
    /// # Errors
    /// [`TsaServiceError::Authority`] when its chain is not a usable
    /// authority.
    pub fn new(authority: TimestampAuthority, created: Timestamp) -> Result<Self, TsaServiceError> {
        let entry = authority
            .authority("", created)
            .map_err(TsaServiceError::Authority)?;
        Ok(Self {
            authority: Arc::new(authority),
            entry: Arc::new(entry),
            clock: Arc::new(SystemClock),
        })
    }

    /// The same TSA stamping with `clock`'s time.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The authority (its chain, its trusted-root entry).
    #[must_use]
    pub fn authority(&self) -> &TimestampAuthority {
        &self.authority
    }

    /// This TSA as a trusted root's timestamp authority at `url` (the full
    /// timestamp endpoint URL), trusted from its creation.
    #[must_use]
    pub fn trusted_authority(&self, url: &str) -> attest_rekor::pki::CertificateAuthority {
        let mut entry = (*self.entry).clone();
        entry.uri = url.to_owned();
        entry
    }

    /// Answers `POST /api/v1/timestamp` and `GET …/certchain`; `None` for
    /// any other path (so that it can share a server with a log).
    #[must_use]
    pub fn handle(&self, req: &Request<Vec<u8>>) -> Option<Response<Vec<u8>>> {
        let respond = |status: StatusCode, ctype: &'static str, body: Vec<u8>| {
            let mut r = Response::new(body);
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(ctype),
            );
            r
        };
        match (req.uri().path(), req.method()) {
            (CERTCHAIN_PATH, &Method::GET) => Some(respond(
                StatusCode::OK,
                "application/pem-certificate-chain",
                self.authority.chain_pem().into_bytes(),
            )),
            (TIMESTAMP_PATH, &Method::POST) => {
                // A serial must be unique: without randomness, no token.
                let Ok(serial) = getrandom::u64() else {
                    return Some(respond(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "application/timestamp-reply",
                        TimestampAuthority::rejection("no randomness for a serial number"),
                    ));
                };
                let serial = serial >> 1;
                Some(
                    match self.authority.respond(req.body(), self.clock.now(), serial) {
                        Ok(resp) => respond(StatusCode::OK, "application/timestamp-reply", resp),
                        Err(e) => respond(
                            StatusCode::BAD_REQUEST,
                            "application/timestamp-reply",
                            TimestampAuthority::rejection(&attest_dsse::ErrorChain(&e).to_string()),
                        ),
                    },
                )
            }
            (TIMESTAMP_PATH | CERTCHAIN_PATH, _) => Some(respond(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                b"method not allowed".to_vec(),
            )),
            _ => None,
        }
    }
}

fn write_new(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The DER of every `CERTIFICATE` block of a PEM text.
///
/// Hand-written over `pem-rfc7468`'s one-block decoder: x509-cert's
/// `load_pem_chain` would re-encode each certificate, and the chain is
/// served as the bytes on disk.
fn pem_blocks(text: &str) -> Result<Vec<Vec<u8>>, TsaServiceError> {
    let bad = TsaServiceError::Chain;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end_marker = "-----END CERTIFICATE-----";
        let end = rest[start..]
            .find(end_marker)
            .ok_or(bad("an unterminated certificate"))?
            + start
            + end_marker.len();
        let (label, der) = pem_rfc7468::decode_vec(&rest.as_bytes()[start..end])
            .map_err(TsaServiceError::ChainPem)?;
        if label != "CERTIFICATE" {
            return Err(bad("a block that is not a CERTIFICATE"));
        }
        out.push(der);
        rest = &rest[end..];
    }
    if out.is_empty() {
        return Err(bad("no certificate"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_material_is_made_once_and_reread() {
        let dir = std::env::temp_dir().join(format!("attestlog-tsa-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = TsaService::open(&dir, "tsa.test").unwrap();
        let b = TsaService::open(&dir, "tsa.test").unwrap();
        assert_eq!(a.authority().chain_der(), b.authority().chain_der());
        std::fs::write(dir.join("tsa-chain.pem"), "garbage").unwrap();
        assert!(matches!(
            TsaService::open(&dir, "tsa.test"),
            Err(TsaServiceError::Chain("no certificate"))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

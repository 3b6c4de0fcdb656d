//! The sans-IO core: for every Rekor v1 endpoint, a function that builds the
//! request and one that turns the response into a typed result. No sockets,
//! no clocks: a transport carries the bytes.

use http::uri::{Authority, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, header};

use crate::EntryId;
use crate::api::{ApiError, ConsistencyProof, ErrorBody, LogEntry, LogInfo, ProposedEntry};

/// Responses larger than this are refused.
pub const MAX_RESPONSE_BYTES: usize = 32 << 20;

/// Most queries one `retrieve` request may carry (Rekor answers 422 above).
pub const MAX_RETRIEVE: usize = 10;

/// Why a log URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not a URI.
    #[error("{url:?} is not a URL")]
    Invalid {
        /// The text.
        url: String,
        /// Why.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// Not `http://` or `https://` with a host.
    #[error("{0:?} is not an http:// or https:// URL with a host")]
    NotHttp(String),
    /// A `Location` that points at another origin than the log's: never
    /// followed (a log must not redirect its clients to another server).
    #[error("the log's Location {location:?} points at another origin than {base:?}")]
    OtherOrigin {
        /// The base URL.
        base: String,
        /// The location.
        location: String,
    },
    /// The request could not be assembled from the URL.
    #[error("cannot build a request for {url:?}")]
    Request {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: http::Error,
    },
}

/// A log's base URL, checked: `http` or `https`, a host, an optional path
/// prefix (without a trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    prefix: String,
}

impl BaseUrl {
    /// Parses `https://host[:port][/prefix]`.
    ///
    /// # Errors
    /// [`UrlError::Invalid`] or [`UrlError::NotHttp`].
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let uri: Uri = url.parse().map_err(|source| UrlError::Invalid {
            url: url.to_owned(),
            source,
        })?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(UrlError::NotHttp(url.to_owned()));
        };
        if *scheme != Scheme::HTTP && *scheme != Scheme::HTTPS {
            return Err(UrlError::NotHttp(url.to_owned()));
        }
        if uri.query().is_some() {
            return Err(UrlError::NotHttp(url.to_owned()));
        }
        Ok(Self {
            scheme: scheme.clone(),
            authority: authority.clone(),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The URI of `path_and_query` (which starts with `/`) under this base.
    ///
    /// # Errors
    /// [`UrlError::Invalid`] when the path is not valid in a URI.
    pub fn join(&self, path_and_query: &str) -> Result<Uri, UrlError> {
        let text = format!("{self}{path_and_query}");
        text.parse()
            .map_err(|source| UrlError::Invalid { url: text, source })
    }

    /// Resolves a `Location` header (Rekor often sends a path only) against
    /// this base; an absolute location must have the same scheme and
    /// authority.
    ///
    /// # Errors
    /// [`UrlError::OtherOrigin`] for another origin, [`UrlError::Invalid`].
    pub fn resolve(&self, location: &str) -> Result<Uri, UrlError> {
        let uri: Uri = location.parse().map_err(|source| UrlError::Invalid {
            url: location.to_owned(),
            source,
        })?;
        match (uri.scheme(), uri.authority()) {
            (None, None) if location.starts_with('/') => {
                let text = format!("{}://{}{location}", self.scheme, self.authority);
                text.parse()
                    .map_err(|source| UrlError::Invalid { url: text, source })
            }
            (None, None) => self.join(&format!("/{location}")),
            (Some(s), Some(a)) if *s == self.scheme && *a == self.authority => Ok(uri),
            _ => Err(UrlError::OtherOrigin {
                base: self.to_string(),
                location: location.to_owned(),
            }),
        }
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, UrlError> {
        Self::parse(s)
    }
}

/// What is wrong with a 2xx response's body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// Not JSON of the endpoint's shape.
    #[error(transparent)]
    Json(serde_json::Error),
    /// A log entry that does not parse.
    #[error(transparent)]
    Entry(ApiError),
    /// A 409 without a `Location` header.
    #[error("409 without a Location header")]
    NoLocation,
    /// A public key that is not PEM text of a key we read.
    #[error("public key")]
    PublicKey(#[source] crate::x509::CertificateError),
    /// A proof hash that is not a hash.
    #[error("proof hash: {0}")]
    Hash(attest_merkle::HashParseError),
}

/// Why a response is not the expected result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// An error status with Rekor's `{code, message}` body when it had one.
    #[error("HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Rekor's application code (may differ from the status).
        code: Option<i64>,
        /// Rekor's message, or the reason phrase.
        message: String,
    },
    /// 404: no such entry.
    #[error("not found")]
    NotFound,
    /// The body is larger than [`MAX_RESPONSE_BYTES`].
    #[error("response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// A 2xx response whose body is not what the endpoint returns.
    #[error("malformed response")]
    Malformed(#[source] Malformed),
}

impl ResponseError {
    /// Whether sending again could help: 5xx, 408 and 429.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            Self::NotFound | Self::TooLarge | Self::Malformed(_) => false,
        }
    }
}

/// What `POST /api/v1/log/entries` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateResponse {
    /// 201: the new entry.
    Created(Box<LogEntry>),
    /// 409: an equivalent entry exists at this (absolute or relative) location.
    Exists {
        /// The `Location` header.
        location: String,
    },
}

pub(crate) fn request(
    method: Method,
    base: &str,
    path_and_query: &str,
    body: Vec<u8>,
) -> Result<Request<Vec<u8>>, UrlError> {
    let uri = BaseUrl::parse(base)?.join(path_and_query)?;
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "application/json");
    if !body.is_empty() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    b.body(body).map_err(|source| UrlError::Request {
        url: format!("{base}{path_and_query}"),
        source,
    })
}

/// Compact JSON of a value this crate builds: plain data with string keys.
#[allow(clippy::expect_used)] // serializing such values cannot fail
pub(crate) fn to_json_vec<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("plain data serializes")
}

/// `POST /api/v1/log/entries`.
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn create_entry(base: &str, entry: &ProposedEntry) -> Result<Request<Vec<u8>>, UrlError> {
    request(
        Method::POST,
        base,
        "/api/v1/log/entries",
        to_json_vec(entry),
    )
}

/// `GET /api/v1/log/entries/{id}` (64 or 80 hex).
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn get_entry(base: &str, id: &EntryId) -> Result<Request<Vec<u8>>, UrlError> {
    request(
        Method::GET,
        base,
        &format!("/api/v1/log/entries/{id}"),
        Vec::new(),
    )
}

/// `GET` of an entry at a `Location` the log gave (resolved against `base`;
/// another origin is refused).
///
/// # Errors
/// [`UrlError`].
pub fn get_location(base: &str, location: &str) -> Result<Request<Vec<u8>>, UrlError> {
    let uri = BaseUrl::parse(base)?.resolve(location)?;
    Request::get(uri)
        .header(header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|source| UrlError::Request {
            url: location.to_owned(),
            source,
        })
}

/// `GET /api/v1/log/entries?logIndex=N` (global index).
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn get_entry_by_index(base: &str, index: u64) -> Result<Request<Vec<u8>>, UrlError> {
    request(
        Method::GET,
        base,
        &format!("/api/v1/log/entries?logIndex={index}"),
        Vec::new(),
    )
}

/// `POST /api/v1/log/entries/retrieve` for up to [`MAX_RETRIEVE`] ids (more
/// are the caller's to batch).
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn retrieve_entries(base: &str, ids: &[EntryId]) -> Result<Request<Vec<u8>>, UrlError> {
    let ids: Vec<String> = ids
        .iter()
        .take(MAX_RETRIEVE)
        .map(ToString::to_string)
        .collect();
    let body = to_json_vec(&serde_json::json!({ "entryUUIDs": ids }));
    request(Method::POST, base, "/api/v1/log/entries/retrieve", body)
}

/// `POST /api/v1/log/entries/retrieve` for the entries at up to
/// [`MAX_RETRIEVE`] log indexes (`logIndexes`; more are the caller's to
/// batch).
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn retrieve_indexes(base: &str, indexes: &[u64]) -> Result<Request<Vec<u8>>, UrlError> {
    let indexes: Vec<u64> = indexes.iter().take(MAX_RETRIEVE).copied().collect();
    let body = to_json_vec(&serde_json::json!({ "logIndexes": indexes }));
    request(Method::POST, base, "/api/v1/log/entries/retrieve", body)
}

/// `GET /api/v1/log`.
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn log_info(base: &str) -> Result<Request<Vec<u8>>, UrlError> {
    request(Method::GET, base, "/api/v1/log", Vec::new())
}

/// `GET /api/v1/log/proof?firstSize=&lastSize=[&treeID=]` (a tree id is
/// decimal, as Rekor's `treeID`).
///
/// # Errors
/// [`UrlError`] for an unusable base URL or a tree id that is not decimal.
pub fn consistency_proof(
    base: &str,
    first: u64,
    last: u64,
    tree_id: Option<u64>,
) -> Result<Request<Vec<u8>>, UrlError> {
    let mut path = format!("/api/v1/log/proof?firstSize={first}&lastSize={last}");
    if let Some(t) = tree_id {
        path.push_str(&format!("&treeID={t}"));
    }
    request(Method::GET, base, &path, Vec::new())
}

/// `GET /api/v1/log/publicKey`.
///
/// # Errors
/// [`UrlError`] for an unusable base URL.
pub fn public_key(base: &str) -> Result<Request<Vec<u8>>, UrlError> {
    request(Method::GET, base, "/api/v1/log/publicKey", Vec::new())
}

pub(crate) fn check(resp: &Response<Vec<u8>>, expected: StatusCode) -> Result<(), ResponseError> {
    if resp.body().len() > MAX_RESPONSE_BYTES {
        return Err(ResponseError::TooLarge);
    }
    let status = resp.status();
    if status == expected {
        return Ok(());
    }
    if status == StatusCode::NOT_FOUND {
        return Err(ResponseError::NotFound);
    }
    let body: Option<ErrorBody> = serde_json::from_slice(resp.body()).ok();
    Err(ResponseError::Status {
        status: status.as_u16(),
        code: body.as_ref().map(|b| b.code),
        message: body
            .map(|b| b.message)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
    })
}

fn json<T: serde::de::DeserializeOwned>(resp: &Response<Vec<u8>>) -> Result<T, ResponseError> {
    serde_json::from_slice(resp.body()).map_err(|e| ResponseError::Malformed(Malformed::Json(e)))
}

fn entry(bytes: &[u8]) -> Result<LogEntry, ResponseError> {
    LogEntry::from_json(bytes).map_err(|e| ResponseError::Malformed(Malformed::Entry(e)))
}

/// Reads the answer to [`create_entry`]: 201 with the entry, or 409 with its
/// location.
///
/// # Errors
/// [`ResponseError`].
pub fn parse_create(resp: &Response<Vec<u8>>) -> Result<CreateResponse, ResponseError> {
    if resp.status() == StatusCode::CONFLICT {
        let location = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or(ResponseError::Malformed(Malformed::NoLocation))?;
        return Ok(CreateResponse::Exists { location });
    }
    check(resp, StatusCode::CREATED)?;
    entry(resp.body()).map(|e| CreateResponse::Created(Box::new(e)))
}

/// Reads the answer to [`get_entry`] or [`get_entry_by_index`].
///
/// # Errors
/// [`ResponseError`]; 404 is [`ResponseError::NotFound`].
pub fn parse_entry(resp: &Response<Vec<u8>>) -> Result<LogEntry, ResponseError> {
    check(resp, StatusCode::OK)?;
    entry(resp.body())
}

/// Reads the answer to [`retrieve_entries`] (missing entries are omitted by
/// the log).
///
/// # Errors
/// [`ResponseError`].
pub fn parse_retrieve(resp: &Response<Vec<u8>>) -> Result<Vec<LogEntry>, ResponseError> {
    check(resp, StatusCode::OK)?;
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(resp.body())
        .map_err(|e| ResponseError::Malformed(Malformed::Json(e)))?;
    items
        .iter()
        .map(|raw| entry(raw.get().as_bytes()))
        .collect()
}

/// Reads the answer to [`log_info`].
///
/// # Errors
/// [`ResponseError`].
pub fn parse_log_info(resp: &Response<Vec<u8>>) -> Result<LogInfo, ResponseError> {
    check(resp, StatusCode::OK)?;
    json(resp)
}

/// Reads the answer to [`consistency_proof`].
///
/// # Errors
/// [`ResponseError`].
pub fn parse_consistency(resp: &Response<Vec<u8>>) -> Result<ConsistencyProof, ResponseError> {
    check(resp, StatusCode::OK)?;
    json(resp)
}

/// Reads the answer to [`public_key`]: PEM text.
///
/// # Errors
/// [`ResponseError`].
pub fn parse_public_key(resp: &Response<Vec<u8>>) -> Result<attest_dsse::PublicKey, ResponseError> {
    check(resp, StatusCode::OK)?;
    let pem = String::from_utf8_lossy(resp.body());
    crate::x509::public_key_from_pem(&pem)
        .map_err(|e| ResponseError::Malformed(Malformed::PublicKey(e)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base_urls_join_and_resolve_only_on_their_origin() {
        let b = BaseUrl::parse("https://rekor.example/prefix/").unwrap();
        assert_eq!(b.to_string(), "https://rekor.example/prefix");
        assert_eq!(
            b.join("/api/v1/log").unwrap().to_string(),
            "https://rekor.example/prefix/api/v1/log"
        );
        // A path-absolute Location is on the log's origin.
        assert_eq!(
            b.resolve("/api/v1/log/entries/ab").unwrap().to_string(),
            "https://rekor.example/api/v1/log/entries/ab"
        );
        assert_eq!(
            b.resolve("https://rekor.example/x").unwrap().to_string(),
            "https://rekor.example/x"
        );
        for other in [
            "https://evil.example/x",
            "http://rekor.example/x",
            "https://rekor.example:444/x",
        ] {
            assert!(
                matches!(b.resolve(other), Err(UrlError::OtherOrigin { .. })),
                "{other}"
            );
        }
        for bad in ["", "rekor.example", "ftp://h", "https://h?q=1", "http://"] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }
}

//! The sans-IO core: for every Rekor v1 endpoint, a function that builds the
//! request and one that turns the response into a typed result. No sockets,
//! no clocks: a transport carries the bytes.

use http::{Method, Request, Response, StatusCode, header};

use crate::EntryId;
use crate::api::{ConsistencyProof, ErrorBody, LogEntry, LogInfo, ProposedEntry};

/// Responses larger than this are refused.
pub const MAX_RESPONSE_BYTES: usize = 32 << 20;

/// Most queries one `retrieve` request may carry (Rekor answers 422 above).
pub const MAX_RETRIEVE: usize = 10;

/// Why a response is not the expected result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    #[error("malformed response: {0}")]
    Malformed(String),
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

fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn request(method: Method, uri: String, body: Vec<u8>) -> Request<Vec<u8>> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, "application/json");
    if !body.is_empty() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    // The URI comes from a base URL and fixed paths; an invalid base URL
    // surfaces as an empty request the transport rejects.
    b.body(body).unwrap_or_default()
}

/// `POST /api/v1/log/entries`.
#[must_use]
pub fn create_entry(base: &str, entry: &ProposedEntry) -> Request<Vec<u8>> {
    request(
        Method::POST,
        url(base, "/api/v1/log/entries"),
        serde_json::to_vec(entry).unwrap_or_default(),
    )
}

/// `GET /api/v1/log/entries/{id}` (64 or 80 hex).
#[must_use]
pub fn get_entry(base: &str, id: &EntryId) -> Request<Vec<u8>> {
    request(
        Method::GET,
        url(base, &format!("/api/v1/log/entries/{id}")),
        Vec::new(),
    )
}

/// `GET /api/v1/log/entries?logIndex=N` (global index).
#[must_use]
pub fn get_entry_by_index(base: &str, index: u64) -> Request<Vec<u8>> {
    request(
        Method::GET,
        url(base, &format!("/api/v1/log/entries?logIndex={index}")),
        Vec::new(),
    )
}

/// `POST /api/v1/log/entries/retrieve` for up to [`MAX_RETRIEVE`] ids (more
/// are the caller's to batch).
#[must_use]
pub fn retrieve_entries(base: &str, ids: &[EntryId]) -> Request<Vec<u8>> {
    let ids: Vec<String> = ids
        .iter()
        .take(MAX_RETRIEVE)
        .map(ToString::to_string)
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "entryUUIDs": ids })).unwrap_or_default();
    request(
        Method::POST,
        url(base, "/api/v1/log/entries/retrieve"),
        body,
    )
}

/// `GET /api/v1/log`.
#[must_use]
pub fn log_info(base: &str) -> Request<Vec<u8>> {
    request(Method::GET, url(base, "/api/v1/log"), Vec::new())
}

/// `GET /api/v1/log/proof?firstSize=&lastSize=[&treeID=]`.
#[must_use]
pub fn consistency_proof(
    base: &str,
    first: u64,
    last: u64,
    tree_id: Option<&str>,
) -> Request<Vec<u8>> {
    let mut path = format!("/api/v1/log/proof?firstSize={first}&lastSize={last}");
    if let Some(t) = tree_id {
        path.push_str(&format!("&treeID={t}"));
    }
    request(Method::GET, url(base, &path), Vec::new())
}

/// `GET /api/v1/log/publicKey`.
#[must_use]
pub fn public_key(base: &str) -> Request<Vec<u8>> {
    request(Method::GET, url(base, "/api/v1/log/publicKey"), Vec::new())
}

fn check(resp: &Response<Vec<u8>>, expected: StatusCode) -> Result<(), ResponseError> {
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
    serde_json::from_slice(resp.body()).map_err(|e| ResponseError::Malformed(e.to_string()))
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
            .ok_or_else(|| ResponseError::Malformed("409 without a Location header".into()))?;
        return Ok(CreateResponse::Exists { location });
    }
    check(resp, StatusCode::CREATED)?;
    LogEntry::from_json(resp.body())
        .map(|e| CreateResponse::Created(Box::new(e)))
        .map_err(|e| ResponseError::Malformed(e.to_string()))
}

/// Reads the answer to [`get_entry`] or [`get_entry_by_index`].
///
/// # Errors
/// [`ResponseError`]; 404 is [`ResponseError::NotFound`].
pub fn parse_entry(resp: &Response<Vec<u8>>) -> Result<LogEntry, ResponseError> {
    check(resp, StatusCode::OK)?;
    LogEntry::from_json(resp.body()).map_err(|e| ResponseError::Malformed(e.to_string()))
}

/// Reads the answer to [`retrieve_entries`] (missing entries are omitted by
/// the log).
///
/// # Errors
/// [`ResponseError`].
pub fn parse_retrieve(resp: &Response<Vec<u8>>) -> Result<Vec<LogEntry>, ResponseError> {
    check(resp, StatusCode::OK)?;
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_slice(resp.body()).map_err(|e| ResponseError::Malformed(e.to_string()))?;
    items
        .iter()
        .map(|raw| {
            LogEntry::from_json(raw.get().as_bytes())
                .map_err(|e| ResponseError::Malformed(e.to_string()))
        })
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
    let pem = std::str::from_utf8(resp.body())
        .map_err(|_| ResponseError::Malformed("not PEM text".into()))?;
    attest_dsse::PublicKey::from_pem(pem).map_err(|e| ResponseError::Malformed(e.to_string()))
}

/// Resolves a `Location` header against the base URL (Rekor often sends a
/// path only).
#[must_use]
pub fn resolve_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    let host = rest.split('/').next().unwrap_or(rest);
    if location.starts_with('/') {
        format!("{scheme}://{host}{location}")
    } else {
        format!("{}/{location}", base.trim_end_matches('/'))
    }
}

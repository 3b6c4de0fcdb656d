//! The key-set document endpoint that auditors fetch
//! (`/.well-known/<app>/attestation-keys.json`), over `http` types.

use attest_dsse::KeySet;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use sha2::{Digest, Sha256};

/// How long clients and caches may reuse the document before revalidating
/// (with `If-None-Match`, answered 304 while it is unchanged).
pub const KEY_SET_MAX_AGE_SECS: u32 = 300;

/// The key-set document, ready to serve: its bytes fixed when made (one
/// version of the document), its strong `ETag` the SHA-256 of those bytes,
/// so a new version — a key added, retired or revoked — is a new tag.
///
/// Answers `GET` and `HEAD` with the document, `If-None-Match` with 304
/// while unchanged, `OPTIONS` with a CORS preflight, anything else with
/// 405. The document is public: every answer allows any origin (`*`, no
/// credentials) and caching by shared caches.
#[derive(Debug, Clone)]
pub struct KeySetEndpoint {
    body: Vec<u8>,
    etag: String,
}

impl KeySetEndpoint {
    /// The endpoint serving `set` (pretty JSON, as `keys serve-doc` prints).
    #[must_use]
    pub fn new(set: &KeySet) -> Self {
        let mut body = set.to_json_pretty().into_bytes();
        body.push(b'\n');
        let etag = format!(
            "\"sha256-{}\"",
            base16ct::lower::encode_string(&Sha256::digest(&body))
        );
        Self { body, etag }
    }

    /// The document's bytes.
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The strong entity tag, quoted (`"sha256-…"`).
    #[must_use]
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The answer to `req` (its path is the router's business).
    #[must_use]
    pub fn respond<B>(&self, req: &Request<B>) -> Response<Vec<u8>> {
        let builder = |status: StatusCode| {
            let mut r = Response::builder()
                .status(status)
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "ETag")
                .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
                .header(header::VARY, "Origin");
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                r = r
                    .header(header::ETAG, &self.etag)
                    .header(
                        header::CACHE_CONTROL,
                        format!("public, max-age={KEY_SET_MAX_AGE_SECS}"),
                    )
                    .header(header::CONTENT_TYPE, "application/json");
            }
            r
        };
        let finish = |b: http::response::Builder, body: Vec<u8>| {
            // Every header above is a valid static or ASCII value: building
            // cannot fail; an empty 500 would be the answer if it did.
            b.body(body).unwrap_or_else(|_| {
                let mut r = Response::new(Vec::new());
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r
            })
        };
        match *req.method() {
            Method::GET | Method::HEAD => {
                if self.not_modified(req.headers().get_all(header::IF_NONE_MATCH).iter()) {
                    return finish(builder(StatusCode::NOT_MODIFIED), Vec::new());
                }
                let body = if req.method() == Method::HEAD {
                    Vec::new()
                } else {
                    self.body.clone()
                };
                finish(
                    builder(StatusCode::OK).header(header::CONTENT_LENGTH, self.body.len()),
                    body,
                )
            }
            Method::OPTIONS => finish(
                builder(StatusCode::NO_CONTENT)
                    .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS")
                    .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "If-None-Match")
                    .header(header::ACCESS_CONTROL_MAX_AGE, "86400"),
                Vec::new(),
            ),
            _ => finish(
                builder(StatusCode::METHOD_NOT_ALLOWED).header(header::ALLOW, "GET, HEAD, OPTIONS"),
                Vec::new(),
            ),
        }
    }

    /// RFC 9110 §13.1.2: `*`, or any listed tag equal to ours under weak
    /// comparison (a `W/` prefix ignored). An unparseable header is no match.
    fn not_modified<'a>(&self, values: impl Iterator<Item = &'a HeaderValue>) -> bool {
        values
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use attest_dsse::{Algorithm, SigningKey, TrustedKey};

    fn endpoint(keys: usize) -> (KeySetEndpoint, KeySet) {
        let keys = (0..keys)
            .map(|_| {
                TrustedKey::always(
                    SigningKey::generate(Algorithm::Ed25519)
                        .unwrap()
                        .public_key()
                        .clone(),
                )
            })
            .collect();
        let set = KeySet::new(1, keys);
        (KeySetEndpoint::new(&set), set)
    }

    fn req(method: Method, inm: Option<&str>) -> Request<()> {
        let mut b = Request::builder().method(method).uri(crate::KEY_SET_PATH);
        if let Some(v) = inm {
            b = b.header(header::IF_NONE_MATCH, v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn get_serves_the_document_with_its_tag_cache_and_cors_headers() {
        let (e, set) = endpoint(2);
        let r = e.respond(&req(Method::GET, None));
        assert_eq!(r.status(), StatusCode::OK);
        let served = KeySet::from_json(r.body()).unwrap();
        assert_eq!(served.version, set.version);
        let keys = |s: &KeySet| s.keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&served), keys(&set));
        let h = r.headers();
        assert_eq!(h[header::ETAG], e.etag());
        assert!(e.etag().starts_with("\"sha256-") && e.etag().ends_with('"'));
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(h[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            h[header::CONTENT_LENGTH],
            e.body().len().to_string().as_str()
        );
        assert!(!h.contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
        // HEAD: the same headers, no body.
        let head = e.respond(&req(Method::HEAD, None));
        assert_eq!(head.status(), StatusCode::OK);
        assert!(head.body().is_empty());
        assert_eq!(head.headers()[header::ETAG], e.etag());
    }

    #[test]
    fn if_none_match_is_304_only_for_this_version() {
        let (e, _) = endpoint(1);
        for inm in [
            e.etag().to_owned(),
            format!("W/{}", e.etag()),
            format!("\"other\", {}", e.etag()),
            "*".to_owned(),
        ] {
            let r = e.respond(&req(Method::GET, Some(&inm)));
            assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{inm}");
            assert!(r.body().is_empty());
            assert_eq!(r.headers()[header::ETAG], e.etag());
            assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        }
        // Another version's tag, a tag without quotes, garbage: the document.
        let (other, _) = endpoint(1);
        let bare = e.etag().trim_matches('"').to_owned();
        for inm in [other.etag(), bare.as_str(), "garbage", ""] {
            let r = e.respond(&req(Method::GET, Some(inm)));
            assert_eq!(r.status(), StatusCode::OK, "{inm:?}");
        }
    }

    #[test]
    fn a_new_key_is_a_new_version_and_a_new_tag() {
        let (e, mut set) = endpoint(1);
        let again = KeySetEndpoint::new(&set);
        assert_eq!(again.etag(), e.etag(), "same document, same tag");
        set.keys.push(TrustedKey::always(
            SigningKey::generate(Algorithm::Ed25519)
                .unwrap()
                .public_key()
                .clone(),
        ));
        set.version += 1;
        let changed = KeySetEndpoint::new(&set);
        assert_ne!(changed.etag(), e.etag());
        let r = changed.respond(&req(Method::GET, Some(e.etag())));
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[test]
    fn other_methods_are_refused_and_preflight_is_answered() {
        let (e, _) = endpoint(1);
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            let r = e.respond(&req(m.clone(), None));
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{m}");
            assert_eq!(r.headers()[header::ALLOW], "GET, HEAD, OPTIONS");
            assert!(r.body().is_empty());
        }
        let r = e.respond(&req(Method::OPTIONS, None));
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET, HEAD, OPTIONS"
        );
        assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }
}

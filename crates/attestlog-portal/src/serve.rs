//! The portal's routing, access control and answers.

use std::sync::{Arc, PoisonError, RwLock};

use attestlog::dsse::KeySet;
use attestlog::store::AttestationId;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use percent_encoding::percent_decode_str;

use crate::auth::{TokenFile, TokenMatch, presented_token};
use crate::links::EntryLinks;
use crate::page;
use attestlog::portal::KeySetEndpoint;
use attestlog::{AuditReport, Auditor};

/// Who may read tenant pages.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PortalAccess {
    /// Each tenant's pages need one of its tokens.
    Tokens(TokenFile),
    /// Everyone reads every tenant's pages, predicates included (the
    /// operator said so explicitly: `attestlog portal serve --public`).
    Public,
}

/// Why a portal cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PortalError {
    /// The application name cannot be a path segment of the key-set URL.
    #[error("application name {0:?}: use 1–64 of a-z, 0-9, '.', '_', '-'")]
    AppName(String),
}

/// The auditor portal: one [`Auditor`] (the portal's own baseline and
/// checkpoint memo), the key-set document it trusts and serves, and who
/// may read which tenant. See the [crate docs](crate) for the routes.
pub struct Portal {
    key_set_path: String,
    auditor: Auditor,
    keys: RwLock<Arc<KeySetEndpoint>>,
    access: RwLock<Arc<PortalAccess>>,
    links: EntryLinks,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("key_set_path", &self.key_set_path)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
}

/// What a request asks for.
enum Route {
    Index,
    KeySet,
    Audit {
        tenant: String,
        subject: String,
    },
    Completeness {
        tenant: String,
    },
    Download {
        tenant: String,
        id: String,
        file: Download,
    },
    NotFound,
}

#[derive(Clone, Copy)]
enum Download {
    Envelope,
    Bundle,
}

impl Portal {
    /// A portal for application `app` (its key-set document at
    /// `/.well-known/<app>/attestation-keys.json`), auditing with
    /// `auditor` — which should trust `keys`, the set the portal publishes
    /// (it is made to: [`set_key_set`](Self::set_key_set) is applied to it).
    ///
    /// # Errors
    /// [`PortalError::AppName`] for a name that is not a plain segment.
    pub fn new(
        app: &str,
        auditor: Auditor,
        keys: &KeySet,
        access: PortalAccess,
    ) -> Result<Self, PortalError> {
        let plain = (1..=64).contains(&app.len())
            && app
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
            && app != "."
            && app != "..";
        if !plain {
            return Err(PortalError::AppName(app.to_owned()));
        }
        auditor.set_signer(keys.clone());
        Ok(Self {
            key_set_path: format!("/.well-known/{app}/attestation-keys.json"),
            auditor,
            keys: RwLock::new(Arc::new(KeySetEndpoint::new(keys))),
            access: RwLock::new(Arc::new(access)),
            links: EntryLinks::None,
        })
    }

    /// Links log entries this way (default [`EntryLinks::None`]).
    #[must_use]
    pub fn with_entry_links(mut self, links: EntryLinks) -> Self {
        self.links = links;
        self
    }

    /// Publishes and trusts `keys` from now on: a new document version
    /// (a new `ETag`) when its bytes changed; the auditor verifies with it.
    pub fn set_key_set(&self, keys: &KeySet) {
        let endpoint = Arc::new(KeySetEndpoint::new(keys));
        self.auditor.set_signer(keys.clone());
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = endpoint;
    }

    /// Who may read which tenant from now on (e.g. a token added to, or
    /// removed from, the auth file): requests already authorized finish.
    pub fn set_access(&self, access: PortalAccess) {
        *self.access.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(access);
    }

    /// The key-set document's path.
    #[must_use]
    pub fn key_set_path(&self) -> &str {
        &self.key_set_path
    }

    /// The key-set document being served now.
    #[must_use]
    pub fn key_set(&self) -> Arc<KeySetEndpoint> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The answer to `req` (its body is not read).
    #[must_use]
    pub fn handle<B>(&self, req: &Request<B>) -> Response<Vec<u8>> {
        let route = match self.route(req.uri().path()) {
            Ok(r) => r,
            Err(why) => return plain(StatusCode::BAD_REQUEST, why, req),
        };
        if let Route::KeySet = route {
            return self.key_set().respond(req);
        }
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD only", req);
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let mut r = match route {
            Route::Index => html(
                StatusCode::OK,
                page::index(&self.key_set_path).into_string(),
            ),
            Route::Audit { tenant, subject } => self
                .refusal(req, &tenant)
                .unwrap_or_else(|| self.audit_page(req, &tenant, &subject)),
            Route::Completeness { tenant } => self
                .refusal(req, &tenant)
                .unwrap_or_else(|| self.completeness_page(req, &tenant)),
            Route::Download { tenant, id, file } => self
                .refusal(req, &tenant)
                .unwrap_or_else(|| self.download(req, &tenant, &id, file)),
            Route::NotFound | Route::KeySet => plain(StatusCode::NOT_FOUND, "no such page", req),
        };
        if *req.method() == Method::HEAD {
            // The length a GET would have, without the body (RFC 9110 §9.3.2).
            let len = r.body().len();
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            r.body_mut().clear();
        }
        r
    }

    fn route(&self, path: &str) -> Result<Route, &'static str> {
        if path == self.key_set_path {
            return Ok(Route::KeySet);
        }
        if path == "/" {
            return Ok(Route::Index);
        }
        if let Some(rest) = path.strip_prefix("/audit/") {
            let Some((tenant, subject)) = rest.split_once('/') else {
                return Ok(Route::NotFound);
            };
            let tenant = decode(tenant)?;
            let subject = subject
                .split('/')
                .map(decode)
                .collect::<Result<Vec<_>, _>>()?
                .join("/");
            if tenant.is_empty() || subject.is_empty() {
                return Ok(Route::NotFound);
            }
            return Ok(Route::Audit { tenant, subject });
        }
        if let Some(tenant) = path.strip_prefix("/completeness/") {
            let tenant = decode(tenant)?;
            if tenant.is_empty() || tenant.contains('/') {
                return Ok(Route::NotFound);
            }
            return Ok(Route::Completeness { tenant });
        }
        if let Some(rest) = path.strip_prefix("/attestations/") {
            let parts: Vec<&str> = rest.split('/').collect();
            let [tenant, id, file] = parts[..] else {
                return Ok(Route::NotFound);
            };
            let file = match file {
                "envelope.json" => Download::Envelope,
                "bundle.sigstore.json" => Download::Bundle,
                _ => return Ok(Route::NotFound),
            };
            let tenant = decode(tenant)?;
            if tenant.is_empty() {
                return Ok(Route::NotFound);
            }
            return Ok(Route::Download {
                tenant,
                id: id.to_owned(),
                file,
            });
        }
        Ok(Route::NotFound)
    }

    /// The 401 or 403 to answer when the request may not read `tenant`'s
    /// pages; `None` when it may.
    fn refusal<B>(&self, req: &Request<B>, tenant: &str) -> Option<Response<Vec<u8>>> {
        let access = Arc::clone(&self.access.read().unwrap_or_else(PoisonError::into_inner));
        let tokens = match &*access {
            PortalAccess::Public => return None,
            PortalAccess::Tokens(t) => t,
        };
        let (status, why, error) = match presented_token(req.headers()) {
            None => (
                StatusCode::UNAUTHORIZED,
                "this tenant's pages need its token (Authorization: Bearer …)",
                None,
            ),
            Some(token) => match tokens.check(tenant, &token) {
                TokenMatch::Tenant => return None,
                TokenMatch::OtherTenant => (
                    StatusCode::FORBIDDEN,
                    "this token is not for this tenant",
                    None,
                ),
                TokenMatch::Unknown => (
                    StatusCode::UNAUTHORIZED,
                    "unknown token",
                    Some("invalid_token"),
                ),
            },
        };
        let mut r = plain(status, why, req);
        if status == StatusCode::UNAUTHORIZED {
            // Bearer for programs; Basic so a browser can ask for the token
            // (as the password) without any script on the page.
            let bearer = match error {
                Some(e) => format!("Bearer realm=\"attestlog\", error=\"{e}\""),
                None => "Bearer realm=\"attestlog\"".to_owned(),
            };
            for v in [
                bearer.as_str(),
                "Basic realm=\"attestlog\", charset=\"UTF-8\"",
            ] {
                if let Ok(v) = HeaderValue::from_str(v) {
                    r.headers_mut().append(header::WWW_AUTHENTICATE, v);
                }
            }
        }
        Some(r)
    }

    fn audit_page<B>(&self, req: &Request<B>, tenant: &str, subject: &str) -> Response<Vec<u8>> {
        // Every row of the subject is audited — the verdict covers them
        // all; pages only split the cards shown. A row the store cannot
        // decode fails its own report.
        let mut reports = match self.auditor.audit(tenant, subject) {
            Ok(r) => r,
            Err(e) => return audit_failed(&e, req),
        };
        // Failing rows first, each group in the store's order.
        reports.sort_by_key(AuditReport::passed);
        let page = query_page(req).unwrap_or(1);
        let total = reports.len();
        let start = (page - 1).saturating_mul(PAGE_SIZE).min(total);
        let shown = start..(start + PAGE_SIZE).min(total);
        let status = if shown.is_empty() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        let view = page::View {
            tenant,
            subject,
            key_set_path: &self.key_set_path,
            links: &self.links,
            reports: &reports,
            shown,
            paging: page::Paging {
                page,
                first: start + 1,
                total,
                pages: total.div_ceil(PAGE_SIZE).max(1),
            },
        };
        let mut r = if wants_json(req) {
            json(status, &view.to_json())
        } else {
            html(status, view.render().into_string())
        };
        private(r.headers_mut());
        r
    }

    fn completeness_page<B>(&self, req: &Request<B>, tenant: &str) -> Response<Vec<u8>> {
        // Scans the log from where the portal's last scan stopped (kept in
        // its baseline): the first request may read the whole log.
        let reports = match self.auditor.completeness() {
            Ok(r) => r,
            Err(e) => return audit_failed(&e, req),
        };
        let mut r = if wants_json(req) {
            let v = serde_json::json!({
                "tenant": tenant,
                "passed": reports.iter().all(attestlog::CompletenessReport::passed),
                "logs": reports,
            });
            let mut body = serde_json::to_vec(&v).unwrap_or_default();
            body.push(b'\n');
            json(StatusCode::OK, &body)
        } else {
            html(
                StatusCode::OK,
                page::completeness(tenant, &reports).into_string(),
            )
        };
        private(r.headers_mut());
        r
    }

    fn download<B>(
        &self,
        req: &Request<B>,
        tenant: &str,
        id: &str,
        file: Download,
    ) -> Response<Vec<u8>> {
        let not_found = || plain(StatusCode::NOT_FOUND, "no such attestation", req);
        let Ok(aid) = AttestationId::from_hex(id) else {
            return not_found();
        };
        let row = match self.auditor.store().get(&aid) {
            Ok(Some(row)) if row.attestation.tenant == tenant => row,
            Ok(_) => return not_found(),
            Err(e) => {
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("the store failed: {e}", e = attestlog::dsse::ErrorChain(&e)),
                    req,
                );
            }
        };
        let (body, name) = match file {
            Download::Envelope => (row.attestation.envelope.clone(), format!("{id}.dsse.json")),
            Download::Bundle => {
                let report: AuditReport = match self.auditor.audit_row(&row) {
                    Ok(r) => r,
                    Err(e) => return audit_failed(&e, req),
                };
                match attestlog::export_audited_bundle(&row, &report) {
                    Ok(Some(j)) => (j.into_bytes(), format!("{id}.sigstore.json")),
                    Ok(None) => {
                        let why = report
                            .checks
                            .iter()
                            .find(|c| c.check == attestlog::AuditCheck::EntryFetched)
                            .map_or("the attestation is not published", |c| c.detail.as_str());
                        return plain(StatusCode::NOT_FOUND, &format!("no bundle: {why}"), req);
                    }
                    Err(e) => {
                        return plain(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            &format!("no bundle: {e}", e = attestlog::dsse::ErrorChain(&e)),
                            req,
                        );
                    }
                }
            }
        };
        let mut r = json(StatusCode::OK, &body);
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        private(r.headers_mut());
        r
    }
}

/// The answer when an audit could not run at all (the store or the
/// baseline failed; a failed check is a page, not this).
fn audit_failed<B>(e: &attestlog::AuditError, req: &Request<B>) -> Response<Vec<u8>> {
    plain(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!(
            "the audit could not run: {e}",
            e = attestlog::dsse::ErrorChain(&e)
        ),
        req,
    )
}

/// Attestation cards per audit page (`?page=N`, from 1); every attestation
/// of the subject is audited and summarised on each page.
pub const PAGE_SIZE: usize = 100;

/// The `page` query parameter: a number from 1; anything else is page 1.
fn query_page<B>(req: &Request<B>) -> Option<usize> {
    req.uri()
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))?
        .parse::<usize>()
        .ok()
        .filter(|&n| n >= 1)
}

/// One percent-decoded path segment.
fn decode(segment: &str) -> Result<String, &'static str> {
    percent_decode_str(segment)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| "a path segment is not UTF-8 once percent-decoded")
}

/// JSON when asked for with `?format=json`, or when `Accept` ranks
/// `application/json` above `text/html` (a browser's `Accept` gets HTML).
fn wants_json<B>(req: &Request<B>) -> bool {
    let query_json = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "format=json"));
    if query_json {
        return true;
    }
    let mut best_json = 0.0_f32;
    let mut best_html = 0.0_f32;
    for v in req.headers().get_all(header::ACCEPT) {
        let Ok(v) = v.to_str() else { continue };
        for item in v.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/json" => best_json = best_json.max(q),
                "text/html" => best_html = best_html.max(q),
                _ => {}
            }
        }
    }
    best_json > 0.0 && best_json > best_html
}

/// Headers of every tenant page: never cached by anyone else, never
/// framed, no referrer to the public log.
fn private(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Authorization, Accept"),
    );
}

fn common(h: &mut HeaderMap) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(v) = HeaderValue::from_str(page::content_security_policy()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

fn html(status: StatusCode, body: String) -> Response<Vec<u8>> {
    let mut r = Response::new(body.into_bytes());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    common(r.headers_mut());
    r
}

fn json(status: StatusCode, body: &[u8]) -> Response<Vec<u8>> {
    let mut r = Response::new(body.to_vec());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    common(r.headers_mut());
    r
}

/// An error answer, as the client prefers it: a small page or
/// `{"code":…,"message":…}`.
fn plain<B>(status: StatusCode, message: &str, req: &Request<B>) -> Response<Vec<u8>> {
    if wants_json(req) {
        let body = serde_json::json!({ "code": status.as_u16(), "message": message });
        json(status, body.to_string().as_bytes())
    } else {
        html(status, page::error(status, message).into_string())
    }
}

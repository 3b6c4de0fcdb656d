//! The auditor portal through its HTTP API (`Portal::handle`, and once over
//! loopback on attest-tlog's server): the auth matrix, subjects with `/`,
//! `@`, `:` in URLs, the key-set document's ETag and rotation, a tampered
//! store row shown as FAIL with the named check and the log's own values,
//! downloads that verify offline, escaping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attestlog::client::RekorClient;
use attestlog::dsse::{KeySet, SigningKey, Statement, Subject, TrustedKey};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{Attestor, Auditor, Bundle, FileBaseline, LogClient, LogTransport};
use attestlog_portal::{EntryLinks, Portal, PortalAccess, TokenFile, audit_path, new_token};
use attestlog_testkit::TempDir;
use http::{Method, Request, Response, StatusCode, header};

const ODD: &str = "github.com/acme/app@gitCommit:0123456789abcdef0123456789abcdef01234567";
const PLAIN: &str = "app@sha256";

struct World {
    tmp: TempDir,
    log: LocalLog,
    key: SigningKey,
    acme: String,
    globex: String,
}

fn client(log: &LocalLog) -> LogClient {
    RekorClient::new(
        "http://attestlog.local",
        LogTransport::Local(log.clone()),
        vec![log.trusted_log()],
    )
}

fn statement(name: &str, digest: (&str, String)) -> Statement {
    Statement::new(
        Subject {
            name: name.to_owned(),
            digest: [(digest.0.to_owned(), digest.1)].into(),
            annotations: Default::default(),
        },
        "https://slsa.dev/provenance/v1",
        serde_json::json!({ "findings": ["a private finding"] }),
    )
}

fn keys(k: &SigningKey) -> KeySet {
    KeySet::new(1, vec![TrustedKey::always(k.public_key().clone())])
}

impl World {
    fn new(tag: &str) -> Self {
        let tmp = TempDir::created(&format!("portal-{tag}"));
        let log = LocalLog::open(
            &tmp.file("log"),
            SigningKey::ed25519_from_seed(&[41; 32]),
            LogOptions::default(),
        )
        .unwrap();
        let key = SigningKey::ed25519_from_seed(&[42; 32]);
        let w = Self {
            tmp,
            log,
            key,
            acme: new_token().unwrap(),
            globex: new_token().unwrap(),
        };
        let a = Attestor::builder(
            SigningKey::ed25519_from_seed(&[42; 32]),
            attestlog::store::open(&w.db()).unwrap(),
        )
        .optional_log(Some(client(&w.log)))
        .build();
        for (tenant, label, st) in [
            (
                "acme",
                ODD,
                statement("app", ("gitCommit", "01".repeat(20))),
            ),
            (
                "acme",
                ODD,
                statement("app", ("gitCommit", "02".repeat(20))),
            ),
            (
                "acme",
                PLAIN,
                statement("app.tar.gz", ("sha256", "ab".repeat(32))),
            ),
            (
                "acme",
                "<b>bold</b> & \"q\"",
                statement("x", ("sha256", "cd".repeat(32))),
            ),
            ("globex", PLAIN, statement("g", ("sha256", "ef".repeat(32)))),
        ] {
            let done = a.attest(tenant, label, st).unwrap();
            assert!(done.publish_error.is_none());
        }
        w
    }

    fn db(&self) -> String {
        self.tmp.file("store.db").display().to_string()
    }

    fn portal(&self, access: PortalAccess) -> Portal {
        let auditor =
            Auditor::builder(keys(&self.key), attestlog::store::open(&self.db()).unwrap())
                .log(client(&self.log))
                .baseline(FileBaseline::new(self.tmp.file("portal-baseline.json")))
                .trust_current_tree(true)
                .build();
        Portal::new("acme-attest", auditor, &keys(&self.key), access)
            .unwrap()
            .with_entry_links(EntryLinks::Rekor("https://log.example.com".into()))
    }

    fn tokens(&self) -> PortalAccess {
        let mut t = TokenFile::new();
        t.add("acme", &self.acme, "acme auditors").unwrap();
        t.add("globex", &self.globex, "").unwrap();
        // Through the file format, as the CLI reads it.
        PortalAccess::Tokens(TokenFile::from_json(t.to_json_pretty().as_bytes()).unwrap())
    }
}

fn get(p: &Portal, path: &str, token: Option<&str>) -> Response<Vec<u8>> {
    get_with(p, path, token, &[])
}

fn get_with(
    p: &Portal,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Response<Vec<u8>> {
    let mut b = Request::builder().uri(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    p.handle(&b.body(()).unwrap())
}

fn text(r: &Response<Vec<u8>>) -> String {
    String::from_utf8(r.body().clone()).unwrap()
}

fn page_json(p: &Portal, path: &str, token: &str) -> serde_json::Value {
    let r = get_with(p, path, Some(token), &[("accept", "application/json")]);
    assert_eq!(r.status(), StatusCode::OK, "{}", text(&r));
    assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    serde_json::from_slice(r.body()).unwrap()
}

#[test]
fn the_auth_matrix_holds_for_pages_and_downloads() {
    let w = World::new("auth");
    let p = w.portal(w.tokens());
    let page = audit_path("acme", ODD);
    let v = page_json(&p, &page, &w.acme);
    let id = v["attestations"][0]["attestationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let paths = [
        page.clone(),
        format!("/attestations/acme/{id}/envelope.json"),
        format!("/attestations/acme/{id}/bundle.sigstore.json"),
    ];
    for path in &paths {
        // No token: 401 with both challenges, nothing of the tenant's.
        let r = get(&p, path, None);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        let challenges: Vec<_> = r
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(challenges.len(), 2);
        assert!(challenges[0].to_str().unwrap().starts_with("Bearer realm="));
        assert!(challenges[1].to_str().unwrap().starts_with("Basic realm="));
        assert!(!text(&r).contains("private finding") && !text(&r).contains(&id));
        // A wrong tenant's valid token: 403.
        let r = get(&p, path, Some(&w.globex));
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(!text(&r).contains(&id));
        // An unknown token: 401 invalid_token.
        let r = get(&p, path, Some("atl_not-a-token"));
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
        // The tenant's own token, as Bearer and as a browser's Basic.
        let r = get(&p, path, Some(&w.acme));
        assert_eq!(r.status(), StatusCode::OK, "{path}: {}", text(&r));
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        use base64ct::Encoding;
        let basic = base64ct::Base64::encode_string(format!("anyone:{}", w.acme).as_bytes());
        let r = get_with(
            &p,
            path,
            None,
            &[("authorization", &format!("Basic {basic}"))],
        );
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // The envelope carries the predicate: only its tenant gets it.
    let r = get(&p, &paths[1], Some(&w.acme));
    assert!(text(&r).contains("payload"));
    assert!(
        r.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains(&format!("{id}.dsse.json"))
    );
    // Another tenant's attestation under this tenant's path: not found,
    // even with this tenant's token.
    let g = page_json(&p, &audit_path("globex", PLAIN), &w.globex);
    let gid = g["attestations"][0]["attestationId"].as_str().unwrap();
    let r = get(
        &p,
        &format!("/attestations/acme/{gid}/envelope.json"),
        Some(&w.acme),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A tenant that does not exist still needs a token (no enumeration).
    assert_eq!(
        get(&p, &audit_path("nobody", PLAIN), None).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&p, &audit_path("nobody", PLAIN), Some(&w.acme)).status(),
        StatusCode::FORBIDDEN
    );
    // The key-set document and the front page are public.
    assert_eq!(get(&p, p.key_set_path(), None).status(), StatusCode::OK);
    assert_eq!(get(&p, "/", None).status(), StatusCode::OK);

    // --public: everything readable without a token.
    let open = w.portal(PortalAccess::Public);
    assert_eq!(get(&open, &page, None).status(), StatusCode::OK);
}

#[test]
fn subjects_with_slashes_at_signs_and_colons_round_trip_in_urls() {
    let w = World::new("encoding");
    let p = w.portal(w.tokens());
    let encoded = audit_path("acme", ODD);
    assert_eq!(
        encoded,
        "/audit/acme/github.com%2Facme%2Fapp%40gitCommit%3A0123456789abcdef0123456789abcdef01234567"
    );
    // Encoded, raw, and partly encoded forms all name the subject.
    let raw = format!("/audit/acme/{ODD}");
    let partly = format!("/audit/acme/{}", ODD.replace('@', "%40"));
    for path in [&encoded, &raw, &partly] {
        let v = page_json(&p, path, &w.acme);
        assert_eq!(v["subject"], ODD, "{path}");
        assert_eq!(v["attestations"].as_array().unwrap().len(), 2, "{path}");
        assert_eq!(v["url"], encoded);
        assert_eq!(v["passed"], true, "{v:#}");
    }
    // The tenant is one segment: a subject is not split into tenant parts.
    let v = page_json(&p, &audit_path("acme", PLAIN), &w.acme);
    assert_eq!(v["attestations"].as_array().unwrap().len(), 1);
    // Bytes that are not UTF-8 once decoded: 400. No such subject: 404.
    assert_eq!(
        get(&p, "/audit/acme/%FF", Some(&w.acme)).status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&p, "/audit/acme/app%40sha25", Some(&w.acme)).status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&p, "/audit/acme/", Some(&w.acme)).status(),
        StatusCode::NOT_FOUND
    );
    // `+` is a plus in a path, not a space.
    assert_eq!(
        get(&p, "/audit/acme/app+sha256", Some(&w.acme)).status(),
        StatusCode::NOT_FOUND
    );
    // Markup in a subject is escaped on the page.
    let odd = "<b>bold</b> & \"q\"";
    let r = get(&p, &audit_path("acme", odd), Some(&w.acme));
    assert_eq!(r.status(), StatusCode::OK);
    let html = text(&r);
    assert!(
        html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;q&quot;"),
        "{html}"
    );
    assert!(!html.contains("<b>bold"));
}

#[test]
fn the_page_shows_the_logs_values_and_a_tampered_row_fails_its_check() {
    let w = World::new("tamper");
    let p = w.portal(w.tokens());
    let before = page_json(&p, &audit_path("acme", ODD), &w.acme);
    let first = &before["attestations"][0];
    assert_eq!(first["passed"], true, "{first:#}");
    let logged = first["logged"].clone();
    let uuid = logged["uuid"].as_str().unwrap();
    assert_eq!(logged["entryId"].as_str().unwrap().len(), 80);
    assert_eq!(
        first["links"]["entry"],
        format!("https://log.example.com/api/v1/log/entries/{uuid}")
    );
    assert_eq!(first["signed"]["signerKeyId"], w.key.public_key().key_id());
    assert_eq!(
        first["signed"]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );

    // The store's copy of the integrated time and log index moved.
    let id = first["attestationId"].as_str().unwrap();
    let c = rusqlite::Connection::open(w.db()).unwrap();
    c.execute(
        "UPDATE attestations SET integrated_time = integrated_time - 86400, log_index = log_index + 7 WHERE lower(hex(id)) = ?1",
        [id],
    )
    .unwrap();
    let after = page_json(&p, &audit_path("acme", ODD), &w.acme);
    assert_eq!(after["passed"], false);
    let att = after["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attestationId"] == id)
        .unwrap();
    assert_eq!(att["passed"], false);
    // The values shown are still the log's.
    assert_eq!(att["logged"], logged);
    let failed: Vec<_> = att["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] != "passed")
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["stored-entry"], "{att:#}");
    // The other attestation of the subject still passes.
    assert!(
        after["attestations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["passed"] == true)
    );

    // The HTML page says the same with badges.
    let html = text(&get(&p, &audit_path("acme", ODD), Some(&w.acme)));
    assert!(html.contains(r#"<tr data-check="stored-entry"><td class="mono">stored-entry</td><td><span class="badge fail">FAIL</span>"#), "{html}");
    assert!(html.contains(r#"data-verdict="fail""#));
    assert!(html.contains(r#"data-verdict="pass""#));
    assert!(html.contains(&format!(
        r#"href="https://log.example.com/api/v1/log/entries/{uuid}""#
    )));
}

#[test]
fn downloads_verify_offline_and_name_the_command() {
    let w = World::new("downloads");
    let p = w.portal(w.tokens());
    let v = page_json(&p, &audit_path("acme", PLAIN), &w.acme);
    let att = &v["attestations"][0];
    let bundle_path = att["downloads"]["bundle"].as_str().unwrap();
    let r = get(&p, bundle_path, Some(&w.acme));
    assert_eq!(r.status(), StatusCode::OK);
    let bundle = Bundle::from_json(r.body()).unwrap();
    let offline = Auditor::builder(keys(&w.key), Box::new(attestlog::MemoryStore::new())).build();
    let report = offline.audit_bundle(&bundle, &[w.log.trusted_log()]);
    assert!(report.passed(), "{report}");
    let commands = att["verify"].as_array().unwrap();
    let cmd = commands.last().unwrap().as_str().unwrap();
    assert_eq!(
        cmd,
        format!(
            "attestlog verify-bundle --bundle {}.sigstore.json --key attestation-keys.json --trusted-root trusted_root.json sha256:{}",
            att["attestationId"].as_str().unwrap(),
            "ab".repeat(32)
        )
    );
    // A subject without a sha256 digest has no verify-bundle command.
    let v = page_json(&p, &audit_path("acme", ODD), &w.acme);
    assert!(
        v["attestations"][0]["verify"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Unknown ids and files.
    for path in [
        "/attestations/acme/00/envelope.json".to_owned(),
        format!("/attestations/acme/{}/other.json", "00".repeat(32)),
        format!("/attestations/acme/{}/envelope.json", "00".repeat(32)),
    ] {
        assert_eq!(
            get(&p, &path, Some(&w.acme)).status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[test]
fn the_key_set_document_is_cached_by_etag_and_rotates() {
    let w = World::new("keys");
    let p = w.portal(w.tokens());
    let path = p.key_set_path().to_owned();
    assert_eq!(path, "/.well-known/acme-attest/attestation-keys.json");
    let r = get(&p, &path, None);
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let r = get_with(&p, &path, None, &[("if-none-match", &etag)]);
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(r.body().is_empty());

    // Rotation: a new key, the old one retired but kept.
    let new_key = SigningKey::ed25519_from_seed(&[43; 32]);
    let mut set = keys(&w.key);
    set.keys[0].status = attestlog::dsse::KeyStatus::Retired;
    set.keys
        .push(TrustedKey::always(new_key.public_key().clone()));
    set.version = 2;
    p.set_key_set(&set);
    let r = get_with(&p, &path, None, &[("if-none-match", &etag)]);
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a new version is a new document"
    );
    assert_ne!(r.headers()[header::ETAG].to_str().unwrap(), etag);
    assert_eq!(KeySet::from_json(r.body()).unwrap().keys.len(), 2);
    // The auditor trusts the rotated set: attestations by the retired key
    // made inside its window still pass.
    let v = page_json(&p, &audit_path("acme", PLAIN), &w.acme);
    assert_eq!(v["passed"], true, "{v:#}");
    // A set without the signer: the page fails the signature check.
    p.set_key_set(&KeySet::new(
        3,
        vec![TrustedKey::always(new_key.public_key().clone())],
    ));
    let v = page_json(&p, &audit_path("acme", PLAIN), &w.acme);
    assert_eq!(v["passed"], false);
    assert!(v["attestations"][0]["signed"].is_null());
}

#[test]
fn methods_formats_and_headers() {
    let w = World::new("methods");
    let p = w.portal(w.tokens());
    let page = audit_path("acme", PLAIN);
    let req = |m: Method, headers: &[(&str, &str)]| {
        let mut b = Request::builder()
            .method(m)
            .uri(page.as_str())
            .header(header::AUTHORIZATION, format!("Bearer {}", w.acme));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        p.handle(&b.body(()).unwrap())
    };
    let r = req(Method::POST, &[]);
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    let head = req(Method::HEAD, &[]);
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.body().is_empty());
    // A browser's Accept gets HTML; a program's JSON; ?format=json too.
    let browser = req(
        Method::GET,
        &[(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )],
    );
    assert!(
        browser.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = browser.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script"));
    assert!(!text(&browser).contains("<script"));
    assert_eq!(browser.headers()[header::REFERRER_POLICY], "no-referrer");
    let program = req(Method::GET, &[("accept", "application/json")]);
    assert_eq!(program.headers()[header::CONTENT_TYPE], "application/json");
    let prefers_html = req(
        Method::GET,
        &[("accept", "application/json;q=0.5, text/html")],
    );
    assert!(
        prefers_html.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let q = get(&p, &format!("{page}?format=json"), Some(&w.acme));
    assert_eq!(q.headers()[header::CONTENT_TYPE], "application/json");
    // Errors follow the format asked for.
    let r = get_with(&p, &page, None, &[("accept", "application/json")]);
    let e: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(e["code"], 401);
    // Anything else is 404.
    assert_eq!(get(&p, "/nope", None).status(), StatusCode::NOT_FOUND);
    assert_eq!(
        get(&p, "/audit/acme", Some(&w.acme)).status(),
        StatusCode::NOT_FOUND
    );
    // A bad application name is refused.
    for bad in ["", "a/b", "..", "UPPER", "x y"] {
        assert!(
            Portal::new(
                bad,
                Auditor::builder(keys(&w.key), Box::new(attestlog::MemoryStore::new()))
                    .log(client(&w.log))
                    .build(),
                &keys(&w.key),
                PortalAccess::Public
            )
            .is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn over_loopback_on_the_logs_http_stack() {
    let w = World::new("loopback");
    let p = std::sync::Arc::new(w.portal(w.tokens()));
    let served = std::sync::Arc::clone(&p);
    let handler = attestlog::tlog::Blocking::new(0, move |req| served.handle(&req));
    let server = attestlog::tlog::serve_handler(handler, "127.0.0.1:0", 16).unwrap();
    let addr = server.local_addr();
    let get = |path: &str, token: Option<&str>| {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status: u16 = out[9..12].parse().unwrap();
        (status, out)
    };
    let page = audit_path("acme", ODD);
    assert_eq!(get(&page, None).0, 401);
    assert_eq!(get(&page, Some(&w.globex)).0, 403);
    let (status, html) = get(&page, Some(&w.acme));
    assert_eq!(status, 200);
    assert!(html.contains(r#"data-verdict="pass""#));
    assert_eq!(get(p.key_set_path(), None).0, 200);
    server.shutdown();
}

#[test]
fn entry_links_follow_the_log_url() {
    let uuid = "ab".repeat(32);
    let pgi = EntryLinks::for_log_url("https://rekor.sigstore.dev");
    assert_eq!(pgi, EntryLinks::SigstorePublicGood);
    assert_eq!(
        pgi.api(&uuid).unwrap(),
        format!("https://rekor.sigstore.dev/api/v1/log/entries/{uuid}")
    );
    assert_eq!(
        pgi.search(&uuid).unwrap(),
        format!("https://search.sigstore.dev/?uuid={uuid}")
    );
    let other = EntryLinks::for_log_url("http://127.0.0.1:3000/");
    assert_eq!(
        other.api(&uuid).unwrap(),
        format!("http://127.0.0.1:3000/api/v1/log/entries/{uuid}")
    );
    assert_eq!(other.search(&uuid), None);
    // Plain http to the public-good host is not the public-good instance.
    assert_ne!(
        EntryLinks::for_log_url("http://rekor.sigstore.dev"),
        EntryLinks::SigstorePublicGood
    );
    for none in ["local:/var/log", "", "not a url", "ftp://x"] {
        assert_eq!(EntryLinks::for_log_url(none), EntryLinks::None, "{none}");
        assert_eq!(EntryLinks::for_log_url(none).api(&uuid), None);
    }
}

/// Issue 30, items 9 and 11: every row of a subject is audited whatever
/// page is shown — a tampered last row of 201 makes page 1 FAIL and is
/// listed (and carded) first — and a corrupt row fails its own card while
/// the others are audited.
#[test]
fn a_subject_with_more_than_a_page_is_audited_whole_and_shown_a_page_at_a_time() {
    let w = World::new("paging");
    let a = Attestor::builder(
        SigningKey::ed25519_from_seed(&[42; 32]),
        attestlog::store::open(&w.db()).unwrap(),
    )
    .optional_log(Some(client(&w.log)))
    .build();
    let subject = "many@sha256";
    let n = attestlog_portal::PAGE_SIZE * 2 + 1;
    for i in 0..n {
        a.attest(
            "acme",
            subject,
            statement("m", ("sha256", format!("{i:064x}"))),
        )
        .unwrap();
    }
    let p = w.portal(w.tokens());
    let base = audit_path("acme", subject);
    let mut seen = std::collections::BTreeSet::new();
    for (page, len) in [
        (1, attestlog_portal::PAGE_SIZE),
        (2, attestlog_portal::PAGE_SIZE),
        (3, 1),
    ] {
        let v = page_json(&p, &format!("{base}?page={page}&format=json"), &w.acme);
        assert_eq!(v["page"], page);
        assert_eq!(v["pages"], 3);
        assert_eq!(v["total"], n);
        assert_eq!(v["passed"], true);
        let atts = v["attestations"].as_array().unwrap();
        assert_eq!(atts.len(), len, "page {page}");
        for att in atts {
            assert!(seen.insert(att["attestationId"].as_str().unwrap().to_owned()));
        }
    }
    assert_eq!(seen.len(), n, "every attestation on exactly one page");
    // Past the end: 404; not a number: page 1.
    assert_eq!(
        get(&p, &format!("{base}?page=4"), Some(&w.acme)).status(),
        StatusCode::NOT_FOUND
    );
    let v = page_json(&p, &format!("{base}?page=x"), &w.acme);
    assert_eq!(v["page"], 1);
    // The HTML page links the next one.
    let html = text(&get(&p, &format!("{base}?page=2"), Some(&w.acme)));
    assert!(html.contains(r#"<a rel="prev" href="?page=1">"#), "{html}");
    assert!(html.contains(r#"<a rel="next" href="?page=3">"#));
    assert!(html.contains("Details of attestations 101–200 of 201"));
    // The summary lists all 201, linking to cards on other pages.
    assert_eq!(html.matches("<tr class=\"pass\" data-row=").count(), n);
    assert!(html.contains("href=\"?page=1#att-"), "{html}");
    assert!(
        html.contains("<details><summary>"),
        "passing cards start closed"
    );

    // Tamper with the last row: every page now fails, and it comes first.
    let all = page_json(&p, &format!("{base}?page=3&format=json"), &w.acme);
    let last = all["attestations"][0]["attestationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = rusqlite::Connection::open(w.db()).unwrap();
    c.execute(
        "UPDATE attestations SET integrated_time = integrated_time - 86400 WHERE lower(hex(id)) = ?1",
        [&last],
    )
    .unwrap();
    let v = page_json(&p, &format!("{base}?format=json"), &w.acme);
    assert_eq!(v["passed"], false);
    assert_eq!(v["summary"].as_array().unwrap().len(), n);
    assert_eq!(v["summary"][0]["attestationId"], last.as_str());
    assert_eq!(
        v["summary"][0]["notPassed"],
        serde_json::json!(["stored-entry"])
    );
    assert_eq!(v["attestations"][0]["attestationId"], last.as_str());
    let detail = v["attestations"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "stored-entry")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("Z) ≠ "), "times also in RFC 3339: {detail}");
    let html = text(&get(&p, &base, Some(&w.acme)));
    assert!(
        html.contains(r#"<span class="badge fail">FAIL</span> 200 of 201"#),
        "{html}"
    );
    assert!(html.contains(&format!(
        r##"<tr class="fail" data-row="{last}"><td class="mono"><a href="#att-{last}">"##
    )));
    assert!(
        html.contains("<details open><summary>"),
        "a failing card starts open"
    );

    // A corrupt row: its own failing card; the 200 others are audited.
    c.execute(
        "UPDATE attestations SET integrated_time = integrated_time + 86400, signer_key_ids = 'x' WHERE lower(hex(id)) = ?1",
        [&last],
    )
    .unwrap();
    let r = get(&p, &format!("{base}?format=json"), Some(&w.acme));
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(v["passed"], false);
    let bad = &v["attestations"][0];
    assert_eq!(bad["attestationId"], last.as_str());
    assert_eq!(bad["checks"][0]["check"], "attestation-id");
    assert_eq!(bad["checks"][0]["outcome"], "failed");
    assert!(
        bad["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("signer key ids"),
        "{bad:#}"
    );
    assert_eq!(bad["downloads"]["bundle"], serde_json::Value::Null);
    assert_eq!(
        v["summary"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["passed"] == true)
            .count(),
        n - 1
    );
}

#[test]
fn the_completeness_page_reports_a_deleted_row_behind_the_tenants_token() {
    let w = World::new("completeness");
    let p = w.portal(w.tokens());
    // The tenant's token, as for its audit pages.
    assert_eq!(
        get(&p, "/completeness/acme", None).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&p, "/completeness/acme", Some(&w.globex)).status(),
        StatusCode::FORBIDDEN
    );
    let v = page_json(&p, "/completeness/acme", &w.acme);
    assert_eq!(v["passed"], true, "{v}");
    // Five entries by the service's key, acme's and globex's rows alike.
    assert_eq!(v["logs"][0]["signed"], 5, "{v}");
    rusqlite::Connection::open(w.db())
        .unwrap()
        .execute_batch("DELETE FROM attestations WHERE tenant = 'globex';")
        .unwrap();
    let v = page_json(&p, "/completeness/acme", &w.acme);
    assert_eq!(v["passed"], false, "{v}");
    assert_eq!(v["logs"][0]["missing"][0]["index"], 4, "{v}");
    // The HTML page says the same, escaped.
    let r = get(&p, "/completeness/acme", Some(&w.acme));
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(&r);
    assert!(
        page.contains("FAIL") && page.contains("<td>4</td>"),
        "{page}"
    );
    assert_eq!(
        get(&p, "/completeness/", Some(&w.acme)).status(),
        StatusCode::NOT_FOUND
    );
}

//! The auditor portal answers any request without panicking: method, path,
//! query and `Authorization` header are cut from the input (lines), against
//! a portal whose store holds two attestations of tenant `acme` and one
//! tenant token. Every answer is a client error or a page, never a 5xx (the
//! store here cannot fail), and a page of `acme` is served only with the
//! token.
#![no_main]

use std::sync::OnceLock;

use attestlog::dsse::{KeySet, SigningKey, Statement, Subject, TrustedKey};
use attestlog::store::MemoryStore;
use attestlog::{Attestor, Auditor};
use attestlog_portal::{Portal, PortalAccess, TokenFile};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-token-0123456789abcdef0123456789abcdef";

fn portal() -> &'static Portal {
    static P: OnceLock<Portal> = OnceLock::new();
    P.get_or_init(|| {
        let key = SigningKey::ed25519_from_seed(&[3; 32]);
        let keys = KeySet::new(1, vec![TrustedKey::always(key.public_key().clone())]);
        let store = std::sync::Arc::new(MemoryStore::new());
        let attestor = Attestor::builder(key, Box::new(store.clone())).build();
        for n in 0..2u8 {
            let st = Statement::new(
                Subject::sha256("app", &[n; 32]),
                "https://slsa.dev/provenance/v1",
                serde_json::json!({ "n": n }),
            );
            attestor.attest("acme", "app@sha256:00", st).unwrap();
        }
        let mut tokens = TokenFile::new();
        tokens.add("acme", TOKEN, "").unwrap();
        let auditor = Auditor::builder(keys.clone(), Box::new(store)).build();
        Portal::new("attestlog", auditor, &keys, PortalAccess::Tokens(tokens)).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let method = match parts.next().and_then(|m| m.bytes().next()).unwrap_or(0) % 4 {
        0 => http::Method::GET,
        1 => http::Method::HEAD,
        2 => http::Method::POST,
        _ => http::Method::OPTIONS,
    };
    let path = parts.next().unwrap_or("/");
    let query = parts.next().unwrap_or("");
    let auth = parts.next().unwrap_or("");
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut req = http::Request::builder().method(method).uri(uri);
    match auth.as_bytes().first() {
        Some(b'T') => req = req.header("authorization", format!("Bearer {TOKEN}")),
        Some(_) => req = req.header("authorization", auth),
        None => {}
    }
    let Ok(req) = req.body(()) else { return };
    let resp = portal().handle(&req);
    let status = resp.status().as_u16();
    assert!(
        status < 500,
        "{status}: {}",
        String::from_utf8_lossy(resp.body())
    );
    // A tenant's audit page (or download) needs that tenant's token.
    if status == 200 && req.uri().path().contains("acme") {
        assert!(
            req.headers().get("authorization").is_some(),
            "{} served without a token",
            req.uri()
        );
    }
});

//! The embedded log answers any request without panicking: the first byte
//! picks an endpoint, the rest is the body or the path and query. Statuses
//! are always Rekor's (2xx, 400, 404, 405, 409, 413 or 422), never 500.
#![no_main]

use std::sync::OnceLock;

use attest_dsse::SigningKey;
use attest_tlog::{LocalLog, LogOptions};
use libfuzzer_sys::fuzz_target;

fn log() -> &'static LocalLog {
    static LOG: OnceLock<LocalLog> = OnceLock::new();
    LOG.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("attestlog-fuzz-log-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        LocalLog::open(
            &dir,
            SigningKey::ed25519_from_seed(&[1; 32]),
            LogOptions::default(),
        )
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let req = match pick % 5 {
        0 => http::Request::post("/api/v1/log/entries").body(rest.to_vec()),
        1 => http::Request::post("/api/v1/log/entries/retrieve").body(rest.to_vec()),
        2 => http::Request::get(format!("/api/v1/log/entries/{}", text.trim())).body(Vec::new()),
        3 => http::Request::get(format!("/api/v1/log/entries?{}", text.trim())).body(Vec::new()),
        _ => http::Request::get(format!("/api/v1/log/proof?{}", text.trim())).body(Vec::new()),
    };
    let Ok(req) = req else { return };
    let resp = log().handle(&req);
    assert_ne!(
        resp.status().as_u16(),
        500,
        "{}",
        String::from_utf8_lossy(resp.body())
    );
});

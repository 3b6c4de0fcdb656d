//! The Rekor v2 tile log and its timestamp authority answer any request
//! without panicking: the first byte picks an endpoint (`POST
//! /api/v2/log/entries`, a `GET` of a tile or checkpoint path, `POST
//! /api/v1/timestamp`, the TSA's chain), the rest is the body or the path.
//! A refusal is always a client error, never 500.
#![no_main]

use std::sync::OnceLock;

use attest_dsse::SigningKey;
use attest_tlog::{TileLog, TileLogOptions, TsaService};
use libfuzzer_sys::fuzz_target;

fn dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("attestlog-fuzz-tilelog-{}", std::process::id()))
}

fn log() -> &'static TileLog {
    static LOG: OnceLock<TileLog> = OnceLock::new();
    LOG.get_or_init(|| {
        let _ = std::fs::remove_dir_all(dir());
        TileLog::open(
            &dir().join("log"),
            SigningKey::ed25519_from_seed(&[2; 32]),
            TileLogOptions::default().with_synced_public_files(false),
        )
        .unwrap()
    })
}

fn tsa() -> &'static TsaService {
    static TSA: OnceLock<TsaService> = OnceLock::new();
    TSA.get_or_init(|| TsaService::open(&dir().join("tsa"), "fuzz TSA").unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let path = text.trim().trim_start_matches('/');
    let req = match pick % 4 {
        0 => http::Request::post(attest_rekor::v2::CREATE_PATH).body(rest.to_vec()),
        1 => http::Request::get(format!("/{path}")).body(Vec::new()),
        2 => http::Request::post(attest_tlog::TIMESTAMP_PATH).body(rest.to_vec()),
        _ => http::Request::get(attest_tlog::CERTCHAIN_PATH).body(Vec::new()),
    };
    let Ok(req) = req else { return };
    let resp = match pick % 4 {
        2 | 3 => tsa().handle(&req).expect("the TSA answers its own paths"),
        _ => log().handle(&req),
    };
    assert!(
        resp.status().as_u16() < 500,
        "{}: {}",
        resp.status(),
        String::from_utf8_lossy(resp.body())
    );
});

//! A log transport is anything that carries one HTTP exchange: here a
//! closure the user writes (it could add authentication, metrics or a proxy)
//! in front of the embedded log, driving the blocking `Attestor` and
//! `Auditor`. No network, no database.
//!
//! `cargo run --example closure_transport`

#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use attestlog::dsse::{Algorithm, KeySet, TrustedKey};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{
    Attestor, Auditor, MemoryStore, RekorClient, SigningKey, Statement, Subject, Transport,
};
use http::{Request, Response};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("attestlog-closure-{}", std::process::id()));
    let log = LocalLog::open(
        &dir,
        SigningKey::generate(Algorithm::EcdsaP256Sha256)?,
        LogOptions::default(),
    )?;
    let trusted = vec![log.trusted_log()];

    // The user's transport: count the exchanges, then hand the request to
    // the embedded log. Any `Fn(Request, Duration) -> Result<Response, E>`
    // with `E: Error` is a `Transport`.
    let exchanges = Arc::new(AtomicU64::new(0));
    let transport = {
        let (log, exchanges) = (log.clone(), Arc::clone(&exchanges));
        move |req: Request<Vec<u8>>, _timeout: Duration| -> Result<Response<Vec<u8>>, Infallible> {
            exchanges.fetch_add(1, Ordering::Relaxed);
            Ok(log.handle(&req))
        }
    };
    let client = |t| RekorClient::new("http://attestlog.local", t, trusted.clone());
    check_transport(&transport);

    let key = SigningKey::generate(Algorithm::Ed25519)?;
    let keys = KeySet::new(1, vec![TrustedKey::always(key.public_key().clone())]);
    // One store shared by the attestor and the auditor (a database would be
    // opened twice instead).
    let store = Arc::new(MemoryStore::new());

    let attestor = Attestor::builder(key, Box::new(Arc::clone(&store)))
        .log(client(transport.clone()))
        .build();
    let subject = Subject::of_bytes("app.tar.gz", b"the artifact's bytes");
    let done = attestor.attest(
        "acme",
        "app.tar.gz",
        Statement::new(
            subject,
            "https://slsa.dev/provenance/v1",
            serde_json::json!({}),
        ),
    )?;
    let entry = done.entry.ok_or("the attestation was not published")?;
    println!("attested {} as log entry {}", done.id, entry.entry_id);

    // A first audit of this log: its current tree starts the baseline.
    let auditor = Auditor::builder(keys, Box::new(store))
        .log(client(transport))
        .trust_current_tree(true)
        .build();
    let reports = auditor.audit("acme", "app.tar.gz")?;
    for r in &reports {
        print!("{r}");
    }
    println!(
        "{} HTTP exchanges through the closure",
        exchanges.load(Ordering::Relaxed)
    );
    drop((attestor, auditor, log));
    std::fs::remove_dir_all(&dir)?;
    if reports.iter().all(attestlog::AuditReport::passed) {
        Ok(())
    } else {
        Err("the audit failed".into())
    }
}

fn check_transport(_: &impl Transport) {}

//! The auditor portal, seeded, in one command, no network:
//! a signing key → the embedded log (served on loopback, so the page's deep
//! links open) → three attestations signed, published and stored in SQLite
//! → a tenant token → the portal up. It prints the audit page's URL, the
//! key-set URL and a `curl` line, then serves until Ctrl-C.
//!
//! `cargo run --release --example portal`
//!
//! With `ATTESTLOG_PORTAL_ONCE=1` it fetches its own page instead of
//! serving on (CI runs it so): exit 0 only when every attestation passed.

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::Arc;

use attestlog::client::RekorClient;
use attestlog::dsse::{Algorithm, KeySet, SigningKey, Statement, Subject, Timestamp, TrustedKey};
use attestlog::tlog::{LocalLog, LogOptions};
use attestlog::{Attestor, Auditor, FileBaseline, LogTransport};
use attestlog_portal::{EntryLinks, Portal, PortalAccess, TokenFile, audit_path, new_token};

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("attestlog-portal-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!("working directory  {}", dir.display());

    // The embedded log, in process and on loopback (for the deep links).
    let log_dir = dir.join("log");
    let log_key = attestlog::tlog::load_or_create_key(&log_dir.join("log-key.pem"))?;
    let log = LocalLog::open(&log_dir, log_key, LogOptions::default())?;
    let log_server = attestlog::tlog::serve(log.clone(), "127.0.0.1:0", 64)?;
    let log_url = format!("http://{}", log_server.local_addr());
    let client = || {
        RekorClient::new(
            log_url.clone(),
            LogTransport::Local(log.clone()),
            vec![log.trusted_log()],
        )
    };
    println!("transparency log   {log_url}");

    // A signing key and the key set the portal publishes.
    let key = SigningKey::generate(Algorithm::Ed25519)?;
    let keys = KeySet::new(
        1,
        vec![
            TrustedKey::always(key.public_key().clone())
                .from(Timestamp::from_unix(Timestamp::now().unix() - 60)),
        ],
    );

    // Sign → store → publish, three times, for one subject.
    let db = dir.join("attestations.db").display().to_string();
    let attestor = Attestor::builder(key, attestlog::store::open(&db)?)
        .log(client())
        .build();
    let subject = "github.com/acme/app@sha256:".to_owned() + &"5a".repeat(32);
    for run in 1..=3 {
        let statement = Statement::new(
            Subject {
                name: "app.tar.gz".into(),
                digest: [("sha256".into(), "5a".repeat(32))].into(),
                annotations: Default::default(),
            },
            "https://slsa.dev/provenance/v1",
            attestlog::serde_json::json!({ "buildDefinition": { "run": run } }),
        );
        let done = attestor.attest("acme", &subject, statement)?;
        println!(
            "attested           {} → entry {}",
            done.id,
            done.entry.as_ref().map_or("-", |e| e.entry_id.as_str())
        );
    }

    // A token for tenant acme (only its hash is kept).
    let token = new_token()?;
    let mut tokens = TokenFile::new();
    tokens.add("acme", &token, "example")?;
    std::fs::write(dir.join("portal-auth.json"), tokens.to_json_pretty())?;

    // The portal: its own auditor and baseline.
    let auditor = Auditor::builder(keys.clone(), attestlog::store::open(&db)?)
        .log(client())
        .baseline(FileBaseline::new(dir.join("portal-baseline.json")))
        .trust_current_tree(true)
        .build();
    let portal = Arc::new(
        Portal::new("attestlog", auditor, &keys, PortalAccess::Tokens(tokens))?
            .with_entry_links(EntryLinks::for_log_url(&log_url)),
    );
    let served = Arc::clone(&portal);
    let handler = attestlog::tlog::Blocking::new(0, move |req| served.handle(&req));
    let server = attestlog::tlog::serve_handler(handler, "127.0.0.1:0", 256)?;
    let addr = server.local_addr();
    let page = audit_path("acme", &subject);
    println!(
        "\nkey set (public)   http://{addr}{}",
        portal.key_set_path()
    );
    println!("audit page         http://{addr}{page}");
    println!("in a browser       http://acme:{token}@{addr}{page}");
    println!(
        "as JSON            curl -H 'Authorization: Bearer {token}' -H 'Accept: application/json' 'http://{addr}{page}'"
    );

    if std::env::var_os("ATTESTLOG_PORTAL_ONCE").is_some() {
        let mut s = std::net::TcpStream::connect(addr)?;
        write!(
            s,
            "GET {page}?format=json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let v: attestlog::serde_json::Value = attestlog::serde_json::from_str(body)?;
        let n = v["attestations"].as_array().map_or(0, Vec::len);
        let passed = v["passed"] == true;
        println!("\nthe page lists {n} attestations; all passed: {passed}");
        return Ok(if passed && n == 3 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    println!("\nserving; Ctrl-C to stop");
    server.join();
    Ok(ExitCode::SUCCESS)
}

//! The whole flow on a fresh machine, no network, no set-up:
//! keys → embedded log → SQLite store → attest three commits → audit them →
//! tamper with one stored row → the audit names what broke.
//!
//! `cargo run --release --example quickstart`
//!
//! Against a log served by `attestlog log serve --dir DIR` instead:
//! `REKOR_URL=http://127.0.0.1:3000 REKOR_PUBLIC_KEY=DIR/log-public.pem
//! REKOR_LOG_NAME=attestlog.local cargo run --release --example quickstart`.

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::process::ExitCode;

use attestlog::dsse::{Algorithm, KeySet, SigningKey, Statement, Subject, Timestamp, TrustedKey};
use attestlog::{Attestor, Auditor, Config, FileBaseline, LogConnection};

fn main() -> Result<ExitCode, Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("attestlog-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = Config::from_env()?;
    if std::env::var_os("ATTESTLOG_DB").is_none() {
        config.db = dir.join("attestations.db").display().to_string();
    }
    if config.rekor_url.is_none() {
        config.rekor_url = Some(format!("local:{}", dir.join("log").display()));
    }
    println!("working directory  {}", dir.display());
    println!("store              {}", config.db);
    println!(
        "transparency log   {}",
        config.rekor_url.as_deref().unwrap_or("-")
    );

    // 1. A signing key and the key-set document auditors trust.
    let key = SigningKey::generate(Algorithm::Ed25519)?;
    let keys = KeySet::new(
        1,
        vec![
            TrustedKey::always(key.public_key().clone())
                .from(Timestamp::from_unix(Timestamp::now().unix() - 60)),
        ],
    );
    std::fs::write(dir.join("attestation-keys.json"), keys.to_json_pretty())?;
    println!("signing key        {}", key.public_key().key_id());

    // 2. Attest three commits: sign, store first, publish, verify, attach.
    let log = config.log_connection()?;
    let attestor = Attestor::builder(key, config.open_store()?)
        .optional_log(log.as_ref().map(LogConnection::log))
        .build();
    println!("\nattest");
    let commits = ["3f1c9a0e", "77ab12cd", "c0ffee42"];
    for c in commits {
        let commit = format!("{c:0<40}");
        let statement = Statement::new(
            Subject {
                name: "git+https://github.com/acme/app".into(),
                digest: [("gitCommit".into(), commit.clone())].into(),
                annotations: Default::default(),
            },
            "https://slsa.dev/provenance/v1",
            serde_json::json!({ "buildDefinition": { "buildType": "https://example.com/ci@v1" } }),
        );
        let done = attestor.attest("acme", &format!("acme/app@{commit}"), statement)?;
        match (&done.entry, &done.publish_error) {
            (Some(e), _) => println!(
                "  {commit}  entry {} (log index {})",
                e.entry_id, e.global_index
            ),
            (None, Some(err)) => println!("  {commit}  pending: {err}"),
            (None, None) => println!("  {commit}  stored (no log)"),
        }
    }
    drop(attestor);

    // 3. Audit them without trusting the store. The auditor remembers the
    // log's tree in a baseline of its own (not in the store it audits); this
    // first audit starts it, trusting the log it just created.
    let auditor = Auditor::builder(keys, config.open_store()?)
        .optional_log(log.as_ref().map(LogConnection::log))
        .backdate_window(config.backdate_window)
        .baseline(FileBaseline::new(dir.join("audit-baseline.json")))
        .trust_current_tree(true)
        .build();
    println!("\naudit");
    let mut all = true;
    for c in commits {
        for r in auditor.audit("acme", &format!("acme/app@{c:0<40}"))? {
            all &= r.passed();
            print!("{r}");
        }
    }

    // 4. Tamper with one stored row (a byte of the signed payload) and audit again.
    if config.db.starts_with("postgres") {
        println!("\n(tampering is shown on the SQLite store only)");
        return Ok(if all {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let subject = format!("acme/app@{:0<40}", commits[1]);
    let db = rusqlite::Connection::open(&config.db)?;
    db.execute(
        "UPDATE attestations SET envelope = CAST(replace(CAST(envelope AS TEXT), '\"payload\":\"ey', '\"payload\":\"ez') AS BLOB) WHERE subject = ?1",
        [&subject],
    )?;
    println!("\ntampered with the stored envelope of {subject}; audit again");
    let caught = auditor
        .audit("acme", &subject)?
        .iter()
        .inspect(|r| print!("{r}"))
        .all(|r| !r.passed());
    println!(
        "\n{}",
        if all && caught {
            "every untouched attestation verified, and the tampered one was caught"
        } else {
            "UNEXPECTED: see above"
        }
    );
    Ok(if all && caught {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

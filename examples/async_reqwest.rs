//! The async pipelines over the reqwest adapter: an `AsyncAttestor` signs,
//! stores and publishes; an `AsyncAuditor` re-verifies everything against
//! the log, on a tokio runtime.
//!
//! Against a log served by the binary (what CI runs):
//!
//! ```sh
//! attestlog log serve --dir /tmp/log --addr 127.0.0.1:3000 &
//! REKOR_URL=http://127.0.0.1:3000 REKOR_PUBLIC_KEY=/tmp/log/log-public.pem \
//!   cargo run --example async_reqwest
//! ```
//!
//! Without `REKOR_URL` the example serves the embedded log itself on a
//! loopback port — the same server `attestlog log serve` runs.

#![allow(clippy::print_stdout)]

use std::error::Error;
use std::sync::Arc;

use attestlog::client::ReqwestTransport;
use attestlog::dsse::{Algorithm, KeySet, TrustedKey};
use attestlog::rekor::TrustedLog;
use attestlog::{
    AsyncAttestor, AsyncAuditor, AsyncRekorClient, MemoryStore, SigningKey, Statement, Subject,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let (base, trusted, _server) = log_under_test()?;
    println!("transparency log   {base}");

    let client = || -> Result<_, Box<dyn Error + Send + Sync>> {
        Ok(AsyncRekorClient::new(
            base.clone(),
            ReqwestTransport::new()?,
            vec![trusted.clone()],
        )
        .with_sleep(|d| Box::pin(tokio::time::sleep(d))))
    };
    let key = SigningKey::generate(Algorithm::Ed25519)?;
    let keys = KeySet::new(1, vec![TrustedKey::always(key.public_key().clone())]);
    let store = Arc::new(MemoryStore::new());

    let attestor = AsyncAttestor::builder(key, Box::new(Arc::clone(&store)))
        .log(client()?)
        .build();
    // The futures are Send: attest on a spawned task.
    let attestor = Arc::new(attestor);
    let mut tasks = Vec::new();
    for n in 0..3u8 {
        let attestor = Arc::clone(&attestor);
        tasks.push(tokio::spawn(async move {
            let name = format!("app-{n}.tar.gz");
            let subject = Subject::of_bytes(name.clone(), &[n; 64]);
            let statement = Statement::new(
                subject,
                "https://slsa.dev/provenance/v1",
                serde_json::json!({}),
            );
            attestor.attest("acme", &name, statement).await
        }));
    }
    for t in tasks {
        let done = t.await??;
        let entry = done.entry.ok_or("not published")?;
        println!("attested {} as log entry {}", done.id, entry.entry_id);
    }

    // A first audit of this log: its current tree starts the baseline.
    let auditor = AsyncAuditor::builder(keys, Box::new(store))
        .log(client()?)
        .trust_current_tree(true)
        .build();
    let reports = auditor.audit_tenant("acme", |_| {}).await?;
    for r in &reports {
        print!("{r}");
    }
    if reports.len() == 3 && reports.iter().all(attestlog::AuditReport::passed) {
        println!("all {} attestations verified over HTTP", reports.len());
        Ok(())
    } else {
        Err("the audit failed".into())
    }
}

/// The log named by `REKOR_URL` / `REKOR_PUBLIC_KEY` / `REKOR_LOG_NAME`, or
/// the embedded log served on loopback for the duration of the example.
#[allow(clippy::type_complexity)]
fn log_under_test() -> Result<
    (
        String,
        TrustedLog,
        Option<(attest_tlog::Server, tempdir::Dir)>,
    ),
    Box<dyn Error + Send + Sync>,
> {
    if let Ok(url) = std::env::var("REKOR_URL") {
        let pem_path = std::env::var("REKOR_PUBLIC_KEY")
            .map_err(|_| "REKOR_URL is set: set REKOR_PUBLIC_KEY to the log's PEM key too")?;
        let key = attestlog::rekor::x509::public_key_from_pem(&std::fs::read_to_string(pem_path)?)?;
        let mut trusted = TrustedLog::rekor_v1(&url, key);
        trusted.name = std::env::var("REKOR_LOG_NAME")
            .unwrap_or_else(|_| attest_tlog::DEFAULT_NAME.to_owned());
        return Ok((url, trusted, None));
    }
    let dir = tempdir::Dir::new()?;
    let log = attest_tlog::LocalLog::open(
        &dir.0,
        SigningKey::generate(Algorithm::EcdsaP256Sha256)?,
        attest_tlog::LogOptions::default(),
    )?;
    let trusted = log.trusted_log();
    let server = attest_tlog::serve(log, "127.0.0.1:0", 64)?;
    let base = format!("http://{}", server.local_addr());
    Ok((base, trusted, Some((server, dir))))
}

mod tempdir {
    /// A directory removed when the example ends.
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);

    impl Dir {
        pub(crate) fn new() -> std::io::Result<Self> {
            let p = std::env::temp_dir().join(format!("attestlog-async-{}", std::process::id()));
            std::fs::create_dir_all(&p)?;
            Ok(Self(p))
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

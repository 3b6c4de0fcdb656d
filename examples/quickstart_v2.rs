//! The Rekor v2 flow, offline: the embedded tile log and its RFC 3161
//! timestamp authority on one loopback port; an artifact signed (ECDSA
//! P-256), logged as `hashedrekord` 0.0.2 and timestamped — each answer
//! verified — then packed into a Sigstore bundle v0.3 and verified against
//! the trusted root the log prints; finally the log is monitored from the
//! checkpoint kept at publication, from tiles. Last, the pipeline over the
//! same log: an `Attestor` publishes an attestation to it and an `Auditor`
//! re-verifies it from tiles and its stored timestamp.
//!
//! `cargo run --release --example quickstart_v2`

use std::error::Error;

use attestlog::client::UreqTransport;
use attestlog::client::tsa::TsaClient;
use attestlog::client::v2::RekorV2Client;
use attestlog::dsse::{Algorithm, KeySet, SigningKey, Statement, Subject, Timestamp, TrustedKey};
use attestlog::rekor::TrustedRoot;
use attestlog::rekor::bundle::{Bundle, VerificationMaterial};
use attestlog::rekor::v2::V2Request;
use attestlog::rekor::verify::{Artifact, Policy, SignerPolicy, Verifier};
use attestlog::{Attestor, Auditor, MemoryStore, RekorV2};
use sha2::{Digest, Sha256};

use attestlog::tlog::{TIMESTAMP_PATH, TileLog, TileLogOptions, TsaService, V2Services};

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("attestlog-quickstart-v2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = TileLog::open(
        &dir.join("log"),
        SigningKey::generate(Algorithm::Ed25519)?,
        TileLogOptions::default().with_name("quickstart-v2.local"),
    )?;
    let tsa = TsaService::open(&dir.join("tsa"), "quickstart TSA")?;
    let server = attestlog::tlog::serve_handler(
        V2Services {
            log: log.clone(),
            tsa: Some(tsa.clone()),
        },
        "127.0.0.1:0",
        64,
    )?;
    let url = format!("http://{}", server.local_addr());
    let tsa_url = format!("{url}{TIMESTAMP_PATH}");
    // What a client is given: a trusted root, nothing else.
    let root = serde_json::to_vec(&log.trusted_root(&url, Some((&tsa, &tsa_url))))?;
    let root = TrustedRoot::from_json(&root)?;
    let (logs, authorities) = root.clone().into_parts();
    println!("1. a Rekor v2 log and a TSA at {url}");

    let signer = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
    let artifact = b"pretend this is a release tarball\n";
    let digest: [u8; 32] = Sha256::digest(artifact).into();
    let signature = signer.sign(artifact);
    let rekor = RekorV2Client::new(&url, UreqTransport::new(), logs.clone())
        .with_tile_cache(dir.join("tile-cache"));
    let published = rekor.publish(&V2Request::message(
        digest,
        signature.clone(),
        signer.public_key(),
    )?)?;
    println!(
        "2. logged at index {} (body, checkpoint signature and inclusion proof verified)",
        published.evidence.entry.log_index
    );
    let stamp = TsaClient::new(
        &tsa_url,
        UreqTransport::new(),
        authorities.timestamp_authorities.clone(),
    )
    .timestamp(&signature)?;
    println!(
        "3. timestamped at {} by {} (token verified)",
        stamp.verified.gen_time, stamp.verified.authority
    );

    let bundle = Bundle::v03_message(
        VerificationMaterial::with_key_hint(
            signer.public_key().key_id(),
            vec![published.entry.clone()],
        )
        .with_rfc3161_timestamps(std::slice::from_ref(&stamp.response)),
        &digest,
        &signature,
    );
    let bundle = Bundle::from_json(bundle.to_json().as_bytes())?;
    let policy = Policy::new(
        SignerPolicy::Key(signer.public_key().clone()),
        Timestamp::now(),
    );
    let verified = Verifier::new(root)
        .verify(&bundle, &Artifact::of_bytes(artifact), &policy)
        .map_err(|e| format!("the bundle did not verify: {e}"))?;
    println!(
        "4. the bundle verifies: signer, artifact, time {}, log evidence",
        verified
            .times
            .first()
            .map(|t| t.at.to_string())
            .unwrap_or_default()
    );

    for n in 0..300u32 {
        log.append(format!("another entry {n}").into_bytes())?;
    }
    let kept = published.evidence.entry.checkpoint.clone();
    let now = rekor.monitor(&kept)?;
    rekor.prove_inclusion(&published.body, published.evidence.entry.log_index, &now)?;
    println!(
        "5. the log grew from {} to {} entries, consistently; the entry is still included (proofs from verified tiles)",
        kept.size, now.size
    );

    // The pipeline over the same v2 log: an attestation signed, timestamped,
    // logged and stored; then audited from tiles, without trusting the store.
    let attestation_key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
    let keys = KeySet::new(
        1,
        vec![TrustedKey::always(attestation_key.public_key().clone())],
    );
    let store = std::sync::Arc::new(MemoryStore::new());
    let v2 = || {
        RekorV2::new(RekorV2Client::new(&url, UreqTransport::new(), logs.clone())).with_tsa(
            TsaClient::new(
                &tsa_url,
                UreqTransport::new(),
                authorities.timestamp_authorities.clone(),
            ),
        )
    };
    let attestor = Attestor::builder(attestation_key, Box::new(store.clone()))
        .log(v2())
        .build();
    let subject = Subject::sha256("app.tar.gz", &digest);
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
    println!(
        "6. attested: logged at index {}, timestamped at {}, stored",
        entry.global_index,
        Timestamp::from_unix(entry.integrated_time)
    );
    let auditor = Auditor::builder(keys, Box::new(store))
        .log(v2())
        .authorities(authorities.clone())
        .trust_current_tree(true)
        .build();
    for report in auditor.audit("acme", "app.tar.gz")? {
        if !report.passed() {
            return Err(format!("the audit failed:\n{report}").into());
        }
        println!(
            "7. audited from the log's tiles: {} checks passed",
            report.checks.len()
        );
    }
    server.shutdown();
    drop(log);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

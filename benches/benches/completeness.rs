//! The completeness scan (`attestlog::completeness`, `audit --completeness`)
//! over a Rekor v2 tile log of 100,000 distinct `hashedrekord` 0.0.2
//! entries (P-256 verifiers, one in ten the tenant's, the rest spread over
//! 50 other keys), beside the raw primitive in the same run: SHA-256 leaf
//! hashes of the same bodies, the least any scan that authenticates them
//! must do.
//!
//! - `leaf hashes (sha2, raw)`: the primitive, bodies in memory;
//! - `scan, bodies in memory`: [`Scan`] alone (leaf hash, compact range,
//!   signer match, root check);
//! - `scan from local tiles`: the entry bundles read from the log's public
//!   directory (`tiles/`, as a mirror or the log host has them), parsed and
//!   scanned, root checked;
//! - `auditor over HTTP`: `Auditor::completeness` against the log served on
//!   loopback (in this process: a warm, in-process figure), a fresh
//!   baseline each time (a full scan from entry 0).
//!
//! `cargo bench -p attestlog-benches --bench completeness`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use attest_dsse::{Algorithm, KeySet, PublicKey, SigningKey, TrustedKey};
use attest_merkle::leaf_hash;
use attest_merkle::tiles::{TILE_WIDTH, TileId, parse_entry_bundle};
use attest_rekor::v2::V2Request;
use attest_tlog::{DirStore, TileLog, TileLogOptions, TileStore};
use attestlog::completeness::{KeyMatcher, Scan};
use criterion::{Criterion, Throughput, criterion_group};
use rekor_client::UreqTransport;
use rekor_client::v2::RekorV2Client;

const N: u64 = 100_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-completeness")
}

fn keys() -> (SigningKey, Vec<SigningKey>) {
    let k = |seed: u8| {
        // Deterministic P-256 keys from a seed, through PKCS#8 of a
        // generated key kept beside the log (P-256 has no seed constructor).
        let path = dir().join(format!("key-{seed}.pem"));
        if let Ok(pem) = std::fs::read_to_string(&path) {
            return SigningKey::from_pkcs8_pem(&pem).unwrap();
        }
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(&path, key.to_pkcs8_pem().unwrap()).unwrap();
        key
    };
    (k(0), (1..=50).map(k).collect())
}

fn body(n: u64, key: &PublicKey) -> Vec<u8> {
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    // The scan does not verify signatures (the log did); 72 bytes like an
    // ECDSA signature.
    let sig = [n as u8; 72].to_vec();
    V2Request::message(digest, sig, key)
        .unwrap()
        .canonical_body()
}

/// The log of `N` entries (made once, reused across runs) and its bodies.
fn log() -> (TileLog, Vec<Vec<u8>>, SigningKey) {
    let (tenant, others) = keys();
    let bodies: Vec<Vec<u8>> = (0..N)
        .map(|n| {
            let key = if n % 10 == 0 {
                tenant.public_key()
            } else {
                others[(n % 50) as usize].public_key()
            };
            body(n, key)
        })
        .collect();
    let path = dir().join("log");
    let log = TileLog::open(
        &path,
        SigningKey::ed25519_from_seed(&[7; 32]),
        TileLogOptions::default().with_name("bench.completeness"),
    )
    .unwrap();
    if log.checkpoint().lines().nth(1) != Some(&N.to_string()) {
        drop(log);
        let _ = std::fs::remove_dir_all(&path);
        let log = TileLog::open(
            &path,
            SigningKey::ed25519_from_seed(&[7; 32]),
            TileLogOptions::default().with_name("bench.completeness"),
        )
        .unwrap();
        let pending: Vec<_> = bodies
            .iter()
            .map(|b| log.submit(b.clone()).unwrap())
            .collect();
        for p in pending {
            p.wait().unwrap();
        }
        return (log, bodies, tenant);
    }
    (log, bodies, tenant)
}

fn checkpoint(log: &TileLog) -> (u64, attest_merkle::Hash) {
    let note = attest_rekor::SignedNote::parse(&log.checkpoint()).unwrap();
    let cp = note.checkpoint().unwrap();
    (cp.size(), *cp.root())
}

fn bench(c: &mut Criterion) {
    let (log, bodies, tenant) = log();
    let (size, root) = checkpoint(&log);
    assert_eq!(size, N);
    let tenant_keys = [tenant.public_key().clone()];
    let mut g = c.benchmark_group(format!("completeness scan, {N} entries"));
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);

    g.bench_function("leaf hashes (sha2, raw)", |b| {
        b.iter(|| {
            let mut x = 0u8;
            for body in &bodies {
                x ^= leaf_hash(body).as_bytes()[0];
            }
            x
        });
    });

    g.bench_function("scan, bodies in memory", |b| {
        b.iter(|| {
            let mut m = KeyMatcher::new(&tenant_keys);
            let mut scan = Scan::new(&m);
            for body in &bodies {
                scan.push(body, "", &mut m);
            }
            scan.check(size, &root).unwrap();
            assert_eq!(scan.found().len() as u64, N / 10);
        });
    });

    let store = DirStore::new(dir().join("log").join(attest_tlog::PUBLIC_DIR));
    g.bench_function("scan from local tiles", |b| {
        b.iter(|| {
            let mut m = KeyMatcher::new(&tenant_keys);
            let mut scan = Scan::new(&m);
            let width = u64::from(TILE_WIDTH);
            for k in 0..size.div_ceil(width) {
                let w = (size - k * width).min(width);
                let id = TileId {
                    level: 0,
                    index: k,
                    width: w as u16,
                };
                let bytes = store.get(&id.entries_path()).unwrap().unwrap();
                for e in parse_entry_bundle::<()>(id, &bytes).unwrap() {
                    scan.push(e, "", &mut m);
                }
            }
            scan.check(size, &root).unwrap();
        });
    });

    let server = attest_tlog::serve_handler(log.clone(), "127.0.0.1:0", 64).unwrap();
    let url = format!("http://{}", server.local_addr());
    let trusted = log.trusted_log(&url);
    let ks = KeySet::new(1, vec![TrustedKey::always(tenant.public_key().clone())]);
    g.bench_function("auditor over HTTP (loopback, in-process server)", |b| {
        b.iter(|| {
            let auditor =
                attestlog::Auditor::builder(ks.clone(), Box::new(attestlog::MemoryStore::new()))
                    .log(attestlog::RekorV2::new(RekorV2Client::new(
                        &url,
                        UreqTransport::new(),
                        vec![trusted.clone()],
                    )))
                    .baseline(Arc::new(attestlog::MemoryBaseline::new()))
                    .trust_current_tree(true)
                    .build();
            let r = auditor.completeness().unwrap();
            assert_eq!(r[0].signed as u64, N / 10, "{:?}", r[0].error);
        });
    });
    g.finish();
    server.shutdown();
}

const N1: u64 = 20_000;

/// A Rekor v1 log of `N1` DSSE entries (made once), one in ten by the
/// tenant's key.
fn v1_log(tenant: &SigningKey) -> attest_tlog::LocalLog {
    use attest_rekor::api::ProposedEntry;
    let log = attest_tlog::LocalLog::open(
        &dir().join("v1"),
        SigningKey::ed25519_from_seed(&[8; 32]),
        attest_tlog::LogOptions::default(),
    )
    .unwrap();
    if log.size() >= N1 {
        return log;
    }
    let other = SigningKey::ed25519_from_seed(&[9; 32]);
    let (t_pem, o_pem) = (tenant.public_key().to_pem(), other.public_key().to_pem());
    for n in log.size()..N1 {
        let (key, pem) = if n % 10 == 0 {
            (tenant, &t_pem)
        } else {
            (&other, &o_pem)
        };
        let env = attest_dsse::Envelope::sign(
            "application/vnd.in-toto+json",
            format!("{{\"n\":{n}}}").into_bytes(),
            &[key],
        )
        .unwrap();
        let body = serde_json::to_vec(&ProposedEntry::dsse(
            &env.to_json(),
            std::slice::from_ref(pem),
        ))
        .unwrap();
        let r = log.handle(
            &http::Request::post("/api/v1/log/entries")
                .body(body)
                .unwrap(),
        );
        assert!(r.status() == 201 || r.status() == 409, "{}", r.status());
    }
    log
}

fn bench_v1(c: &mut Criterion) {
    let tenant = SigningKey::ed25519_from_seed(&[10; 32]);
    let log = v1_log(&tenant);
    let mut g = c.benchmark_group(format!("completeness scan, Rekor v1, {N1} entries"));
    g.throughput(Throughput::Elements(N1));
    g.sample_size(10);
    let server = attest_tlog::serve(log.clone(), "127.0.0.1:0", 64).unwrap();
    let url = format!("http://{}", server.local_addr());
    let ks = KeySet::new(1, vec![TrustedKey::always(tenant.public_key().clone())]);
    g.bench_function("auditor over HTTP (retrieve, 10 per request)", |b| {
        b.iter(|| {
            let auditor =
                attestlog::Auditor::builder(ks.clone(), Box::new(attestlog::MemoryStore::new()))
                    .log(rekor_client::RekorClient::new(
                        &url,
                        UreqTransport::new(),
                        vec![log.trusted_log()],
                    ))
                    .baseline(Arc::new(attestlog::MemoryBaseline::new()))
                    .trust_current_tree(true)
                    .build();
            let r = auditor.completeness().unwrap();
            assert_eq!(r[0].signed as u64, N1 / 10, "{:?}", r[0].error);
        });
    });
    g.finish();
    server.shutdown();
}

criterion_group!(benches, bench, bench_v1);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

//! The embedded log: verified publishes per second in process and over
//! loopback HTTP (8 concurrent requests through one shared client, durable
//! group commit), beside the
//! naive bound of one disk flush per entry; proofs and full entry reads at
//! 10^6 entries beside an in-memory tree; reopening a 10^6-entry log.
//!
//! `cargo bench -p attestlog-benches --bench log`. The first run builds a
//! 10^6-entry log in `target/attestlog-bench-log-1m` (a few minutes) and
//! reuses it afterwards.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench code

mod load;

use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use attest_dsse::{Algorithm, Envelope, SigningKey};
use attest_merkle::MerkleTree;
use attest_rekor::ProposedEntry;
use attest_tlog::{LocalLog, LogOptions, serve};
use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use http::Request;
use rekor_client::{RekorClient, RetryPolicy, Transport, UreqTransport};

const CLIENTS: u64 = 8;
const PER_ITER: u64 = 64;
const BIG: u64 = 1_000_000;

fn target_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(name)
}

fn fresh(name: &str) -> PathBuf {
    let d = target_dir(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[42; 32])
}

fn envelope(n: u64) -> Envelope {
    let payload = format!(
        "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{{\"name\":\"build-{n}\",\"digest\":{{\"sha256\":\"{n:064x}\"}}}}],\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{{}}}}"
    );
    Envelope::sign(
        "application/vnd.in-toto+json",
        payload.into_bytes(),
        &[&signer()],
    )
    .unwrap()
}

/// `PER_ITER` new envelopes (signing them is the attestor's work, not the
/// publish being measured).
fn batch(next: &AtomicU64) -> Vec<Envelope> {
    let k = signer();
    (0..PER_ITER)
        .map(|_| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let payload = format!(
                "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{{\"name\":\"build-{n}\",\"digest\":{{\"sha256\":\"{n:064x}\"}}}}],\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{{}}}}"
            );
            Envelope::sign("application/vnd.in-toto+json", payload.into_bytes(), &[&k]).unwrap()
        })
        .collect()
}

/// Publishes the envelopes from `CLIENTS` threads sharing one client (as a
/// service shares it between its requests); every entry is verified.
fn publish_round<T: Transport + Sync>(envs: &[Envelope], c: &RekorClient<T>) {
    let pk = signer().public_key().clone();
    std::thread::scope(|s| {
        for chunk in envs.chunks(envs.len().div_ceil(CLIENTS as usize)) {
            let pk = &pk;
            s.spawn(move || {
                for env in chunk {
                    let p = c.publish_dsse(env, pk).unwrap();
                    assert!(!p.already_existed);
                }
            });
        }
    });
}

/// CPU time (ns) the threads of this process named `attestlog-…` (the
/// server's workers and accept thread, the log's writer) have run, from
/// `/proc/self/task/*/schedstat`.
fn server_threads_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.starts_with("attestlog-"))
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The server's own CPU per publish over loopback HTTP, beside the floor of
/// the work it cannot avoid: one envelope signature verification, one SET
/// signature, and its share of a group commit's `fdatasync` (printed, not a
/// criterion measurement: the numbers the README reports).
fn server_cpu(
    log: &LocalLog,
    url: &str,
    trusted: &[attest_rekor::TrustedLog],
    next: &AtomicU64,
    tag: &str,
) {
    let client = RekorClient::new(url.to_owned(), UreqTransport::new(), trusted.to_vec())
        .with_retry(RetryPolicy::default().with_max_attempts(1));
    let rounds = 32;
    let envs: Vec<Vec<Envelope>> = (0..rounds).map(|_| batch(next)).collect();
    let (cpu0, commits0, size0) = (server_threads_cpu_ns(), log.commits(), log.size());
    for e in &envs {
        publish_round(e, &client);
    }
    let publishes = log.size() - size0;
    let per_publish = (server_threads_cpu_ns() - cpu0) as f64 / publishes as f64 / 1e3;
    let per_commit = publishes as f64 / (log.commits() - commits0) as f64;
    // The floor, measured here.
    let env = envelope(u64::MAX);
    let pae = env.pae();
    let sig = &env.signatures()[0].sig;
    let pk = signer().public_key().clone();
    let key = SigningKey::generate(if tag == "p256" {
        Algorithm::EcdsaP256Sha256
    } else {
        Algorithm::Ed25519
    })
    .unwrap();
    let n = 2000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(pk.verifies(black_box(&pae), sig));
    }
    let verify = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let t = Instant::now();
    for _ in 0..n {
        black_box(key.sign(black_box(&pae)));
    }
    let sign = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    let dir = fresh("attestlog-bench-fsync-cpu");
    std::fs::create_dir_all(&dir).unwrap();
    let mut f = std::fs::File::create(dir.join("f")).unwrap();
    let self_cpu = || -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let c0 = self_cpu();
    for _ in 0..200 {
        f.write_all(&[7u8; 600]).unwrap();
        f.sync_data().unwrap();
    }
    let fsync_cpu = (self_cpu() - c0) as f64 / 200.0 / 1e3;
    println!(
        "server CPU per publish ({tag} log key, loopback HTTP): {per_publish:.0} µs; floor: \
         envelope verify {verify:.0} µs + SET sign {sign:.0} µs + fdatasync CPU {fsync_cpu:.0} µs / \
         {per_commit:.1} entries per commit = {:.0} µs",
        verify + sign + fsync_cpu / per_commit
    );
}

fn bench_publish(c: &mut Criterion) {
    let mut g = c.benchmark_group("log_publish");
    g.throughput(Throughput::Elements(PER_ITER));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(8));
    let next = AtomicU64::new(0);
    for (alg, tag) in [
        (Algorithm::Ed25519, "ed25519"),
        (Algorithm::EcdsaP256Sha256, "p256"),
    ] {
        let dir = fresh(&format!("attestlog-bench-publish-{tag}"));
        let log = LocalLog::open(
            &dir,
            SigningKey::generate(alg).unwrap(),
            LogOptions::default(),
        )
        .unwrap();
        let trusted = vec![log.trusted_log()];
        g.bench_function(format!("publish_inprocess/{tag}_log_key"), |b| {
            let client = RekorClient::new("http://attestlog.local", log.clone(), trusted.clone());
            b.iter_batched(
                || batch(&next),
                |envs| publish_round(&envs, &client),
                BatchSize::PerIteration,
            );
        });
        let server = serve(log.clone(), "127.0.0.1:0", 1024).unwrap();
        let url = format!("http://{}", server.local_addr());
        g.bench_function(format!("publish_loopback_http/{tag}_log_key"), |b| {
            let client = RekorClient::new(url.clone(), UreqTransport::new(), trusted.clone())
                .with_retry(RetryPolicy::default().with_max_attempts(1));
            b.iter_batched(
                || batch(&next),
                |envs| publish_round(&envs, &client),
                BatchSize::PerIteration,
            );
        });
        server_cpu(&log, &url, &trusted, &next, tag);
        server.shutdown();
        drop(log);
        let _ = std::fs::remove_dir_all(&dir);
    }
    // The bound without group commit: one flushed 600-byte append per entry.
    let path = fresh("attestlog-bench-fsync");
    std::fs::create_dir_all(&path).unwrap();
    let mut f = std::fs::File::create(path.join("f")).unwrap();
    let rec = [7u8; 600];
    g.bench_function("raw_fdatasync_per_entry", |b| {
        b.iter(|| {
            for _ in 0..PER_ITER {
                f.write_all(&rec).unwrap();
                f.sync_data().unwrap();
            }
        });
    });
    g.finish();
}

/// The 10^6-entry log, built once and kept.
fn big_log() -> LocalLog {
    let dir = target_dir("attestlog-bench-log-1m");
    let log = LocalLog::open(
        &dir,
        SigningKey::ed25519_from_seed(&[1; 32]),
        LogOptions::default(),
    )
    .unwrap();
    if log.size() >= BIG {
        return log;
    }
    eprintln!("building a {BIG}-entry log in {} (once)…", dir.display());
    let t = Instant::now();
    let next = AtomicU64::new(log.size());
    let pem = signer().public_key().to_pem();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= BIG {
                        break;
                    }
                    let body = serde_json::to_vec(&ProposedEntry::dsse(
                        &envelope(n).to_json(),
                        std::slice::from_ref(&pem),
                    ))
                    .unwrap();
                    let r = log.handle(&Request::post("/api/v1/log/entries").body(body).unwrap());
                    assert!(r.status() == 201 || r.status() == 409, "{}", r.status());
                }
            });
        }
    });
    eprintln!("built in {:?}", t.elapsed());
    log
}

fn bench_read(c: &mut Criterion) {
    // Built lazily, so filtering to other benches skips the 10^6-entry log.
    let mut big: Option<LocalLog> = None;
    let mut tree: Option<MerkleTree> = None;
    let mut g = c.benchmark_group("log_read_1m");
    let mut i = 0u64;
    let step = 7_919u64; // a prime stride: indices all over the tree
    g.bench_function("inclusion_proof_from_files", |b| {
        let log = big.get_or_insert_with(big_log);
        let size = log.size();
        b.iter(|| {
            i = (i + step) % size;
            black_box(log.inclusion_proof(i, size).unwrap())
        })
    });
    // The same proofs from a tree held in memory (the raw primitive).
    g.bench_function("inclusion_proof_in_memory_tree", |b| {
        let log = big.get_or_insert_with(big_log);
        let size = log.size();
        let tree = tree.get_or_insert_with(|| {
            let mut t = MerkleTree::with_capacity(size as usize);
            for n in 0..size {
                t.push_leaf_hash(log.leaf_hash(n).unwrap());
            }
            assert_eq!(
                t.inclusion_proof(5, size).unwrap(),
                log.inclusion_proof(5, size).unwrap()
            );
            t
        });
        b.iter(|| {
            i = (i + step) % size;
            black_box(tree.inclusion_proof(i, size).unwrap())
        })
    });
    g.bench_function("get_with_proof", |b| {
        let log = big.get_or_insert_with(big_log);
        let size = log.size();
        b.iter(|| {
            i = (i + step) % size;
            let r = log.handle(
                &Request::get(format!("/api/v1/log/entries?logIndex={i}"))
                    .body(Vec::new())
                    .unwrap(),
            );
            assert_eq!(r.status(), 200);
            black_box(r)
        })
    });
    g.finish();
    drop(tree);
    drop(big);

    let mut g = c.benchmark_group("log_reopen_1m");
    g.sample_size(10);
    g.bench_function("open", |b| {
        drop(big_log());
        let dir = target_dir("attestlog-bench-log-1m");
        b.iter(|| {
            LocalLog::open(
                &dir,
                SigningKey::ed25519_from_seed(&[1; 32]),
                LogOptions::default(),
            )
            .unwrap()
        })
    });
    g.finish();
}

/// Entries per iteration of the v2 benches (8 threads × 512).
const V2_PER_ITER: u64 = 4096;

/// The embedded Rekor v2 tile log: entries integrated per second with 8
/// appending threads (durable: bundles, tiles and the checkpoint written and
/// synced before each batch is answered), and the whole write path
/// (`create`: request parsed, ECDSA P-256 signature verified over the
/// digest, body logged, inclusion proof answered) — beside the v1 log's
/// in-process publishes above, in the same run.
fn bench_v2(c: &mut Criterion) {
    use attest_rekor::v2::V2Request;
    use attest_tlog::{TileLog, TileLogOptions};
    use sha2::{Digest, Sha256};
    let mut g = c.benchmark_group("log_v2");
    g.throughput(Throughput::Elements(V2_PER_ITER));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    let dir = fresh("attestlog-bench-v2");
    let log = TileLog::open(&dir, signer(), TileLogOptions::default()).unwrap();
    let next = AtomicU64::new(0);
    let run = |items: Vec<Vec<u8>>, create: bool| {
        std::thread::scope(|s| {
            for chunk in items.chunks(items.len().div_ceil(CLIENTS as usize)) {
                let log = &log;
                s.spawn(move || {
                    for item in chunk {
                        if create {
                            log.create(item).unwrap();
                        } else {
                            log.append(item.clone()).unwrap();
                        }
                    }
                });
            }
        });
    };
    // Each thread keeps `IN_FLIGHT` entries queued (as a server with that
    // many requests open per worker does), waiting for the oldest.
    const IN_FLIGHT: usize = 64;
    let pipelined = |items: Vec<Vec<u8>>| {
        std::thread::scope(|s| {
            for chunk in items.chunks(items.len().div_ceil(CLIENTS as usize)) {
                let log = &log;
                s.spawn(move || {
                    let mut queue = std::collections::VecDeque::new();
                    for item in chunk {
                        queue.push_back(log.submit(item.clone()).unwrap());
                        if queue.len() == IN_FLIGHT {
                            queue.pop_front().unwrap().wait().unwrap();
                        }
                    }
                    for p in queue {
                        p.wait().unwrap();
                    }
                });
            }
        });
    };
    g.bench_function("integrate_8_threads", |b| {
        b.iter_batched(
            || {
                (0..V2_PER_ITER)
                    .map(|_| format!("entry {}", next.fetch_add(1, Ordering::Relaxed)).into_bytes())
                    .collect::<Vec<_>>()
            },
            |items| run(items, false),
            BatchSize::PerIteration,
        );
    });
    g.bench_function("integrate_8_threads_64_in_flight", |b| {
        b.iter_batched(
            || {
                (0..V2_PER_ITER)
                    .map(|_| format!("entry {}", next.fetch_add(1, Ordering::Relaxed)).into_bytes())
                    .collect::<Vec<_>>()
            },
            pipelined,
            BatchSize::PerIteration,
        );
    });
    // Tile reads: the log's handler (path check, store read, headers) and
    // over loopback HTTP, beside the raw file read of the same tiles.
    let size = log
        .checkpoint()
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
        .unwrap();
    let full_tiles = size / 256;
    let mut t = 0u64;
    let mut next_tile = move || {
        t = (t + 7_919) % full_tiles.max(1);
        attest_merkle::tiles::TileId {
            level: 0,
            index: t,
            width: 256,
        }
        .path()
    };
    g.throughput(Throughput::Bytes(256 * 32));
    g.bench_function("tile_read_raw_fs", |b| {
        b.iter(|| black_box(std::fs::read(dir.join(next_tile())).unwrap()))
    });
    g.bench_function("tile_read_handler", |b| {
        b.iter(|| {
            let r = log.handle(
                &Request::get(format!("/{}", next_tile()))
                    .body(Vec::new())
                    .unwrap(),
            );
            assert_eq!(r.status(), 200);
            black_box(r)
        })
    });
    let server = attest_tlog::serve_handler(log.clone(), "127.0.0.1:0", 64).unwrap();
    let base = format!("http://{}", server.local_addr());
    let http = UreqTransport::new();
    g.bench_function("tile_read_loopback_http", |b| {
        b.iter(|| {
            let r = http
                .send(
                    Request::get(format!("{base}/{}", next_tile()))
                        .body(Vec::new())
                        .unwrap(),
                    Duration::from_secs(10),
                )
                .unwrap();
            assert_eq!(r.status(), 200);
            black_box(r)
        })
    });
    server.shutdown();
    g.throughput(Throughput::Elements(V2_PER_ITER));
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    g.bench_function("create_8_threads_p256", |b| {
        b.iter_batched(
            || {
                (0..V2_PER_ITER)
                    .map(|_| {
                        let a = format!("artifact {}", next.fetch_add(1, Ordering::Relaxed));
                        let d: [u8; 32] = Sha256::digest(a.as_bytes()).into();
                        V2Request::message(d, key.sign(a.as_bytes()), key.public_key())
                            .unwrap()
                            .to_json()
                    })
                    .collect::<Vec<_>>()
            },
            |items| run(items, true),
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

/// The facade's two flows over each API, both logs served over loopback
/// HTTP in this process: one attestation signed, (v2: timestamped,) logged,
/// verified and stored; one row audited — v1 from the REST entry and its
/// proof, v2 from tiles at the stored index and the stored timestamp.
fn bench_pipeline(c: &mut Criterion) {
    use attest_tlog::{
        TIMESTAMP_PATH, TileLog, TileLogOptions, TsaService, V2Services, serve_handler,
    };
    use attestlog::client::tsa::TsaClient;
    use attestlog::client::v2::RekorV2Client;
    use attestlog::dsse::{KeySet, Statement, Subject, TrustedKey};
    use attestlog::{AttestationStore, Attestor, Auditor, MemoryStore, RekorV2};
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(5));
    let quick = || RetryPolicy::default().with_max_attempts(1);
    let next = AtomicU64::new(0);
    let statement = || {
        let n = next.fetch_add(1, Ordering::Relaxed);
        Statement::new(
            Subject::sha256(format!("app-{n}"), &[7; 32]),
            "https://slsa.dev/provenance/v1",
            serde_json::json!({ "n": n }),
        )
    };
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let again = || SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem().unwrap()).unwrap();
    let keys = || KeySet::new(1, vec![TrustedKey::always(key.public_key().clone())]);

    // Rekor v1: the embedded log, served.
    let dir1 = fresh("attestlog-bench-pipeline-v1");
    let log1 = LocalLog::open(&dir1, signer(), LogOptions::default()).unwrap();
    let server1 = serve(log1.clone(), "127.0.0.1:0", 64).unwrap();
    let url1 = format!("http://{}", server1.local_addr());
    let v1 = || {
        RekorClient::new(url1.clone(), UreqTransport::new(), vec![log1.trusted_log()])
            .with_retry(quick())
    };
    let store1 = std::sync::Arc::new(MemoryStore::new());
    let attestor1 = Attestor::builder(again(), Box::new(store1.clone()))
        .log(v1())
        .build();

    // Rekor v2: the tile log and its TSA, served.
    let dir2 = fresh("attestlog-bench-pipeline-v2");
    let log2 = TileLog::open(&dir2.join("log"), signer(), TileLogOptions::default()).unwrap();
    let tsa = TsaService::open(&dir2.join("tsa"), "bench TSA").unwrap();
    let server2 = serve_handler(
        V2Services {
            log: log2.clone(),
            tsa: Some(tsa.clone()),
        },
        "127.0.0.1:0",
        64,
    )
    .unwrap();
    let url2 = format!("http://{}", server2.local_addr());
    let tsa_url = format!("{url2}{TIMESTAMP_PATH}");
    let root = serde_json::to_vec(&log2.trusted_root(&url2, Some((&tsa, &tsa_url)))).unwrap();
    let (logs2, authorities) = attest_rekor::TrustedRoot::from_json(&root)
        .unwrap()
        .into_parts();
    let v2 = || {
        RekorV2::new(
            RekorV2Client::new(&url2, UreqTransport::new(), logs2.clone()).with_retry(quick()),
        )
        .with_tsa(
            TsaClient::new(
                &tsa_url,
                UreqTransport::new(),
                authorities.timestamp_authorities.clone(),
            )
            .with_retry(quick()),
        )
    };
    let store2 = std::sync::Arc::new(MemoryStore::new());
    let attestor2 = Attestor::builder(again(), Box::new(store2.clone()))
        .log(v2())
        .build();

    g.bench_function("attest/v1_loopback", |b| {
        b.iter(|| attestor1.attest("acme", "app", statement()).unwrap());
    });
    g.bench_function("attest/v2_loopback_with_timestamp", |b| {
        b.iter(|| attestor2.attest("acme", "app", statement()).unwrap());
    });
    let row1 = attestor1.attest("acme", "audited", statement()).unwrap();
    let row1 = store1.get(&row1.id).unwrap().unwrap();
    let row2 = attestor2.attest("acme", "audited", statement()).unwrap();
    let row2 = store2.get(&row2.id).unwrap().unwrap();
    let auditor1 = Auditor::builder(keys(), Box::new(store1.clone()))
        .log(v1())
        .trust_current_tree(true)
        .build();
    let auditor2 = Auditor::builder(keys(), Box::new(store2.clone()))
        .log(v2())
        .authorities(authorities.clone())
        .trust_current_tree(true)
        .build();
    assert!(auditor1.audit_row(&row1).unwrap().passed());
    assert!(auditor2.audit_row(&row2).unwrap().passed());
    g.bench_function("audit_row/v1_loopback", |b| {
        b.iter(|| black_box(auditor1.audit_row(&row1).unwrap()));
    });
    g.bench_function("audit_row/v2_loopback_tiles", |b| {
        b.iter(|| black_box(auditor2.audit_row(&row2).unwrap()));
    });
    g.finish();
    server1.shutdown();
    server2.shutdown();
}

criterion_group!(
    benches,
    load::bench_http_load,
    bench_publish,
    bench_read,
    bench_v2,
    bench_pipeline
);

fn main() {
    // The load generator's server runs as this executable in another
    // process (see `load`).
    if load::serve_if_asked() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

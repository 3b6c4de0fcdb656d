//! attest-store against a bare prepared rusqlite INSERT on the same schema and
//! settings (WAL, synchronous=FULL), in the same run; PostgreSQL too when
//! `ATTEST_STORE_POSTGRES_URL` is set.
//!
//! `cargo bench -p attestlog-benches --bench store`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench code

use std::cell::Cell;
use std::hint::black_box;
use std::path::PathBuf;

use attest_store::{AttestationId, AttestationStore, NewAttestation, SqliteStore};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const ENVELOPE: &[u8] = &[b'e'; 800];

fn attestation(n: u64) -> NewAttestation {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&n.to_be_bytes());
    NewAttestation::new(
        AttestationId(id),
        format!("tenant-{}", n % 16),
        format!("app-{n}@sha256:{n:064x}"),
        "https://slsa.dev/provenance/v1",
        ENVELOPE.to_vec(),
        vec!["sha256:2f8d5f0b7c1e".into()],
        1_764_000_000,
    )
}

fn fresh_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("attestlog-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store.db");
    SqliteStore::open(&path).unwrap();
    path
}

fn raw_connection(path: &PathBuf) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c
}

const RAW_INSERT: &str = "INSERT INTO attestations (id, tenant, subject, predicate_type, envelope, signer_key_ids, claimed_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn raw_insert(stmt: &mut rusqlite::CachedStatement<'_>, a: &NewAttestation) {
    let key_ids = serde_json::to_string(&a.signer_key_ids).unwrap();
    stmt.execute(rusqlite::params![
        &a.id.0[..],
        a.tenant,
        a.subject,
        a.predicate_type,
        a.envelope,
        key_ids,
        a.claimed_time
    ])
    .unwrap();
}

fn put(c: &mut Criterion) {
    let store_path = fresh_db("put-store");
    let raw_path = fresh_db("put-raw");
    let store = SqliteStore::open(&store_path).unwrap();
    let raw = raw_connection(&raw_path);
    let n = Cell::new(0u64);
    let next = || {
        n.set(n.get() + 1);
        attestation(n.get())
    };

    let mut g = c.benchmark_group("put");
    g.bench_function("store_sqlite", |b| {
        b.iter_batched(next, |a| store.put(&a).unwrap(), BatchSize::SmallInput)
    });
    g.bench_function("raw_rusqlite", |b| {
        b.iter_batched(
            next,
            |a| raw_insert(&mut raw.prepare_cached(RAW_INSERT).unwrap(), &a),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("put_batch_1000");
    g.throughput(Throughput::Elements(1000));
    g.sample_size(20);
    let batch = || (0..1000).map(|_| next()).collect::<Vec<_>>();
    g.bench_function("store_sqlite", |b| {
        b.iter_batched(
            batch,
            |items| store.put_many(&items).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let mut raw = raw;
    g.bench_function("raw_rusqlite", |b| {
        b.iter_batched(
            batch,
            |items| {
                let tx = raw.transaction().unwrap();
                {
                    let mut stmt = tx.prepare_cached(RAW_INSERT).unwrap();
                    for a in &items {
                        raw_insert(&mut stmt, a);
                    }
                }
                tx.commit().unwrap();
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn lookups(c: &mut Criterion) {
    const ROWS: u64 = 1_000_000;
    let path = fresh_db("lookup");
    let store = SqliteStore::open(&path).unwrap();
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(10_000) {
        let items: Vec<_> = chunk.iter().map(|&n| attestation(n)).collect();
        store.put_many(&items).unwrap();
    }
    let i = Cell::new(0u64);
    let mut g = c.benchmark_group("get_by_subject");
    g.bench_function("sqlite", |b| {
        b.iter(|| {
            i.set((i.get() + 7_919) % ROWS);
            let a = attestation(i.get());
            let rows = store.by_subject(&a.tenant, black_box(&a.subject)).unwrap();
            assert_eq!(rows.len(), 1);
        })
    });
    if let Ok(url) = std::env::var("ATTEST_STORE_POSTGRES_URL") {
        let pg = attest_store::PostgresStore::open(&url).unwrap();
        const PG_ROWS: u64 = 100_000;
        if pg.get(&attestation(PG_ROWS - 1).id).unwrap().is_none() {
            for chunk in (0..PG_ROWS).collect::<Vec<_>>().chunks(5_000) {
                let items: Vec<_> = chunk.iter().map(|&n| attestation(n)).collect();
                pg.put_many(&items).unwrap();
            }
        }
        g.bench_function("postgres_100k", |b| {
            b.iter(|| {
                i.set((i.get() + 7_919) % PG_ROWS);
                let a = attestation(i.get());
                assert_eq!(
                    pg.by_subject(&a.tenant, black_box(&a.subject))
                        .unwrap()
                        .len(),
                    1
                );
            })
        });
    }
    g.finish();
}

fn put_postgres(c: &mut Criterion) {
    let Ok(url) = std::env::var("ATTEST_STORE_POSTGRES_URL") else {
        eprintln!("ATTEST_STORE_POSTGRES_URL not set: PostgreSQL benchmarks skipped");
        return;
    };
    let store = attest_store::PostgresStore::open(&url).unwrap();
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let insert = raw.prepare(&RAW_INSERT.replace('?', "$")).unwrap();
    let n = Cell::new(2_000_000_000u64 + u64::from(std::process::id()) * 10_000_000);
    let next = || {
        n.set(n.get() + 1);
        attestation(n.get())
    };
    let raw_insert = |raw: &mut postgres::Client, a: &NewAttestation| {
        let key_ids = serde_json::to_string(&a.signer_key_ids).unwrap();
        raw.execute(
            &insert,
            &[
                &&a.id.0[..],
                &a.tenant,
                &a.subject,
                &a.predicate_type,
                &a.envelope,
                &key_ids,
                &a.claimed_time,
            ],
        )
        .unwrap();
    };
    let mut g = c.benchmark_group("put");
    g.bench_function("store_postgres", |b| {
        b.iter_batched(next, |a| store.put(&a).unwrap(), BatchSize::SmallInput)
    });
    g.bench_function("raw_postgres", |b| {
        b.iter_batched(next, |a| raw_insert(&mut raw, &a), BatchSize::SmallInput)
    });
    g.finish();
    let mut g = c.benchmark_group("put_batch_1000");
    g.throughput(Throughput::Elements(1000));
    g.sample_size(10);
    let batch = || (0..1000).map(|_| next()).collect::<Vec<_>>();
    g.bench_function("store_postgres", |b| {
        b.iter_batched(
            batch,
            |items| store.put_many(&items).unwrap(),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("raw_postgres", |b| {
        b.iter_batched(
            batch,
            |items| {
                let mut tx = raw.transaction().unwrap();
                for a in &items {
                    let key_ids = serde_json::to_string(&a.signer_key_ids).unwrap();
                    tx.execute(
                        &insert,
                        &[
                            &&a.id.0[..],
                            &a.tenant,
                            &a.subject,
                            &a.predicate_type,
                            &a.envelope,
                            &key_ids,
                            &a.claimed_time,
                        ],
                    )
                    .unwrap();
                }
                tx.commit().unwrap();
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, put, put_postgres, lookups);
criterion_main!(benches);

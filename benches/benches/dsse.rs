//! attest-dsse envelopes against the bare signature primitive over the same
//! PAE bytes, in the same run.
//!
//! `cargo bench -p attestlog-benches --bench dsse`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench code

use std::hint::black_box;

use attest_dsse::{Algorithm, Envelope, SigningKey, Timestamp, Verifier, pae};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;

const T: &str = "application/vnd.in-toto+json";

fn payload() -> Vec<u8> {
    (0..1024u32).map(|i| (i % 251) as u8).collect()
}

fn verify(c: &mut Criterion) {
    let at = Timestamp::now();
    // Ed25519.
    let seed = [7u8; 32];
    let key = SigningKey::ed25519_from_seed(&seed);
    let env = Envelope::sign(T, payload(), &[&key]).unwrap();
    let verifier = Verifier::from_keys([key.public_key().clone()], 1).unwrap();
    let dalek = ed25519_dalek::SigningKey::from_bytes(&seed);
    let vk = dalek.verifying_key();
    let msg = pae(T, &payload());
    let sig = ed25519_dalek::Signature::from_slice(&env.signatures()[0].sig).unwrap();
    vk.verify_strict(&msg, &sig).unwrap();
    let mut g = c.benchmark_group("verify_ed25519_1k");
    g.throughput(Throughput::Elements(1));
    g.bench_function("envelope", |b| {
        b.iter(|| verifier.verify(black_box(&env), T, at).unwrap())
    });
    g.bench_function("raw", |b| {
        b.iter(|| vk.verify_strict(black_box(&msg), &sig).unwrap())
    });
    g.finish();

    // ECDSA P-256 (DER signatures, as Sigstore).
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let env = Envelope::sign(T, payload(), &[&key]).unwrap();
    let verifier = Verifier::from_keys([key.public_key().clone()], 1).unwrap();
    let pvk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&{
        // SPKI for P-256 ends with the 65-byte uncompressed point.
        let spki = key.public_key().spki_der();
        spki[spki.len() - 65..].to_vec()
    })
    .unwrap();
    let der = p256::ecdsa::Signature::from_der(&env.signatures()[0].sig).unwrap();
    pvk.verify(&msg, &der).unwrap();
    let mut g = c.benchmark_group("verify_p256_1k");
    g.throughput(Throughput::Elements(1));
    g.bench_function("envelope", |b| {
        b.iter(|| verifier.verify(black_box(&env), T, at).unwrap())
    });
    g.bench_function("raw", |b| {
        b.iter(|| pvk.verify(black_box(&msg), &der).unwrap())
    });
    g.finish();
}

fn sign(c: &mut Criterion) {
    let seed = [9u8; 32];
    let key = SigningKey::ed25519_from_seed(&seed);
    let dalek = ed25519_dalek::SigningKey::from_bytes(&seed);
    let msg = pae(T, &payload());
    let p = payload();
    let mut g = c.benchmark_group("sign_ed25519_1k");
    g.bench_function("envelope", |b| {
        b.iter(|| Envelope::sign(T, black_box(p.clone()), &[&key]).unwrap())
    });
    g.bench_function("raw", |b| b.iter(|| dalek.sign(black_box(&msg))));
    g.finish();
}

fn batch(c: &mut Criterion) {
    let at = Timestamp::now();
    let keys: Vec<SigningKey> = (0..10u8)
        .map(|i| {
            let k = SigningKey::ed25519_from_seed(&[i; 32]);
            let id = k.public_key().key_id();
            k.with_keyid(id)
        })
        .collect();
    let envs: Vec<Envelope> = (0..1000usize)
        .map(|i| {
            let mut p = payload();
            p[0] = i as u8;
            p[1] = (i >> 8) as u8;
            Envelope::sign(T, p, &[&keys[i % keys.len()]]).unwrap()
        })
        .collect();
    let verifier = Verifier::from_keys(keys.iter().map(|k| k.public_key().clone()), 1).unwrap();
    assert!(
        verifier
            .verify_batch_ed25519(&envs, T, at)
            .iter()
            .all(Result::is_ok)
    );
    let mut g = c.benchmark_group("verify_batch_ed25519");
    g.throughput(Throughput::Elements(envs.len() as u64));
    g.sample_size(20);
    g.bench_function("batch", |b| {
        b.iter(|| verifier.verify_batch_ed25519(black_box(&envs), T, at))
    });
    g.bench_function("single", |b| {
        b.iter(|| {
            envs.iter()
                .map(|e| verifier.verify(e, T, at))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, verify, sign, batch);
criterion_main!(benches);

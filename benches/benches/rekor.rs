//! Offline verification of real production bundles, whole and check by check.
//!
//! `cargo bench -p attestlog-benches --bench rekor`; compare with
//! `bash benches/sigstore-python-verify.sh` (sigstore-python on the same bundles).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // bench code

use std::hint::black_box;

use attest_dsse::Timestamp;
use attest_merkle::Hash;
use attest_rekor::verify::hazmat::{
    check_body_matches_envelope, verify_checkpoint, verify_inclusion_in, verify_set,
};
use attest_rekor::x509::certificate_public_key;
use attest_rekor::{
    Artifact, Bundle, EntryBody, NotVerified, Policy, SignerPolicy, TrustedRoot, Verified, Verifier,
};
use base64ct::{Base64, Encoding};
use criterion::{Criterion, criterion_group, criterion_main};
use der::{Decode, Encode};

fn read(name: &str) -> Vec<u8> {
    attestlog_testkit::vector(name)
}

/// Verifies with a verifier that has not seen the bundle (its checkpoint
/// memo empty; the root's parsed keys shared, as in a long-lived service):
/// the cost of one new bundle, not of a memo hit.
fn unseen(
    root: &TrustedRoot,
    bundle: &Bundle,
    artifact: &Artifact,
    policy: &Policy,
) -> Result<Verified, NotVerified> {
    Verifier::new(root.clone()).verify(bundle, artifact, policy)
}

fn bench(c: &mut Criterion) {
    let full = TrustedRoot::from_json(&read("trusted_root.json")).unwrap();
    // The key-pinned runs trust the logs alone (no authorities needed).
    let keyed = TrustedRoot::from_logs(full.logs().to_vec());
    let logs = full.logs().to_vec();
    let dsse = Bundle::from_json(&read("prod-v1-dsse-v001.sigstore.json")).unwrap();
    let hashed =
        Bundle::from_json(&read("prod-v1-hashedrekord-v001-pubkey.sigstore.json")).unwrap();
    // The signers pinned (the certificate's key; the managed key), and the
    // artifacts named (the statement's subject; the message digest).
    let cert_key = certificate_public_key(&dsse.certificate_der().unwrap().unwrap()).unwrap();
    let dsse_policy = Policy::new(SignerPolicy::Key(cert_key), Timestamp::now());
    let dsse_artifact = Artifact::parse_digest(
        "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    )
    .unwrap();
    let managed = attest_rekor::x509::public_key_from_pem(
        "-----BEGIN PUBLIC KEY-----\n\
         MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExRRST79+PsrRBnGAI4cMu6Omz2Jh\n\
         fwlMW+gIutNKVRaMyS4rQKvgngc5p8UbLj55pVHhIoAxi/SRgURZI0J3Xw==\n\
         -----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let hashed_policy = Policy::new(SignerPolicy::Key(managed), Timestamp::now());
    let hashed_artifact = dsse_artifact.clone(); // both sign a.txt of sigstore-conformance
    unseen(&keyed, &dsse, &dsse_artifact, &dsse_policy).unwrap();
    unseen(&keyed, &hashed, &hashed_artifact, &hashed_policy).unwrap();

    // Keyless: the same dsse bundle under an identity policy, its Fulcio
    // certificate chained to the trusted root, its SCT verified.
    let keyless_policy = Policy::new(
        SignerPolicy::identity(
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            "https://token.actions.githubusercontent.com",
        ),
        Timestamp::now(),
    );
    unseen(&full, &dsse, &dsse_artifact, &keyless_policy).unwrap();

    let mut g = c.benchmark_group("bundle_verify");
    g.bench_function("prod_dsse_keyless", |b| {
        b.iter(|| unseen(&full, black_box(&dsse), &dsse_artifact, &keyless_policy))
    });
    g.bench_function("prod_dsse", |b| {
        b.iter(|| unseen(&keyed, black_box(&dsse), &dsse_artifact, &dsse_policy))
    });
    g.bench_function("prod_hashedrekord", |b| {
        b.iter(|| unseen(&keyed, black_box(&hashed), &hashed_artifact, &hashed_policy))
    });

    // The breakdown, on the dsse bundle.
    let e = &dsse.verification_material.tlog_entries[0];
    let log = &logs[logs
        .iter()
        .position(|l| l.name == "rekor.sigstore.dev")
        .unwrap()];
    let t: i64 = e.integrated_time.as_ref().unwrap().parse().unwrap();
    let idx: u64 = e.log_index.parse().unwrap();
    let set =
        Base64::decode_vec(&e.inclusion_promise.as_ref().unwrap().signed_entry_timestamp).unwrap();
    let p = e.inclusion_proof.as_ref().unwrap();
    let body = Base64::decode_vec(&e.canonicalized_body).unwrap();
    let cp = verify_checkpoint(&p.checkpoint.envelope, log).unwrap();
    let hashes: Vec<Hash> = p
        .hashes
        .iter()
        .map(|h| Hash::from_base64(h).unwrap())
        .collect();
    let root = Hash::from_base64(&p.root_hash).unwrap();
    let (shard, size): (u64, u64) = (p.log_index.parse().unwrap(), p.tree_size.parse().unwrap());
    let env = dsse.envelope().unwrap().unwrap();
    let parsed_body = EntryBody::parse(&body).unwrap();
    g.bench_function("set", |b| {
        b.iter(|| verify_set(log, black_box(&e.canonicalized_body), t, idx, &set).unwrap())
    });
    g.bench_function("checkpoint_sig", |b| {
        b.iter(|| verify_checkpoint(black_box(&p.checkpoint.envelope), log).unwrap())
    });
    g.bench_function("inclusion", |b| {
        b.iter(|| verify_inclusion_in(&cp, black_box(&body), shard, size, &root, &hashes).unwrap())
    });
    g.bench_function("body_match", |b| {
        b.iter(|| check_body_matches_envelope(black_box(&parsed_body), &env).unwrap())
    });
    g.finish();

    // The primitive that dominates keyless verification: the Fulcio
    // intermediate's P-384 signature (ecdsa-with-SHA384) on the leaf, and
    // one P-256 signature, through each provider compiled in.
    let leaf_der = dsse.certificate_der().unwrap().unwrap();
    let leaf = x509_cert::Certificate::from_der(&leaf_der).unwrap();
    let tbs = leaf.tbs_certificate().to_der().unwrap();
    let sig = leaf.signature().raw_bytes().to_vec();
    let fulcio = full
        .authorities()
        .certificate_authorities
        .iter()
        .find(|c| c.valid_until.is_none())
        .unwrap();
    let inter = x509_cert::Certificate::from_der(fulcio.chain_der().next().unwrap()).unwrap();
    let inter_key = attest_dsse::PublicKey::from_spki_der(
        &inter
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap(),
    )
    .unwrap();
    let signer_key = certificate_public_key(&leaf_der).unwrap();
    let pae = env.pae();
    let dsse_sig = env.signatures()[0].sig.clone();
    let mut g = c.benchmark_group("ecdsa_verify");
    for &p in attest_dsse::Provider::ALL {
        assert!(inter_key.verifies_hashed_with(p, attest_dsse::EcdsaHash::Sha384, &tbs, &sig));
        g.bench_function(format!("p384_sha384/{p:?}"), |b| {
            b.iter(|| {
                inter_key.verifies_hashed_with(
                    p,
                    attest_dsse::EcdsaHash::Sha384,
                    black_box(&tbs),
                    &sig,
                )
            })
        });
        g.bench_function(format!("p256_sha256/{p:?}"), |b| {
            b.iter(|| signer_key.verifies_with(p, black_box(&pae), &dsse_sig))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

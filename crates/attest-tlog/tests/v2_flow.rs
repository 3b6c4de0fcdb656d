//! The whole Rekor v2 flow offline over loopback: the embedded tile log and
//! the embedded RFC 3161 TSA on one server; a message signature and a DSSE
//! envelope published, their signatures timestamped, Sigstore bundles v0.3
//! built from what the services returned, and each bundle verified against
//! the trusted root the log prints — and refused without its timestamp,
//! with another TSA's, or for another artifact.

#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attest_dsse::{Algorithm, Envelope, SigningKey, Timestamp};
use attest_issue::TimestampAuthority;
use attest_rekor::TrustedRoot;
use attest_rekor::bundle::{Bundle, VerificationMaterial};
use attest_rekor::v2::V2Request;
use attest_rekor::verify::{Artifact, Check, Policy, SignerPolicy, TimeSource, Verifier};
use attest_tlog::{TIMESTAMP_PATH, TileLog, TileLogOptions, TsaService, V2Services, serve_handler};
use attestlog_testkit::TempDir;
use rekor_client::UreqTransport;
use rekor_client::tsa::TsaClient;
use rekor_client::v2::RekorV2Client;
use sha2::{Digest, Sha256};

#[test]
fn publish_timestamp_bundle_verify() {
    let tmp = TempDir::new("v2-flow");
    let log = TileLog::open(
        &tmp.file("log"),
        SigningKey::ed25519_from_seed(&[5; 32]),
        TileLogOptions::default().with_name("v2.attestlog.test"),
    )
    .unwrap();
    let tsa = TsaService::open(&tmp.file("tsa"), "tsa.attestlog.test").unwrap();
    let server = serve_handler(
        V2Services {
            log: log.clone(),
            tsa: Some(tsa.clone()),
        },
        "127.0.0.1:0",
        64,
    )
    .unwrap();
    let url = format!("http://{}", server.local_addr());
    let tsa_url = format!("{url}{TIMESTAMP_PATH}");
    let root = serde_json::to_vec(&log.trusted_root(&url, Some((&tsa, &tsa_url)))).unwrap();
    // The client's trust comes from the trusted root alone, whose log URL's
    // host (127.0.0.1:port) is not the log's key name.
    let logs = TrustedRoot::from_json(&root)
        .map(TrustedRoot::into_logs)
        .unwrap();
    let authorities = TrustedRoot::from_json(&root)
        .map(TrustedRoot::into_authorities)
        .unwrap();
    let rekor = RekorV2Client::new(&url, UreqTransport::new(), logs.clone());
    let tsa_client = TsaClient::new(
        &tsa_url,
        UreqTransport::new(),
        authorities.timestamp_authorities.clone(),
    );
    let signer = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let verifier = Verifier::new(TrustedRoot::from_json(&root).unwrap());
    let policy = |now| Policy::new(SignerPolicy::Key(signer.public_key().clone()), now);

    // A message signature.
    let artifact = b"release tarball";
    let digest: [u8; 32] = Sha256::digest(artifact).into();
    let sig = signer.sign(artifact);
    let published = rekor
        .publish(&V2Request::message(digest, sig.clone(), signer.public_key()).unwrap())
        .unwrap();
    let stamp = tsa_client.timestamp(&sig).unwrap();
    let material = |with_ts: bool| {
        let m = VerificationMaterial::with_key_hint("signer", vec![published.entry.clone()]);
        if with_ts {
            m.with_rfc3161_timestamps(std::slice::from_ref(&stamp.response))
        } else {
            m
        }
    };
    let bundle = Bundle::v03_message(material(true), &digest, &sig);
    let json = bundle.to_json();
    let bundle = Bundle::from_json(json.as_bytes()).unwrap();
    let v = verifier
        .verify(
            &bundle,
            &Artifact::of_bytes(artifact),
            &policy(Timestamp::now()),
        )
        .unwrap();
    assert!(
        v.times
            .iter()
            .any(|t| matches!(t.source, TimeSource::Rfc3161 { .. })),
        "{:?}",
        v.times
    );
    // A bundle without messageDigest (sigstore-python writes none): the
    // artifact's digest stands in, and only the body and signature bind it.
    let mut no_digest = bundle.clone();
    no_digest.message_signature.as_mut().unwrap().message_digest = None;
    let no_digest = Bundle::from_json(no_digest.to_json().as_bytes()).unwrap();
    verifier
        .verify(
            &no_digest,
            &Artifact::of_bytes(artifact),
            &policy(Timestamp::now()),
        )
        .unwrap();
    let e = verifier
        .verify(
            &no_digest,
            &Artifact::of_bytes(b"other"),
            &policy(Timestamp::now()),
        )
        .unwrap_err();
    let failed: Vec<Check> = e
        .report
        .checks
        .iter()
        .filter(|c| c.outcome == attest_rekor::verify::Outcome::Failed)
        .map(|c| c.check)
        .collect();
    assert!(
        failed.contains(&Check::Artifact) && failed.contains(&Check::BodyMatch),
        "{failed:?}"
    );
    // … and with no artifact named at all, nothing is verified.
    assert!(
        verifier
            .verify_envelope(&no_digest, &policy(Timestamp::now()))
            .is_err()
    );
    // Without the timestamp there is no verified time.
    let bare = Bundle::v03_message(material(false), &digest, &sig);
    let e = verifier
        .verify(
            &bare,
            &Artifact::of_bytes(artifact),
            &policy(Timestamp::now()),
        )
        .unwrap_err();
    assert_eq!(e.first.check, Check::Time, "{e}");
    // Another artifact.
    let e = verifier
        .verify(
            &bundle,
            &Artifact::of_bytes(b"other"),
            &policy(Timestamp::now()),
        )
        .unwrap_err();
    assert_eq!(e.first.check, Check::Artifact, "{e}");
    // A timestamp from a TSA the root does not list.
    let rogue = TsaService::new(
        TimestampAuthority::generate("rogue", Timestamp::from_unix(1_700_000_000)).unwrap(),
        Timestamp::from_unix(1_700_000_000),
    )
    .unwrap();
    let rogue_req = attest_rekor::tsp::timestamp_request(&sig, 1);
    let rogue_resp = rogue
        .authority()
        .respond(&rogue_req, Timestamp::now(), 9)
        .unwrap();
    let forged = Bundle::v03_message(
        VerificationMaterial::with_key_hint("signer", vec![published.entry.clone()])
            .with_rfc3161_timestamps(&[rogue_resp]),
        &digest,
        &sig,
    );
    assert!(
        verifier
            .verify(
                &forged,
                &Artifact::of_bytes(artifact),
                &policy(Timestamp::now())
            )
            .is_err()
    );
    // The TSA client refuses the rogue TSA's answer as its own.
    let rogue_server = serve_handler(
        V2Services {
            log: log.clone(),
            tsa: Some(rogue),
        },
        "127.0.0.1:0",
        8,
    )
    .unwrap();
    let rogue_client = TsaClient::new(
        format!("http://{}{TIMESTAMP_PATH}", rogue_server.local_addr()),
        UreqTransport::new(),
        authorities.timestamp_authorities.clone(),
    );
    assert!(rogue_client.timestamp(&sig).is_err());

    // A DSSE envelope, logged as hashedrekord 0.0.2 over its PAE.
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app", "digest": {"sha256": base16ct::lower::encode_string(&digest)}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    });
    let env = Envelope::sign(
        "application/vnd.in-toto+json",
        serde_json::to_vec(&statement).unwrap(),
        &[&signer],
    )
    .unwrap();
    let p = rekor
        .publish(&V2Request::dsse(&env, signer.public_key()).unwrap())
        .unwrap();
    let stamp = tsa_client.timestamp(&env.signatures()[0].sig).unwrap();
    let b = Bundle::v03_dsse(
        VerificationMaterial::with_key_hint("signer", vec![p.entry.clone()])
            .with_rfc3161_timestamps(&[stamp.response]),
        env.to_json().as_bytes(),
    )
    .unwrap();
    let b = Bundle::from_json(b.to_json().as_bytes()).unwrap();
    verifier
        .verify(&b, &Artifact::of_bytes(artifact), &policy(Timestamp::now()))
        .unwrap();
    // Not back-dated, against the timestamp's genTime (a v2 log keeps no
    // time): claimed <= genTime <= claimed + window, and nothing else.
    let gen_time = stamp.verified.gen_time.unix();
    let claimed = |t: i64| {
        let p = policy(Timestamp::now()).with_claimed_time(t, 300);
        verifier
            .verify(&b, &Artifact::of_bytes(artifact), &p)
            .map(|_| ())
    };
    claimed(gen_time).unwrap();
    claimed(gen_time - 300).unwrap();
    for late_or_early in [gen_time + 1, gen_time - 301] {
        let e = claimed(late_or_early).unwrap_err();
        assert_eq!(e.first.check, Check::NotBackdated, "{late_or_early}: {e}");
        assert_eq!(
            e.report.first_failure().map(|c| c.check),
            Some(Check::NotBackdated)
        );
    }
    // Without the timestamp there is no time to confirm a claim against.
    let bare = Bundle::v03_dsse(
        VerificationMaterial::with_key_hint("signer", vec![p.entry.clone()]),
        env.to_json().as_bytes(),
    )
    .unwrap();
    let p = policy(Timestamp::now()).with_claimed_time(gen_time, 300);
    let e = verifier
        .verify(&bare, &Artifact::of_bytes(artifact), &p)
        .unwrap_err();
    assert_eq!(
        e.report.outcome(Check::NotBackdated),
        Some(attest_rekor::Outcome::Failed)
    );
    server.shutdown();
    rogue_server.shutdown();
}

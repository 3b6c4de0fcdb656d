//! End to end over loopback: `attestlog log serve` in a temp dir; the CLI's
//! `rekor publish / get / info / consistency`, the blocking client over ureq
//! and the async client over reqwest all publish, re-publish (409), fetch by
//! id and by index, and verify inclusion and consistency; the server is
//! killed with SIGKILL and restarted on the same directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use common::{Served, bin, serve};

use attest_dsse::{Envelope, PublicKey, SigningKey};
use attest_rekor::{EntryId, TrustedLog};
use rekor_client::{AsyncRekorClient, RekorClient, ReqwestTransport, UreqTransport};
use serde_json::Value;

fn run(args: &[&str], trust: &Served) -> (i32, Value) {
    let out = bin()
        .args(args)
        .args([
            "--rekor-url",
            &trust.url,
            "--log-name",
            "attestlog.local",
            "--log-key",
        ])
        .arg(&trust.public_key)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v = serde_json::from_str(stdout.lines().next().unwrap_or("null")).unwrap_or(Value::Null);
    (out.status.code().unwrap(), v)
}

fn trusted(s: &Served) -> Vec<TrustedLog> {
    let pem = std::fs::read_to_string(&s.public_key).unwrap();
    let mut log = TrustedLog::rekor_v1(&s.url, PublicKey::from_pem(&pem).unwrap());
    log.name = "attestlog.local".into();
    vec![log]
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[21; 32])
}

fn envelope(n: u64) -> Envelope {
    Envelope::sign(
        "application/vnd.in-toto+json",
        format!("{{\"n\":{n}}}").into_bytes(),
        &[&signer()],
    )
    .unwrap()
}

#[test]
fn serve_publish_fetch_and_prove_through_the_cli_and_both_adapters() {
    let tmp = attestlog_testkit::TempDir::created("serve");
    let dir = tmp.path().to_path_buf();
    let key_file = dir.join("signer.pem");
    std::fs::write(&key_file, signer().to_pkcs8_pem().unwrap()).unwrap();
    let env_file = dir.join("envelope.json");
    std::fs::write(&env_file, envelope(0).to_json()).unwrap();
    let logdir = dir.join("log");
    let served = serve(&logdir);
    let key = key_file.to_str().unwrap();
    let env_path = env_file.to_str().unwrap();

    // The CLI: publish, re-publish (409 → the same verified entry).
    let (code, first) = run(&["rekor", "publish", "--key", key, env_path], &served);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["verified"], true);
    assert_eq!(first["alreadyExisted"], false);
    let (code, again) = run(&["rekor", "publish", "--key", key, env_path], &served);
    assert_eq!(code, 0);
    assert_eq!(again["alreadyExisted"], true);
    assert_eq!(again["entryId"], first["entryId"]);
    let id = first["entryId"].as_str().unwrap().to_owned();
    let (code, got) = run(&["rekor", "get", &id], &served);
    assert_eq!((code, &got["verified"]), (0, &Value::Bool(true)), "{got}");
    let (code, got) = run(&["rekor", "get", "--index", "0"], &served);
    assert_eq!((code, got["entryId"].as_str()), (0, Some(id.as_str())));
    let (code, info) = run(&["rekor", "info"], &served);
    assert_eq!((code, info["treeSize"].as_u64()), (0, Some(1)));
    let cp_file = dir.join("checkpoint-1.txt");
    std::fs::write(&cp_file, info["signedTreeHead"].as_str().unwrap()).unwrap();

    // The blocking client over ureq.
    let k = signer();
    let sync = RekorClient::new(&served.url, UreqTransport::new(), trusted(&served));
    let mut ids = vec![EntryId::parse(&id).unwrap()];
    for n in 1..6 {
        let p = sync.publish_dsse(&envelope(n), k.public_key()).unwrap();
        assert!(!p.already_existed && p.verified.report.all_passed());
        ids.push(p.entry.id);
    }
    assert!(
        sync.publish_dsse(&envelope(2), k.public_key())
            .unwrap()
            .already_existed
    );
    let (_, cp6) = sync.log_info().unwrap();
    assert_eq!(cp6.size, 6);
    sync.get_verified(&ids[3], &envelope(3), k.public_key())
        .unwrap();
    assert_eq!(sync.get_entry_by_index(4).unwrap().id, ids[4]);
    assert_eq!(sync.retrieve(&ids).unwrap().len(), 6);

    // The async client over reqwest.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cp_async = rt.block_on(async {
        let c = AsyncRekorClient::new(
            &served.url,
            ReqwestTransport::new().unwrap(),
            trusted(&served),
        );
        for n in 6..10 {
            let p = c.publish_dsse(&envelope(n), k.public_key()).await.unwrap();
            assert!(!p.already_existed && p.verified.report.all_passed());
        }
        let p = c.publish_dsse(&envelope(1), k.public_key()).await.unwrap();
        assert!(p.already_existed);
        assert_eq!(p.entry.id, ids[1]);
        let p = c
            .get_verified(&ids[5], &envelope(5), k.public_key())
            .await
            .unwrap();
        assert_eq!(p.entry.log_index, 5);
        assert_eq!(c.get_entry_by_index(0).await.unwrap().id, ids[0]);
        let (_, cp) = c.log_info().await.unwrap();
        assert_eq!(cp.size, 10);
        c.prove_consistency(&cp6, &cp).await.unwrap();
        // Spawned on the runtime: the futures are Send.
        let handle = tokio::spawn(async move {
            let c = AsyncRekorClient::new(
                c.base_url().to_owned(),
                ReqwestTransport::new().unwrap(),
                c.trusted_logs().to_vec(),
            );
            c.log_info().await.map(|(_, cp)| cp.size)
        });
        assert_eq!(handle.await.unwrap().unwrap(), 10);
        cp
    });
    let (code, cons) = run(
        &["rekor", "consistency", "--from", cp_file.to_str().unwrap()],
        &served,
    );
    assert_eq!(code, 0, "{cons}");
    assert_eq!(cons["to"]["treeSize"], 10);

    // SIGKILL the server and restart it: everything acknowledged is there.
    drop(served);
    let served = serve(&logdir);
    let sync = RekorClient::new(&served.url, UreqTransport::new(), trusted(&served));
    let (_, cp) = sync.log_info().unwrap();
    assert_eq!(cp.size, 10);
    sync.prove_consistency(&cp_async, &cp).unwrap();
    for (n, id) in ids.iter().enumerate() {
        sync.get_verified(id, &envelope(n as u64), k.public_key())
            .unwrap();
    }
    let (code, cons) = run(
        &["rekor", "consistency", "--from", cp_file.to_str().unwrap()],
        &served,
    );
    assert_eq!(code, 0, "{cons}");
    drop(served);
}

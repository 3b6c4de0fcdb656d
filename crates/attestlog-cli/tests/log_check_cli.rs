//! `attestlog log check` and `attestlog log repair` on a real log directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::path::Path;

use attest_dsse::{Envelope, SigningKey};
use attest_tlog::{LocalLog, LogOptions};
use common::bin;
use serde_json::Value;

fn run(args: &[&str], dir: &Path) -> (Option<i32>, Value, String) {
    let o = bin().args(args).arg(dir).output().unwrap();
    let v = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (
        o.status.code(),
        v,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x10;
    std::fs::write(path, b).unwrap();
}

#[test]
fn check_reports_and_repair_rebuilds_only_what_is_derived() {
    let tmp = attestlog_testkit::TempDir::created("log-check");
    let dir = tmp.path().join("log");
    {
        let log = LocalLog::open(
            &dir,
            SigningKey::ed25519_from_seed(&[3; 32]),
            LogOptions::default(),
        )
        .unwrap();
        let c = rekor_client::RekorClient::new(
            "http://attestlog.local",
            log.clone(),
            vec![log.trusted_log()],
        );
        let s = SigningKey::ed25519_from_seed(&[4; 32]);
        for n in 0..10 {
            let env = Envelope::sign("text/plain", format!("e{n}").into_bytes(), &[&s]).unwrap();
            c.publish_dsse(&env, s.public_key()).unwrap();
        }
        // log-public.pem is written beside the log: the signature is checked.
        std::fs::write(dir.join("log-public.pem"), log.public_key().to_pem()).unwrap();
    }
    let (code, v, _) = run(&["log", "check"], &dir);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        (v["records"].as_u64(), v["acknowledged"].as_u64()),
        (Some(10), Some(10))
    );
    assert_eq!(v["checkpointSignature"], "verified");
    assert_eq!(v["healthy"], true);

    // A damaged derived file: reported, repaired, healthy again.
    flip(&dir.join("tree.dat"), 40);
    let (code, v, _) = run(&["log", "check"], &dir);
    assert_eq!(code, Some(1));
    assert!(v["treeMismatches"].as_u64().unwrap() >= 1, "{v}");
    assert_eq!(v["repairable"], true);
    let (code, v, _) = run(&["log", "repair"], &dir);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        (v["size"].as_u64(), v["rebuiltDerived"].as_bool()),
        (Some(10), Some(true))
    );
    assert_eq!(run(&["log", "check"], &dir).0, Some(0));

    // A damaged record: reported with its entry and offset; repair refuses
    // and leaves entries.log as it was.
    let entries = dir.join("entries.log");
    let len = std::fs::metadata(&entries).unwrap().len() as usize;
    flip(&entries, len / 2);
    let before = std::fs::read(&entries).unwrap();
    let (code, v, _) = run(&["log", "check"], &dir);
    assert_eq!(code, Some(1));
    let damage = v["damage"].as_str().unwrap();
    assert!(
        damage.contains("entries.log") && damage.contains("offset"),
        "{damage}"
    );
    assert_eq!(v["repairable"], false);
    let (code, v, err) = run(&["log", "repair"], &dir);
    assert_eq!(code, Some(1), "{v}");
    assert!(err.contains("entry") && err.contains("offset"), "{err}");
    assert_eq!(std::fs::read(&entries).unwrap(), before);
    // And the log itself refuses to start.
    assert!(
        LocalLog::open(
            &dir,
            SigningKey::ed25519_from_seed(&[3; 32]),
            LogOptions::default()
        )
        .is_err()
    );

    // Not a log: exit 2.
    let (code, _, _) = run(&["log", "check"], tmp.path());
    assert_eq!(code, Some(2));
}

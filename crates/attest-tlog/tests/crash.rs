//! Crash safety of the embedded log: a child process publishes from several
//! threads and is killed with SIGKILL at random moments; after every restart
//! each acknowledged entry is present and provable, the new checkpoint is
//! consistent with every earlier one, and the log keeps accepting entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attest_dsse::{Envelope, SigningKey};
use attest_rekor::EntryId;
use attest_rekor::verify::VerifiedCheckpoint;
use attest_tlog::{LocalLog, LogOptions};
use attestlog_testkit::child::{self, Running};
use attestlog_testkit::{Lcg, TempDir};
use rekor_client::RekorClient;

/// The log key (P-256, as Rekor's), written by the parent for its children.
fn log_key(dir: &std::path::Path) -> SigningKey {
    let path = dir.join("test-log-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return SigningKey::from_pkcs8_pem(&pem).unwrap();
    }
    let k = SigningKey::generate(attest_dsse::Algorithm::EcdsaP256Sha256).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&path, k.to_pkcs8_pem().unwrap()).unwrap();
    k
}

fn signer() -> SigningKey {
    SigningKey::ed25519_from_seed(&[9; 32])
}

fn envelope(n: u64) -> Envelope {
    Envelope::sign(
        "text/plain",
        format!("crash {n}").into_bytes(),
        &[&signer()],
    )
    .unwrap()
}

fn client(log: &LocalLog) -> RekorClient<LocalLog> {
    RekorClient::new(
        "http://attestlog.local",
        log.clone(),
        vec![log.trusted_log()],
    )
}

/// Child: four threads publish forever, printing every acknowledged entry.
#[test]
#[ignore = "run as a child process by acknowledged_entries_survive_sigkill"]
fn child_publisher() {
    let Ok(dir) = std::env::var("ATTEST_CHILD_LOG") else {
        return;
    };
    let start: u64 = std::env::var("ATTEST_CHILD_START")
        .unwrap()
        .parse()
        .unwrap();
    let dir = PathBuf::from(dir);
    let log = LocalLog::open(&dir, log_key(&dir), LogOptions::default()).unwrap();
    let out = Arc::new(Mutex::new(std::io::stdout()));
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let log = log.clone();
            let out = Arc::clone(&out);
            s.spawn(move || {
                let c = client(&log);
                let key = signer();
                for i in 0.. {
                    let n = start + t * 10_000 + i;
                    let p = c.publish_dsse(&envelope(n), key.public_key()).unwrap();
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ACK {n} {}", p.entry.id).unwrap();
                    o.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn acknowledged_entries_survive_sigkill() {
    let tmp = TempDir::new("crash");
    let dir = tmp.path().to_path_buf();
    log_key(&dir);
    let mut acked: Vec<(u64, EntryId)> = Vec::new();
    let mut checkpoints: Vec<VerifiedCheckpoint> = Vec::new();
    let mut rng = Lcg(0xc0ffee);
    let key = signer();
    let rounds = 15;
    for round in 0..rounds {
        let mut child = Running::spawn(child::command(
            "child_publisher",
            &[
                ("ATTEST_CHILD_LOG", dir.display().to_string()),
                ("ATTEST_CHILD_START", (round * 1_000_000).to_string()),
            ],
        ));
        // Wait for the first acknowledgement (an event, however slow the
        // machine), then kill at a random moment after it.
        child.wait_for_line(|l| l.starts_with("ACK "), Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(rng.next(300)));
        let lines = child.kill(); // SIGKILL
        let before = acked.len();
        let earlier = before;
        for line in &lines {
            let mut parts = line.split(' ');
            if parts.next() != Some("ACK") {
                continue;
            }
            let (Some(n), Some(id)) = (parts.next(), parts.next()) else {
                continue;
            };
            acked.push((n.parse().unwrap(), EntryId::parse(id).unwrap()));
        }
        assert!(
            acked.len() > before,
            "round {round}: the child acknowledged nothing"
        );

        let (log, report) =
            LocalLog::open_with_report(&dir, log_key(&dir), LogOptions::default()).unwrap();
        let c = client(&log);
        assert!(report.size >= acked.len() as u64, "round {round}");
        // Every entry acknowledged in this round is fetched and fully
        // verified; entries of earlier rounds were verified in their round and
        // are covered by the consistency proofs below (a sample is re-checked).
        let sample = (0..20).map(|_| rng.next(earlier.max(1) as u64) as usize);
        let this_round = earlier..acked.len();
        for i in this_round.chain(sample.filter(|&i| i < earlier)) {
            let (n, id) = &acked[i];
            let p = c.get_verified(id, &envelope(*n), key.public_key());
            assert!(
                p.is_ok(),
                "round {round}: acknowledged entry {n} lost: {p:?}"
            );
        }
        let (_, now) = c.log_info().unwrap();
        for old in &checkpoints {
            c.prove_consistency(old, &now)
                .unwrap_or_else(|e| panic!("round {round}: {} -> {}: {e}", old.size, now.size));
        }
        // Still accepting entries.
        c.publish_dsse(&envelope(u64::MAX - round), key.public_key())
            .unwrap();
        let (_, after) = c.log_info().unwrap();
        c.prove_consistency(&now, &after).unwrap();
        checkpoints.push(now);
        checkpoints.push(after);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! The witnessed flow from the shell, as the README shows it: two
//! `attestlog witness serve`, a Rekor v1 and a Rekor v2 `log serve`, each
//! log gathering 2 of 2 cosignatures; `audit --witness … --witness …`
//! passes on both; `audit --completeness` reports a row deleted from either
//! store; a v2 log that forks (same key and name, another history) gets no
//! cosignature — the witnesses refuse, the log says so on stderr — and the
//! auditor with the 2-of-2 policy fails it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{bin, spawn_listening};
use http::Request;
use rekor_client::{Transport, UreqTransport};
use serde_json::Value;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = bin().args(args).output().unwrap();
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

fn log_serve(dir: &Path, api: &str, extra: &[String]) -> Command {
    let mut cmd = bin();
    cmd.args([
        "log",
        "serve",
        "--rekor-api",
        api,
        "--addr",
        "127.0.0.1:0",
        "--dir",
    ])
    .arg(dir)
    .args(extra);
    cmd
}

fn start(cmd: Command) -> (Killed, Value) {
    let (child, v) = spawn_listening(cmd);
    (Killed(child), v)
}

fn get(url: &str) -> String {
    let r = UreqTransport::new()
        .send(
            Request::get(url).body(vec![]).unwrap(),
            Duration::from_secs(10),
        )
        .unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    String::from_utf8(r.body().clone()).unwrap()
}

/// The checkpoint a log serves now.
fn served_checkpoint(v: &Value) -> String {
    let url = v["listening"].as_str().unwrap();
    if v["api"] == 2 {
        get(&format!("{url}/checkpoint"))
    } else {
        let info: Value = serde_json::from_str(&get(&format!("{url}/api/v1/log"))).unwrap();
        info["signedTreeHead"].as_str().unwrap().to_owned()
    }
}

/// Waits until the log serves a checkpoint of `size` entries with its own
/// signature and `n` cosignatures (the witnesses answer in the background).
fn wait_cosigned(v: &Value, size: u64, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let note = served_checkpoint(v);
        let lines: Vec<&str> = note.lines().collect();
        let at = lines.get(1).and_then(|l| l.parse::<u64>().ok());
        let sigs = lines.iter().filter(|l| l.starts_with('\u{2014}')).count();
        if at == Some(size) && sigs == 1 + n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {n} cosignatures at size {size}: {note}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `attestlog attest` of subject `n`, signed with `key`, to the log the
/// flags `log` name; it must succeed.
fn attest(n: u32, key: &Path, predicate: &Path, log: &[String]) {
    let s = format!("app@sha256:{n:064x}");
    let mut args: Vec<&str> = vec![
        "attest",
        "--tenant",
        "acme",
        "--subject",
        &s,
        "--predicate-type",
        "https://example.com/p",
        "--predicate",
        predicate.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    args.extend(log.iter().map(String::as_str));
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
}

/// The flags naming the v2 log that printed `v` (its URL, trusted root and
/// TSA), with the store `db`.
fn v2_flags(v: &Value, db: &str) -> Vec<String> {
    let field = |k: &str| v[k].as_str().unwrap().to_owned();
    vec![
        "--rekor-url".into(),
        field("listening"),
        "--rekor-api".into(),
        "2".into(),
        "--trusted-root".into(),
        field("trustedRoot"),
        "--tsa-url".into(),
        field("tsaUrl"),
        "--db".into(),
        db.to_owned(),
    ]
}

fn witness(dir: &Path, name: &str, logs: &[String]) -> (Killed, String, String) {
    let mut cmd = bin();
    cmd.args([
        "witness",
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--name",
        name,
        "--dir",
    ])
    .arg(dir);
    for l in logs {
        cmd.args(["--log", l]);
    }
    let (k, v) = start(cmd);
    (
        k,
        v["listening"].as_str().unwrap().to_owned(),
        v["vkey"].as_str().unwrap().to_owned(),
    )
}

#[test]
#[allow(clippy::too_many_lines)] // one flow, told in order
fn two_witnesses_two_logs_audits_completeness_and_a_fork() {
    let tmp = attestlog_testkit::TempDir::created("witnessed-cli");
    let (v1_dir, v2_dir) = (tmp.file("v1"), tmp.file("v2"));
    // First starts create each log's key and fix its origin; the witnesses
    // are configured with both.
    let origin_of = |dir: &Path, api: &str| {
        let (_k, v) = start(log_serve(dir, api, &[]));
        format!(
            "{}={}",
            v["origin"].as_str().unwrap(),
            v["logPublicKey"].as_str().unwrap()
        )
    };
    let logs = [origin_of(&v1_dir, "1"), origin_of(&v2_dir, "2")];
    let (_w1, url1, vkey1) = witness(&tmp.file("w1"), "w1.example", &logs);
    let (_w2, url2, vkey2) = witness(&tmp.file("w2"), "w2.example", &logs);
    let witnessed = vec![
        "--witness".to_owned(),
        format!("{url1}={vkey1}"),
        "--witness".to_owned(),
        format!("{url2}={vkey2}"),
    ];
    let (_l1, v1) = start(log_serve(&v1_dir, "1", &witnessed));
    let (_l2, v2) = start(log_serve(&v2_dir, "2", &witnessed));
    assert_eq!(v1["witnessThreshold"], 2, "{v1}");
    assert_eq!(v2["witnesses"][1], "w2.example", "{v2}");

    // Attest three times to each log (Ed25519 for v1, P-256 for v2).
    let key = tmp.file("key.pem");
    let p256 = tmp.file("p256.pem");
    assert_eq!(run(&["keygen", "--out", key.to_str().unwrap()]).0, 0);
    assert_eq!(
        run(&["keygen", "--alg", "p256", "--out", p256.to_str().unwrap()]).0,
        0
    );
    let predicate = tmp.file("predicate.json");
    std::fs::write(&predicate, br#"{"ok":true}"#).unwrap();
    let keys_doc = |k: &Path, out: &str| {
        let (code, doc, err) = run(&["keys", "serve-doc", "--key", k.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let p = tmp.file(out);
        std::fs::write(&p, doc).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let (keys1, keys2) = (keys_doc(&key, "keys1.json"), keys_doc(&p256, "keys2.json"));
    let db1 = tmp.file("v1.db").display().to_string();
    let db2 = tmp.file("v2.db").display().to_string();
    let log1_flags: Vec<String> = [
        "--rekor-url",
        v1["listening"].as_str().unwrap(),
        "--log-key",
        v1["logPublicKey"].as_str().unwrap(),
        "--db",
        &db1,
    ]
    .map(str::to_owned)
    .to_vec();
    let log2_flags = v2_flags(&v2, &db2);
    for n in 0..3 {
        attest(n, &key, &predicate, &log1_flags);
        attest(n, &p256, &predicate, &log2_flags);
    }
    // Audits read the log without a TSA.
    let log1: Vec<&str> = log1_flags.iter().map(String::as_str).collect();
    let log2: Vec<&str> = log2_flags[..6]
        .iter()
        .chain(&log2_flags[8..])
        .map(String::as_str)
        .collect();
    wait_cosigned(&v1, 3, 2);
    wait_cosigned(&v2, 3, 2);

    // The auditor requires both witnesses on each log's checkpoint.
    let policy = ["--witness", &vkey1, "--witness", &vkey2];
    let audit = |log: &[&str], keys: &str, baseline: &str, extra: &[&str]| {
        let mut args = vec![
            "audit",
            "--tenant",
            "acme",
            "--key",
            keys,
            "--baseline",
            baseline,
        ];
        args.extend(log.iter());
        args.extend(extra.iter());
        run(&args)
    };
    let b1 = tmp.file("b1.json").display().to_string();
    let b2 = tmp.file("b2.json").display().to_string();
    for (log, keys, b) in [(&log1, &keys1, &b1), (&log2, &keys2, &b2)] {
        let (code, out, err) = audit(
            log,
            keys,
            b,
            &[&["--all", "--trust-current-tree"][..], &policy[..]].concat(),
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("3 audited, 3 passed, 0 failed"), "{out}");
        let (code, out, err) = audit(
            log,
            keys,
            b,
            &[&["--completeness"][..], &policy[..]].concat(),
        );
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("3 signed with the key set's keys"), "{out}");
    }
    // A third witness nobody configured: 2 of 3 required, 2 present — and
    // 3 of 3 fails, with the reason.
    let (_w3, _, vkey3) = witness(&tmp.file("w3"), "w3.example", &logs);
    let (code, out, _) = audit(
        &log1,
        &keys1,
        &b1,
        &[
            "--all",
            "--witness",
            &vkey1,
            "--witness",
            &vkey2,
            "--witness",
            &vkey3,
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not witnessed"), "{out}");

    // A row deleted from each store is reported by the completeness audit.
    for (db, log, keys, b) in [(&db1, &log1, &keys1, &b1), (&db2, &log2, &keys2, &b2)] {
        rusqlite::Connection::open(db)
            .unwrap()
            .execute_batch(&format!(
                "DELETE FROM attestations WHERE subject = 'app@sha256:{:064x}';",
                1
            ))
            .unwrap();
        let (code, out, err) = audit(log, keys, b, &["--completeness", "--json"]);
        assert_eq!(code, 1, "{out}{err}");
        let report: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(report["missing"][0]["index"], 1, "{out}");
        assert_eq!(report["passed"], false);
    }

    // A fork of the v2 log: its key and name in another directory, another
    // history. The witnesses refuse to cosign it, and the log says so.
    let fork_dir = tmp.file("fork");
    let mut cmd = log_serve(
        &fork_dir,
        "2",
        &[
            &[
                "--log-private-key".to_owned(),
                v2_dir.join("log-key.pem").display().to_string(),
            ][..],
            &witnessed[..],
        ]
        .concat(),
    );
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let vf: Value = serde_json::from_str(&line).unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let _fork = Killed(child);
    let fork_url = vf["listening"].as_str().unwrap().to_owned();
    let fork_root = vf["trustedRoot"].as_str().unwrap().to_owned();
    let dbf = tmp.file("fork.db").display().to_string();
    for n in 10..14 {
        attest(n, &p256, &predicate, &v2_flags(&vf, &dbf));
    }
    // Wait for the event: the log reporting each witness's refusal.
    let mut refused = std::collections::BTreeSet::new();
    for l in stderr.lines() {
        let l = l.unwrap();
        if l.contains("refused") {
            refused.insert(if l.contains("w1.example") { 1 } else { 2 });
        }
        if refused.len() == 2 {
            break;
        }
    }
    assert_eq!(refused.len(), 2, "both witnesses refuse the fork");
    let note = served_checkpoint(&vf);
    assert_eq!(
        note.lines().filter(|l| l.starts_with('\u{2014}')).count(),
        1,
        "only the log's own signature: {note}"
    );
    // The auditor that knows the real log's tree (its baseline) and
    // requires the witnesses fails the fork on both counts.
    let (code, out, _) = audit(
        &[
            "--rekor-url",
            &fork_url,
            "--rekor-api",
            "2",
            "--trusted-root",
            &fork_root,
            "--db",
            &dbf,
        ],
        &keys2,
        &b2,
        &[&["--all"][..], &policy[..]].concat(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not witnessed"), "{out}");
    // Without the witness policy, the auditor's own baseline still catches
    // it: the fork does not extend the tree it verified before.
    let (code, out, _) = audit(
        &[
            "--rekor-url",
            &fork_url,
            "--rekor-api",
            "2",
            "--trusted-root",
            &fork_root,
            "--db",
            &dbf,
        ],
        &keys2,
        &b2,
        &["--all", "--json"],
    );
    assert_eq!(code, 1, "{out}");
    let first: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let consistency = first["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "consistency")
        .unwrap();
    assert_eq!(consistency["outcome"], "failed", "{out}");
}

/// `attestlog monitor` follows a v2 log: each watched key's entry is printed
/// once, as it appears (the continuous loop read line by line: the events
/// themselves), other signers' are not; pointed at a fork of the log it
/// alerts and exits 1.
#[test]
fn monitor_prints_each_new_entry_of_a_watched_key_and_alerts_on_a_fork() {
    let tmp = attestlog_testkit::TempDir::created("monitor-cli");
    let dir = tmp.file("v2");
    let (_log, v) = start(log_serve(&dir, "2", &[]));
    let url = v["listening"].as_str().unwrap().to_owned();
    let root = v["trustedRoot"].as_str().unwrap().to_owned();
    let (watched, other) = (tmp.file("watched.pem"), tmp.file("other.pem"));
    for k in [&watched, &other] {
        assert_eq!(
            run(&["keygen", "--alg", "p256", "--out", k.to_str().unwrap()]).0,
            0
        );
    }
    let (code, doc, _) = run(&["keys", "serve-doc", "--key", watched.to_str().unwrap()]);
    assert_eq!(code, 0);
    let keys = tmp.file("keys.json");
    std::fs::write(&keys, doc).unwrap();
    let predicate = tmp.file("p.json");
    std::fs::write(&predicate, b"{}").unwrap();
    let db = tmp.file("db.sqlite").display().to_string();
    let to_log = v2_flags(&v, &db);
    attest(0, &watched, &predicate, &to_log);
    attest(1, &other, &predicate, &to_log);
    attest(2, &watched, &predicate, &to_log);
    let state = tmp.file("monitor-state.json");
    let monitor_args = |url: &str, root: &str| {
        vec![
            "monitor".to_owned(),
            "--key".to_owned(),
            keys.display().to_string(),
            "--state".to_owned(),
            state.display().to_string(),
            "--rekor-url".to_owned(),
            url.to_owned(),
            "--rekor-api".to_owned(),
            "2".to_owned(),
            "--trusted-root".to_owned(),
            root.to_owned(),
        ]
    };
    let mut cmd = bin();
    cmd.args(monitor_args(&url, &root))
        .args(["--trust-current-tree", "--interval", "1"])
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _monitor = Killed(child);
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    assert_eq!(next()["entry"], 0);
    assert_eq!(next()["entry"], 2);
    let cp = next();
    assert_eq!(
        (cp["checkpoint"].as_u64(), cp["scanned"].as_u64()),
        (Some(3), Some(3))
    );
    // A new entry of the watched key appears on the next look, alone.
    attest(3, &other, &predicate, &to_log);
    attest(4, &watched, &predicate, &to_log);
    let mut seen = Vec::new();
    loop {
        let l = next();
        if let Some(e) = l["entry"].as_u64() {
            seen.push(e);
        }
        if l["checkpoint"] == 5 {
            break;
        }
    }
    assert_eq!(seen, vec![4], "each entry once, other signers never");
    drop(_monitor);

    // The same state against a fork (same key and name, another history).
    let fork = tmp.file("fork");
    let (_f, vf) = start(log_serve(
        &fork,
        "2",
        &[
            "--log-private-key".to_owned(),
            dir.join("log-key.pem").display().to_string(),
        ],
    ));
    let (furl, froot) = (
        vf["listening"].as_str().unwrap().to_owned(),
        vf["trustedRoot"].as_str().unwrap().to_owned(),
    );
    for n in 10..16 {
        attest(n, &watched, &predicate, &v2_flags(&vf, &db));
    }
    let args = monitor_args(&furl, &froot);
    let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
    argv.push("--once");
    let (code, out, _) = run(&argv);
    assert_eq!(code, 1, "{out}");
    let alert: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(alert["alert"], "inconsistent", "{out}");
}

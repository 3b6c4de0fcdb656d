//! Runs the real `attestlog` binary on JSON Lines and leaf files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn errors(out: &Output) -> Vec<String> {
    json_lines(out)
        .iter()
        .map(|v| match v["ok"].as_bool().unwrap() {
            true => "ok".to_string(),
            false => v["error"].as_str().unwrap().to_string(),
        })
        .collect()
}

#[test]
fn verify_valid_cases_exits_zero() {
    let out = run(&["merkle", "verify"], &data("valid.jsonl"));
    assert_eq!(errors(&out), ["ok", "ok", "ok", "ok"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn verify_failures_are_named_and_exit_one() {
    let out = run(&["merkle", "verify"], &data("failing.jsonl"));
    assert_eq!(
        errors(&out),
        [
            "ok",
            "root-mismatch",
            "root-mismatch",
            "wrong-proof-length",
            "index-out-of-range",
            "size-decreased"
        ]
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert!(
        lines[3]["detail"]
            .as_str()
            .unwrap()
            .contains("expected exactly 3")
    );
}

#[test]
fn malformed_lines_are_reported_and_processing_continues() {
    let out = run(&["merkle", "verify"], &data("malformed.jsonl"));
    assert_eq!(
        errors(&out),
        [
            "ok",
            "malformed", // not JSON
            "malformed", // empty line
            "malformed", // missing fields
            "malformed", // unknown type
            "malformed", // a proof hash of 3 characters
            "malformed", // negative index
            "malformed", // duplicate member
            "ok",
        ]
    );
    let lines = json_lines(&out);
    assert!(
        lines[3]["detail"].as_str().unwrap().contains("treeSize"),
        "{}",
        lines[3]
    );
    assert!(
        lines[5]["detail"].as_str().unwrap().contains("proof[0]"),
        "{}",
        lines[5]
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn empty_input_verifies_nothing_and_succeeds() {
    let out = run(&["merkle", "verify"], b"");
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn many_lines_keep_their_order() {
    // More than one batch, valid and failing interleaved.
    let valid = data("valid.jsonl");
    let failing = data("failing.jsonl");
    let mut input = Vec::new();
    let mut want = Vec::new();
    for i in 0..5000 {
        if i % 7 == 0 {
            input.extend_from_slice(&failing);
            want.extend(["ok", "root-mismatch", "root-mismatch", "wrong-proof-length"]);
            want.extend(["index-out-of-range", "size-decreased"]);
        } else {
            input.extend_from_slice(&valid);
            want.extend(["ok"; 4]);
        }
    }
    let out = run(&["merkle", "verify"], &input);
    assert_eq!(errors(&out), want);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn root_of_the_reference_tree() {
    let out = run(&["merkle", "root"], &data("reference_leaves.hex"));
    assert_eq!(out.status.code(), Some(0));
    let v = &json_lines(&out)[0];
    assert_eq!(v["size"], 8);
    assert_eq!(
        v["root"],
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
    let out = run(&["merkle", "root"], b"");
    assert_eq!(json_lines(&out)[0]["root"], attest_merkle_empty_root());
}

fn attest_merkle_empty_root() -> &'static str {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

#[test]
fn prove_then_verify_round_trip() {
    let leaves = data("reference_leaves.hex");
    let out = run(&["merkle", "prove", "--index", "5", "--size", "8"], &leaves);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = &json_lines(&out)[0];
    assert_eq!(
        p["root"],
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
    assert_eq!(
        p["proof"][0],
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
    );
    let case = serde_json::json!({
        "type": "inclusion", "leafIdx": 5, "treeSize": 8,
        "leafHash": "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "root": p["root"], "proof": p["proof"],
    });
    let out = run(&["merkle", "verify"], format!("{case}\n").as_bytes());
    assert_eq!(errors(&out), ["ok"]);

    let out = run(
        &["merkle", "prove", "--size1", "3", "--size2", "7"],
        &leaves,
    );
    let p = &json_lines(&out)[0];
    let case = serde_json::json!({
        "type": "consistency", "size1": 3, "size2": 7,
        "root1": p["root1"], "root2": p["root2"], "proof": p["proof"],
    });
    let out = run(&["merkle", "verify"], format!("{case}\n").as_bytes());
    assert_eq!(errors(&out), ["ok"]);
    // --size2 defaults to every leaf read.
    let out = run(&["merkle", "prove", "--size1", "3"], &leaves);
    assert_eq!(
        json_lines(&out)[0]["root2"],
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
}

#[test]
fn bad_input_is_a_message_and_exit_two() {
    let cases: &[(&[&str], &[u8], &str)] = &[
        (&["merkle", "root"], b"00\nzz\n", "line 2"),
        (&["merkle", "root"], b"0\n", "line 1"),
        (
            &["merkle", "prove", "--index", "8", "--size", "8"],
            b"00\n00\n00\n00\n00\n00\n00\n00\n",
            "index 8",
        ),
        (
            &["merkle", "prove", "--index", "0", "--size", "9"],
            b"00\n",
            "beyond",
        ),
        (&["merkle", "prove", "--size1", "0"], b"00\n", "empty tree"),
        (
            &["merkle", "prove", "--size1", "2", "--size2", "1"],
            b"00\n00\n",
            "smaller",
        ),
    ];
    for (args, stdin, needle) in cases {
        let out = run(args, stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    // Neither --index nor --size1: a usage error, also exit 2.
    assert_eq!(run(&["merkle", "prove"], b"").status.code(), Some(2));
}

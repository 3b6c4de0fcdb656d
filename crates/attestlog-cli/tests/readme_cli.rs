//! The README's walkthrough, run verbatim (issue 15): the shell block after
//! the `walkthrough` marker in the workspace README is extracted and run by
//! bash with the built `attestlog` first on `PATH`, in a scratch HOME, so
//! that the README cannot rot. Also: the README and `attestlog --help` name
//! the same subcommands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::path::Path;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap()
}

/// The ```sh block that follows `marker`.
fn walkthrough(readme: &str, marker: &str) -> String {
    let at = readme
        .find(marker)
        .expect("README.md has a walkthrough marker");
    let rest = &readme[at..];
    let start = rest
        .find("```sh\n")
        .expect("a ```sh block after the marker")
        + 6;
    let len = rest[start..].find("\n```").expect("the block ends");
    rest[start..start + len + 1].to_owned()
}

#[test]
fn the_readme_walkthrough_runs_verbatim_and_exits_0() {
    let stdout = run_walkthrough("<!-- walkthrough:", "readme-walkthrough");
    // It did what it says: every audit check passed and the bundle verified.
    assert!(stdout.contains("\"verified\":true"), "{stdout}");
}

#[test]
fn the_readme_rekor_v2_walkthrough_runs_verbatim_and_exits_0() {
    let stdout = run_walkthrough("<!-- walkthrough-v2:", "readme-walkthrough-v2");
    assert!(stdout.contains("1 audited, 1 passed, 0 failed"), "{stdout}");
    assert!(
        stdout.contains(r#""check":"timestamp","outcome":"passed""#),
        "{stdout}"
    );
}

#[test]
fn the_readme_witnessed_walkthrough_runs_verbatim_and_exits_0() {
    let stdout = run_walkthrough(
        "<!-- walkthrough-witnessed:",
        "readme-walkthrough-witnessed",
    );
    assert!(stdout.contains("1 audited, 1 passed, 0 failed"), "{stdout}");
    assert!(
        stdout.contains("PASS  every entry signed with the key set's keys has a row"),
        "{stdout}"
    );
}

/// Runs the block after `marker` in a scratch HOME; its stdout.
fn run_walkthrough(marker: &str, tag: &str) -> String {
    let script = walkthrough(&readme(), marker);
    assert!(script.contains("attestlog attest"), "{script}");
    let tmp = attestlog_testkit::TempDir::created(tag);
    let home = tmp.path();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_attestlog")).parent().unwrap();
    // The harness around the block: strict mode, and the background log
    // server stopped whatever happens (the block stops it itself on success).
    let wrapped =
        format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{script}");
    let mut bash = common::clean(Command::new("bash"));
    let o = bash
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TMPDIR", home)
        .args(["-c", &wrapped])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success(),
        "walkthrough failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        o.status
    );
    stdout.into_owned()
}

/// The subcommands `attestlog --help` lists are the ones the README's crate
/// table names, and each has help of its own.
#[test]
fn the_readme_and_the_help_name_the_same_subcommands() {
    let o = common::bin().arg("--help").output().unwrap();
    assert!(o.status.success());
    let help = String::from_utf8(o.stdout).unwrap();
    let listed: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .map(str::to_owned)
        .collect();
    assert!(listed.len() > 10, "{help}");
    let readme = readme();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| [`attestlog-cli`]"))
        .unwrap();
    let cli_readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for cmd in &listed {
        assert!(
            row.contains(&format!("`{cmd}")),
            "README.md's crate table does not name `{cmd}`: {row}"
        );
        assert!(
            cli_readme.contains(&format!("attestlog {cmd}")),
            "crates/attestlog-cli/README.md does not document `attestlog {cmd}`"
        );
        let sub = common::bin()
            .args([cmd.as_str(), "--help"])
            .output()
            .unwrap();
        assert!(sub.status.success(), "attestlog {cmd} --help");
    }
    // And the table names nothing the binary lacks.
    let cell = row.split('|').nth(2).unwrap();
    let named = cell.split_once("binary:").map_or(cell, |(_, list)| list);
    for word in named.split('`').skip(1).step_by(2) {
        let first = word.split([' ', '/']).next().unwrap();
        assert!(
            listed.iter().any(|c| c == first),
            "README names `{first}`, which `attestlog --help` does not list"
        );
    }
}

/// Item 4 of issue 15: the help and the errors say what a flag takes.
#[test]
fn help_and_errors_say_what_each_command_takes() {
    let run = |args: &[&str]| {
        let o = common::bin().args(args).output().unwrap();
        (
            o.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    // `audit` names both ways to choose what to audit.
    let (code, text) = run(&["audit", "--tenant", "t", "--key", "k"]);
    assert_eq!(code, Some(2));
    assert!(
        text.contains("--subject") && text.contains("--all"),
        "{text}"
    );
    // `bundle export` says which id it takes, and what an entry id is.
    let (code, text) = run(&["bundle", "export", &"ab".repeat(40)]);
    assert_eq!(code, Some(2));
    assert!(text.contains("that is a log entry id"), "{text}");
    let (_, text) = run(&["bundle", "export", "--help"]);
    assert!(text.contains("attestation id"), "{text}");
    // `merkle verify` and `merkle root` describe their input.
    let (_, text) = run(&["merkle", "verify", "--help"]);
    assert!(
        text.contains("\"type\":\"inclusion\"") && text.contains("consistency"),
        "{text}"
    );
    let (_, text) = run(&["merkle", "root", "--help"]);
    assert!(text.contains("hex, one per line"), "{text}");
    // The same trust flags and environment everywhere a log is read.
    for cmd in [
        &["attest"][..],
        &["audit"],
        &["publish-pending"],
        &["rekor", "info"],
        &["rekor", "get"],
        &["rekor", "consistency"],
        &["bundle", "verify"],
        &["checkpoint", "verify"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let (_, text) = run(&args);
        for (flag, env) in [
            ("--log-key", "REKOR_PUBLIC_KEY"),
            ("--log-name", "REKOR_LOG_NAME"),
            ("--trusted-root", "REKOR_TRUSTED_ROOT"),
        ] {
            assert!(
                text.contains(flag) && text.contains(env),
                "{cmd:?}: {flag} / {env}\n{text}"
            );
        }
    }
    // And `--db` with ATTESTLOG_DB and the same default everywhere.
    for cmd in [
        &["attest"][..],
        &["audit"],
        &["publish-pending"],
        &["bundle", "export"],
        &["store", "list"],
        &["store", "show"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let (_, text) = run(&args);
        assert!(
            text.contains("ATTESTLOG_DB") && text.contains("[default: attestlog.db]"),
            "{cmd:?}\n{text}"
        );
    }
}

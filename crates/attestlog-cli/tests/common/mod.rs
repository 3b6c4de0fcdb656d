//! Shared by the CLI tests that run `attestlog log serve`.

#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The binary, with none of the pipeline's environment variables inherited.
///
/// Its default trust source (Sigstore's production TUF repository) is a
/// loopback mirror of the repository as published, at a time inside its
/// window: no test reaches the network, and every one that verifies with
/// production's trust gets it the way a user does.
pub fn bin() -> Command {
    with_tuf_mirror(clean(Command::new(env!("CARGO_BIN_EXE_attestlog"))))
}

/// `attestlog-verify` (`attestlog verify-bundle` as a binary of its own),
/// set up as [`bin`] is.
pub fn verifier() -> Command {
    with_tuf_mirror(clean(Command::new(env!("CARGO_BIN_EXE_attestlog-verify"))))
}

/// `c` with Sigstore's production TUF repository as its loopback mirror.
fn with_tuf_mirror(mut c: Command) -> Command {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tuf-cache");
    c.envs(attestlog_testkit::files::sigstore_tuf_env(&cache));
    c
}

/// `c` without the pipeline's environment variables.
pub fn clean(mut c: Command) -> Command {
    for v in [
        "REKOR_URL",
        "ATTESTLOG_DB",
        "REKOR_PUBLIC_KEY",
        "REKOR_LOG_NAME",
        "REKOR_TRUSTED_ROOT",
        "REKOR_API",
        "REKOR_TSA_URL",
        "REKOR_SIGNING_CONFIG",
        "ATTESTLOG_KEY",
        "ATTESTLOG_KEYS",
        "ATTESTLOG_BASELINE",
        "ATTESTLOG_TUF_URL",
        "ATTESTLOG_TUF_ROOT",
        "ATTESTLOG_TUF_CACHE",
        "ATTESTLOG_TUF_CLOCK",
        "ATTESTLOG_OFFLINE",
    ] {
        c.env_remove(v);
    }
    c
}

/// `attestlog keygen --out PATH` (Ed25519), which must succeed.
pub fn keygen(path: &Path) {
    let o = bin().args(["keygen", "--out"]).arg(path).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `attestlog log serve` on a free loopback port; killed (SIGKILL) on drop.
pub struct Served {
    child: Child,
    pub url: String,
    pub public_key: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` and reads the JSON line a server prints once it listens
/// (the event a test waits for, never a time).
pub fn spawn_listening(mut cmd: Command) -> (Child, Value) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let v = serde_json::from_str(&line).unwrap();
    (child, v)
}

/// Starts the server on `dir` and reads the address it printed.
pub fn serve(dir: &Path) -> Served {
    let mut cmd = bin();
    cmd.args(["log", "serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(dir);
    let (child, v) = spawn_listening(cmd);
    assert_eq!(v["name"], "attestlog.local");
    Served {
        child,
        url: v["listening"].as_str().unwrap().to_owned(),
        public_key: PathBuf::from(v["logPublicKey"].as_str().unwrap()),
    }
}

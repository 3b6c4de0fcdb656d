//! Test support shared by the attestlog crates (`publish = false`): the
//! recorded vectors, temporary directories, a scripted HTTP/1.1 server, the
//! production Rekor entry in its REST form, and a harness that runs a test
//! as a child process and kills it with SIGKILL.
//!
//! It depends on none of the attestlog crates, so any of them can use it as
//! a dev-dependency without a cycle.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Test support: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod child;
pub mod files;
pub mod http;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64ct::{Base64, Encoding};
use serde_json::{Value, json};

/// The path of a recorded vector (`vectors/` in this crate; see its README).
#[must_use]
pub fn vector_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name)
}

/// Copies the regular files of directory `from` into `to` (created), but a
/// `LOCK` file: e.g. a log's files, to fork its history.
pub fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() && e.file_name() != "LOCK" {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Every `.rs` file under `dir`, depth first (the source scans of the
/// architecture tests).
///
/// # Panics
/// When `dir` cannot be read (test support).
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).expect("read a source directory") {
            let p = e.expect("read a directory entry").path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

/// The bytes of a recorded vector.
#[must_use]
pub fn vector(name: &str) -> Vec<u8> {
    let path = vector_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A recorded vector parsed as JSON.
#[must_use]
pub fn vector_json(name: &str) -> Value {
    serde_json::from_slice(&vector(name)).unwrap()
}

/// The real bundles: four production Rekor v1 bundles and the staging Rekor
/// v2 bundle.
pub const BUNDLES: [&str; 5] = [
    "prod-v1-dsse-v001.sigstore.json",
    "prod-v1-dsse-v001-tsa.sigstore.json",
    "prod-v1-intoto-v002.sigstore.json",
    "prod-v1-hashedrekord-v001-pubkey.sigstore.json",
    "staging-v2-dsse-as-hashedrekord-v002.sigstore.json",
];

/// The staging Rekor v2 log of the last bundle, as (name, base64 SPKI,
/// base64 log id) — from sigstore-python's embedded staging trust root.
pub const STAGING_V2_LOG: (&str, &str, &str) = (
    "log2025-alpha3.rekor.sigstage.dev",
    "MCowBQYDK2VwAyEAlD3dVc8yaP25mPtT/sJ59D3LLxGBgW/qYrM6x6KmOqk=",
    "09OnDKEw7/hpZiYVPoTRzRbglHk0sylsUovegnRUlJY=",
);

/// Lowercase hex of base64 (bundles carry base64, the REST API hex).
#[must_use]
pub fn hex_of_b64(b64: &str) -> String {
    base16ct::lower::encode_string(&Base64::decode_vec(b64).unwrap())
}

/// The first tlog entry of a Rekor v1 bundle as `GET
/// /api/v1/log/entries/{id}` returns it (one key, the 80-hex entry id under
/// `tree_id_hex`), with every field taken from the bundle.
#[must_use]
pub fn rest_entry(bundle: &Value, tree_id_hex: &str) -> Value {
    let e = &bundle["verificationMaterial"]["tlogEntries"][0];
    let p = &e["inclusionProof"];
    let int = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
    let body = Base64::decode_vec(e["canonicalizedBody"].as_str().unwrap()).unwrap();
    let uuid = leaf_hex(&body);
    json!({ format!("{tree_id_hex}{uuid}"): {
        "body": e["canonicalizedBody"],
        "integratedTime": int(&e["integratedTime"]),
        "logID": hex_of_b64(e["logId"]["keyId"].as_str().unwrap()),
        "logIndex": int(&e["logIndex"]),
        "verification": {
            "signedEntryTimestamp": e["inclusionPromise"]["signedEntryTimestamp"],
            "inclusionProof": {
                "logIndex": int(&p["logIndex"]),
                "rootHash": hex_of_b64(p["rootHash"].as_str().unwrap()),
                "treeSize": int(&p["treeSize"]),
                "hashes": p["hashes"].as_array().unwrap().iter()
                    .map(|h| hex_of_b64(h.as_str().unwrap())).collect::<Vec<_>>(),
                "checkpoint": p["checkpoint"]["envelope"],
            }
        }
    }})
}

/// RFC 6962 leaf hash of `data`, lowercase hex.
#[must_use]
pub fn leaf_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    base16ct::lower::encode_string(&h.finalize())
}

/// A temporary directory, unique in this process, removed on drop. It is
/// not created: the code under test may want to create it.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A fresh path under the system's temporary directory, named after
    /// `tag`, the process and a counter.
    #[must_use]
    pub fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        static SWEEP: std::sync::Once = std::sync::Once::new();
        SWEEP.call_once(sweep_dead_processes_dirs);
        let p = std::env::temp_dir().join(format!(
            "attestlog-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        Self(p)
    }

    /// Like [`new`](Self::new), and the directory exists.
    #[must_use]
    pub fn created(tag: &str) -> Self {
        let d = Self::new(tag);
        std::fs::create_dir_all(&d.0).unwrap();
        d
    }

    /// The directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// Removes the temporary directories that test processes no longer
/// running left behind: a `TempDir` kept in a `static` (a store or log
/// shared by a test binary's tests) is never dropped, so its directory
/// outlives its process. Linux only (a process is alive while `/proc/PID`
/// exists); elsewhere nothing is swept.
fn sweep_dead_processes_dirs() {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // attestlog-{tag}-{pid}-{n}
        let mut parts = name.rsplitn(3, '-');
        let (Some(n), Some(pid), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if rest.starts_with("attestlog-") && numeric(n) && numeric(pid) && !proc.join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tiny deterministic generator for test schedules (not for keys).
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..bound`.
    pub fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// A fresh, empty PostgreSQL database for one test (its URL), or `None`
/// (after a loud message) when `ATTEST_STORE_POSTGRES_URL` is not set. Under
/// CI (`CI` set) its absence is a failure, so PostgreSQL is never silently
/// untested there.
#[cfg(feature = "postgres")]
#[must_use]
pub fn postgres_database(name: &str) -> Option<String> {
    static N: AtomicU64 = AtomicU64::new(0);
    let Ok(url) = std::env::var("ATTEST_STORE_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but ATTEST_STORE_POSTGRES_URL is not: PostgreSQL tests must run in CI"
        );
        eprintln!("SKIPPED {name}: ATTEST_STORE_POSTGRES_URL is not set; PostgreSQL not tested");
        return None;
    };
    let db = format!(
        "attest_{}_{}_{}",
        name,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin =
        postgres::Client::connect(&url, postgres::NoTls).expect("connect to PostgreSQL");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    Some(format!("{base}/{db}"))
}

#[cfg(test)]
mod sweep_tests {
    use super::*;

    /// A directory named for a process that has ended is removed; one of a
    /// live process (this one), and other names, are left alone.
    #[test]
    fn dirs_of_ended_processes_are_swept() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let tmp = std::env::temp_dir();
        let gone = tmp.join(format!("attestlog-sweep-test-{dead}-0"));
        let alive = tmp.join(format!("attestlog-sweep-test-{}-0", std::process::id()));
        let other = tmp.join(format!("attestlog-sweep-test-{dead}"));
        for d in [&gone, &alive, &other] {
            std::fs::create_dir_all(d).unwrap();
        }
        sweep_dead_processes_dirs();
        assert!(!gone.exists());
        assert!(alive.exists());
        assert!(other.exists());
        for d in [&alive, &other] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}

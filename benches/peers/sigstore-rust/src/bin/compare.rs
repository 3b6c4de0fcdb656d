//! attest-rekor's `Verifier` and sigstore-rust's `sigstore-verify` 0.15.1
//! side by side in one process, on five bundles of the sigstore-conformance
//! suite, two ways:
//!
//! - **warm**: one verifier per side, the same bundle again and again;
//! - **cold**: each verification from the trusted root's JSON text (parse
//!   it, build the verifier, verify once) — what a process verifying one
//!   bundle pays.
//!
//! - **process** (`--process ATTESTLOG_BIN ATTESTLOG_VERIFY_BIN PEER_BIN`):
//!   the whole command, `attestlog verify-bundle` and `attestlog-verify`
//!   each beside this package's `peer-verify-bundle` (sigstore-verify behind
//!   the same arguments), each given the trusted root as a file — start-up,
//!   reading, parsing and verifying once. The three binaries are first
//!   copied to a fresh directory, as `cargo install` places them: how a
//!   binary's pages came into the page cache (written by the linker, or
//!   copied or read from disk) changes how many page faults a process takes
//!   by a fifth, so the sides must come the same way.
//!
//! The two sides alternate in blocks (which goes first alternates too);
//! each round gives a ratio attestlog/sigstore-rust; the median ratio is
//! reported with both medians in microseconds. Below 1.0 means attestlog is
//! faster. `bash benches/sigstore-rust-compare.sh [--features ring]`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use attest_rekor::{Artifact, Policy, SignerPolicy};
use sigstore_verify::trust_root::TrustedRoot as PeerRoot;
use sigstore_verify::types::{Bundle as PeerBundle, DerPublicKey};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier as PeerVerifier};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// (name in the table, conformance case).
const CASES: [(&str, &str); 5] = [
    ("dsse", "happy-path-intoto-in-dsse-v3"),
    ("hr", "happy-path-v0.3"),
    ("v2", "rekor2-happy-path"),
    ("v2d", "rekor2-dsse-happy-path"),
    ("key", "managed-key-happy-path"),
];

struct Case {
    name: &'static str,
    dir: PathBuf,
    root_path: PathBuf,
    artifact_path: PathBuf,
    root_json: String,
    bundle_json: String,
    artifact: Vec<u8>,
    key_pem: Option<String>,
}

fn load(vectors: &Path, name: &'static str, case: &str) -> Case {
    let dir = vectors
        .join("sigstore-conformance/bundle-verify")
        .join(case);
    let root = if dir.join("trusted_root.json").exists() {
        dir.join("trusted_root.json")
    } else {
        vectors.join("trusted_root.json")
    };
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Case {
        name,
        dir: dir.clone(),
        root_path: root.clone(),
        artifact_path: vectors.join("sigstore-conformance/a.txt"),
        root_json: read(root),
        bundle_json: read(dir.join("bundle.sigstore.json")),
        artifact: std::fs::read(vectors.join("sigstore-conformance/a.txt")).expect("a.txt"),
        key_pem: dir
            .join("key.pub")
            .exists()
            .then(|| read(dir.join("key.pub"))),
    }
}

/// One side's verification of a case, ready to run.
trait Side {
    fn verify(&self);
}

struct Ours {
    verifier: attest_rekor::Verifier,
    bundle: attest_rekor::Bundle,
    artifact: Artifact,
    policy: Policy,
}

impl Ours {
    fn new(c: &Case) -> Self {
        let root = attest_rekor::TrustedRoot::from_json(c.root_json.as_bytes()).expect("our root");
        let bundle = attest_rekor::Bundle::from_json(c.bundle_json.as_bytes()).expect("our bundle");
        let signer = match &c.key_pem {
            Some(pem) => {
                SignerPolicy::Key(attest_rekor::x509::public_key_from_pem(pem).expect("key"))
            }
            None => SignerPolicy::identity(IDENTITY, ISSUER),
        };
        Self {
            verifier: attest_rekor::Verifier::new(root),
            bundle,
            artifact: Artifact::of_bytes(&c.artifact),
            policy: Policy::new(signer, attest_dsse::Timestamp::now()),
        }
    }
}

impl Side for Ours {
    fn verify(&self) {
        self.verifier
            .verify(&self.bundle, &self.artifact, &self.policy)
            .expect("attestlog verifies");
    }
}

struct Peer {
    root: PeerRoot,
    bundle: PeerBundle,
    artifact: Vec<u8>,
    key: Option<DerPublicKey>,
}

impl Peer {
    fn new(c: &Case) -> Self {
        Self {
            root: PeerRoot::from_json(&c.root_json).expect("peer root"),
            bundle: PeerBundle::from_json(&c.bundle_json).expect("peer bundle"),
            artifact: c.artifact.clone(),
            key: c
                .key_pem
                .as_ref()
                .map(|p| DerPublicKey::from_pem(p).expect("peer key")),
        }
    }

    fn verify_with(&self, v: &PeerVerifier) {
        match &self.key {
            Some(k) => v
                .verify(
                    self.artifact.as_slice(),
                    &self.bundle,
                    &PublicKeyVerificationPolicy::new(k.clone()),
                )
                .map(drop),
            None => v
                .verify(
                    self.artifact.as_slice(),
                    &self.bundle,
                    &VerificationPolicy::any_identity()
                        .require_identity(IDENTITY)
                        .require_issuer(ISSUER),
                )
                .map(drop),
        }
        .expect("sigstore-rust verifies");
    }
}

/// Median of `xs` (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Times `a` and `b` alternately: `rounds` rounds of `per_round` calls each,
/// the first side alternating; per-call microseconds and per-round ratios.
fn alternate(
    rounds: usize,
    per_round: u32,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64, f64) {
    let (mut ta, mut tb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..per_round {
            f();
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(per_round)
    };
    for r in 0..rounds {
        let (x, y) = if r % 2 == 0 {
            let x = time(&mut a);
            (x, time(&mut b))
        } else {
            let y = time(&mut b);
            (time(&mut a), y)
        };
        ta.push(x);
        tb.push(y);
        ratio.push(x / y);
    }
    (median(&mut ta), median(&mut tb), median(&mut ratio))
}

/// The arguments of sigstore-conformance's protocol for `c`.
fn protocol_args(c: &Case) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> =
        vec!["--bundle".into(), c.dir.join("bundle.sigstore.json").into()];
    if c.key_pem.is_some() {
        a.extend(["--key".into(), c.dir.join("key.pub").into()]);
    } else {
        a.extend([
            "--certificate-identity".into(),
            IDENTITY.into(),
            "--certificate-oidc-issuer".into(),
            ISSUER.into(),
        ]);
    }
    a.extend([
        "--trusted-root".into(),
        c.root_path.clone().into(),
        c.artifact_path.clone().into(),
    ]);
    a
}

fn run_process(bin: &Path, pre: &[&str], c: &Case) {
    let o = std::process::Command::new(bin)
        .args(pre)
        .args(protocol_args(c))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("spawn");
    assert!(o.success(), "{} {}: {o}", bin.display(), c.name);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let vectors = PathBuf::from(
        args.first()
            .expect("usage: compare VECTORS_DIR [--process ATTESTLOG ATTESTLOG_VERIFY PEER]"),
    );
    let provider = if cfg!(feature = "ring") {
        "ring"
    } else {
        "RustCrypto"
    };
    let cases: Vec<Case> = CASES.iter().map(|(n, c)| load(&vectors, n, c)).collect();
    if let [_, flag, ours, ours_verify, peer] = args.as_slice()
        && flag == "--process"
    {
        let dir = std::env::temp_dir().join(format!("compare-bins-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let installed = |p: &str| {
            let to = dir.join(Path::new(p).file_name().expect("a binary's path"));
            std::fs::copy(p, &to).expect("copy the binary");
            to
        };
        let (ours, ours_verify, peer) = (installed(ours), installed(ours_verify), installed(peer));
        println!("| bundle | whole process | attestlog µs | sigstore-rust µs | ratio |");
        println!("| --- | --- | --- | --- | --- |");
        for c in &cases {
            for (label, bin, pre) in [
                ("`attestlog verify-bundle`", &ours, &["verify-bundle"][..]),
                ("`attestlog-verify`", &ours_verify, &[][..]),
            ] {
                let (a, b, r) = alternate(
                    41,
                    10,
                    || run_process(bin, pre, c),
                    || run_process(&peer, &[], c),
                );
                println!("| {} | {label} | {a:.0} | {b:.0} | {r:.2} |", c.name);
            }
        }
        std::fs::remove_dir_all(&dir).expect("remove the copies");
        return;
    }
    println!("| bundle | way | attestlog ({provider}) µs | sigstore-rust (aws-lc) µs | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for c in &cases {
        // Warm: one verifier each, built once.
        let ours = Ours::new(c);
        let peer = Peer::new(c);
        let peer_verifier = PeerVerifier::new(&peer.root).expect("peer verifier");
        ours.verify();
        peer.verify_with(&peer_verifier);
        let (a, b, r) = alternate(
            31,
            40,
            || ours.verify(),
            || peer.verify_with(&peer_verifier),
        );
        println!("| {} | warm | {a:.0} | {b:.0} | {r:.2} |", c.name);
        // Cold: from the root's text each time.
        let (a, b, r) = alternate(
            31,
            8,
            || Ours::new(c).verify(),
            || {
                let p = Peer::new(c);
                let v = PeerVerifier::new(&p.root).expect("peer verifier");
                p.verify_with(&v);
            },
        );
        println!("| {} | cold | {a:.0} | {b:.0} | {r:.2} |", c.name);
    }
}

//! `attestlog bundle verify`, `verify-bundle` and `checkpoint verify` through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::process::{Command, Output};

use serde_json::Value;

/// Sigstore staging's trusted root (the TUF mirror of the tests serves
/// production's).
const STAGING_ROOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../attestlog-testkit/vectors/staging_trusted_root.json"
);

fn vectors(name: &str) -> String {
    attestlog_testkit::vector_path(name).display().to_string()
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    // Default trust: the loopback mirror of Sigstore's TUF repository.
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tuf-cache");
    let mut child = Command::new(env!("CARGO_BIN_EXE_attestlog"))
        .envs(attestlog_testkit::files::sigstore_tuf_env(&cache))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The signer of a real bundle as a PEM file (its certificate, or the
/// managed key the conformance suite gives), and the artifact it is about
/// (its message digest, or its statement's first subject).
fn signer_and_artifact(dir: &std::path::Path, name: &str) -> (String, String) {
    use base64ct::{Base64, Encoding};
    let v: Value = serde_json::from_slice(&std::fs::read(vectors(name)).unwrap()).unwrap();
    let vm = &v["verificationMaterial"];
    let cert = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str());
    let pem = match cert {
        Some(b64) => {
            let body = b64
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join("\n");
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        }
        None => String::from_utf8(
            std::fs::read(vectors(
                "sigstore-conformance/bundle-verify/managed-key-happy-path/key.pub",
            ))
            .unwrap(),
        )
        .unwrap(),
    };
    let key = dir.join(format!("{name}.signer.pem"));
    std::fs::write(&key, pem).unwrap();
    let artifact = match v["messageSignature"]["messageDigest"]["digest"].as_str() {
        Some(d) => format!(
            "sha256:{}",
            base16ct::lower::encode_string(&Base64::decode_vec(d).unwrap())
        ),
        None => {
            let payload =
                Base64::decode_vec(v["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
            let st: Value = serde_json::from_slice(&payload).unwrap();
            let d = &st["subject"][0]["digest"];
            ["sha256", "sha512"]
                .iter()
                .find_map(|a| d[*a].as_str().map(|h| format!("{a}:{h}")))
                .unwrap()
        }
    };
    (key.display().to_string(), artifact)
}

#[test]
fn production_bundles_verify_offline_for_their_signer_and_artifact() {
    let tmp = attestlog_testkit::TempDir::created("rekor-cli-prod");
    let root = vectors("trusted_root.json");
    for name in [
        "prod-v1-dsse-v001.sigstore.json",
        "prod-v1-dsse-v001-tsa.sigstore.json",
        "prod-v1-intoto-v002.sigstore.json",
        "prod-v1-hashedrekord-v001-pubkey.sigstore.json",
    ] {
        let (key, artifact) = signer_and_artifact(tmp.path(), name);
        let bundle = vectors(name);
        let args = [
            "bundle",
            "verify",
            "--trusted-root",
            &root,
            "--key",
            &key,
            "--artifact",
            &artifact,
            &bundle,
        ];
        let out = run(&args, None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let r = &lines(&out)[0];
        assert_eq!(r["verified"], true);
        // The SET's integratedTime and every RFC 3161 timestamp, verified
        // with the trusted root's timestamp authorities.
        let v: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
        let tsa = v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(r["times"].as_array().unwrap().len(), 1 + tsa, "{r}");
        assert_eq!(r["unverifiedTimestamps"], 0, "{r}");
        // The same through the conformance entrypoint, with the compiled-in
        // production root.
        let out = run(
            &[
                "verify-bundle",
                "--bundle",
                &bundle,
                "--key",
                &key,
                &artifact,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(0), "{name}");
        // Any other artifact is refused.
        let other = format!("sha256:{}", "0".repeat(64));
        let out = run(
            &["verify-bundle", "--bundle", &bundle, "--key", &key, &other],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("artifact"));
    }
}

/// A client trust configuration (sigstore-python's `--trust-config`
/// format: a trusted root and a signing config in one file) is taken
/// wherever a trusted root is; a signing config alone is refused by name.
#[test]
fn a_client_trust_config_is_a_trusted_root_too() {
    let tmp = attestlog_testkit::TempDir::created("rekor-cli-trust-config");
    let root = std::fs::read_to_string(vectors("trusted_root.json")).unwrap();
    let signing = r#"{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [], "oidcUrls": [],
        "rekorTlogUrls": [{"url": "https://rekor.sigstore.dev", "majorApiVersion": 1,
            "validFor": {"start": "2021-01-12T11:53:27Z"}, "operator": "sigstore.dev"}],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [], "tsaConfig": {"selector": "ANY"}}"#;
    let config = tmp.file("trust_config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                "trustedRoot": {root}, "signingConfig": {signing}}}"#
        ),
    )
    .unwrap();
    let signing_only = tmp.file("signing_config.json");
    std::fs::write(&signing_only, signing).unwrap();
    let name = "prod-v1-hashedrekord-v001-pubkey.sigstore.json";
    let (key, artifact) = signer_and_artifact(tmp.path(), name);
    let bundle = vectors(name);
    let verify = |trust: &std::path::Path| {
        let trust = trust.to_str().unwrap();
        let args = [
            "verify-bundle",
            "--trusted-root",
            trust,
            "--bundle",
            &bundle,
            "--key",
            &key,
            &artifact,
        ];
        run(&args, None)
    };
    let out = verify(&config);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verify(&signing_only);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no trusted root"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `rekor-v2 select` reads the signing config out of it.
    let out = run(&["rekor-v2", "select", config.to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        lines(&out)[0]["rekorTlogs"][0]["url"],
        "https://rekor.sigstore.dev"
    );
}

const GITHUB: &str = "https://token.actions.githubusercontent.com";

#[test]
fn keyless_production_bundles_verify_for_their_workflow_identity_only() {
    let tmp = attestlog_testkit::TempDir::created("rekor-cli-keyless");
    for (name, identity, staging) in [
        (
            "prod-v1-dsse-v001.sigstore.json",
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            false,
        ),
        (
            "prod-v1-dsse-v001-tsa.sigstore.json",
            "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0",
            false,
        ),
        // sigstore-js's own npm provenance, signed by its release workflow.
        (
            "prod-v1-intoto-v002.sigstore.json",
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
            false,
        ),
        // Rekor v2 on staging: its time comes from an RFC 3161 timestamp.
        (
            "staging-v2-dsse-as-hashedrekord-v002.sigstore.json",
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
            true,
        ),
    ] {
        let (_, artifact) = signer_and_artifact(tmp.path(), name);
        let bundle = vectors(name);
        let verify = |identity: &str, issuer: &str| {
            let mut args = vec!["verify-bundle", "--bundle", &bundle];
            if staging {
                args.extend(["--trusted-root", STAGING_ROOT]);
            }
            args.extend([
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                issuer,
                &artifact,
            ]);
            run(&args, None)
        };
        let out = verify(identity, GITHUB);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let r = &lines(&out)[0];
        assert_eq!(r["certificateIdentities"][0], identity, "{r}");
        assert_eq!(r["certificateIssuer"], GITHUB);
        for c in ["certificate-chain", "sct", "certificate-identity"] {
            assert!(
                r["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["check"] == c && x["outcome"] == "passed"),
                "{name}: {c} {r}"
            );
        }
        // Another workflow, or another issuer: refused by the identity check.
        for (id, iss) in [
            (identity.replace("refs/", "refs/x"), GITHUB),
            (identity.to_owned(), "https://accounts.google.com"),
        ] {
            let out = verify(&id, iss);
            assert_eq!(out.status.code(), Some(1), "{name}");
            assert_eq!(lines(&out)[0]["failed"], "certificate-identity", "{name}");
        }
        // The regex form, anchored.
        let mut args = vec!["bundle", "verify"];
        if staging {
            args.extend(["--trusted-root", STAGING_ROOT]);
        }
        args.extend([
            "--certificate-identity-regexp",
            "https://github\\.com/.*",
            "--certificate-oidc-issuer-regexp",
            "https://token\\.actions\\.githubusercontent\\.com",
            "--artifact",
            &artifact,
            &bundle,
        ]);
        let out = run(&args, None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn failures_and_malformed_input() {
    let tmp = attestlog_testkit::TempDir::created("rekor-cli");
    let dir = tmp.path().to_path_buf();
    let root = vectors("trusted_root.json");
    // The staging v2 log is not in the production trust root: fails at log-key.
    let v2 = "staging-v2-dsse-as-hashedrekord-v002.sigstore.json";
    let (key, artifact) = signer_and_artifact(&dir, v2);
    let out = run(
        &[
            "bundle",
            "verify",
            "--trusted-root",
            &root,
            "--key",
            &key,
            "--artifact",
            &artifact,
            &vectors(v2),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let r = &lines(&out)[0];
    assert_eq!(
        (r["verified"].as_bool(), r["failed"].as_str()),
        (Some(false), Some("log-key"))
    );

    // A tampered SET fails at `set`.
    let name = "prod-v1-dsse-v001.sigstore.json";
    let (key, artifact) = signer_and_artifact(&dir, name);
    let mut v: Value = serde_json::from_slice(&std::fs::read(vectors(name)).unwrap()).unwrap();
    let set =
        v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"]
            .as_str()
            .unwrap()
            .to_owned();
    let tampered = format!("{}A{}", &set[..10], &set[11..]);
    v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
        tampered.into();
    let path = dir.join("tampered.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let p = path.to_str().unwrap();
    let out = run(
        &[
            "verify-bundle",
            "--trusted-root",
            &root,
            "--key",
            &key,
            "--bundle",
            p,
            &artifact,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0]["failed"], "set");
    // One line on stderr names the failing element.
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not verified: set:"), "{err}");

    // Malformed: exit 2 naming the file.
    std::fs::write(&path, b"{\"mediaType\": 5}").unwrap();
    let out = run(
        &[
            "verify-bundle",
            "--trusted-root",
            &root,
            "--key",
            &key,
            "--bundle",
            p,
            &artifact,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tampered.json"));
    // A digest that is neither a file nor sha256:<64 hex>: exit 2.
    let out = run(
        &[
            "verify-bundle",
            "--bundle",
            &vectors(name),
            "--key",
            &key,
            "sha256:abc",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn checkpoint_verify() {
    let v: Value = serde_json::from_slice(
        &std::fs::read(vectors("prod-v1-intoto-v002.sigstore.json")).unwrap(),
    )
    .unwrap();
    let note =
        v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .to_owned();
    let key = vectors("rekor.sigstore.dev.pub.pem");
    let out = run(
        &["checkpoint", "verify", "--log-key", &key],
        Some(note.as_bytes()),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = &lines(&out)[0];
    assert_eq!(r["size"], 27_657_875);
    assert_eq!(r["extensions"][0], "Timestamp: 1692374735595899989");
    assert_eq!(r["verifiedBy"][0], "rekor.sigstore.dev");
    let out = run(
        &[
            "checkpoint",
            "verify",
            "--trusted-root",
            &vectors("trusted_root.json"),
        ],
        Some(note.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(0));
    let bad = note.replacen("27657875", "27657876", 1);
    let out = run(
        &["checkpoint", "verify", "--log-key", &key],
        Some(bad.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0]["error"], "checkpoint-signature-invalid");
    let out = run(
        &["checkpoint", "verify", "--log-key", &key],
        Some(b"not a note"),
    );
    assert_eq!(out.status.code(), Some(2));
}

//! `Config::from_env` / `from_lookup` and what a configuration opens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use attestlog::dsse::Algorithm;
use attestlog::store::LogApiVersion;
use attestlog::{
    Attestor, Config, ConfigError, LogApi, LogTransport, MemoryStore, SigningKey, Statement,
    Subject,
};

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

/// `config` with trust from Sigstore's TUF repository as published, over
/// loopback (the recorded metadata, at a time inside its window): what a
/// remote log given without a key or root is trusted by.
fn remote(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("config-tuf");
    let env = attestlog_testkit::files::sigstore_tuf_env(&cache);
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(pairs);
    config(&all)
}

#[test]
fn defaults_and_values() {
    let c = config(&[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.db, "attestlog.db");
    assert!(
        c.log_connection().unwrap().is_none(),
        "no REKOR_URL: no publication"
    );
    // Empty values count as unset.
    assert_eq!(
        config(&[("REKOR_URL", ""), ("ATTESTLOG_DB", "")]).unwrap(),
        Config::default()
    );
    let c = config(&[
        ("ATTESTLOG_DB", "postgres://u@127.0.0.1/db"),
        ("REKOR_URL", "https://rekor.sigstore.dev"),
        ("REKOR_TRUSTED_ROOT", "/x/trusted_root.json"),
        ("REKOR_LOG_NAME", "n"),
        ("ATTESTLOG_BACKDATE_WINDOW", "60"),
    ])
    .unwrap();
    assert_eq!(c.db, "postgres://u@127.0.0.1/db");
    assert_eq!(c.backdate_window, 60);
    assert_eq!(c.rekor_log_name.as_deref(), Some("n"));
    assert!(matches!(
        config(&[("ATTESTLOG_BACKDATE_WINDOW", "5 minutes")]),
        Err(ConfigError::Seconds {
            name: "ATTESTLOG_BACKDATE_WINDOW",
            ..
        })
    ));
}

#[test]
fn log_connections() {
    let tmp = attestlog_testkit::TempDir::created("config");
    let dir = tmp.path().to_path_buf();
    // A reader's configuration never creates an embedded log.
    let mut reader = config(&[(
        "REKOR_URL",
        &format!("local:{}", dir.join("typo").display()),
    )])
    .unwrap();
    reader.create_local_log = false;
    let err = reader.log_connection().unwrap_err();
    assert!(matches!(err, ConfigError::NoLocalLog(_)), "{err:?}");
    assert_eq!(err.kind(), attestlog::ErrorKind::NotFound);
    assert!(!dir.join("typo").exists());
    assert!(matches!(
        config(&[("REKOR_URL", "ftp://log")])
            .unwrap()
            .log_connection(),
        Err(ConfigError::BadUrl(_))
    ));
    // Sigstore's root (from TUF) does not vouch for another log.
    assert!(matches!(
        remote(&[("REKOR_URL", "http://127.0.0.1:3000")])
            .unwrap()
            .log_connection(),
        Err(ConfigError::NoLogKey)
    ));
    let missing = dir.join("missing.pem");
    assert!(matches!(
        config(&[
            ("REKOR_URL", "http://127.0.0.1:3000"),
            ("REKOR_PUBLIC_KEY", missing.to_str().unwrap())
        ])
        .unwrap()
        .log_connection(),
        Err(ConfigError::Read { .. })
    ));
    let missing_err = config(&[
        ("REKOR_URL", "http://127.0.0.1:3000"),
        ("REKOR_PUBLIC_KEY", missing.to_str().unwrap()),
    ])
    .unwrap()
    .log_connection()
    .unwrap_err();
    assert_eq!(missing_err.kind(), attestlog::ErrorKind::NotFound);
    // Each cause is printed once: the message names the file, the chain
    // adds the I/O error after it.
    let io = std::error::Error::source(&missing_err).unwrap().to_string();
    assert!(!missing_err.to_string().contains(&io), "{missing_err}");
    let chain = attestlog::dsse::ErrorChain(&missing_err).to_string();
    assert_eq!(chain, format!("{}: {io}", missing.display()));
    assert!(!missing_err.kind().is_retryable());
    // An empty embedded-log path is refused rather than the current directory.
    assert!(matches!(
        config(&[("REKOR_URL", "local:")]).unwrap().log_connection(),
        Err(ConfigError::EmptyLocalPath)
    ));
    // A key file that is not PEM: a typed error naming the file.
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, b"not a key").unwrap();
    assert!(matches!(
        config(&[
            ("REKOR_URL", "http://127.0.0.1:3000"),
            ("REKOR_PUBLIC_KEY", garbage.to_str().unwrap())
        ])
        .unwrap()
        .log_connection(),
        Err(ConfigError::LogKey { .. })
    ));

    // The embedded log: created on first use, its key beside it.
    let local = dir.join("log");
    let conn = config(&[("REKOR_URL", &format!("local:{}", local.display()))])
        .unwrap()
        .log_connection()
        .unwrap()
        .unwrap();
    assert!(matches!(conn.transport, LogTransport::Local(_)));
    let public = local.join("log-public.pem");
    assert!(public.exists() && local.join("log-key.pem").exists());
    drop(conn);

    // Over HTTP with that key file: trusted under the given name.
    let conn = config(&[
        ("REKOR_URL", "http://127.0.0.1:3000"),
        ("REKOR_PUBLIC_KEY", public.to_str().unwrap()),
        ("REKOR_LOG_NAME", "attestlog.local"),
    ])
    .unwrap()
    .log_connection()
    .unwrap()
    .unwrap();
    assert_eq!(conn.logs.len(), 1);
    assert_eq!(conn.logs[0].name, "attestlog.local");
    assert_eq!(conn.base, "http://127.0.0.1:3000");
}

/// A signing config (v0.2) listing a v2 log before a v1 log, and a TSA.
#[cfg(feature = "embedded-log")]
fn signing_config(v2_url: &str) -> String {
    format!(
        r#"{{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "rekorTlogUrls":[
    {{"url":"{v2_url}","majorApiVersion":2,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}},
    {{"url":"http://127.0.0.1:9/v1","majorApiVersion":1,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"them"}}],
  "rekorTlogConfig":{{"selector":"ANY"}},
  "tsaUrls":[{{"url":"{v2_url}/api/v1/timestamp","majorApiVersion":1,"validFor":{{"start":"2025-01-01T00:00:00Z"}},"operator":"us"}}],
  "tsaConfig":{{"selector":"ANY"}}}}"#
    )
}

#[test]
#[cfg(feature = "embedded-log")]
fn rekor_v2_by_api_version_or_signing_config() {
    let tmp = attestlog_testkit::TempDir::created("config-v2");
    // A trusted root with a v2 log and a TSA, as `log serve --rekor-api 2` writes.
    let log = attestlog::tlog::TileLog::open(
        &tmp.file("log"),
        attestlog::SigningKey::ed25519_from_seed(&[8; 32]),
        attestlog::tlog::TileLogOptions::default().with_name("config.test"),
    )
    .unwrap();
    let tsa = attestlog::tlog::TsaService::open(&tmp.file("tsa"), "config TSA").unwrap();
    let url = "http://127.0.0.1:7";
    let root = tmp.file("trusted_root.json");
    let tsa_url = format!("{url}/api/v1/timestamp");
    std::fs::write(
        &root,
        serde_json::to_vec(&log.trusted_root(url, Some((&tsa, &tsa_url)))).unwrap(),
    )
    .unwrap();
    let root = root.to_str().unwrap();

    assert!(matches!(
        config(&[("REKOR_URL", url), ("REKOR_API", "3")])
            .unwrap()
            .log_connection(),
        Err(ConfigError::BadApi(_))
    ));
    assert!(matches!(
        remote(&[("REKOR_URL", url), ("REKOR_API", "2")])
            .unwrap()
            .log_connection(),
        Err(ConfigError::V2NeedsTrustedRoot)
    ));
    let c = config(&[
        ("REKOR_URL", url),
        ("REKOR_API", "2"),
        ("REKOR_TRUSTED_ROOT", root),
        ("REKOR_TSA_URL", &tsa_url),
    ])
    .unwrap();
    let v2 = c.log_connection().unwrap().unwrap();
    assert_eq!(v2.base, url);
    let LogApi::V2 {
        tsa_url: Some(ref configured_tsa),
        ref authorities,
    } = v2.api
    else {
        panic!("not a v2 connection with a TSA: {:?}", v2.api);
    };
    assert_eq!(configured_tsa, &tsa_url);
    assert!(
        v2.logs
            .iter()
            .any(|l| l.api == attestlog::rekor::LogApi::V2)
    );
    assert_eq!(authorities.timestamp_authorities.len(), 1);
    assert!(v2.logs.iter().all(|l| l.origin.is_none()));
    // Any transport carries the v2 log and its TSA (here the tile log and
    // the TSA answering in process), blocking or async: an attestation is
    // timestamped, logged and verified through it.
    let answer = {
        let (log, tsa) = (log.clone(), tsa.clone());
        move |req: &http::Request<Vec<u8>>| tsa.handle(req).unwrap_or_else(|| log.handle(req))
    };
    let in_process = {
        let answer = answer.clone();
        move |req: http::Request<Vec<u8>>, _t: std::time::Duration| {
            Ok::<_, std::convert::Infallible>(answer(&req))
        }
    };
    let statement = || {
        Statement::new(
            Subject::sha256("app", &[7; 32]),
            "https://example.com/p",
            serde_json::json!({}),
        )
    };
    let ecdsa = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let done = Attestor::builder(ecdsa(), Box::new(MemoryStore::new()))
        .log(v2.log_over(in_process))
        .build()
        .attest("acme", "app", statement())
        .unwrap();
    assert!(done.publish_error.is_none(), "{:?}", done.publish_error);
    assert_eq!(done.entry.unwrap().api, LogApiVersion::V2);
    let in_process_async = move |req: http::Request<Vec<u8>>, _t: std::time::Duration| {
        let response = answer(&req);
        async move { Ok::<_, std::convert::Infallible>(response) }
    };
    let attestor = Attestor::builder(ecdsa(), Box::new(MemoryStore::new()))
        .log(v2.async_log_over(in_process_async))
        .build();
    let done = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(attestor.attest("acme", "app", statement()))
        .unwrap();
    assert!(done.publish_error.is_none(), "{:?}", done.publish_error);
    assert_eq!(done.entry.unwrap().api, LogApiVersion::V2);
    // REKOR_LOG_NAME pins the root's logs too (the same route as a pinned
    // key, and as the CLI's --log-name): a v2 connection honours it.
    let pinned = config(&[
        ("REKOR_URL", url),
        ("REKOR_API", "2"),
        ("REKOR_TRUSTED_ROOT", root),
        ("REKOR_LOG_NAME", "config.test"),
    ])
    .unwrap()
    .log_connection()
    .unwrap()
    .unwrap();
    assert!(!pinned.logs.is_empty());
    assert!(
        pinned
            .logs
            .iter()
            .all(|l| l.origin.as_deref() == Some("config.test"))
    );
    assert!(matches!(
        config(&[("REKOR_URL", "local:/tmp/x"), ("REKOR_API", "v2")])
            .unwrap()
            .log_connection(),
        Err(ConfigError::LocalV2)
    ));
    // A v1 URL stays v1.
    let c = config(&[("REKOR_URL", url), ("REKOR_TRUSTED_ROOT", root)]).unwrap();
    assert!(matches!(
        c.log_connection().unwrap().unwrap().api,
        LogApi::V1
    ));

    // The signing config picks the v2 log (listed first) and its TSA.
    let sc = tmp.file("signing_config.json");
    std::fs::write(&sc, signing_config(url)).unwrap();
    let sc = sc.to_str().unwrap();
    let c = config(&[("REKOR_SIGNING_CONFIG", sc), ("REKOR_TRUSTED_ROOT", root)]).unwrap();
    let v2 = c.log_connection().unwrap().unwrap();
    assert_eq!(v2.base, url);
    assert!(
        matches!(&v2.api, LogApi::V2 { tsa_url: Some(t), .. } if *t == tsa_url),
        "{:?}",
        v2.api
    );
    // One client trust configuration (root and signing config in one file)
    // serves as both.
    let ctc = tmp.file("trust_config.json");
    std::fs::write(
        &ctc,
        format!(
            r#"{{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                "trustedRoot": {}, "signingConfig": {}}}"#,
            std::fs::read_to_string(root).unwrap(),
            signing_config(url)
        ),
    )
    .unwrap();
    let ctc = ctc.to_str().unwrap();
    let c = config(&[("REKOR_SIGNING_CONFIG", ctc), ("REKOR_TRUSTED_ROOT", ctc)]).unwrap();
    let from_one = c.log_connection().unwrap().unwrap();
    assert_eq!(from_one.base, url);
    assert_eq!(from_one.logs, v2.logs);
    assert!(matches!(&from_one.api, LogApi::V2 { tsa_url: Some(t), .. } if *t == tsa_url));
    // A signing config is not a trusted root.
    assert!(matches!(
        config(&[("REKOR_SIGNING_CONFIG", sc), ("REKOR_TRUSTED_ROOT", sc)])
            .unwrap()
            .log_connection(),
        Err(ConfigError::TrustedRoot {
            source: attestlog::rekor::TrustDocumentError::NoTrustedRoot,
            ..
        })
    ));
    // Both a URL and a signing config: which one is meant is unclear.
    assert!(matches!(
        config(&[("REKOR_SIGNING_CONFIG", sc), ("REKOR_URL", url)])
            .unwrap()
            .log_connection(),
        Err(ConfigError::UrlAndSigningConfig)
    ));
    // A signing config that is not one.
    let bad = tmp.file("bad.json");
    std::fs::write(&bad, b"{}").unwrap();
    assert!(matches!(
        config(&[("REKOR_SIGNING_CONFIG", bad.to_str().unwrap())])
            .unwrap()
            .log_connection(),
        Err(ConfigError::SigningConfig { .. })
    ));
}

/// Issue 28: a Sigstore log given without a key or root is trusted by the
/// current trusted root from TUF (only that log of it), and
/// `REKOR_SIGNING_CONFIG=tuf` picks the log the repository's signing
/// config selects.
#[cfg(feature = "tuf")]
#[test]
fn trust_from_the_tuf_repository() {
    let c = remote(&[("REKOR_URL", "https://rekor.sigstore.dev")]).unwrap();
    let conn = c.log_connection().unwrap().unwrap();
    assert!(matches!(conn.api, LogApi::V1));
    assert_eq!(conn.logs.len(), 1);
    assert_eq!(conn.logs[0].base_url, "https://rekor.sigstore.dev");

    // The v2 shard the published root lists, with its TSA authorities.
    let c = remote(&[
        ("REKOR_URL", "https://log2025-1.rekor.sigstore.dev"),
        ("REKOR_API", "2"),
    ])
    .unwrap();
    let conn = c.log_connection().unwrap().unwrap();
    assert_eq!(conn.logs.len(), 1);
    assert!(conn.authorities().is_some_and(|a| !a.is_empty()));

    let c = remote(&[("REKOR_SIGNING_CONFIG", "tuf")]).unwrap();
    let conn = c.log_connection().unwrap().unwrap();
    assert_eq!(conn.base, "https://rekor.sigstore.dev");

    // Offline with an empty cache: a typed TUF error, kind InvalidInput.
    let empty = attestlog_testkit::TempDir::new("config-tuf-none");
    let c = remote(&[
        ("REKOR_URL", "https://rekor.sigstore.dev"),
        ("ATTESTLOG_OFFLINE", "1"),
        ("ATTESTLOG_TUF_CACHE", empty.path().to_str().unwrap()),
    ])
    .unwrap();
    let err = c.log_connection().unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Tuf {
                source: attestlog::client::tuf::TufError::NoCache { .. },
                ..
            }
        ),
        "{err:?}"
    );
    // Unreachable: retryable.
    let c = config(&[
        ("REKOR_URL", "https://rekor.sigstore.dev"),
        ("ATTESTLOG_TUF_URL", "http://127.0.0.1:1"),
        ("ATTESTLOG_TUF_CACHE", empty.path().to_str().unwrap()),
    ])
    .unwrap();
    let err = c.log_connection().unwrap_err();
    assert_eq!(err.kind(), attestlog::ErrorKind::Unavailable, "{err:?}");
    assert!(matches!(
        config(&[("ATTESTLOG_OFFLINE", "perhaps")]),
        Err(ConfigError::Flag {
            name: "ATTESTLOG_OFFLINE",
            ..
        })
    ));
}

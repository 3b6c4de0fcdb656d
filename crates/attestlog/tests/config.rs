//! `Config::from_env` / `from_lookup` and what a configuration opens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use attestlog::{Config, ConfigError, LogTransport};

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
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
    assert!(matches!(
        config(&[("REKOR_URL", "ftp://log")])
            .unwrap()
            .log_connection(),
        Err(ConfigError::BadUrl(_))
    ));
    assert!(matches!(
        config(&[("REKOR_URL", "http://127.0.0.1:3000")])
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

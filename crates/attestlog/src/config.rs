//! Where things are: the store, the log and the keys that are trusted for it,
//! from the environment (`Config::from_env`) or set directly.

use std::path::PathBuf;
use std::time::Duration;

use attest_rekor::TrustedLog;
use attest_store::AttestationStore;
use http::{Request, Response};
use rekor_client::{RekorClient, Transport};

/// How the pipeline reaches its log: HTTP (any Rekor v1, e.g.
/// `https://rekor.sigstore.dev` or `attestlog log serve`; feature `ureq`)
/// or the embedded log in process (feature `embedded-log`). A library user
/// with other needs passes any [`Transport`] to the builders instead.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum LogTransport {
    /// Blocking HTTP(S).
    #[cfg(feature = "ureq")]
    Http(rekor_client::UreqTransport),
    /// The embedded log, no socket.
    #[cfg(feature = "embedded-log")]
    Local(attest_tlog::LocalLog),
}

/// Why [`LogTransport`] failed an exchange (always retryable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The HTTP transport failed.
    #[cfg(feature = "ureq")]
    #[error(transparent)]
    Http(#[from] rekor_client::UreqError),
}

impl Transport for LogTransport {
    type Error = TransportError;
    #[allow(unused_variables)] // with neither feature the enum is empty
    fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        match *self {
            #[cfg(feature = "ureq")]
            Self::Http(ref t) => Ok(t.send(req, timeout)?),
            #[cfg(feature = "embedded-log")]
            Self::Local(ref l) => Ok(l.handle(&req)),
        }
    }
}

/// The Rekor client the configured pipeline uses.
pub type LogClient = RekorClient<LogTransport>;

/// A configured log: where it is, how to reach it, which keys are trusted
/// for it. Cheap to clone; every [`client`](Self::client) shares the
/// transport (and an embedded log's open directory).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LogConnection {
    /// Base URL (`http://attestlog.local` for the embedded log).
    pub base: String,
    /// The transport.
    pub transport: LogTransport,
    /// The trusted log keys.
    pub logs: Vec<TrustedLog>,
}

impl LogConnection {
    /// A client over this connection.
    #[must_use]
    // Without `ureq` and `embedded-log` no connection can exist.
    #[cfg_attr(
        not(any(feature = "ureq", feature = "embedded-log")),
        allow(unreachable_code)
    )]
    pub fn client(&self) -> LogClient {
        RekorClient::new(self.base.clone(), self.transport.clone(), self.logs.clone())
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `REKOR_URL` is neither `http(s)://…` nor `local:DIR`.
    #[error("REKOR_URL {0:?}: expected http://…, https://… or local:DIR (the embedded log)")]
    BadUrl(String),
    /// `REKOR_URL=local:` without a directory.
    #[error("REKOR_URL=local: needs a directory (local:DIR)")]
    EmptyLocalPath,
    /// A log URL without a key to verify it by.
    #[error(
        "REKOR_URL is set but no log key: set REKOR_PUBLIC_KEY (PEM file) or REKOR_TRUSTED_ROOT"
    )]
    NoLogKey,
    /// What the configuration asks for needs a feature this build lacks.
    #[error("{what} needs attestlog's `{feature}` feature, which this build does not have")]
    FeatureDisabled {
        /// What was asked for.
        what: &'static str,
        /// The feature that provides it.
        feature: &'static str,
    },
    /// A key or trust-root file is unreadable.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A log key file is not a PEM public key or certificate.
    #[error("{}: {source}", path.display())]
    LogKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_rekor::x509::CertificateError,
    },
    /// A trusted-root file is not a Sigstore trusted root.
    #[error("{}: {source}", path.display())]
    TrustedRoot {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_rekor::TrustRootError,
    },
    /// A number in the environment is not one.
    #[error("{name}: {value:?} is not a number of seconds")]
    Seconds {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] attest_store::StoreError),
    /// The embedded log could not be opened.
    #[cfg(feature = "embedded-log")]
    #[error("embedded log: {0}")]
    Local(#[from] attest_tlog::LocalError),
}

impl ConfigError {
    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind as K;
        match self {
            Self::Store(e) => K::from_store(e),
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                K::NotFound
            }
            _ => K::InvalidInput,
        }
    }
}

/// The pipeline's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// `ATTESTLOG_DB`: a SQLite path or a `postgres://` URL (default
    /// `attestlog.db`).
    pub db: String,
    /// `REKOR_URL`: unset = no publication; `http(s)://…` = a Rekor v1 log;
    /// `local:DIR` = the embedded log in DIR (key `DIR/log-key.pem`, created
    /// on first use).
    pub rekor_url: Option<String>,
    /// `REKOR_PUBLIC_KEY`: the log's public key (PEM file).
    pub rekor_public_key: Option<PathBuf>,
    /// `REKOR_LOG_NAME`: pins the log's name (`attestlog log serve` signs
    /// as `attestlog.local`): every checkpoint's signed origin line must be
    /// it, or `<name> - <tree id>`. Unset: the origin is not checked — the
    /// checkpoint's signature is found by the key's id, whatever name the
    /// line carries.
    pub rekor_log_name: Option<String>,
    /// `REKOR_TRUSTED_ROOT`: a Sigstore `trusted_root.json`.
    pub rekor_trusted_root: Option<PathBuf>,
    /// `ATTESTLOG_BACKDATE_WINDOW`: seconds a claimed time may precede the
    /// log's integrated time (default 300).
    pub backdate_window: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            db: "attestlog.db".into(),
            rekor_url: None,
            rekor_public_key: None,
            rekor_log_name: None,
            rekor_trusted_root: None,
            backdate_window: 300,
        }
    }
}

impl Config {
    /// Reads the settings from the environment.
    ///
    /// # Errors
    /// [`ConfigError::Seconds`] for a malformed number.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings from any lookup (the environment in
    /// [`from_env`](Self::from_env); a map in tests).
    ///
    /// # Errors
    /// [`ConfigError::Seconds`] for a malformed number.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        let d = Self::default();
        Ok(Self {
            db: get("ATTESTLOG_DB").unwrap_or(d.db),
            rekor_url: get("REKOR_URL"),
            rekor_public_key: get("REKOR_PUBLIC_KEY").map(PathBuf::from),
            rekor_log_name: get("REKOR_LOG_NAME"),
            rekor_trusted_root: get("REKOR_TRUSTED_ROOT").map(PathBuf::from),
            backdate_window: match get("ATTESTLOG_BACKDATE_WINDOW") {
                None => d.backdate_window,
                Some(v) => v.parse().map_err(|_| ConfigError::Seconds {
                    name: "ATTESTLOG_BACKDATE_WINDOW",
                    value: v.clone(),
                })?,
            },
        })
    }

    /// Opens the store: a `postgres://` URL needs the `postgres` feature,
    /// anything else is a SQLite path and needs `sqlite`.
    ///
    /// # Errors
    /// [`ConfigError::Store`], or [`ConfigError::FeatureDisabled`].
    pub fn open_store(&self) -> Result<Box<dyn AttestationStore>, ConfigError> {
        let pg = self.db.starts_with("postgres://") || self.db.starts_with("postgresql://");
        if pg {
            #[cfg(feature = "postgres")]
            return Ok(Box::new(attest_store::PostgresStore::open(&self.db)?));
            #[cfg(not(feature = "postgres"))]
            return Err(ConfigError::FeatureDisabled {
                what: "a postgres:// ATTESTLOG_DB",
                feature: "postgres",
            });
        }
        #[cfg(feature = "sqlite")]
        return Ok(Box::new(attest_store::SqliteStore::open(&self.db)?));
        #[cfg(not(feature = "sqlite"))]
        Err(ConfigError::FeatureDisabled {
            what: "a SQLite ATTESTLOG_DB",
            feature: "sqlite",
        })
    }

    /// The log connection, or `None` when publication is off. An embedded
    /// log is opened here (once per process: share the connection).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad URL, a missing or unreadable log key, an
    /// embedded log that cannot be opened, or a transport this build lacks.
    pub fn log_connection(&self) -> Result<Option<LogConnection>, ConfigError> {
        let Some(url) = &self.rekor_url else {
            return Ok(None);
        };
        if let Some(dir) = url.strip_prefix("local:") {
            if dir.is_empty() {
                return Err(ConfigError::EmptyLocalPath);
            }
            return self.local(PathBuf::from(dir)).map(Some);
        }
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || http::Uri::try_from(url.as_str()).is_err()
        {
            return Err(ConfigError::BadUrl(url.clone()));
        }
        let logs = self.trusted_logs(url)?;
        #[cfg(feature = "ureq")]
        return Ok(Some(LogConnection {
            base: url.clone(),
            transport: LogTransport::Http(rekor_client::UreqTransport::new()),
            logs,
        }));
        #[cfg(not(feature = "ureq"))]
        {
            drop(logs);
            Err(ConfigError::FeatureDisabled {
                what: "an http(s) REKOR_URL",
                feature: "ureq",
            })
        }
    }

    #[cfg(feature = "embedded-log")]
    fn local(&self, dir: PathBuf) -> Result<LogConnection, ConfigError> {
        use attest_tlog::{LocalLog, LogOptions};
        let key = attest_tlog::load_or_create_key(&dir.join("log-key.pem"))?;
        let log = LocalLog::open(&dir, key, LogOptions::default())?;
        let mut logs = vec![log.trusted_log()];
        // A pinned key or name is honoured here too: the embedded log must
        // be the one the caller trusts.
        if self.rekor_public_key.is_some() || self.rekor_trusted_root.is_some() {
            logs = self.trusted_logs("http://attestlog.local")?;
        }
        if let Some(n) = &self.rekor_log_name {
            logs = logs.into_iter().map(|l| l.pinned_name(n.clone())).collect();
        }
        Ok(LogConnection {
            base: "http://attestlog.local".into(),
            transport: LogTransport::Local(log),
            logs,
        })
    }

    #[cfg(not(feature = "embedded-log"))]
    #[allow(clippy::unused_self)]
    fn local(&self, _dir: PathBuf) -> Result<LogConnection, ConfigError> {
        Err(ConfigError::FeatureDisabled {
            what: "REKOR_URL=local:DIR",
            feature: "embedded-log",
        })
    }

    fn trusted_logs(&self, url: &str) -> Result<Vec<TrustedLog>, ConfigError> {
        let read = |p: &PathBuf| {
            std::fs::read(p).map_err(|source| ConfigError::Read {
                path: p.clone(),
                source,
            })
        };
        if let Some(p) = &self.rekor_public_key {
            let bytes = read(p)?;
            let key = attest_rekor::x509::public_key_from_pem(&String::from_utf8_lossy(&bytes))
                .map_err(|source| ConfigError::LogKey {
                    path: p.clone(),
                    source,
                })?;
            let mut log = TrustedLog::rekor_v1(url, key);
            if let Some(n) = &self.rekor_log_name {
                log = log.pinned_name(n.clone());
            }
            return Ok(vec![log]);
        }
        if let Some(p) = &self.rekor_trusted_root {
            return attest_rekor::logs_from_trusted_root(&read(p)?).map_err(|source| {
                ConfigError::TrustedRoot {
                    path: p.clone(),
                    source,
                }
            });
        }
        Err(ConfigError::NoLogKey)
    }
}

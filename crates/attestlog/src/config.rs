//! Where things are: the store, the log and the keys that are trusted for it,
//! from the environment (`Config::from_env`) or set directly.

use std::path::PathBuf;
use std::time::Duration;

use attest_dsse::PublicKey;
use attest_store::AttestationStore;
use http::{Request, Response};
use rekor_client::local::{LocalLog, LogOptions};
use rekor_client::{RekorClient, Transport, TrustedLog, UreqTransport};

/// How the pipeline reaches its log: HTTP (any Rekor v1, e.g.
/// `https://rekor.sigstore.dev` or `attestlog log serve`) or the embedded
/// log in process.
#[derive(Clone, Debug)]
pub enum LogTransport {
    /// Blocking HTTP(S).
    Http(UreqTransport),
    /// The embedded log, no socket.
    Local(LocalLog),
}

/// A transport failure (always retryable).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(String);

impl Transport for LogTransport {
    type Error = TransportError;
    fn send(
        &self,
        req: Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        match self {
            Self::Http(t) => t
                .send(req, timeout)
                .map_err(|e| TransportError(e.to_string())),
            Self::Local(l) => Ok(l.handle(&req)),
        }
    }
}

/// The Rekor client the pipeline uses.
pub type LogClient = RekorClient<LogTransport>;

/// A configured log: where it is, how to reach it, which keys are trusted
/// for it. Cheap to clone; every [`client`](Self::client) shares the
/// transport (and an embedded log's open directory).
#[derive(Clone, Debug)]
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
    /// A log URL without a key to verify it by.
    #[error(
        "REKOR_URL is set but no log key: set REKOR_PUBLIC_KEY (PEM file) or REKOR_TRUSTED_ROOT"
    )]
    NoLogKey,
    /// A key or trust-root file is unreadable.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A number in the environment is not one.
    #[error("{name}: {reason}")]
    Value {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] attest_store::StoreError),
    /// The embedded log could not be opened.
    #[error("embedded log: {0}")]
    Local(#[from] rekor_client::local::LocalError),
}

/// The pipeline's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// `REKOR_LOG_NAME`: the name the log signs checkpoints under (default:
    /// the URL's host; `attestlog log serve` uses `attestlog.local`).
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
    /// [`ConfigError::Value`] for a malformed number.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the settings from any lookup (the environment in
    /// [`from_env`](Self::from_env); a map in tests).
    ///
    /// # Errors
    /// [`ConfigError::Value`] for a malformed number.
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
                Some(v) => v.parse().map_err(|_| ConfigError::Value {
                    name: "ATTESTLOG_BACKDATE_WINDOW",
                    reason: format!("{v:?} is not a number of seconds"),
                })?,
            },
        })
    }

    /// Opens the store.
    ///
    /// # Errors
    /// [`ConfigError::Store`].
    pub fn open_store(&self) -> Result<Box<dyn AttestationStore>, ConfigError> {
        Ok(attest_store::open(&self.db)?)
    }

    /// The log connection, or `None` when publication is off. An embedded
    /// log is opened here (once per process: share the connection).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad URL, a missing or unreadable log key, or an
    /// embedded log that cannot be opened.
    pub fn log_connection(&self) -> Result<Option<LogConnection>, ConfigError> {
        let Some(url) = &self.rekor_url else {
            return Ok(None);
        };
        if let Some(dir) = url.strip_prefix("local:") {
            let dir = PathBuf::from(dir);
            let key = rekor_client::local::load_or_create_key(&dir.join("log-key.pem"))?;
            let log = LocalLog::open(&dir, key, LogOptions::default())?;
            let logs = vec![log.trusted_log()];
            return Ok(Some(LogConnection {
                base: "http://attestlog.local".into(),
                transport: LogTransport::Local(log),
                logs,
            }));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::BadUrl(url.clone()));
        }
        Ok(Some(LogConnection {
            base: url.clone(),
            transport: LogTransport::Http(UreqTransport::new()),
            logs: self.trusted_logs(url)?,
        }))
    }

    fn trusted_logs(&self, url: &str) -> Result<Vec<TrustedLog>, ConfigError> {
        let read = |p: &PathBuf| {
            std::fs::read(p).map_err(|e| ConfigError::File {
                path: p.clone(),
                reason: e.to_string(),
            })
        };
        if let Some(p) = &self.rekor_public_key {
            let pem = String::from_utf8(read(p)?).map_err(|_| ConfigError::File {
                path: p.clone(),
                reason: "not PEM text".into(),
            })?;
            let key = PublicKey::from_pem(&pem).map_err(|e| ConfigError::File {
                path: p.clone(),
                reason: e.to_string(),
            })?;
            let mut log = TrustedLog::rekor_v1(url, key);
            if let Some(n) = &self.rekor_log_name {
                log.name = n.clone();
            }
            return Ok(vec![log]);
        }
        if let Some(p) = &self.rekor_trusted_root {
            return rekor_client::logs_from_trusted_root(&read(p)?).map_err(|e| {
                ConfigError::File {
                    path: p.clone(),
                    reason: e.to_string(),
                }
            });
        }
        Err(ConfigError::NoLogKey)
    }
}

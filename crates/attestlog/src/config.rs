//! Where things are: the store, the log and the keys that are trusted for it,
//! from the environment (`Config::from_env`) or set directly.

use std::path::PathBuf;
use std::time::Duration;

use attest_rekor::TrustedLog;
use attest_rekor::pki::Authorities;
use attest_store::AttestationStore;
use http::{Request, Response};
use rekor_client::tsa::{AsyncTsaClient, TsaClient};
use rekor_client::v2::{AsyncRekorV2Client, RekorV2Client};
use rekor_client::{AsyncRekorClient, AsyncTransport, RekorClient, Transport};

use crate::{ConfiguredLog, mode};

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
/// for it, and which API it speaks. Cheap to clone; every
/// [`log`](Self::log) shares the transport (and an embedded log's open
/// directory).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LogConnection {
    /// Base URL (`http://attestlog.local` for the embedded log).
    pub base: String,
    /// The transport.
    pub transport: LogTransport,
    /// The trusted log keys.
    pub logs: Vec<TrustedLog>,
    /// The API the log speaks, with what a Rekor v2 log needs.
    pub api: LogApi,
}

/// Which Rekor API a configured log speaks.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum LogApi {
    /// Rekor v1 (`/api/v1/log/entries`), or the embedded log.
    V1,
    /// Rekor v2: C2SP tiles, and each entry's time from an RFC 3161
    /// timestamp authority.
    V2 {
        /// The timestamp authority's endpoint, when publishing.
        tsa_url: Option<String>,
        /// The trusted root's authorities (timestamp authorities among
        /// them).
        authorities: Authorities,
    },
}

impl LogConnection {
    /// The pipelines' view of this log over its own transport: give it to
    /// `.log(…)` of an [`Attestor`](crate::Attestor) or
    /// [`Auditor`](crate::Auditor) builder.
    #[must_use]
    // Without `ureq` and `embedded-log` no connection can exist.
    #[cfg_attr(
        not(any(feature = "ureq", feature = "embedded-log")),
        allow(unreachable_code)
    )]
    pub fn log(&self) -> ConfiguredLog<mode::Blocking> {
        self.log_over(self.transport.clone())
    }

    /// The pipelines' view of this log over a blocking `transport` of the
    /// caller's choice (a Rekor v2 log and its timestamp authority each get
    /// a clone).
    #[must_use]
    pub fn log_over<T: Transport + Clone + Send + Sync + 'static>(
        &self,
        transport: T,
    ) -> ConfiguredLog<mode::Blocking> {
        match &self.api {
            LogApi::V1 => ConfiguredLog::new(RekorClient::new(
                self.base.clone(),
                transport,
                self.logs.clone(),
            )),
            LogApi::V2 {
                tsa_url,
                authorities,
            } => {
                let log = crate::RekorV2::new(RekorV2Client::new(
                    &self.base,
                    transport.clone(),
                    self.logs.clone(),
                ));
                ConfiguredLog::new(match tsa_url {
                    Some(url) => log.with_tsa(TsaClient::new(
                        url,
                        transport,
                        authorities.timestamp_authorities.clone(),
                    )),
                    None => log,
                })
            }
        }
    }

    /// [`log_over`](Self::log_over) for the async pipelines, over an async
    /// `transport` of the caller's choice.
    #[must_use]
    pub fn async_log_over<T: AsyncTransport + Clone + Send + Sync + 'static>(
        &self,
        transport: T,
    ) -> ConfiguredLog<mode::Async> {
        match &self.api {
            LogApi::V1 => ConfiguredLog::new(AsyncRekorClient::new(
                self.base.clone(),
                transport,
                self.logs.clone(),
            )),
            LogApi::V2 {
                tsa_url,
                authorities,
            } => {
                let log = crate::AsyncRekorV2::new(AsyncRekorV2Client::new(
                    &self.base,
                    transport.clone(),
                    self.logs.clone(),
                ));
                ConfiguredLog::new(match tsa_url {
                    Some(url) => log.with_tsa(AsyncTsaClient::new(
                        url,
                        transport,
                        authorities.timestamp_authorities.clone(),
                    )),
                    None => log,
                })
            }
        }
    }

    /// The trusted root's authorities of a Rekor v2 connection (`None`
    /// for v1).
    #[must_use]
    pub const fn authorities(&self) -> Option<&Authorities> {
        match &self.api {
            LogApi::V1 => None,
            LogApi::V2 { authorities, .. } => Some(authorities),
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `REKOR_URL` is neither `http(s)://…` nor `local:DIR`.
    #[error("REKOR_URL {0:?}: expected http://…, https://… or local:DIR (the embedded log)")]
    BadUrl(String),
    /// `REKOR_URL=local:DIR` names a directory with no embedded log, for a
    /// configuration that only reads.
    #[error("REKOR_URL=local:{}: no embedded log there (only `attest` creates one)", .0.display())]
    NoLocalLog(PathBuf),
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
    #[error("{}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A log key file is not a PEM public key or certificate.
    #[error("{}", path.display())]
    LogKey {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_rekor::x509::CertificateError,
    },
    /// A trusted-root file is not a Sigstore trusted root.
    #[error("{}", path.display())]
    TrustedRoot {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_rekor::TrustDocumentError,
    },
    /// A number in the environment is not one.
    #[error("{name}: {value:?} is not a number of seconds")]
    Seconds {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A yes/no variable is neither.
    #[error("{name}: {value:?} is not a yes/no value (1, true, yes, on / 0, false, no, off)")]
    Flag {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A time variable is not RFC 3339.
    #[error("{name}: {value:?} is not an RFC 3339 time")]
    Time {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// No trust material came from the TUF repository.
    #[cfg(feature = "tuf")]
    #[error("trust from the TUF repository {url}")]
    Tuf {
        /// The repository.
        url: String,
        /// Why.
        #[source]
        source: rekor_client::tuf::TufError,
    },
    /// A document from the TUF repository is not what its name says, or
    /// the repository lists no signing config.
    #[cfg(feature = "tuf")]
    #[error("{target} from the TUF repository {url}")]
    TufTarget {
        /// The repository.
        url: String,
        /// The target.
        target: &'static str,
        /// Why.
        #[source]
        source: Option<Box<attest_rekor::TrustDocumentError>>,
    },
    /// `REKOR_API` is neither 1 nor 2 (nor `v1`, `v2`).
    #[error("REKOR_API {0:?}: expected 1 or 2 (the Rekor API major version)")]
    BadApi(String),
    /// A Rekor v2 log without a trusted root: its key and the timestamp
    /// authorities' certificates come from one.
    #[error("a Rekor v2 log needs REKOR_TRUSTED_ROOT (its key and the timestamp authorities')")]
    V2NeedsTrustedRoot,
    /// `REKOR_URL=local:DIR` with `REKOR_API=2`: the in-process embedded log
    /// is a v1 log.
    #[error(
        "REKOR_URL=local:DIR is the embedded Rekor v1 log; for v2, serve one with `attestlog log serve --rekor-api 2 --dir DIR` and give its http:// URL"
    )]
    LocalV2,
    /// Both `REKOR_URL` and `REKOR_SIGNING_CONFIG` are set.
    #[error(
        "REKOR_URL and REKOR_SIGNING_CONFIG are both set: the signing config picks the log, so set one"
    )]
    UrlAndSigningConfig,
    /// The signing config is unreadable or selects nothing usable now.
    #[error("{}", path.display())]
    SigningConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: attest_rekor::TrustDocumentError,
    },
    /// The store could not be opened.
    #[error("store")]
    Store(#[from] attest_store::StoreError),
    /// The embedded log could not be opened.
    #[cfg(feature = "embedded-log")]
    #[error("embedded log")]
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
            Self::NoLocalLog(_) => K::NotFound,
            // The repository could not be reached: try again later. Any
            // refusal of what it served is not retryable.
            #[cfg(feature = "tuf")]
            Self::Tuf {
                source:
                    rekor_client::tuf::TufError::Fetch { .. }
                    | rekor_client::tuf::TufError::Status { .. },
                ..
            } => K::Unavailable,
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
    /// `REKOR_URL`: unset = no publication; `http(s)://…` = a Rekor log
    /// (v1, or v2 with `REKOR_API=2`);
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
    /// `REKOR_TRUSTED_ROOT`: a Sigstore `trusted_root.json` (or a client
    /// trust configuration holding one).
    pub rekor_trusted_root: Option<PathBuf>,
    /// `ATTESTLOG_BACKDATE_WINDOW`: seconds a claimed time may precede the
    /// log's integrated time (default 300).
    pub backdate_window: i64,
    /// `REKOR_API`: the major API version of the log at `REKOR_URL`, 1
    /// (default) or 2 (Rekor v2: C2SP tiles, RFC 3161 time; needs
    /// `REKOR_TRUSTED_ROOT` and, to publish, `REKOR_TSA_URL`).
    pub rekor_api: Option<String>,
    /// `REKOR_TSA_URL`: the RFC 3161 timestamp authority a Rekor v2 entry
    /// is timestamped by (e.g. `https://timestamp.sigstore.dev/api/v1/timestamp`,
    /// or `<log serve --rekor-api 2 URL>/api/v1/timestamp`).
    pub rekor_tsa_url: Option<String>,
    /// `REKOR_SIGNING_CONFIG`: a Sigstore `signing_config.json` (v0.2, or a
    /// client trust configuration holding one)
    /// that picks the log (the first valid one, v1 or v2, by its selector)
    /// and the timestamp authority, instead of `REKOR_URL`; `tuf` takes
    /// the current one from Sigstore's TUF repository (feature `tuf`).
    pub rekor_signing_config: Option<PathBuf>,
    /// Where trust comes from when no file gives it (feature `tuf`):
    /// Sigstore's TUF repository.
    pub tuf: TufSettings,
    /// Whether `REKOR_URL=local:DIR` may create the embedded log (and its
    /// key) when DIR holds none: true for a configuration that attests;
    /// a reader (an audit, the portal, re-publishing pending rows) sets it
    /// false, so that a mistyped DIR is an error, not a new empty log.
    pub create_local_log: bool,
}

/// Which TUF repository a [`Config`] takes its trusted root (for an
/// `http(s)` log given without `REKOR_PUBLIC_KEY` or `REKOR_TRUSTED_ROOT`)
/// and signing config (`REKOR_SIGNING_CONFIG=tuf`) from. The same
/// variables as the `attestlog` command's flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TufSettings {
    /// `ATTESTLOG_STAGING`: Sigstore's staging repository instead of
    /// production.
    pub staging: bool,
    /// `ATTESTLOG_TUF_URL`: another repository (a private Sigstore, or a
    /// mirror of production/staging).
    pub url: Option<String>,
    /// `ATTESTLOG_TUF_ROOT`: the initial `root.json` trusted for `url`
    /// (default: the embedded production or staging root).
    pub root: Option<PathBuf>,
    /// `ATTESTLOG_TUF_CACHE`: the cache directory (default: the platform's
    /// cache directory).
    pub cache: Option<PathBuf>,
    /// `ATTESTLOG_OFFLINE`: the cache only, never the network.
    pub offline: bool,
    /// `ATTESTLOG_TUF_CLOCK`: the time expiry is checked at, for tests
    /// against a recorded repository (default: this machine's clock).
    pub clock: Option<attest_dsse::Timestamp>,
    /// What this configuration fetched, shared by its clones (one update
    /// per configuration, not one per question asked of it).
    #[doc(hidden)]
    pub fetched: Fetched,
}

/// The trust material a [`Config`] fetched once (an implementation detail
/// that compares equal whatever it holds).
#[derive(Clone, Default)]
pub struct Fetched(
    #[cfg(feature = "tuf")] std::sync::Arc<std::sync::OnceLock<rekor_client::tuf::SigstoreTrust>>,
);

#[cfg(feature = "tuf")]
impl TufSettings {
    /// The trust material from the chosen repository (feature `tuf`):
    /// fetched and verified over HTTP, or from the cache alone when
    /// `offline`; once per settings value (and its clones).
    ///
    /// # Errors
    /// [`ConfigError::Read`] for an unreadable initial root,
    /// [`ConfigError::Tuf`] for any refusal of the TUF workflow.
    pub fn fetch(&self) -> Result<rekor_client::tuf::SigstoreTrust, ConfigError> {
        use rekor_client::tuf::{TufClient, TufRepository};
        if let Some(t) = self.fetched.0.get() {
            return Ok(t.clone());
        }
        let root = match &self.root {
            Some(p) => Some(std::fs::read(p).map_err(|source| ConfigError::Read {
                path: p.clone(),
                source,
            })?),
            None => None,
        };
        let mut client = TufClient::new(TufRepository::choose(
            self.staging,
            self.url.as_deref(),
            root,
        ));
        if let Some(dir) = &self.cache {
            client = client.with_cache_dir(dir);
        }
        let now = self.clock.unwrap_or_else(attest_dsse::Timestamp::now);
        let clock = move || now;
        let trust = if self.offline {
            client.offline(&clock)
        } else {
            client.update(&rekor_client::UreqTransport::new(), &clock)
        }
        .map_err(|source| ConfigError::Tuf {
            url: client.repository().url().to_owned(),
            source,
        })?;
        Ok(self.fetched.0.get_or_init(|| trust).clone())
    }
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetched")
    }
}

impl PartialEq for Fetched {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Fetched {}

/// A yes/no variable: `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`.
fn flag(value: Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(_) => Err(ConfigError::Flag {
            name,
            value: value.unwrap_or_default(),
        }),
    }
}

/// Where publication goes, once `REKOR_URL` / `REKOR_SIGNING_CONFIG` are
/// resolved.
struct Target {
    url: String,
    api: u32,
    tsa: Option<String>,
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
            rekor_api: None,
            rekor_tsa_url: None,
            rekor_signing_config: None,
            tuf: TufSettings::default(),
            create_local_log: true,
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
            rekor_api: get("REKOR_API"),
            rekor_tsa_url: get("REKOR_TSA_URL"),
            rekor_signing_config: get("REKOR_SIGNING_CONFIG").map(PathBuf::from),
            tuf: TufSettings {
                staging: flag(get("ATTESTLOG_STAGING"), "ATTESTLOG_STAGING")?,
                url: get("ATTESTLOG_TUF_URL"),
                root: get("ATTESTLOG_TUF_ROOT").map(PathBuf::from),
                cache: get("ATTESTLOG_TUF_CACHE").map(PathBuf::from),
                offline: flag(get("ATTESTLOG_OFFLINE"), "ATTESTLOG_OFFLINE")?,
                clock: match get("ATTESTLOG_TUF_CLOCK") {
                    None => None,
                    Some(t) => Some(attest_dsse::Timestamp::parse_rfc3339(&t).map_err(|_| {
                        ConfigError::Time {
                            name: "ATTESTLOG_TUF_CLOCK",
                            value: t,
                        }
                    })?),
                },
                fetched: Fetched::default(),
            },
            create_local_log: d.create_local_log,
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

    /// The log connection (Rekor v1 or v2, the embedded log), or `None`
    /// when publication is off. An embedded log is opened here (once per
    /// process: share the connection).
    ///
    /// # Errors
    /// [`ConfigError`] for a bad URL, a missing or unreadable log key or
    /// trusted root (a Rekor v2 log needs one), an embedded log that cannot
    /// be opened, an unusable signing config, or a transport this build
    /// lacks.
    pub fn log_connection(&self) -> Result<Option<LogConnection>, ConfigError> {
        let Some(target) = self.target()? else {
            return Ok(None);
        };
        let url = &target.url;
        if let Some(dir) = url.strip_prefix("local:") {
            if target.api == 2 {
                return Err(ConfigError::LocalV2);
            }
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
        let (logs, api) = if target.api == 2 {
            let (root, from_tuf) = self.remote_root()?.ok_or(ConfigError::V2NeedsTrustedRoot)?;
            let logs = if from_tuf {
                // Sigstore's root vouches for Sigstore's logs, not for
                // whatever log REKOR_URL names.
                let logs = root.logs_at(url);
                if logs.is_empty() {
                    return Err(ConfigError::V2NeedsTrustedRoot);
                }
                attest_rekor::pin_log_name(logs, self.rekor_log_name.as_deref())
            } else {
                root.logs_pinned(self.rekor_log_name.as_deref())
            };
            let api = LogApi::V2 {
                tsa_url: target.tsa,
                authorities: root.into_authorities(),
            };
            (logs, api)
        } else {
            (self.trusted_logs(url)?, LogApi::V1)
        };
        #[cfg(feature = "ureq")]
        return Ok(Some(LogConnection {
            base: target.url,
            transport: LogTransport::Http(rekor_client::UreqTransport::new()),
            logs,
            api,
        }));
        #[cfg(not(feature = "ureq"))]
        {
            drop((logs, api));
            Err(ConfigError::FeatureDisabled {
                what: "an http(s) REKOR_URL",
                feature: "ureq",
            })
        }
    }

    /// The trusted root's certificate and timestamp authorities, when
    /// `REKOR_TRUSTED_ROOT` is set (an auditor verifies RFC 3161
    /// timestamps with them).
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::TrustedRoot`].
    pub fn authorities(&self) -> Result<Option<attest_rekor::pki::Authorities>, ConfigError> {
        Ok(self
            .trusted_root()?
            .map(attest_rekor::TrustedRoot::into_authorities))
    }

    /// `REKOR_TRUSTED_ROOT`, read and parsed (once per call), when set.
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::TrustedRoot`].
    pub fn trusted_root(&self) -> Result<Option<attest_rekor::TrustedRoot>, ConfigError> {
        let Some(path) = &self.rekor_trusted_root else {
            return Ok(None);
        };
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        attest_rekor::TrustDocument::from_json(&bytes)
            .and_then(attest_rekor::TrustDocument::into_trusted_root)
            .map(Some)
            .map_err(|source| ConfigError::TrustedRoot {
                path: path.clone(),
                source,
            })
    }

    /// The trusted root for a remote log: `REKOR_TRUSTED_ROOT`, else (feature
    /// `tuf`) the current one from the TUF repository (`true`).
    fn remote_root(&self) -> Result<Option<(attest_rekor::TrustedRoot, bool)>, ConfigError> {
        if self.rekor_trusted_root.is_some() {
            return Ok(self.trusted_root()?.map(|r| (r, false)));
        }
        #[cfg(feature = "tuf")]
        {
            let trust = self.tuf_trust()?;
            attest_rekor::TrustedRoot::from_json(&trust.trusted_root)
                .map(|r| Some((r, true)))
                .map_err(|e| ConfigError::TufTarget {
                    url: trust.metadata.repository.clone(),
                    target: rekor_client::tuf::TRUSTED_ROOT_TARGET,
                    source: Some(Box::new(attest_rekor::TrustDocumentError::TrustedRoot(e))),
                })
        }
        #[cfg(not(feature = "tuf"))]
        Ok(None)
    }

    /// `REKOR_SIGNING_CONFIG=tuf`: the TUF repository's signing config.
    fn tuf_signing_config(&self) -> Result<attest_rekor::signing::SigningConfig, ConfigError> {
        #[cfg(feature = "tuf")]
        {
            let trust = self.tuf_trust()?;
            let target = rekor_client::tuf::SIGNING_CONFIG_TARGET;
            let url = || trust.metadata.repository.clone();
            let bytes = trust
                .signing_config
                .as_deref()
                .ok_or_else(|| ConfigError::TufTarget {
                    url: url(),
                    target,
                    source: None,
                })?;
            attest_rekor::signing::SigningConfig::from_json(bytes).map_err(|e| {
                ConfigError::TufTarget {
                    url: url(),
                    target,
                    source: Some(Box::new(attest_rekor::TrustDocumentError::SigningConfig(e))),
                }
            })
        }
        #[cfg(not(feature = "tuf"))]
        Err(ConfigError::FeatureDisabled {
            what: "REKOR_SIGNING_CONFIG=tuf",
            feature: "tuf",
        })
    }

    /// The trust material from the TUF repository, fetched once per
    /// configuration (and its clones).
    #[cfg(feature = "tuf")]
    fn tuf_trust(&self) -> Result<rekor_client::tuf::SigstoreTrust, ConfigError> {
        self.tuf.fetch()
    }

    /// The log to publish to and read from, and its API: `REKOR_URL` with
    /// `REKOR_API`, or what the signing config selects now.
    fn target(&self) -> Result<Option<Target>, ConfigError> {
        let api = match self.rekor_api.as_deref() {
            None | Some("1" | "v1") => 1,
            Some("2" | "v2") => 2,
            Some(other) => return Err(ConfigError::BadApi(other.to_owned())),
        };
        match (&self.rekor_url, &self.rekor_signing_config) {
            (Some(_), Some(_)) => Err(ConfigError::UrlAndSigningConfig),
            (None, None) => Ok(None),
            (Some(url), None) => Ok(Some(Target {
                url: url.clone(),
                api,
                tsa: self.rekor_tsa_url.clone(),
            })),
            (None, Some(path)) => {
                let bad = |source| ConfigError::SigningConfig {
                    path: path.clone(),
                    source,
                };
                let cfg = if path.as_os_str() == "tuf" {
                    self.tuf_signing_config()?
                } else {
                    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
                        path: path.clone(),
                        source,
                    })?;
                    attest_rekor::TrustDocument::from_json(&bytes)
                        .and_then(attest_rekor::TrustDocument::into_signing_config)
                        .map_err(bad)?
                };
                let now = attest_dsse::Timestamp::now();
                let unusable = |e| bad(attest_rekor::TrustDocumentError::SigningConfig(e));
                let log = cfg.select_logs(now, &[1, 2]).map_err(unusable)?;
                let Some(log) = log.first() else {
                    return Ok(None);
                };
                let tsa = match self.rekor_tsa_url.clone() {
                    Some(t) => Some(t),
                    None if log.major_api_version == 2 => cfg
                        .select_tsas(now)
                        .map_err(unusable)?
                        .first()
                        .map(|s| s.url.clone()),
                    None => None,
                };
                Ok(Some(Target {
                    url: log.url.clone(),
                    api: log.major_api_version,
                    tsa,
                }))
            }
        }
    }

    #[cfg(feature = "embedded-log")]
    fn local(&self, dir: PathBuf) -> Result<LogConnection, ConfigError> {
        use attest_tlog::{LocalLog, LogOptions};
        if !self.create_local_log && !dir.join("log.json").exists() {
            return Err(ConfigError::NoLocalLog(dir));
        }
        let key = attest_tlog::load_or_create_key(&dir.join("log-key.pem"))?;
        let log = LocalLog::open(&dir, key, LogOptions::default())?;
        // A pinned key, root or name is honoured here too: the embedded log
        // must be the one the caller trusts.
        let logs = if self.rekor_public_key.is_some() || self.rekor_trusted_root.is_some() {
            self.trusted_logs("http://attestlog.local")?
        } else {
            attest_rekor::pin_log_name(vec![log.trusted_log()], self.rekor_log_name.as_deref())
        };
        Ok(LogConnection {
            base: "http://attestlog.local".into(),
            transport: LogTransport::Local(log),
            logs,
            api: LogApi::V1,
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

    /// The logs trusted for a log at `url` (`REKOR_PUBLIC_KEY`, else
    /// `REKOR_TRUSTED_ROOT`; `REKOR_LOG_NAME` pinned on either), by the
    /// route the CLI takes too ([`attest_rekor::trusted_logs`]).
    fn trusted_logs(&self, url: &str) -> Result<Vec<TrustedLog>, ConfigError> {
        let key = match &self.rekor_public_key {
            Some(p) => {
                let bytes = std::fs::read(p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                Some(
                    attest_rekor::x509::public_key_from_pem(&String::from_utf8_lossy(&bytes))
                        .map_err(|source| ConfigError::LogKey {
                            path: p.clone(),
                            source,
                        })?,
                )
            }
            None => None,
        };
        // The root is read only when no key is pinned (the key wins).
        let root = if key.is_none() {
            match self.remote_root()? {
                // Sigstore's root vouches only for the logs it lists.
                Some((root, true)) => {
                    let logs = root.logs_at(url);
                    if logs.is_empty() {
                        return Err(ConfigError::NoLogKey);
                    }
                    Some(attest_rekor::TrustedRoot::from_logs(logs))
                }
                Some((root, false)) => Some(root),
                None => None,
            }
        } else {
            None
        };
        attest_rekor::trusted_logs(key, root.as_ref(), url, self.rekor_log_name.as_deref())
            .ok_or(ConfigError::NoLogKey)
    }
}

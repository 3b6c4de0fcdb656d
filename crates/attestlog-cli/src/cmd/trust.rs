//! Where trust comes from when no file is given: Sigstore's TUF repository
//! (production, `--staging`, or a private one), and `attestlog trust
//! update|show`.

use std::path::PathBuf;
use std::process::ExitCode;

use attest_dsse::{ErrorChain, Timestamp};
use attest_rekor::TrustedRoot;
use attest_rekor::signing::SigningConfig;
use clap::{Args, Subcommand};
use rekor_client::tuf::SigstoreTrust;

use crate::Failure;
use crate::cmd::print_json;

/// The TUF repository trust comes from when no trusted root (or signing
/// config) file is given. The same flags and environment fallbacks in
/// every command.
#[derive(Debug, Args, Clone)]
pub(crate) struct TufArgs {
    /// Sigstore's staging instance instead of production (its TUF
    /// repository, or with `--tuf-url` a mirror of it).
    #[arg(long, env = "ATTESTLOG_STAGING")]
    pub(crate) staging: bool,
    /// A TUF repository to fetch from instead of Sigstore's CDN: a private
    /// Sigstore (with `--tuf-root`) or a mirror of production/staging.
    #[arg(long, env = "ATTESTLOG_TUF_URL", value_name = "URL")]
    tuf_url: Option<String>,
    /// The initial `root.json` trusted for `--tuf-url` (default: the
    /// production root compiled in, or staging's with `--staging`).
    #[arg(
        long,
        env = "ATTESTLOG_TUF_ROOT",
        value_name = "FILE",
        requires = "tuf_url"
    )]
    tuf_root: Option<PathBuf>,
    /// The TUF cache directory for this repository (default: under the
    /// platform's cache directory, e.g. `~/.cache/attestlog/tuf/`).
    #[arg(long, env = "ATTESTLOG_TUF_CACHE", value_name = "DIR")]
    tuf_cache: Option<PathBuf>,
    /// Use only the cached TUF metadata (verified again, and unexpired);
    /// never the network.
    #[arg(long, env = "ATTESTLOG_OFFLINE")]
    offline: bool,
    /// The time TUF expiry is checked at (RFC 3339), for tests against a
    /// recorded repository; never set it in production.
    #[arg(long, env = "ATTESTLOG_TUF_CLOCK", hide = true, value_name = "TIME")]
    tuf_clock: Option<String>,
}

impl TufArgs {
    /// The same choice for the pipeline's configuration.
    pub(crate) fn apply(&self, s: &mut attestlog::TufSettings) -> Result<(), Failure> {
        s.staging = self.staging;
        s.url.clone_from(&self.tuf_url);
        s.root.clone_from(&self.tuf_root);
        s.cache.clone_from(&self.tuf_cache);
        s.offline = self.offline;
        s.clock = match &self.tuf_clock {
            None => None,
            Some(_) => Some(self.now()?),
        };
        Ok(())
    }

    fn now(&self) -> Result<Timestamp, Failure> {
        match &self.tuf_clock {
            None => Ok(Timestamp::now()),
            Some(t) => Timestamp::parse_rfc3339(t).map_err(Failure::error),
        }
    }

    /// The trust material: fetched and verified (or, `--offline`, from the
    /// cache), by the same settings the pipeline's configuration uses.
    pub(crate) fn fetch(&self) -> Result<SigstoreTrust, Failure> {
        let mut settings = attestlog::TufSettings::default();
        self.apply(&mut settings)?;
        settings.fetch().map_err(|e| {
            let hint = if self.offline {
                ""
            } else {
                " (pin trust with --trusted-root FILE, or use the cache with --offline)"
            };
            Failure::input(format_args!("{e}{hint}", e = ErrorChain(&e)))
        })
    }

    /// The trusted root from the repository.
    pub(crate) fn trusted_root(&self) -> Result<TrustedRoot, Failure> {
        let trust = self.fetch()?;
        parse_root(&trust)
    }

    /// The signing config from the repository.
    pub(crate) fn signing_config(&self) -> Result<SigningConfig, Failure> {
        let trust = self.fetch()?;
        parse_config(&trust)
    }
}

fn parse_root(trust: &SigstoreTrust) -> Result<TrustedRoot, Failure> {
    TrustedRoot::from_json(&trust.trusted_root).map_err(|e| {
        Failure::input(format_args!(
            "trusted_root.json of {}: {e}",
            trust.metadata.repository,
            e = ErrorChain(&e)
        ))
    })
}

fn parse_config(trust: &SigstoreTrust) -> Result<SigningConfig, Failure> {
    let bytes = trust.signing_config.as_deref().ok_or_else(|| {
        Failure::input(format_args!(
            "{} lists no {}",
            trust.metadata.repository,
            rekor_client::tuf::SIGNING_CONFIG_TARGET
        ))
    })?;
    SigningConfig::from_json(bytes).map_err(|e| {
        Failure::input(format_args!(
            "{} of {}: {e}",
            rekor_client::tuf::SIGNING_CONFIG_TARGET,
            trust.metadata.repository,
            e = ErrorChain(&e)
        ))
    })
}

/// `attestlog trust` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TrustCommand {
    /// Fetch and verify the current trusted root and signing config from
    /// the TUF repository (into the cache), and print what is in force.
    Update(TufArgs),
    /// Print what the cache holds (verified again; no network).
    Show(TufArgs),
}

pub(crate) fn run(cmd: TrustCommand) -> Result<ExitCode, Failure> {
    let trust = match cmd {
        TrustCommand::Update(args) => args.fetch()?,
        TrustCommand::Show(mut args) => {
            args.offline = true;
            args.fetch()?
        }
    };
    let root = parse_root(&trust)?;
    let config = match trust.signing_config {
        Some(_) => Some(parse_config(&trust)?),
        None => None,
    };
    let m = &trust.metadata;
    let role = |(version, expires): (u64, Timestamp)| serde_json::json!({ "version": version, "expires": expires.to_string() });
    let window = |start: Option<Timestamp>, end: Option<Timestamp>| {
        serde_json::json!({
            "start": start.map(|t| t.to_string()),
            "end": end.map(|t| t.to_string()),
        })
    };
    let now = Timestamp::now();
    let selected = config.as_ref().map(|c| {
        let urls = |r: Result<Vec<&attest_rekor::signing::Service>, _>| match r {
            Ok(list) => serde_json::json!(list.iter().map(|s| &s.url).collect::<Vec<_>>()),
            Err(e) => serde_json::json!({ "error": ErrorChain(&e).to_string() }),
        };
        serde_json::json!({
            "rekorTlogs": urls(c.select_logs(now, &[1, 2])),
            "tsas": urls(c.select_tsas(now)),
        })
    });
    print_json(&serde_json::json!({
        "repository": m.repository,
        "offline": m.offline,
        "root": role(m.root),
        "timestamp": role(m.timestamp),
        "snapshot": role(m.snapshot),
        "targets": role(m.targets),
        "tlogs": root.logs().iter().map(|l| serde_json::json!({
            "baseUrl": l.base_url,
            "logId": l.log_id.to_hex(),
            "origin": l.origin,
            "validFor": window(l.valid_from, l.valid_until),
        })).collect::<Vec<_>>(),
        "signingConfig": selected,
    }))
}

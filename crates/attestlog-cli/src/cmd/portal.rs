//! `attestlog portal serve | token`: the auditor portal over HTTP, and the
//! tokens that open its tenant pages.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use attest_dsse::KeySet;
use attestlog_portal::{EntryLinks, Portal, PortalAccess, TokenFile, new_token};
use clap::{Args, Subcommand};

use crate::Failure;
use crate::cmd::print_json;

/// `attestlog portal` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum PortalCommand {
    /// Serve the auditor portal: `/audit/<tenant>/<subject>` pages (HTML,
    /// or JSON with `Accept: application/json`), each attestation audited
    /// when the page is asked for, envelope and bundle downloads, and the
    /// public key-set document at `/.well-known/<app>/attestation-keys.json`.
    /// Prints one JSON line with the addresses, then serves until killed.
    Serve(Box<ServeArgs>),
    /// Issue a bearer token for a tenant's pages: prints the token once and
    /// adds only its SHA-256 to the auth file (created when missing).
    Token {
        /// The auth file (`portal-auth.json`).
        #[arg(long, env = "ATTESTLOG_PORTAL_AUTH")]
        auth: PathBuf,
        /// The tenant whose pages the token opens.
        #[arg(long)]
        tenant: String,
        /// Who holds it, kept beside the hash.
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// `attestlog portal serve` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("access").required(true).args(["auth", "public"])))]
pub(crate) struct ServeArgs {
    /// The key-set document the portal publishes and audits with
    /// (`attestation-keys.json`); re-read when the file changes, so a
    /// rotation is served (a new ETag) without a restart.
    #[arg(
        long = "key",
        alias = "keys",
        env = "ATTESTLOG_KEYS",
        value_name = "FILE"
    )]
    keys: PathBuf,
    /// Tokens per tenant, as hashes (`attestlog portal token` writes it);
    /// re-read when the file changes (a token added or removed takes effect
    /// without a restart).
    #[arg(long, env = "ATTESTLOG_PORTAL_AUTH")]
    auth: Option<PathBuf>,
    /// Serve every tenant's pages, predicates included, to anyone. Without
    /// --auth the portal refuses to start unless this is given.
    #[arg(long)]
    public: bool,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The application's name in `/.well-known/<app>/`.
    #[arg(long, default_value = "attestlog")]
    app: String,
    /// The log's public address for deep links to entries (default: the
    /// REKOR_URL when it is http(s); none for `local:DIR`).
    #[arg(long = "rekor-public-url", alias = "log-url", value_name = "URL")]
    log_url: Option<String>,
    /// The portal's own record of the last log tree it verified; default
    /// `portal-baseline.json` beside `audit`'s default baseline.
    #[arg(long, env = "ATTESTLOG_PORTAL_BASELINE")]
    baseline: Option<PathBuf>,
    /// Without a baseline for the log, start one at its current tree
    /// (trust on first use) instead of failing every consistency check.
    #[arg(long)]
    trust_current_tree: bool,
    /// Witness cosignatures the log's current checkpoint must carry.
    #[command(flatten)]
    witnesses: crate::cmd::verify::WitnessArgs,
    /// Most open connections.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    #[command(flatten)]
    pipeline: crate::cmd::attest::Pipeline,
}

pub(crate) fn run(cmd: PortalCommand) -> Result<ExitCode, Failure> {
    match cmd {
        PortalCommand::Serve(a) => serve(*a),
        PortalCommand::Token { auth, tenant, note } => token(&auth, &tenant, &note),
    }
}

fn read_keys(path: &Path) -> Result<KeySet, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::in_file(path, &e))?;
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Err(Failure::input(format_args!(
            "{}: a PEM key; the portal publishes a key-set document (make one with `attestlog keys serve-doc --key SIGNING_KEY`)",
            path.display()
        )));
    }
    KeySet::from_json(&bytes).map_err(|e| Failure::in_file(path, &e))
}

fn read_auth(path: &Path) -> Result<TokenFile, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::in_file(path, &e))?;
    TokenFile::from_json(&bytes).map_err(|e| Failure::in_file(path, &e))
}

/// A file's contents, for change detection. These files are a few KiB;
/// reading them per request is cheaper than trusting a modification time
/// that a same-length edit within the clock's granularity leaves unchanged.
fn stamp(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

fn serve(a: ServeArgs) -> Result<ExitCode, Failure> {
    let keys = read_keys(&a.keys)?;
    let access = match (&a.auth, a.public) {
        (Some(p), _) => {
            let t = read_auth(p)?;
            if t.tenants().next().is_none() {
                eprintln!(
                    "attestlog: {}: no tenant has a token yet (`attestlog portal token`)",
                    p.display()
                );
            }
            PortalAccess::Tokens(t)
        }
        (None, true) => PortalAccess::Public,
        (None, false) => {
            return Err(Failure::input(
                "give --auth FILE (tokens per tenant) or, to publish every page, --public",
            ));
        }
    };
    let opened = a.pipeline.open(false)?;
    let store = crate::cmd::open_existing_store(&opened.config.db, crate::cmd::Access::Read)?;
    let links = match (&a.log_url, &a.pipeline.log.rekor_url) {
        (Some(u), _) | (None, Some(u)) => EntryLinks::for_log_url(u),
        (None, None) => EntryLinks::None,
    };
    let baseline = a
        .baseline
        .clone()
        .or_else(|| {
            attestlog::FileBaseline::default_path()
                .map(|p| p.with_file_name("portal-baseline.json"))
        })
        .ok_or_else(|| {
            Failure::input("no data directory ($XDG_DATA_HOME, $HOME): give --baseline PATH")
        })?;
    let mut auditor = opened
        .auditor(keys.clone(), store)
        .baseline(attestlog::FileBaseline::new(&baseline))
        .trust_current_tree(a.trust_current_tree);
    if let Some(policy) = a.witnesses.policy()? {
        auditor = auditor.witnesses(policy);
    }
    let auditor = auditor.build();
    let portal = Portal::new(&a.app, auditor, &keys, access)
        .map_err(Failure::error)?
        .with_entry_links(links);
    let key_set_path = portal.key_set_path().to_owned();
    let portal = Arc::new(portal);
    let keys_path = a.keys.clone();
    let auth_path = a.auth.clone();
    let seen = Mutex::new((stamp(&keys_path), auth_path.as_deref().and_then(stamp)));
    let served = Arc::clone(&portal);
    let handler = attest_tlog::Blocking::new(0, move |req| {
        // A changed key-set file is a new version (a rotation), a changed
        // auth file new tokens or revoked ones; a file that does not parse
        // keeps the last good one, and says so.
        let mut last = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp(&keys_path);
        if now != last.0 {
            last.0 = now;
            match read_keys(&keys_path) {
                Ok(k) => served.set_key_set(&k),
                Err(e) => eprintln!("attestlog: keeping the last key set: {}", e.message),
            }
        }
        if let Some(p) = &auth_path {
            let now = stamp(p);
            if now != last.1 {
                // A deleted auth file revokes every token (deleting it is
                // how an operator would shut the portal); only a file that
                // exists and does not parse keeps the last good tokens.
                let gone = now.is_none() && !p.exists();
                last.1 = now;
                if gone {
                    served.set_access(PortalAccess::Tokens(TokenFile::new()));
                    eprintln!(
                        "attestlog: {}: gone; no token is valid until it is back",
                        p.display()
                    );
                } else {
                    match read_auth(p) {
                        Ok(t) => served.set_access(PortalAccess::Tokens(t)),
                        Err(e) => eprintln!("attestlog: keeping the last tokens: {}", e.message),
                    }
                }
            }
        }
        drop(last);
        served.handle(&req)
    });
    let server =
        attest_tlog::serve_handler(handler, &a.addr, a.max_connections).map_err(Failure::error)?;
    let base = format!("http://{}", server.local_addr());
    print_json(&serde_json::json!({
        "listening": base,
        "keySet": format!("{base}{key_set_path}"),
        "audit": format!("{base}/audit/<tenant>/<subject>"),
        "public": a.public && a.auth.is_none(),
        "baseline": baseline,
    }))?;
    server.join();
    Ok(ExitCode::SUCCESS)
}

fn token(auth: &Path, tenant: &str, note: &str) -> Result<ExitCode, Failure> {
    let mut file = if auth.exists() {
        read_auth(auth)?
    } else {
        TokenFile::new()
    };
    let token = new_token().map_err(Failure::error)?;
    file.add(tenant, &token, note).map_err(Failure::error)?;
    // Written whole, then renamed over: a crash leaves the old file or the
    // new one, never half of either.
    let tmp = auth.with_extension("json.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // Token hashes for the owner only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(file.to_json_pretty().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, auth)
    };
    write().map_err(|e| Failure::in_file(auth, &e))?;
    crate::cmd::print_text(&format!("{token}\n"))?;
    eprintln!(
        "attestlog: token for tenant {tenant:?} added to {} (only its hash is kept: save the token now)",
        auth.display()
    );
    Ok(ExitCode::SUCCESS)
}

//! `attestlog attest`, `attestlog audit`, `attestlog bundle export`: the
//! pipeline of the `attestlog` crate from a shell.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use attest_dsse::{KeySet, SigningKey, Statement, Subject};
use attestlog::{Config, LogConnection};
use clap::Args;

use crate::Failure;
use crate::cmd::{print_json, read_input_max};
use crate::failure::EXIT_FAILED;

/// Where the store and the log are (flags, else the environment).
#[derive(Debug, Args)]
pub(crate) struct Pipeline {
    #[command(flatten)]
    pub(crate) db: crate::cmd::DbArg,
    #[command(flatten)]
    pub(crate) log: LogArgs,
}

/// Where the log is and how it is trusted (flags, else the environment).
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Rekor log URL (`http(s)://…`; v1 unless --rekor-api 2) or
    /// `local:DIR` (the embedded v1 log). `attest` publishes only when it
    /// (or --signing-config) is set; `audit` needs it to fetch the entries
    /// of published rows.
    #[arg(long, env = "REKOR_URL")]
    pub(crate) rekor_url: Option<String>,
    /// The major API version of the log at --rekor-url: 1, or 2 (Rekor v2:
    /// tiles and RFC 3161 timestamps; needs --trusted-root and, for
    /// `attest`, --tsa-url).
    #[arg(long, env = "REKOR_API", value_name = "1|2")]
    rekor_api: Option<String>,
    /// The RFC 3161 timestamp authority for Rekor v2 entries (e.g.
    /// `<log serve --rekor-api 2 URL>/api/v1/timestamp`).
    #[arg(long, env = "REKOR_TSA_URL", value_name = "URL")]
    tsa_url: Option<String>,
    /// A Sigstore signing config (v0.2; or a client trust configuration
    /// holding one) that picks the log (v1 or v2) and the timestamp
    /// authority, instead of --rekor-url; `tuf`: the current one from the
    /// TUF repository.
    #[arg(long, env = "REKOR_SIGNING_CONFIG", value_name = "FILE|tuf")]
    signing_config: Option<PathBuf>,
    /// The log's keys; an http(s) log given without --log-key or
    /// --trusted-root is trusted by the TUF repository's trusted root (only
    /// for the logs that root lists).
    #[command(flatten)]
    trust: crate::cmd::LogTrust,
    /// Seconds a claimed time may precede the log's time.
    #[arg(long, env = "ATTESTLOG_BACKDATE_WINDOW", default_value_t = 300)]
    backdate_window: i64,
}

impl Pipeline {
    /// The configuration opened; `create_log`: whether an embedded log
    /// (`local:DIR`) may be created (by the commands that publish).
    pub(crate) fn open(&self, create_log: bool) -> Result<Opened, Failure> {
        let mut config = self.log.config()?;
        config.db.clone_from(&self.db.db);
        open_config(config, create_log)
    }
}

impl LogArgs {
    fn config(&self) -> Result<Config, Failure> {
        let mut c = Config::default();
        self.trust.tuf.apply(&mut c.tuf)?;
        c.rekor_url.clone_from(&self.rekor_url);
        c.rekor_public_key.clone_from(&self.trust.log_key);
        c.rekor_log_name.clone_from(&self.trust.log_name);
        c.rekor_trusted_root.clone_from(&self.trust.trusted_root);
        c.backdate_window = self.backdate_window;
        c.rekor_api.clone_from(&self.rekor_api);
        c.rekor_tsa_url.clone_from(&self.tsa_url);
        c.rekor_signing_config.clone_from(&self.signing_config);
        Ok(c)
    }

    /// The log configuration opened, without a store (an existing
    /// embedded log only).
    pub(crate) fn open(&self) -> Result<Opened, Failure> {
        open_config(self.config()?, false)
    }
}

fn open_config(mut config: Config, create_log: bool) -> Result<Opened, Failure> {
    config.create_local_log = create_log;
    let log = config.log_connection().map_err(Failure::error)?;
    // A v2 connection parsed the trusted root already.
    let authorities = match log.as_ref().and_then(LogConnection::authorities) {
        Some(a) => Some(a.clone()),
        None => config.authorities().map_err(Failure::error)?,
    };
    Ok(Opened {
        config,
        log,
        authorities,
    })
}

/// A pipeline's configuration, opened: the store's location and the log
/// (v1 or v2) with what is trusted for it.
pub(crate) struct Opened {
    pub(crate) config: Config,
    pub(crate) log: Option<LogConnection>,
    authorities: Option<attestlog::Authorities>,
}

impl Opened {
    /// Whether a log (v1 or v2) is configured.
    pub(crate) const fn publishes(&self) -> bool {
        self.log.is_some()
    }

    /// The attestor publishing to the configured log, if any.
    pub(crate) fn attestor(
        &self,
        key: SigningKey,
        store: Box<dyn attest_store::AttestationStore>,
    ) -> attestlog::Attestor {
        attestlog::Attestor::builder(key, store)
            .optional_log(self.log.as_ref().map(LogConnection::log))
            .build()
    }

    /// An auditor builder reading the configured log, with the trusted
    /// root's authorities (RFC 3161 timestamps).
    pub(crate) fn auditor(
        &self,
        keys: KeySet,
        store: Box<dyn attest_store::AttestationStore>,
    ) -> attestlog::AuditorBuilder {
        let mut b = attestlog::Auditor::builder(keys, store)
            .optional_log(self.log.as_ref().map(LogConnection::log))
            .backdate_window(self.config.backdate_window);
        if let Some(a) = &self.authorities {
            b = b.authorities(a.clone());
        }
        b
    }
}

/// `attestlog attest` arguments.
#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// The tenant owning the attestation.
    #[arg(long)]
    tenant: String,
    /// What it is about: `NAME@ALG:HEX`, e.g. `app@sha256:…` or
    /// `github.com/acme/app@gitCommit:…` (or give ARTIFACT files instead).
    #[arg(
        long,
        required_unless_present = "artifacts",
        conflicts_with = "artifacts"
    )]
    subject: Option<String>,
    /// Files to attest, as `cosign attest-blob` does: each is hashed
    /// (SHA-256) and attested on its own with the subject
    /// `<file name>@sha256:<hex>`; one JSON line each.
    #[arg(value_name = "ARTIFACT")]
    artifacts: Vec<PathBuf>,
    /// Also write the Sigstore bundle of the published attestation here (one
    /// attestation: one --subject or one ARTIFACT; it needs a log).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// The in-toto predicate type (a URI).
    #[arg(long)]
    predicate_type: String,
    /// The predicate (JSON file, `-` for stdin). The signed envelope is
    /// stored only up to 4 MiB (base64 of the statement), so a predicate
    /// over 3 MiB is refused before it is read whole.
    #[arg(long)]
    predicate: PathBuf,
    /// The signing key: PEM, PKCS#8 (Ed25519, ECDSA P-256), SEC1 `EC
    /// PRIVATE KEY` (P-256), or encrypted PKCS#8 (the passphrase from
    /// ATTESTLOG_KEY_PASSWORD, else asked on the terminal).
    #[arg(long, env = "ATTESTLOG_KEY")]
    key: PathBuf,
    #[command(flatten)]
    pipeline: Pipeline,
}

fn parse_subject(s: &str) -> Result<Subject, Failure> {
    let bad = || {
        Failure::input(format_args!(
            "--subject {s:?}: expected NAME@ALG:HEX, e.g. app@sha256:<64 hex>"
        ))
    };
    let (name, digest) = s.rsplit_once('@').ok_or_else(bad)?;
    let (alg, hex) = digest.split_once(':').ok_or_else(bad)?;
    if name.is_empty() || alg.is_empty() || hex.is_empty() {
        return Err(bad());
    }
    Ok(Subject {
        name: name.to_owned(),
        digest: [(alg.to_owned(), hex.to_ascii_lowercase())].into(),
        annotations: Default::default(),
    })
}

/// The subject of an artifact file: its file name and the SHA-256 of its
/// bytes (read in chunks, never whole).
fn artifact_subject(path: &std::path::Path) -> Result<(String, Subject), Failure> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(|e| Failure::in_file(path, &e))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Failure::in_file(path, &e)),
        }
    }
    let hex = base16ct::lower::encode_string(&hasher.finalize());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Failure::input(format_args!("{}: not a file name", path.display())))?;
    Ok((
        format!("{name}@sha256:{hex}"),
        Subject {
            name,
            digest: [("sha256".to_owned(), hex)].into(),
            annotations: Default::default(),
        },
    ))
}

pub(crate) fn attest(a: AttestArgs) -> Result<ExitCode, Failure> {
    // Every input first: a bad one is exit 2 before anything is stored.
    let subjects = match &a.subject {
        Some(s) => vec![(s.clone(), parse_subject(s)?)],
        None => a
            .artifacts
            .iter()
            .map(|p| artifact_subject(p))
            .collect::<Result<Vec<_>, _>>()?,
    };
    if a.bundle.is_some() && subjects.len() != 1 {
        return Err(Failure::input(
            "--bundle writes one bundle: give one ARTIFACT (or `attestlog bundle export ID` for each)",
        ));
    }
    // The envelope carries the statement in base64 (4 bytes per 3): no
    // predicate over 3/4 of the store's envelope limit can be stored.
    let max = attest_store::StoreLimits::default().max_envelope_bytes as u64 / 4 * 3;
    let bytes = read_input_max(
        &a.predicate,
        max,
        "the store keeps signed envelopes up to 4 MiB, a predicate up to 3 MiB",
    )?;
    let predicate: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| Failure::in_file(&a.predicate, &e))?;
    let statements = subjects
        .into_iter()
        .map(|(text, subject)| {
            let st = Statement::new(subject, a.predicate_type.clone(), predicate.clone());
            st.validate_for_signing().map_err(Failure::error)?;
            Ok((text, st))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let key = crate::cmd::keys::load_signing_key(&a.key)?;
    let opened = a.pipeline.open(true)?;
    if a.bundle.is_some() && !opened.publishes() {
        return Err(Failure::input(
            "--bundle needs a log to publish to (--rekor-url, REKOR_URL, --signing-config)",
        ));
    }
    let store = opened.config.open_store().map_err(Failure::error)?;
    let attestor = opened.attestor(key, store);
    let mut code = ExitCode::SUCCESS;
    for (subject, statement) in statements {
        let done = attestor
            .attest(&a.tenant, &subject, statement)
            .map_err(Failure::error)?;
        if !report_attested(&done, &a.tenant, &opened)? {
            code = ExitCode::from(EXIT_FAILED);
        }
        if let Some(path) = &a.bundle {
            code = write_bundle(&attestor, &done, path)?;
        }
    }
    Ok(code)
}

/// Writes the Sigstore bundle of a published attestation to `path`
/// (exit 1, with why, when it is pending).
fn write_bundle(
    attestor: &attestlog::Attestor,
    done: &attestlog::Attested,
    path: &std::path::Path,
) -> Result<ExitCode, Failure> {
    if done.entry.is_none() {
        eprintln!(
            "attestlog: no bundle written to {}: {} is not published yet",
            path.display(),
            done.id
        );
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    let row = attestor
        .store()
        .get(&done.id)
        .map_err(Failure::error)?
        .ok_or_else(|| Failure::input(format_args!("{} vanished from the store", done.id)))?;
    let json = attestlog::export_bundle(&row).map_err(Failure::error)?;
    std::fs::write(path, format!("{json}\n")).map_err(|e| Failure::in_file(path, &e))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints one attestation's JSON line (and, on stderr, what to do about a
/// row left pending); `false` when publication failed.
fn report_attested(
    done: &attestlog::Attested,
    tenant: &str,
    opened: &Opened,
) -> Result<bool, Failure> {
    let v2 = done
        .entry
        .as_ref()
        .is_some_and(|e| e.api == attest_store::LogApiVersion::V2);
    print_json(&serde_json::json!({
        "attestationId": done.id.to_string(),
        "rekorApi": done.entry.as_ref().map(|e| e.api.number()),
        "entryId": done.entry.as_ref().map(|e| e.entry_id.clone()),
        "logIndex": done.entry.as_ref().map(|e| e.global_index),
        "integratedTime": done.entry.as_ref().filter(|_| !v2).map(|e| e.integrated_time),
        "timestampTime": done.entry.as_ref().filter(|_| v2).map(|e| e.integrated_time),
        // What the store says: a row not published is pending, whether the
        // log failed or none is configured (`store list --pending` lists it
        // and `publish-pending` publishes it once a log is).
        "pending": done.entry.is_none(),
        "publishError": done
            .publish_error
            .as_ref()
            .map(|e| attest_dsse::ErrorChain(e).to_string()),
        "retryable": done.publish_error.as_ref().map(rekor_client::ClientError::is_retryable),
    }))?;
    if done.entry.is_none() && !opened.publishes() {
        eprintln!(
            "attestlog: stored {} unpublished: no log is configured (--rekor-url, REKOR_URL, \
             --signing-config); `attestlog publish-pending` publishes it once one is",
            done.id
        );
    }
    // Stored either way; a failed publication is reported (the row is pending).
    if let Some(e) = &done.publish_error {
        eprintln!(
            "attestlog: stored {} but not published ({e}); it is pending: publish it later with \
             `attestlog publish-pending --tenant {tenant}` (running `attest` again would store a second row)",
            done.id,
            e = attest_dsse::ErrorChain(&e)
        );
        return Ok(false);
    }
    Ok(true)
}

/// `attestlog publish-pending` arguments.
#[derive(Debug, Args)]
pub(crate) struct PublishPendingArgs {
    /// Only this tenant's rows (default: every tenant's).
    #[arg(long)]
    tenant: Option<String>,
    /// The attestor's signing key (PEM, as `attest --key`); rows are published exactly
    /// as stored, nothing is signed again.
    #[arg(long, env = "ATTESTLOG_KEY")]
    key: PathBuf,
    #[command(flatten)]
    pipeline: Pipeline,
}

/// `attestlog publish-pending`.
pub(crate) fn publish_pending(a: PublishPendingArgs) -> Result<ExitCode, Failure> {
    let key = crate::cmd::keys::load_signing_key(&a.key)?;
    // Publishing may create the embedded log, as `attest` does.
    let opened = a.pipeline.open(true)?;
    if !opened.publishes() {
        return Err(Failure::input(
            "publish-pending needs a log: give --rekor-url (or REKOR_URL) or --signing-config",
        ));
    }
    let store = crate::cmd::open_existing_store(&opened.config.db, crate::cmd::Access::Write)?;
    let attestor = opened.attestor(key, store);
    let summary = attestor
        .publish_pending(a.tenant.as_deref())
        .map_err(Failure::error)?;
    print_json(&serde_json::json!({
        "published": summary.published,
        "stillPending": summary.failed.len(),
        "failures": summary.failed.iter().map(|(id, e)| serde_json::json!({
            "attestationId": id.to_string(),
            "error": attest_dsse::ErrorChain(&e).to_string(),
            "retryable": e.is_retryable(),
        })).collect::<Vec<_>>(),
    }))?;
    Ok(if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// `attestlog audit` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["subject", "all", "completeness"])))]
pub(crate) struct AuditArgs {
    /// The tenant (not used by --completeness, which accounts for every
    /// tenant's rows).
    #[arg(long, required_unless_present = "completeness")]
    tenant: Option<String>,
    /// The subject as attested (`NAME@ALG:HEX`).
    #[arg(long)]
    subject: Option<String>,
    /// Audit every attestation of the tenant.
    #[arg(long)]
    all: bool,
    /// The completeness audit: scan the log (from where the last scan,
    /// kept in the baseline, stopped) for entries signed with the key
    /// set's keys and report each that no row (of any tenant) was published
    /// as — a deleted row, or an attestation published behind the
    /// database's back. Every
    /// entry scanned is authenticated against the log's verified current
    /// checkpoint. Exit 1 when one is missing or the log cannot be scanned.
    #[arg(long)]
    completeness: bool,
    /// Who may have signed: the key-set document (`attestation-keys.json`:
    /// a file, or an `http(s)://` URL to fetch it from, e.g. the service's
    /// `/.well-known/attestlog/attestation-keys.json`), or one PEM public
    /// key (trusted at every time).
    #[arg(
        long = "key",
        alias = "keys",
        env = "ATTESTLOG_KEYS",
        value_name = "FILE|URL"
    )]
    keys: String,
    /// One JSON report per line instead of the readable report.
    #[arg(long)]
    json: bool,
    /// The auditor's own record of the last log tree it verified (never
    /// the audited database); default
    /// `$XDG_DATA_HOME/attestlog/audit-baseline.json` (or under
    /// `~/.local/share`).
    #[arg(long, env = "ATTESTLOG_BASELINE")]
    baseline: Option<PathBuf>,
    /// Without a baseline for the log, start one at its current tree
    /// (trust on first use) instead of failing the consistency check.
    #[arg(long)]
    trust_current_tree: bool,
    /// Witness cosignatures the log's current checkpoint must carry.
    #[command(flatten)]
    witnesses: crate::cmd::verify::WitnessArgs,
    #[command(flatten)]
    pipeline: Pipeline,
}

pub(crate) fn audit(a: AuditArgs) -> Result<ExitCode, Failure> {
    let keys = crate::cmd::keys::load_key_set(&a.keys)?;
    // The store first: a missing database is named before anything else.
    let store = crate::cmd::open_existing_store(&a.pipeline.db.db, crate::cmd::Access::Read)?;
    let opened = a.pipeline.open(false)?;
    // The bar's length, for its ETA (only `--all` shows a bar).
    let total = if a.all {
        store.count(a.tenant.as_deref().unwrap_or_default()).ok()
    } else {
        None
    };
    let baseline_path = a
        .baseline
        .clone()
        .or_else(attestlog::FileBaseline::default_path)
        .ok_or_else(|| {
            Failure::input("no data directory ($XDG_DATA_HOME, $HOME): give --baseline PATH")
        })?;
    let mut auditor = opened
        .auditor(keys, store)
        .baseline(attestlog::FileBaseline::new(&baseline_path))
        .trust_current_tree(a.trust_current_tree);
    if let Some(policy) = a.witnesses.policy()? {
        auditor = auditor.witnesses(policy);
    }
    let auditor = auditor.build();
    if a.completeness {
        return completeness(&auditor, a.json);
    }
    // Each report is written as soon as it is made (`--all` streams).
    let mut counts = (0usize, 0usize); // (audited, passed)
    let mut noted = false;
    let mut emit = |r: &attestlog::AuditReport| -> Result<(), Failure> {
        counts.0 += 1;
        counts.1 += usize::from(r.passed());
        // Say so when this run started the baseline (trust on first use).
        let note = r
            .checks
            .iter()
            .find(|c| c.check == attestlog::AuditCheck::Consistency && !c.detail.is_empty())
            .filter(|c| c.outcome == attestlog::rekor::Outcome::Passed);
        if let Some(note) = note.filter(|_| !noted) {
            noted = true;
            eprintln!(
                "attestlog: audit baseline {}: {}",
                baseline_path.display(),
                note.detail
            );
        }
        if a.json {
            print_json(&serde_json::to_value(r).map_err(std::io::Error::from)?).map(|_| ())
        } else {
            crate::cmd::print_text(&r.to_string())
        }
    };
    let tenant = a.tenant.as_deref().unwrap_or_default();
    match &a.subject {
        Some(s) => {
            for r in auditor.audit(tenant, s).map_err(Failure::error)? {
                emit(&r)?;
            }
        }
        None => {
            let bar = if std::io::stderr().is_terminal() {
                progress_bar(total)
            } else {
                indicatif::ProgressBar::hidden()
            };
            let mut failed_output = None;
            auditor
                .audit_tenant_each(tenant, |r| {
                    if failed_output.is_none()
                        && let Err(e) = bar.suspend(|| emit(&r))
                    {
                        failed_output = Some(e);
                    }
                    bar.inc(1);
                })
                .map_err(Failure::error)?;
            bar.finish_and_clear();
            if let Some(e) = failed_output {
                return Err(e);
            }
        }
    }
    let (audited, passed) = counts;
    if a.json {
        print_json(
            &serde_json::json!({ "audited": audited, "passed": passed, "failed": audited - passed }),
        )?;
    } else {
        crate::cmd::print_text(&format!(
            "{audited} audited, {passed} passed, {} failed\n",
            audited - passed
        ))?;
    }
    if audited == 0 {
        eprintln!("attestlog: no attestations found");
    }
    Ok(if audited > 0 && passed == audited {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// `audit --completeness`: one report per log, and how fast it scanned.
fn completeness(auditor: &attestlog::Auditor, json: bool) -> Result<ExitCode, Failure> {
    let started = std::time::Instant::now();
    let reports = auditor.completeness().map_err(Failure::error)?;
    let seconds = started.elapsed().as_secs_f64();
    let scanned: u64 = reports.iter().map(|r| r.to - r.from).sum();
    let rate = if seconds > 0.0 {
        scanned as f64 / seconds
    } else {
        0.0
    };
    for r in &reports {
        if json {
            let mut v = serde_json::to_value(r).map_err(std::io::Error::from)?;
            v["passed"] = r.passed().into();
            print_json(&v)?;
            continue;
        }
        let mut text = format!(
            "completeness of {} ({:?}): entries {}..{} scanned; {} signed with the key set's keys",
            if r.origin.is_empty() {
                "the log"
            } else {
                &r.origin
            },
            r.api,
            r.from,
            r.to,
            r.signed,
        );
        if let Some(why) = &r.started_over {
            text.push_str(&format!(" ({why})"));
        }
        text.push('\n');
        if let Some(e) = &r.error {
            text.push_str(&format!("  FAIL  {e}\n"));
        }
        for m in &r.missing {
            text.push_str(&format!(
                "  FAIL  entry {} (leaf hash {}, key {}) has no row in the store\n",
                m.index, m.leaf, m.key
            ));
        }
        if r.passed() {
            text.push_str("  PASS  every entry signed with the key set's keys has a row\n");
        }
        crate::cmd::print_text(&text)?;
    }
    let passed = reports.iter().all(attestlog::CompletenessReport::passed);
    if json {
        print_json(&serde_json::json!({
            "scanned": scanned,
            "seconds": seconds,
            "entriesPerSecond": rate.round(),
            "passed": passed,
        }))?;
    } else {
        crate::cmd::print_text(&format!(
            "{scanned} entries scanned in {seconds:.3} s ({rate:.0} entries/s)\n"
        ))?;
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// `attestlog bundle export`: a stored, published attestation as a Sigstore
/// bundle v0.3.
pub(crate) fn export(
    db: &str,
    id: &str,
    self_signed: Option<&std::path::Path>,
) -> Result<ExitCode, Failure> {
    if id.len() == 80 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::input(format_args!(
            "{id}: that is a log entry id; give the attestation id (`attest`'s \"attestationId\", 64 hex; `store list` shows them)"
        )));
    }
    let id = attest_store::AttestationId::from_hex(id).map_err(|e| {
        Failure::input(format_args!(
            "{id}: {e} (the attestation id: `attest`'s \"attestationId\", 64 hex)",
            e = attest_dsse::ErrorChain(&e)
        ))
    })?;
    let store = crate::cmd::open_existing_store(db, crate::cmd::Access::Read)?;
    let row = store
        .get(&id)
        .map_err(Failure::error)?
        .ok_or_else(|| Failure::input(format_args!("no attestation {id} in {db}")))?;
    let json = match self_signed {
        None => attestlog::export_bundle(&row),
        Some(path) => {
            let key = crate::cmd::keys::load_signing_key(path)?;
            let from = attest_dsse::Timestamp::from_unix(row.attestation.claimed_time - 3600);
            let until =
                attest_dsse::Timestamp::from_unix(row.attestation.claimed_time + 10 * 365 * 86_400);
            let cert =
                attest_issue::self_signed_certificate(&key, "attestlog self-signed", from, until)
                    .map_err(Failure::error)?;
            attestlog::export_bundle_with_certificate(&row, &cert)
        }
    }
    .map_err(Failure::error)?;
    crate::cmd::print_text(&format!("{json}\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// `audit --all`'s terminal progress: count of total, rate, elapsed and ETA
/// when the store could count the tenant's rows, else a spinner with count,
/// rate and elapsed time.
fn progress_bar(total: Option<u64>) -> indicatif::ProgressBar {
    let (bar, template) = match total {
        Some(n) => (
            indicatif::ProgressBar::new(n),
            "{bar:30} {pos}/{len} audited ({per_sec}, {elapsed}, ETA {eta})",
        ),
        None => (
            indicatif::ProgressBar::new_spinner(),
            "{spinner} {pos} audited ({per_sec}, {elapsed})",
        ),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

//! The completeness audit: every entry of each log signed with the auditor's keys must have a row.

#[allow(clippy::wildcard_imports)]
use super::*;

use crate::completeness::{Found, KeyMatcher, Scan};

/// Entries read per call to the log (v1: a hundred `retrieve` requests of
/// ten; v2: sixteen entry bundles).
const SCAN_CHUNK: u64 = 4096;

/// What a completeness audit of one log found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CompletenessReport {
    /// The log's API.
    pub api: LogApiVersion,
    /// The log's checkpoint origin (empty when it was unavailable).
    pub origin: String,
    /// The first entry this run scanned (the kept scan's end).
    pub from: u64,
    /// One past the last entry scanned: the current checkpoint's size.
    pub to: u64,
    /// Why an earlier scan was not continued, when it was not (another key
    /// set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_over: Option<String>,
    /// Entries signed with the signer policy's keys, from the log's first
    /// entry.
    pub signed: usize,
    /// Those no row of the store (of any tenant) was published as.
    pub missing: Vec<Found>,
    /// Why the log could not be scanned (the audit fails).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What kind of failure `error` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<CompletenessFailure>,
}

/// Why a completeness audit could not scan a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CompletenessFailure {
    /// The log, its checkpoint or its witnesses' cosignatures could not be
    /// had now; trying again later may pass.
    Unavailable,
    /// The log's answers are evidence against it or against the kept
    /// state: not consistent with the baseline, smaller than what was
    /// scanned, entries that do not make its checkpoint's tree, or kept
    /// state that does not parse. Trying again does not help.
    Inconsistent,
    /// Nothing to scan with: no log configured, or a signer policy naming
    /// no keys.
    Unsupported,
}

impl CompletenessReport {
    /// Whether every entry signed with the signer policy's keys has a row, and the
    /// log was scanned up to its verified current checkpoint.
    #[must_use]
    pub const fn passed(&self) -> bool {
        self.error.is_none() && self.missing.is_empty()
    }

    fn failed(
        api: LogApiVersion,
        origin: String,
        failure: CompletenessFailure,
        why: String,
    ) -> Self {
        Self {
            api,
            origin,
            from: 0,
            to: 0,
            started_over: None,
            signed: 0,
            missing: Vec::new(),
            error: Some(why),
            failure: Some(failure),
        }
    }
}

impl Core {
    /// See [`Auditor::completeness`].
    pub(super) async fn completeness(&self) -> Result<Vec<CompletenessReport>, AuditError> {
        let keys: Vec<attest_dsse::PublicKey> = match &*self.signer() {
            SignerPolicy::Key(k) => vec![k.clone()],
            SignerPolicy::KeySet(set) => set.keys.iter().map(|k| k.key.clone()).collect(),
            // A policy naming an identity names no key to look for.
            _ => Vec::new(),
        };
        if keys.is_empty() {
            return Ok(vec![CompletenessReport::failed(
                LogApiVersion::V1,
                String::new(),
                CompletenessFailure::Unsupported,
                "the signer policy names no keys (an identity policy): completeness needs a key set".into(),
            )]);
        }
        if self.audited.is_empty() {
            return Ok(vec![CompletenessReport::failed(
                LogApiVersion::V1,
                String::new(),
                CompletenessFailure::Unsupported,
                "no transparency log configured: there is nothing to enumerate, so completeness cannot be established".into(),
            )]);
        }
        let state = self.log_state().await?;
        let mut out = Vec::with_capacity(state.runs.len());
        for run in &state.runs {
            let mut matcher = KeyMatcher::new(&keys);
            out.push(self.scan_log(run, &mut matcher).await?);
        }
        Ok(out)
    }

    async fn scan_log(
        &self,
        run: &LogRun,
        matcher: &mut KeyMatcher,
    ) -> Result<CompletenessReport, AuditError> {
        let api = run.log.api();
        let (current, _) = match &run.current {
            Ok(c) => c,
            Err(why) => {
                return Ok(CompletenessReport::failed(
                    api,
                    String::new(),
                    CompletenessFailure::Unavailable,
                    why.clone(),
                ));
            }
        };
        let origin = || current.origin.clone();
        let fail = |why: String| {
            Ok(CompletenessReport::failed(
                api,
                origin(),
                CompletenessFailure::Inconsistent,
                why,
            ))
        };
        if let Err(why) = &run.consistency {
            return fail(format!(
                "the log is not consistent with the baseline: {why}"
            ));
        }
        let key = format!("completeness {api:?} {}", current.origin);
        let kept = {
            let k = key.clone();
            self.blocking
                .on(&self.baseline, move |b| b.load(&k))
                .await?
        };
        let (mut scan, started_over) = match kept.as_deref().map(|t| Scan::resume(t, matcher)) {
            None => (Scan::new(matcher), None),
            Some(Ok((scan, false))) => (scan, None),
            Some(Ok((scan, true))) => (
                scan,
                Some("the key set changed since the last scan: scanned from entry 0".to_owned()),
            ),
            Some(Err(e)) => return fail(e.to_string()),
        };
        if let Err(e) = scan.check_not_behind(current.size) {
            return fail(e.to_string());
        }
        let from = scan.size();
        if self.new_finds_only {
            scan.forget_found();
        }
        while scan.size() < current.size {
            let start = scan.size();
            let end = (start + SCAN_CHUNK).min(current.size);
            let bodies = match run.log.read_bodies(start, end, current.size).await {
                Ok(b) => b,
                Err(why) => {
                    return Ok(CompletenessReport::failed(
                        api,
                        origin(),
                        CompletenessFailure::Unavailable,
                        format!("reading entries {start}..{end}: {why}"),
                    ));
                }
            };
            if bodies.len() as u64 != end - start {
                return fail(format!(
                    "reading entries {start}..{end}: the log returned {}",
                    bodies.len()
                ));
            }
            for (body, entry_id) in &bodies {
                scan.push(body, entry_id, matcher);
            }
        }
        if let Err(e) = scan.check(current.size, &current.root) {
            return fail(e.to_string());
        }
        let text = scan.to_text();
        self.blocking
            .on(&self.baseline, move |b| b.store(&key, &text))
            .await?;
        // A row of any tenant accounts for an entry: the keys are the
        // service's, not a tenant's.
        let ids: Vec<String> = scan.found().iter().map(|f| f.entry_id.clone()).collect();
        let tenants = self
            .blocking
            .on(&self.store, move |s| s.entry_tenants(&ids))
            .await?;
        let missing: Vec<Found> = scan
            .found()
            .iter()
            .zip(tenants)
            .filter(|(_, t)| t.is_none())
            .map(|(f, _)| f.clone())
            .collect();
        Ok(CompletenessReport {
            api,
            origin: current.origin.clone(),
            from,
            to: current.size,
            started_over,
            signed: scan.found().len(),
            missing,
            error: None,
            failure: None,
        })
    }
}

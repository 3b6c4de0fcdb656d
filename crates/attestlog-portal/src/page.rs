//! The portal's pages: maud templates (checked at compile time, every
//! interpolated value HTML-escaped), readable without JavaScript and
//! printable; the same facts as JSON.

use std::sync::LazyLock;

use attestlog::dsse::Timestamp;
use attestlog::rekor::verify::Outcome;
use base64ct::{Base64, Encoding};
use http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::links::{EntryLinks, audit_path, download_path};
use attestlog::AuditReport;

/// The only style sheet; inline, allowed by its hash in the CSP.
const CSS: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1f24}
h1{font-size:1.4rem;margin:.2rem 0}h1.mono{font-size:1.15rem;word-break:break-all}h2{font-size:1.05rem;margin:0 0 .5rem;word-break:break-all}
code,pre,.mono{font-family:ui-monospace,monospace;font-size:.85rem}
.sub{color:#57606a;word-break:break-all}
section.att{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:.8rem 1rem;margin:1rem 0;break-inside:avoid}
section.pass{border-left-color:#1a7f37}section.fail{border-left-color:#cf222e}
.badge{display:inline-block;min-width:3.2rem;text-align:center;border-radius:1rem;padding:0 .5rem;font-weight:600;font-size:.8rem;border:1px solid}
.badge.pass{color:#1a7f37;border-color:#1a7f37}.badge.fail{color:#cf222e;border-color:#cf222e}.badge.skip{color:#9a6700;border-color:#9a6700}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.5rem 0}dt{color:#57606a}dd{margin:0;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{text-align:left;padding:.2rem .5rem;border-top:1px solid #eaeef2;vertical-align:top}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.summary{margin:.5rem 0 1rem}
details>summary{cursor:pointer;list-style-position:outside}details>summary h2{display:inline}
table.index td:first-child{word-break:break-all}tr.fail td{background:#fff5f5}
@media print{body{max-width:none}a{color:inherit}a[href^=http]::after{content:' <' attr(href) '>';font-size:.75rem}}
";

static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = Base64::encode_string(&Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
});

/// The Content-Security-Policy of every page: no scripts, no frames, the
/// one style sheet.
pub(super) fn content_security_policy() -> &'static str {
    &CSP
}

/// Where a page is in the subject's attestations.
pub(super) struct Paging {
    /// This page, from 1.
    pub(super) page: usize,
    /// The position of its first attestation, from 1.
    pub(super) first: usize,
    /// All of the subject's attestations.
    pub(super) total: usize,
    /// How many pages there are.
    pub(super) pages: usize,
}

/// One subject's page.
pub(super) struct View<'a> {
    pub(super) paging: Paging,
    pub(super) tenant: &'a str,
    pub(super) subject: &'a str,
    pub(super) key_set_path: &'a str,
    pub(super) links: &'a EntryLinks,
    /// Every attestation of the subject, audited, failing ones first.
    pub(super) reports: &'a [AuditReport],
    /// Which of them this page shows as cards.
    pub(super) shown: std::ops::Range<usize>,
}

/// Whether a report names a real attestation id (a corrupt row may not):
/// only then are there downloads for it.
fn has_id(r: &AuditReport) -> bool {
    r.attestation_id.len() == 64 && r.attestation_id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The checks of `r` that did not pass.
fn not_passed(r: &AuditReport) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| c.outcome != Outcome::Passed)
        .map(|c| c.check.to_string())
        .collect()
}

fn time(t: i64) -> String {
    Timestamp::from_unix(t).to_string()
}

fn badge(o: Outcome) -> Markup {
    let (class, text) = match o {
        Outcome::Passed => ("badge pass", "PASS"),
        Outcome::Failed => ("badge fail", "FAIL"),
        _ => ("badge skip", "NOT CHECKED"),
    };
    html! { span class=(class) { (text) } }
}

/// What an auditor runs to check a download independently.
fn commands(r: &AuditReport, links: &EntryLinks, key_set_path: &str) -> Vec<String> {
    let Some(digest) = r
        .signed
        .as_ref()
        .and_then(|s| s.digest.get("sha256"))
        .filter(|_| r.logged.is_some())
    else {
        return Vec::new();
    };
    let file = format!("{}.sigstore.json", r.attestation_id);
    let root = if matches!(links, EntryLinks::SigstorePublicGood) {
        // The binary carries Sigstore's production root.
        String::new()
    } else {
        " --trusted-root trusted_root.json".to_owned()
    };
    vec![
        format!("# {key_set_path} saved as attestation-keys.json, the bundle as {file}"),
        format!(
            "attestlog verify-bundle --bundle {file} --key attestation-keys.json{root} sha256:{digest}"
        ),
    ]
}

impl View<'_> {
    fn passed(&self) -> usize {
        self.reports.iter().filter(|r| r.passed()).count()
    }

    /// The page (from 1) whose cards include report `i`.
    fn page_of(i: usize) -> usize {
        i / crate::PAGE_SIZE + 1
    }

    /// The link from the summary to report `i`'s card.
    fn card_link(&self, i: usize, r: &AuditReport) -> String {
        let anchor = format!("#att-{}", r.attestation_id);
        if self.shown.contains(&i) {
            anchor
        } else {
            format!("?page={}{anchor}", Self::page_of(i))
        }
    }

    /// One line per attestation, failing ones first, each linking to its
    /// card (on this page or another).
    fn index(&self) -> Markup {
        html! {
            table class="index" {
                thead { tr { th { "Attestation" } th { "Claimed time" } th { "Verdict" } th { "Checks not passed" } } }
                tbody {
                    @for (i, r) in self.reports.iter().enumerate() {
                        tr class=(if r.passed() { "pass" } else { "fail" }) data-row=(r.attestation_id) {
                            td class="mono" { a href=(self.card_link(i, r)) { (r.attestation_id) } }
                            td { @match r.signed.as_ref().and_then(|s| s.claimed_time) { Some(t) => (time(t)), None => "—" } }
                            td { @if r.passed() { span class="badge pass" { "PASS" } } @else { span class="badge fail" { "FAIL" } } }
                            td class="mono" { (not_passed(r).join(", ")) }
                        }
                    }
                }
            }
        }
    }

    pub(super) fn render(&self) -> Markup {
        let passed = self.passed();
        let total = self.reports.len();
        let cards = &self.reports[self.shown.clone()];
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Audit: " (self.subject) " (" (self.tenant) ")" }
                    style { (PreEscaped(CSS)) }
                }
                body {
                    header {
                        p class="sub" { "attestlog audit portal · tenant " strong { (self.tenant) } }
                        h1 class="mono" { (self.subject) }
                        @if total == 0 {
                            p class="summary" { "No attestations for this subject." }
                        } @else {
                            p class="summary" id="summary" {
                                @if passed == total {
                                    span class="badge pass" { "PASS" }
                                } @else {
                                    span class="badge fail" { "FAIL" }
                                }
                                " " (passed) " of " (total) " attestations verified just now against the key set ("
                                a href=(self.key_set_path) { "attestation-keys.json" }
                                ") and the transparency log."
                                @if total > passed {
                                    " " (total - passed) " failed: they are listed first."
                                }
                            }
                            (self.index())
                            @if self.paging.pages > 1 && !cards.is_empty() {
                                p class="sub" {
                                    "Details of attestations " (self.paging.first) "–" (self.paging.first + cards.len() - 1)
                                    " of " (self.paging.total) " (page " (self.paging.page) " of " (self.paging.pages) ")."
                                }
                            }
                            @if self.paging.pages > 1 {
                                nav class="pages" {
                                    @if self.paging.page > 1 {
                                        a rel="prev" href={ "?page=" (self.paging.page - 1) } { "← previous page" } " "
                                    }
                                    @if self.paging.page < self.paging.pages {
                                        a rel="next" href={ "?page=" (self.paging.page + 1) } { "next page →" }
                                    }
                                }
                            }
                        }
                    }
                    main {
                        @for r in cards { (self.card(r)) }
                    }
                    footer class="sub" {
                        p {
                            "Every value about a log entry on this page is the log's own answer, fetched and verified now; "
                            "the service's database is only where the attestations are found. "
                            "A stored copy that disagrees with the log fails its check."
                        }
                    }
                }
            }
        }
    }

    fn card(&self, r: &AuditReport) -> Markup {
        let class = if r.passed() { "att pass" } else { "att fail" };
        let signed = r.signed.as_ref();
        let logged = r.logged.as_ref();
        // The deep links are Rekor v1's (a v2 log has no entry API).
        let v1 = logged.filter(|l| l.api_version == 1);
        let entry_url = v1.and_then(|l| self.links.api(&l.uuid));
        let search_url = v1.and_then(|l| self.links.search(&l.uuid));
        let envelope = download_path(self.tenant, &r.attestation_id, "envelope.json");
        let bundle = download_path(self.tenant, &r.attestation_id, "bundle.sigstore.json");
        let commands = commands(r, self.links, self.key_set_path);
        html! {
            section class=(class) id={ "att-" (r.attestation_id) } data-verdict=(if r.passed() { "pass" } else { "fail" }) {
              // Collapsible without JavaScript; a failing card starts open.
              details open[!r.passed()] {
                summary {
                    h2 {
                        @if r.passed() { span class="badge pass" { "PASS" } } @else { span class="badge fail" { "FAIL" } }
                        " " span class="mono" { (r.attestation_id) }
                    }
                }
                dl {
                    dt { "Predicate type" }
                    dd class="mono" { (signed.and_then(|s| s.predicate_type.as_deref()).unwrap_or("— (no verified signature)")) }
                    dt { "Claimed time" }
                    dd { @match signed.and_then(|s| s.claimed_time) { Some(t) => (time(t)), None => "—" } }
                    dt { "Signer key id" }
                    dd class="mono" { (signed.map_or("— (no trusted key signed it)", |s| s.signer_key_id.as_str())) }
                    // A Rekor v2 entry has no entry id (its leaf hash names it)
                    // and no time of the log's (its RFC 3161 timestamp's).
                    dt { @if v1.is_some() || logged.is_none() { "Log entry id" } @else { "Leaf hash (Rekor v2)" } }
                    dd class="mono entry-id" { @match logged { Some(l) => (l.entry_id), None => "— (not fetched from the log)" } }
                    dt { "Log index" }
                    dd { @match logged { Some(l) => (l.log_index), None => "—" } }
                    dt { @if v1.is_some() || logged.is_none() { "Integrated time" } @else { "Timestamp (RFC 3161)" } }
                    dd { @match logged.map(|l| l.integrated_time) { Some(Some(t)) => (time(t)), Some(None) => "— (not verified)", None => "—" } }
                    dt { "Public log entry" }
                    dd {
                        @if let Some(u) = &entry_url {
                            a class="entry-link" href=(u) rel="noreferrer" { (u) }
                            @if let Some(s) = &search_url { " · " a class="search-link" href=(s) rel="noreferrer" { "search.sigstore.dev" } }
                        } @else if logged.is_some() {
                            "this log has no public address configured"
                        } @else { "—" }
                    }
                }
                table class="checks" {
                    thead { tr { th { "Check" } th { "Result" } th { "Detail" } } }
                    tbody {
                        @for c in &r.checks {
                            tr data-check=(c.check.to_string()) {
                                td class="mono" { (c.check.to_string()) }
                                td { (badge(c.outcome)) }
                                td { (c.detail) }
                            }
                        }
                    }
                }
                @if has_id(r) {
                    p {
                        "Download: "
                        a class="download-envelope" href=(envelope) download { "DSSE envelope" }
                        @if logged.is_some() {
                            " · " a class="download-bundle" href=(bundle) download { "Sigstore bundle" }
                        }
                    }
                }
                @if !commands.is_empty() {
                    p { "Check it yourself, without this portal:" }
                    pre class="verify" { code { @for c in &commands { (c) "\n" } } }
                    @if !matches!(self.links, EntryLinks::SigstorePublicGood) {
                        p class="sub" { "trusted_root.json: the log's trusted root, from its operator (for an attestlog log, "
                            code { "attestlog log trusted-root DIR" } ")." }
                    }
                    p class="sub" { "sigstore-python verifies Fulcio certificate identities only; this bundle names its signer by key, so use the command above." }
                }
              }
            }
        }
    }

    pub(super) fn to_json(&self) -> Vec<u8> {
        let summary: Vec<Value> = self
            .reports
            .iter()
            .enumerate()
            .map(|(i, r)| {
                json!({
                    "attestationId": r.attestation_id,
                    "passed": r.passed(),
                    "claimedTime": r.signed.as_ref().and_then(|s| s.claimed_time).map(time),
                    "notPassed": not_passed(r),
                    "page": Self::page_of(i),
                })
            })
            .collect();
        let attestations: Vec<Value> = self.reports[self.shown.clone()]
            .iter()
            .map(|r| {
                let v1 = r.logged.as_ref().filter(|l| l.api_version == 1);
                let entry = v1.and_then(|l| self.links.api(&l.uuid));
                let search = v1.and_then(|l| self.links.search(&l.uuid));
                json!({
                    "attestationId": r.attestation_id,
                    "passed": r.passed(),
                    "signed": r.signed,
                    "logged": r.logged,
                    "checks": r.checks,
                    "links": { "entry": entry, "search": search },
                    "downloads": {
                        "envelope": has_id(r).then(|| download_path(self.tenant, &r.attestation_id, "envelope.json")),
                        "bundle": r.logged.as_ref().filter(|_| has_id(r)).map(|_| download_path(self.tenant, &r.attestation_id, "bundle.sigstore.json")),
                    },
                    "verify": commands(r, self.links, self.key_set_path),
                })
            })
            .collect();
        let v = json!({
            "tenant": self.tenant,
            "subject": self.subject,
            "url": audit_path(self.tenant, self.subject),
            "keySet": self.key_set_path,
            "passed": !self.reports.is_empty() && self.passed() == self.reports.len(),
            "page": self.paging.page,
            "pages": self.paging.pages,
            "total": self.paging.total,
            "summary": summary,
            "attestations": attestations,
        });
        let mut out = serde_json::to_vec(&v).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

/// The portal's front page: what it is and where the public document is.
pub(super) fn index(key_set_path: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "attestlog audit portal" } style { (PreEscaped(CSS)) } }
            body {
                h1 { "attestlog audit portal" }
                p { "The signing keys: " a href=(key_set_path) { (key_set_path) } " (public)." }
                p { "A subject's attestations: " code { "/audit/<tenant>/<subject>" } ", with the tenant's token." }
                p { "Whether every log entry signed with the service's keys has a stored attestation: " code { "/completeness/<tenant>" } ", with the tenant's token." }
            }
        }
    }
}

/// The completeness audit of a tenant: per log, what was scanned and each
/// entry signed with the service's keys that has no stored attestation.
pub(super) fn completeness(tenant: &str, reports: &[attestlog::CompletenessReport]) -> Markup {
    let passed = reports.iter().all(attestlog::CompletenessReport::passed);
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Completeness of " (tenant) } style { (PreEscaped(CSS)) } }
            body {
                h1 { "Completeness of " (tenant) " " (badge(if passed { Outcome::Passed } else { Outcome::Failed })) }
                p { "Every entry of the log signed with the service's keys (the key-set document) must have a stored attestation, of whichever tenant: a missing one is a deleted row, or an attestation published behind the database's back. Each entry read is authenticated against the log's verified checkpoint." }
                @for r in reports {
                    section class="card" {
                        h2 { (if r.origin.is_empty() { "the log" } else { r.origin.as_str() }) " (" (format!("{:?}", r.api)) ")" }
                        @if let Some(e) = &r.error {
                            p { (badge(Outcome::Failed)) " " (e) }
                        } @else {
                            p { "Entries " (r.from) "–" (r.to) " scanned now; " (r.signed) " signed with the service's keys in all." }
                            @if let Some(why) = &r.started_over { p { (why) } }
                        }
                        @if !r.missing.is_empty() {
                            table {
                                tr { th { "entry" } th { "leaf hash" } th { "key" } }
                                @for m in &r.missing {
                                    tr { td { (m.index) } td { code { (m.leaf.to_string()) } } td { code { (m.key) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An error page.
pub(super) fn error(status: StatusCode, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (status) } style { (PreEscaped(CSS)) } }
            body { h1 { (status) } p { (message) } }
        }
    }
}

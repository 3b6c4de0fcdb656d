//! Sigstore `SigningConfig` v0.2 (`signing_config.v0.2.json`, distributed
//! with the trusted root): which transparency logs and timestamp
//! authorities a signer uses now. It says where to *write*; which keys to
//! trust comes from the trusted root, never from here.
//!
//! Selection: services whose `majorApiVersion` the client speaks and whose
//! `validFor` window contains now are kept, the first listed per operator
//! (the config lists the preferred service first); the selector then takes
//! one (`ANY`), all (`ALL`) or exactly `count` (`EXACT`) of them, in order.
//! `EXACT` with too few is an error, never fewer services.

use attest_dsse::Timestamp;
use serde::Deserialize;

/// The media type of a v0.2 signing config.
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// Why a signing config was refused or selected nothing.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SigningConfigError {
    /// Not JSON of the signing config's shape.
    #[error("not a signing config")]
    Json(#[source] std::sync::Arc<serde_json::Error>),
    /// A media type other than v0.2.
    #[error("signing config media type {0:?} is not {SIGNING_CONFIG_MEDIA_TYPE}")]
    MediaType(String),
    /// A service without `validFor.start`, or one that ends before it starts.
    #[error("service {url}: validFor is missing a start or ends before it starts")]
    Validity {
        /// The service URL.
        url: String,
    },
    /// A selector other than ALL, ANY, EXACT (or EXACT without a count).
    #[error("unknown service selector {0:?}")]
    Selector(String),
    /// No usable service (none valid now in an API version we speak).
    #[error("no {kind} service is valid now in a supported API version")]
    NoService {
        /// `transparency log` or `timestamp authority`.
        kind: &'static str,
    },
    /// `EXACT` asked for more services than are usable.
    #[error("the config asks for {wanted} {kind} services; {usable} are usable")]
    TooFew {
        /// `transparency log` or `timestamp authority`.
        kind: &'static str,
        /// What `EXACT` asks for.
        wanted: u32,
        /// How many are usable.
        usable: usize,
    },
}

/// One service endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Service {
    /// Base URL (for a TSA: the full timestamp endpoint URL).
    pub url: String,
    /// Major API version (Rekor: 1 or 2).
    pub major_api_version: u32,
    /// First instant the service is to be used.
    pub valid_from: Timestamp,
    /// Last instant (inclusive); `None` = open.
    pub valid_until: Option<Timestamp>,
    /// Who runs it (services are deduplicated per operator).
    pub operator: String,
}

impl Service {
    /// A service at `url` speaking `major_api_version`, to be used from
    /// `valid_from` on, run by `operator`.
    #[must_use]
    pub fn new(
        url: impl Into<String>,
        major_api_version: u32,
        valid_from: Timestamp,
        operator: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into().trim_end_matches('/').to_owned(),
            major_api_version,
            valid_from,
            valid_until: None,
            operator: operator.into(),
        }
    }

    /// The same service, to be used until `until` (inclusive).
    #[must_use]
    pub const fn until(mut self, until: Timestamp) -> Self {
        self.valid_until = Some(until);
        self
    }

    fn to_json(&self) -> serde_json::Value {
        let mut valid_for = serde_json::json!({ "start": self.valid_from.to_string() });
        if let Some(end) = self.valid_until {
            valid_for["end"] = serde_json::json!(end.to_string());
        }
        serde_json::json!({
            "url": self.url,
            "majorApiVersion": self.major_api_version,
            "validFor": valid_for,
            "operator": self.operator,
        })
    }

    /// Whether the service is to be used at `t`.
    #[must_use]
    pub fn valid_at(&self, t: Timestamp) -> bool {
        self.valid_from <= t && self.valid_until.is_none_or(|u| t <= u)
    }
}

/// How many services of a kind to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selector {
    /// Every usable service (one per operator).
    All,
    /// One.
    Any,
    /// Exactly this many.
    Exact(u32),
}

/// A parsed signing config v0.2.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningConfig {
    /// Certificate authorities (Fulcio).
    pub ca_urls: Vec<Service>,
    /// OIDC providers.
    pub oidc_urls: Vec<Service>,
    /// Transparency logs.
    pub rekor_tlog_urls: Vec<Service>,
    /// How many logs to write to (default ANY).
    pub rekor_selector: Selector,
    /// Timestamp authorities.
    pub tsa_urls: Vec<Service>,
    /// How many TSAs to ask (default ANY).
    pub tsa_selector: Selector,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigJson {
    media_type: String,
    #[serde(default)]
    ca_urls: Vec<ServiceJson>,
    #[serde(default)]
    oidc_urls: Vec<ServiceJson>,
    #[serde(default)]
    rekor_tlog_urls: Vec<ServiceJson>,
    #[serde(default)]
    rekor_tlog_config: Option<SelectorJson>,
    #[serde(default)]
    tsa_urls: Vec<ServiceJson>,
    #[serde(default)]
    tsa_config: Option<SelectorJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceJson {
    url: String,
    #[serde(default)]
    major_api_version: u32,
    #[serde(default)]
    valid_for: Option<ValidForJson>,
    #[serde(default)]
    operator: String,
}

#[derive(Deserialize)]
struct ValidForJson {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

#[derive(Deserialize)]
struct SelectorJson {
    #[serde(default)]
    selector: String,
    #[serde(default)]
    count: Option<u32>,
}

fn services(list: Vec<ServiceJson>) -> Result<Vec<Service>, SigningConfigError> {
    list.into_iter()
        .map(|s| {
            let bad = || SigningConfigError::Validity { url: s.url.clone() };
            let v = s.valid_for.as_ref().ok_or_else(bad)?;
            let start = v.start.ok_or_else(bad)?;
            if v.end.is_some_and(|e| e < start) {
                return Err(bad());
            }
            Ok(Service {
                url: s.url.trim_end_matches('/').to_owned(),
                major_api_version: s.major_api_version,
                valid_from: start,
                valid_until: v.end,
                operator: s.operator,
            })
        })
        .collect()
}

fn selector(s: Option<SelectorJson>) -> Result<Selector, SigningConfigError> {
    let Some(s) = s else {
        return Ok(Selector::Any);
    };
    match (s.selector.as_str(), s.count) {
        ("ANY", _) => Ok(Selector::Any),
        ("ALL", _) => Ok(Selector::All),
        ("EXACT", Some(n)) if n > 0 => Ok(Selector::Exact(n)),
        (other, _) => Err(SigningConfigError::Selector(other.to_owned())),
    }
}

impl Selector {
    fn to_json(self) -> serde_json::Value {
        match self {
            Self::All => serde_json::json!({ "selector": "ALL" }),
            Self::Any => serde_json::json!({ "selector": "ANY" }),
            Self::Exact(n) => serde_json::json!({ "selector": "EXACT", "count": n }),
        }
    }
}

impl SigningConfig {
    /// A config that logs to `logs` and timestamps with `tsas` (one of
    /// each, `ANY`), with no certificate authority or OIDC provider (a
    /// signer with its own key).
    #[must_use]
    pub const fn new(logs: Vec<Service>, tsas: Vec<Service>) -> Self {
        Self {
            ca_urls: Vec::new(),
            oidc_urls: Vec::new(),
            rekor_tlog_urls: logs,
            rekor_selector: Selector::Any,
            tsa_urls: tsas,
            tsa_selector: Selector::Any,
        }
    }

    /// The config as `signing_config.v0.2.json` (what
    /// [`from_json`](Self::from_json) reads back as the same value).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let list = |s: &[Service]| s.iter().map(Service::to_json).collect::<Vec<_>>();
        serde_json::json!({
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": list(&self.ca_urls),
            "oidcUrls": list(&self.oidc_urls),
            "rekorTlogUrls": list(&self.rekor_tlog_urls),
            "rekorTlogConfig": self.rekor_selector.to_json(),
            "tsaUrls": list(&self.tsa_urls),
            "tsaConfig": self.tsa_selector.to_json(),
        })
    }

    /// Parses `signing_config.v0.2.json`.
    ///
    /// # Errors
    /// [`SigningConfigError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, SigningConfigError> {
        let c: ConfigJson =
            serde_json::from_slice(bytes).map_err(|e| SigningConfigError::Json(e.into()))?;
        if c.media_type != SIGNING_CONFIG_MEDIA_TYPE {
            return Err(SigningConfigError::MediaType(c.media_type));
        }
        Ok(Self {
            ca_urls: services(c.ca_urls)?,
            oidc_urls: services(c.oidc_urls)?,
            rekor_tlog_urls: services(c.rekor_tlog_urls)?,
            rekor_selector: selector(c.rekor_tlog_config)?,
            tsa_urls: services(c.tsa_urls)?,
            tsa_selector: selector(c.tsa_config)?,
        })
    }

    /// The transparency logs to publish to at `now`, among those whose
    /// major API version is in `supported` (this workspace speaks 1 and 2).
    ///
    /// # Errors
    /// [`SigningConfigError::NoService`] or [`SigningConfigError::TooFew`].
    pub fn select_logs(
        &self,
        now: Timestamp,
        supported: &[u32],
    ) -> Result<Vec<&Service>, SigningConfigError> {
        select(
            &self.rekor_tlog_urls,
            self.rekor_selector,
            now,
            supported,
            "transparency log",
        )
    }

    /// The timestamp authorities to ask at `now` (API version 1).
    ///
    /// # Errors
    /// [`SigningConfigError::NoService`] or [`SigningConfigError::TooFew`].
    pub fn select_tsas(&self, now: Timestamp) -> Result<Vec<&Service>, SigningConfigError> {
        select(
            &self.tsa_urls,
            self.tsa_selector,
            now,
            &[1],
            "timestamp authority",
        )
    }
}

fn select<'a>(
    list: &'a [Service],
    selector: Selector,
    now: Timestamp,
    supported: &[u32],
    kind: &'static str,
) -> Result<Vec<&'a Service>, SigningConfigError> {
    let mut usable: Vec<&Service> = Vec::new();
    for s in list {
        if supported.contains(&s.major_api_version)
            && s.valid_at(now)
            && !usable.iter().any(|u| u.operator == s.operator)
        {
            usable.push(s);
        }
    }
    if usable.is_empty() {
        return Err(SigningConfigError::NoService { kind });
    }
    match selector {
        Selector::All => Ok(usable),
        Selector::Any => Ok(usable.into_iter().take(1).collect()),
        Selector::Exact(n) => {
            if usable.len() < n as usize {
                return Err(SigningConfigError::TooFew {
                    kind,
                    wanted: n,
                    usable: usable.len(),
                });
            }
            Ok(usable.into_iter().take(n as usize).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PRODUCTION_LIKE: &str = r#"{
      "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
      "caUrls": [{"url": "https://fulcio.sigstore.dev", "majorApiVersion": 1,
                  "validFor": {"start": "2023-04-14T21:38:40Z"}, "operator": "sigstore.dev"}],
      "oidcUrls": [{"url": "https://oauth2.sigstore.dev/auth", "majorApiVersion": 1,
                  "validFor": {"start": "2025-04-16T00:00:00Z"}, "operator": "sigstore.dev"}],
      "rekorTlogUrls": [
        {"url": "https://log2025-1.rekor.sigstore.dev", "majorApiVersion": 2,
         "validFor": {"start": "2025-10-01T00:00:00Z"}, "operator": "sigstore.dev"},
        {"url": "https://rekor.sigstore.dev", "majorApiVersion": 1,
         "validFor": {"start": "2021-01-12T11:53:27Z"}, "operator": "sigstore.dev"}
      ],
      "rekorTlogConfig": {"selector": "ANY"},
      "tsaUrls": [{"url": "https://timestamp.sigstore.dev/api/v1/timestamp", "majorApiVersion": 1,
                  "validFor": {"start": "2025-07-04T00:00:00Z"}, "operator": "sigstore.dev"}],
      "tsaConfig": {"selector": "ANY"}
    }"#;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    /// The writer's output reads back as the same config: every field,
    /// every selector, open and closed windows; and a published config
    /// written out again reads back equal.
    #[test]
    fn to_json_round_trips() {
        let published = SigningConfig::from_json(PRODUCTION_LIKE.as_bytes()).unwrap();
        let again = SigningConfig::from_json(published.to_json().to_string().as_bytes()).unwrap();
        assert_eq!(again, published);
        for selector in [Selector::All, Selector::Any, Selector::Exact(2)] {
            let mut c = SigningConfig::new(
                vec![
                    Service::new(
                        "http://127.0.0.1:3000/",
                        2,
                        at("2026-01-01T00:00:00Z"),
                        "us",
                    )
                    .until(at("2027-01-01T00:00:00Z")),
                ],
                vec![Service::new(
                    "http://tsa",
                    1,
                    at("2026-01-01T00:00:00Z"),
                    "us",
                )],
            );
            c.rekor_selector = selector;
            c.tsa_selector = selector;
            let back = SigningConfig::from_json(c.to_json().to_string().as_bytes()).unwrap();
            assert_eq!(back, c);
            assert_eq!(back.rekor_tlog_urls[0].url, "http://127.0.0.1:3000");
        }
    }

    #[test]
    fn the_v2_log_is_chosen_when_spoken_and_v1_otherwise() {
        let c = SigningConfig::from_json(PRODUCTION_LIKE.as_bytes()).unwrap();
        let now = at("2026-01-01T00:00:00Z");
        let logs = c.select_logs(now, &[1, 2]).unwrap();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].url, "https://log2025-1.rekor.sigstore.dev");
        assert_eq!(logs[0].major_api_version, 2);
        let v1 = c.select_logs(now, &[1]).unwrap();
        assert_eq!(v1[0].url, "https://rekor.sigstore.dev");
        // Before the v2 log's window opens, the v1 log is the usable one.
        let early = c.select_logs(at("2025-01-01T00:00:00Z"), &[1, 2]).unwrap();
        assert_eq!(early[0].major_api_version, 1);
        assert_eq!(
            c.select_tsas(now).unwrap()[0].url,
            "https://timestamp.sigstore.dev/api/v1/timestamp"
        );
        assert!(matches!(
            c.select_tsas(at("2025-01-01T00:00:00Z")),
            Err(SigningConfigError::NoService { .. })
        ));
        assert!(matches!(
            c.select_logs(now, &[3]),
            Err(SigningConfigError::NoService { .. })
        ));
    }

    #[test]
    fn selectors_and_operators() {
        let cfg = |sel: &str| {
            format!(
                r#"{{"mediaType": "{SIGNING_CONFIG_MEDIA_TYPE}",
                "rekorTlogUrls": [
                  {{"url": "https://a1/", "majorApiVersion": 2, "validFor": {{"start": "2025-01-01T00:00:00Z"}}, "operator": "a"}},
                  {{"url": "https://a2", "majorApiVersion": 1, "validFor": {{"start": "2025-01-01T00:00:00Z"}}, "operator": "a"}},
                  {{"url": "https://b", "majorApiVersion": 1, "validFor": {{"start": "2025-01-01T00:00:00Z", "end": "2025-06-01T00:00:00Z"}}, "operator": "b"}},
                  {{"url": "https://c", "majorApiVersion": 1, "validFor": {{"start": "2025-01-01T00:00:00Z"}}, "operator": "c"}}
                ],
                "rekorTlogConfig": {sel}}}"#
            )
        };
        let now = at("2026-01-01T00:00:00Z");
        let all = SigningConfig::from_json(cfg(r#"{"selector": "ALL"}"#).as_bytes()).unwrap();
        let urls: Vec<_> = all
            .select_logs(now, &[1, 2])
            .unwrap()
            .iter()
            .map(|s| s.url.as_str())
            .collect();
        // One per operator (the first listed), b expired.
        assert_eq!(urls, ["https://a1", "https://c"]);
        let exact =
            SigningConfig::from_json(cfg(r#"{"selector": "EXACT", "count": 2}"#).as_bytes())
                .unwrap();
        assert_eq!(exact.select_logs(now, &[1, 2]).unwrap().len(), 2);
        let three =
            SigningConfig::from_json(cfg(r#"{"selector": "EXACT", "count": 3}"#).as_bytes())
                .unwrap();
        assert!(matches!(
            three.select_logs(now, &[1, 2]),
            Err(SigningConfigError::TooFew {
                wanted: 3,
                usable: 2,
                ..
            })
        ));
        for bad in [r#"{"selector": "EXACT"}"#, r#"{"selector": "SOME"}"#] {
            assert!(matches!(
                SigningConfig::from_json(cfg(bad).as_bytes()),
                Err(SigningConfigError::Selector(_))
            ));
        }
    }

    #[test]
    fn malformed_configs_are_refused() {
        let v01 = PRODUCTION_LIKE.replace("v0.2", "v0.1");
        assert!(matches!(
            SigningConfig::from_json(v01.as_bytes()),
            Err(SigningConfigError::MediaType(_))
        ));
        let no_start = PRODUCTION_LIKE.replace(
            r#""validFor": {"start": "2021-01-12T11:53:27Z"}"#,
            r#""validFor": {}"#,
        );
        assert!(matches!(
            SigningConfig::from_json(no_start.as_bytes()),
            Err(SigningConfigError::Validity { .. })
        ));
        assert!(SigningConfig::from_json(b"[]").is_err());
    }
}

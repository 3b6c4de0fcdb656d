//! The portal's own paths and its links to log entries: what pages link
//! to, shared by the router and the pages.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte but RFC 3986's unreserved characters is encoded in the
/// portal's links (`/`, `@`, `:` and `%` included).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The audit page's path for `tenant` and `subject`, each one encoded path
/// segment.
#[must_use]
pub fn audit_path(tenant: &str, subject: &str) -> String {
    format!(
        "/audit/{}/{}",
        utf8_percent_encode(tenant, SEGMENT),
        utf8_percent_encode(subject, SEGMENT)
    )
}

/// A download's path.
pub(super) fn download_path(tenant: &str, id: &str, file: &str) -> String {
    format!(
        "/attestations/{}/{id}/{file}",
        utf8_percent_encode(tenant, SEGMENT)
    )
}

/// Where the page links a log entry to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryLinks {
    /// No public address for the log (e.g. an embedded log in process):
    /// the page shows the entry without a link.
    None,
    /// Sigstore's public-good instance: its search UI by UUID and
    /// `https://rekor.sigstore.dev/api/v1/log/entries/{uuid}`.
    SigstorePublicGood,
    /// Any other Rekor v1 log at this base URL:
    /// `{base}/api/v1/log/entries/{uuid}`.
    Rekor(String),
}

impl EntryLinks {
    /// The links for a log at `url`: Sigstore's public-good instance by its
    /// host, any other `http(s)://` URL as a Rekor v1 base, anything else
    /// (`local:DIR`) none.
    #[must_use]
    pub fn for_log_url(url: &str) -> Self {
        let Ok(uri) = url.parse::<http::Uri>() else {
            return Self::None;
        };
        match (uri.scheme_str(), uri.host()) {
            (Some("https"), Some("rekor.sigstore.dev")) => Self::SigstorePublicGood,
            (Some("http" | "https"), Some(_)) => Self::Rekor(url.trim_end_matches('/').to_owned()),
            _ => Self::None,
        }
    }

    /// The entry's API URL.
    #[must_use]
    pub fn api(&self, uuid: &str) -> Option<String> {
        match self {
            Self::None => None,
            Self::SigstorePublicGood => Some(format!(
                "https://rekor.sigstore.dev/api/v1/log/entries/{uuid}"
            )),
            Self::Rekor(base) => Some(format!("{base}/api/v1/log/entries/{uuid}")),
        }
    }

    /// The entry in a search UI, where the log has one.
    #[must_use]
    pub fn search(&self, uuid: &str) -> Option<String> {
        match self {
            Self::SigstorePublicGood => Some(format!("https://search.sigstore.dev/?uuid={uuid}")),
            _ => None,
        }
    }
}

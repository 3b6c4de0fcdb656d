//! Who may read a tenant's pages: bearer tokens, one or more per tenant,
//! kept as SHA-256 hashes in a JSON file (`portal-auth.json`).
//!
//! A token is 32 random bytes (base64url, prefixed `atl_`), so a plain
//! SHA-256 is the right hash: there is nothing to brute-force that a slow
//! password hash would protect. A presented token is hashed and compared
//! with every stored hash in constant time (`subtle`), all of them, so
//! neither the time taken nor an early exit says which tenant's token came
//! close.

use std::collections::BTreeMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The auth file's format version this build reads and writes.
pub const AUTH_FILE_VERSION: u64 = 1;

/// The prefix of tokens made by [`new_token`] (so a leaked one is
/// recognisable in logs and secret scanners).
pub const TOKEN_PREFIX: &str = "atl_";

/// Why an auth file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Not JSON of the expected shape.
    #[error("the auth file is malformed")]
    Malformed(#[source] serde_json::Error),
    /// A version this build does not know.
    #[error("auth file version {found}: this build reads version {AUTH_FILE_VERSION}")]
    Version {
        /// The version found.
        found: u64,
    },
    /// A hash that is not 64 lowercase hex digits.
    #[error("tenant {tenant:?}: token hash {hash:?} is not 64 lowercase hex digits")]
    BadHash {
        /// The tenant.
        tenant: String,
        /// The value found.
        hash: String,
    },
    /// An empty tenant name.
    #[error("a tenant name is empty")]
    EmptyTenant,
    /// One token hash listed for two tenants (or twice): which tenant it
    /// opens would be ambiguous.
    #[error("token hash {hash} is listed more than once")]
    Duplicate {
        /// The repeated hash.
        hash: String,
    },
    /// No random bytes for a new token.
    #[error("no randomness for a new token")]
    Random,
}

/// One stored token: its hash and a note saying whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredToken {
    /// Lowercase hex SHA-256 of the token's UTF-8 bytes.
    sha256: String,
    /// Free text (who holds it, when it was issued).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    note: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthFileJson {
    version: u64,
    tenants: BTreeMap<String, Vec<StoredToken>>,
}

/// The tenants' tokens, as hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFile {
    tenants: BTreeMap<String, Vec<StoredToken>>,
    /// Every hash with its tenant, decoded, for the comparison.
    hashes: Vec<([u8; 32], String)>,
}

/// What a presented token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenMatch {
    /// The token of the tenant asked for.
    Tenant,
    /// A valid token of another tenant (403).
    OtherTenant,
    /// No tenant's token (401).
    Unknown,
}

impl TokenFile {
    /// No tenants: nobody gets in (add tokens with [`add`](Self::add)).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses an auth file: `{"version": 1, "tenants": {"acme": [{"sha256":
    /// "<64 hex>", "note": "ci"}]}}`. Unknown fields, versions, malformed
    /// hashes, empty tenant names and a hash listed twice are refused.
    ///
    /// # Errors
    /// [`AuthError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, AuthError> {
        let f: AuthFileJson = serde_json::from_slice(bytes).map_err(AuthError::Malformed)?;
        if f.version != AUTH_FILE_VERSION {
            return Err(AuthError::Version { found: f.version });
        }
        let mut out = Self::new();
        for (tenant, tokens) in f.tenants {
            if tenant.is_empty() {
                return Err(AuthError::EmptyTenant);
            }
            for t in tokens {
                out.insert(&tenant, t)?;
            }
            out.tenants.entry(tenant).or_default();
        }
        Ok(out)
    }

    /// The file's text (pretty JSON, a newline at the end).
    #[must_use]
    pub fn to_json_pretty(&self) -> String {
        let f = AuthFileJson {
            version: AUTH_FILE_VERSION,
            tenants: self.tenants.clone(),
        };
        let mut s = serde_json::to_string_pretty(&f).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Adds `token`'s hash for `tenant`, with a note.
    ///
    /// # Errors
    /// [`AuthError::EmptyTenant`], [`AuthError::Duplicate`].
    pub fn add(&mut self, tenant: &str, token: &str, note: &str) -> Result<(), AuthError> {
        if tenant.is_empty() {
            return Err(AuthError::EmptyTenant);
        }
        self.insert(
            tenant,
            StoredToken {
                sha256: base16ct::lower::encode_string(&token_hash(token)),
                note: note.to_owned(),
            },
        )
    }

    fn insert(&mut self, tenant: &str, t: StoredToken) -> Result<(), AuthError> {
        let mut h = [0u8; 32];
        let decoded = t.sha256.len() == 64
            && t.sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && base16ct::lower::decode(&t.sha256, &mut h).is_ok();
        if !decoded {
            return Err(AuthError::BadHash {
                tenant: tenant.to_owned(),
                hash: t.sha256,
            });
        }
        if self.hashes.iter().any(|(x, _)| *x == h) {
            return Err(AuthError::Duplicate { hash: t.sha256 });
        }
        self.hashes.push((h, tenant.to_owned()));
        self.tenants.entry(tenant.to_owned()).or_default().push(t);
        Ok(())
    }

    /// The tenants named in the file (some may have no token).
    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }

    /// What `token` opens when `tenant`'s page is asked for. Every stored
    /// hash is compared, in constant time, whatever matched first.
    #[must_use]
    pub fn check(&self, tenant: &str, token: &str) -> TokenMatch {
        let presented = token_hash(token);
        let mut this = subtle::Choice::from(0);
        let mut other = subtle::Choice::from(0);
        for (h, t) in &self.hashes {
            let eq = h.ct_eq(&presented);
            // The tenant names are not secret; only the hash comparison is.
            if t == tenant {
                this |= eq;
            } else {
                other |= eq;
            }
        }
        if bool::from(this) {
            TokenMatch::Tenant
        } else if bool::from(other) {
            TokenMatch::OtherTenant
        } else {
            TokenMatch::Unknown
        }
    }
}

/// SHA-256 of a token's bytes, as stored.
fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new random token: `atl_` and 32 random bytes in base64url (43
/// characters). Show it once; store only [`TokenFile::add`]'s hash.
///
/// # Errors
/// [`AuthError::Random`] when the system has no randomness to give.
pub fn new_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Random)?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        Base64UrlUnpadded::encode_string(&bytes)
    ))
}

/// The token a request presents: `Authorization: Bearer <token>`, or HTTP
/// Basic with the token as the password (what a browser's sign-in prompt
/// sends; the user name is not used). `None` when there is none, or the
/// header is not one of those two.
pub(crate) fn presented_token(headers: &http::HeaderMap) -> Option<String> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!rest.is_empty()).then(|| rest.to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64ct::Base64::decode_vec(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return (!password.is_empty()).then(|| password.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tokens_open_their_tenant_only() {
        let mut f = TokenFile::new();
        let acme = new_token().unwrap();
        let globex = new_token().unwrap();
        assert!(acme.starts_with(TOKEN_PREFIX) && acme.len() == 4 + 43);
        assert_ne!(acme, globex);
        f.add("acme", &acme, "ci").unwrap();
        f.add("globex", &globex, "").unwrap();
        assert_eq!(f.check("acme", &acme), TokenMatch::Tenant);
        assert_eq!(f.check("acme", &globex), TokenMatch::OtherTenant);
        assert_eq!(f.check("initech", &acme), TokenMatch::OtherTenant);
        assert_eq!(f.check("acme", "atl_guess"), TokenMatch::Unknown);
        assert_eq!(f.check("acme", ""), TokenMatch::Unknown);
        // A token one character off is unknown.
        let mut near = acme.clone();
        near.pop();
        near.push('x');
        assert_eq!(f.check("acme", &near), TokenMatch::Unknown);
    }

    #[test]
    fn the_file_round_trips_and_holds_only_hashes() {
        let mut f = TokenFile::new();
        let t = new_token().unwrap();
        f.add("acme", &t, "release bot").unwrap();
        let text = f.to_json_pretty();
        assert!(!text.contains(&t), "the token itself is never written");
        let back = TokenFile::from_json(text.as_bytes()).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.check("acme", &t), TokenMatch::Tenant);
        assert_eq!(back.tenants().collect::<Vec<_>>(), ["acme"]);
    }

    type Expect = fn(&AuthError) -> bool;

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        let h = "ab".repeat(32);
        let cases: &[(&str, Expect)] = &[
            ("{", |e| matches!(e, AuthError::Malformed(_))),
            (r#"{"version":2,"tenants":{}}"#, |e| {
                matches!(e, AuthError::Version { found: 2 })
            }),
            (r#"{"version":1,"tenants":{},"extra":1}"#, |e| {
                matches!(e, AuthError::Malformed(_))
            }),
            (r#"{"version":1,"tenants":{"a":[{"sha256":"AB"}]}}"#, |e| {
                matches!(e, AuthError::BadHash { .. })
            }),
            (r#"{"version":1,"tenants":{"":[]}}"#, |e| {
                matches!(e, AuthError::EmptyTenant)
            }),
        ];
        for (text, want) in cases {
            let e = TokenFile::from_json(text.as_bytes()).unwrap_err();
            assert!(want(&e), "{text}: {e}");
        }
        let upper = format!(
            r#"{{"version":1,"tenants":{{"a":[{{"sha256":"{}"}}]}}}}"#,
            h.to_uppercase()
        );
        assert!(matches!(
            TokenFile::from_json(upper.as_bytes()),
            Err(AuthError::BadHash { .. })
        ));
        let dup = format!(
            r#"{{"version":1,"tenants":{{"a":[{{"sha256":"{h}"}}],"b":[{{"sha256":"{h}"}}]}}}}"#
        );
        assert!(matches!(
            TokenFile::from_json(dup.as_bytes()),
            Err(AuthError::Duplicate { .. })
        ));
    }

    #[test]
    fn bearer_and_basic_headers_present_a_token() {
        let h = |v: &str| {
            let mut m = http::HeaderMap::new();
            m.insert(http::header::AUTHORIZATION, v.parse().unwrap());
            m
        };
        assert_eq!(
            presented_token(&h("Bearer atl_x")).as_deref(),
            Some("atl_x")
        );
        assert_eq!(
            presented_token(&h("bearer  atl_x ")).as_deref(),
            Some("atl_x")
        );
        let basic = base64ct::Base64::encode_string(b"acme:atl_y");
        assert_eq!(
            presented_token(&h(&format!("Basic {basic}"))).as_deref(),
            Some("atl_y")
        );
        for bad in ["Bearer ", "Basic !!!", "Digest x", "atl_x"] {
            assert_eq!(presented_token(&h(bad)), None, "{bad}");
        }
        let no_password = base64ct::Base64::encode_string(b"acme:");
        assert_eq!(presented_token(&h(&format!("Basic {no_password}"))), None);
        assert_eq!(presented_token(&http::HeaderMap::new()), None);
    }
}

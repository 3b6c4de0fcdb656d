//! The log's own files: `log.json` (name, tree id, key id, creation), the signing key, and the trusted root made from them.

#[allow(clippy::wildcard_imports)]
use super::*;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Meta {
    pub(crate) format: u32,
    pub(crate) name: String,
    /// Decimal, as Rekor's `treeID`.
    #[serde(rename = "treeID")]
    pub(crate) tree_id: String,
    /// Hex SHA-256 of the log key's SPKI.
    #[serde(rename = "logID")]
    pub(crate) log_id: String,
    /// When the log was created (unix seconds): the start of its key's
    /// validity in a trusted root. Absent in logs made before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created: Option<i64>,
}

/// The log key in `path` (PKCS#8 PEM), or a new ECDSA P-256 key (as Rekor
/// uses) written there with mode 0600 when the file does not exist.
///
/// # Errors
/// [`LocalError::Key`] or [`LocalError::Read`] for an unreadable key, [`LocalError::Storage`] when
/// the file cannot be written.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey, LocalError> {
    load_or_create_key_of(path, attest_dsse::Algorithm::EcdsaP256Sha256)
}

/// [`load_or_create_key`], creating a key of `alg` when the file is missing
/// (a tile log's key is Ed25519).
///
/// # Errors
/// [`LocalError`].
pub fn load_or_create_key_of(
    path: &Path,
    alg: attest_dsse::Algorithm,
) -> Result<SigningKey, LocalError> {
    match std::fs::read_to_string(path) {
        Ok(pem) => SigningKey::from_pkcs8_pem(&pem).map_err(|source| LocalError::Key {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(alg).map_err(LocalError::NewKey)?;
            let pem = key.to_pkcs8_pem().map_err(LocalError::NewKey)?;
            let io = |source| {
                LocalError::Storage(StorageError::Io {
                    context: "write the log key",
                    source,
                })
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            // Private to the owner where the platform has modes.
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(path).map_err(io)?;
            std::io::Write::write_all(&mut f, pem.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(source) => Err(LocalError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The files of a log besides `log.json`: if any is there, the directory
/// holds a log whose metadata is missing.
pub(crate) const DATA_FILES: [&str; 5] = [
    "entries.log",
    "index.dat",
    "tree.dat",
    "synced.dat",
    "checkpoint.dat",
];

pub(crate) fn load_or_create_meta(
    dir: &Path,
    name: &str,
    log_id_hex: &str,
) -> Result<(Meta, storage::Layout), LocalError> {
    let path = dir.join("log.json");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let meta: Meta =
                serde_json::from_slice(&bytes).map_err(|source| LocalError::MetaJson {
                    path: path.clone(),
                    source,
                })?;
            let layout = match meta.format {
                1 => storage::Layout::Legacy,
                2 => storage::Layout::Current,
                format => return Err(LocalError::MetaFormat { path, format }),
            };
            if meta.log_id != log_id_hex {
                return Err(LocalError::WrongKey {
                    dir: dir.to_owned(),
                    found: meta.log_id,
                    expected: log_id_hex.to_owned(),
                });
            }
            Ok((meta, layout))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Without its metadata an existing log is damaged, not new: a
            // new tree id would orphan every entry id handed out.
            if DATA_FILES
                .iter()
                .any(|f| std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() > 0))
            {
                return Err(LocalError::Storage(StorageError::Corrupt(
                    storage::Damage::MissingFile { file: "log.json" },
                )));
            }
            if !valid_key_name(name) {
                return Err(LocalError::InvalidName(name.to_owned()));
            }
            // A random positive tree id, like Trillian's.
            let tree_id = getrandom::u64().map_err(LocalError::Random)? >> 1;
            let meta = Meta {
                format: 2,
                name: name.to_owned(),
                tree_id: tree_id.to_string(),
                log_id: log_id_hex.to_owned(),
                created: Some(SystemClock.now().unix()),
            };
            write_meta(dir, &meta)?;
            Ok((meta, storage::Layout::New))
        }
        Err(e) => Err(LocalError::Storage(StorageError::Io {
            context: "read log.json",
            source: e,
        })),
    }
}

/// A signed-note key name (C2SP signed-note): non-empty, no Unicode
/// whitespace, no `+`; control characters are refused too, since a note
/// line cannot carry them.
pub(crate) fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c.is_control() || c == '+')
}

/// `log.json`, replaced atomically and durably.
pub(crate) fn write_meta(dir: &Path, meta: &Meta) -> Result<(), LocalError> {
    // Plain strings and a number: serialization cannot fail.
    #[allow(clippy::expect_used)]
    let text = serde_json::to_string_pretty(meta).expect("log metadata serializes");
    let tmp = dir.join("log.json.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join("log.json"))?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        LocalError::Storage(StorageError::Io {
            context: "write log.json",
            source: e,
        })
    })
}

pub(crate) fn meta_copy(sh: &Shared) -> Meta {
    Meta {
        format: 2,
        name: sh.name.clone(),
        tree_id: sh.tree_id.to_string(),
        log_id: sh.log_id.to_hex(),
        created: sh.created,
    }
}

/// A Sigstore `TrustedRoot` (media type `…trustedroot+json;version=0.1`)
/// for the log in `dir`, as served at `base_url`: one `tlogs` entry with the
/// log's key (`log-public.pem`), `logId.keyId` = SHA-256 of its SPKI, and
/// `validFor.start` = the log's creation (for a log made before creation
/// times were kept: `log.json`'s modification time). Reads the two files
/// only, so it works while a server has the log open. With it any Sigstore
/// client can verify the bundles of the embedded log.
///
/// # Errors
/// [`LocalError::MetaJson`] and storage errors for a missing or malformed
/// `log.json` or key, [`LocalError::WrongKey`] when the key is not the one
/// `log.json` names.
pub fn trusted_root(dir: &Path, base_url: &str) -> Result<attest_rekor::TrustedRoot, LocalError> {
    let io = |context: &'static str| {
        move |source: std::io::Error| LocalError::Storage(StorageError::Io { context, source })
    };
    let path = dir.join("log.json");
    let bytes = std::fs::read(&path).map_err(io("read log.json"))?;
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|source| LocalError::MetaJson {
        path: path.clone(),
        source,
    })?;
    let pem =
        std::fs::read_to_string(dir.join("log-public.pem")).map_err(io("read log-public.pem"))?;
    let key = PublicKey::from_pem(&pem).map_err(|_| {
        LocalError::Storage(StorageError::Io {
            context: "parse log-public.pem",
            source: std::io::Error::from(std::io::ErrorKind::InvalidData),
        })
    })?;
    let log_id = LogId::of_key(&key);
    if log_id.to_hex() != meta.log_id {
        return Err(LocalError::WrongKey {
            dir: dir.to_owned(),
            found: meta.log_id,
            expected: log_id.to_hex(),
        });
    }
    let created = match meta.created {
        Some(t) => t,
        None => std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok())
            .unwrap_or(0),
    };
    let log = TrustedLog::rekor_v1(base_url, key)
        .valid_between(Some(attest_dsse::Timestamp::from_unix(created)), None);
    Ok(attest_rekor::TrustedRoot::new().with_log(log))
}

/// The origin line of a durable checkpoint's note (empty when it does not
/// parse: then it cannot match any log's origin).
pub(crate) fn durable_origin(note: &str) -> String {
    note.split('\n').next().unwrap_or_default().to_owned()
}

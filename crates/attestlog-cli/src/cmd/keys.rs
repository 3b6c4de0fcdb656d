//! `attestlog keygen` and `attestlog keys …`: signing keys and key-set documents.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use attest_dsse::{Algorithm, KeySet, KeyStatus, PublicKey, SigningKey, Timestamp, TrustedKey};
use clap::{Args, Subcommand, ValueEnum};

use crate::Failure;
use crate::cmd::{print_json, read_input};

/// Key algorithms on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Alg {
    /// Ed25519.
    Ed25519,
    /// ECDSA P-256 with SHA-256 (DER signatures).
    P256,
}

/// `attestlog keygen` arguments.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Key algorithm.
    #[arg(long, value_enum, default_value = "ed25519")]
    alg: Alg,
    /// Where to write the PKCS#8 private key (created with mode 0600; an
    /// existing file is never overwritten).
    #[arg(long)]
    out: PathBuf,
}

/// `attestlog keys` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Print a key-set document (JWKS with validity windows) for public keys.
    Export {
        /// First instant the keys verify (RFC 3339); default: now.
        #[arg(long)]
        valid_from: Option<Timestamp>,
        /// Last instant the keys verify (RFC 3339); default: open-ended.
        #[arg(long)]
        valid_until: Option<Timestamp>,
        /// Status of the keys.
        #[arg(long, value_enum, default_value = "active")]
        status: Status,
        /// Document version (increase it on every change).
        #[arg(long = "doc-version", default_value_t = 1)]
        doc_version: u64,
        /// Public keys (PEM `PUBLIC KEY` or `CERTIFICATE`), or private keys
        /// (PKCS#8 PEM) whose public half is exported.
        #[arg(required = true)]
        keys: Vec<PathBuf>,
    },
    /// Print the key-set document to publish at
    /// `/.well-known/attestlog/attestation-keys.json`: the published one
    /// (`--previous`, kept as is) plus the configured signing keys.
    ServeDoc {
        /// Signing or public keys (PEM); repeat for several.
        #[arg(long = "key", env = "ATTESTLOG_KEY", required = true)]
        keys: Vec<PathBuf>,
        /// The currently published document, whose keys, windows and
        /// statuses are kept.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// When the new keys' window starts (RFC 3339). Default: the Unix
        /// epoch for a first document (so attestations made before it
        /// still verify), now for keys added to a --previous one (a
        /// rotation).
        #[arg(long)]
        valid_from: Option<Timestamp>,
        /// When the new keys' window ends (RFC 3339; default: open).
        #[arg(long)]
        valid_until: Option<Timestamp>,
    },
}

/// Key statuses on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Status {
    /// Signs and verifies.
    Active,
    /// Verifies what it signed inside its window.
    Retired,
    /// Verifies nothing.
    Revoked,
}

pub(crate) fn keygen(args: KeygenArgs) -> Result<ExitCode, Failure> {
    let alg = match args.alg {
        Alg::Ed25519 => Algorithm::Ed25519,
        Alg::P256 => Algorithm::EcdsaP256Sha256,
    };
    let key = SigningKey::generate(alg).map_err(Failure::error)?;
    let pem = key.to_pkcs8_pem().map_err(Failure::error)?;
    write_private(&args.out, pem.as_bytes())?;
    let public = key.public_key();
    print_json(&serde_json::json!({
        "keyid": public.key_id(),
        "algorithm": alg,
        "privateKeyFile": args.out,
        "publicKeyPem": public.to_pem(),
    }))
}

/// Creates a private file (mode 0600), refusing to overwrite.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        Failure::input(format_args!(
            "cannot create {}: {e}",
            path.display(),
            e = attest_dsse::ErrorChain(&e)
        ))
    })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Loads a public key from PEM: `PUBLIC KEY`, `CERTIFICATE`, or the public
/// half of a PKCS#8 `PRIVATE KEY`.
/// The variable an encrypted private key's passphrase is read from (else
/// a prompt on the terminal).
pub(crate) const PASSWORD_VAR: &str = "ATTESTLOG_KEY_PASSWORD";

/// A signing key from a PEM file (`-` for stdin): PKCS#8 `PRIVATE KEY`
/// (Ed25519, ECDSA P-256), SEC1 `EC PRIVATE KEY` (P-256, OpenSSL's default),
/// or an encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` whose passphrase comes
/// from `ATTESTLOG_KEY_PASSWORD` or, on a terminal, a prompt that does not
/// echo.
pub(crate) fn load_signing_key(path: &Path) -> Result<SigningKey, Failure> {
    let pem = String::from_utf8(read_input(path)?)
        .map_err(|_| Failure::input(format_args!("{}: not PEM", path.display())))?;
    signing_key_from_pem(path, &pem)
}

fn signing_key_from_pem(path: &Path, pem: &str) -> Result<SigningKey, Failure> {
    match SigningKey::from_pem(pem) {
        Err(attest_dsse::KeyError::Encrypted) => {
            let passphrase = match std::env::var(PASSWORD_VAR) {
                Ok(p) => p,
                Err(_) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                    rpassword::prompt_password(format!("Passphrase for {}: ", path.display()))
                        .map_err(|e| Failure::in_file(path, &e))?
                }
                Err(_) => {
                    return Err(Failure::input(format_args!(
                        "{}: the private key is encrypted: set {PASSWORD_VAR} to its passphrase (or run on a terminal to be asked)",
                        path.display()
                    )));
                }
            };
            SigningKey::from_encrypted_pkcs8_pem(pem, passphrase.as_bytes())
                .map_err(|e| Failure::in_file(path, &e))
        }
        other => other.map_err(|e| Failure::in_file(path, &e)),
    }
}

pub(crate) fn load_public_key(path: &Path) -> Result<PublicKey, Failure> {
    let text = String::from_utf8(read_input(path)?)
        .map_err(|_| Failure::input(format_args!("{}: not a PEM text file", path.display())))?;
    if text.contains("PRIVATE KEY-----") {
        return signing_key_from_pem(path, &text).map(|k| k.public_key().clone());
    }
    attest_rekor::x509::public_key_from_pem(&text).map_err(|e| Failure::in_file(path, &e))
}

/// The key set an auditor trusts, from `--key FILE|URL`: a key-set
/// document (a file, or fetched from an `http(s)://` URL such as a
/// service's `/.well-known/attestlog/attestation-keys.json`), or one PEM
/// key (public key or certificate), trusted at every time.
pub(crate) fn load_key_set(arg: &str) -> Result<KeySet, Failure> {
    if arg.starts_with("http://") || arg.starts_with("https://") {
        return attestlog::fetch_key_set(&rekor_client::UreqTransport::new(), arg)
            .map_err(Failure::error);
    }
    let path = Path::new(arg);
    match load_signer(path)? {
        attest_rekor::SignerPolicy::KeySet(set) => Ok(set),
        attest_rekor::SignerPolicy::Key(key) => Ok(KeySet::new(1, vec![TrustedKey::always(key)])),
        _ => Err(Failure::input(format_args!(
            "{arg}: expected a key-set document (JSON) or a PEM public key"
        ))),
    }
}

/// Who may have signed, from `--key FILE`: a key-set document (JSON, as
/// `keys export` / `keys serve-doc` write it: any key valid at the verified
/// times), or one key (PEM public key, certificate, or PKCS#8 private key
/// of which only the public half is used).
pub(crate) fn load_signer(path: &Path) -> Result<attest_rekor::SignerPolicy, Failure> {
    let bytes = read_input(path)?;
    if bytes.trim_ascii_start().starts_with(b"{") {
        return KeySet::from_json(&bytes)
            .map(attest_rekor::SignerPolicy::KeySet)
            .map_err(|e| {
                Failure::input(format_args!(
                    "{}: not a key-set document: {e}",
                    path.display(),
                    e = attest_dsse::ErrorChain(&e)
                ))
            });
    }
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Err(Failure::input(format_args!(
            "{}: neither a key-set document (JSON) nor a PEM key",
            path.display()
        )));
    }
    load_public_key(path).map(attest_rekor::SignerPolicy::Key)
}

pub(crate) fn run(cmd: KeysCommand) -> Result<ExitCode, Failure> {
    match cmd {
        KeysCommand::ServeDoc {
            keys,
            previous,
            valid_from,
            valid_until,
        } => {
            let previous = previous
                .map(|p| KeySet::from_json(&read_input(&p)?).map_err(|e| Failure::in_file(&p, &e)))
                .transpose()?;
            let from = valid_from.unwrap_or_else(|| match previous {
                Some(_) => Timestamp::now(),
                None => Timestamp::from_unix(0),
            });
            if valid_until.is_some_and(|u| u < from) {
                return Err(Failure::input("--valid-until is before --valid-from"));
            }
            let keys = keys
                .iter()
                .map(|k| load_public_key(k))
                .collect::<Result<Vec<_>, _>>()?;
            let doc = attestlog::key_set_document(previous, &keys, from, valid_until);
            crate::cmd::print_text(&format!("{}\n", doc.to_json_pretty()))?;
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Export {
            valid_from,
            valid_until,
            status,
            doc_version,
            keys,
        } => {
            let valid_from = valid_from.unwrap_or_else(Timestamp::now);
            if valid_until.is_some_and(|u| u < valid_from) {
                return Err(Failure::input("--valid-until is before --valid-from"));
            }
            let status = match status {
                Status::Active => KeyStatus::Active,
                Status::Retired => KeyStatus::Retired,
                Status::Revoked => KeyStatus::Revoked,
            };
            let mut set = KeySet::new(doc_version, vec![]);
            for path in &keys {
                let key = load_public_key(path)?;
                if set.keys.iter().any(|k| k.key == key) {
                    return Err(Failure::input(format_args!(
                        "{}: the same public key is given twice",
                        path.display()
                    )));
                }
                let mut k = TrustedKey::always(key);
                k.valid_from = Some(valid_from);
                k.valid_until = valid_until;
                k.status = status;
                set.keys.push(k);
            }
            crate::cmd::print_text(&format!("{}\n", set.to_json_pretty()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

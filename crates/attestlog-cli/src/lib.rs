//! The code of the `attestlog` command and of `attestlog-verify`, its
//! single-purpose bundle verifier.
//!
//! The two binaries share this library so that `attestlog-verify` links
//! only what verification reaches: `attestlog` carries every command (the
//! embedded logs' HTTP server, SQLite and PostgreSQL stores, the portal, the
//! witness), and a process that verifies one bundle pays for that size at
//! start-up — relocating and faulting in a binary twice as large (issue 29).
//! Its API is the two entry points and is not meant for other crates; use
//! the `attestlog` library instead.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod failure;

pub(crate) use failure::Failure;

/// Transparency-logged software attestations.
#[derive(Debug, Parser)]
#[command(name = "attestlog", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign an in-toto statement, store it, and publish it when a log is configured.
    Attest(cmd::attest::AttestArgs),
    /// Publish the stored attestations still pending (a log was down when
    /// they were made), oldest first; exit 0 when none is left pending.
    PublishPending(cmd::attest::PublishPendingArgs),
    /// Re-verify stored attestations against the key set and the log; exit 0
    /// only when every check passed.
    Audit(cmd::attest::AuditArgs),
    /// RFC 6962 Merkle trees: compute roots, build and verify proofs.
    #[command(subcommand)]
    Merkle(cmd::merkle::MerkleCommand),
    /// Generate a signing key (PKCS#8 PEM) and print its public key and key id.
    Keygen(cmd::keys::KeygenArgs),
    /// DSSE envelopes: sign and verify.
    #[command(subcommand)]
    Dsse(cmd::dsse::DsseCommand),
    /// Key-set documents (JWKS with validity windows).
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// A Rekor v1 log: signed tree head, entries, consistency — all verified.
    #[command(subcommand)]
    Rekor(cmd::rekor::RekorCommand),
    /// A Rekor v2 log: publish with a timestamp, checkpoint, entries and
    /// monitoring from verified tiles, signing-config selection.
    #[command(subcommand, name = "rekor-v2")]
    RekorV2(cmd::rekor2::Rekor2Command),
    /// The embedded Rekor v1-compatible transparency log.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Sigstore bundles: export stored attestations (verify them with
    /// `verify-bundle`).
    #[command(subcommand)]
    Bundle(cmd::rekor::BundleCommand),
    /// Verify Sigstore bundles for an artifact and a signer (a key, a key
    /// set, or a certificate identity), offline (sigstore-conformance's
    /// client protocol); exit 0 only when every one verified.
    VerifyBundle(cmd::verify::VerifyBundleArgs),
    /// Signed checkpoints (C2SP signed notes): verify.
    #[command(subcommand)]
    Checkpoint(cmd::rekor::CheckpointCommand),
    /// The attestation store (SQLite file or PostgreSQL URL).
    #[command(subcommand)]
    Store(cmd::store::StoreCommand),
    /// Sigstore's trust material from its TUF repository: update the cache,
    /// show what is in force.
    #[command(subcommand)]
    Trust(cmd::trust::TrustCommand),
    /// The auditor portal: audit pages per tenant and subject behind
    /// tokens, and the public key-set document.
    #[command(subcommand)]
    Portal(cmd::portal::PortalCommand),
    /// A transparency-log witness (C2SP tlog-witness): cosigns the
    /// checkpoints of the logs it is told about, never one inconsistent with
    /// what it cosigned before.
    #[command(subcommand)]
    Witness(cmd::witness::WitnessCommand),
    /// Follow a log: verify each new checkpoint (signature, witnesses,
    /// consistency), scan the new entries and print each one signed by a
    /// watched key; alert and exit 1 when the log misbehaves.
    Monitor(cmd::monitor::MonitorArgs),
}

/// `verify-bundle` is what CI pipelines run once per bundle, so its own
/// arguments are parsed without building the whole command tree (clap's
/// tree was 6% of such a process's instructions, callgrind). Anything else
/// — help, version, an error — goes through the full parser, so what is
/// printed is the same.
fn verify_bundle_alone(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Option<cmd::verify::VerifyBundleArgs> {
    use clap::{Args, FromArgMatches};
    let mut args = args.into_iter();
    let bin = args.next()?;
    if args.next()? != "verify-bundle" {
        return None;
    }
    let command = cmd::verify::VerifyBundleArgs::augment_args(clap::Command::new("verify-bundle"));
    let matches = command
        .try_get_matches_from(std::iter::once(bin).chain(args))
        .ok()?;
    cmd::verify::VerifyBundleArgs::from_arg_matches(&matches).ok()
}

/// `attestlog`: parses the command line and runs the command; the exit code
/// is the command's (0 done or verified, 1 a check failed, 2 bad input).
pub fn attestlog_main() -> ExitCode {
    if let Some(args) = verify_bundle_alone(std::env::args_os()) {
        return finish(cmd::verify::verify_bundle_cmd(&args));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Merkle(c) => cmd::merkle::run(c),
        Command::Attest(a) => cmd::attest::attest(a),
        Command::PublishPending(a) => cmd::attest::publish_pending(a),
        Command::Audit(a) => cmd::attest::audit(a),
        Command::Keygen(a) => cmd::keys::keygen(a),
        Command::Dsse(c) => cmd::dsse::run(c),
        Command::Keys(c) => cmd::keys::run(c),
        Command::Store(c) => cmd::store::run(c),
        Command::Bundle(c) => cmd::rekor::bundle(c),
        Command::Rekor(c) => cmd::rekor::rekor(c),
        Command::RekorV2(c) => cmd::rekor2::run(c),
        Command::Log(c) => cmd::log::run(c),
        Command::Checkpoint(c) => cmd::rekor::checkpoint(c),
        Command::VerifyBundle(a) => cmd::verify::verify_bundle_cmd(&a),
        Command::Portal(c) => cmd::portal::run(c),
        Command::Witness(c) => cmd::witness::run(c),
        Command::Monitor(a) => cmd::monitor::monitor(a),
        Command::Trust(c) => cmd::trust::run(c),
    };
    finish(result)
}

/// `attestlog-verify`: Sigstore bundle verification, nothing else.
#[derive(Debug, Parser)]
#[command(
    name = "attestlog-verify",
    version,
    about = "Verify Sigstore bundles for an artifact and a signer, offline: `attestlog verify-bundle` as a binary of its own",
    long_about = "Verify Sigstore bundles for an artifact and a signer (a key, a key set, or a certificate identity), offline; exit 0 only when every one verified.\n\nThe same verification, arguments and report as `attestlog verify-bundle`, in a binary that holds nothing else, so a process verifying one bundle starts as fast as a single-purpose verifier. A leading `verify-bundle` word is accepted (sigstore-conformance's client protocol) and ignored."
)]
struct VerifyCli {
    #[command(flatten)]
    args: cmd::verify::VerifyBundleArgs,
}

/// `attestlog-verify`: takes `attestlog verify-bundle`'s arguments (after an
/// optional `verify-bundle` word) and verifies; exit 0 only when every
/// bundle verified, 1 when a check failed, 2 on bad input.
pub fn verify_main() -> ExitCode {
    failure::set_program("attestlog-verify");
    let cli = VerifyCli::parse_from(verifier_argv(std::env::args_os()));
    finish(cmd::verify::verify_bundle_cmd(&cli.args))
}

/// The verifier's arguments with sigstore-conformance's subcommand word, if
/// it comes first, taken out.
fn verifier_argv(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut argv: Vec<OsString> = args.into_iter().collect();
    if argv.get(1).is_some_and(|a| a == "verify-bundle") {
        argv.remove(1);
    }
    argv
}

/// The exit code, and the failure's message on stderr after the binary's
/// name.
fn finish(result: Result<ExitCode, Failure>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("{}: {}", failure::program(), f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::CommandFactory;

    /// The fast path for `verify-bundle` reads what the full parser reads,
    /// and leaves to it whatever it does not take.
    #[test]
    fn verify_bundle_alone_parses_as_the_whole_tree_does() {
        use clap::Parser;
        let cases: &[&[&str]] = &[
            &["--bundle", "b.json", "--key", "k.pem", "a.txt"],
            &[
                "--bundle",
                "b.json",
                "--certificate-identity",
                "id",
                "--certificate-oidc-issuer",
                "iss",
                "--trusted-root",
                "r.json",
                "--witness",
                "w+1+2",
                "a.txt",
            ],
        ];
        for case in cases {
            let argv: Vec<std::ffi::OsString> = ["attestlog", "verify-bundle"]
                .iter()
                .chain(case.iter())
                .map(Into::into)
                .collect();
            let fast = super::verify_bundle_alone(argv.clone());
            let full = super::Cli::try_parse_from(&argv)
                .ok()
                .map(|c| match c.command {
                    super::Command::VerifyBundle(a) => format!("{a:?}"),
                    _ => panic!("not verify-bundle"),
                });
            assert!(full.is_some(), "{case:?}");
            assert_eq!(fast.map(|a| format!("{a:?}")), full, "{case:?}");
        }
        // Help, version, errors and other commands: the full parser's.
        for other in [
            &["attestlog", "verify-bundle", "--help"][..],
            &["attestlog", "verify-bundle", "--no-such-flag"],
            &["attestlog", "verify-bundle"],
            &["attestlog", "audit", "--help"],
            &["attestlog"],
        ] {
            let argv: Vec<std::ffi::OsString> = other.iter().map(Into::into).collect();
            assert!(super::verify_bundle_alone(argv).is_none(), "{other:?}");
        }
    }

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
        super::VerifyCli::command().debug_assert();
    }

    /// The verifier drops sigstore-conformance's `verify-bundle` word only
    /// where the protocol puts it, first; anywhere else it is an argument.
    #[test]
    fn the_verifier_drops_the_protocol_word_only_first() {
        let argv = |a: &[&str]| -> Vec<std::ffi::OsString> { a.iter().map(Into::into).collect() };
        let cases: &[(&[&str], &[&str])] = &[
            (
                &["v", "verify-bundle", "--bundle", "b", "a"],
                &["v", "--bundle", "b", "a"],
            ),
            (&["v", "--bundle", "b", "a"], &["v", "--bundle", "b", "a"]),
            (
                &["v", "--bundle", "b", "verify-bundle"],
                &["v", "--bundle", "b", "verify-bundle"],
            ),
            (
                &["v", "verify-bundle", "verify-bundle"],
                &["v", "verify-bundle"],
            ),
            (&["v"], &["v"]),
            (&[], &[]),
        ];
        for (given, expected) in cases {
            assert_eq!(
                super::verifier_argv(argv(given)),
                argv(expected),
                "{given:?}"
            );
        }
        // And what it then parses is what `attestlog verify-bundle` parses.
        use clap::Parser;
        let args = ["--bundle", "b.json", "--key", "k.pem", "a.txt"];
        let v = super::VerifyCli::try_parse_from(super::verifier_argv(argv(
            &[&["attestlog-verify", "verify-bundle"][..], &args].concat(),
        )))
        .unwrap();
        let full =
            super::Cli::try_parse_from([&["attestlog", "verify-bundle"][..], &args].concat())
                .unwrap();
        match full.command {
            super::Command::VerifyBundle(a) => {
                assert_eq!(format!("{a:?}"), format!("{:?}", v.args))
            }
            _ => panic!("not verify-bundle"),
        }
    }

    /// Every visible long flag of every leaf command: (command path, long
    /// name, environment variable).
    fn flags() -> Vec<(String, String, Option<String>)> {
        fn walk(c: &clap::Command, path: &str, out: &mut Vec<(String, String, Option<String>)>) {
            let path = format!("{path} {}", c.get_name()).trim().to_owned();
            for a in c.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = a.get_long().filter(|l| !matches!(*l, "help" | "version")) {
                    let env = a.get_env().map(|e| e.to_string_lossy().into_owned());
                    out.push((path.clone(), format!("--{long}"), env));
                }
            }
            for sub in c.get_subcommands().filter(|s| !s.is_hide_set()) {
                walk(sub, &path, out);
            }
        }
        let mut out = Vec::new();
        walk(&super::Cli::command(), "", &mut out);
        out
    }

    /// Issue 30, item 4: one name per thing. Each environment variable
    /// belongs to one flag name, and a flag name that reads a variable
    /// reads the same one in every command — so a concept cannot drift to a
    /// second spelling (or lose its variable) in one command unnoticed. The
    /// retired spellings stay only as hidden aliases.
    #[test]
    fn one_name_per_concept_across_the_command_tree() {
        let flags = flags();
        assert!(
            flags.len() > 150,
            "the walk found the tree: {}",
            flags.len()
        );
        // Flags whose variable depends on the command's role, by design.
        let role_dependent: &[(&str, &str)] = &[
            // cosign's `--key`: the signing key where a command signs
            // (ATTESTLOG_KEY), the trusted keys where it verifies
            // (ATTESTLOG_KEYS).
            (
                "--key",
                "the command's key: private to sign, public to verify",
            ),
            // The portal keeps its own baseline, apart from a person's audits.
            ("--baseline", "the portal's own baseline is not a person's"),
        ];
        let exempt = |long: &str| role_dependent.iter().any(|(l, _)| *l == long);
        let mut env_to_flag: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        let mut flag_to_env: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
        for (cmd, long, env) in &flags {
            if let Some(env) = env
                && let Some((other_long, other_cmd)) =
                    env_to_flag.insert(env, (long.as_str(), cmd.as_str()))
            {
                assert!(
                    other_long == long || (exempt(long) && exempt(other_long)),
                    "{env} is {long} in `{cmd}` but {other_long} in `{other_cmd}`"
                );
            }
            if exempt(long) {
                continue;
            }
            if let Some((other_cmd, other_env)) =
                flag_to_env.insert(long.as_str(), (cmd.as_str(), env.as_deref()))
            {
                assert_eq!(
                    other_env,
                    env.as_deref(),
                    "{long} reads {env:?} in `{cmd}` but {other_env:?} in `{other_cmd}`"
                );
            }
        }
        for retired in [
            "--keys",
            "--url",
            "--api",
            "--read-url",
            "--log-url",
            "--trust-current",
        ] {
            let users: Vec<_> = flags
                .iter()
                .filter(|(_, l, _)| l == retired)
                .map(|(c, _, _)| c.as_str())
                .collect();
            assert!(users.is_empty(), "{retired} is visible in {users:?}");
        }
        // `--log-key` is the log's public key wherever it appears.
        for (cmd, long, env) in &flags {
            if long == "--log-key" {
                assert_eq!(env.as_deref(), Some("REKOR_PUBLIC_KEY"), "{cmd}");
            }
        }
    }

    /// The retired spellings still parse (hidden aliases), so scripts
    /// written against them keep working.
    #[test]
    fn retired_spellings_still_parse() {
        use clap::Parser;
        for argv in [
            &[
                "attestlog",
                "audit",
                "--tenant",
                "t",
                "--all",
                "--keys",
                "k.json",
            ][..],
            &["attestlog", "rekor", "info", "--url", "http://x"],
            &[
                "attestlog",
                "log",
                "serve",
                "--dir",
                "d",
                "--api",
                "2",
                "--log-key",
                "k.pem",
            ],
            &[
                "attestlog",
                "rekor-v2",
                "monitor",
                "--url",
                "http://x",
                "--read-url",
                "http://y",
                "--state",
                "s",
                "--trust-current",
            ],
            &[
                "attestlog",
                "dsse",
                "verify",
                "--keys",
                "k.json",
                "--payload-type",
                "t",
                "e.json",
            ],
            &[
                "attestlog",
                "bundle",
                "verify",
                "--key",
                "k.pem",
                "--artifact",
                "a",
                "b.json",
            ],
        ] {
            super::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        }
    }
}

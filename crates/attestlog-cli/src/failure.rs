//! The one error type of the binary: a message for stderr and an exit code.

use std::fmt::Display;
use std::sync::OnceLock;

/// The running binary's name, which begins its messages on stderr.
static PROGRAM: OnceLock<&'static str> = OnceLock::new();

/// The name messages on stderr begin with: `attestlog`, unless the binary
/// said otherwise ([`set_program`]).
pub(crate) fn program() -> &'static str {
    PROGRAM.get().copied().unwrap_or("attestlog")
}

/// Names the running binary (`attestlog-verify` does, first thing).
pub(crate) fn set_program(name: &'static str) {
    // Set once, before anything is printed; a second call changes nothing.
    let _ = PROGRAM.set(name);
}

/// Exit code for "something failed verification".
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit code for unreadable or malformed input.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when the reader of stdout went away: 128 + SIGPIPE, what a
/// shell reports for a command a broken pipe ended.
pub(crate) const EXIT_BROKEN_PIPE: u8 = 141;

/// A failure that ends the command.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    /// Unreadable or malformed input (exit 2).
    pub(crate) fn input(message: impl Display) -> Self {
        Self {
            code: EXIT_BAD_INPUT,
            message: message.to_string(),
        }
    }
}

impl Failure {
    /// An error that ends the command (exit 2), with each of its causes.
    pub(crate) fn error(e: impl std::error::Error) -> Self {
        Self::input(attest_dsse::ErrorChain(&e))
    }

    /// A file that could not be used (exit 2): its path, then the error
    /// with each of its causes.
    pub(crate) fn in_file(path: &std::path::Path, e: &dyn std::error::Error) -> Self {
        Self::input(format_args!(
            "{}: {e}",
            path.display(),
            e = attest_dsse::ErrorChain(e)
        ))
    }

    /// Writing the command's output failed: a broken pipe ends quietly
    /// (`attestlog audit | head -1`), anything else is reported.
    pub(crate) fn output(e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Self {
                code: EXIT_BROKEN_PIPE,
                message: String::new(),
            }
        } else {
            Self::input(format_args!(
                "cannot write the output: {e}",
                e = attest_dsse::ErrorChain(&e)
            ))
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Self::output(&e);
        }
        Self::input(format_args!(
            "I/O error: {e}",
            e = attest_dsse::ErrorChain(&e)
        ))
    }
}

//! The one error type of the binary: a message for stderr and an exit code.

use std::fmt::Display;

/// Exit code for "something failed verification".
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit code for unreadable or malformed input.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;

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

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::input(format_args!("I/O error: {e}"))
    }
}

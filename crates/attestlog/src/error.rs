//! What kind of failure an error is, for callers that branch on it.

use attest_store::StoreError;

/// A stable classification of the facade's errors: whether trying again can
/// help, and whether the input, the data or the environment is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input is invalid; retrying the same call cannot help.
    InvalidInput,
    /// The thing asked for does not exist.
    NotFound,
    /// It conflicts with what is stored.
    Conflict,
    /// Stored data is damaged or not what this code wrote.
    Corrupt,
    /// A service (database, log) is busy or unreachable: retry later.
    Unavailable,
    /// Anything else (configuration, a bug).
    Other,
}

impl ErrorKind {
    /// Whether trying the same call again later could succeed.
    #[must_use]
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::Unavailable)
    }

    pub(crate) fn from_store(e: &StoreError) -> Self {
        use attest_store::StoreErrorKind as K;
        match e.kind() {
            K::InvalidInput | K::TooLarge => Self::InvalidInput,
            K::NotFound => Self::NotFound,
            K::Conflict => Self::Conflict,
            K::Corrupt => Self::Corrupt,
            K::Busy | K::Unavailable => Self::Unavailable,
            _ => Self::Other,
        }
    }
}

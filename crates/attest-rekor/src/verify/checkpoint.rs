//! Checkpoints whose signatures verified, and a memo of them.

#[allow(clippy::wildcard_imports)]
use super::*;

/// A checkpoint whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedCheckpoint {
    /// The origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note.
    pub note: String,
}

/// Checkpoints whose signatures verified, by their exact text and the log
/// that signed them (the last [`CheckpointMemo::CAPACITY`]).
#[derive(Debug, Default)]
pub struct CheckpointMemo {
    seen: std::sync::Mutex<std::collections::VecDeque<(LogId, VerifiedCheckpoint)>>,
}

impl CheckpointMemo {
    /// How many checkpoints are remembered.
    pub const CAPACITY: usize = 16;

    /// [`verify_checkpoint`], remembering what verified: the same text from
    /// the same log is not verified again.
    ///
    /// # Errors
    /// As [`verify_checkpoint`].
    pub fn verify(&self, note: &str, log: &TrustedLog) -> Result<VerifiedCheckpoint, CheckError> {
        let lock = || {
            self.seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some((_, cp)) = lock()
            .iter()
            .find(|(id, cp)| *id == log.log_id && cp.note == note)
        {
            return Ok(cp.clone());
        }
        let cp = verify_checkpoint(note, log)?;
        let mut seen = lock();
        if seen.len() == Self::CAPACITY {
            seen.pop_front();
        }
        seen.push_back((log.log_id, cp.clone()));
        Ok(cp)
    }
}

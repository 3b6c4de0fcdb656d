#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod entry_id;
mod note;

pub use entry_id::{EntryId, EntryIdError};
pub use note::{
    MAX_NOTE_BYTES, MAX_SIGNATURES, NoteError, NoteSignature, NoteVerifier, SignedNote,
};

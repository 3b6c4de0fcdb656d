//! Offline verification of transparency-log evidence. No I/O: bytes and
//! trusted material in, a typed result out.
//!
//! [`Verifier`] is built once from a [`TrustedRoot`](crate::TrustedRoot) and
//! verifies bundles and log entries under a [`Policy`]: `Ok(`[`Verified`]`)`
//! only when signer, artifact, time and log evidence are all established,
//! or [`NotVerified`] naming the first failing check, with a [`Report`] of
//! every check either way.
//!
//! The policy for an entry's evidence comes from the trusted log its log id
//! names ([`TrustedLog::api`]), never from which fields a bundle carries:
//! deleting a Rekor v1 entry's integratedTime and SET does not make it look
//! like a Rekor v2 entry, it makes it fail. Absent and zero-valued protobuf
//! fields are the same thing.
//!
//! The individual checks the verifier composes are in [`hazmat`]: each is
//! one rule, and none of them alone verifies anything.

use std::fmt;
use std::sync::Arc;

use attest_dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, KeySet, PublicKey, Timestamp, pae};
use attest_merkle::{Hash, ProofError, leaf_hash, verify_consistency};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::body::EntryBody;
use crate::bundle::{Bundle, TlogEntry, b64, int0};
use crate::pki::{self, Authorities, Cert, IdentityPolicy, PkiError, Purpose};
pub use crate::reason::Reason;
use crate::{LogApi, LogId, NoteError, SignedNote, TrustedLog};

mod checkpoint;
mod entry;
mod evidence;
pub mod hazmat;
mod keyless;
mod policy;
mod report;
mod run;
mod verified;
mod verifier;
#[allow(unused_imports)]
pub use report::*;
// The checks are reached as `hazmat::…` from outside; inside, by name.
#[allow(unused_imports)]
pub use checkpoint::*;
#[allow(unused_imports)]
pub(crate) use entry::*;
#[allow(unused_imports)]
use evidence::*;
#[allow(unused_imports)]
use hazmat::*;
#[allow(unused_imports)]
pub use keyless::*;
#[allow(unused_imports)]
pub use policy::*;
#[allow(unused_imports)]
use run::*;
#[allow(unused_imports)]
pub use verified::*;
pub use verifier::{Policy, Verifier};

#[cfg(test)]
mod tests;

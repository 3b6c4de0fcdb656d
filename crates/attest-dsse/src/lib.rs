#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod b64;
mod chain;
mod envelope;
mod fixed_base;
mod intoto;
mod keys;
mod keyset;
mod pae;
mod provider;
mod time;
mod verify;

pub use chain::ErrorChain;
pub use envelope::{
    Envelope, EnvelopeError, EnvelopeSigner, Limits, RejectedSignature, Signature, TraitSigner,
};
pub use intoto::{IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1, Statement, StatementError, Subject};
pub use keys::{Algorithm, Jwk, KeyError, PublicKey, SigEncoding, SigningKey};
pub use keyset::{KeySet, KeySetError, KeyStatus, TrustedKey};
pub use pae::{PaeSha256, pae, pae_prefix};
pub use provider::{EcdsaHash, Provider};
pub use time::{Clock, SystemClock, Timestamp, TimestampError};
pub use verify::{Verified, Verifier, VerifierError, VerifyError};

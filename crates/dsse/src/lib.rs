#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod b64;
mod envelope;
mod intoto;
mod keys;
mod keyset;
mod pae;
pub mod rekor;
mod time;
mod verify;
mod x509;

pub use envelope::{
    Envelope, EnvelopeError, EnvelopeSigner, Limits, RejectedSignature, Signature, TraitSigner,
};
pub use intoto::{IN_TOTO_PAYLOAD_TYPE, STATEMENT_V1, Statement, StatementError, Subject};
pub use keys::{Algorithm, Jwk, KeyError, PublicKey, SigEncoding, SigningKey};
pub use keyset::{KeySet, KeySetError, KeyStatus, TrustedKey};
pub use pae::{PaeSha256, pae, pae_prefix};
pub use time::{Timestamp, TimestampError};
pub use verify::{Verified, Verifier, VerifierError, VerifyError};
pub use x509::self_signed_certificate;

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod fulcio;
pub mod tsa;
pub mod x509;

pub use fulcio::{FulcioError, TestFulcio};
pub use tsa::{TimestampAuthority, TsaError};
pub use x509::{IssueError, issue_certificate, self_signed_certificate};

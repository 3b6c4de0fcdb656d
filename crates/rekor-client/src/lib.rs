#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
#[cfg(feature = "reqwest")]
mod reqwest_transport;
pub mod tsa;
#[cfg(feature = "tuf")]
pub mod tuf;
#[cfg(feature = "ureq")]
mod ureq_transport;
pub mod v2;
pub mod witness;

pub use client::{
    AsyncRekorClient, AsyncTransport, ClientError, Published, RekorClient, RetryPolicy, Transport,
};
#[cfg(feature = "reqwest")]
pub use reqwest_transport::{ReqwestError, ReqwestTransport};
#[cfg(feature = "ureq")]
pub use ureq_transport::{UreqError, UreqTransport};

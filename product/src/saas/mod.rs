//! The hosted service: one blocking HTTP client and the wire types it speaks.

pub mod client;
pub mod url;
pub mod wire;

pub use client::{SaasClient, SaasError};

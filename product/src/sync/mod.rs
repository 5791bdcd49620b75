//! Sync: the outbox, envelopes, ingress, draining, the final sync and its diagnostics.

pub mod diagnostics;
pub mod drain;
pub mod envelope;
pub mod error;
pub mod final_sync;
pub mod ingress;
pub mod outbox;
pub mod settings;

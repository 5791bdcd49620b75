//! Sync: diagnostics (and, as it grows, the outbox, envelopes, ingress and final sync).

pub mod diagnostics;

//! Sync. Public and stable: [`diagnostics`] (codes and the line format) and [`summary`] (a
//! read-only view of the outbox). The outbox, envelopes,
//! ingress, draining and the final sync are internal.

pub mod diagnostics;
pub mod summary;

/// Draining the outbox.
pub(crate) mod drain;
/// Event envelopes.
pub(crate) mod envelope;
/// Typed sync failures.
pub(crate) mod error;
/// The final sync.
pub(crate) mod final_sync;
/// Direct ingress.
pub(crate) mod ingress;
/// The durable outbox.
pub(crate) mod outbox;
/// The reference's per-project store, read only (consent, its queue's census).
pub(crate) mod reference_store;

//! Sync. Public and stable: [`diagnostics`] (codes and the line format), [`summary`] (a
//! read-only view of the outbox) and [`attempts`] (how often it tries). The outbox, envelopes,
//! ingress, draining and the final sync are internal.

pub mod diagnostics;
pub mod summary;

/// How often sync tries, as a test or a plugin sees it (public and stable): requests per batch
/// on a transport error or a 5xx, in the final sync that ends a command and in `sync now`; how
/// many times an event the server rejects is sent before it is parked, and the back-off between.
pub mod attempts {
    pub use super::final_sync::{FINAL_SYNC_ATTEMPTS, SYNC_NOW_ATTEMPTS};
    pub use super::outbox::{MAX_REJECTIONS, REJECTION_BACKOFF_MS};
}

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

//! Sync. Public and stable: [`diagnostics`] (codes and the line format) and [`summary`] (a
//! read-only view of the outbox). The outbox, envelopes,
//! ingress, draining and the final sync are internal.

pub mod diagnostics;
pub mod summary;

/// Draining the outbox.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod drain;
/// Draining the outbox.
#[cfg(not(feature = "internals"))]
pub(crate) mod drain;
/// Event envelopes.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod envelope;
/// Event envelopes.
#[cfg(not(feature = "internals"))]
pub(crate) mod envelope;
/// Typed sync failures.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod error;
/// Typed sync failures.
#[cfg(not(feature = "internals"))]
pub(crate) mod error;
/// The final sync.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod final_sync;
/// The final sync.
#[cfg(not(feature = "internals"))]
pub(crate) mod final_sync;
/// Direct ingress.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod ingress;
/// Direct ingress.
#[cfg(not(feature = "internals"))]
pub(crate) mod ingress;
/// The durable outbox.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod outbox;
/// The durable outbox.
#[cfg(not(feature = "internals"))]
pub(crate) mod outbox;
/// Sync settings.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod settings;
/// Sync settings.
#[cfg(not(feature = "internals"))]
pub(crate) mod settings;

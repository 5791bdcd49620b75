//! Sync. Public and stable: [`diagnostics`] (codes and the line format) and [`summary`] (a
//! read-only view of the outbox). The outbox, envelopes,
//! ingress, draining and the final sync are internal.

pub mod diagnostics;
pub mod summary;

crate::internal!(
    /// Draining the outbox.
    drain
);
crate::internal!(
    /// Event envelopes.
    envelope
);
crate::internal!(
    /// Typed sync failures.
    error
);
crate::internal!(
    /// The final sync.
    final_sync
);
crate::internal!(
    /// Direct ingress.
    ingress
);
crate::internal!(
    /// The durable outbox.
    outbox
);
crate::internal!(
    /// Sync settings.
    settings
);

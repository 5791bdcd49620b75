//! Read the product's outbox and hold its locks, at the locations the product's resolver gives.

use std::fs::File;

use serde_json::Value;
use spec_kitty::sync::outbox::Outbox;

use crate::IsolatedHome;

/// A held advisory lock; released on drop.
#[derive(Debug)]
pub struct HeldLock {
    _file: File,
}

impl IsolatedHome {
    /// The queued events' envelopes, oldest first (empty when no outbox exists yet).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// assert!(home.queued_events().is_empty());
    /// ```
    pub fn queued_events(&self) -> Vec<Value> {
        self.outbox()
            .map(|o| {
                o.pending(usize::MAX)
                    .expect("read the outbox")
                    .into_iter()
                    .map(|e| e.envelope)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `(event_id, retry_count)` of every queued event.
    pub fn queued_retry_counts(&self) -> Vec<(String, i64)> {
        self.outbox()
            .map(|o| o.retry_counts().expect("read the outbox"))
            .unwrap_or_default()
    }

    /// The product's outbox, if it exists (an internal product type: not part of this API).
    pub(crate) fn outbox(&self) -> Option<Outbox> {
        Outbox::open_existing(&self.runtime_root().outbox_db()).expect("open the outbox")
    }

    /// Hold the token refresh lock, as another process refreshing would.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let _held = home.hold_refresh_lock();
    /// ```
    pub fn hold_refresh_lock(&self) -> HeldLock {
        hold(&self.runtime_root().refresh_lock())
    }

    /// Hold the outbox drain lock, as another process draining would.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let _held = home.hold_drain_lock();
    /// ```
    pub fn hold_drain_lock(&self) -> HeldLock {
        hold(&self.runtime_root().drain_lock())
    }

    /// Scaffold a repository in the work dir.
    pub fn repo(&self) -> crate::RepoBuilder<'_> {
        crate::repo::RepoBuilder::new(self)
    }
}

fn hold(path: &std::path::Path) -> HeldLock {
    let file = spec_kitty::lock::exclusive_within(path, std::time::Duration::ZERO)
        .expect("create the lock file")
        .expect("the lock is free");
    HeldLock { _file: file }
}

//! Read the product's outbox and hold its locks, at the locations the product's resolver gives.

use std::fs::File;

use serde_json::Value;
use spec_kitty::__testkit::Outbox;

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
                    .map(|e| serde_json::to_value(e.envelope).expect("an envelope is JSON"))
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

    /// `(event_id, reason)` of every event parked after the server rejected it too often.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// assert!(home.parked_rejections().is_empty());
    /// ```
    pub fn parked_rejections(&self) -> Vec<(String, Option<String>)> {
        self.outbox()
            .map(|o| o.rejected().expect("read the outbox"))
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.event_id, r.reason))
            .collect()
    }

    /// `(event_id, reason)` of every row moved to the quarantine because it did not decode.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// assert!(home.quarantined_rows().is_empty());
    /// ```
    pub fn quarantined_rows(&self) -> Vec<(String, String)> {
        self.outbox()
            .map(|o| o.quarantined().expect("read the outbox"))
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.event_id, r.reason))
            .collect()
    }

    /// Queue a row whose stored envelope is `text` verbatim (a poisoned row for negative tests:
    /// truncated JSON, a legacy envelope, `null`), at the outbox the product reads.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// home.seed_raw_outbox_row("01J00000000000000000000000", "MissionCreated", "{\"truncated\":");
    /// assert!(home.queued_events().is_empty(), "a row that does not decode is not an event");
    /// ```
    pub fn seed_raw_outbox_row(&self, event_id: &str, event_type: &str, text: &str) {
        let mut outbox =
            Outbox::open(&self.runtime_root().outbox_db()).expect("open or create the outbox");
        outbox
            .insert_raw(event_id, event_type, text)
            .expect("insert the raw row");
    }

    /// Queue `n` valid `MissionCreated` events (the contract's shape) directly in the outbox the
    /// product reads, as `n` mission creates with sync off would. Returns their event ids.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let ids = home.seed_queued_events(3);
    /// assert_eq!(home.queued_events().len(), 3);
    /// assert_eq!(ids.len(), 3);
    /// ```
    pub fn seed_queued_events(&self, n: usize) -> Vec<String> {
        use spec_kitty::__testkit::{MissionCreated, Producer};
        let mut outbox =
            Outbox::open(&self.runtime_root().outbox_db()).expect("open or create the outbox");
        let producer = Producer::example();
        let now = chrono::Utc::now();
        let drafts: Vec<_> = (0..n)
            .map(|i| {
                let id = spec_kitty::__testkit::ulid(now);
                let slug = format!("seeded-{i}");
                MissionCreated::sample(&id, &slug).draft(now, &producer)
            })
            .collect();
        outbox
            .append_all(drafts)
            .expect("queue the events")
            .into_iter()
            .map(|e| e.event_id)
            .collect()
    }

    /// The size in bytes of the outbox database file (0 when there is none).
    pub fn outbox_file_size(&self) -> u64 {
        std::fs::metadata(self.runtime_root().outbox_db()).map_or(0, |m| m.len())
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
}

fn hold(path: &std::path::Path) -> HeldLock {
    let file = spec_kitty::__testkit::exclusive_within(path, std::time::Duration::ZERO)
        .expect("create the lock file")
        .expect("the lock is free");
    HeldLock { _file: file }
}

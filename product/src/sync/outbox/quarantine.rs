//! What is held back: parked (rejected) events, quarantined rows, and the last sync attempt.

use rusqlite::OptionalExtension;

use super::schema::{EVENTS, LAST_ATTEMPT_KEY, META, QUARANTINE, QUEUED, REJECTED, STATE};
use super::{Outbox, OutboxError};

/// Rejections after which an event is parked instead of retried.
pub const MAX_REJECTIONS: i64 = 3;

/// Back-off after the first rejection, in milliseconds; each further one waits four times longer.
pub const REJECTION_BACKOFF_MS: i64 = 250;

/// An event the server rejected [`MAX_REJECTIONS`] times, parked until retried by hand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectedEvent {
    /// The event.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// Rejections so far.
    pub retry_count: i64,
    /// The server's last reason (`null` when it gave none).
    pub reason: Option<String>,
}

/// A row that did not decode as an envelope, moved aside and never sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuarantinedRow {
    /// The row's event id, as stored.
    pub event_id: String,
    /// The row's event type, as stored.
    pub event_type: String,
    /// Why it does not decode.
    pub reason: String,
    /// When it was moved aside.
    pub quarantined_at: String,
}

/// The last sync attempt, as `sync status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastAttempt {
    /// When (ISO 8601).
    pub at: String,
    /// `success`, `partial` or the diagnostic code.
    pub outcome: String,
    /// Events delivered in that attempt.
    pub delivered: u64,
}

impl Outbox {
    /// The earliest back-off deadline of a queued event rejected before (`None`: none waiting).
    pub fn next_retry_ms(&self) -> Result<Option<i64>, OutboxError> {
        self.sql(|c| {
            c.query_row(
                &format!(
                    "SELECT MIN(next_attempt_ms) FROM {EVENTS}
                     WHERE {STATE} = '{QUEUED}' AND retry_count > 0"
                ),
                [],
                |r| r.get(0),
            )
        })
    }

    /// The parked (rejected) events, oldest first.
    pub fn rejected(&self) -> Result<Vec<RejectedEvent>, OutboxError> {
        self.sql(|c| {
            c.prepare(&format!(
                "SELECT event_id, event_type, retry_count, last_error FROM {EVENTS}
                 WHERE {STATE} = '{REJECTED}' ORDER BY seq"
            ))?
            .query_map([], |r| {
                Ok(RejectedEvent {
                    event_id: r.get(0)?,
                    event_type: r.get(1)?,
                    retry_count: r.get(2)?,
                    reason: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    /// The quarantined rows, oldest first.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedRow>, OutboxError> {
        self.sql(|c| {
            c.prepare(&format!(
                "SELECT event_id, event_type, reason, quarantined_at FROM {QUARANTINE} ORDER BY seq"
            ))?
            .query_map([], |r| {
                Ok(QuarantinedRow {
                    event_id: r.get(0)?,
                    event_type: r.get(1)?,
                    reason: r.get(2)?,
                    quarantined_at: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    /// Put every parked event back in the queue with a clean slate. Returns how many.
    pub fn retry_rejected(&mut self) -> Result<u64, OutboxError> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "UPDATE {EVENTS} SET {STATE} = '{QUEUED}', retry_count = 0, next_attempt_ms = 0,
                     last_error = NULL
                 WHERE {STATE} = '{REJECTED}'"
                ),
                [],
            )
            .map(|n| n as u64)
        })
    }

    /// Delete the quarantined rows (they can never be sent). Returns how many.
    pub fn discard_quarantined(&mut self) -> Result<u64, OutboxError> {
        self.write(|tx| {
            tx.execute(&format!("DELETE FROM {QUARANTINE}"), [])
                .map(|n| n as u64)
        })
    }

    /// Remember the outcome of a sync attempt.
    pub fn record_attempt(&mut self, attempt: &LastAttempt) -> Result<(), OutboxError> {
        let text = serde_json::to_string(attempt).unwrap_or_default();
        // Not synced: the last attempt is what `sync status` shows, not data; losing it on power
        // failure costs nothing.
        self.relaxed(|outbox| outbox.record(&text))
    }

    fn record(&self, text: &str) -> Result<(), OutboxError> {
        self.sql(|c| {
            c.execute(
                &format!(
                    "INSERT INTO {META} (key, value) VALUES ('{LAST_ATTEMPT_KEY}', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                ),
                [text],
            )
            .map(|_| ())
        })
    }

    /// The last recorded attempt.
    pub fn last_attempt(&self) -> Result<Option<LastAttempt>, OutboxError> {
        let text: Option<String> = self.sql(|c| {
            c.query_row(
                &format!("SELECT value FROM {META} WHERE key = '{LAST_ATTEMPT_KEY}'"),
                [],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::outbox::Rejection;
    use crate::sync::outbox::fixtures::{draft, fresh};

    #[test]
    fn rejections_back_off_four_times_longer_each_then_park() {
        let (_dir, _path, mut outbox) = fresh();
        let e = outbox.append(draft("one")).unwrap();
        outbox.append(draft("two")).unwrap();
        assert_eq!(
            outbox.next_retry_ms().unwrap(),
            None,
            "nothing rejected yet"
        );
        let reject = |outbox: &mut Outbox, now| {
            let r = Rejection {
                event_id: e.event_id.clone(),
                reason: Some("bad".into()),
            };
            outbox.settle(&[], &[r], now).unwrap()
        };
        assert!(reject(&mut outbox, 1_000).is_empty());
        assert_eq!(
            outbox.next_retry_ms().unwrap(),
            Some(1_000 + REJECTION_BACKOFF_MS)
        );
        assert!(reject(&mut outbox, 2_000).is_empty());
        assert_eq!(
            outbox.next_retry_ms().unwrap(),
            Some(2_000 + 4 * REJECTION_BACKOFF_MS)
        );
        // Not due before its back-off; due after.
        let early = outbox.next_batch(0, 10, 2_000, true, "t").unwrap();
        assert!(early.events.is_empty());
        let due = outbox.next_batch(0, 10, 3_000, true, "t").unwrap();
        assert_eq!(due.events.len(), 1, "only the rejected event is a retry");
        assert_eq!(reject(&mut outbox, 3_000), vec![e.event_id.clone()]);
        assert_eq!(outbox.next_retry_ms().unwrap(), None);
        assert_eq!(outbox.depth().unwrap(), 1);
        let parked = outbox.rejected().unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!(
            (parked[0].retry_count, parked[0].reason.as_deref()),
            (MAX_REJECTIONS, Some("bad"))
        );
        assert_eq!(outbox.retry_rejected().unwrap(), 1);
        assert_eq!(outbox.retry_rejected().unwrap(), 0);
        assert_eq!(outbox.depth().unwrap(), 2);
        assert!(outbox.retry_counts().unwrap().iter().all(|(_, n)| *n == 0));
    }

    #[test]
    fn the_last_attempt_is_kept_and_replaced() {
        let (_dir, _path, mut outbox) = fresh();
        assert_eq!(outbox.last_attempt().unwrap(), None);
        for n in [1, 2] {
            let attempt = LastAttempt {
                at: format!("2026-11-29T12:00:0{n}+00:00"),
                outcome: "success".into(),
                delivered: n,
            };
            outbox.record_attempt(&attempt).unwrap();
            assert_eq!(outbox.last_attempt().unwrap(), Some(attempt));
        }
    }
}

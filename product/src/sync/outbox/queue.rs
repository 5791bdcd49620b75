//! The queue: appending under the Lamport clock, reading batches, settling outcomes, counting.

use rusqlite::{OptionalExtension, params};

use super::quarantine::{MAX_REJECTIONS, REJECTION_BACKOFF_MS};
use super::schema::{EVENTS, LAMPORT_KEY, META, QUARANTINE, QUEUED, REJECTED, STAGED, STATE};
use super::staging::Staging;
use super::{Outbox, OutboxError};
use crate::sync::envelope::{Envelope, EnvelopeDraft};

/// One queued event.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedEvent {
    /// Insertion order.
    pub seq: i64,
    /// The event id.
    pub event_id: String,
    /// The full envelope.
    pub envelope: Envelope,
    /// How many times the server rejected it.
    pub retry_count: i64,
}

/// One batch read from the queue: the events that decode, and what was moved aside.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Decoded events, oldest first.
    pub events: Vec<QueuedEvent>,
    /// Rows moved to the quarantine while reading this batch.
    pub quarantined: u64,
    /// The highest `seq` read (the cursor for the next batch); `None` when nothing was left.
    pub last_seq: Option<i64>,
}

/// One server verdict to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The event.
    pub event_id: String,
    /// The server's reason.
    pub reason: Option<String>,
}

impl Outbox {
    /// Stamp `draft` with the next Lamport clock value and this node's id, and queue it durably.
    pub fn append(&mut self, draft: EnvelopeDraft) -> Result<Envelope, OutboxError> {
        self.append_all(vec![draft]).map(|mut v| v.remove(0))
    }

    /// Queue several events in one transaction.
    pub fn append_all(&mut self, drafts: Vec<EnvelopeDraft>) -> Result<Vec<Envelope>, OutboxError> {
        self.insert(drafts, None)
    }

    /// Insert in one transaction, queued or (with `staging`) staged.
    pub(super) fn insert(
        &mut self,
        drafts: Vec<EnvelopeDraft>,
        staging: Option<&Staging>,
    ) -> Result<Vec<Envelope>, OutboxError> {
        let staged = staging.map(|s| {
            (
                s.git_dir.to_string_lossy().into_owned(),
                s.top.to_string_lossy().into_owned(),
                s.dir.clone(),
            )
        });
        self.write(|tx| {
            let mut clock: i64 = tx
                .query_row(
                    &format!("SELECT value FROM {META} WHERE key = '{LAMPORT_KEY}'"),
                    [],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut out = Vec::with_capacity(drafts.len());
            let mut insert = tx.prepare_cached(&format!(
                "INSERT INTO {EVENTS} (event_id, event_type, envelope, created_at, {STATE},
                     staged_git_dir, staged_top, staged_dir)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?;
            for draft in drafts {
                clock += 1;
                let envelope = draft.stamp(clock);
                let text = serde_json::to_string(&envelope).unwrap_or_default();
                let (git_dir, top, dir) = match &staged {
                    Some((g, t, d)) => (Some(g.as_str()), Some(t.as_str()), Some(d.as_str())),
                    None => (None, None, None),
                };
                insert.execute(params![
                    envelope.event_id,
                    envelope.event_type,
                    text,
                    envelope.timestamp,
                    if staged.is_some() { STAGED } else { QUEUED },
                    git_dir,
                    top,
                    dir
                ])?;
                out.push(envelope);
            }
            tx.execute(
                &format!(
                    "INSERT INTO {META} (key, value) VALUES ('{LAMPORT_KEY}', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                ),
                [clock.to_string()],
            )?;
            Ok(out)
        })
    }

    /// Every queued (not parked) event, oldest first, without moving anything (read-only
    /// callers: status and tests). Rows that do not decode are skipped here.
    pub fn pending(&self, limit: usize) -> Result<Vec<QueuedEvent>, OutboxError> {
        self.sql(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT seq, event_id, envelope, retry_count FROM {EVENTS}
                 WHERE {STATE} = '{QUEUED}' ORDER BY seq LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, event_id, text, retry_count) = row?;
                if let Ok(envelope) = Envelope::decode(&text) {
                    out.push(QueuedEvent {
                        seq,
                        event_id,
                        envelope,
                        retry_count,
                    });
                }
            }
            Ok(out)
        })
    }

    /// The next batch to send: up to `limit` queued events with `seq > after` whose back-off has
    /// passed at `now_ms` (and, with `only_retries`, that were rejected before). A row that does
    /// not decode is moved to the quarantine in the same transaction and never returned.
    pub fn next_batch(
        &mut self,
        after: i64,
        limit: usize,
        now_ms: i64,
        only_retries: bool,
        at: &str,
    ) -> Result<Batch, OutboxError> {
        self.write(|tx| {
            let mut batch = Batch::default();
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT seq, event_id, event_type, envelope, retry_count FROM {EVENTS}
                 WHERE seq > ?1 AND {STATE} = '{QUEUED}' AND next_attempt_ms <= ?2
                   AND (?3 = 0 OR retry_count > 0)
                 ORDER BY seq LIMIT ?4"
            ))?;
            let rows: Vec<(i64, String, String, String, i64)> = stmt
                .query_map(
                    params![after, now_ms, i64::from(only_retries), limit as i64],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?
                .collect::<Result<_, _>>()?;
            for (seq, event_id, event_type, text, retry_count) in rows {
                batch.last_seq = Some(seq);
                match Envelope::decode(&text) {
                    Ok(envelope) if envelope.event_id == event_id => {
                        batch.events.push(QueuedEvent {
                            seq,
                            event_id,
                            envelope,
                            retry_count,
                        });
                    }
                    decoded => {
                        let reason = match decoded {
                            Err(e) => format!("the stored envelope does not decode: {e}"),
                            Ok(e) => format!(
                                "the stored envelope's event_id {:?} differs from the row's",
                                e.event_id
                            ),
                        };
                        tracing::warn!(%event_id, %reason, "quarantining an outbox row");
                        tx.execute(
                            &format!(
                                "INSERT OR REPLACE INTO {QUARANTINE}
                                 (seq, event_id, event_type, envelope, reason, quarantined_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                            ),
                            params![seq, event_id, event_type, text, reason, at],
                        )?;
                        tx.execute(&format!("DELETE FROM {EVENTS} WHERE seq = ?1"), [seq])?;
                        batch.quarantined += 1;
                    }
                }
            }
            Ok(batch)
        })
    }

    /// Apply a batch outcome: remove delivered events; count a rejection, set its back-off and
    /// reason, and park it after [`MAX_REJECTIONS`]. Returns the events parked now.
    pub fn settle(
        &mut self,
        delivered: &[String],
        rejected: &[Rejection],
        now_ms: i64,
    ) -> Result<Vec<String>, OutboxError> {
        self.write(|tx| {
            let mut del =
                tx.prepare_cached(&format!("DELETE FROM {EVENTS} WHERE event_id = ?1"))?;
            for id in delivered {
                del.execute([id])?;
            }
            let mut bump = tx.prepare_cached(&format!(
                "UPDATE {EVENTS} SET retry_count = retry_count + 1, last_error = ?2,
                     {STATE} = CASE WHEN retry_count + 1 >= ?3
                         THEN '{REJECTED}' ELSE '{QUEUED}' END,
                     next_attempt_ms = ?4 + ?5 * (1 << (2 * retry_count))
                 WHERE event_id = ?1
                 RETURNING {STATE}"
            ))?;
            let mut parked = Vec::new();
            for r in rejected {
                let state: Option<String> = bump
                    .query_row(
                        params![
                            r.event_id,
                            r.reason,
                            MAX_REJECTIONS,
                            now_ms,
                            REJECTION_BACKOFF_MS
                        ],
                        |row| row.get(0),
                    )
                    .optional()?;
                if state.as_deref() == Some(REJECTED) {
                    parked.push(r.event_id.clone());
                }
            }
            Ok(parked)
        })
    }

    /// Queue a row verbatim, bypassing the envelope type (for tests of the quarantine only).
    #[doc(hidden)]
    pub fn insert_raw(
        &mut self,
        event_id: &str,
        event_type: &str,
        text: &str,
    ) -> Result<(), OutboxError> {
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO {EVENTS} (event_id, event_type, envelope, created_at)
                 VALUES (?1, ?2, ?3, '1970-01-01T00:00:00+00:00')"
                ),
                params![event_id, event_type, text],
            )
            .map(|_| ())
        })
    }

    /// Remove events by id (a create that failed after queueing its event).
    pub fn remove(&mut self, ids: &[String]) -> Result<(), OutboxError> {
        self.settle(ids, &[], 0).map(|_| ())
    }

    /// How many events wait to be sent (queued, not parked).
    pub fn depth(&self) -> Result<u64, OutboxError> {
        self.sql(|c| {
            c.query_row(
                &format!("SELECT COUNT(*) FROM {EVENTS} WHERE {STATE} = '{QUEUED}'"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
    }

    /// The timestamp of the oldest queued event.
    pub fn oldest(&self) -> Result<Option<String>, OutboxError> {
        self.sql(|c| {
            c.query_row(
                &format!(
                    "SELECT created_at FROM {EVENTS} WHERE {STATE} = '{QUEUED}'
                     ORDER BY seq LIMIT 1"
                ),
                [],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Every queued event's retry count, by event id (for status and tests).
    pub fn retry_counts(&self) -> Result<Vec<(String, i64)>, OutboxError> {
        self.sql(|c| {
            c.prepare(&format!(
                "SELECT event_id, retry_count FROM {EVENTS} ORDER BY seq"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
    }

    /// Give the space of sent events back to the file system when it is worth it (more than
    /// `threshold` bytes free inside the file): `VACUUM`, then truncate the WAL. Best effort: a
    /// busy database is left for a later drain. Returns the bytes reclaimed.
    pub fn reclaim(&self, threshold: u64) -> u64 {
        let free = || -> rusqlite::Result<u64> {
            let pages: i64 = self
                .conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
            let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok(u64::try_from(pages * size).unwrap_or(0))
        };
        let Ok(before) = free() else { return 0 };
        if before <= threshold {
            return 0;
        }
        let done = self
            .conn
            .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);");
        match done {
            Ok(()) => before.saturating_sub(free().unwrap_or(0)),
            Err(e) => {
                tracing::debug!(error = %e, "outbox VACUUM skipped");
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::outbox::fixtures::{draft, fresh};

    #[test]
    fn batches_follow_the_cursor_and_limit_and_quarantine_what_does_not_decode() {
        let (_dir, _path, mut outbox) = fresh();
        let a = outbox.append(draft("a")).unwrap();
        outbox.insert_raw("01BAD", "MissionCreated", "[]").unwrap();
        let c = outbox.append(draft("c")).unwrap();
        let first = outbox.next_batch(0, 2, i64::MAX, false, "at-1").unwrap();
        assert_eq!(first.events.len(), 1);
        assert_eq!(first.events[0].event_id, a.event_id);
        assert_eq!(first.quarantined, 1);
        let second = outbox
            .next_batch(first.last_seq.unwrap(), 2, i64::MAX, false, "at-2")
            .unwrap();
        assert_eq!(second.events[0].event_id, c.event_id);
        assert!(second.last_seq > first.last_seq);
        let done = outbox
            .next_batch(second.last_seq.unwrap(), 2, i64::MAX, false, "at-3")
            .unwrap();
        assert_eq!(done, Batch::default());
        let rows = outbox.quarantined().unwrap();
        assert_eq!(
            (rows[0].event_id.as_str(), rows[0].quarantined_at.as_str()),
            ("01BAD", "at-1")
        );
        assert_eq!(outbox.pending(10).unwrap().len(), 2);
        assert_eq!(outbox.discard_quarantined().unwrap(), 1);
        assert_eq!(outbox.discard_quarantined().unwrap(), 0);
        outbox.remove(std::slice::from_ref(&a.event_id)).unwrap();
        assert_eq!(outbox.depth().unwrap(), 1);
        assert!(outbox.oldest().unwrap().is_some());
        outbox.remove(std::slice::from_ref(&c.event_id)).unwrap();
        assert_eq!(outbox.oldest().unwrap(), None);
        assert_eq!(outbox.depth().unwrap(), 0);
    }

    #[test]
    fn a_stored_envelope_under_another_rows_id_is_quarantined_not_sent() {
        let (_dir, _path, mut outbox) = fresh();
        let b = outbox.append(draft("b")).unwrap();
        let text = serde_json::to_string(&b).unwrap();
        outbox
            .insert_raw("01OTHER", "MissionCreated", &text)
            .unwrap();
        let batch = outbox.next_batch(0, 10, i64::MAX, false, "t").unwrap();
        let sent: Vec<&str> = batch.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(sent, [b.event_id.as_str()]);
        assert_eq!(batch.quarantined, 1);
        let rows = outbox.quarantined().unwrap();
        assert_eq!(rows[0].event_id, "01OTHER");
        assert!(
            rows[0].reason.contains("differs from the row's"),
            "{}",
            rows[0].reason
        );
    }

    #[test]
    fn reclaim_gives_back_space_only_past_its_threshold() {
        let (_dir, _path, mut outbox) = fresh();
        let drafts = (0..300).map(|i| draft(&format!("m-{i}"))).collect();
        let ids: Vec<String> = outbox
            .append_all(drafts)
            .unwrap()
            .into_iter()
            .map(|e| e.event_id)
            .collect();
        outbox.settle(&ids, &[], 0).unwrap();
        let free = || -> u64 {
            let pages: i64 = outbox
                .conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))
                .unwrap();
            let size: i64 = outbox
                .conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap();
            u64::try_from(pages * size).unwrap()
        };
        let before = free();
        assert!(before > 0);
        assert_eq!(outbox.reclaim(before), 0, "at the threshold: nothing done");
        assert_eq!(free(), before);
        assert_eq!(outbox.reclaim(before - 1), before);
        assert_eq!(free(), 0);
    }
}

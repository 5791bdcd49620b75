//! The durable outbox: a SQLite database (WAL) under `<root>/sync/`.
//!
//! Appending is durable (`synchronous=FULL`) before a command reports success. The Lamport clock
//! lives in the same database and advances in the same transaction as the insert, so concurrent
//! processes never lose, duplicate or reorder an event.
//!
//! The queue never sends garbage and never loops forever: a row whose envelope does not decode is
//! moved to the `quarantine` table (never sent); an event the server rejects is retried at most
//! [`MAX_REJECTIONS`] times with back-off, then parked with `state = 'rejected'` and the server's
//! reason until `sync now --retry-rejected` puts it back.
//!
//! One file per job: `schema.rs` (names, opening, migrating), `queue.rs`, `staging.rs` (the
//! staged-event protocol), `quarantine.rs` (parked and quarantined rows, the last attempt) and
//! `error.rs`. Every SQLite call runs through `Outbox::sql` or `Outbox::write`, which map its
//! failure to an [`OutboxError`] once; the only others are opening the connection, the probe that
//! tells a file that is no database, and the best-effort `reclaim`.

mod error;
mod quarantine;
mod queue;
mod schema;
mod staging;

use std::path::PathBuf;

use rusqlite::{Connection, TransactionBehavior};

pub use error::OutboxError;
pub use quarantine::{
    LastAttempt, MAX_REJECTIONS, QuarantinedRow, REJECTION_BACKOFF_MS, RejectedEvent,
};
pub use queue::{Batch, QueuedEvent, Rejection};
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};
pub(crate) use schema::{EVENTS, QUARANTINE, QUEUED, REJECTED, STATE, has_column, has_table};
pub use staging::Staging;

/// An open outbox: one SQLite connection (WAL, `synchronous=FULL` unless `Self::relaxed`), and
/// the database path every `OutboxError` names.
#[derive(Debug)]
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
}

impl Outbox {
    /// Run `f` on the connection, outside any transaction this type opens (reads, and writes of
    /// one statement). Every SQLite failure of `f` is mapped here, once, by
    /// `OutboxError::from_sqlite`; `Self::write` is the same edge for transactions.
    fn sql<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, OutboxError> {
        f(&self.conn).map_err(|source| OutboxError::from_sqlite(&self.path, source))
    }

    /// Run `f` in one IMMEDIATE transaction (the write lock taken up front, so concurrent writers
    /// queue on the busy timeout instead of failing on upgrade) and commit it.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, OutboxError> {
        let Self { conn, path } = self;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|source| OutboxError::from_sqlite(path, source))
    }

    /// Run `f` with `synchronous=NORMAL` (a WAL commit that is not synced), then back to FULL.
    /// Only for writes whose loss on power failure is harmless (each caller says why).
    fn relaxed<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        self.sql(|c| c.execute_batch("PRAGMA synchronous=NORMAL"))?;
        let result = f(self);
        let restored = self.sql(|c| c.execute_batch("PRAGMA synchronous=FULL"));
        let value = result?;
        restored?;
        Ok(value)
    }
}

impl Drop for Outbox {
    /// Checkpoint what this connection wrote into the main file before the command exits, so no
    /// queued event lives only in the `-wal`, which SQLite would silently discard were it damaged.
    /// PASSIVE: it never waits for another process (a reader holding an older snapshot leaves
    /// the rest to the next checkpoint).
    fn drop(&mut self) {
        let wrote = self
            .conn
            .query_row("SELECT total_changes()", [], |r| r.get::<_, i64>(0))
            .unwrap_or(0);
        if wrote > 0
            && let Err(e) = self.conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
        {
            tracing::warn!(error = %e, "could not checkpoint the outbox");
        }
    }
}

/// Shared by the unit tests of every file of the outbox.
#[cfg(test)]
mod fixtures {
    use std::path::{Path, PathBuf};

    use rusqlite::Connection;

    use super::Outbox;
    use crate::sync::envelope::{EnvelopeDraft, MissionCreated, Producer};

    pub(super) fn draft(slug: &str) -> EnvelopeDraft {
        let id = crate::ids::ulid(chrono::Utc::now());
        MissionCreated::sample(&id, slug).draft(chrono::Utc::now(), &Producer::example())
    }

    pub(super) fn fresh() -> (tempfile::TempDir, PathBuf, Outbox) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync").join("outbox.sqlite");
        let outbox = Outbox::open(&path).unwrap();
        (dir, path, outbox)
    }

    pub(super) fn pragma(path: &Path, sql: &str) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }
}

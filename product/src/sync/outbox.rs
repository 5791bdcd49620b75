//! The durable outbox: a SQLite database (WAL) under `<root>/sync/`.
//!
//! Appending is durable (`synchronous=FULL`) before a command reports success. The Lamport clock and
//! the node id live in the same database and advance in the same transaction as the insert, so
//! concurrent processes never lose, duplicate or reorder an event.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::envelope::{Envelope, EnvelopeDraft};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The outbox failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// SQLite failed.
    #[error(
        "the sync outbox {path} failed: {source}; check the disk and permissions of that directory"
    )]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The directory could not be created.
    #[error("cannot create the sync directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database has a newer schema.
    #[error(
        "the sync outbox {path} has schema version {found}, newer than this spec-kitty ({SCHEMA_VERSION}); upgrade spec-kitty"
    )]
    NewerSchema {
        /// The database.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
}

/// One queued event.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedEvent {
    /// Insertion order.
    pub seq: i64,
    /// The event id.
    pub event_id: String,
    /// The full envelope.
    pub envelope: Value,
    /// How many times the server rejected it.
    pub retry_count: i64,
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

/// An open outbox.
#[derive(Debug)]
pub struct Outbox {
    conn: Connection,
    path: PathBuf,
}

impl Outbox {
    /// Open (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, OutboxError> {
        if let Some(dir) = path.parent() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(|source| OutboxError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|source| OutboxError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        let outbox = Self {
            conn,
            path: path.to_path_buf(),
        };
        outbox.init()?;
        Ok(outbox)
    }

    /// Open the database only if it exists (read-only callers such as `sync status`).
    pub fn open_existing(path: &Path) -> Result<Option<Self>, OutboxError> {
        if path.exists() {
            Self::open(path).map(Some)
        } else {
            Ok(None)
        }
    }

    fn err(&self, source: rusqlite::Error) -> OutboxError {
        OutboxError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn init(&self) -> Result<(), OutboxError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.err(e))?;
        self.conn
            .execute_batch(
                "PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=FULL;
                 BEGIN IMMEDIATE;
                 CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS events (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     event_id TEXT NOT NULL UNIQUE,
                     event_type TEXT NOT NULL,
                     envelope TEXT NOT NULL,
                     created_at TEXT NOT NULL,
                     retry_count INTEGER NOT NULL DEFAULT 0
                 );
                 CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 COMMIT;",
            )
            .map_err(|e| self.err(e))?;
        let found: Option<i64> = self
            .conn
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        match found {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO schema_version (version) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
                        [SCHEMA_VERSION],
                    )
                    .map_err(|e| self.err(e))?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(OutboxError::NewerSchema {
                    path: self.path.clone(),
                    found: v,
                });
            }
            Some(_) => {}
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }

    /// Stamp `draft` with the next Lamport clock value and this node's id, and queue it durably.
    pub fn append(&mut self, draft: EnvelopeDraft) -> Result<Envelope, OutboxError> {
        self.append_all(vec![draft]).map(|mut v| v.remove(0))
    }

    /// Queue several events in one transaction.
    pub fn append_all(&mut self, drafts: Vec<EnvelopeDraft>) -> Result<Vec<Envelope>, OutboxError> {
        self.write(|tx| {
            let node_id = match tx
                .query_row("SELECT value FROM meta WHERE key = 'node_id'", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
            {
                Some(id) => id,
                None => {
                    let id = crate::ids::node_id();
                    tx.execute("INSERT INTO meta (key, value) VALUES ('node_id', ?1)", [&id])?;
                    id
                }
            };
            let mut clock: i64 = tx
                .query_row("SELECT value FROM meta WHERE key = 'lamport'", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut out = Vec::with_capacity(drafts.len());
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (event_id, event_type, envelope, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for draft in drafts {
                clock += 1;
                let envelope = draft.stamp(clock, &node_id);
                let text = serde_json::to_string(&envelope).unwrap_or_default();
                insert.execute(params![
                    envelope.event_id,
                    envelope.event_type,
                    text,
                    envelope.timestamp
                ])?;
                out.push(envelope);
            }
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('lamport', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [clock.to_string()],
            )?;
            Ok(out)
        })
    }

    /// Run `f` in one IMMEDIATE transaction (the write lock taken up front, so concurrent writers
    /// queue on the busy timeout instead of failing on upgrade) and commit it.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, OutboxError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|source| OutboxError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }

    /// Up to `limit` queued events, oldest first.
    pub fn pending(&self, limit: usize) -> Result<Vec<QueuedEvent>, OutboxError> {
        self.pending_after(0, limit)
    }

    /// Up to `limit` queued events with `seq > after`, oldest first.
    pub fn pending_after(&self, after: i64, limit: usize) -> Result<Vec<QueuedEvent>, OutboxError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, event_id, envelope, retry_count FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([after, limit as i64], |r| {
                Ok(QueuedEvent {
                    seq: r.get(0)?,
                    event_id: r.get(1)?,
                    envelope: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Value::Null),
                    retry_count: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Apply a batch outcome: remove delivered events, count a retry on rejected ones.
    pub fn settle(&mut self, delivered: &[String], rejected: &[String]) -> Result<(), OutboxError> {
        self.write(|tx| {
            let mut del = tx.prepare_cached("DELETE FROM events WHERE event_id = ?1")?;
            for id in delivered {
                del.execute([id])?;
            }
            let mut bump = tx.prepare_cached(
                "UPDATE events SET retry_count = retry_count + 1 WHERE event_id = ?1",
            )?;
            for id in rejected {
                bump.execute([id])?;
            }
            Ok(())
        })
    }

    /// How many events are queued.
    pub fn depth(&self) -> Result<u64, OutboxError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The timestamp of the oldest queued event.
    pub fn oldest(&self) -> Result<Option<String>, OutboxError> {
        self.conn
            .query_row(
                "SELECT created_at FROM events ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Remember the outcome of a sync attempt.
    pub fn record_attempt(&self, attempt: &LastAttempt) -> Result<(), OutboxError> {
        let text = serde_json::to_string(attempt).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('last_attempt', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [text],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The last recorded attempt.
    pub fn last_attempt(&self) -> Result<Option<LastAttempt>, OutboxError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'last_attempt'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Every queued event's retry count, by event id (for status and tests).
    pub fn retry_counts(&self) -> Result<Vec<(String, i64)>, OutboxError> {
        let mut stmt = self
            .conn
            .prepare("SELECT event_id, retry_count FROM events ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

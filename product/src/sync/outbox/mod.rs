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

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::envelope::{Envelope, EnvelopeDraft};

/// The schema version this build writes (2: rejection state, back-off and the quarantine).
pub const SCHEMA_VERSION: i64 = 2;
/// Rejections after which an event is parked instead of retried.
pub const MAX_REJECTIONS: i64 = 3;
/// Back-off after the first rejection; each further one waits four times longer.
pub const REJECTION_BACKOFF_MS: i64 = 250;
/// How long a write waits for another process's write (appends and batch updates take
/// milliseconds; a longer hold is a stuck process, reported as such).
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);
/// `PRAGMA application_id` of a spec-kitty outbox ("KITY").
pub const APPLICATION_ID: i32 = 0x4B49_5459;
/// The tables of an outbox.
const OUR_TABLES: [&str; 5] = [
    "schema_version",
    "events",
    "meta",
    "quarantine",
    "sqlite_sequence",
];

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
    /// Another process holds the database past the wait.
    #[error(
        "the sync outbox {path} is locked by another process (waited {} s); try again, and if it persists find the process holding it",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// The database.
        path: PathBuf,
    },
    /// The file at the outbox path is not a spec-kitty outbox.
    #[error(
        "{path} is not a spec-kitty outbox ({why}); nothing was changed: move that file away (spec-kitty creates a new outbox there)"
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        why: String,
    },
    /// The outbox (or its WAL files) cannot be written by this user.
    #[error(
        "the sync outbox file {path} is read-only (mode {mode:04o}); nothing was changed: run `chmod 600 {path}`"
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
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

impl OutboxError {
    /// The one mapping of a SQLite failure on the database at `path`: [`Self::Busy`] when another
    /// process held it past [`BUSY_TIMEOUT`] (busy or locked), else [`Self::Sqlite`] with
    /// SQLite's own error.
    fn from_sqlite(path: &Path, source: rusqlite::Error) -> Self {
        match &source {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Self::Busy {
                    path: path.to_path_buf(),
                }
            }
            _ => Self::Sqlite {
                path: path.to_path_buf(),
                source,
            },
        }
    }
}

/// Refuse an outbox (or its `-wal`/`-shm`) this user cannot write, before touching anything.
fn refuse_read_only(path: &Path) -> Result<(), OutboxError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    for file in [
        path.to_path_buf(),
        path.with_file_name(format!("{name}-wal")),
        path.with_file_name(format!("{name}-shm")),
    ] {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o200 == 0 {
                return Err(OutboxError::ReadOnly { path: file, mode });
            }
        }
        #[cfg(not(unix))]
        if meta.permissions().readonly() {
            return Err(OutboxError::ReadOnly {
                path: file,
                mode: 0o444,
            });
        }
    }
    Ok(())
}

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

/// Where a staged event's mission is being created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    /// The repository's git directory (its mission lock lives there).
    pub git_dir: PathBuf,
    /// The work tree.
    pub top: PathBuf,
    /// The mission directory name under `kitty-specs/`.
    pub dir: String,
}

/// One server verdict to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The event.
    pub event_id: String,
    /// The server's reason.
    pub reason: Option<String>,
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
        let existed = path.exists();
        if existed {
            refuse_read_only(path)?;
        }
        let conn = Connection::open(path).map_err(|source| OutboxError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        let outbox = Self {
            conn,
            path: path.to_path_buf(),
        };
        outbox.sql(|c| c.busy_timeout(BUSY_TIMEOUT))?;
        if existed {
            outbox.check_ours()?;
        }
        outbox.init(!existed)?;
        Ok(outbox)
    }

    /// Refuse a database that is not an outbox, before anything is written to it: a foreign
    /// application id, or tables an outbox does not have (an empty file, or one of kitty 0.1's
    /// outboxes without the id, is fine).
    fn check_ours(&self) -> Result<(), OutboxError> {
        let foreign = |why: String| OutboxError::Foreign {
            path: self.path.clone(),
            why,
        };
        let id: i32 = self
            .conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    foreign("it is not an SQLite database".into())
                }
                other => OutboxError::from_sqlite(&self.path, other),
            })?;
        if id != 0 && id != APPLICATION_ID {
            return Err(foreign(format!("its SQLite application id is {id:#x}")));
        }
        let tables: Vec<String> = self.sql(|c| {
            c.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
                .query_map([], |r| r.get(0))?
                .collect()
        })?;
        if let Some(other) = tables.iter().find(|t| !OUR_TABLES.contains(&t.as_str())) {
            return Err(foreign(format!("it has a table {other:?}")));
        }
        if !tables.is_empty() && !tables.iter().any(|t| t == "events") {
            return Err(foreign("it has no events table".into()));
        }
        Ok(())
    }

    /// Open the database only if it exists (read-only callers such as `sync status`).
    pub fn open_existing(path: &Path) -> Result<Option<Self>, OutboxError> {
        if path.exists() {
            Self::open(path).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Run `f` on the connection, outside any transaction this type opens (reads, and writes of
    /// one statement). Every SQLite failure of `f` is mapped here, once, by
    /// [`OutboxError::from_sqlite`]; [`Self::write`] is the same edge for transactions.
    fn sql<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, OutboxError> {
        f(&self.conn).map_err(|source| OutboxError::from_sqlite(&self.path, source))
    }

    fn init(&self, created: bool) -> Result<(), OutboxError> {
        self.sql(|c| {
            c.execute_batch(
                "PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=FULL;
                 PRAGMA cache_size=-8192;
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
                 CREATE TABLE IF NOT EXISTS quarantine (
                     seq INTEGER PRIMARY KEY,
                     event_id TEXT NOT NULL,
                     event_type TEXT NOT NULL,
                     envelope TEXT NOT NULL,
                     reason TEXT NOT NULL,
                     quarantined_at TEXT NOT NULL
                 );
                 COMMIT;",
            )
        })?;
        self.sql(migrate)?;
        let found: Option<i64> =
            self.sql(|c| c.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0)))?;
        match found {
            None => {
                self.sql(|c| {
                    c.execute(
                        "INSERT INTO schema_version (version) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
                        [SCHEMA_VERSION],
                    )
                })?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(OutboxError::NewerSchema {
                    path: self.path.clone(),
                    found: v,
                });
            }
            Some(v) if v < SCHEMA_VERSION => {
                self.sql(|c| {
                    c.execute("UPDATE schema_version SET version = ?1", [SCHEMA_VERSION])
                })?;
            }
            Some(_) => {}
        }
        // Written once; opening an outbox that has it writes nothing (and syncs nothing).
        let id: i32 = self.sql(|c| c.query_row("PRAGMA application_id", [], |r| r.get(0)))?;
        if id != APPLICATION_ID {
            self.sql(|c| c.pragma_update(None, "application_id", APPLICATION_ID))?;
        }
        // No checkpoint when the connection closes: a short command would otherwise sync the
        // whole database on exit. SQLite still checkpoints automatically every 1000 WAL pages.
        self.sql(|c| {
            c.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            )
        })?;
        // Only a file this process created is made private; an existing one is never chmod-ed
        // (a read-only one was refused above).
        #[cfg(unix)]
        if created {
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
        self.insert(drafts, None)
    }

    /// Insert in one transaction, queued or (with `staging`) staged.
    fn insert(
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
                .query_row("SELECT value FROM meta WHERE key = 'lamport'", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut out = Vec::with_capacity(drafts.len());
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (event_id, event_type, envelope, created_at, state,
                     staged_git_dir, staged_top, staged_dir)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
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
                    if staged.is_some() { "staged" } else { "queued" },
                    git_dir,
                    top,
                    dir
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
        let Self { conn, path } = self;
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|source| OutboxError::from_sqlite(path, source))
    }
}

/// Schema 1 → 2: the rejection and staging columns (idempotent, column by column; every row
/// of a version 1 database is kept).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    const COLUMNS: [(&str, &str); 6] = [
        ("state", "TEXT NOT NULL DEFAULT 'queued'"),
        ("next_attempt_ms", "INTEGER NOT NULL DEFAULT 0"),
        ("last_error", "TEXT"),
        ("staged_git_dir", "TEXT"),
        ("staged_top", "TEXT"),
        ("staged_dir", "TEXT"),
    ];
    let has = |name: &str| -> rusqlite::Result<bool> {
        conn.prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = ?1")?
            .exists([name])
    };
    // Cheap check first; then again under the write lock, as another process may have
    // migrated meanwhile.
    if COLUMNS.iter().all(|(n, _)| has(n).unwrap_or(false)) {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        for (name, decl) in COLUMNS {
            if !has(name)? {
                conn.execute_batch(&format!("ALTER TABLE events ADD COLUMN {name} {decl}"))?;
            }
        }
        conn.execute_batch("COMMIT")
    })();
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

impl Outbox {
    /// Every queued (not parked) event, oldest first, without moving anything (read-only
    /// callers: status and tests). Rows that do not decode are skipped here.
    pub fn pending(&self, limit: usize) -> Result<Vec<QueuedEvent>, OutboxError> {
        self.sql(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, event_id, envelope, retry_count FROM events
                 WHERE state = 'queued' ORDER BY seq LIMIT ?1",
            )?;
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
            let mut stmt = tx.prepare_cached(
                "SELECT seq, event_id, event_type, envelope, retry_count FROM events
                 WHERE seq > ?1 AND state = 'queued' AND next_attempt_ms <= ?2
                   AND (?3 = 0 OR retry_count > 0)
                 ORDER BY seq LIMIT ?4",
            )?;
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
                            "INSERT OR REPLACE INTO quarantine
                                 (seq, event_id, event_type, envelope, reason, quarantined_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            params![seq, event_id, event_type, text, reason, at],
                        )?;
                        tx.execute("DELETE FROM events WHERE seq = ?1", [seq])?;
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
            let mut del = tx.prepare_cached("DELETE FROM events WHERE event_id = ?1")?;
            for id in delivered {
                del.execute([id])?;
            }
            let mut bump = tx.prepare_cached(
                "UPDATE events SET retry_count = retry_count + 1, last_error = ?2,
                     state = CASE WHEN retry_count + 1 >= ?3 THEN 'rejected' ELSE 'queued' END,
                     next_attempt_ms = ?4 + ?5 * (1 << (2 * retry_count))
                 WHERE event_id = ?1
                 RETURNING state",
            )?;
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
                if state.as_deref() == Some("rejected") {
                    parked.push(r.event_id.clone());
                }
            }
            Ok(parked)
        })
    }

    /// Queue `draft` as *staged*: durable, but never sent until [`promote`](Self::promote)d. A
    /// mission create stages its event before it writes anything, and promotes it once its
    /// commit exists; after a crash in between, [`staged`](Self::staged) finds it for recovery.
    pub fn append_staged(
        &mut self,
        draft: EnvelopeDraft,
        staging: &Staging,
    ) -> Result<Envelope, OutboxError> {
        self.insert(vec![draft], Some(staging))
            .map(|mut v| v.remove(0))
    }

    /// Make a staged event sendable.
    pub fn promote(&mut self, event_id: &str) -> Result<(), OutboxError> {
        // Not synced (synchronous=NORMAL for this one write): if power fails before the WAL
        // reaches the disk, recovery promotes the event anyway, because its commit exists. A
        // killed process loses nothing either way (the WAL is in the page cache).
        self.relaxed(|outbox| {
            outbox.write(|tx| {
                tx.execute(
                    "UPDATE events SET state = 'queued', staged_git_dir = NULL, staged_top = NULL,
                     staged_dir = NULL
                 WHERE event_id = ?1 AND state = 'staged'",
                    [event_id],
                )
                .map(|_| ())
            })
        })
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

    /// Every staged event (a create in progress, or one that died before promoting it).
    pub fn staged(&self) -> Result<Vec<(String, Staging)>, OutboxError> {
        self.sql(|c| {
            c.prepare(
                "SELECT event_id, staged_git_dir, staged_top, staged_dir FROM events
                 WHERE state = 'staged' ORDER BY seq",
            )?
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Staging {
                        git_dir: PathBuf::from(r.get::<_, Option<String>>(1)?.unwrap_or_default()),
                        top: PathBuf::from(r.get::<_, Option<String>>(2)?.unwrap_or_default()),
                        dir: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    },
                ))
            })?
            .collect()
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
                "INSERT INTO events (event_id, event_type, envelope, created_at)
                 VALUES (?1, ?2, ?3, '1970-01-01T00:00:00+00:00')",
                params![event_id, event_type, text],
            )
            .map(|_| ())
        })
    }

    /// Remove events by id (a create that failed after queueing its event).
    pub fn remove(&mut self, ids: &[String]) -> Result<(), OutboxError> {
        self.settle(ids, &[], 0).map(|_| ())
    }

    /// The earliest back-off deadline of a queued event rejected before (`None`: none waiting).
    pub fn next_retry_ms(&self) -> Result<Option<i64>, OutboxError> {
        self.sql(|c| {
            c.query_row(
                "SELECT MIN(next_attempt_ms) FROM events WHERE state = 'queued' AND retry_count > 0",
                [],
                |r| r.get(0),
            )
        })
    }

    /// The parked (rejected) events, oldest first.
    pub fn rejected(&self) -> Result<Vec<RejectedEvent>, OutboxError> {
        self.sql(|c| {
            c.prepare(
                "SELECT event_id, event_type, retry_count, last_error FROM events
                 WHERE state = 'rejected' ORDER BY seq",
            )?
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
            c.prepare(
                "SELECT event_id, event_type, reason, quarantined_at FROM quarantine ORDER BY seq",
            )?
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
                "UPDATE events SET state = 'queued', retry_count = 0, next_attempt_ms = 0,
                     last_error = NULL
                 WHERE state = 'rejected'",
                [],
            )
            .map(|n| n as u64)
        })
    }

    /// Delete the quarantined rows (they can never be sent). Returns how many.
    pub fn discard_quarantined(&mut self) -> Result<u64, OutboxError> {
        self.write(|tx| tx.execute("DELETE FROM quarantine", []).map(|n| n as u64))
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

    /// How many events wait to be sent (queued, not parked).
    pub fn depth(&self) -> Result<u64, OutboxError> {
        self.sql(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM events WHERE state = 'queued'",
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
                "SELECT created_at FROM events WHERE state = 'queued' ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
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
                "INSERT INTO meta (key, value) VALUES ('last_attempt', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [text],
            )
            .map(|_| ())
        })
    }

    /// The last recorded attempt.
    pub fn last_attempt(&self) -> Result<Option<LastAttempt>, OutboxError> {
        let text: Option<String> = self.sql(|c| {
            c.query_row(
                "SELECT value FROM meta WHERE key = 'last_attempt'",
                [],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Every queued event's retry count, by event id (for status and tests).
    pub fn retry_counts(&self) -> Result<Vec<(String, i64)>, OutboxError> {
        self.sql(|c| {
            c.prepare("SELECT event_id, retry_count FROM events ORDER BY seq")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::envelope::{MissionCreated, Producer};

    fn draft(slug: &str) -> EnvelopeDraft {
        let id = crate::ids::ulid(chrono::Utc::now());
        MissionCreated::sample(&id, slug).draft(chrono::Utc::now(), &Producer::example())
    }

    fn fresh() -> (tempfile::TempDir, PathBuf, Outbox) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sync").join("outbox.sqlite");
        let outbox = Outbox::open(&path).unwrap();
        (dir, path, outbox)
    }

    fn pragma(path: &Path, sql: &str) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_new_outbox_is_private_stamped_and_at_the_current_schema() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path, outbox) = fresh();
        drop(outbox);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(
            pragma(&path, "PRAGMA application_id"),
            i64::from(APPLICATION_ID)
        );
        assert_eq!(
            pragma(&path, "SELECT MAX(version) FROM schema_version"),
            SCHEMA_VERSION
        );
        // Opening it again changes neither, and writes no row at all.
        let again = Outbox::open(&path).unwrap();
        let changes: i64 = again
            .conn
            .query_row("SELECT total_changes()", [], |r| r.get(0))
            .unwrap();
        assert_eq!(changes, 0, "opening an up-to-date outbox wrote rows");
        assert_eq!(pragma(&path, "SELECT COUNT(*) FROM schema_version"), 1);
    }

    #[test]
    fn an_outbox_another_connection_holds_exclusively_is_busy_not_foreign() {
        let (_dir, path, outbox) = fresh();
        drop(outbox);
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
            .unwrap();
        let e = Outbox::open(&path).unwrap_err();
        assert!(matches!(e, OutboxError::Busy { .. }), "{e}");
    }

    #[test]
    fn an_existing_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path, outbox) = fresh();
        drop(outbox);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        Outbox::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn a_newer_schema_is_refused_and_an_older_one_upgraded_keeping_its_rows() {
        let (_dir, path, outbox) = fresh();
        drop(outbox);
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE schema_version SET version = 3", [])
            .unwrap();
        drop(conn);
        let e = Outbox::open(&path).unwrap_err();
        assert!(
            matches!(e, OutboxError::NewerSchema { found: 3, .. }),
            "{e}"
        );

        // A kitty 0.1 outbox: schema 1, no rejection or staging columns, no application id.
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("outbox.sqlite");
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1);
             CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 event_id TEXT NOT NULL UNIQUE, event_type TEXT NOT NULL, envelope TEXT NOT NULL,
                 created_at TEXT NOT NULL, retry_count INTEGER NOT NULL DEFAULT 0);
             INSERT INTO events (event_id, event_type, envelope, created_at)
                 VALUES ('01OLD', 'MissionCreated', '{}', '2026-01-01T00:00:00+00:00');",
        )
        .unwrap();
        drop(conn);
        let outbox = Outbox::open(&old).unwrap();
        assert_eq!(outbox.depth().unwrap(), 1, "the old row is kept, queued");
        assert_eq!(outbox.retry_counts().unwrap(), vec![("01OLD".into(), 0)]);
        drop(outbox);
        assert_eq!(
            pragma(&old, "SELECT MAX(version) FROM schema_version"),
            SCHEMA_VERSION
        );
        assert_eq!(
            pragma(&old, "SELECT COUNT(*) FROM pragma_table_info('events')"),
            12
        );
    }

    #[test]
    fn foreign_databases_are_refused_and_left_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &str); 3] = [
            (
                "PRAGMA application_id = 7; CREATE TABLE events (x);",
                "application id is 0x7",
            ),
            (
                "CREATE TABLE events (x); CREATE TABLE recipes (x);",
                "a table \"recipes\"",
            ),
            ("CREATE TABLE meta (key, value);", "no events table"),
        ];
        for (i, (sql, why)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{i}.sqlite"));
            Connection::open(&path).unwrap().execute_batch(sql).unwrap();
            let before = std::fs::read(&path).unwrap();
            let e = Outbox::open(&path).unwrap_err().to_string();
            assert!(e.contains(why), "{sql}: {e}");
            assert!(e.contains("not a spec-kitty outbox"), "{e}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{sql}");
        }
        // An empty file, or our tables without the id (kitty 0.1), are fine.
        let empty = dir.path().join("empty.sqlite");
        std::fs::write(&empty, b"").unwrap();
        Outbox::open(&empty).unwrap();
        let text = dir.path().join("text.sqlite");
        std::fs::write(&text, vec![b'x'; 2048]).unwrap();
        let e = Outbox::open(&text).unwrap_err().to_string();
        assert!(e.contains("not an SQLite database"), "{e}");
    }

    #[test]
    fn a_read_only_wal_is_refused_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path, mut outbox) = fresh();
        outbox.append(draft("one")).unwrap();
        let wal = path.with_file_name("outbox.sqlite-wal");
        assert!(wal.exists());
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o444)).unwrap();
        let e = Outbox::open(&path).unwrap_err();
        assert!(
            matches!(&e, OutboxError::ReadOnly { path: p, mode: 0o444 } if *p == wal),
            "{e}"
        );
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o600)).unwrap();
        let shm = path.with_file_name("outbox.sqlite-shm");
        std::fs::set_permissions(&shm, std::fs::Permissions::from_mode(0o400)).unwrap();
        let e = Outbox::open(&path).unwrap_err();
        assert!(
            matches!(&e, OutboxError::ReadOnly { path: p, .. } if *p == shm),
            "{e}"
        );
    }

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
    fn staged_events_are_never_sent_until_promoted() {
        let (_dir, _path, mut outbox) = fresh();
        let staging = Staging {
            git_dir: "/repo/.git".into(),
            top: "/repo".into(),
            dir: "001-x".into(),
        };
        let e = outbox.append_staged(draft("x"), &staging).unwrap();
        assert_eq!(outbox.depth().unwrap(), 0);
        assert_eq!(
            outbox.staged().unwrap(),
            vec![(e.event_id.clone(), staging)]
        );
        assert!(
            outbox
                .next_batch(0, 10, i64::MAX, false, "t")
                .unwrap()
                .events
                .is_empty()
        );
        outbox.promote(&e.event_id).unwrap();
        assert!(outbox.staged().unwrap().is_empty());
        assert_eq!(outbox.depth().unwrap(), 1);
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

//! The schema (version, tables, row states) and opening: refusing foreign files, migrating.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::{Outbox, OutboxError};

/// The schema version this build writes (2: rejection state, back-off and the quarantine).
pub const SCHEMA_VERSION: i64 = 2;

/// How long a write waits for another process's write (appends and batch updates take
/// milliseconds; a longer hold is a stuck process, reported as such).
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// `PRAGMA application_id` of a spec-kitty outbox ("KITY").
pub const APPLICATION_ID: i32 = 0x4B49_5459;

/// Table of the events not yet delivered, one row each, in `seq` order: queued, staged or parked
/// (column [`STATE`]).
pub const EVENTS: &str = "events";
/// Table of the rows that did not decode, moved aside from [`EVENTS`] and never sent.
pub const QUARANTINE: &str = "quarantine";
/// Key-value table: the Lamport clock ([`LAMPORT_KEY`]) and the last attempt
/// ([`LAST_ATTEMPT_KEY`]).
pub const META: &str = "meta";
/// Table of one row: the schema version of the file.
pub const VERSIONS: &str = "schema_version";
/// Column of [`EVENTS`] holding a row's state, since schema 2 (every row of schema 1 is queued).
pub const STATE: &str = "state";
/// [`STATE`] of an event waiting to be sent (and the default of a new row).
pub const QUEUED: &str = "queued";
/// [`STATE`] of an event that is durable but never sent until its create commits and promotes it.
pub const STAGED: &str = "staged";
/// [`STATE`] of an event parked after [`MAX_REJECTIONS`](super::MAX_REJECTIONS) rejections.
pub const REJECTED: &str = "rejected";
/// [`META`] key of the Lamport clock: the last value given out, as decimal text.
pub(super) const LAMPORT_KEY: &str = "lamport";
/// [`META`] key of the last sync attempt, as JSON.
pub(super) const LAST_ATTEMPT_KEY: &str = "last_attempt";

/// Every table an outbox may have (`sqlite_sequence` is SQLite's, for `AUTOINCREMENT`).
const OUR_TABLES: [&str; 5] = [VERSIONS, EVENTS, META, QUARANTINE, "sqlite_sequence"];

/// The columns of each table of an outbox: those every schema has, and those a later schema
/// added (so a schema-1 file is ours, and a table of the same name with other columns is not).
const SHAPES: [(&str, &[&str], &[&str]); 4] = [
    (
        EVENTS,
        &[
            "seq",
            "event_id",
            "event_type",
            "envelope",
            "created_at",
            "retry_count",
        ],
        &[
            STATE,
            "next_attempt_ms",
            "last_error",
            "staged_git_dir",
            "staged_top",
            "staged_dir",
        ],
    ),
    (META, &["key", "value"], &[]),
    (VERSIONS, &["version"], &[]),
    (
        QUARANTINE,
        &[
            "seq",
            "event_id",
            "event_type",
            "envelope",
            "reason",
            "quarantined_at",
        ],
        &[],
    ),
];

/// Create the database file empty and private (0600 on Unix) before SQLite opens it: SQLite gives
/// its `-wal` and `-shm` files the database's mode, so none of them is ever wider.
fn create_private(path: &Path) -> Result<(), OutboxError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        // Another process made it meanwhile: it is opened as it is.
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(OutboxError::Dir {
            path: path.parent().unwrap_or(path).to_path_buf(),
            source,
        }),
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
        } else {
            create_private(path)?;
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
        outbox.init()?;
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
        if !tables.is_empty() && !tables.iter().any(|t| t == EVENTS) {
            return Err(foreign(format!("it has no {EVENTS} table")));
        }
        for (table, required, optional) in SHAPES {
            if !tables.iter().any(|t| t == table) {
                continue;
            }
            let columns: Vec<String> = self.sql(|c| {
                c.prepare("SELECT name FROM pragma_table_info(?1)")?
                    .query_map([table], |r| r.get(0))?
                    .collect()
            })?;
            if let Some(missing) = required.iter().find(|r| !columns.iter().any(|c| c == *r)) {
                return Err(foreign(format!(
                    "its {table} table has no {missing:?} column"
                )));
            }
            if let Some(other) = columns
                .iter()
                .find(|c| !required.contains(&c.as_str()) && !optional.contains(&c.as_str()))
            {
                return Err(foreign(format!("its {table} table has a column {other:?}")));
            }
        }
        Ok(())
    }

    /// Open the database only if it exists (read-only callers such as `sync status`). A path that
    /// cannot be looked at (its directory is a file, or unreadable) is the error a create gets,
    /// not an empty outbox.
    pub fn open_existing(path: &Path) -> Result<Option<Self>, OutboxError> {
        match path.try_exists() {
            Ok(true) => Self::open(path).map(Some),
            Ok(false) => Ok(None),
            Err(source) => Err(OutboxError::Dir {
                path: path.parent().unwrap_or(path).to_path_buf(),
                source,
            }),
        }
    }

    fn init(&self) -> Result<(), OutboxError> {
        self.sql(|c| {
            c.execute_batch(&format!(
                "PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=FULL;
                 PRAGMA cache_size=-8192;
                 BEGIN IMMEDIATE;
                 CREATE TABLE IF NOT EXISTS {VERSIONS} (version INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS {EVENTS} (
                     seq INTEGER PRIMARY KEY AUTOINCREMENT,
                     event_id TEXT NOT NULL UNIQUE,
                     event_type TEXT NOT NULL,
                     envelope TEXT NOT NULL,
                     created_at TEXT NOT NULL,
                     retry_count INTEGER NOT NULL DEFAULT 0
                 );
                 CREATE TABLE IF NOT EXISTS {META} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS {QUARANTINE} (
                     seq INTEGER PRIMARY KEY,
                     event_id TEXT NOT NULL,
                     event_type TEXT NOT NULL,
                     envelope TEXT NOT NULL,
                     reason TEXT NOT NULL,
                     quarantined_at TEXT NOT NULL
                 );
                 COMMIT;"
            ))
        })?;
        self.sql(migrate)?;
        let found: Option<i64> = self.sql(|c| {
            c.query_row(&format!("SELECT MAX(version) FROM {VERSIONS}"), [], |r| {
                r.get(0)
            })
        })?;
        match found {
            None => {
                self.sql(|c| {
                    c.execute(
                        &format!("INSERT INTO {VERSIONS} (version) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM {VERSIONS})"),
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
                    c.execute(
                        &format!("UPDATE {VERSIONS} SET version = ?1"),
                        [SCHEMA_VERSION],
                    )
                })?;
            }
            Some(_) => {}
        }
        // Written once; opening an outbox that has it writes nothing (and syncs nothing).
        let id: i32 = self.sql(|c| c.query_row("PRAGMA application_id", [], |r| r.get(0)))?;
        if id != APPLICATION_ID {
            self.sql(|c| c.pragma_update(None, "application_id", APPLICATION_ID))?;
        }
        // No checkpoint when the connection closes (it would checkpoint whatever it finds): an
        // outbox that wrote checkpoints once when dropped (`Drop for Outbox`), others not at all.
        // SQLite still checkpoints automatically every 1000 WAL pages.
        self.sql(|c| {
            c.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            )
        })?;
        Ok(())
    }
}

/// Schema 1 → 2: the rejection and staging columns (idempotent, column by column; every row
/// of a version 1 database is kept).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let state = format!("TEXT NOT NULL DEFAULT '{QUEUED}'");
    let columns: [(&str, &str); 6] = [
        (STATE, &state),
        ("next_attempt_ms", "INTEGER NOT NULL DEFAULT 0"),
        ("last_error", "TEXT"),
        ("staged_git_dir", "TEXT"),
        ("staged_top", "TEXT"),
        ("staged_dir", "TEXT"),
    ];
    let has = |name: &str| has_column(conn, EVENTS, name);
    // Cheap check first; then again under the write lock, as another process may have
    // migrated meanwhile.
    if columns.iter().all(|(n, _)| has(n).unwrap_or(false)) {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        for (name, decl) in columns {
            if !has(name)? {
                conn.execute_batch(&format!("ALTER TABLE {EVENTS} ADD COLUMN {name} {decl}"))?;
            }
        }
        conn.execute_batch("COMMIT")
    })();
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// Whether `table` has a column `column` (false when there is no such table).
pub(crate) fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    conn.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
        .exists([table, column])
}

/// Whether the database has a table (or any schema object) named `name`.
pub(crate) fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.prepare("SELECT 1 FROM sqlite_master WHERE name = ?1")?
        .exists([name])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_file_is_made_private_once_and_a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite3");
        create_private(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // Made meanwhile by another process: taken as it is.
        std::fs::write(&path, b"x").unwrap();
        create_private(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
        let e = create_private(&dir.path().join("gone/outbox.sqlite3")).unwrap_err();
        assert!(matches!(e, OutboxError::Dir { .. }), "{e}");
    }
    use crate::sync::outbox::fixtures::{fresh, pragma};

    #[test]
    fn a_new_outbox_is_private_stamped_and_at_the_current_schema() {
        let (_dir, path, outbox) = fresh();
        drop(outbox);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700);
        }
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

    // File modes are Unix-only.
    #[cfg(unix)]
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

    // File modes are Unix-only.
    #[cfg(unix)]
    #[test]
    fn a_read_only_wal_is_refused_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path, mut outbox) = fresh();
        outbox
            .append(crate::sync::outbox::fixtures::draft("one"))
            .unwrap();
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
}

//! The reference CLI's per-project event store (`<root>/projects/<uuid>/sync/sync.db`), read
//! only: the project's sync consent, and the census of the reference's own queue.
//!
//! The store is opened read-only (`immutable` only while it has no WAL file, since committed rows
//! may live only in its WAL), in one read transaction, with a short busy wait; nothing is
//! migrated, locked or written, and no file is left behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The project's decision in the reference's store (`spec-kitty sync opt-in` / `opt-out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// `sync opt-in`: its events may be sent.
    Granted,
    /// `sync opt-out`: never send them.
    Refused,
    /// No decision (or no store): not sent, as the reference sends nothing without a grant.
    Absent,
}

/// The reference's queue for one project, as its next `sync now` would see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReferenceQueue {
    /// The store.
    pub path: PathBuf,
    /// The project's consent.
    pub consent: Consent,
    /// Events the store keeps (the reference keeps delivered ones too).
    pub retained: u64,
    /// Delivered (or acknowledged as duplicates).
    pub delivered: u64,
    /// What its next `sync now` would send.
    pub sendable: u64,
    /// Captured before consent (never sent by the reference).
    pub withheld: u64,
}

/// The store cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read the reference's project store {path} ({source}); check the file (the reference's `spec-kitty sync status` reports on it too)"
)]
pub struct ReadError {
    /// The store.
    pub path: PathBuf,
    /// The SQLite failure.
    #[source]
    pub source: rusqlite::Error,
}

/// How long a read waits for a writer's lock (a WAL reader normally never waits).
const BUSY: Duration = Duration::from_millis(500);

fn open(path: &Path) -> Result<Option<Connection>, ReadError> {
    if !path.is_file() {
        return Ok(None);
    }
    let err = |source| ReadError {
        path: path.to_path_buf(),
        source,
    };
    // Without a WAL file every committed row is in the main file, which is then read as it is
    // (`immutable`): a read-only connection would otherwise leave a `-wal` and `-shm` behind in
    // the reference's directory. With one, a plain read-only connection reads through it.
    let wal = path.with_file_name(format!(
        "{}-wal",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let c = match wal.exists() {
        true => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        false => Connection::open_with_flags(
            format!("{}?mode=ro&immutable=1", file_uri(path)),
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        ),
    }
    .map_err(err)?;
    c.busy_timeout(BUSY).map_err(err)?;
    Ok(Some(c))
}

/// `path` as an SQLite `file:` URI: every byte but unreserved ones and `/` percent-encoded.
fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut uri = String::from("file:");
    if !text.starts_with('/') {
        uri.push_str("///");
    }
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' | b':' => {
                uri.push(char::from(b))
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

fn has_table(c: &Connection, name: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

fn consent_in(c: &Connection, project_uuid: &str) -> rusqlite::Result<Consent> {
    if !has_table(c, "project_consent_decisions")? {
        return Ok(Consent::Absent);
    }
    let state: Option<String> = c
        .query_row(
            "SELECT state FROM project_consent_decisions WHERE project_uuid = ?1",
            [project_uuid],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match state.as_deref() {
        Some("granted") => Consent::Granted,
        Some(_) => Consent::Refused,
        None => Consent::Absent,
    })
}

/// The project's consent; a missing store is [`Consent::Absent`].
pub fn consent(path: &Path, project_uuid: &str) -> Result<Consent, ReadError> {
    let Some(c) = open(path)? else {
        return Ok(Consent::Absent);
    };
    consent_in(&c, project_uuid).map_err(|source| ReadError {
        path: path.to_path_buf(),
        source,
    })
}

/// Drain-blocked reasons the reference retries (any other one is final).
const TRANSIENT: &str =
    "'missing_auth','missing_team','private_teamspace_gate','daemon_lock','network_unavailable'";

/// The census; `None` when the project has no store.
pub fn census(path: &Path, project_uuid: &str) -> Result<Option<ReferenceQueue>, ReadError> {
    let Some(mut c) = open(path)? else {
        return Ok(None);
    };
    let err = |source| ReadError {
        path: path.to_path_buf(),
        source,
    };
    let tx = c.transaction().map_err(err)?;
    let consent = consent_in(&tx, project_uuid).map_err(err)?;
    let mut q = ReferenceQueue {
        path: path.to_path_buf(),
        consent,
        retained: 0,
        delivered: 0,
        sendable: 0,
        withheld: 0,
    };
    let tables = ["journal_entries", "consent_epochs", "delivery_attempts"];
    let mut complete = true;
    for t in tables {
        complete &= has_table(&tx, t).map_err(err)?;
    }
    if !complete {
        return Ok(Some(q));
    }
    let sql = format!(
        "WITH ev AS (
           SELECT j.entry_id AS id, e.state AS epoch_state, e.consent_generation AS gen,
                  json_extract(j.payload_json, '$.drain_blocked_reason') AS dbr
           FROM journal_entries j
           JOIN consent_epochs e ON e.project_uuid = j.project_uuid AND e.epoch_id = j.epoch_id
           WHERE j.project_uuid = ?1),
         att AS (
           SELECT json_extract(payload_reference, '$.native_identity') AS id, state, deadline_at
           FROM delivery_attempts WHERE project_uuid = ?1 AND attempt_id LIKE 'event:%'),
         decision AS (
           SELECT generation FROM project_consent_decisions
           WHERE project_uuid = ?1 AND state = 'granted')
         SELECT
           (SELECT COUNT(*) FROM ev),
           (SELECT COUNT(*) FROM ev WHERE EXISTS
              (SELECT 1 FROM att WHERE att.id = ev.id AND att.state = 'succeeded')),
           (SELECT COUNT(*) FROM ev
              WHERE epoch_state = 'eligible'
                AND EXISTS (SELECT 1 FROM decision WHERE decision.generation = ev.gen)
                AND (dbr IS NULL OR dbr IN ({TRANSIENT}))
                AND NOT EXISTS (SELECT 1 FROM att WHERE att.id = ev.id
                  AND att.state NOT IN ('prepared', 'canceled')
                  AND NOT (att.state = 'retryable_no_effect'
                           AND att.deadline_at > strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')))),
           (SELECT COUNT(*) FROM ev WHERE epoch_state <> 'eligible')"
    );
    let counts: (i64, i64, i64, i64) = tx
        .query_row(&sql, [project_uuid], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .map_err(err)?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    q.retained = n(counts.0);
    q.delivered = n(counts.1);
    q.sendable = n(counts.2);
    q.withheld = n(counts.3);
    Ok(Some(q))
}

/// Record `project_uuid`'s decision in the reference's table shapes, as its `sync opt-in` /
/// `opt-out` do (for the testkit, which seeds state where the product reads it; the product itself
/// never writes this store).
#[cfg(any(test, feature = "testkit"))]
pub fn record_consent(
    path: &Path,
    project_uuid: &str,
    granted: bool,
    decided_at: &str,
) -> rusqlite::Result<()> {
    let c = Connection::open(path)?;
    let (state, action) = match granted {
        true => ("granted", "explicit_opt_in"),
        false => ("refused", "explicit_opt_out"),
    };
    c.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE IF NOT EXISTS project_store_metadata (
             singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
             project_uuid TEXT NOT NULL UNIQUE,
             schema_version INTEGER NOT NULL CHECK (schema_version > 0),
             layout_version INTEGER NOT NULL CHECK (layout_version > 0),
             created_at TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS project_consent_decisions (
             project_uuid TEXT PRIMARY KEY,
             state TEXT NOT NULL CHECK (state IN ('granted', 'refused')),
             generation INTEGER NOT NULL CHECK (generation > 0),
             action TEXT NOT NULL,
             actor TEXT NOT NULL,
             decided_at TEXT NOT NULL,
             decision_schema_version INTEGER NOT NULL CHECK (decision_schema_version > 0),
             FOREIGN KEY (project_uuid) REFERENCES project_store_metadata(project_uuid));",
    )?;
    let now = decided_at;
    c.execute(
        "INSERT OR IGNORE INTO project_store_metadata VALUES (1, ?1, 1, 1, ?2)",
        rusqlite::params![project_uuid, now],
    )?;
    c.execute(
        "INSERT INTO project_consent_decisions VALUES (?1, ?2, 1, ?3, 'local-operator', ?4, 1)
         ON CONFLICT (project_uuid) DO UPDATE SET state = excluded.state,
             action = excluded.action, generation = generation + 1,
             decided_at = excluded.decided_at",
        rusqlite::params![project_uuid, state, action, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "5f0c8c1e-0000-4000-8000-00000000c0de";

    fn store(dir: &Path, sql: &str) -> PathBuf {
        let path = dir.join("sync.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch(sql).unwrap();
        path
    }

    const DECISIONS: &str = "CREATE TABLE project_consent_decisions (project_uuid TEXT PRIMARY KEY, \
        state TEXT NOT NULL, generation INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL, \
        decided_at TEXT NOT NULL, decision_schema_version INTEGER NOT NULL);";

    #[test]
    fn consent_is_the_project_s_own_decision_and_absent_without_one() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            consent(&tmp.path().join("none.db"), UUID).unwrap(),
            Consent::Absent
        );
        let path = store(
            tmp.path(),
            &format!(
                "{DECISIONS} INSERT INTO project_consent_decisions VALUES \
                 ('{UUID}', 'granted', 1, 'explicit_opt_in', 'local-operator', 'now', 1), \
                 ('other', 'refused', 2, 'explicit_opt_out', 'local-operator', 'now', 1);"
            ),
        );
        assert_eq!(consent(&path, UUID).unwrap(), Consent::Granted);
        assert_eq!(consent(&path, "other").unwrap(), Consent::Refused);
        assert_eq!(consent(&path, "third").unwrap(), Consent::Absent);
        // The testkit's seed reads back as recorded, and a later decision replaces it.
        let seeded = tmp.path().join("seeded.db");
        record_consent(&seeded, UUID, true, "2026-12-04T10:00:00+00:00").unwrap();
        assert_eq!(consent(&seeded, UUID).unwrap(), Consent::Granted);
        record_consent(&seeded, UUID, false, "2026-12-04T11:00:00+00:00").unwrap();
        assert_eq!(consent(&seeded, UUID).unwrap(), Consent::Refused);
        // A store without the journal tables is counted as empty, not refused.
        let q = census(&path, UUID).unwrap().unwrap();
        assert_eq!(
            (q.retained, q.sendable, q.consent),
            (0, 0, Consent::Granted)
        );
    }

    #[test]
    fn a_path_becomes_a_file_uri_with_its_specials_escaped() {
        assert_eq!(
            file_uri(Path::new("/tmp/a b/x?#%.db")),
            "file:/tmp/a%20b/x%3F%23%25.db"
        );
    }

    #[test]
    fn reading_a_checkpointed_store_leaves_no_file_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("odd ?dir");
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("sync.db");
        record_consent(&path, UUID, true, "2026-12-04T10:00:00+00:00").unwrap();
        let before: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(consent(&path, UUID).unwrap(), Consent::Granted);
        assert!(census(&path, UUID).unwrap().is_some());
        let after: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(before, after);
        // With a WAL file present the store is read through it.
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("PRAGMA wal_autocheckpoint=0; UPDATE project_consent_decisions SET state = 'refused';").unwrap();
        assert_eq!(consent(&path, UUID).unwrap(), Consent::Refused);
        drop(writer);
    }

    #[test]
    fn the_census_counts_what_the_reference_would_send_and_what_it_withholds() {
        let tmp = tempfile::tempdir().unwrap();
        let entry = |id: &str, epoch: i64, dbr: &str| {
            format!(
                "INSERT INTO journal_entries VALUES ('{id}', '{UUID}', {epoch}, \
                 (SELECT COUNT(*) + 1 FROM journal_entries), json_object('drain_blocked_reason', {dbr}));"
            )
        };
        let mut sql = format!(
            "{DECISIONS} INSERT INTO project_consent_decisions VALUES \
             ('{UUID}', 'granted', 1, 'explicit_opt_in', 'local-operator', 'now', 1);
             CREATE TABLE consent_epochs (epoch_id INTEGER, project_uuid TEXT, state TEXT, consent_generation INTEGER);
             INSERT INTO consent_epochs VALUES (1, '{UUID}', 'sealed', NULL), (2, '{UUID}', 'eligible', 1);
             CREATE TABLE journal_entries (entry_id TEXT, project_uuid TEXT, epoch_id INTEGER, capture_sequence INTEGER, payload_json TEXT);
             CREATE TABLE delivery_attempts (attempt_id TEXT, project_uuid TEXT, payload_reference TEXT, state TEXT, deadline_at TEXT);
             INSERT INTO delivery_attempts VALUES ('event:x', '{UUID}', json_object('native_identity', 'sent'), 'succeeded', NULL);"
        );
        for (id, epoch, dbr) in [
            ("before-consent", 1, "NULL"),
            ("sent", 2, "NULL"),
            ("waiting", 2, "NULL"),
            ("logged-out", 2, "'missing_auth'"),
            ("disabled", 2, "'saas_disabled'"),
        ] {
            sql.push_str(&entry(id, epoch, dbr));
        }
        let path = store(tmp.path(), &sql);
        let q = census(&path, UUID).unwrap().unwrap();
        assert_eq!(q.retained, 5);
        assert_eq!(q.delivered, 1);
        assert_eq!(q.sendable, 2, "waiting and logged-out");
        assert_eq!(q.withheld, 1);
        assert_eq!(q.consent, Consent::Granted);
    }
}

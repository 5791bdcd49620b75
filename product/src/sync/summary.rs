//! A read-only summary of the outbox, for plugins (stable API): how many events wait, since
//! when, and how many were parked or quarantined. It never writes, creates or migrates anything.

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::paths::RuntimeRoot;
use crate::sync::outbox::{EVENTS, QUARANTINE, QUEUED, REJECTED, STATE, has_column, has_table};

/// What the outbox holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSummary {
    /// Events waiting to be sent.
    pub queued: u64,
    /// When the oldest waiting event was queued (ISO 8601), if any.
    pub oldest: Option<String>,
    /// Events the service rejected too often, parked.
    pub rejected: u64,
    /// Stored rows that do not decode, set aside.
    pub quarantined: u64,
}

/// The outbox could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the sync outbox {path}: {source}")]
pub struct SummaryError {
    /// The database.
    pub path: std::path::PathBuf,
    /// SQLite's words.
    pub source: rusqlite::Error,
}

/// The summary of the outbox under `root`; `Ok(None)` when there is no outbox yet.
///
/// ```
/// use spec_kitty::{env::Env, paths::RuntimeRoot, sync::summary};
/// let dir = tempfile::tempdir().unwrap();
/// let root = RuntimeRoot::resolve(&Env::from_pairs([("SPEC_KITTY_HOME", dir.path().to_str().unwrap())])).unwrap();
/// assert_eq!(summary::read(&root).unwrap(), None);
/// ```
pub fn read(root: &RuntimeRoot) -> Result<Option<OutboxSummary>, SummaryError> {
    let path = root.outbox_db();
    if !path.is_file() {
        return Ok(None);
    }
    let fail = |source| SummaryError {
        path: path.clone(),
        source,
    };
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    // A schema 1 outbox (no state column) is read as it is: every row queued.
    let has_state = has_column(&conn, EVENTS, STATE).map_err(fail)?;
    let count = |sql: &str| -> Result<u64, SummaryError> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(fail)
    };
    let (queued_where, rejected) = if has_state {
        (
            format!("WHERE {STATE} = '{QUEUED}'"),
            count(&format!(
                "SELECT COUNT(*) FROM {EVENTS} WHERE {STATE} = '{REJECTED}'"
            ))?,
        )
    } else {
        (String::new(), 0)
    };
    let queued = count(&format!("SELECT COUNT(*) FROM {EVENTS} {queued_where}"))?;
    let oldest: Option<String> = conn
        .query_row(
            &format!("SELECT created_at FROM {EVENTS} {queued_where} ORDER BY seq LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(fail)?;
    let quarantined = match has_table(&conn, QUARANTINE).map_err(fail)? {
        true => count(&format!("SELECT COUNT(*) FROM {QUARANTINE}"))?,
        false => 0,
    };
    Ok(Some(OutboxSummary {
        queued,
        oldest,
        rejected,
        quarantined,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::outbox::{MAX_REJECTIONS, Outbox, Rejection};

    fn root(dir: &tempfile::TempDir) -> RuntimeRoot {
        let home = dir.path().to_str().unwrap();
        RuntimeRoot::resolve(&crate::env::Env::from_pairs([("SPEC_KITTY_HOME", home)])).unwrap()
    }

    fn files_in(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = walk(dir);
        names.sort();
        names
    }

    fn walk(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .flat_map(|e| {
                        let mut v = vec![e.path().display().to_string()];
                        v.extend(walk(&e.path()));
                        v
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn no_outbox_is_none_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(&root(&dir)).unwrap(), None);
        assert!(files_in(dir.path()).is_empty());
    }

    #[test]
    fn queued_parked_and_quarantined_rows_are_counted_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = root(&dir);
        let mut outbox = Outbox::open(&root.outbox_db()).unwrap();
        for id in ["01A", "01B", "01C", "01D"] {
            outbox.insert_raw(id, "MissionCreated", "{}").unwrap();
        }
        assert_eq!(
            read(&root).unwrap(),
            Some(OutboxSummary {
                queued: 4,
                oldest: Some("1970-01-01T00:00:00+00:00".into()),
                rejected: 0,
                quarantined: 0,
            })
        );
        // 01B rejected until parked.
        let rejection = Rejection {
            event_id: "01B".into(),
            reason: Some("invalid".into()),
        };
        for _ in 0..MAX_REJECTIONS {
            outbox
                .settle(&[], std::slice::from_ref(&rejection), 0)
                .unwrap();
        }
        // 01A does not decode: the next batch quarantines it (and the others, all "{}").
        let batch = outbox.next_batch(0, 1, i64::MAX, false, "now").unwrap();
        assert_eq!(batch.quarantined, 1);
        let summary = read(&root).unwrap().unwrap();
        assert_eq!(
            (summary.queued, summary.rejected, summary.quarantined),
            (2, 1, 1)
        );
        // Reading writes nothing.
        let before = files_in(dir.path());
        drop(outbox);
        let bytes = std::fs::read(root.outbox_db()).unwrap();
        read(&root).unwrap();
        assert_eq!(std::fs::read(root.outbox_db()).unwrap(), bytes);
        assert!(files_in(dir.path()).len() <= before.len());
    }

    #[test]
    fn a_schema_1_outbox_is_read_without_being_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let root = root(&dir);
        std::fs::create_dir_all(root.outbox_db().parent().unwrap()).unwrap();
        let conn = Connection::open(root.outbox_db()).unwrap();
        conn.execute_batch(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id TEXT, event_type TEXT,
                 envelope TEXT, created_at TEXT, retry_count INTEGER);
             INSERT INTO events VALUES (1, 'a', 'T', '{}', '2026-01-01T00:00:00+00:00', 0);
             INSERT INTO events VALUES (2, 'b', 'T', '{}', '2026-01-02T00:00:00+00:00', 5);",
        )
        .unwrap();
        drop(conn);
        assert_eq!(
            read(&root).unwrap(),
            Some(OutboxSummary {
                queued: 2,
                oldest: Some("2026-01-01T00:00:00+00:00".into()),
                rejected: 0,
                quarantined: 0,
            })
        );
        let conn = Connection::open(root.outbox_db()).unwrap();
        let has_state: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'state'")
            .and_then(|mut s| s.exists([]))
            .unwrap();
        assert!(!has_state, "the summary migrated the outbox");
    }

    #[test]
    fn an_outbox_that_is_not_a_database_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = root(&dir);
        std::fs::create_dir_all(root.outbox_db().parent().unwrap()).unwrap();
        std::fs::write(root.outbox_db(), vec![7u8; 4096]).unwrap();
        let e = read(&root).unwrap_err().to_string();
        assert!(e.contains(&root.outbox_db().display().to_string()), "{e}");
    }
}

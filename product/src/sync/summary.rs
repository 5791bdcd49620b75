//! A read-only summary of the outbox, for plugins (stable API): how many events wait, since
//! when, and how many were parked or quarantined. It never writes, creates or migrates anything.

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::paths::RuntimeRoot;

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
    let has_state: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'state'")
        .and_then(|mut s| s.exists([]))
        .map_err(fail)?;
    let count = |sql: &str| -> Result<u64, SummaryError> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(fail)
    };
    let (queued_where, rejected) = if has_state {
        (
            "WHERE state = 'queued'",
            count("SELECT COUNT(*) FROM events WHERE state = 'rejected'")?,
        )
    } else {
        ("", 0)
    };
    let queued = count(&format!("SELECT COUNT(*) FROM events {queued_where}"))?;
    let oldest: Option<String> = conn
        .query_row(
            &format!("SELECT created_at FROM events {queued_where} ORDER BY seq LIMIT 1"),
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(fail)?;
    let quarantined = match conn
        .prepare("SELECT 1 FROM sqlite_master WHERE name = 'quarantine'")
        .and_then(|mut s| s.exists([]))
        .map_err(fail)?
    {
        true => count("SELECT COUNT(*) FROM quarantine")?,
        false => 0,
    };
    Ok(Some(OutboxSummary {
        queued,
        oldest,
        rejected,
        quarantined,
    }))
}

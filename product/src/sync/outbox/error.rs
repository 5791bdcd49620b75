//! Every way the outbox fails, and the one mapping of a SQLite failure to it.

use std::path::{Path, PathBuf};

use super::schema::{BUSY_TIMEOUT, SCHEMA_VERSION};

/// A failure of the outbox: its directory, its file or SQLite. Every message names the file and
/// what to do about it.
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
    #[error(
        "cannot use the sync directory {path} ({source}); it must be a directory this user can write: move away whatever is there, or fix its permissions"
    )]
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
    /// process held it past `BUSY_TIMEOUT` (busy or locked), else [`Self::Sqlite`] with
    /// SQLite's own error.
    pub(super) fn from_sqlite(path: &Path, source: rusqlite::Error) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn only_a_busy_or_locked_database_is_busy() {
        let path = Path::new("/kitty/sync/outbox.sqlite3");
        for busy in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            let e = OutboxError::from_sqlite(path, failure(busy));
            assert!(matches!(e, OutboxError::Busy { .. }), "{e}");
        }
        for other in [
            rusqlite::ffi::SQLITE_CORRUPT,
            rusqlite::ffi::SQLITE_READONLY,
            rusqlite::ffi::SQLITE_FULL,
        ] {
            let e = OutboxError::from_sqlite(path, failure(other));
            assert!(matches!(e, OutboxError::Sqlite { .. }), "{e}");
        }
        let e = OutboxError::from_sqlite(path, rusqlite::Error::QueryReturnedNoRows);
        assert!(matches!(e, OutboxError::Sqlite { .. }), "{e}");
    }
}

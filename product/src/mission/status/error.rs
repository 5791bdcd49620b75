//! Why the status log could not be read or written (**interop**: the reference's reader messages,
//! which finalize and the board print as `{"error": ...}`).

use std::path::PathBuf;

/// A status failure.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// A line is not JSON.
    #[error("Invalid JSON on line {line}: {detail}")]
    InvalidJson {
        /// 1-based physical line.
        line: usize,
        /// The parser's words.
        detail: String,
    },
    /// A line is JSON but not an event the reader accepts.
    #[error("Invalid event structure on line {line}: {detail}")]
    InvalidStructure {
        /// 1-based physical line.
        line: usize,
        /// What is wrong (`'from_lane'` for a missing key, `'doing' is not a valid Lane`).
        detail: String,
    },
    /// A `kind` the reader does not know.
    #[error("Unknown event kind '{kind}' on line {line}")]
    UnknownKind {
        /// The kind.
        kind: String,
        /// 1-based physical line.
        line: usize,
    },
    /// The file could not be read or written.
    #[error("cannot {action} {}: {source}; check the file's permissions and the disk, then run the command again", path.display())]
    Io {
        /// read, write or append.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl StatusError {
    /// An I/O failure on `path`.
    pub fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The stable `error_code` kitty adds to the document.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } | Self::InvalidStructure { .. } | Self::UnknownKind { .. } => {
                "STATUS_LOG_INVALID"
            }
            Self::Io { .. } => "io_error",
        }
    }
}

//! The failures of the execution commands, each with an `error_code` (the reference's where it
//! has one) and a message that ends with the fix.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::mission::planning::PlanningError;
use crate::mission::status::StatusError;
use crate::mission::tasks::TasksError;

/// Why an execution command failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// `--status` is neither `done` nor `pending`.
    #[error("invalid status '{status}': pass --status done or --status pending")]
    InvalidStatus {
        /// As given.
        status: String,
    },
    /// The mission has no `tasks.md`.
    #[error("tasks.md not found: {}: write the mission's tasks.md (the /spec-kitty.tasks step), then run this again", path.display())]
    TasksMdMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Resolved subtasks that no work package owns.
    #[error("could not resolve the owning work package of {}: list each subtask in its WP file's `subtasks:` or under its work package's heading in tasks.md", ids.join(", "))]
    OwnerUnresolved {
        /// The ids, as given.
        ids: Vec<String>,
    },
    /// Another command holds the mission's status lock.
    #[error("another spec-kitty command is changing {slug}'s status (the lock {} stayed held): wait for it to finish, then run this again", path.display())]
    StatusLocked {
        /// The mission.
        slug: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The status log could not be read or written.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// Resolution, branch or work-package failures.
    #[error(transparent)]
    Tasks(#[from] TasksError),
    /// Resolution, branch or git failures.
    #[error(transparent)]
    Planning(#[from] PlanningError),
    /// A file or git failed underneath.
    #[error(transparent)]
    Mission(#[from] crate::mission::MissionError),
}

impl ExecError {
    /// The `error_code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidStatus { .. } => "INVALID_STATUS",
            Self::TasksMdMissing { .. } => "TASKS_MD_MISSING",
            Self::OwnerUnresolved { .. } => "SUBTASK_OWNER_UNRESOLVED",
            Self::StatusLocked { .. } => "STATUS_LOCKED",
            Self::Status(e) => e.code(),
            Self::Tasks(e) => e.code(),
            Self::Planning(e) => e.code(),
            Self::Mission(e) => e.code(),
        }
    }

    /// The exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Tasks(e) => e.exit_code(),
            Self::Planning(e) => e.exit_code(),
            _ => 1,
        }
    }

    /// Extra keys of the document.
    pub fn details(&self) -> Map<String, Value> {
        match self {
            Self::Tasks(e) => e.details(),
            Self::Planning(e) => e.details(),
            Self::Mission(e) => e.details(),
            _ => Map::new(),
        }
    }
}

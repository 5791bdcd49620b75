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
    /// `--to` names no lane.
    #[error(
        "invalid lane '{to}': pass --to one of planned, claimed, in_progress, for_review, in_review, approved, done, blocked, canceled"
    )]
    InvalidLane {
        /// As given.
        to: String,
    },
    /// The work package has no file.
    #[error(
        "work package '{wp}' not found under kitty-specs/{slug}/tasks: check the id against the mission's tasks/WPnn-*.md files"
    )]
    WpNotFound {
        /// As given.
        wp: String,
        /// The mission.
        slug: String,
    },
    /// The work package has no transition in the status log.
    #[error("{wp} has no status in {}: run `spec-kitty agent mission finalize-tasks --mission {slug}` first", dir.display())]
    Uninitialized {
        /// The work package.
        wp: String,
        /// The mission.
        slug: String,
        /// The status directory.
        dir: PathBuf,
    },
    /// Another agent holds the work package.
    #[error(
        "agent mismatch: {wp} is assigned to '{current}', not '{requested}': run it as '{current}', or pass --force to take it over"
    )]
    AgentMismatch {
        /// The work package.
        wp: String,
        /// Its agent.
        current: String,
        /// `--agent`.
        requested: String,
    },
    /// The lane machine refuses a hop (earlier hops of the move stay recorded).
    #[error(
        "{message}: check the work package's lane with `spec-kitty agent tasks status`, or pass --force with a --note saying why"
    )]
    InvalidTransition {
        /// The machine's sentence.
        message: String,
        /// The lane at the refused hop.
        current: crate::mission::status::Lane,
        /// The lane asked for.
        requested: crate::mission::status::Lane,
    },
    /// Subtasks of the package are not recorded done (the reference's sentences and commands).
    #[error("{message}")]
    SubtasksUnchecked {
        /// What is unchecked and the mark-status commands that fix it.
        message: String,
    },
    /// The package is not ready for review (the reference's guidance, with the fix).
    #[error("{message}")]
    NotReady {
        /// The guidance.
        message: String,
    },
    /// A rejection's feedback file is missing, unreadable as one, or blank (the reference's
    /// sentences).
    #[error("{message}")]
    FeedbackRefused {
        /// What is wrong with the file, and the fix.
        message: String,
    },
    /// A move to done whose lane is not merged into the target branch, with no override
    /// reason (the reference's sentences, ending with the commands that fix it).
    #[error("{message}")]
    DoneUnmerged {
        /// Why, and how to proceed.
        message: String,
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
            Self::InvalidLane { .. } => "INVALID_LANE",
            Self::WpNotFound { .. } => "WP_NOT_FOUND",
            Self::Uninitialized { .. } => "STATUS_UNINITIALIZED",
            Self::AgentMismatch { .. } => "AGENT_MISMATCH",
            Self::SubtasksUnchecked { .. } => "SUBTASKS_INCOMPLETE",
            Self::NotReady { .. } => "NOT_READY_FOR_REVIEW",
            Self::FeedbackRefused { .. } => "REVIEW_FEEDBACK_INVALID",
            Self::DoneUnmerged { .. } => "DONE_NOT_MERGED",
            Self::InvalidTransition { .. } => "invalid_transition",
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
            Self::InvalidTransition {
                current, requested, ..
            } => match serde_json::json!({
                "code": "invalid_transition",
                "current_lane": current.as_str(),
                "requested_lane": requested.as_str(),
                "verdict_durably_persisted": false,
                "evidence_ref": null,
                "destination_ref": null,
            }) {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            _ => Map::new(),
        }
    }
}

//! The execution half of a mission's lifecycle (**interop**: the reference's `agent tasks
//! mark-status` and the status surfaces it writes).
//!
//! `subtasks` (which subtask an id names, which work package owns it), `mark_status`,
//! `status_lock` (the per-mission lock shared with the reference), `error`.

pub mod acceptance_verdict;
pub mod claim;
pub mod done;
pub mod error;
pub mod fsm;
pub mod implement;
pub mod implement_lane;
pub mod implement_text;
pub mod infer;
pub mod mark_status;
pub mod move_task;
pub mod next;
pub mod place;
mod readiness;
pub mod reject;
pub mod review_claim;
pub mod review_cycle;
pub mod review_prompt;
pub mod review_ready;
pub mod status_lock;
pub mod subtasks;
pub mod transition;

pub use error::ExecError;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::PlanningError;
use crate::mission::planning::handle::{Entry, Index, read_dir};
use crate::mission::planning::project;
use crate::mission::status::reduce::is_safe_segment;
use crate::mission::tasks::TasksError;

/// The mission a command works on, and where its files are.
#[derive(Debug)]
pub struct Target {
    /// The primary checkout.
    pub root: PathBuf,
    /// The mission.
    pub entry: Entry,
    /// Where its status log is (the coordination worktree's copy for a coordinated mission).
    pub status_dir: PathBuf,
    /// The primary checkout's repository.
    pub repo: Repo,
}

/// A mission, or the reason its input is left to the reference.
#[derive(Debug)]
pub enum Found {
    /// Resolved.
    Target(Box<Target>),
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// Resolve `--mission` from `cwd` as the reference's work-package commands do: the project root,
/// the handle required, the identity ladder, a branch checked out.
pub fn target(env: &Env, cwd: &Path, mission: Option<&str>) -> Result<Found, ExecError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = project.root.clone();
    let specs = project.specs();
    let handle = mission
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(TasksError::MissionRequired)?;
    if !is_safe_segment(handle) {
        return Err(TasksError::UnsafeHandle {
            handle: handle.into(),
        }
        .into());
    }
    let index = Index::load(&specs);
    if specs.join(handle).is_dir() && !index.entries.iter().any(|e| e.slug == handle) {
        return Ok(Found::NeedsReference(format!(
            "kitty-specs/{handle} has no mission identity"
        )));
    }
    let entry = match index.lenient(&specs, handle) {
        Ok(Some(e)) => e.clone(),
        Ok(None) => {
            return Err(PlanningError::MissionNotFound {
                handle: handle.into(),
            }
            .into());
        }
        Err(PlanningError::MissionAmbiguous { .. }) => {
            return Ok(Found::NeedsReference(format!(
                "'{handle}' matches several missions"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let repo = Repo::discover(env, &root)?;
    repo.head_branch()?
        .filter(|b| !b.is_empty())
        .ok_or(PlanningError::DetachedHead)?;
    let status_dir = read_dir(&root, &entry);
    let coordinated = matches!(
        entry.meta.get("topology").and_then(Value::as_str),
        Some("coord" | "lanes_with_coord")
    );
    if coordinated && status_dir == entry.dir {
        return Ok(Found::NeedsReference(
            "the coordination worktree is not materialized".into(),
        ));
    }
    Ok(Found::Target(Box::new(Target {
        root,
        entry,
        status_dir,
        repo,
    })))
}

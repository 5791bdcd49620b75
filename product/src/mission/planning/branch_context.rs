//! `agent mission branch-context`: the branch contract for the specify and plan prompts, with
//! the primary branch and whether to start a feature branch.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::branch::{Contract, primary_branch};
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

/// The document for the working directory `cwd`; `target`: `--target-branch` as given.
pub fn branch_context(
    env: &Env,
    cwd: &Path,
    target: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    // The invoking checkout's branch (a lane worktree reports its own).
    let here = Repo::discover(env, cwd).map_err(|_| PlanningError::NotInGit {
        dir: project.root.clone(),
    })?;
    let current = here
        .branch()?
        .filter(|b| !b.is_empty())
        .ok_or(PlanningError::DetachedHead)?;
    let primary_repo = Repo::discover(env, &project.root)?;
    let primary = primary_branch(&primary_repo, true)?;
    let source = if target.is_some() {
        "cli_arg"
    } else {
        "current_branch"
    };
    let target = target
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(&current)
        .to_string();
    let mut doc = json!({
        "repo_root": project.root,
        "target_branch_source": source,
        "next_step": "Use this branch contract as it is in the specify and plan prompts; do not work the branches out again.",
    });
    let keys = Contract {
        current: &current,
        target: &target,
        matches: current == target,
        now,
        primary: Some(&primary),
    }
    .keys();
    if let Value::Object(m) = &mut doc {
        m.extend(keys);
    }
    match doc {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

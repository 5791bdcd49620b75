//! `agent context resolve`: the mission an action runs on, where its files are, and the commands
//! that come next (mission-level actions; a work package's context is the reference's).

use std::path::Path;

use serde_json::{Value, json};

use super::handle::{Index, read_dir};
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

/// Every action the reference accepts, in its order.
pub const ACTIONS: &[&str] = &[
    "specify",
    "plan",
    "analyze",
    "tasks",
    "tasks_outline",
    "tasks_packages",
    "tasks_finalize",
    "implement",
    "review",
    "accept",
    "status",
];

/// What resolving gave.
#[derive(Debug)]
pub enum Resolution {
    /// The document.
    Document(Value),
    /// A work package's context (implement, review): the reference's.
    WorkPackage,
}

/// Resolve `action` for `mission` from `cwd`.
pub fn resolve(
    env: &Env,
    cwd: &Path,
    action: &str,
    mission: Option<&str>,
) -> Result<Resolution, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    if !ACTIONS.contains(&action) {
        return Err(PlanningError::InvalidAction {
            action: action.into(),
            expected: ACTIONS,
        });
    }
    let handle = mission
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .ok_or(PlanningError::MissingMission)?;
    let index = Index::load(&project.specs());
    let entry = index.strict(handle)?;
    if matches!(action, "implement" | "review") {
        return Ok(Resolution::WorkPackage);
    }
    let feature_dir = read_dir(&project.root, entry);
    let target = target_branch(env, &project.root, &feature_dir, &entry.meta)?;
    let slug = &entry.slug;
    Ok(Resolution::Document(json!({
        "success": true,
        "action": action,
        "mission_slug": slug,
        "feature_dir": feature_dir,
        "target_branch": target,
        "detection_method": "explicit",
        "wp_id": null,
        "wp_file": null,
        "lane": null,
        "lane_id": null,
        "branch_name": null,
        "execution_mode": null,
        "resolution_kind": null,
        "dependencies": [],
        "resolved_base": null,
        "auto_merge": false,
        "workspace_path": null,
        "commands": {
            "check_prerequisites": format!("spec-kitty agent mission check-prerequisites --json --paths-only --include-tasks --mission {slug}"),
            "finalize_tasks": format!("spec-kitty agent mission finalize-tasks --mission {slug} --json"),
        },
        "warnings": [],
    })))
}

/// The mission's target branch: its read directory's meta.json, else the primary's, else the
/// repository's primary branch.
pub fn target_branch(
    env: &Env,
    root: &Path,
    feature_dir: &Path,
    primary_meta: &Value,
) -> Result<String, PlanningError> {
    let from = |meta: &Value| {
        meta.get("target_branch")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let here = std::fs::read_to_string(feature_dir.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    if let Some(t) = here.as_ref().and_then(from).or_else(|| from(primary_meta)) {
        return Ok(t);
    }
    Ok(super::branch::primary_branch(
        &Repo::discover(env, root)?,
        false,
    )?)
}

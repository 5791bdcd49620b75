//! `charter context --action A`: the governance context a prompt loads, for a project that has no
//! charter yet (**interop**: the reference's document and its `missing` mode; a project with a
//! charter, and the compact context of other actions, are the reference's to build).

use std::path::Path;

use serde_json::{Value, json};

use super::{PlanningError, project};

/// The actions whose prompts bootstrap from the charter.
const BOOTSTRAP_ACTIONS: [&str; 4] = ["specify", "plan", "implement", "review"];

/// What `charter context` gave.
#[derive(Debug)]
pub enum Context {
    /// The document.
    Document(Value),
    /// A charter, an org pack or a compact context: the reference's.
    Reference(&'static str),
}

/// The context for `action` from `cwd`.
pub fn context(cwd: &Path, action: &str) -> Result<Context, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    if !project.has_git() {
        return Err(PlanningError::NotInGit { dir: project.root });
    }
    let charter = project.root.join(".kittify/charter");
    if charter.join("charter.yaml").exists() || charter.join("charter.md").exists() {
        return Ok(Context::Reference(
            "the context of a project that has a charter",
        ));
    }
    let action = action.trim().to_lowercase();
    if !BOOTSTRAP_ACTIONS.contains(&action.as_str()) {
        return Ok(Context::Reference(
            "the compact charter context of this action",
        ));
    }
    let state = std::fs::read_to_string(charter.join("context-state.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let loaded = state
        .as_ref()
        .and_then(|s| s.get("actions"))
        .is_some_and(|a| match a {
            Value::Object(m) => m.contains_key(&action),
            Value::Array(v) => v.iter().any(|x| x == action.as_str()),
            _ => false,
        });
    let text = "Charter Context:\n  - This project has no charter yet (`.kittify/charter/charter.yaml`).\n  - Write one with `spec-kitty charter interview`, then `spec-kitty charter generate`.";
    Ok(Context::Document(json!({
        "success": true,
        "context_schema_version": "1.2.0",
        "action": action,
        "mode": "missing",
        "first_load": !loaded,
        "references_count": 0,
        "context": text,
        "text": text,
        "directives": [],
        "all_directives": [],
        "tactics": [],
        "styleguides": [],
        "toolguides": [],
        "references": [],
        "governance_references": [],
        "project_charter": {
            "present": false,
            "path": ".kittify/charter/charter.yaml",
            "charter_md_present": false,
            "charter_md_path": ".kittify/charter/charter.md",
        },
        "org_charter": {"present": false, "packs": []},
    })))
}

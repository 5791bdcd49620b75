//! Where a work package is implemented (**interop**: the reference's workspace resolution from
//! `lanes.json` and implement's workspace contexts): the repository itself for a planning
//! artifact, else its lane worktree and branch.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A work package's lane worktree, as lanes.json and implement's workspace context name it.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// `.worktrees/<slug>-<lane>`.
    pub path: PathBuf,
    /// `<mission branch>-<lane>`.
    pub branch: String,
    /// The base recorded by implement (`.kittify/workspaces/<slug>-<lane>.json`), if any.
    pub base_branch: Option<String>,
}

/// Where a work package is implemented.
#[derive(Debug, Clone)]
pub enum Place {
    /// A planning-artifact package: in the repository itself.
    RepoRoot,
    /// A lane worktree (which may not exist yet).
    Lane(Workspace),
    /// lanes.json is missing, unreadable or does not name the package.
    Unknown,
}

/// The place of `wp` in mission `slug` of the project at `root`.
pub fn place(root: &Path, fd: &Path, slug: &str, wp: &str) -> Place {
    let Some(lanes) = std::fs::read_to_string(fd.join("lanes.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return Place::Unknown;
    };
    let listed = |key: &str| {
        lanes[key]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(wp)))
    };
    if listed("planning_artifact_wps") {
        return Place::RepoRoot;
    }
    let Some(lane) = lanes["lanes"].as_array().and_then(|ls| {
        ls.iter().find(|l| {
            l["wp_ids"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(wp)))
        })
    }) else {
        return Place::Unknown;
    };
    let lane_id = lane["lane_id"].as_str().unwrap_or_default();
    let mission_branch = lanes["mission_branch"]
        .as_str()
        .map_or_else(|| format!("kitty/mission-{slug}"), str::to_string);
    let context: Option<Value> =
        std::fs::read_to_string(crate::paths::workspace_context(root, slug, lane_id))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
    Place::Lane(Workspace {
        path: root.join(".worktrees").join(format!("{slug}-{lane_id}")),
        branch: format!("{mission_branch}-{lane_id}"),
        base_branch: context
            .as_ref()
            .and_then(|c| c["base_branch"].as_str())
            .filter(|b| !b.is_empty())
            .map(str::to_string),
    })
}

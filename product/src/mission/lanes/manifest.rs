//! `lanes.json` (**interop**: the reference's keys in its order, two-space indent, ASCII
//! escapes; the collapse report only when something collapsed), written whole or not at all.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::compute::{Lane, Lanes};

/// The file's name inside a mission directory.
pub const FILE: &str = "lanes.json";

/// The file's content.
#[derive(Debug, Clone, Serialize)]
pub struct LanesFile<'a> {
    /// Always 1.
    pub version: u32,
    /// The mission's directory name.
    pub mission_slug: &'a str,
    /// meta.json's mission_id.
    pub mission_id: Option<&'a str>,
    /// `kitty/mission-<name>-<mid8>`.
    pub mission_branch: String,
    /// The planning branch.
    pub target_branch: &'a str,
    /// The lanes.
    pub lanes: &'a [Lane],
    /// When (Python isoformat).
    pub computed_at: String,
    /// Constant.
    pub computed_from: &'static str,
    /// Work packages of the planning lane.
    pub planning_artifact_wps: &'a [String],
    /// The planning branch's tip the lanes were computed from.
    pub planning_commit_sha: Option<&'a str>,
    /// Present only when something collapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collapse_report: Option<Value>,
}

/// `kitty/mission-<slug without NNN- and -<mid8>>-<mid8>`, or `kitty/mission-<slug>`.
pub fn mission_branch(slug: &str, mission_id: Option<&str>) -> String {
    match mission_id.filter(|id| id.len() >= 8) {
        Some(id) => {
            let mid8 = &id[..8];
            let base = crate::mission::planning::handle::strip_numeric_prefix(slug);
            let base = base.strip_suffix(&format!("-{mid8}")).unwrap_or(base);
            format!("kitty/mission-{base}-{mid8}")
        }
        None => format!("kitty/mission-{slug}"),
    }
}

impl<'a> LanesFile<'a> {
    /// The file for `lanes`.
    pub fn new(
        slug: &'a str,
        mission_id: Option<&'a str>,
        target: &'a str,
        lanes: &'a Lanes,
        computed_at: String,
        planning_commit_sha: Option<&'a str>,
    ) -> Self {
        Self {
            version: 1,
            mission_slug: slug,
            mission_id,
            mission_branch: mission_branch(slug, mission_id),
            target_branch: target,
            lanes: &lanes.lanes,
            computed_at,
            computed_from: "dependency_graph+ownership",
            planning_artifact_wps: &lanes.planning_artifact_wps,
            planning_commit_sha,
            collapse_report: (!lanes.merges.is_empty()).then(|| lanes.collapse_report()),
        }
    }

    /// The bytes.
    pub fn render(&self) -> String {
        crate::pyfmt::to_python_json_pretty(self).unwrap_or_default() + "\n"
    }
}

/// The `planning_commit_sha` of an existing `lanes.json` in `dir` (`Ok(None)`: no file).
pub fn recorded_sha(dir: &Path) -> Result<Option<Option<String>>, String> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not valid JSON ({e}): fix or delete it",
            path.display()
        )
    })?;
    Ok(Some(
        v.get("planning_commit_sha")
            .and_then(Value::as_str)
            .map(str::to_string),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mission_branch_drops_the_number_and_keeps_one_mid8() {
        assert_eq!(
            mission_branch("greeting-cli-01M913C6", Some("01M913C6BV0FMKRDXDW24JT45V")),
            "kitty/mission-greeting-cli-01M913C6"
        );
        assert_eq!(
            mission_branch("007-x", Some("01M913C6BV0FMKRDXDW24JT45V")),
            "kitty/mission-x-01M913C6"
        );
        assert_eq!(mission_branch("x", None), "kitty/mission-x");
    }
}

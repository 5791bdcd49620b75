//! A mission's `meta.json` (**interop**: the reference's mission metadata: sorted keys, two-space
//! indent, UTF-8 kept, trailing newline). Its timestamp shapes are [`crate::pyfmt`]'s.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The create-time shape of a mission (`--topology`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// One branch, no coordination branch.
    #[value(name = "single_branch")]
    SingleBranch,
    /// Lanes, no coordination branch.
    #[value(name = "lanes")]
    Lanes,
    /// A coordination branch `kitty/mission-<dir>`.
    #[value(name = "coord")]
    Coord,
    /// Lanes and a coordination branch.
    #[value(name = "lanes_with_coord")]
    LanesWithCoord,
}

impl Topology {
    /// The value stored in `meta.json` and reported as `topology`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SingleBranch => "single_branch",
            Self::Lanes => "lanes",
            Self::Coord => "coord",
            Self::LanesWithCoord => "lanes_with_coord",
        }
    }

    /// Whether this shape has a coordination branch.
    pub fn has_coordination_branch(self) -> bool {
        matches!(self, Self::Coord | Self::LanesWithCoord)
    }
}

/// A mission's `meta.json`, typed: what a create writes, and what kitty reads from any mission
/// (the reference's, or kitty 0.1's, which lack some keys). A key absent from the file stays absent
/// when it is written back; keys kitty does not model are kept in `extra`, so a rewrite loses
/// nothing. Written with sorted keys (see [`MissionMeta::to_json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissionMeta {
    /// The mission's ULID (26 Crockford base-32 characters).
    pub mission_id: String,
    /// The mission directory name (`<slug>-<mid8>`), or kitty 0.1's bare slug.
    pub mission_slug: String,
    /// The mission type, one of the project's activated types (`software-dev`, ...).
    pub mission_type: String,
    /// `null` in every mission the 3.x reference creates; older missions carry a number or a
    /// string, kept as found. `None`: the key is absent.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub mission_number: Option<Value>,
    /// The reference's legacy alias of `mission_slug` (the same directory name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// The display name (whitespace-normalized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// One line: why the mission exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_tldr: Option<String>,
    /// A paragraph of context for the purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_context: Option<String>,
    /// The planning branch, where the mission's work merges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_branch: Option<String>,
    /// Creation time, Python `isoformat()` (`2026-11-29T10:35:31.295291+00:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// `true` when the mission merges through a pull request (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_bound: Option<bool>,
    /// `true` when merge keeps the lane branches (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_branches: Option<bool>,
    /// `true` when merge keeps the lane worktrees (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_worktrees: Option<bool>,
    /// `kitty/mission-<dir>`, for the topologies that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordination_branch: Option<String>,
    /// The topology's `--topology` value (`single_branch`, `lanes`, `coord`, `lanes_with_coord`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<String>,
    /// Whether the mission's lanes were flattened into one branch (`false` at create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flattened: Option<bool>,
    /// The documentation mission type's state (only that type has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_state: Option<DocumentationState>,
    /// Every key kitty does not model, as found.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `documentation_state` of a documentation mission, as the reference starts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentationState {
    /// `initial` at create.
    pub iteration_mode: String,
    /// Divio documentation types chosen so far (none at create).
    pub divio_types_selected: Vec<Value>,
    /// Documentation generators configured so far (none at create).
    pub generators_configured: Vec<Value>,
    /// `developers` at create.
    pub target_audience: String,
    /// ISO date of the last audit; `null` before the first.
    pub last_audit_date: Option<String>,
    /// Percent documented, `0.0` at create.
    pub coverage_percentage: f64,
    /// Every key kitty does not model, as found.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DocumentationState {
    /// The state a documentation mission starts with.
    pub fn initial() -> Self {
        Self {
            iteration_mode: "initial".into(),
            divio_types_selected: Vec::new(),
            generators_configured: Vec::new(),
            target_audience: "developers".into(),
            last_audit_date: None,
            coverage_percentage: 0.0,
            extra: Map::new(),
        }
    }
}

/// A key that is present deserializes to `Some`, even when its value is `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl MissionMeta {
    /// The `meta.json` text: sorted keys (nested ones too), two-space indent, non-ASCII kept,
    /// trailing newline, as the reference writes it.
    pub fn to_json(&self) -> String {
        // serde_json's map is ordered by key, like `sort_keys=True`.
        serde_json::to_value(self)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_default()
            + "\n"
    }
}

#[cfg(test)]
mod meta_tests {
    use super::*;

    #[test]
    fn a_meta_written_by_another_tool_is_written_back_byte_for_byte() {
        // Keys kitty does not model, a `null` mission number, a nested unknown key, non-ASCII.
        let text = r#"{
  "accepted_at": "2026-11-30T09:00:00+00:00",
  "created_at": "2026-11-29T10:35:31.295291+00:00",
  "documentation_state": {
    "coverage_percentage": 12.5,
    "divio_types_selected": [
      "tutorial"
    ],
    "generators_configured": [],
    "iteration_mode": "initial",
    "last_audit_date": null,
    "sections": 3,
    "target_audience": "developers"
  },
  "friendly_name": "Añadir inicio",
  "mission_id": "01KB0Q8B3X9R8W2YV3Q8Z7M5T4",
  "mission_number": null,
  "mission_slug": "demo-01KB0Q8B",
  "mission_type": "documentation",
  "vcs": "git"
}
"#;
        let meta: MissionMeta = serde_json::from_str(text).unwrap();
        assert_eq!(meta.mission_number, Some(Value::Null));
        assert_eq!(meta.extra.len(), 2, "{:?}", meta.extra);
        assert_eq!(meta.to_json(), text);
    }

    #[test]
    fn an_absent_key_stays_absent() {
        let text = "{\n  \"mission_id\": \"m\",\n  \"mission_slug\": \"s\",\n  \"mission_type\": \"t\"\n}\n";
        let meta: MissionMeta = serde_json::from_str(text).unwrap();
        assert_eq!(
            (meta.mission_number.as_ref(), meta.topology.as_ref()),
            (None, None)
        );
        assert_eq!(meta.to_json(), text);
    }
}

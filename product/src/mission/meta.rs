//! A mission's `meta.json` (**interop**: the reference's mission metadata: sorted keys, two-space
//! indent, UTF-8 kept, trailing newline). Its timestamp shapes are [`crate::pyfmt`]'s.

use serde::{Deserialize, Serialize};

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

/// The fields kitty reads from any mission's `meta.json` (the reference's or kitty 0.1's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissionMeta {
    /// ULID.
    pub mission_id: String,
    /// The mission directory name (`<slug>-<mid8>`), or kitty 0.1's bare slug.
    pub mission_slug: String,
    /// Type.
    pub mission_type: String,
    /// Display name.
    #[serde(default)]
    pub friendly_name: String,
    /// When (ISO 8601).
    #[serde(default)]
    pub created_at: String,
    /// The planning branch.
    #[serde(default)]
    pub target_branch: Option<String>,
    /// The topology.
    #[serde(default)]
    pub topology: Option<String>,
}

/// `meta.json` text: sorted keys, two-space indent, non-ASCII kept, trailing newline.
pub fn meta_json(meta: &serde_json::Map<String, serde_json::Value>) -> String {
    // serde_json's map is ordered by key, like `sort_keys=True`.
    serde_json::to_string_pretty(meta).unwrap_or_default() + "\n"
}

//! A mission's `meta.json` (**interop**: the reference's mission metadata: sorted keys, two-space
//! indent, UTF-8 kept, trailing newline) and the timestamp shapes the reference writes.

use chrono::{DateTime, SecondsFormat, Utc};
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

/// Python's `datetime.isoformat()` of a UTC time: `2026-11-29T10:35:31.295291+00:00`, without the
/// fraction when it is zero.
///
/// ```
/// use spec_kitty::internals::mission::meta::py_isoformat;
/// let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:35:31.295291Z").unwrap().to_utc();
/// assert_eq!(py_isoformat(t), "2026-11-29T10:35:31.295291+00:00");
/// let t = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:35:31Z").unwrap().to_utc();
/// assert_eq!(py_isoformat(t), "2026-11-29T10:35:31+00:00");
/// ```
pub fn py_isoformat(t: DateTime<Utc>) -> String {
    let format = if t.timestamp_subsec_micros() == 0 {
        SecondsFormat::Secs
    } else {
        SecondsFormat::Micros
    };
    t.to_rfc3339_opts(format, false)
}

/// `py_isoformat` with `Z` for the offset (the reference's event `at` fields).
pub fn py_isoformat_z(t: DateTime<Utc>) -> String {
    let s = py_isoformat(t);
    s.strip_suffix("+00:00")
        .map(|b| format!("{b}Z"))
        .unwrap_or(s)
}

/// Whole seconds with `Z` (`runtime_vars.now_utc_iso`).
pub fn utc_seconds_z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `meta.json` text: sorted keys, two-space indent, non-ASCII kept, trailing newline.
pub fn meta_json(meta: &serde_json::Map<String, serde_json::Value>) -> String {
    // serde_json's map is ordered by key, like `sort_keys=True`.
    serde_json::to_string_pretty(meta).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod isoformat_tests {
    use super::*;
    use crate::clock::at;

    #[test]
    fn timestamps_are_written_as_python_isoformat() {
        for (t, plain, z) in [
            (
                "2026-11-29T10:35:31.295291Z",
                "2026-11-29T10:35:31.295291+00:00",
                "2026-11-29T10:35:31.295291Z",
            ),
            (
                "2026-11-29T10:35:31.000001Z",
                "2026-11-29T10:35:31.000001+00:00",
                "2026-11-29T10:35:31.000001Z",
            ),
            (
                "2026-11-29T10:35:31.5Z",
                "2026-11-29T10:35:31.500000+00:00",
                "2026-11-29T10:35:31.500000Z",
            ),
            (
                "2026-11-29T10:35:31Z",
                "2026-11-29T10:35:31+00:00",
                "2026-11-29T10:35:31Z",
            ),
            // Below a microsecond Python has nothing to show.
            (
                "2026-11-29T10:35:31.000000500Z",
                "2026-11-29T10:35:31+00:00",
                "2026-11-29T10:35:31Z",
            ),
        ] {
            assert_eq!(py_isoformat(at(t)), plain, "{t}");
            assert_eq!(py_isoformat_z(at(t)), z, "{t}");
        }
    }

    #[test]
    fn now_utc_iso_is_whole_seconds_with_z() {
        assert_eq!(
            utc_seconds_z(at("2026-11-29T10:35:31.999999Z")),
            "2026-11-29T10:35:31Z"
        );
    }
}

//! `mission list`: the mission types and which the project activated (**interop**: the
//! reference's rows — activated types first, then the rest, each group by id).

use std::path::Path;

use serde_json::{Value, json};

use super::PlanningError;
use crate::mission::project_config::ProjectConfig;

/// The built-in mission types: id, display name, action sequence.
pub const BUILT_IN: [(&str, &str, &[&str]); 4] = [
    (
        "documentation",
        "Documentation",
        &[
            "discover", "audit", "design", "generate", "validate", "publish", "accept",
        ],
    ),
    ("plan", "Plan", &["specify", "research", "plan", "review"]),
    (
        "research",
        "Research",
        &["scoping", "methodology", "gathering", "synthesis", "output"],
    ),
    (
        "software-dev",
        "Software Development",
        &["specify", "plan", "tasks", "implement", "review"],
    ),
];

/// Why kitty leaves a listing to the reference.
#[derive(Debug, PartialEq, Eq)]
pub enum Listing {
    /// The rows.
    Rows(Value),
    /// The project defines its own mission types (`.kittify/missions/mission_types/`), which
    /// only the reference reads.
    ProjectTypes,
}

/// The rows for the project whose `.kittify/config.yaml` is in `dir` (the working directory, as
/// the reference reads it: not the repository root).
pub fn list(dir: &Path) -> Result<Listing, PlanningError> {
    if dir.join(".kittify/missions/mission_types").is_dir() {
        return Ok(Listing::ProjectTypes);
    }
    let path = crate::mission::project_config::config_path(dir);
    let mut activated = match std::fs::read_to_string(&path) {
        Ok(text) => ProjectConfig::parse(&path, &text)?.mission_types(),
        Err(_) => Vec::new(),
    };
    activated.sort();
    activated.dedup();
    if let Some(unknown) = activated
        .iter()
        .find(|id| !BUILT_IN.iter().any(|(b, _, _)| b == id))
    {
        return Err(PlanningError::UnknownMissionType {
            mission_type: unknown.clone(),
        });
    }
    let row = |(id, name, steps): &(&str, &str, &[&str]), on: bool| {
        json!({
            "id": id,
            "source_layer": "built-in",
            "display_name": name,
            "action_sequence": if on { json!(steps) } else { json!("(not activated)") },
            "activated": on,
        })
    };
    let on = BUILT_IN
        .iter()
        .filter(|b| activated.iter().any(|a| a == b.0));
    let off = BUILT_IN
        .iter()
        .filter(|b| !activated.iter().any(|a| a == b.0));
    let rows: Vec<Value> = on
        .map(|b| row(b, true))
        .chain(off.map(|b| row(b, false)))
        .collect();
    Ok(Listing::Rows(Value::Array(rows)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(l: Listing) -> Vec<(String, bool)> {
        match l {
            Listing::Rows(Value::Array(rows)) => rows
                .iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_string(),
                        r["activated"].as_bool().unwrap(),
                    )
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn activated_types_come_first_then_the_others_each_by_id() {
        let t = tempfile::tempdir().unwrap();
        assert!(ids(list(t.path()).unwrap()).iter().all(|(_, on)| !on));
        std::fs::create_dir_all(t.path().join(".kittify")).unwrap();
        std::fs::write(
            t.path().join(".kittify/config.yaml"),
            "mission_type_activations: [software-dev, plan, research]\n",
        )
        .unwrap();
        let got = ids(list(t.path()).unwrap());
        let want = [
            ("plan", true),
            ("research", true),
            ("software-dev", true),
            ("documentation", false),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b)));
        std::fs::write(
            t.path().join(".kittify/config.yaml"),
            "mission_type_activations: [x]\n",
        )
        .unwrap();
        assert!(matches!(
            list(t.path()),
            Err(PlanningError::UnknownMissionType { .. })
        ));
        std::fs::create_dir_all(t.path().join(".kittify/missions/mission_types")).unwrap();
        assert_eq!(list(t.path()).unwrap(), Listing::ProjectTypes);
    }
}

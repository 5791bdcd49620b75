//! `agent mission check-prerequisites --resume-probe --mission <slug>`: whether a mission the
//! specify prompt is about to create already exists, whole or partly (**interop**: the
//! reference's states `not_found`, `found`, `existing`, `malformed`, `ambiguous`).

use std::path::Path;

use serde_json::{Map, Value, json};

use super::handle::{Index, Resolved, strip_numeric_prefix, without_mid8};
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

const TEXT_FIELDS: [&str; 10] = [
    "mission_id",
    "slug",
    "mission_slug",
    "mission_type",
    "friendly_name",
    "purpose_tldr",
    "purpose_context",
    "target_branch",
    "topology",
    "created_at",
];
const TOPOLOGIES: [&str; 4] = ["single_branch", "lanes", "coord", "lanes_with_coord"];

fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes().next().is_some_and(|b| b <= b'7')
        && s.chars()
            .all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c)))
}

fn is_aware_iso(s: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Every problem with a mission's identity in its `meta.json`.
fn integrity(dir_name: &str, meta: Option<&Value>) -> Vec<String> {
    let Some(meta) = meta.filter(|m| m.is_object()) else {
        return vec!["meta.json is missing or unreadable".into()];
    };
    let mut problems = Vec::new();
    let text = |k: &str| {
        meta.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    for k in TEXT_FIELDS {
        if text(k).is_none() {
            problems.push(format!("meta.json field '{k}' must be a non-empty string"));
        }
    }
    for k in ["slug", "mission_slug"] {
        if let Some(v) = text(k).filter(|v| *v != dir_name) {
            problems.push(format!(
                "meta.json field '{k}' is '{v}', not the directory name '{dir_name}'"
            ));
        }
    }
    if meta.get("pr_bound").is_some_and(|v| !v.is_boolean()) {
        problems.push("meta.json field 'pr_bound' must be a boolean".into());
    }
    match meta.get("mission_number") {
        None => problems.push("meta.json field 'mission_number' is missing".into()),
        Some(Value::Null) => {}
        Some(v) if v.as_u64().is_some_and(|n| n >= 1) => {}
        Some(_) => problems
            .push("meta.json field 'mission_number' must be null or a positive integer".into()),
    }
    if let Some(id) = text("mission_id").filter(|id| !is_ulid(id)) {
        problems.push(format!("mission_id '{id}' is not a canonical ULID"));
    }
    if let Some(t) = text("created_at").filter(|t| !is_aware_iso(t)) {
        problems.push(format!("created_at '{t}' is not an ISO time with a zone"));
    }
    if let Some(t) = text("topology").filter(|t| !TOPOLOGIES.contains(t)) {
        problems.push(format!("topology '{t}' is not a known topology"));
    }
    if meta.get("mission_number").is_some_and(Value::is_null) {
        let tail = dir_name.rsplit_once('-').map(|(_, t)| t);
        let id = text("mission_id").unwrap_or_default();
        if without_mid8(dir_name).is_none() || tail.is_some_and(|t| !id.starts_with(t)) {
            problems.push(format!(
                "the directory name '{dir_name}' does not end with the first 8 characters of mission_id"
            ));
        }
    }
    problems
}

/// Problems with the mission's creation record: spec.md, one MissionCreated matching meta.json.
fn scaffold_problems(dir: &Path, meta: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap_or_default();
    let created: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event_type"] == "MissionCreated")
        .collect();
    match created.as_slice() {
        [] => problems.push("status.events.jsonl has no MissionCreated event".into()),
        [e] => {
            let p = &e["payload"];
            let same = |k: &str| p.get(k) == meta.get(k);
            let fields = [
                "mission_id",
                "mission_slug",
                "mission_type",
                "friendly_name",
                "purpose_tldr",
                "purpose_context",
                "target_branch",
                "created_at",
            ];
            if e["aggregate_id"] != meta["mission_id"]
                || e["schema_version"] != "5.0.0"
                || !e["timestamp"].as_str().is_some_and(is_aware_iso)
                || p["wp_count"] != 0
                || !p["mission_number"].is_null()
                || !fields.iter().all(|k| same(k))
            {
                problems.push("the MissionCreated event does not match meta.json".into());
            }
        }
        _ => problems.push("status.events.jsonl has more than one MissionCreated event".into()),
    }
    problems
}

fn strip_both(name: &str) -> &str {
    let n = without_mid8(name).unwrap_or(name);
    strip_numeric_prefix(n)
}

/// The probe's document: `Ok` for `not_found` and `found` (exit 0), else the failure (exit 1).
pub fn probe(env: &Env, cwd: &Path, handle: &str) -> Result<Map<String, Value>, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    super::handle::check_segment(handle)?;
    let specs = project.specs();
    let index = Index::load(&specs);
    let mut names: Vec<String> = match index.resolve(handle) {
        Resolved::One(e) => vec![e.slug.clone()],
        Resolved::Ambiguous(v) => v.iter().map(|e| e.slug.clone()).collect(),
        Resolved::NotFound => Vec::new(),
    };
    let mut dirs: Vec<String> = std::fs::read_dir(&specs)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    for d in &dirs {
        let fold = without_mid8(handle).is_none() && strip_both(d) == strip_both(handle);
        if (d == handle || fold) && !names.contains(d) {
            names.push(d.clone());
        }
    }
    names.sort();
    let read = |name: &str| {
        std::fs::read_to_string(specs.join(name).join("meta.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    };
    match names.as_slice() {
        [] => Ok(obj(
            json!({"result": "success", "resume_state": "not_found", "handle": handle}),
        )),
        [name] => {
            let dir = specs.join(name);
            let meta = read(name);
            let mut warnings = integrity(name, meta.as_ref());
            if !dir.join("spec.md").is_file() {
                warnings.push("spec.md is missing".into());
            }
            let meta = meta.unwrap_or(Value::Null);
            let s = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
            let mut identity = obj(json!({
                "handle": handle,
                "mission_id": s("mission_id"),
                "mission_slug": name,
                "mission_type": s("mission_type"),
                "friendly_name": s("friendly_name"),
                "purpose_tldr": s("purpose_tldr"),
                "purpose_context": s("purpose_context"),
                "target_branch": s("target_branch"),
                "topology": s("topology"),
                "pr_bound": meta.get("pr_bound").and_then(Value::as_bool).unwrap_or(false),
                "created_at": s("created_at"),
                "feature_dir": dir,
                "spec_file": dir.join("spec.md"),
                "meta_file": dir.join("meta.json"),
            }));
            if let Some(n) = meta
                .get("mission_number")
                .and_then(Value::as_u64)
                .filter(|n| *n >= 1)
            {
                identity.insert("resume_state".into(), "existing".into());
                identity.insert("mission_number".into(), n.into());
                identity.insert("integrity_warnings".into(), json!(warnings));
                identity.insert(
                    "remediation".into(),
                    "Continue this mission (run the next phase on it); do not create another."
                        .into(),
                );
                return Err(PlanningError::Resume {
                    code: "MISSION_RESUME_EXISTING",
                    message: format!(
                        "mission '{name}' already exists (number {n}): continue it, do not create another"
                    ),
                    details: identity,
                });
            }
            let mut problems = warnings;
            problems.extend(scaffold_problems(&dir, &meta));
            if !problems.is_empty() {
                return Err(PlanningError::Resume {
                    code: "MISSION_RESUME_MALFORMED",
                    message: format!(
                        "the scaffold of mission '{name}' is incomplete or malformed: repair or remove it explicitly; do not create through it"
                    ),
                    details: obj(json!({
                        "resume_state": "malformed",
                        "handle": handle,
                        "mission_slug": name,
                        "feature_dir": dir,
                        "problems": problems,
                        "remediation": "Repair the scaffold (restore what is listed) or remove it explicitly; do not create through it.",
                    })),
                });
            }
            let repo = Repo::discover(env, &project.root)?;
            let rel = format!("kitty-specs/{name}/spec.md");
            let substantive = repo.committed(&rel)?
                && (meta["mission_type"] != "software-dev"
                    || std::fs::read_to_string(dir.join("spec.md"))
                        .is_ok_and(|t| super::gate::spec_is_substantive(&t)));
            let mut doc = obj(json!({"result": "success", "resume_state": "found"}));
            doc.extend(identity);
            doc.insert("spec_committed_and_substantive".into(), substantive.into());
            Ok(doc)
        }
        several => Err(PlanningError::Resume {
            code: "MISSION_RESUME_AMBIGUOUS",
            message: format!(
                "'{handle}' matches {} existing or partial missions: pick one by its full mission_slug or mission_id; do not create another",
                several.len()
            ),
            details: obj(json!({
                "resume_state": "ambiguous",
                "handle": handle,
                "candidates": several.iter().map(|n| {
                    let meta = read(n).unwrap_or(Value::Null);
                    json!({"mission_slug": n, "mission_id": meta.get("mission_id").cloned().unwrap_or(Value::Null), "feature_dir": specs.join(n)})
                }).collect::<Vec<_>>(),
                "remediation": "Pick one candidate by its exact mission_slug or mission_id; do not create another mission.",
            })),
        }),
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_mission_has_no_integrity_problem_and_each_break_is_named() {
        let meta = json!({
            "mission_id": "01M913C6BV0FMKRDXDW24JT45V", "slug": "demo-01M913C6",
            "mission_slug": "demo-01M913C6", "mission_type": "software-dev",
            "friendly_name": "Demo", "purpose_tldr": "t", "purpose_context": "c",
            "target_branch": "main", "topology": "single_branch",
            "created_at": "2026-12-04T10:00:00.000001+00:00", "mission_number": null,
        });
        assert!(integrity("demo-01M913C6", Some(&meta)).is_empty());
        let mut bad = meta.clone();
        bad["topology"] = "star".into();
        bad["pr_bound"] = "yes".into();
        bad["created_at"] = "2026-12-04T10:00:00".into();
        assert_eq!(integrity("demo-01M913C6", Some(&bad)).len(), 3);
        assert_eq!(integrity("demo-01ABCDEF", Some(&meta)).len(), 3);
        assert_eq!(integrity("x", None), ["meta.json is missing or unreadable"]);
        assert!(is_ulid("01M913C6BV0FMKRDXDW24JT45V") && !is_ulid("81M913C6BV0FMKRDXDW24JT45V"));
    }
}

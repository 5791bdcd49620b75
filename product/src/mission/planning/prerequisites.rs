//! `agent mission check-prerequisites`: which of a mission's planning files exist, in the
//! reference's inventory (paths, artifact files and directories, available documents).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::branch::Contract;
use super::handle::Index;
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

/// The files and directories each mission type writes (the reference's `mission.yaml`
/// artifacts, required then optional; a trailing `/` marks a directory).
fn writer_artifacts(mission_type: &str) -> &'static [&'static str] {
    match mission_type {
        "documentation" => &[
            "spec.md",
            "plan.md",
            "tasks.md",
            "gap-analysis.md",
            "divio-templates/",
            "generator-configs/",
            "audit-report.md",
            "research.md",
            "data-model.md",
            "quickstart.md",
            "release.md",
        ],
        "research" => &[
            "spec.md",
            "plan.md",
            "tasks.md",
            "findings.md",
            "sources/",
            "data/",
            "analysis/",
            "literature-review.md",
            "methodology.md",
            "synthesis.md",
        ],
        "plan" => &["goals.md", "plan.md", "research.md", "data/"],
        _ => &[
            "spec.md",
            "plan.md",
            "tasks.md",
            "data-model.md",
            "contracts/",
            "quickstart.md",
            "research.md",
            "checklists/",
        ],
    }
}

/// `data-model.md` → `data_model_file`, `contracts/` → `contracts_dir`.
fn inventory_key(name: &str, suffix: &str) -> String {
    let stem = match name.strip_suffix('/') {
        Some(dir) => dir,
        None => name.rsplit_once('.').map_or(name, |(s, _)| s),
    };
    let mut key = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    format!("{}_{suffix}", key.trim_matches('_'))
}

/// The reference's structure check of a mission directory.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Missing required files.
    pub errors: Vec<String>,
    /// Missing recommended directories.
    pub warnings: Vec<String>,
    /// Every path found, in the reference's order.
    pub paths: Vec<(String, PathBuf)>,
    /// The files among them.
    pub files: Vec<(String, PathBuf)>,
    /// The directories among them.
    pub dirs: Vec<(String, PathBuf)>,
    /// The file names present, sorted.
    pub docs: Vec<String>,
}

fn put(list: &mut Vec<(String, PathBuf)>, key: &str, path: &Path) {
    if !list.iter().any(|(k, _)| k == key) {
        list.push((key.to_string(), path.to_path_buf()));
    }
}

/// Inventory `dir`, a mission of type `mission_type`; `tasks`: tasks.md is required.
pub fn inventory(dir: &Path, mission_type: &str, tasks: bool) -> Inventory {
    let mut inv = Inventory::default();
    let file = |inv: &mut Inventory, key: &str, name: &str| {
        let path = dir.join(name);
        put(&mut inv.paths, key, &path);
        put(&mut inv.files, key, &path);
        inv.docs.push(name.to_string());
    };
    if dir.join("spec.md").exists() {
        file(&mut inv, "spec_file", "spec.md");
    } else {
        inv.errors.push("Missing required file: spec.md".into());
    }
    if dir.join("plan.md").exists() {
        file(&mut inv, "plan_file", "plan.md");
    }
    for d in ["checklists", "research", "tasks"] {
        if !dir.join(d).exists() {
            inv.warnings
                .push(format!("Missing recommended directory: {d}/"));
        }
    }
    for d in ["checklists", "tasks"] {
        let path = dir.join(d);
        if path.exists() {
            put(&mut inv.paths, &format!("{d}_dir"), &path);
            put(&mut inv.dirs, &format!("{d}_dir"), &path);
        }
    }
    if dir.join("tasks.md").exists() {
        file(&mut inv, "tasks_file", "tasks.md");
    } else if tasks {
        inv.errors.push("Missing required file: tasks.md".into());
    }
    put(&mut inv.paths, "feature_dir", dir);
    put(&mut inv.dirs, "feature_dir", dir);
    let artifacts = writer_artifacts(mission_type);
    for name in artifacts.iter().filter(|n| !n.ends_with('/')) {
        if dir.join(name).is_file() {
            let key = inventory_key(name, "file");
            let path = dir.join(name);
            put(&mut inv.paths, &key, &path);
            put(&mut inv.files, &key, &path);
            inv.docs.push((*name).to_string());
        }
    }
    for name in artifacts.iter().filter(|n| n.ends_with('/')) {
        let path = dir.join(name.trim_end_matches('/'));
        if path.is_dir() {
            let key = inventory_key(name, "dir");
            put(&mut inv.paths, &key, &path);
            put(&mut inv.dirs, &key, &path);
        }
    }
    inv.docs.sort();
    inv.docs.dedup();
    inv
}

fn object(pairs: &[(String, PathBuf)]) -> Value {
    Value::Object(pairs.iter().map(|(k, p)| (k.clone(), json!(p))).collect())
}

/// What was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--paths-only`.
    pub paths_only: bool,
    /// `--include-tasks` (or its old name `--require-tasks`).
    pub include_tasks: bool,
    /// `--json` (it shows in the example command of a detection error).
    pub json: bool,
}

/// The mission directory `handle` names for check-prerequisites (the primary checkout's).
pub(super) fn mission_dir(
    root: &Path,
    index: &Index,
    handle: &str,
) -> Result<Option<(PathBuf, Value)>, PlanningError> {
    let specs = root.join("kitty-specs");
    let literal = specs.join(handle);
    if super::handle::check_segment(handle).is_ok() && literal.is_dir() {
        let meta = std::fs::read_to_string(literal.join("meta.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        return Ok(Some((literal, meta)));
    }
    Ok(index
        .lenient(&specs, handle)?
        .map(|e| (e.dir.clone(), e.meta.clone())))
}

/// The check-prerequisites document.
pub fn check(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Map<String, Value>, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let index = Index::load(&project.specs());
    let found = match req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(handle) => mission_dir(&project.root, &index, handle).or_else(|e| match e {
            PlanningError::MissionAmbiguous { .. } => Ok(None),
            other => Err(other),
        })?,
        None => None,
    };
    let Some((dir, meta)) = found else {
        let mut flags = Vec::new();
        for (on, flag) in [
            (req.json, "--json"),
            (req.paths_only, "--paths-only"),
            (req.include_tasks, "--include-tasks"),
        ] {
            if on {
                flags.push(flag);
            }
        }
        let first = index.candidates.first().cloned().unwrap_or_default();
        return Err(PlanningError::ContextUnresolved {
            code: "FEATURE_CONTEXT_UNRESOLVED",
            mission_flag: req.mission.clone(),
            available: index.candidates.clone(),
            example: format!(
                "spec-kitty agent mission check-prerequisites --mission {first} {}",
                flags.join(" ")
            )
            .trim_end()
            .to_string(),
        });
    };
    let mission_type = meta
        .get("mission_type")
        .and_then(Value::as_str)
        .unwrap_or("software-dev");
    let inv = inventory(&dir, mission_type, req.include_tasks);
    let primary = Repo::discover(env, &project.root)?;
    let current_primary = primary.branch().ok().flatten();
    let target = meta
        .get("target_branch")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| current_primary.clone())
        .unwrap_or_else(|| "main".into());
    let current = current_primary.unwrap_or_else(|| target.clone());
    let mut doc = Map::new();
    let get = |k: &str| {
        inv.paths
            .iter()
            .find(|(key, _)| key == k)
            .map_or(json!(""), |(_, p)| json!(p))
    };
    if req.paths_only {
        for (k, p) in &inv.paths {
            doc.insert(k.clone(), json!(p));
        }
        doc.insert("artifact_files".into(), object(&inv.files));
        doc.insert("artifact_dirs".into(), object(&inv.dirs));
        doc.insert("available_docs".into(), json!(inv.docs));
        doc.insert("FEATURE_DIR".into(), json!(dir));
        doc.insert("SPEC_FILE".into(), get("spec_file"));
        doc.insert("PLAN_FILE".into(), get("plan_file"));
        doc.insert("TASKS_FILE".into(), get("tasks_file"));
        doc.insert("FEATURE_SPEC".into(), get("spec_file"));
        doc.insert("IMPL_PLAN".into(), get("plan_file"));
        doc.insert("TASKS".into(), get("tasks_file"));
        doc.insert("SPECS_DIR".into(), json!(dir.parent().unwrap_or(&dir)));
    } else {
        doc.insert("valid".into(), json!(inv.errors.is_empty()));
        doc.insert("errors".into(), json!(inv.errors));
        doc.insert("warnings".into(), json!(inv.warnings));
        doc.insert("paths".into(), object(&inv.paths));
        doc.insert("artifact_files".into(), object(&inv.files));
        doc.insert("artifact_dirs".into(), object(&inv.dirs));
        doc.insert("available_docs".into(), json!(inv.docs));
        doc.insert("FEATURE_DIR".into(), json!(dir));
        doc.insert("AVAILABLE_DOCS".into(), json!(inv.docs));
    }
    doc.extend(
        Contract {
            current: &current,
            target: &target,
            matches: current == target,
            now,
            primary: None,
        }
        .keys(),
    );
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_keys_follow_the_artifact_names() {
        assert_eq!(inventory_key("data-model.md", "file"), "data_model_file");
        assert_eq!(inventory_key("contracts/", "dir"), "contracts_dir");
        assert_eq!(
            inventory_key("literature-review.md", "file"),
            "literature_review_file"
        );
        assert_eq!(inventory_key("a..b--c.md", "file"), "a_b_c_file");
    }

    #[test]
    fn the_inventory_lists_what_exists_and_names_what_is_missing() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::create_dir_all(d.join("tasks")).unwrap();
        std::fs::create_dir_all(d.join("contracts")).unwrap();
        std::fs::write(d.join("plan.md"), "p").unwrap();
        std::fs::write(d.join("research.md"), "r").unwrap();
        let inv = inventory(d, "software-dev", true);
        assert_eq!(
            inv.errors,
            [
                "Missing required file: spec.md",
                "Missing required file: tasks.md"
            ]
        );
        assert_eq!(
            inv.warnings,
            [
                "Missing recommended directory: checklists/",
                "Missing recommended directory: research/"
            ]
        );
        let keys: Vec<_> = inv.paths.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "plan_file",
                "tasks_dir",
                "feature_dir",
                "research_file",
                "contracts_dir"
            ]
        );
        assert_eq!(inv.docs, ["plan.md", "research.md"]);
        let dirs: Vec<_> = inv.dirs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(dirs, ["tasks_dir", "feature_dir", "contracts_dir"]);
    }
}

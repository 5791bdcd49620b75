//! `agent tasks status`: the board of a mission's work packages, read from the status surface
//! and the WP files (**interop**: the reference's rows, counts and progress). Lanes whose rows
//! carry staleness or review data (in progress, in review, approved, done) are left to the
//! reference.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::mission::lanes::manifest;
use crate::mission::planning::handle::{Index, read_dir};
use crate::mission::planning::{PlanningError, project};
use crate::mission::status::{Lane, log, reduce::reduce};
use crate::mission::tasks::TasksError;
use crate::mission::tasks::frontmatter::WpFile;

/// What the board gave.
#[derive(Debug)]
pub enum Board {
    /// The document.
    Document(Value),
    /// The tasks directory has no WP files (the reference prints a line and exits 0).
    Empty(String),
    /// Rows only the reference fills.
    NeedsReference(String),
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) if !s.starts_with("__resolved_") => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The board of `mission` (required) from `cwd`.
pub fn board(cwd: &Path, mission: Option<&str>) -> Result<Board, TasksError> {
    let Some(handle) = mission.map(str::trim).filter(|m| !m.is_empty()) else {
        return Err(TasksError::MissionRequired);
    };
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let specs = project.specs();
    let index = Index::load(&specs);
    let entry = index
        .lenient(&specs, handle)?
        .ok_or_else(|| PlanningError::MissionNotFound {
            handle: handle.into(),
        })?;
    let status_dir = read_dir(&project.root, entry);
    let tasks_dir = entry.dir.join("tasks");
    if !tasks_dir.is_dir() {
        return Err(TasksError::TasksDirMissing { dir: tasks_dir });
    }
    let mut files: Vec<_> = std::fs::read_dir(&tasks_dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n.starts_with("WP") && n.ends_with(".md")
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        return Ok(Board::Empty(format!(
            "No work packages in {}: write them as tasks/WP01-<name>.md",
            tasks_dir.display()
        )));
    }
    let full = log::read(&status_dir)?;
    let mut transitions = full.clone();
    transitions.annotations.clear();
    let lanes_snap = reduce(&transitions);
    let runtime = reduce(&full);
    let lanes_json: Option<Value> = std::fs::read_to_string(entry.dir.join(manifest::FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let mut rows = Vec::new();
    let mut by_lane = Map::new();
    let mut done = 0usize;
    for path in &files {
        let f = WpFile::read(path)?;
        let id = f.id().to_string();
        let lane = lanes_snap.lane_of(&id).unwrap_or(Lane::Genesis);
        if matches!(
            lane,
            Lane::InProgress | Lane::InReview | Lane::Approved | Lane::Done
        ) {
            return Ok(Board::NeedsReference(format!(
                "the board of a mission with a work package {lane} (its staleness and review rows)"
            )));
        }
        let state = runtime.work_packages.get(&id);
        let slot = |k: &str| state.and_then(|s| s.slot(k));
        let workspace_kind = match &lanes_json {
            None => "unknown",
            Some(l) => {
                let lane_of = l["lanes"].as_array().into_iter().flatten().find(|ln| {
                    ln["wp_ids"]
                        .as_array()
                        .is_some_and(|w| w.iter().any(|x| x == id.as_str()))
                });
                match lane_of.and_then(|ln| ln["lane_id"].as_str()) {
                    Some(l) if l != "lane-planning" => "lane_workspace",
                    _ => {
                        return Ok(Board::NeedsReference(
                            "the board of a work package outside the execution lanes".into(),
                        ));
                    }
                }
            }
        };
        *by_lane.entry(lane.as_str()).or_insert(json!(0)) = json!(
            by_lane
                .get(lane.as_str())
                .and_then(Value::as_u64)
                .unwrap_or(0)
                + 1
        );
        if lane == Lane::Done {
            done += 1;
        }
        rows.push(json!({
            "id": id,
            "title": f.get_str("title").unwrap_or_default(),
            "lane": lane.as_str(),
            "phase": f.get_str("phase").unwrap_or("Unknown Phase"),
            "file": f.name,
            "agent": text_of(slot("agent")),
            "agent_profile": f.get_str("agent_profile").unwrap_or_default(),
            "resolved_agent_profile": text_of(slot("agent_profile")),
            "resolved_role": text_of(slot("role")),
            "resolved_model": text_of(slot("model")),
            "shell_pid": text_of(slot("shell_pid")),
            "shell_pid_created_at": slot("shell_pid_created_at").cloned().unwrap_or(Value::Null),
            "execution_mode": f.get_str("execution_mode").unwrap_or("code_change"),
            "workspace_kind": workspace_kind,
        }));
    }
    let progress = if lanes_snap.work_packages.is_empty() {
        json!(0)
    } else {
        let n = lanes_snap.work_packages.len() as f64;
        json!(round1(
            100.0
                * lanes_snap
                    .work_packages
                    .values()
                    .map(|w| w.lane.weight())
                    .sum::<f64>()
                / n
        ))
    };
    let meta: Option<Value> = std::fs::read_to_string(status_dir.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let number = meta
        .as_ref()
        .and_then(|m| m.get("mission_number"))
        .filter(|n| n.is_number())
        .cloned()
        .unwrap_or(Value::Null);
    let mission_type = meta
        .as_ref()
        .and_then(|m| m.get("mission_type"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(Board::Document(json!({
        "mission_slug": entry.slug,
        "mission_number": number,
        "mission_type": mission_type,
        "total_wps": rows.len(),
        "by_lane": by_lane,
        "work_packages": rows,
        "progress_percentage": progress,
        "progress_semantics": "weighted_readiness",
        "weighted_percentage": progress,
        "done_count": done,
        "done_percentage": round1(100.0 * done as f64 / rows.len() as f64),
        "stale_wps": 0,
        "stale_verdicts": [],
        "stalled_wps": [],
        "auto_commit": true,
    })))
}

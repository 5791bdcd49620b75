//! `spec-kitty next` in query mode (no `--result`): where a finalized mission stands and what
//! comes next, read from its task board and status log, advancing nothing (**interop**: the
//! reference's query decision document, its `kind`/`mission_state`/`reason` values and its
//! progress counters).
//!
//! Native for a software-dev mission whose work packages are finalized (`tasks.md`, `tasks/WP*.md`
//! and a status log), with no charter, no persisted runtime run and no merge recorded; anything
//! else (the runtime DAG's preview before finalize, a charter's preflight, a merged mission's
//! verdict, advancing mode) is the reference's.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::ExecError;
use crate::mission::planning::PlanningError;
use crate::mission::planning::handle::{Index, read_dir};
use crate::mission::planning::project;
use crate::mission::status::Lane;
use crate::mission::status::reduce::{Snapshot, WpState};
use crate::mission::status::{log, materialize};
use crate::mission::tasks::TasksError;
use crate::mission::tasks::frontmatter::WpFile;

/// The stderr warning the reference's charter preflight gives a project with no charter.
pub const NO_CHARTER_WARNING: &str = "Warning: project charter is not initialized; run `spec-kitty charter generate` when this project is ready for charter-governed workflows";

/// What `next` was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--agent` (only echoed in query mode).
    pub agent: Option<String>,
    /// `--mission`.
    pub mission: Option<String>,
    /// Options kitty leaves to the reference (`--result`, `--answer`, `--decision-id`,
    /// `--owned-checkout`), by name.
    pub delegated: Vec<&'static str>,
}

/// What `next` answers.
#[derive(Debug)]
pub enum Outcome {
    /// The query decision: its document and the human summary.
    Decision {
        /// The reference's `decision.to_dict()` shape, key order kept.
        doc: Value,
        /// The `[QUERY ...]` lines.
        human: String,
    },
    /// The handle names no mission: the reference's MISSION_NOT_FOUND document (exit 1).
    MissionNotFound {
        /// The handle as given.
        handle: String,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// The remediation of an unknown handle.
pub fn not_found_remediation(handle: &str) -> String {
    format!(
        "Run 'spec-kitty mission list' to see available missions, then re-run with a valid handle (attempted: '{handle}')."
    )
}

/// Answer `next` in query mode.
pub fn query(cwd: &Path, req: &Request, now: DateTime<Utc>) -> Result<Outcome, ExecError> {
    if let Some(option) = req.delegated.first() {
        return Ok(Outcome::NeedsReference((*option).to_string()));
    }
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = project.root.clone();
    if let Some(why) = project_reference_only(&root) {
        return Ok(Outcome::NeedsReference(why));
    }
    let handle = req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(TasksError::MissionRequired)?;
    let specs = project.specs();
    let index = Index::load(&specs);
    let entry = match index.lenient(&specs, handle) {
        Ok(Some(e)) => e.clone(),
        Ok(None) => {
            return Ok(Outcome::MissionNotFound {
                handle: handle.to_string(),
            });
        }
        Err(PlanningError::MissionAmbiguous { .. }) => {
            return Ok(Outcome::NeedsReference(format!(
                "'{handle}' matches several missions"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(why) = reference_only(&root, &entry.slug, &entry.meta) {
        return Ok(Outcome::NeedsReference(why));
    }
    let status_dir = read_dir(&root, &entry);
    let tasks_dir = entry.dir.join("tasks");
    let files = wp_files_sorted(&tasks_dir);
    if files.is_empty()
        || !entry.dir.join("tasks.md").is_file()
        || !status_dir.join(log::FILE).is_file()
    {
        return Ok(Outcome::NeedsReference(
            "a mission whose work packages are not finalized (the runtime's preview)".into(),
        ));
    }
    // The reference rematerializes status.json while counting progress; the bytes are unchanged
    // whenever the last transition wrote them.
    let snap = materialize::materialize_annotated(&status_dir)?;
    let lane_of = |id: &str| snap.lane_of(id).unwrap_or(Lane::Genesis);
    let ids: Vec<String> = files.iter().map(|p| file_wp_id(p)).collect();
    let progress = progress(&ids, &snap, &lane_of);
    let any = |lane: Lane| ids.iter().any(|id| lane_of(id) == lane);
    let done = ids.iter().filter(|id| lane_of(id) == Lane::Done).count();
    let approved = ids
        .iter()
        .filter(|id| lane_of(id) == Lane::Approved)
        .count();
    let (state, preview, mut reason, mut wp_id) =
        if any(Lane::Planned) || any(Lane::Claimed) || any(Lane::InProgress) {
            ("implement", Some("implement"), None, None)
        } else if any(Lane::ForReview) {
            ("review", Some("review"), None, None)
        } else if any(Lane::InReview) {
            (
                "blocked",
                None,
                Some("review in progress".to_string()),
                None,
            )
        } else if done == ids.len() {
            (
                "done",
                None,
                Some("All work packages are done".to_string()),
                None,
            )
        } else if approved + done == ids.len() {
            ("accept", Some("accept"), None, None)
        } else {
            ("blocked", None, Some("no actionable wp".to_string()), None)
        };
    if state == "implement" {
        match claimable(&files, &snap) {
            Ok(id) => wp_id = Some(id),
            Err(why) => reason = Some(why.to_string()),
        }
    }
    let mission_type = "software-dev";
    let mut doc = Map::new();
    let mut put = |k: &str, v: Value| {
        doc.insert(k.to_string(), v);
    };
    put("kind", json!("query"));
    put("agent", json!(req.agent));
    put("mission_slug", json!(entry.slug));
    put("mission_number", json!(number_from_slug(&entry.slug)));
    put("mission_type", json!(mission_type));
    put("mission", json!(mission_type));
    put("mission_state", json!(state));
    put("timestamp", json!(crate::pyfmt::isoformat(now)));
    put("action", Value::Null);
    put("wp_id", json!(wp_id));
    put("workspace_path", Value::Null);
    put("prompt_file", Value::Null);
    put("reason", json!(reason));
    put("guard_failures", json!([]));
    put("progress", progress.clone());
    put("origin", json!({}));
    for k in [
        "run_id",
        "step_id",
        "decision_id",
        "input_key",
        "question",
        "options",
    ] {
        put(k, Value::Null);
    }
    put("is_query", json!(true));
    put("preview_step", json!(preview));
    let mut human = vec![
        "[QUERY \u{2014} no result provided, state not advanced]".to_string(),
        format!("  Mission: {} @ {state}", entry.slug),
        format!("  Mission Type: {mission_type}"),
    ];
    if let Some(p) = preview {
        human.push(format!("  Next step: {p}"));
    }
    if let Some(r) = &reason {
        human.push(format!("  Reason: {r}"));
    }
    // A finalized mission (the only kind answered here) has at least one package.
    human.push(format!(
        "  Progress: {}% ({}/{} done)",
        progress["weighted_percentage"]
            .as_f64()
            .unwrap_or(0.0)
            .trunc() as i64,
        progress["done_wps"],
        progress["total_wps"]
    ));
    Ok(Outcome::Decision {
        doc: Value::Object(doc),
        human: human.join("\n"),
    })
}

/// Why this project's charter preflight is the reference's (it may refresh the charter, or warn
/// otherwise), if it is.
fn project_reference_only(root: &Path) -> Option<String> {
    if root.join(".kittify/charter").exists() {
        return Some("a project with a charter (its preflight may refresh it)".into());
    }
    let config = std::fs::read_to_string(root.join(".kittify/config.yaml")).unwrap_or_default();
    config
        .lines()
        .any(|l| l.starts_with("preflight:") || l.contains("activated_agent_profiles"))
        .then(|| "a configured charter preflight or agent-profile activation".into())
}

/// Why this mission is outside what kitty answers natively, if it is.
fn reference_only(root: &Path, slug: &str, meta: &Value) -> Option<String> {
    let runs = std::fs::read_to_string(root.join(".kittify/runtime/feature-runs.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    if runs.is_some_and(|r| r.get(slug).is_some()) {
        return Some("a mission with a persisted runtime run".into());
    }
    if meta.get("mission_number").is_some_and(|n| !n.is_null()) {
        return Some("a mission with a mission_number (the merged-mission verdict)".into());
    }
    match meta.get("mission_type").and_then(Value::as_str) {
        Some("software-dev") => None,
        other => Some(format!(
            "a mission of type '{}' (kitty answers software-dev)",
            other.unwrap_or_default()
        )),
    }
}

/// `tasks/WP*.md`, sorted by name as the reference globs them.
fn wp_files_sorted(tasks_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(tasks_dir)
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
    files
}

/// A WP file's id as the progress counters read it: `WP` and its digits from the file's stem.
fn file_wp_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digits = stem[2..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        stem
    } else {
        stem[..2 + digits].to_string()
    }
}

/// The progress counters (work packages in each bucket, and the weighted percentage over the
/// status snapshot's work packages).
fn progress(ids: &[String], snap: &Snapshot, lane_of: &dyn Fn(&str) -> Lane) -> Value {
    let count = |f: &dyn Fn(Lane) -> bool| ids.iter().filter(|id| f(lane_of(id))).count();
    let weights: Vec<f64> = snap
        .work_packages
        .values()
        .map(|s: &WpState| s.lane.weight())
        .collect();
    let pct = if weights.is_empty() {
        0.0
    } else {
        100.0 * weights.iter().sum::<f64>() / weights.len() as f64
    };
    json!({
        "total_wps": ids.len(),
        "done_wps": count(&|l| l == Lane::Done),
        "approved_wps": count(&|l| l == Lane::Approved),
        "in_progress_wps": count(&|l| matches!(l, Lane::Claimed | Lane::InProgress)),
        "planned_wps": count(&|l| l == Lane::Planned),
        "for_review_wps": count(&|l| matches!(l, Lane::ForReview | Lane::InReview)),
        "weighted_percentage": (pct * 10.0).round() / 10.0,
    })
}

/// The work package `agent action implement` would claim: the first (by file name) planned one
/// whose dependencies are approved, done, or canceled by an operator; else why there is none.
fn claimable(files: &[PathBuf], snap: &Snapshot) -> Result<String, &'static str> {
    let lane = |id: &str| snap.lane_of(id).unwrap_or(Lane::Genesis);
    let (mut blocked, mut active, mut genesis) = (false, false, false);
    for path in files {
        let Ok(f) = WpFile::read(path) else { continue };
        let Some(id) = f.get_str("work_package_id").map(str::to_string) else {
            continue;
        };
        match lane(&id) {
            Lane::Genesis => genesis = true,
            Lane::Planned => {
                let ready = f
                    .get_list("dependencies")
                    .iter()
                    .all(|dep| match lane(dep) {
                        Lane::Approved | Lane::Done => true,
                        Lane::Canceled => snap.work_packages.get(dep.as_str()).is_some_and(|s| {
                            s.slot("reason_source").and_then(Value::as_str) == Some("operator")
                        }),
                        _ => false,
                    });
                if ready {
                    return Ok(id);
                }
                blocked = true;
            }
            Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview => active = true,
            _ => {}
        }
    }
    Err(if blocked {
        "dependencies_not_satisfied"
    } else if active {
        "all_wps_in_progress"
    } else if genesis {
        "not_finalized"
    } else {
        "no_planned_wps"
    })
}

/// The slug's numeric prefix (`034-name` → `34`), or the empty string.
pub(crate) fn number_from_slug(slug: &str) -> String {
    let digits: String = slug.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !slug[digits.len()..].starts_with('-') {
        return String::new();
    }
    digits
        .parse::<u64>()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_s_number_is_its_numeric_prefix_without_leading_zeros() {
        assert_eq!(number_from_slug("034-my-feature"), "34");
        assert_eq!(number_from_slug("greet-01M92JY4"), "");
        assert_eq!(number_from_slug("2024feature"), "");
    }

    #[test]
    fn a_file_s_id_is_wp_and_its_digits() {
        assert_eq!(file_wp_id(Path::new("t/WP01-greet.md")), "WP01");
        assert_eq!(file_wp_id(Path::new("t/WP12.md")), "WP12");
        assert_eq!(file_wp_id(Path::new("t/WPx.md")), "WPx");
        assert_eq!(file_wp_id(Path::new("t/WP123-big.md")), "WP123");
    }

    fn state(lane: Lane, operator: bool) -> WpState {
        let mut fields = Map::new();
        if operator {
            fields.insert("reason_source".into(), json!("operator"));
        }
        WpState { lane, fields }
    }

    #[test]
    fn the_claimable_package_waits_on_its_dependencies_and_says_why_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = |id: &str, deps: &str| {
            let p = dir.path().join(format!("{id}-x.md"));
            std::fs::write(
                &p,
                format!("---\nwork_package_id: {id}\ndependencies: {deps}\n---\n# {id}\n"),
            )
            .unwrap();
            p
        };
        let files = vec![file("WP01", "[]"), file("WP02", "[WP01]")];
        let snap = |lanes: &[(&str, WpState)]| Snapshot {
            work_packages: lanes
                .iter()
                .map(|(id, s)| ((*id).to_string(), s.clone()))
                .collect(),
            ..Snapshot::default()
        };
        // WP02 not in the log yet: not finalized.
        assert_eq!(
            claimable(&files, &snap(&[("WP01", state(Lane::Approved, false))])),
            Err("not_finalized")
        );
        let with = |wp01: WpState| {
            claimable(
                &files,
                &snap(&[("WP01", wp01), ("WP02", state(Lane::Planned, false))]),
            )
        };
        assert_eq!(with(state(Lane::Approved, false)), Ok("WP02".into()));
        assert_eq!(with(state(Lane::Done, false)), Ok("WP02".into()));
        assert_eq!(with(state(Lane::Canceled, true)), Ok("WP02".into()));
        assert_eq!(
            with(state(Lane::Canceled, false)),
            Err("dependencies_not_satisfied")
        );
        assert_eq!(
            with(state(Lane::ForReview, false)),
            Err("dependencies_not_satisfied")
        );
        assert_eq!(
            claimable(
                &files,
                &snap(&[
                    ("WP01", state(Lane::InReview, false)),
                    ("WP02", state(Lane::Approved, false))
                ])
            ),
            Err("all_wps_in_progress")
        );
        assert_eq!(
            claimable(
                &files,
                &snap(&[
                    ("WP01", state(Lane::Done, false)),
                    ("WP02", state(Lane::Blocked, false))
                ])
            ),
            Err("no_planned_wps")
        );
    }
}

//! `agent tasks mark-status` (**interop**: the reference's document, its status-log annotation
//! and `status.json`): record subtasks done or pending. tasks.md is read, never written; nothing
//! is committed (the coordination worktree keeps the new lines for the next transition commit).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::subtasks::{self, Outcome as IdOutcome, Resolution};
use super::{ExecError, Found, status_lock};
use crate::env::Env;
use crate::mission::status::event::Annotation;
use crate::mission::status::{append, log, materialize};

/// What to mark.
#[derive(Debug, Clone)]
pub struct Request {
    /// The ids as given.
    pub ids: Vec<String>,
    /// `done` or `pending` (checked here).
    pub status: String,
    /// `--mission`.
    pub mission: Option<String>,
    /// `--owned-checkout` was given (left to the reference).
    pub owned_checkout: bool,
}

/// One work package's recorded subtasks (for the `HistoryAdded` event).
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The work package.
    pub wp_id: String,
    /// Its ids, as given, in order.
    pub ids: Vec<String>,
}

/// What the command did.
#[derive(Debug)]
pub enum Outcome {
    /// The document (exit 0 when an id resolved, else 1), the human text, the mission
    /// directory, and what was recorded per work package.
    Done {
        /// `{"results": [...], "summary": {...}}`.
        doc: Value,
        /// The human lines.
        human: String,
        /// The exit status.
        code: u8,
        /// The mission's directory in the primary checkout.
        mission_dir: std::path::PathBuf,
        /// Per work package.
        recorded: Vec<Recorded>,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// The document of `results`.
fn document(results: &[Resolution]) -> Value {
    let count = |o: IdOutcome| results.iter().filter(|r| r.outcome == o).count();
    json!({
        "results": results,
        "summary": {
            "updated": count(IdOutcome::Updated),
            "already_satisfied": 0,
            "not_found": count(IdOutcome::NotFound),
        },
    })
}

/// Run mark-status.
pub fn mark_status(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    let status = req.status.as_str();
    if status != "done" && status != "pending" {
        return Err(ExecError::InvalidStatus {
            status: req.status.clone(),
        });
    }
    let ids: Vec<String> = req.ids.iter().map(|i| subtasks::normalize(i)).collect();
    if req.owned_checkout {
        return Ok(Outcome::NeedsReference(
            "--owned-checkout (an explicit single-branch checkout)".into(),
        ));
    }
    let t = match super::target(env, cwd, req.mission.as_deref())? {
        Found::Target(t) => t,
        Found::NeedsReference(why) => return Ok(Outcome::NeedsReference(why)),
    };
    let slug = t.entry.slug.clone();
    let _lock = status_lock::hold(&t.repo.git_dir()?, &slug)?;
    let tasks_md = t.entry.dir.join("tasks.md");
    if !tasks_md.is_file() {
        return Err(ExecError::TasksMdMissing { path: tasks_md });
    }
    let text = std::fs::read_to_string(&tasks_md)
        .map_err(|e| crate::mission::MissionError::read(&tasks_md, e))?;
    let results: Vec<Resolution> = ids
        .iter()
        .map(|id| subtasks::resolve(id, &text, &t.entry.dir, status))
        .collect();
    let doc = document(&results);
    let updated: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome == IdOutcome::Updated)
        .map(|r| r.id.as_str())
        .collect();
    let not_found: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome == IdOutcome::NotFound)
        .map(|r| r.id.as_str())
        .collect();
    if updated.is_empty() {
        let human = if results
            .iter()
            .any(|r| r.format == Some(subtasks::Format::WpId))
        {
            results
                .iter()
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            format!(
                "No task IDs found in tasks.md: {}: check the ids against tasks.md and the WP files' subtasks",
                not_found.join(", ")
            )
        };
        // The reference's document, with kitty's error marks (an agent branches on them).
        let mut doc = doc;
        doc["result"] = "error".into();
        doc["error_code"] = "TASK_IDS_NOT_FOUND".into();
        return Ok(Outcome::Done {
            doc,
            human,
            code: 1,
            mission_dir: t.entry.dir.clone(),
            recorded: Vec::new(),
        });
    }
    let mut recorded: Vec<Recorded> = Vec::new();
    let mut orphans = Vec::new();
    for id in &updated {
        match subtasks::tasks_md_owner(&text, id)
            .or_else(|| subtasks::roster_owner(&t.entry.dir, id))
        {
            Some(wp) => match recorded.iter_mut().find(|r| r.wp_id == wp) {
                Some(r) => r.ids.push((*id).to_string()),
                None => recorded.push(Recorded {
                    wp_id: wp,
                    ids: vec![(*id).to_string()],
                }),
            },
            None => orphans.push((*id).to_string()),
        }
    }
    if !orphans.is_empty() {
        return Err(ExecError::OwnerUnresolved { ids: orphans });
    }
    // The log must read before anything is added to it.
    log::read(&t.status_dir)?;
    let lane = if status == "done" { "done" } else { "planned" };
    let lines: String = recorded
        .iter()
        .map(|r| {
            let subtasks: Map<String, Value> = r
                .ids
                .iter()
                .map(|id| (id.clone(), Value::from(lane)))
                .collect();
            let mut delta = Map::new();
            delta.insert("subtasks".into(), Value::Object(subtasks));
            append::annotation_line(&Annotation {
                event_id: crate::ids::ulid(now()),
                wp_id: r.wp_id.clone(),
                at: crate::pyfmt::isoformat(now()),
                actor: "user".into(),
                delta,
            })
        })
        .collect();
    append::append_lines(&t.status_dir, &lines)?;
    materialize::materialize_annotated(&t.status_dir)?;
    let mut human = Vec::new();
    if !not_found.is_empty() {
        human.push(format!("Warning: Not found: {}", not_found.join(", ")));
    }
    human.push(if updated.len() == 1 {
        format!("✓ Marked {} as {status}", updated[0])
    } else {
        format!(
            "✓ Marked {} subtasks as {status}: {}",
            updated.len(),
            updated.join(", ")
        )
    });
    Ok(Outcome::Done {
        doc,
        human: human.join("\n"),
        code: 0,
        mission_dir: t.entry.dir.clone(),
        recorded,
    })
}

//! The lifecycle events finalize-tasks records in the mission's primary log: `TasksStarted`,
//! one `WPCreated` per work package, `TasksCompleted`, each once (**interop**: the reference's
//! envelopes, payloads and duplicate rules).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::plan::Plan;
use crate::mission::scaffold::{LOCAL_EVENT_SCHEMA_VERSION, event_line};
use crate::mission::status::{StatusError, append::append_lines, log::FILE};
use crate::pyfmt::{isoformat, isoformat_z};

/// The actor of the events.
pub const ACTOR: &str = "spec-kitty agent mission finalize-tasks";

fn envelope(
    aggregate: &str,
    kind: &str,
    event_type: &str,
    payload: Value,
    at: DateTime<Utc>,
) -> Value {
    json!({
        "aggregate_id": aggregate,
        "aggregate_type": kind,
        "event_id": crate::ids::ulid(at),
        "event_type": event_type,
        "payload": payload,
        "project_slug": null,
        "project_uuid": null,
        "schema_version": LOCAL_EVENT_SCHEMA_VERSION,
        "timestamp": isoformat(at),
    })
}

/// Append the events not yet in `fd`'s log; returns those appended.
pub fn record(
    fd: &Path,
    plan: &Plan,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Vec<Value>, StatusError> {
    let existing: Vec<Value> = std::fs::read_to_string(fd.join(FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let slug = plan.slug.as_str();
    let has = |event_type: &str, pred: &dyn Fn(&Value) -> bool| {
        existing.iter().any(|e| {
            e["event_type"] == event_type
                && e["payload"]["mission_slug"] == slug
                && pred(&e["payload"])
        })
    };
    let mut added: Vec<Value> = Vec::new();
    if !has("TasksStarted", &|_| true) {
        let at = now();
        let payload = json!({"actor": ACTOR, "at": isoformat_z(at), "mission_number": null, "mission_slug": slug});
        added.push(envelope(slug, "Mission", "TasksStarted", payload, at));
    }
    for wp in &plan.wps {
        if has("WPCreated", &|p| p["wp_id"] == wp.id.as_str()) {
            continue;
        }
        let mut names: Vec<&str> = plan
            .wps
            .iter()
            .map(|w| w.file.name.as_str())
            .filter(|n| n.starts_with(wp.id.as_str()))
            .collect();
        names.sort();
        let at = now();
        let payload = json!({
            "actor": ACTOR,
            "created_at": isoformat_z(at),
            "depends_on": wp.deps,
            "mission_number": null,
            "mission_slug": slug,
            "wp_id": wp.id,
            "wp_path": format!("kitty-specs/{slug}/tasks/{}", names.first().copied().unwrap_or(&wp.file.name)),
            "wp_title": wp.title,
        });
        added.push(envelope(&wp.id, "WorkPackage", "WPCreated", payload, at));
    }
    let artifact = if plan.has_tasks_md {
        format!("kitty-specs/{slug}/tasks.md")
    } else {
        "tasks.md".to_string()
    };
    let file_name = |p: &Value| {
        p.as_str()
            .and_then(|s| s.rsplit('/').next())
            .map(str::to_string)
    };
    if !has("TasksCompleted", &|p| {
        file_name(&p["artifact_path"]).as_deref() == Some("tasks.md")
    }) {
        let at = now();
        let payload = json!({
            "actor": ACTOR,
            "artifact_path": artifact,
            "at": isoformat_z(at),
            "mission_number": null,
            "mission_slug": slug,
            "summary": null,
            "wp_count": plan.wps.len(),
        });
        added.push(envelope(slug, "Mission", "TasksCompleted", payload, at));
    }
    let lines: String = added.iter().map(event_line).collect();
    append_lines(fd, &lines)?;
    Ok(added)
}

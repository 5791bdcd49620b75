//! The mission's phase events in its `status.events.jsonl` (`SpecifyCompleted`, `PlanStarted`,
//! `PlanCompleted`, ...), each written once per mission (**interop**: the reference's envelope:
//! sorted keys, schema 5.0.0, the mission directory as the aggregate).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::mission::MissionError;
use crate::pyfmt::{isoformat, isoformat_z};

/// One phase event to record.
#[derive(Debug, Clone)]
pub struct Phase<'a> {
    /// `SpecifyCompleted`, `PlanStarted`, ...
    pub event_type: &'a str,
    /// The command that records it.
    pub actor: &'a str,
    /// The artifact it is about (`kitty-specs/<m>/plan.md`), when there is one.
    pub artifact: Option<String>,
    /// Whether the payload has a `summary` (completions do).
    pub summary: bool,
}

/// Whether `log` already holds `event_type` for `slug` (and the same artifact file name).
fn recorded(log: &str, phase: &Phase<'_>, slug: &str) -> bool {
    let name = |p: &str| p.rsplit('/').next().map(str::to_string);
    let want = phase.artifact.as_deref().and_then(name);
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|e| {
            let p = &e["payload"];
            e["event_type"] == phase.event_type
                && p["mission_slug"] == slug
                && (want.is_none() || p["artifact_path"].as_str().and_then(name) == want)
        })
}

/// Append each of `phases` not yet in `dir`'s log, stamped from `now` (each a microsecond later
/// than the one before, so their order is their time order). Returns the types written.
pub fn record_once(
    dir: &Path,
    slug: &str,
    phases: &[Phase<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<String>, MissionError> {
    let path = dir.join("status.events.jsonl");
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(MissionError::read(&path, e)),
    };
    let mut lines = String::new();
    let mut written = Vec::new();
    let mut at = now;
    for phase in phases {
        if recorded(&existing, phase, slug) || written.iter().any(|w| w == phase.event_type) {
            continue;
        }
        let mut payload = json!({
            "actor": phase.actor,
            "at": isoformat_z(at),
            "mission_number": null,
            "mission_slug": slug,
        });
        if let Some(a) = &phase.artifact {
            payload["artifact_path"] = a.clone().into();
        }
        if phase.summary {
            payload["summary"] = Value::Null;
        }
        let event = json!({
            "aggregate_id": slug,
            "aggregate_type": "Mission",
            "event_id": crate::ids::ulid(at),
            "event_type": phase.event_type,
            "payload": payload,
            "project_slug": null,
            "project_uuid": null,
            "schema_version": crate::mission::scaffold::LOCAL_EVENT_SCHEMA_VERSION,
            "timestamp": isoformat(at),
        });
        lines.push_str(&crate::mission::scaffold::event_line(&event));
        written.push(phase.event_type.to_string());
        at += chrono::Duration::microseconds(1);
    }
    if lines.is_empty() {
        return Ok(written);
    }
    let mut prefix = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        prefix.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| MissionError::io(&path, e))?;
    // One write: a kill leaves the lines whole or absent (a reader skips a torn last line).
    f.write_all(format!("{prefix}{lines}").as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| MissionError::io(&path, e))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_phase_is_written_once_per_mission_and_artifact() {
        let t = tempfile::tempdir().unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00.000001Z")
            .unwrap()
            .to_utc();
        let started = Phase {
            event_type: "PlanStarted",
            actor: "a",
            artifact: None,
            summary: false,
        };
        let done = Phase {
            event_type: "SpecifyCompleted",
            actor: "a",
            artifact: Some("kitty-specs/m/spec.md".into()),
            summary: true,
        };
        let first = record_once(t.path(), "m", &[done.clone(), started.clone()], now).unwrap();
        assert_eq!(first, ["SpecifyCompleted", "PlanStarted"]);
        assert!(
            record_once(t.path(), "m", &[done, started], now)
                .unwrap()
                .is_empty()
        );
        let log = std::fs::read_to_string(t.path().join("status.events.jsonl")).unwrap();
        let events: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["payload"]["summary"], Value::Null);
        assert!(events[1]["payload"].get("summary").is_none());
        assert_eq!(events[0]["payload"]["at"], "2026-12-04T10:00:00.000001Z");
        assert_eq!(events[1]["timestamp"], "2026-12-04T10:00:00.000002+00:00");
        // Another mission's event does not count.
        let other = Phase {
            event_type: "PlanStarted",
            actor: "a",
            artifact: None,
            summary: false,
        };
        assert_eq!(
            record_once(t.path(), "n", &[other], now).unwrap(),
            ["PlanStarted"]
        );
    }
}

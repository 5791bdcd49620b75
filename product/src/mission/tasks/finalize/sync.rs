//! The events finalize-tasks queues for the service when sync is on and the project consented
//! (**interop**: the reference's event types, aggregates and payloads, `spec-kitty-events`
//! 6.1.0): `TasksStarted`, one `WPCreated` per work package, `TasksCompleted` (each only when
//! this run recorded it in the mission's log, as the lifecycle lines are), then one
//! `WPStatusChanged` genesis→planned per seeded work package. The reference announces each work
//! package twice (its lifecycle `WPCreated` and a second, smaller one after the commit); kitty
//! once, with the lifecycle payload.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::paths::RuntimeRoot;
use crate::sync::envelope::{EnvelopeDraft, Producer};

/// Where and as whom the events are queued.
#[derive(Debug, Clone)]
pub struct Target {
    /// The runtime root (outbox, consent).
    pub root: RuntimeRoot,
    /// The node id when the project config has none (derived from the machine).
    pub node_fallback: String,
}

/// The queue of one run: the outbox and the producer of its events.
#[derive(Debug, Clone)]
pub struct Queue {
    /// The outbox database.
    pub outbox: PathBuf,
    /// Who produced the events.
    pub producer: Producer,
}

/// A seeded transition, as recorded on the status surface.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The work package.
    pub wp: String,
    /// The transition's event id (the service event's causation).
    pub event_id: String,
    /// Its time.
    pub at: String,
}

/// The run's events: the lifecycle lines this run appended (as written to the log), then the
/// seeded transitions.
pub fn drafts(
    slug: &str,
    lifecycle: &[Value],
    seeded: &[Seeded],
    producer: &Producer,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<EnvelopeDraft> {
    let mut out = Vec::new();
    for line in lifecycle {
        let mut payload = line["payload"].clone();
        // The service's TasksStarted has no artifact_path (the schema refuses it).
        if line["event_type"] == "TasksStarted"
            && let Some(p) = payload.as_object_mut()
        {
            p.remove("artifact_path");
        }
        out.push(EnvelopeDraft {
            event_id: crate::ids::ulid(now),
            event_type: line["event_type"].as_str().unwrap_or_default().to_string(),
            aggregate_id: line["aggregate_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            aggregate_type: line["aggregate_type"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            causation_id: None,
            timestamp: line["timestamp"].as_str().unwrap_or_default().to_string(),
            producer: producer.clone(),
            payload,
        });
    }
    for s in seeded {
        out.push(EnvelopeDraft {
            event_id: crate::ids::ulid(now),
            event_type: "WPStatusChanged".into(),
            aggregate_id: s.wp.clone(),
            aggregate_type: "WorkPackage".into(),
            causation_id: Some(s.event_id.clone()),
            timestamp: s.at.clone(),
            producer: producer.clone(),
            payload: json!({
                "actor": "finalize-tasks",
                "execution_mode": "worktree",
                "force": false,
                "from_lane": "genesis",
                "mission_slug": slug,
                "reason": "canonical bootstrap",
                "to_lane": "planned",
                "wp_id": s.wp,
            }),
        });
    }
    out
}

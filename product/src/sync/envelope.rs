//! Event envelopes (SPEC §5) and the `MissionCreated` event.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The envelope schema version.
pub const ENVELOPE_SCHEMA_VERSION: u32 = 1;

/// A fully stamped event, as queued and as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// ULID.
    pub event_id: String,
    /// e.g. `MissionCreated`.
    pub event_type: String,
    /// The aggregate's id (the mission id).
    pub aggregate_id: String,
    /// e.g. `Mission`.
    pub aggregate_type: String,
    /// Envelope schema version.
    pub schema_version: u32,
    /// Lamport clock of this node.
    pub lamport_clock: i64,
    /// The node that produced it.
    pub node_id: String,
    /// Correlates the events of one command.
    pub correlation_id: String,
    /// When (ISO 8601 UTC).
    pub timestamp: String,
    /// Project uuid from `.kittify/config.yaml`.
    pub project_uuid: String,
    /// Project slug.
    pub project_slug: String,
    /// Event-specific data.
    pub payload: Value,
}

/// An event before the outbox gives it a clock value and node id.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvelopeDraft {
    /// ULID.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Timestamp.
    pub timestamp: String,
    /// Project uuid.
    pub project_uuid: String,
    /// Project slug.
    pub project_slug: String,
    /// Payload.
    pub payload: Value,
}

impl EnvelopeDraft {
    /// A new event at `now` with fresh event and correlation ids.
    pub fn new(
        now: chrono::DateTime<chrono::Utc>,
        event_type: &str,
        aggregate: (&str, &str),
        project: (&str, &str),
        payload: Value,
    ) -> Self {
        Self {
            event_id: crate::ids::ulid(now),
            event_type: event_type.to_string(),
            aggregate_type: aggregate.0.to_string(),
            aggregate_id: aggregate.1.to_string(),
            correlation_id: crate::ids::ulid(now),
            timestamp: crate::auth::session::Timestamp(now).to_iso(),
            project_uuid: project.0.to_string(),
            project_slug: project.1.to_string(),
            payload,
        }
    }

    /// Stamp with a Lamport clock value and node id.
    pub fn stamp(self, lamport_clock: i64, node_id: &str) -> Envelope {
        Envelope {
            event_id: self.event_id,
            event_type: self.event_type,
            aggregate_id: self.aggregate_id,
            aggregate_type: self.aggregate_type,
            schema_version: ENVELOPE_SCHEMA_VERSION,
            lamport_clock,
            node_id: node_id.to_string(),
            correlation_id: self.correlation_id,
            timestamp: self.timestamp,
            project_uuid: self.project_uuid,
            project_slug: self.project_slug,
            payload: self.payload,
        }
    }
}

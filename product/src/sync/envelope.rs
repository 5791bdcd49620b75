//! Event envelopes (SPEC §5): the published event contract (`spec-kitty-events` 6.1.0,
//! `event.schema.json`), field for field as the reference CLI builds them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The envelope schema version the contract requires (a semver string).
pub const ENVELOPE_SCHEMA_VERSION: &str = "3.0.0";

/// A fully stamped event, as queued and as sent. Field order is the reference's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// ULID.
    pub event_id: String,
    /// e.g. `MissionCreated`.
    pub event_type: String,
    /// The aggregate's id (the mission id).
    pub aggregate_id: String,
    /// e.g. `Mission`.
    pub aggregate_type: String,
    /// Envelope schema version (semver, [`ENVELOPE_SCHEMA_VERSION`]).
    pub schema_version: String,
    /// The checkout that produced it (`project.build_id` of the project config).
    pub build_id: String,
    /// Event-specific data (validated by the payload schema of its type).
    pub payload: Value,
    /// The node that produced it (`project.node_id` of the project config).
    pub node_id: String,
    /// Lamport clock of this node.
    pub lamport_clock: i64,
    /// The parent event (`null` for a root event).
    pub causation_id: Option<String>,
    /// Correlates related events; a root event correlates to itself.
    pub correlation_id: String,
    /// When it happened (ISO 8601 UTC).
    pub timestamp: String,
    /// The team it is routed to, when the producer knew it.
    pub team_slug: Option<String>,
    /// Project uuid from `.kittify/config.yaml`.
    pub project_uuid: String,
    /// Project slug.
    pub project_slug: Option<String>,
    /// The branch checked out when the event was produced.
    pub git_branch: Option<String>,
    /// `HEAD` when the event was produced.
    pub head_commit_sha: Option<String>,
    /// `owner/repo` of the origin remote, when it is a hosted URL.
    pub repo_slug: Option<String>,
}

impl Envelope {
    /// Decode a stored envelope. Anything that is not a complete envelope of this contract
    /// version (a legacy row, a truncated or foreign value) is an error, never a partial event.
    pub fn decode(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match value.get("schema_version") {
            Some(Value::String(v)) if v == ENVELOPE_SCHEMA_VERSION => {}
            Some(other) => {
                return Err(format!(
                    "schema_version {other} is not \"{ENVELOPE_SCHEMA_VERSION}\" (an envelope from another spec-kitty version)"
                ));
            }
            None if value.is_object() => return Err("schema_version is missing".into()),
            None => return Err(format!("{} is not an envelope object", json_kind(&value))),
        }
        let envelope: Self = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if !envelope.payload.is_object() {
            return Err("payload is not an object".into());
        }
        Ok(envelope)
    }
}

/// How a JSON value is named in messages (`null`, `a string`, `an object`, ...).
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Who and where an event comes from: the same for every event of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Producer {
    /// Project uuid.
    pub project_uuid: String,
    /// Project slug.
    pub project_slug: Option<String>,
    /// `project.build_id`.
    pub build_id: String,
    /// `project.node_id`.
    pub node_id: String,
    /// Current branch.
    pub git_branch: Option<String>,
    /// `HEAD`.
    pub head_commit_sha: Option<String>,
    /// `owner/repo` of origin.
    pub repo_slug: Option<String>,
}

/// An event before the outbox gives it a Lamport clock value.
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
    /// The parent event, if any.
    pub causation_id: Option<String>,
    /// Timestamp.
    pub timestamp: String,
    /// The producer.
    pub producer: Producer,
    /// Payload.
    pub payload: Value,
}

impl EnvelopeDraft {
    /// A new root event at `now` with a fresh event id.
    pub fn new(
        now: chrono::DateTime<chrono::Utc>,
        event_type: &str,
        aggregate: (&str, &str),
        producer: &Producer,
        payload: Value,
    ) -> Self {
        Self {
            event_id: crate::ids::ulid(now),
            event_type: event_type.to_string(),
            aggregate_type: aggregate.0.to_string(),
            aggregate_id: aggregate.1.to_string(),
            causation_id: None,
            timestamp: crate::pyfmt::isoformat(now),
            producer: producer.clone(),
            payload,
        }
    }

    /// Stamp with a Lamport clock value. The correlation id is the causing event's, or the
    /// event's own id for a root event (as the reference does).
    pub fn stamp(self, lamport_clock: i64) -> Envelope {
        let p = self.producer;
        Envelope {
            correlation_id: self
                .causation_id
                .clone()
                .unwrap_or_else(|| self.event_id.clone()),
            event_id: self.event_id,
            event_type: self.event_type,
            aggregate_id: self.aggregate_id,
            aggregate_type: self.aggregate_type,
            schema_version: ENVELOPE_SCHEMA_VERSION.to_string(),
            build_id: p.build_id,
            payload: self.payload,
            node_id: p.node_id,
            lamport_clock,
            causation_id: self.causation_id,
            timestamp: self.timestamp,
            team_slug: None,
            project_uuid: p.project_uuid,
            project_slug: p.project_slug,
            git_branch: p.git_branch,
            head_commit_sha: p.head_commit_sha,
            repo_slug: p.repo_slug,
        }
    }
}

/// `owner/repo` (subgroups kept) of a hosted remote URL: `https://host/owner/repo.git`,
/// `ssh://git@host/owner/repo`, `git@host:owner/repo.git`. Local paths and `file:` URLs have none.
///
/// ```
/// use spec_kitty::internals::sync::envelope::repo_slug;
/// assert_eq!(repo_slug("git@github.com:acme/kitty.git").as_deref(), Some("acme/kitty"));
/// assert_eq!(repo_slug("https://gitlab.com/org/team/repo/").as_deref(), Some("org/team/repo"));
/// assert_eq!(repo_slug("/srv/git/kitty.git"), None);
/// assert_eq!(repo_slug("https://host/only"), None);
/// ```
pub fn repo_slug(url: &str) -> Option<String> {
    let url = url.trim();
    // A path (`/srv/x`, `./x`, `../x`) has a slash before any colon, so it is neither form
    // below; only `file:` URLs need refusing here. `.host:a/b` is scp-like, as git reads it.
    if url.starts_with("file:") {
        return None;
    }
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else {
        // scp-like: [user@]host:path
        let (host, path) = url.split_once(':')?;
        if host.is_empty() || host.contains('/') {
            return None;
        }
        path
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    (segments.len() >= 2).then(|| segments.join("/"))
}

impl Producer {
    /// A fixed producer for tests and benchmarks: valid under the contract, no repository needed.
    ///
    /// ```
    /// let p = spec_kitty::internals::sync::envelope::Producer::example();
    /// assert_eq!(p.node_id.len(), 12);
    /// ```
    pub fn example() -> Self {
        Self {
            project_uuid: "5f0c8c1e-0000-4000-8000-00000000c0de".into(),
            project_slug: Some("example".into()),
            build_id: crate::ids::build_id("5f0c8c1e-0000-4000-8000-00000000c0de", "0123456789ab"),
            node_id: "0123456789ab".into(),
            git_branch: Some("main".into()),
            head_commit_sha: None,
            repo_slug: None,
        }
    }
}

/// The facts of a `MissionCreated` event (payload schema `mission_created_payload`), built the
/// way the reference builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissionCreated<'a> {
    /// The mission's ULID (also the aggregate id).
    pub mission_id: &'a str,
    /// The mission directory name.
    pub mission_slug: &'a str,
    /// e.g. `software-dev`.
    pub mission_type: &'a str,
    /// The planning branch.
    pub target_branch: &'a str,
    /// Display name.
    pub friendly_name: &'a str,
    /// One-line summary.
    pub purpose_tldr: &'a str,
    /// Context paragraph.
    pub purpose_context: &'a str,
    /// Creation time, as written in meta.json.
    pub created_at: &'a str,
}

impl MissionCreated<'_> {
    /// The payload: every required key, `mission_number` an explicit `null` before merge, and
    /// `wp_count` 0 at creation.
    pub fn payload(&self) -> Value {
        serde_json::json!({
            "created_at": self.created_at,
            "friendly_name": self.friendly_name,
            "mission_id": self.mission_id,
            "mission_number": null,
            "mission_slug": self.mission_slug,
            "mission_type": self.mission_type,
            "purpose_context": self.purpose_context,
            "purpose_tldr": self.purpose_tldr,
            "target_branch": self.target_branch,
            "wp_count": 0,
        })
    }

    /// The event, ready to queue.
    pub fn draft(&self, now: chrono::DateTime<chrono::Utc>, producer: &Producer) -> EnvelopeDraft {
        EnvelopeDraft::new(
            now,
            "MissionCreated",
            ("Mission", self.mission_id),
            producer,
            self.payload(),
        )
    }

    /// A sample mission numbered `n` (tests and benchmarks).
    ///
    /// ```
    /// use spec_kitty::internals::sync::envelope::{MissionCreated, Producer};
    /// let draft = MissionCreated::sample("01JDJ7Y3ZK0000000000000000", "demo")
    ///     .draft(chrono::Utc::now(), &Producer::example());
    /// assert_eq!(draft.payload["wp_count"], 0);
    /// ```
    pub fn sample<'a>(mission_id: &'a str, slug: &'a str) -> MissionCreated<'a> {
        MissionCreated {
            mission_id,
            mission_slug: slug,
            mission_type: "software-dev",
            target_branch: "main",
            friendly_name: slug,
            purpose_tldr: slug,
            purpose_context: "A sample mission queued by a test.",
            created_at: "2026-11-29T12:00:00+00:00",
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_example_producer_is_a_complete_one() {
        let p = Producer::example();
        assert_eq!(p.node_id, "0123456789ab");
        assert_eq!(p.project_uuid, "5f0c8c1e-0000-4000-8000-00000000c0de");
        assert_eq!(
            p.build_id,
            crate::ids::build_id(&p.project_uuid, &p.node_id)
        );
        assert_eq!(
            (p.project_slug.as_deref(), p.git_branch.as_deref()),
            (Some("example"), Some("main"))
        );
    }

    use super::*;

    #[test]
    fn repo_slug_is_owner_and_repo_of_hosted_remotes_only() {
        for (url, want) in [
            ("git@github.com:acme/kitty.git", Some("acme/kitty")),
            (" https://github.com/acme/kitty.git ", Some("acme/kitty")),
            ("ssh://git@host:22/acme/kitty", Some("acme/kitty")),
            ("https://gitlab.com/org/team/repo/", Some("org/team/repo")),
            ("https://h//a//b.git//", Some("a/b")),
            ("host:a/b", Some("a/b")),
            ("/srv/git/kitty.git", None),
            ("./kitty", None),
            ("../kitty", None),
            ("file:///srv/git/a/b.git", None),
            ("", None),
            ("   ", None),
            ("https://host/only", None),
            ("https://host", None),
            ("git@host:only.git", None),
            (":a/b", None),
            ("sub/dir:a/b", None),
            // The reference's reading too: a path is refused, a dotted host is not.
            (".host:org/repo", Some("org/repo")),
            ("./x:y/z", None),
            ("../x:y/z", None),
            ("/srv/a:b/c", None),
            ("no-colon-or-scheme", None),
        ] {
            assert_eq!(repo_slug(url).as_deref(), want, "{url:?}");
        }
    }

    #[test]
    fn json_kinds_are_named_for_messages() {
        use serde_json::json;
        let kinds: Vec<&str> = [
            json!(null),
            json!(true),
            json!(1),
            json!("s"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(json_kind)
        .collect();
        assert_eq!(
            kinds,
            [
                "null",
                "a boolean",
                "a number",
                "a string",
                "an array",
                "an object"
            ]
        );
    }

    #[test]
    fn decode_accepts_only_whole_envelopes_of_this_contract_version() {
        let good = MissionCreated::sample("m1", "demo")
            .draft(chrono::Utc::now(), &Producer::example())
            .stamp(7);
        let text = serde_json::to_string(&good).unwrap();
        assert_eq!(Envelope::decode(&text).unwrap(), good);
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v["schema_version"] = Value::from(1);
        assert!(
            Envelope::decode(&v.to_string())
                .unwrap_err()
                .starts_with("schema_version 1 is not")
        );
        v["schema_version"] = Value::from("2.0.0");
        assert!(
            Envelope::decode(&v.to_string())
                .unwrap_err()
                .starts_with("schema_version \"2.0.0\" is not"),
            "another contract version, spelled as this one is"
        );
        v.as_object_mut().unwrap().remove("schema_version");
        assert_eq!(
            Envelope::decode(&v.to_string()).unwrap_err(),
            "schema_version is missing"
        );
        assert_eq!(
            Envelope::decode("[1]").unwrap_err(),
            "an array is not an envelope object"
        );
        assert!(
            Envelope::decode(&text[..text.len() / 2]).is_err(),
            "truncated"
        );
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v["payload"] = Value::from("x");
        assert_eq!(
            Envelope::decode(&v.to_string()).unwrap_err(),
            "payload is not an object"
        );
    }

    #[test]
    fn a_root_event_correlates_with_itself_and_a_caused_one_with_its_cause() {
        let now = chrono::Utc::now();
        let producer = Producer::example();
        let draft = EnvelopeDraft::new(now, "T", ("Mission", "m1"), &producer, Value::Null);
        let root = draft.clone().stamp(3);
        assert_eq!(root.correlation_id, root.event_id);
        assert_eq!(root.causation_id, None);
        assert_eq!(
            (
                root.lamport_clock,
                root.aggregate_type.as_str(),
                root.aggregate_id.as_str()
            ),
            (3, "Mission", "m1")
        );
        assert_eq!(root.timestamp, crate::pyfmt::isoformat(now));
        let caused = EnvelopeDraft {
            causation_id: Some("C".into()),
            ..draft
        }
        .stamp(4);
        assert_eq!(
            (
                caused.correlation_id.as_str(),
                caused.causation_id.as_deref()
            ),
            ("C", Some("C"))
        );
    }
}

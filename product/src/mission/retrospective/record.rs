//! The retrospective record and its `RetrospectiveCaptured` line (**interop**: the reference's
//! record keys in its writer's order, its policy provenance, its status-log event with
//! sorted keys and the next Lamport number).

use std::path::Path;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use serde_json::{Value, json};

use super::generator::{Evidence, Finding, Findings};
use crate::pyfmt::{Py, isoformat};

/// The record's file name in a mission directory.
pub const FILE: &str = "retrospective.yaml";

/// The policy keys, in the reference's order (each `<default>` unless configured).
pub const POLICY_KEYS: [&str; 15] = [
    "enabled",
    "timing",
    "failure_policy",
    "write_record",
    "generate_proposals",
    "apply_proposals",
    "permissions.write_record",
    "permissions.inspect_mission_artifacts",
    "permissions.propose_glossary_changes",
    "permissions.propose_drg_changes",
    "permissions.propose_doctrine_changes",
    "permissions.apply_low_risk_changes",
    "permissions.apply_structural_changes",
    "precedence",
    "generator",
];

/// Who captured a record, and how.
#[derive(Debug, Clone, Copy)]
pub struct Capture {
    /// `explicit_create` or `runtime_post_completion`.
    pub provenance: &'static str,
    /// The actor: kind, id, display.
    pub actor: (&'static str, &'static str, Option<&'static str>),
    /// The display the record's `created_by` names (the event's may be null).
    pub record_display: &'static str,
    /// The command named in the provenance, if any.
    pub command: Option<&'static str>,
}

/// `retrospect create`'s capture.
pub const EXPLICIT_CREATE: Capture = Capture {
    provenance: "explicit_create",
    actor: ("human", "cli", Some("spec-kitty retrospect")),
    record_display: "spec-kitty retrospect",
    command: Some("spec-kitty retrospect create"),
};

/// The mission's identity as the record states it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `meta.json`'s mission_id, or empty.
    pub mission_id: String,
    /// Its slug.
    pub mission_slug: String,
    /// Its number (`null` when it has none; Python's `isinstance(x, int)` keeps a boolean).
    pub mission_number: Py,
    /// Its friendly name.
    pub friendly_name: String,
    /// Its type, or empty.
    pub mission_type: String,
    /// The branch it merges into.
    pub target_branch: String,
}

fn py_str(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Bool(false)) => None,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(Value::Object(o)) if o.is_empty() => None,
        Some(other) => Some(crate::pyfmt::python_repr(other)),
    }
}

impl Identity {
    /// The identity `meta` (an object, possibly empty) gives the mission in `dir_name`;
    /// `primary` is the repository's primary branch, for a mission that names no target.
    pub fn from_meta(meta: &Value, dir_name: &str, primary: impl FnOnce() -> String) -> Self {
        let mission_slug = py_str(meta.get("mission_slug"))
            .or_else(|| py_str(meta.get("slug")))
            .unwrap_or_else(|| dir_name.into());
        Self {
            mission_id: py_str(meta.get("mission_id")).unwrap_or_default(),
            friendly_name: py_str(meta.get("friendly_name"))
                .or_else(|| py_str(meta.get("name")))
                .unwrap_or_else(|| mission_slug.clone()),
            mission_slug,
            mission_number: match meta.get("mission_number") {
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Py::Number(n.clone()),
                Some(Value::Bool(b)) => Py::Bool(*b),
                Some(Value::String(s))
                    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    s.parse::<u64>().map_or(Py::Null, |n| Py::Number(n.into()))
                }
                _ => Py::Null,
            },
            mission_type: meta
                .get("mission_type")
                .and_then(Value::as_str)
                .map(|t| super::inputs::py_strip(t).to_string())
                .unwrap_or_default(),
            target_branch: py_str(meta.get("target_branch")).unwrap_or_else(primary),
        }
    }
}

fn s(v: impl Into<String>) -> Py {
    Py::String(v.into())
}

fn policy_map(source: &IndexMap<String, String>) -> Py {
    Py::Object(source.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

/// Every policy key at `<default>`.
pub fn default_policy_source() -> IndexMap<String, String> {
    POLICY_KEYS
        .iter()
        .map(|k| ((*k).to_string(), "<default>".to_string()))
        .collect()
}

fn finding(f: &Finding) -> Py {
    let mut m = IndexMap::new();
    m.insert("id".into(), s(&f.id));
    m.insert("category".into(), s(f.category));
    m.insert("summary".into(), s(&f.summary));
    m.insert(
        "evidence_refs".into(),
        Py::Array(f.evidence_refs.iter().map(s).collect()),
    );
    if let Some(d) = &f.details {
        m.insert("details".into(), s(d));
    }
    Py::Object(m)
}

fn evidence(e: &Evidence) -> Py {
    let mut m = IndexMap::new();
    m.insert("id".into(), s(&e.id));
    m.insert("kind".into(), s(e.kind));
    m.insert("path".into(), s(&e.path));
    if let Some(r) = &e.range {
        m.insert("range".into(), s(r));
    }
    Py::Object(m)
}

/// The record, keys in the writer's order.
pub fn record(
    id: &Identity,
    findings: &Findings,
    capture: &Capture,
    policy: &IndexMap<String, String>,
    now: DateTime<Utc>,
) -> IndexMap<String, Py> {
    let at = isoformat(now);
    let mut created_by = IndexMap::new();
    created_by.insert("kind".into(), s(capture.actor.0));
    created_by.insert("id".into(), s(capture.actor.1));
    created_by.insert("display".into(), s(capture.record_display));
    let mut provenance = IndexMap::new();
    provenance.insert("kind".into(), s(capture.provenance));
    provenance.insert("invoked_at".into(), s(&at));
    provenance.insert("policy_resolved_from".into(), policy_map(policy));
    if let Some(c) = capture.command {
        provenance.insert("command".into(), s(c));
    }
    let list = |items: &[Finding]| Py::Array(items.iter().map(finding).collect());
    let mut m = IndexMap::new();
    m.insert("schema_version".into(), Py::Number(1.into()));
    m.insert("mission_id".into(), s(&id.mission_id));
    m.insert("mission_slug".into(), s(&id.mission_slug));
    m.insert("mission_number".into(), id.mission_number.clone());
    m.insert("friendly_name".into(), s(&id.friendly_name));
    m.insert("mission_type".into(), s(&id.mission_type));
    m.insert("target_branch".into(), s(&id.target_branch));
    m.insert("created_at".into(), s(&at));
    m.insert("created_by".into(), Py::Object(created_by));
    m.insert("provenance".into(), Py::Object(provenance));
    m.insert("policy_source".into(), policy_map(policy));
    m.insert("findings_status".into(), s(findings.status()));
    m.insert("helped".into(), list(&findings.helped));
    m.insert("not_helpful".into(), list(&findings.not_helpful));
    m.insert("gaps".into(), list(&findings.gaps));
    m.insert("proposals".into(), Py::Array(Vec::new()));
    m.insert(
        "evidence_refs".into(),
        Py::Array(findings.evidence.iter().map(evidence).collect()),
    );
    m.insert("generator_version".into(), s("1.0"));
    m.insert("provenance_history".into(), Py::Array(Vec::new()));
    m
}

/// The next Lamport number of the log at `path`: one more than the largest on any line.
pub fn next_lamport(path: &Path) -> i64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter_map(|v| v.get("lamport").and_then(Value::as_i64))
        .max()
        .map_or(1, |m| m + 1)
}

/// The `RetrospectiveCaptured` line (sorted keys, newline-terminated).
#[allow(clippy::too_many_arguments)]
pub fn captured_line(
    id: &Identity,
    findings: &Findings,
    capture: &Capture,
    policy: &IndexMap<String, String>,
    record_path: &Path,
    lamport: i64,
    event_id: &str,
    now: DateTime<Utc>,
) -> String {
    let (kind, actor_id, display) = capture.actor;
    let policy: serde_json::Map<String, Value> = policy
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let v = json!({
        "actor": {"display": display, "id": actor_id, "kind": kind},
        "at": isoformat(now),
        "event_id": event_id,
        "evidence_ref_count": findings.evidence.len(),
        "execution_mode": "main",
        "findings_status": findings.status(),
        "force": false,
        "generator_version": "1.0",
        "lamport": lamport,
        "mission_id": id.mission_id,
        "mission_slug": id.mission_slug,
        "policy_source": policy,
        "proposal_count": 0,
        "provenance_kind": capture.provenance,
        "record_path": record_path.display().to_string(),
        "schema_version": 1,
        "type": "RetrospectiveCaptured",
        "wp_id": null,
    });
    crate::pyfmt::to_python_json(&v).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(meta: Value) -> Identity {
        Identity::from_meta(&meta, "dir-name", || "primary".into())
    }

    #[test]
    fn the_identity_falls_back_as_the_reference_s_generator_does() {
        let bare = id(json!({}));
        assert_eq!(
            (
                bare.mission_id.as_str(),
                bare.mission_slug.as_str(),
                bare.friendly_name.as_str()
            ),
            ("", "dir-name", "dir-name")
        );
        assert_eq!(
            (bare.mission_type.as_str(), bare.target_branch.as_str()),
            ("", "primary")
        );
        assert!(matches!(bare.mission_number, Py::Null));
        assert_eq!(
            id(json!({"mission_id": 0, "mission_slug": false})).mission_id,
            ""
        );
        assert_eq!(id(json!({"mission_id": 0.0})).mission_id, "");
        let empty = id(json!({"mission_id": [], "mission_slug": {}}));
        assert_eq!(
            (empty.mission_id.as_str(), empty.mission_slug.as_str()),
            ("", "dir-name")
        );
        let full = id(json!({"mission_id": [1], "mission_slug": {"a": 1}}));
        assert_eq!(
            (full.mission_id.as_str(), full.mission_slug.as_str()),
            ("[1]", "{'a': 1}")
        );
        let old = id(
            json!({"slug": "s", "name": "n", "mission_id": 5, "target_branch": "", "mission_type": 3}),
        );
        assert_eq!(
            (
                old.mission_id.as_str(),
                old.mission_slug.as_str(),
                old.friendly_name.as_str()
            ),
            ("5", "s", "n")
        );
        assert_eq!(
            (old.mission_type.as_str(), old.target_branch.as_str()),
            ("", "primary")
        );
        let full = id(
            json!({"mission_slug": "m", "slug": "s", "friendly_name": "f", "name": "n", "target_branch": "t", "mission_type": " docs "}),
        );
        assert_eq!(
            (
                full.mission_slug.as_str(),
                full.friendly_name.as_str(),
                full.target_branch.as_str(),
                full.mission_type.as_str()
            ),
            ("m", "f", "t", "docs")
        );
        let number = |v: Value| id(json!({"mission_number": v})).mission_number.to_value();
        assert_eq!(number(json!(7)), json!(7));
        assert_eq!(number(json!("012")), json!(12));
        assert_eq!(number(json!(true)), json!(true));
        assert_eq!(number(json!(-1)), json!(-1));
        for none in [
            json!("1a"),
            json!(""),
            json!("+5"),
            json!(1.5),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(number(none.clone()), Value::Null, "{none}");
        }
    }

    #[test]
    fn a_record_has_the_writer_s_keys_in_order_and_every_policy_key_at_its_default() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T08:44:29.987291Z")
            .unwrap()
            .to_utc();
        let policy = default_policy_source();
        assert_eq!(
            policy.keys().collect::<Vec<_>>(),
            POLICY_KEYS.iter().collect::<Vec<_>>()
        );
        assert!(policy.values().all(|v| v == "<default>"));
        let r = record(
            &id(json!({"mission_id": "M"})),
            &Findings::default(),
            &EXPLICIT_CREATE,
            &policy,
            now,
        );
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "schema_version",
                "mission_id",
                "mission_slug",
                "mission_number",
                "friendly_name",
                "mission_type",
                "target_branch",
                "created_at",
                "created_by",
                "provenance",
                "policy_source",
                "findings_status",
                "helped",
                "not_helpful",
                "gaps",
                "proposals",
                "evidence_refs",
                "generator_version",
                "provenance_history",
            ]
        );
        let v = Py::Object(r).to_value();
        assert_eq!(v["created_at"], "2026-12-06T08:44:29.987291+00:00");
        assert_eq!(v["provenance"]["command"], "spec-kitty retrospect create");
        assert_eq!(
            v["provenance"]["policy_resolved_from"]["generator"],
            "<default>"
        );
        assert_eq!(v["findings_status"], "ran_no_findings");
        assert_eq!(
            v["created_by"],
            json!({"kind": "human", "id": "cli", "display": "spec-kitty retrospect"})
        );
    }

    #[test]
    fn the_next_lamport_is_one_past_the_largest_on_any_line() {
        let dir = std::env::temp_dir().join(format!("kitty-lamport-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("log.jsonl");
        assert_eq!(next_lamport(&log), 1);
        std::fs::write(
            &log,
            "{\"lamport\": 4}\nnot json\n{\"lamport\": 2}\n{\"lamport\": \"9\"}\n",
        )
        .unwrap();
        assert_eq!(next_lamport(&log), 5);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

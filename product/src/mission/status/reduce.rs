//! The one reducer: a log's transitions and annotations → the board's snapshot (**interop**: the
//! reference's dedupe, order, rollback precedence, runtime slots and annotation deltas).

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use super::Lane;
use super::event::{Annotation, Transition, actor_name};
use super::log::Log;

/// One work package's reduced state.
#[derive(Debug, Clone, PartialEq)]
pub struct WpState {
    /// Its lane.
    pub lane: Lane,
    /// Every key of its `status.json` entry (lane included), sorted.
    pub fields: Map<String, Value>,
}

impl WpState {
    /// A runtime slot (`agent`, `shell_pid`, ...), when set and not null.
    pub fn slot(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).filter(|v| !v.is_null())
    }
}

/// The reduced board.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The mission's directory name as the first transition names it (`""` when unsafe or none).
    pub mission_slug: String,
    /// `at` of the last transition (`""` without).
    pub materialized_at: String,
    /// Distinct transitions.
    pub event_count: usize,
    /// `event_id` of the last transition.
    pub last_event_id: Option<String>,
    /// Work packages by id.
    pub work_packages: BTreeMap<String, WpState>,
}

/// The runtime slots a transition carries over from the state before it.
const RUNTIME_SLOTS: [&str; 13] = [
    "shell_pid",
    "shell_pid_created_at",
    "subtasks",
    "notes",
    "tracker_refs",
    "agent",
    "assignee",
    "review",
    "role",
    "agent_profile",
    "agent_profile_version",
    "model",
    "provider",
];

/// The slots an annotation replaces when it names them (with a non-empty value).
const REPLACE_SLOTS: [&str; 9] = [
    "shell_pid",
    "shell_pid_created_at",
    "agent",
    "assignee",
    "role",
    "agent_profile",
    "agent_profile_version",
    "model",
    "provider",
];

/// ASCII alphanumerics, `-`, `_`, interior dots, an alphanumeric first.
pub fn is_safe_segment(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && !s.ends_with('.')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_rollback(t: &Transition) -> bool {
    t.to_lane == Lane::InProgress
        && (t.from_lane == Lane::InReview
            || (t.from_lane == Lane::ForReview && t.review_ref.is_some()))
}

fn blank(v: Option<&String>) -> bool {
    v.is_none_or(|s| s.trim().is_empty())
}

fn apply_transition(prev: Option<&WpState>, t: &Transition) -> WpState {
    let force_count = prev
        .and_then(|p| p.fields.get("force_count"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
        + u64::from(t.force);
    let mut f = Map::new();
    f.insert("lane".into(), t.to_lane.as_str().into());
    f.insert("actor".into(), t.actor_name().into());
    f.insert("last_transition_at".into(), t.at.clone().into());
    f.insert("last_event_id".into(), t.event_id.clone().into());
    f.insert("force_count".into(), force_count.into());
    if let Some(p) = prev {
        for slot in RUNTIME_SLOTS {
            if let Some(v) = p.fields.get(slot) {
                f.insert(slot.into(), v.clone());
            }
        }
    }
    if t.from_lane == Lane::Planned
        && t.to_lane == Lane::Claimed
        && let Some(Value::Object(pm)) = &t.policy_metadata
    {
        for key in ["shell_pid", "shell_pid_created_at"] {
            if let Some(v) = pm.get(key).filter(|v| !v.is_null()) {
                f.insert(key.into(), v.clone());
            }
        }
        if let Some(agent) = pm
            .get("agent")
            .filter(|v| !super::event::actor_name(v).is_empty())
        {
            f.insert("agent".into(), agent.clone());
        }
    }
    if let Some(r) = &t.review_result {
        f.insert("review_result".into(), r.clone());
    } else if t.from_lane == Lane::InReview {
        f.insert("review_result".into(), Value::Null);
    } else if let Some(r) = prev.and_then(|p| p.fields.get("review_result")) {
        f.insert("review_result".into(), r.clone());
    }
    if t.to_lane == Lane::Canceled {
        let source = t.reason_source.clone().unwrap_or_else(|| {
            let r = t.reason.as_deref().unwrap_or_default();
            if blank(t.reason.as_ref())
                || r.starts_with("Force move to ")
                || r.starts_with("move-task: ")
            {
                "synthetic".into()
            } else {
                "operator".into()
            }
        });
        f.insert("cancellation_reason".into(), json!(t.reason));
        f.insert("reason_source".into(), source.into());
    }
    WpState {
        lane: t.to_lane,
        fields: f,
    }
}

fn string_list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn dedup(list: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in list {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn apply_annotation(state: &mut WpState, a: &Annotation) {
    let f = &mut state.fields;
    let d = &a.delta;
    if d.get("release_runtime_claim") == Some(&Value::Bool(true)) {
        for k in ["agent", "shell_pid", "shell_pid_created_at"] {
            f.insert(k.into(), Value::Null);
        }
    }
    for slot in REPLACE_SLOTS {
        match d.get(slot) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(v) => {
                f.insert(slot.into(), v.clone());
            }
        }
    }
    if let Some(Value::Object(subtasks)) = d.get("subtasks") {
        let mut merged = match f.get("subtasks") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        for (id, lane) in subtasks {
            let s = lane
                .as_str()
                .map_or_else(|| lane.to_string(), str::to_string);
            merged.insert(id.clone(), s.into());
        }
        f.insert("subtasks".into(), Value::Object(merged));
    }
    if let Some(note) = d.get("note").filter(|n| !n.is_null()) {
        let mut notes = f.get("notes").map(string_list).unwrap_or_default();
        notes.push(note.clone());
        f.insert("notes".into(), Value::Array(notes));
    }
    if let Some(refs) = d.get("tracker_refs_replace").filter(|v| v.is_array()) {
        f.insert(
            "tracker_refs".into(),
            Value::Array(dedup(string_list(refs))),
        );
    } else if let Some(refs) = d.get("tracker_refs").filter(|v| v.is_array()) {
        let mut all = f.get("tracker_refs").map(string_list).unwrap_or_default();
        all.extend(string_list(refs));
        f.insert("tracker_refs".into(), Value::Array(dedup(all)));
    }
    if let Some(review) = d.get("review") {
        let empty = ["at", "actor", "wp_id", "reason"].iter().all(|k| {
            review
                .get(*k)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
        });
        f.insert(
            "review".into(),
            if empty { Value::Null } else { review.clone() },
        );
    }
}

/// Reduce a log.
pub fn reduce(log: &Log) -> Snapshot {
    if log.transitions.is_empty() && log.annotations.is_empty() {
        return Snapshot::default();
    }
    let mut seen = HashSet::new();
    let mut transitions: Vec<&Transition> = log
        .transitions
        .iter()
        .filter(|t| seen.insert(t.event_id.as_str()))
        .collect();
    transitions.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
    let mut snap = Snapshot {
        mission_slug: transitions
            .first()
            .map(|t| t.mission_slug.clone())
            .filter(|s| is_safe_segment(s))
            .unwrap_or_default(),
        event_count: transitions.len(),
        ..Snapshot::default()
    };
    let mut rollback_setter: BTreeMap<String, bool> = BTreeMap::new();
    for t in &transitions {
        let prev = snap.work_packages.get(&t.wp_id);
        let same_time = prev
            .and_then(|p| p.fields.get("last_transition_at"))
            .and_then(Value::as_str)
            == Some(t.at.as_str());
        let rollback = is_rollback(t);
        if same_time && rollback_setter.get(&t.wp_id) == Some(&true) && !rollback {
            continue;
        }
        let next = apply_transition(prev, t);
        rollback_setter.insert(t.wp_id.clone(), rollback);
        snap.work_packages.insert(t.wp_id.clone(), next);
    }
    if let Some(last) = transitions.last() {
        snap.materialized_at.clone_from(&last.at);
        snap.last_event_id = Some(last.event_id.clone());
    }
    let mut annotations: Vec<&Annotation> = log.annotations.iter().collect();
    annotations.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
    for a in annotations {
        let state = snap
            .work_packages
            .entry(a.wp_id.clone())
            .or_insert_with(|| WpState {
                lane: Lane::Uninitialized,
                fields: match json!({
                    "lane": "uninitialized",
                    "actor": actor_name(&a.actor),
                    "last_transition_at": null,
                    "last_event_id": null,
                    "force_count": 0,
                }) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                },
            });
        apply_annotation(state, a);
    }
    snap
}

impl Snapshot {
    /// The nine display lanes with their counts (uninitialized work packages count nowhere).
    pub fn summary(&self) -> Map<String, Value> {
        Lane::DISPLAY
            .iter()
            .map(|l| {
                let n = self.work_packages.values().filter(|w| w.lane == *l).count();
                (l.as_str().to_string(), Value::from(n))
            })
            .collect()
    }

    /// Whether any transition left the planning lanes (execution has begun).
    pub fn lane_of(&self, wp: &str) -> Option<Lane> {
        self.work_packages.get(wp).map(|w| w.lane)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mission::status::log::parse;

    fn line(id: &str, wp: &str, from: &str, to: &str, at: &str, extra: &str) -> String {
        format!(
            r#"{{"actor": "a", "at": "{at}", "event_id": "{id}", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "{from}", "mission_slug": "m", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "{to}", "wp_id": "{wp}"{extra}}}"#
        )
    }

    #[test]
    fn duplicates_keep_the_first_and_order_is_time_then_id() {
        let text = [
            line(
                "B",
                "WP01",
                "planned",
                "claimed",
                "2026-01-01T00:00:02+00:00",
                "",
            ),
            line(
                "A",
                "WP01",
                "genesis",
                "planned",
                "2026-01-01T00:00:01+00:00",
                "",
            ),
            line(
                "A",
                "WP01",
                "genesis",
                "planned",
                "2026-01-01T00:00:09+00:00",
                "",
            ),
        ]
        .join("\n");
        let snap = reduce(&parse(&text).unwrap());
        assert_eq!(snap.event_count, 2);
        assert_eq!(snap.last_event_id.as_deref(), Some("B"));
        assert_eq!(snap.lane_of("WP01"), Some(Lane::Claimed));
        assert_eq!(snap.summary()["claimed"], 1);
    }

    #[test]
    fn an_equal_time_rollback_beats_a_normal_setter_and_not_the_other_way() {
        let at = "2026-01-01T00:00:01+00:00";
        let text = [
            line("A", "WP01", "in_review", "in_progress", at, ""),
            line("B", "WP01", "in_progress", "for_review", at, ""),
        ]
        .join("\n");
        let snap = reduce(&parse(&text).unwrap());
        assert_eq!(snap.lane_of("WP01"), Some(Lane::InProgress));
        assert_eq!(
            snap.work_packages["WP01"].fields["review_result"],
            Value::Null
        );
    }

    #[test]
    fn an_annotation_only_work_package_is_uninitialized_and_counted_nowhere() {
        let text = r#"{"actor": "x", "at": "t", "delta": {"agent": "claude", "note": "hi", "shell_pid": ""}, "event_id": "01M91EM4Q2A6S9T4WS81EG2GM4", "kind": "annotation", "wp_id": "WP03"}"#;
        let snap = reduce(&parse(text).unwrap());
        let wp = &snap.work_packages["WP03"];
        assert_eq!(wp.lane, Lane::Uninitialized);
        assert_eq!(wp.fields["agent"], "claude");
        assert_eq!(wp.fields["notes"], json!(["hi"]));
        assert!(wp.fields.get("shell_pid").is_none());
        assert_eq!(snap.summary().values().filter(|v| *v != 0).count(), 0);
        assert_eq!(snap.mission_slug, "");
        assert_eq!(snap.event_count, 0);
    }

    #[test]
    fn a_cancellation_records_its_reason_and_source() {
        let text = line(
            "A",
            "WP01",
            "planned",
            "canceled",
            "t",
            r#", "reason_x": 1"#,
        );
        let snap = reduce(&parse(&text).unwrap());
        let f = &snap.work_packages["WP01"].fields;
        assert_eq!(f["reason_source"], "synthetic");
        assert_eq!(f["cancellation_reason"], Value::Null);
    }
}

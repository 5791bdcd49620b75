//! The log's line kinds a reducer folds (**interop**: the reference's lane transition and
//! annotation lines, read with its required keys and written with its keys).

use serde_json::{Map, Value, json};

use super::Lane;

/// A lane transition line.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// ULID.
    pub event_id: String,
    /// The mission's directory name (`feature_slug` on legacy lines).
    pub mission_slug: String,
    /// `WPnn`.
    pub wp_id: String,
    /// The lane it left.
    pub from_lane: Lane,
    /// The lane it entered.
    pub to_lane: Lane,
    /// Producer time, Python `isoformat()` (compared as a string, as the reference does).
    pub at: String,
    /// A name, or the structured `{model, profile, role, tool}` actor.
    pub actor: Value,
    /// Whether guards were skipped.
    pub force: bool,
    /// `worktree` or `direct_repo`.
    pub execution_mode: String,
    /// Why.
    pub reason: Option<String>,
    /// `operator` or `synthetic` (cancellations).
    pub reason_source: Option<String>,
    /// The review feedback reference.
    pub review_ref: Option<String>,
    /// The done evidence (null when none).
    pub evidence: Option<Value>,
    /// The structured review outcome.
    pub review_result: Option<Value>,
    /// Claim metadata (`{agent, shell_pid, shell_pid_created_at}`).
    pub policy_metadata: Option<Value>,
    /// The mission's id (absent on legacy lines).
    pub mission_id: Option<String>,
}

/// An annotation line: off-axis runtime state of a work package.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// ULID.
    pub event_id: String,
    /// `WPnn`.
    pub wp_id: String,
    /// Producer time.
    pub at: String,
    /// Who.
    pub actor: Value,
    /// The fields it sets.
    pub delta: Map<String, Value>,
}

fn opt_string(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

/// A falsy JSON value (`null`, `{}`, `""`, `[]`, `false`, `0`) is "none" to the reference.
fn truthy(v: Option<&Value>) -> Option<Value> {
    let v = v?;
    let empty = match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
    };
    (!empty).then(|| v.clone())
}

/// The `'key'` message of a missing key, or the lane error.
fn required<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    o.get(key).ok_or_else(|| format!("'{key}'"))
}

fn lane(v: &Value) -> Result<Lane, String> {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Lane::parse(&s).ok_or_else(|| format!("'{s}' is not a valid Lane"))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Transition {
    /// Read a transition line (the reference's required keys, in its order).
    pub fn from_json(o: &Map<String, Value>) -> Result<Self, String> {
        let event_id = text(required(o, "event_id")?);
        let mission_slug = opt_string(o.get("mission_slug"))
            .filter(|s| !s.is_empty())
            .or_else(|| opt_string(o.get("feature_slug")))
            .unwrap_or_default();
        let wp_id = text(required(o, "wp_id")?);
        let from_lane = lane(required(o, "from_lane")?)?;
        let to_lane = lane(required(o, "to_lane")?)?;
        let at = text(required(o, "at")?);
        let actor = required(o, "actor")?.clone();
        let force = match required(o, "force")? {
            Value::Bool(b) => *b,
            other => truthy(Some(other)).is_some(),
        };
        let execution_mode = text(required(o, "execution_mode")?);
        Ok(Self {
            event_id,
            mission_slug,
            wp_id,
            from_lane,
            to_lane,
            at,
            actor,
            force,
            execution_mode,
            reason: opt_string(o.get("reason")),
            reason_source: opt_string(o.get("reason_source")),
            review_ref: opt_string(o.get("review_ref")),
            evidence: truthy(o.get("evidence")),
            review_result: truthy(o.get("review_result")),
            policy_metadata: o.get("policy_metadata").filter(|v| !v.is_null()).cloned(),
            mission_id: opt_string(o.get("mission_id")),
        })
    }

    /// The line as the reference writes it (keys sorted on disk; optional keys only when set).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "actor": self.actor,
            "at": self.at,
            "event_id": self.event_id,
            "evidence": self.evidence,
            "execution_mode": self.execution_mode,
            "force": self.force,
            "from_lane": self.from_lane.as_str(),
            "mission_slug": self.mission_slug,
            "policy_metadata": self.policy_metadata,
            "reason": self.reason,
            "review_ref": self.review_ref,
            "to_lane": self.to_lane.as_str(),
            "wp_id": self.wp_id,
        });
        if let Some(id) = &self.mission_id {
            v["mission_id"] = id.clone().into();
        }
        if let Some(s) = &self.reason_source {
            v["reason_source"] = s.clone().into();
        }
        if let Some(r) = &self.review_result {
            v["review_result"] = r.clone();
        }
        v
    }

    /// The actor's name as a board shows it (a structured actor by its tool, else its role).
    pub fn actor_name(&self) -> String {
        actor_name(&self.actor)
    }
}

/// A string actor as is; a structured one by `tool`, else `role`, else `""`.
pub fn actor_name(actor: &Value) -> String {
    match actor {
        Value::String(s) => s.clone(),
        Value::Object(o) => ["tool", "role"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
            .unwrap_or_default()
            .to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn is_ulid(s: &str) -> bool {
    s.len() == 26
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"ILOU".contains(&b)))
}

impl Annotation {
    /// The line as the reference writes it (`kind: annotation`, keys sorted on disk).
    pub fn to_json(&self) -> Value {
        json!({
            "actor": self.actor,
            "at": self.at,
            "delta": self.delta,
            "event_id": self.event_id,
            "kind": "annotation",
            "wp_id": self.wp_id,
        })
    }

    /// Read an annotation line.
    pub fn from_json(o: &Map<String, Value>) -> Result<Self, String> {
        let event_id = text(required(o, "event_id")?);
        if !is_ulid(&event_id) {
            return Err(format!("invalid annotation event_id '{event_id}'"));
        }
        Ok(Self {
            event_id,
            wp_id: text(required(o, "wp_id")?),
            at: text(required(o, "at")?),
            actor: required(o, "actor")?.clone(),
            delta: match o.get("delta") {
                Some(Value::Object(d)) => d.clone(),
                _ => Map::new(),
            },
        })
    }
}

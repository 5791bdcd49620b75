//! `agent decision open|resolve|defer|cancel|verify`: the decision moments of the specify and plan
//! interviews (**interop**: the reference's ledger `decisions/index.json`, one `DM-<id>.md` per
//! decision, `DecisionPoint*` lines in the mission's status log, documents with sorted keys).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::PlanningError;
use super::decision_ledger::ledger;
use crate::pyfmt::isoformat_z;

/// The flows a decision may come from.
pub const FLOWS: [&str; 3] = ["charter", "specify", "plan"];

/// A decision command's failure, in the reference's codes (`code`, `details`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionError {
    /// `DECISION_NOT_FOUND`, `MISSION_NOT_FOUND`, ...
    pub code: &'static str,
    /// What was wrong and what to do.
    pub message: String,
    /// The reference's details object.
    pub details: Value,
}

pub(super) fn fail(
    code: &'static str,
    message: impl Into<String>,
    details: Value,
) -> PlanningError {
    PlanningError::Decision(DecisionError {
        code,
        message: message.into(),
        details,
    })
}

/// Python's `str()` of a JSON value (the reference keeps option labels that way).
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// What `open` was given.
#[derive(Debug, Clone, Default)]
pub struct Open {
    /// `--mission`.
    pub mission: String,
    /// `--flow`.
    pub flow: String,
    /// `--input-key`.
    pub input_key: String,
    /// `--question`.
    pub question: String,
    /// `--step-id`.
    pub step_id: Option<String>,
    /// `--slot-key`.
    pub slot_key: Option<String>,
    /// `--options` (a JSON array).
    pub options: Option<String>,
    /// `--actor`.
    pub actor: String,
    /// `--dry-run`.
    pub dry_run: bool,
}

/// `agent decision open`.
pub fn open(cwd: &Path, req: &Open, now: DateTime<Utc>) -> Result<Value, PlanningError> {
    if !FLOWS.contains(&req.flow.as_str()) {
        return Err(fail(
            "DECISION_MISSING_STEP_OR_SLOT",
            format!(
                "invalid --flow '{}': use one of charter, specify, plan",
                req.flow
            ),
            json!({"flow": req.flow, "valid_values": "charter, specify, plan"}),
        ));
    }
    let options: Vec<String> = match &req.options {
        None => Vec::new(),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Array(items)) => items.iter().map(python_str).collect(),
            Ok(_) => {
                return Err(fail(
                    "DECISION_MISSING_STEP_OR_SLOT",
                    "--options must be a JSON array of strings, e.g. '[\"a\", \"b\"]'",
                    json!({"options": raw}),
                ));
            }
            Err(e) => {
                return Err(fail(
                    "DECISION_MISSING_STEP_OR_SLOT",
                    format!(
                        "--options is not valid JSON ({e}): pass a JSON array, e.g. '[\"a\", \"b\"]'"
                    ),
                    json!({"options": raw, "parse_error": e.to_string()}),
                ));
            }
        },
    };
    if req.question.trim().is_empty() || req.input_key.trim().is_empty() {
        return Err(fail(
            "DECISION_INVALID_INPUT",
            "--question and --input-key must not be empty",
            json!({}),
        ));
    }
    let ledger = ledger(cwd, &req.mission)?;
    if req.step_id.is_none() && req.slot_key.is_none() {
        return Err(fail(
            "DECISION_MISSING_STEP_OR_SLOT",
            "pass --step-id or --slot-key: a decision needs one of them",
            json!({}),
        ));
    }
    let mission_id = ledger.mission_id()?;
    let key = json!({
        "input_key": req.input_key,
        "mission_id": mission_id,
        "mission_slug": ledger.slug,
        "origin_flow": req.flow,
        "slot_key": req.slot_key,
        "step_id": req.step_id,
    });
    let doc = |id: &str, path: String, lamport: Option<u64>, idempotent: bool| {
        json!({
            "artifact_path": path,
            "contract": "decision_open_v2",
            "decision_id": id,
            "event_lamport": lamport,
            "idempotent": idempotent,
            "mission_id": mission_id,
            "recovery": {"idempotency_key": key, "rerun_safe": id != "DRY_RUN"},
        })
    };
    if req.dry_run {
        return Ok(doc("DRY_RUN", String::new(), None, false));
    }
    let mut entries = ledger.entries()?;
    let same = |e: &&Value| {
        e["origin_flow"] == req.flow.as_str()
            && e["input_key"] == req.input_key.as_str()
            && match &req.step_id {
                Some(step) => e["step_id"] == step.as_str(),
                None => e["slot_key"] == json!(req.slot_key),
            }
    };
    let newest = entries
        .iter()
        .filter(same)
        .max_by(|a, b| {
            (a["created_at"].as_str(), a["decision_id"].as_str())
                .cmp(&(b["created_at"].as_str(), b["decision_id"].as_str()))
        })
        .cloned();
    let opened_payload = |e: &Value| {
        json!({
            "actor_id": req.actor,
            "actor_type": "human",
            "decision_point_id": e["decision_id"],
            "input_key": e["input_key"],
            "mission_id": e["mission_id"],
            "mission_slug": e["mission_slug"],
            "mission_type": "software-dev",
            "options": e["options"],
            "origin_flow": e["origin_flow"],
            "origin_surface": "planning_interview",
            "phase": e["origin_flow"].as_str().unwrap_or_default().to_uppercase(),
            "question": e["question"],
            "recorded_at": isoformat_z(now),
            "run_id": e["decision_id"],
            "state_entered_at": e["created_at"],
            "step_id": e["step_id"].as_str().or(e["slot_key"].as_str()),
        })
    };
    if let Some(e) = newest {
        let id = e["decision_id"].as_str().unwrap_or_default().to_string();
        if e["status"] != "open" {
            return Err(fail(
                "DECISION_ALREADY_CLOSED",
                format!(
                    "decision '{id}' is already {}: open a new one with another --input-key, or leave it",
                    e["status"].as_str().unwrap_or_default()
                ),
                json!({"decision_id": id, "status": e["status"]}),
            ));
        }
        let lamport = if ledger.logged("DecisionPointOpened", &id) {
            None
        } else {
            Some(ledger.append("DecisionPointOpened", opened_payload(&e), now)?)
        };
        let path = ledger.artifact(&id).display().to_string();
        return Ok(doc(&id, path, lamport, true));
    }
    let id = crate::ids::ulid(now);
    let entry = json!({
        "created_at": isoformat_z(now),
        "decision_id": id,
        "final_answer": null,
        "input_key": req.input_key,
        "mission_id": mission_id,
        "mission_slug": ledger.slug,
        "opened_by": req.actor,
        "options": options,
        "origin_flow": req.flow,
        "other_answer": false,
        "question": req.question,
        "rationale": null,
        "resolved_at": null,
        "resolved_by": null,
        "slot_key": req.slot_key,
        "status": "open",
        "step_id": req.step_id,
        "summary_json": null,
    });
    entries.push(entry.clone());
    ledger.save(&mission_id, entries)?;
    let path = ledger.write_artifact(&entry)?;
    let lamport = ledger.append("DecisionPointOpened", opened_payload(&entry), now)?;
    Ok(doc(&id, path.display().to_string(), Some(lamport), false))
}

/// How a decision is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// `resolve`.
    Resolve,
    /// `defer`.
    Defer,
    /// `cancel`.
    Cancel,
}

impl Close {
    fn status(self) -> &'static str {
        match self {
            Self::Resolve => "resolved",
            Self::Defer => "deferred",
            Self::Cancel => "canceled",
        }
    }
}

/// What `resolve`, `defer` or `cancel` was given.
#[derive(Debug, Clone)]
pub struct Closing {
    /// Which.
    pub how: Close,
    /// The decision.
    pub id: String,
    /// `--mission`.
    pub mission: String,
    /// `--final-answer` (resolve).
    pub final_answer: Option<String>,
    /// `--other-answer` (resolve).
    pub other_answer: bool,
    /// `--rationale`.
    pub rationale: Option<String>,
    /// `--resolved-by`.
    pub resolved_by: Option<String>,
    /// `--actor`.
    pub actor: String,
    /// `--dry-run`.
    pub dry_run: bool,
}

/// `agent decision resolve|defer|cancel`.
pub fn close(cwd: &Path, req: &Closing, now: DateTime<Utc>) -> Result<Value, PlanningError> {
    let status = req.how.status();
    if req.how != Close::Resolve && req.rationale.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(fail(
            "DECISION_MISSING_STEP_OR_SLOT",
            "--rationale must not be empty: say why",
            json!({"field": "rationale"}),
        ));
    }
    let ledger = ledger(cwd, &req.mission)?;
    if req.how == Close::Resolve
        && req
            .final_answer
            .as_deref()
            .is_none_or(|a| a.trim().is_empty())
    {
        return Err(fail(
            "DECISION_MISSING_STEP_OR_SLOT",
            "--final-answer must not be empty",
            json!({"field": "final_answer"}),
        ));
    }
    let done = |lamport: Option<u64>, idempotent: bool| {
        json!({
            "decision_id": req.id,
            "event_lamport": lamport,
            "idempotent": idempotent,
            "status": status,
            "terminal_outcome": status,
        })
    };
    if req.dry_run {
        return Ok(done(None, false));
    }
    let mission_id = ledger.mission_id()?;
    let mut entries = ledger.entries()?;
    let Some(pos) = entries
        .iter()
        .position(|e| e["decision_id"] == req.id.as_str())
    else {
        return Err(fail(
            "DECISION_NOT_FOUND",
            format!(
                "no decision '{}' in this mission's index: check the id (`decisions/index.json`)",
                req.id
            ),
            json!({"decision_id": req.id}),
        ));
    };
    let (final_answer, other_answer) = match req.how {
        Close::Resolve => (json!(req.final_answer), req.other_answer),
        _ => (Value::Null, false),
    };
    let rationale = json!(req.rationale);
    let current = entries[pos]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let allowed = current == "open" || (current == "deferred" && req.how == Close::Resolve);
    if !allowed {
        let e = &entries[pos];
        if current == status
            && e["final_answer"] == final_answer
            && e["other_answer"] == other_answer
            && e["rationale"] == rationale
        {
            return Ok(done(None, true));
        }
        return Err(fail(
            "DECISION_TERMINAL_CONFLICT",
            format!(
                "decision '{}' is already {current}; it cannot become {status}: open a new decision instead",
                req.id
            ),
            json!({"decision_id": req.id, "existing_status": current, "requested_status": status}),
        ));
    }
    let entry = &mut entries[pos];
    entry["status"] = status.into();
    entry["final_answer"] = final_answer.clone();
    entry["other_answer"] = other_answer.into();
    entry["rationale"] = rationale;
    entry["summary_json"] = Value::Null;
    entry["resolved_by"] = json!(req.resolved_by);
    entry["resolved_at"] = isoformat_z(now).into();
    let entry = entry.clone();
    ledger.save(&mission_id, entries)?;
    ledger.write_artifact(&entry)?;
    let payload_rationale = match req.how {
        Close::Resolve => json!(req.rationale),
        _ => json!(
            req.rationale
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "no rationale".into())
        ),
    };
    let payload = json!({
        "actual_participants": [],
        "closed_locally_while_widened": false,
        "closure_message": null,
        "decision_point_id": req.id,
        "final_answer": final_answer,
        "mission_id": entry["mission_id"],
        "mission_slug": entry["mission_slug"],
        "mission_type": "software-dev",
        "origin_surface": "planning_interview",
        "other_answer": other_answer,
        "rationale": payload_rationale,
        "recorded_at": isoformat_z(now),
        "resolved_by": req.resolved_by.clone().unwrap_or_else(|| req.actor.clone()),
        "run_id": req.id,
        "state_entered_at": entry["resolved_at"],
        "summary": null,
        "terminal_outcome": status,
    });
    let lamport = ledger.append("DecisionPointResolved", payload, now)?;
    Ok(done(Some(lamport), false))
}

/// `[NEEDS CLARIFICATION: …] <!-- decision_id: <ULID> -->` markers on one line: their ids.
fn markers(line: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("[NEEDS CLARIFICATION:") {
        rest = &rest[i + "[NEEDS CLARIFICATION:".len()..];
        let Some(close) = rest.find(']') else { break };
        let after = rest[close + 1..].trim_start_matches(' ');
        let Some(comment) = after.strip_prefix("<!--") else {
            continue;
        };
        let comment = comment.trim_start_matches(' ');
        let Some(id) = comment.strip_prefix("decision_id:") else {
            continue;
        };
        let id = id.trim_start_matches(' ');
        let candidate: String = id.chars().take(26).collect();
        let crockford =
            |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
        if candidate.len() == 26
            && candidate.chars().all(crockford)
            && id[26..].trim_start_matches(' ').starts_with("-->")
        {
            ids.push(candidate);
        }
    }
    ids
}

/// `agent decision verify`: `(document, drift)`.
pub fn verify(cwd: &Path, mission: &str) -> Result<(Value, bool), PlanningError> {
    let ledger = ledger(cwd, mission)?;
    let entries = ledger.entries()?;
    let mut count = 0;
    let mut first: Map<String, Value> = Map::new();
    for file in ["spec.md", "plan.md"] {
        let Ok(text) = std::fs::read_to_string(ledger.dir.join(file)) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for id in markers(line) {
                count += 1;
                first
                    .entry(id)
                    .or_insert_with(|| format!("{file}:L{}", n + 1).into());
            }
        }
    }
    let status_of = |id: &str| {
        entries
            .iter()
            .find(|e| e["decision_id"] == id)
            .and_then(|e| e["status"].as_str())
            .map(str::to_string)
    };
    let mut deferred: Vec<String> = entries
        .iter()
        .filter(|e| e["status"] == "deferred")
        .filter_map(|e| e["decision_id"].as_str().map(str::to_string))
        .collect();
    deferred.sort();
    let mut findings = Vec::new();
    for id in deferred.iter().filter(|id| !first.contains_key(*id)) {
        findings.push(json!({"decision_id_or_ref": id, "detail": "No inline marker found in spec.md or plan.md", "kind": "DEFERRED_WITHOUT_MARKER", "location": null}));
    }
    for (id, at) in &first {
        if status_of(id).is_none() {
            findings.push(json!({"decision_id_or_ref": id, "detail": "Marker references unknown decision_id", "kind": "MARKER_WITHOUT_DECISION", "location": at}));
        }
    }
    for (id, at) in &first {
        if let Some(s) = status_of(id).filter(|s| s == "open" || s == "canceled") {
            findings.push(json!({"decision_id_or_ref": id, "detail": format!("Decision is in status '{s}', not 'deferred' or 'resolved'"), "kind": "STALE_MARKER", "location": at}));
        }
    }
    let drift = !findings.is_empty();
    Ok((
        json!({
            "deferred_count": deferred.len(),
            "findings": findings,
            "marker_count": count,
            "status": if drift { "drift" } else { "clean" },
        }),
        drift,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mission::planning::decision_ledger::valid_handle;

    #[test]
    fn markers_need_the_clarification_and_a_well_formed_decision_id() {
        let id = "01M913C6BV0FMKRDXDW24JT45V";
        assert_eq!(
            markers(&format!(
                "x [NEEDS CLARIFICATION: a] <!-- decision_id: {id} --> y"
            )),
            [id]
        );
        assert_eq!(markers(&format!("[NEEDS CLARIFICATION: a]<!--decision_id:{id}-->[NEEDS CLARIFICATION: b] <!-- decision_id: {id} -->")).len(), 2);
        assert!(
            markers(&format!(
                "[NEEDS CLARIFICATION: a] <!-- decision_id: {} -->",
                id.to_lowercase()
            ))
            .is_empty()
        );
        assert!(
            markers(&format!(
                "[NEEDS CLARIFICATION: a] text <!-- decision_id: {id} -->"
            ))
            .is_empty()
        );
        assert!(
            markers("[NEEDS CLARIFICATION: a] <!-- decision_id: 01M913C6BV0FMKRDXDW24JT45 -->")
                .is_empty()
        );
    }

    #[test]
    fn option_labels_are_kept_as_python_prints_them() {
        let got: Vec<String> = serde_json::from_str::<Vec<Value>>(r#"["a", 1, true, null, 1.5]"#)
            .unwrap()
            .iter()
            .map(python_str)
            .collect();
        assert_eq!(got, ["a", "1", "True", "None", "1.5"]);
        assert!(valid_handle("m-01ABC_d"));
        assert!(
            !valid_handle("../x")
                && !valid_handle("a.b")
                && !valid_handle("-a")
                && !valid_handle("")
        );
    }
}

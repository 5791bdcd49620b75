//! A mission's decision ledger: `decisions/index.json`, the `DM-<id>.md` records and the
//! `DecisionPoint*` lines of the status log (**interop**: the reference's formats).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::decision::fail;
use super::handle::{Index, Resolved, read_dir};
use super::{PlanningError, project};
use crate::pyfmt::{isoformat, to_python_json, to_python_json_pretty};

/// A mission's decision ledger.
#[derive(Debug)]
pub struct Ledger {
    /// The mission directory the ledger and its log are in.
    pub dir: PathBuf,
    /// The mission's directory name.
    pub slug: String,
}

/// Whether `handle` has the shape the reference accepts for `--mission` here.
pub fn valid_handle(handle: &str) -> bool {
    let mut chars = handle.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The ledger of the mission `handle` names, from `cwd`.
pub fn ledger(cwd: &Path, handle: &str) -> Result<Ledger, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let index = Index::load(&project.specs());
    let literal = project.specs().join(handle);
    let entry = match index.resolve(handle) {
        Resolved::One(e) => Some(e),
        _ => None,
    };
    match entry {
        Some(e) => Ok(Ledger {
            dir: read_dir(&project.root, e),
            slug: e.slug.clone(),
        }),
        None if literal.is_dir() => Ok(Ledger {
            dir: literal,
            slug: handle.to_string(),
        }),
        None => Err(fail(
            "FEATURE_CONTEXT_UNRESOLVED",
            format!(
                "no mission directory {}: check that '{handle}' is the mission's slug, id or first 8 characters",
                literal.display()
            ),
            Value::Null,
        )),
    }
}

impl Ledger {
    /// `decisions/index.json`.
    pub fn index_path(&self) -> PathBuf {
        self.dir.join("decisions").join("index.json")
    }

    /// The mission id from the ledger directory's meta.json.
    pub fn mission_id(&self) -> Result<String, PlanningError> {
        let path = self.dir.join("meta.json");
        let missing =
            |why: String| fail("MISSION_NOT_FOUND", why, json!({"mission_slug": self.slug}));
        let text = std::fs::read_to_string(&path).map_err(|_| {
            missing(format!(
                "meta.json not found for mission '{}' (in {}): decisions need the mission's meta.json there",
                self.slug,
                self.dir.display()
            ))
        })?;
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|m| m.get("mission_id")?.as_str().map(str::to_string))
            .ok_or_else(|| {
                missing(format!(
                    "{} has no mission_id: restore it (`spec-kitty migrate backfill-identity`)",
                    path.display()
                ))
            })
    }

    /// The index's entries (none before the first decision).
    pub fn entries(&self) -> Result<Vec<Value>, PlanningError> {
        let path = self.index_path();
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(serde_json::from_str::<Value>(&t)
                .ok()
                .and_then(|v| v.get("entries")?.as_array().cloned())
                .ok_or_else(|| {
                    fail(
                        "DECISION_INDEX_INVALID",
                        format!(
                            "{} is not a decision index: fix or remove it",
                            path.display()
                        ),
                        Value::Null,
                    )
                })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(crate::mission::MissionError::read(&path, e).into()),
        }
    }

    /// Write the index (entries by creation), whole or not at all.
    pub fn save(&self, mission_id: &str, mut entries: Vec<Value>) -> Result<(), PlanningError> {
        entries.sort_by(|a, b| {
            (a["created_at"].as_str(), a["decision_id"].as_str())
                .cmp(&(b["created_at"].as_str(), b["decision_id"].as_str()))
        });
        let doc = json!({"entries": entries, "mission_id": mission_id, "version": 1});
        let text = to_python_json_pretty(&doc).unwrap_or_default() + "\n";
        let path = self.index_path();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| crate::mission::MissionError::io(parent, e))?;
        }
        super::write_atomic(&path, text.as_bytes())?;
        Ok(())
    }

    /// `decisions/DM-<id>.md`.
    pub fn artifact(&self, id: &str) -> PathBuf {
        self.dir.join("decisions").join(format!("DM-{id}.md"))
    }

    /// Write a decision's record.
    pub fn write_artifact(&self, e: &Value) -> Result<PathBuf, PlanningError> {
        let path = self.artifact(e["decision_id"].as_str().unwrap_or_default());
        super::write_atomic(&path, artifact_text(e).as_bytes())?;
        Ok(path)
    }

    /// Append one event line to the mission's status log; the log's event count after it.
    pub fn append(
        &self,
        event_type: &str,
        payload: Value,
        now: DateTime<Utc>,
    ) -> Result<u64, PlanningError> {
        use std::io::Write;
        let path = self.dir.join("status.events.jsonl");
        let line = json!({
            "at": isoformat(now),
            "event_id": crate::ids::ulid(now),
            "event_type": event_type,
            "payload": payload,
        });
        let existing = std::fs::read_to_string(&path).unwrap_or_default();
        let mut text = String::new();
        if !existing.is_empty() && !existing.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&to_python_json(&line).unwrap_or_default());
        text.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| crate::mission::MissionError::io(&path, e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| crate::mission::MissionError::io(&path, e))?;
        let count = existing.lines().filter(|l| !l.trim().is_empty()).count() + 1;
        Ok(count as u64)
    }

    /// Whether the status log has `event_type` for decision `id`.
    pub fn logged(&self, event_type: &str, id: &str) -> bool {
        std::fs::read_to_string(self.dir.join("status.events.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|e| e["event_type"] == event_type && e["payload"]["decision_point_id"] == id)
    }
}

fn or_none(v: &Value) -> String {
    v.as_str()
        .map_or_else(|| "_(none)_".to_string(), str::to_string)
}

/// The human-readable record of a decision.
fn artifact_text(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
    let created = created_isoformat(&s("created_at"));
    let mut out = format!(
        "# Decision Moment `{}`\n\n- **Mission:** `{}`\n- **Origin flow:** `{}`\n",
        s("decision_id"),
        s("mission_slug"),
        s("origin_flow")
    );
    if let Some(v) = e["step_id"].as_str() {
        out.push_str(&format!("- **Step id:** `{v}`\n"));
    }
    if let Some(v) = e["slot_key"].as_str() {
        out.push_str(&format!("- **Slot key:** `{v}`\n"));
    }
    out.push_str(&format!(
        "- **Input key:** `{}`\n- **Status:** `{}`\n- **Created:** `{created}`\n",
        s("input_key"),
        s("status")
    ));
    if let Some(v) = e["resolved_at"].as_str() {
        out.push_str(&format!("- **Resolved:** `{}`\n", created_isoformat(v)));
    }
    if let Some(v) = e["resolved_by"].as_str() {
        out.push_str(&format!("- **Resolved by:** `{v}`\n"));
    }
    if let Some(v) = e["opened_by"].as_str() {
        out.push_str(&format!("- **Opened by:** `{v}`\n"));
    }
    out.push_str(&format!(
        "- **Other answer:** `{}`\n\n## Question\n\n{}\n\n## Options\n\n",
        e["other_answer"].as_bool().unwrap_or(false),
        s("question")
    ));
    match e["options"].as_array().filter(|o| !o.is_empty()) {
        Some(options) => {
            for o in options {
                out.push_str(&format!("- {}\n", o.as_str().unwrap_or_default()));
            }
        }
        None => out.push_str("_(none)_\n"),
    }
    out.push_str(&format!(
        "\n## Final answer\n\n{}\n\n## Rationale\n\n{}\n\n## Change log\n\n- `{created}` \u{2014} opened\n",
        or_none(&e["final_answer"]),
        or_none(&e["rationale"])
    ));
    if let Some(at) = e["resolved_at"].as_str() {
        let at = created_isoformat(at);
        match e["final_answer"].as_str() {
            Some(answer) => out.push_str(&format!(
                "- `{at}` \u{2014} {} (final_answer=\"{answer}\")\n",
                s("status")
            )),
            None => out.push_str(&format!("- `{at}` \u{2014} {}\n", s("status"))),
        }
    }
    out
}

/// `...Z` (the index's form) as `...+00:00` (the record's).
fn created_isoformat(z: &str) -> String {
    z.strip_suffix('Z')
        .map_or_else(|| z.to_string(), |b| format!("{b}+00:00"))
}

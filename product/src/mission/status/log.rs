//! Reading `status.events.jsonl` as the reference does: transitions and annotations kept,
//! lifecycle envelopes, retrospective rows and decision events skipped, anything else an error
//! naming its line.

use std::path::Path;

use serde_json::Value;

use super::StatusError;
use super::event::{Annotation, Transition};

/// The log's file name inside a mission directory.
pub const FILE: &str = "status.events.jsonl";

/// The lines a reducer folds, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Log {
    /// Lane transitions.
    pub transitions: Vec<Transition>,
    /// Annotations.
    pub annotations: Vec<Annotation>,
}

const RETROSPECTIVE_TYPES: [&str; 3] = [
    "RetrospectiveCaptured",
    "RetrospectiveCaptureFailed",
    "RetrospectiveSkipped",
];

/// Parse a log's text.
pub fn parse(text: &str) -> Result<Log, StatusError> {
    let mut log = Log::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(raw).map_err(|e| StatusError::InvalidJson {
            line,
            detail: crate::pyfmt::python_json_error(&e, raw),
        })?;
        let Value::Object(o) = value else {
            return Err(StatusError::InvalidStructure {
                line,
                detail: "expected JSON object".into(),
            });
        };
        if let Some(kind) = o.get("kind") {
            if kind == "annotation" {
                let a = Annotation::from_json(&o)
                    .map_err(|detail| StatusError::InvalidStructure { line, detail })?;
                log.annotations.push(a);
                continue;
            }
            return Err(StatusError::UnknownKind {
                kind: kind
                    .as_str()
                    .map_or_else(|| kind.to_string(), str::to_string),
                line,
            });
        }
        if o.get("event_name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.starts_with("retrospective."))
            || o.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| RETROSPECTIVE_TYPES.contains(&t))
            || o.contains_key("event_type")
        {
            continue;
        }
        let t = Transition::from_json(&o)
            .map_err(|detail| StatusError::InvalidStructure { line, detail })?;
        log.transitions.push(t);
    }
    Ok(log)
}

/// Read `dir`'s log (absent: empty).
pub fn read(dir: &Path) -> Result<Log, StatusError> {
    let path = dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Log::default()),
        Err(e) => Err(StatusError::io("read", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_and_retrospectives_are_skipped_and_bad_lines_name_their_line() {
        let text = concat!(
            r#"{"event_type": "MissionCreated", "payload": {}}"#,
            "\n\n",
            r#"{"type": "RetrospectiveSkipped"}"#,
            "\n",
            r#"{"actor": "a", "at": "t", "event_id": "01M91EM4Q2A6S9T4WS81EG2GM4", "evidence": null, "execution_mode": "worktree", "force": false, "from_lane": "genesis", "mission_slug": "m", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "planned", "wp_id": "WP01"}"#,
            "\n"
        );
        let log = parse(text).unwrap();
        assert_eq!(log.transitions.len(), 1);
        assert_eq!(log.transitions[0].to_lane, super::super::Lane::Planned);
        let err = parse("\n{\"kind\": \"other\"}").unwrap_err();
        assert_eq!(err.to_string(), "Unknown event kind 'other' on line 2");
        let err = parse(r#"{"event_id": "x", "wp_id": "WP01", "from_lane": "doing"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid event structure on line 1: 'doing' is not a valid Lane"
        );
        let err = parse(r#"{"event_id": "x", "wp_id": "WP01"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid event structure on line 1: 'from_lane'"
        );
        let err = parse("[1]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid event structure on line 1: expected JSON object"
        );
        let err = parse("{\"a\" 1}").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Invalid JSON on line 1: Expecting"),
            "{err}"
        );
    }
}

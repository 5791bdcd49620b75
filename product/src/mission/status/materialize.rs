//! `status.json`: a directory's log reduced, with the mission's identity, written as the
//! reference writes it (sorted keys, two-space indent, UTF-8 literal, trailing newline; not
//! rewritten when the bytes are the same; a temporary file renamed over).

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use super::reduce::{Snapshot, reduce};
use super::{StatusError, log};

/// The file's name inside a mission directory.
pub const FILE: &str = "status.json";

/// `meta.json` of `dir`, when it is readable.
fn meta(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("meta.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// `mission_number` as status.json spells it: meta's number as a decimal string, else a leading
/// `<digits>-` of the slug without leading zeros, else `""`.
fn mission_number(meta: Option<&Value>, slug: &str) -> String {
    match meta.and_then(|m| m.get("mission_number")) {
        Some(Value::Number(n)) => return n.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() => return s.trim().to_string(),
        _ => {}
    }
    let digits: String = slug.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() && slug[digits.len()..].starts_with('-') {
        let trimmed = digits.trim_start_matches('0');
        return if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.into()
        };
    }
    String::new()
}

/// The document of `snap` for the mission directory `dir`.
pub fn document(snap: &Snapshot, dir: &Path) -> Value {
    document_with(snap, meta(dir))
}

/// The document of `snap` with no mission identity (as the reference projects a board onto a
/// merge's target: `mission_type` empty, `mission_number` from the slug alone).
pub fn document_without_identity(snap: &Snapshot) -> Value {
    document_with(snap, None)
}

fn document_with(snap: &Snapshot, meta: Option<Value>) -> Value {
    let mission_type = meta
        .as_ref()
        .and_then(|m| m.get("mission_type"))
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let wps: serde_json::Map<String, Value> = snap
        .work_packages
        .iter()
        .map(|(id, s)| (id.clone(), Value::Object(s.fields.clone())))
        .collect();
    json!({
        "event_count": snap.event_count,
        "last_event_id": snap.last_event_id,
        "materialized_at": snap.materialized_at,
        "mission_number": mission_number(meta.as_ref(), &snap.mission_slug),
        "mission_slug": snap.mission_slug,
        "mission_type": mission_type,
        "summary": snap.summary(),
        "work_packages": wps,
    })
}

/// The bytes of `status.json` for `doc`.
pub fn render(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_default() + "\n"
}

/// Reduce `dir`'s transitions (a transition commit's `status.json` folds no annotation) and
/// write its `status.json` (unless already identical). Returns the snapshot.
pub fn materialize(dir: &Path) -> Result<Snapshot, StatusError> {
    let mut log = log::read(dir)?;
    log.annotations.clear();
    write(dir, &log)
}

/// Reduce `dir`'s whole log, annotations folded in (the reference's status writer after an
/// annotation: subtasks, notes, runtime slots), and write its `status.json`.
pub fn materialize_annotated(dir: &Path) -> Result<Snapshot, StatusError> {
    write(dir, &log::read(dir)?)
}

fn write(dir: &Path, log: &log::Log) -> Result<Snapshot, StatusError> {
    let snap = reduce(log);
    let bytes = render(&document(&snap, dir));
    let path = dir.join(FILE);
    if std::fs::read(&path).ok().as_deref() == Some(bytes.as_bytes()) {
        return Ok(snap);
    }
    let tmp = dir.join(format!("{FILE}.tmp"));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(StatusError::io("write", &path, e));
    }
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_comes_from_meta_then_from_a_numeric_prefix() {
        assert_eq!(
            mission_number(Some(&json!({"mission_number": 7})), "x"),
            "7"
        );
        assert_eq!(
            mission_number(Some(&json!({"mission_number": null})), "007-a"),
            "7"
        );
        assert_eq!(mission_number(None, "greeting-01M91EKY"), "");
    }

    #[test]
    fn an_empty_log_gives_the_empty_board_with_the_directory_s_mission_type() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("meta.json"),
            r#"{"mission_type": " software-dev "}"#,
        )
        .unwrap();
        materialize(t.path()).unwrap();
        let text = std::fs::read_to_string(t.path().join(FILE)).unwrap();
        assert!(text.starts_with("{\n  \"event_count\": 0,\n  \"last_event_id\": null,"));
        assert!(text.contains("\"mission_type\": \"software-dev\""));
        assert!(text.ends_with("\"work_packages\": {}\n}\n"));
    }

    #[test]
    fn a_log_the_reference_wrote_reduces_to_the_status_json_it_wrote() {
        // runs/a1's coordination worktree at the end of a lifecycle: lifecycle envelopes,
        // transitions (forced ones too), annotations and a retrospective row; no meta.json there.
        let log = include_str!("../../../tests/vectors/status-a1/status.events.jsonl");
        let expected = include_str!("../../../tests/vectors/status-a1/status.json");
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(crate::mission::status::log::FILE), log).unwrap();
        materialize(t.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join(FILE)).unwrap(),
            expected
        );
    }
}

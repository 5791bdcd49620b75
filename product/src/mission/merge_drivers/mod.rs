//! The git merge drivers a project's `.gitattributes` names for mission bookkeeping
//! (**interop**: the reference's `merge-driver-event-log`, `merge-driver-traces`,
//! `merge-driver-meta`, `merge-driver-review-cycle`, and the row-aware
//! `merge-driver-acceptance-matrix` and `merge-driver-issue-matrix` in [`matrix`] — git passes
//! `%O %A %B`, the result goes to `%A`, exit 0; their reconciliation rules and the bytes they
//! write).

mod matrix;

pub(crate) use matrix::overall_verdict;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Why a merge cannot be completed (the driver exits 1 with this on stderr; git then leaves the
/// conflict to the user).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct DriverError(pub String);

/// `meta.json` keys the target side decides (acceptance, VCS lock, merge record).
const TARGET_KEYS: [&str; 17] = [
    "accepted_at",
    "accepted_by",
    "accepted_from_commit",
    "acceptance_mode",
    "accept_commit",
    "vcs",
    "vcs_locked_at",
    "mission_number",
    "status",
    "baseline_merge_commit",
    "merged_at",
    "merged_by",
    "merged_into",
    "merged_strategy",
    "merged_push",
    "merged_commit",
    "acceptance_history",
];

/// The three paths git gives, refused unless they share one directory (as git's temporary
/// files always do: a path elsewhere is an injection attempt).
pub fn paths(base: &str, ours: &str, theirs: &str) -> Result<[PathBuf; 3], DriverError> {
    let resolve = |p: &str| {
        let p = Path::new(p);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Resolve the parent (the file itself may not exist yet).
        let parent = abs
            .parent()
            .map(|d| std::fs::canonicalize(d).unwrap_or(d.to_path_buf()));
        (abs, parent)
    };
    let all = [resolve(base), resolve(ours), resolve(theirs)];
    let parents: HashSet<_> = all.iter().map(|(_, d)| d.clone()).collect();
    if parents.len() > 1 {
        let shown: Vec<String> = all.iter().map(|(p, _)| p.display().to_string()).collect();
        return Err(DriverError(format!(
            "refusing merge-driver invocation: %O/%A/%B do not share a parent directory ({shown:?}): refused as a possible path-injection attempt"
        )));
    }
    let [a, b, c] = all;
    Ok([a.0, b.0, c.0])
}

fn read(path: &Path) -> Result<String, DriverError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(DriverError(format!("{}: {e}", path.display()))),
    }
}

fn write(path: &Path, text: &str) -> Result<(), DriverError> {
    std::fs::write(path, text).map_err(|e| DriverError(format!("{}: {e}", path.display())))
}

/// The events of one side of a `status.events.jsonl` merge.
fn events(text: &str, source: &Path) -> Result<Vec<Map<String, Value>>, DriverError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| {
            DriverError(format!(
                "{}: invalid JSON on line {}: {}",
                source.display(),
                n + 1,
                crate::pyfmt::python_json_error(&e, line)
            ))
        })?;
        let Value::Object(m) = v else {
            return Err(DriverError(format!(
                "{}: line {} is not a JSON object",
                source.display(),
                n + 1
            )));
        };
        if m.get("event_id")
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(DriverError(format!(
                "{}: line {} is missing a valid event_id",
                source.display(),
                n + 1
            )));
        }
        out.push(m);
    }
    Ok(out)
}

/// Python's `str()` of a sort key (`at`, else `timestamp`, else empty; `null` is `None`).
fn key_text(v: Option<&Value>) -> String {
    match v {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => crate::pyfmt::python_repr(other),
    }
}

/// The union of three event logs: each event once (by `event_id`; two different payloads under
/// one id refused), ordered by time then id, one sorted-key line each.
pub fn merge_event_logs(sides: [&str; 3], names: [&Path; 3]) -> Result<String, DriverError> {
    let mut merged: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (text, name) in sides.iter().zip(names) {
        for e in events(text, name)? {
            let id = e["event_id"].as_str().unwrap_or_default().to_string();
            if let Some(existing) = merged.get(&id)
                && *existing != e
            {
                return Err(DriverError(format!(
                    "Conflicting payloads found for event_id '{id}'"
                )));
            }
            merged.insert(id, e);
        }
    }
    let mut all: Vec<(String, String, Map<String, Value>)> = merged
        .into_iter()
        .map(|(id, e)| {
            let at = e
                .get("at")
                .filter(|v| truthy(v))
                .or_else(|| e.get("timestamp"));
            (key_text(at), id, e)
        })
        .collect();
    all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(all
        .into_iter()
        .map(|(_, _, e)| crate::pyfmt::to_python_json(&Value::Object(e)).unwrap_or_default() + "\n")
        .collect())
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
    }
}

/// Two trace documents as one: ours then theirs, each non-empty line once, empty lines kept.
pub fn union_traces(ours: &str, theirs: &str) -> String {
    let mut seen = HashSet::new();
    let mut out: Vec<&str> = Vec::new();
    for line in ours.lines().chain(theirs.lines()) {
        if line.trim().is_empty() || seen.insert(line) {
            out.push(line);
        }
    }
    if out.is_empty() {
        String::new()
    } else {
        out.join("\n") + "\n"
    }
}

fn meta_object(text: &str, path: &Path) -> Result<Map<String, Value>, DriverError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DriverError(format!(
            "{}: meta.json is not a JSON object",
            path.display()
        ))),
        Err(e) => Err(DriverError(format!(
            "{}: malformed meta.json ({})",
            path.display(),
            crate::pyfmt::python_json_error(&e, text)
        ))),
    }
}

/// Two `meta.json` documents as one: the mission's (theirs) planning keys, the target's (ours)
/// acceptance, VCS and merge keys, both acceptance histories (each entry once, by time then
/// who); written as meta.json is (sorted keys, two-space indent, non-ASCII kept).
pub fn merge_meta(ours: &str, theirs: &str, names: [&Path; 2]) -> Result<String, DriverError> {
    let ours = meta_object(ours, names[0])?;
    let theirs = meta_object(theirs, names[1])?;
    let mut result = theirs.clone();
    for key in TARGET_KEYS.iter().filter(|k| **k != "acceptance_history") {
        if let Some(v) = ours.get(*key) {
            result.insert((*key).to_string(), v.clone());
        }
    }
    let mut seen = HashSet::new();
    let mut history: Vec<Value> = Vec::new();
    for side in [&theirs, &ours] {
        for entry in side
            .get("acceptance_history")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if seen.insert(crate::pyfmt::to_python_json(entry).unwrap_or_default()) {
                history.push(entry.clone());
            }
        }
    }
    history.sort_by_key(|e| {
        (
            key_text(e.get("accepted_at")),
            key_text(e.get("accepted_by")),
        )
    });
    if !history.is_empty() {
        result.insert("acceptance_history".into(), Value::Array(history));
    }
    Ok(serde_json::to_string_pretty(&Value::Object(result)).unwrap_or_default() + "\n")
}

/// Which driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `status.events.jsonl`.
    EventLog,
    /// `traces/*.md`.
    Traces,
    /// `meta.json`.
    Meta,
    /// `tasks/<wp>/review-cycle-*.md`.
    ReviewCycle,
    /// `acceptance-matrix.json`.
    AcceptanceMatrix,
    /// `issue-matrix.json`.
    IssueMatrix,
}

/// Two review-cycle renders under one name: the same text is no conflict; two texts are both
/// kept, verbatim, between conflict markers (a verdict's prose is not merged), and the merge
/// goes on. Returns the merged text and, for a collision, what to tell the user.
pub fn review_cycle(ours: &str, theirs: &str, name: &str) -> (String, Option<String>) {
    if ours == theirs {
        return (ours.to_string(), None);
    }
    (
        ["<<<<<<< ours", ours, "=======", theirs, ">>>>>>> theirs"].join("\n"),
        Some(format!(
            "review-cycle verdict collision at {name}: two distinct renders of one review cycle; both kept verbatim between conflict markers (the file is prose, the verdict lives in the status log), and the merge goes on"
        )),
    )
}

/// Run `driver` on git's three files: the merged result written to `ours`; what to tell the
/// user, if anything.
pub fn run(
    driver: Driver,
    base: &str,
    ours: &str,
    theirs: &str,
) -> Result<Option<String>, DriverError> {
    let [b, o, t] = paths(base, ours, theirs)?;
    let mut said = None;
    let merged = match driver {
        Driver::EventLog => merge_event_logs([&read(&b)?, &read(&o)?, &read(&t)?], [&b, &o, &t])?,
        Driver::Traces => union_traces(&read(&o)?, &read(&t)?),
        Driver::Meta => merge_meta(&read(&o)?, &read(&t)?, [&o, &t])?,
        Driver::ReviewCycle => {
            let name = o
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (text, message) = review_cycle(&read(&o)?, &read(&t)?, &name);
            said = message;
            text
        }
        Driver::AcceptanceMatrix | Driver::IssueMatrix => {
            let docs = [
                matrix::document(&read(&b)?, &b)?,
                matrix::document(&read(&o)?, &o)?,
                matrix::document(&read(&t)?, &t)?,
            ];
            let [db, dour, dt] = &docs;
            if driver == Driver::AcceptanceMatrix {
                matrix::acceptance_matrix([db, dour, dt])?
            } else {
                matrix::issue_matrix([db, dour, dt])?
            }
        }
    };
    write(&o, &merged)?;
    Ok(said)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn event_logs_are_unioned_by_id_and_ordered_by_time_then_id() {
        let base = r#"{"event_id": "B", "at": "2026-01-01T00:00:02+00:00", "wp_id": "WP01"}"#;
        let ours = format!(
            "{base}\n{}\n\n",
            r#"{"event_id": "C", "at": "2026-01-01T00:00:03+00:00", "x": "é"}"#
        );
        let theirs = format!(
            "{}\n{base}\n{}\n",
            r#"{"event_id": "A", "at": "2026-01-01T00:00:03+00:00"}"#,
            r#"{"event_id": "T", "timestamp": "2026-01-01T00:00:01+00:00"}"#
        );
        let names = [p("O"), p("A"), p("B")];
        let merged =
            merge_event_logs([base, &ours, &theirs], [&names[0], &names[1], &names[2]]).unwrap();
        let ids: Vec<String> = merged
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["event_id"].to_string())
            .collect();
        assert_eq!(ids, ["\"T\"", "\"B\"", "\"A\"", "\"C\""]);
        // Python's json.dumps(sort_keys=True): sorted keys, `", "` and `": "`, ASCII escapes.
        assert!(
            merged
                .contains(r#"{"at": "2026-01-01T00:00:03+00:00", "event_id": "C", "x": "\u00e9"}"#),
            "{merged}"
        );
        assert!(merged.ends_with('\n'));
    }

    #[test]
    fn an_event_log_merge_refuses_bad_lines_and_two_payloads_under_one_id() {
        let n = [p("O"), p("A"), p("B")];
        let names = [n[0].as_path(), n[1].as_path(), n[2].as_path()];
        let err = |sides: [&str; 3]| merge_event_logs(sides, names).unwrap_err().0;
        assert_eq!(
            err([
                "",
                "{\"event_id\": \"X\", \"a\": 1}",
                "{\"event_id\": \"X\", \"a\": 2}"
            ]),
            "Conflicting payloads found for event_id 'X'"
        );
        assert_eq!(err(["", "[1]", ""]), "A: line 1 is not a JSON object");
        assert_eq!(
            err(["", "\n{\"at\": 1}", ""]),
            "A: line 2 is missing a valid event_id"
        );
        assert_eq!(
            err(["{nope", "", ""]),
            "O: invalid JSON on line 1: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
        // The same event on several sides is one event.
        let e = "{\"event_id\": \"X\", \"at\": \"t\"}";
        assert_eq!(
            merge_event_logs([e, e, e], names).unwrap().lines().count(),
            1
        );
    }

    #[test]
    fn an_empty_or_null_time_gives_way_to_the_timestamp_as_python_s_truthiness_says() {
        use serde_json::json;
        for (v, t) in [
            (json!(""), false),
            (json!("x"), true),
            (json!([]), false),
            (json!([1]), true),
            (json!({}), false),
            (json!({"a": 1}), true),
            (json!(0), false),
            (json!(0.0), false),
            (json!(2), true),
            (json!(null), false),
            (json!(false), false),
            (json!(true), true),
        ] {
            assert_eq!(truthy(&v), t, "{v}");
        }
        let n = [p("O"), p("A"), p("B")];
        let names = [n[0].as_path(), n[1].as_path(), n[2].as_path()];
        let log = "{\"event_id\": \"1\", \"at\": \"\", \"timestamp\": \"b\"}\n{\"event_id\": \"2\", \"at\": \"a\"}\n";
        let merged = merge_event_logs(["", log, ""], names).unwrap();
        assert!(merged.starts_with("{\"at\": \"a\""), "{merged}");
    }

    #[test]
    fn a_missing_side_is_empty_and_an_unreadable_one_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let f = |n: &str| t.path().join(n).display().to_string();
        std::fs::write(t.path().join("A"), "x\n").unwrap();
        run(Driver::Traces, &f("O"), &f("A"), &f("B")).unwrap();
        assert_eq!(std::fs::read_to_string(t.path().join("A")).unwrap(), "x\n");
        std::fs::create_dir(t.path().join("D")).unwrap();
        assert!(run(Driver::Traces, &f("O"), &f("A"), &f("D")).is_err());
    }

    #[test]
    fn traces_keep_each_line_once_and_every_blank_line() {
        assert_eq!(
            union_traces("# T\n\na\nb\n", "# T\n\nb\nc\n"),
            "# T\n\na\nb\n\nc\n"
        );
        assert_eq!(union_traces("", ""), "");
    }

    #[test]
    fn meta_keeps_the_mission_s_planning_and_the_target_s_acceptance() {
        let ours = r#"{"slug": "old", "accepted_at": "2", "accepted_by": "t", "mission_number": 3, "acceptance_history": [{"accepted_at": "2", "accepted_by": "t"}]}"#;
        let theirs = r#"{"slug": "new", "friendly_name": "née", "acceptance_history": [{"accepted_at": "1", "accepted_by": "m"}, {"accepted_at": "2", "accepted_by": "t"}]}"#;
        let merged = merge_meta(ours, theirs, [&p("A"), &p("B")]).unwrap();
        let v: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(v["slug"], "new");
        assert_eq!(v["accepted_by"], "t");
        assert_eq!(v["mission_number"], 3);
        assert_eq!(v["acceptance_history"].as_array().unwrap().len(), 2);
        assert_eq!(v["acceptance_history"][0]["accepted_by"], "m");
        assert!(merged.contains("\"née\""), "non-ASCII kept: {merged}");
        assert!(
            merged.starts_with("{\n  \"acceptance_history\""),
            "{merged}"
        );
        assert_eq!(
            merge_meta("[]", "{}", [&p("A"), &p("B")]).unwrap_err().0,
            "A: meta.json is not a JSON object"
        );
        assert!(
            merge_meta("{", "{}", [&p("A"), &p("B")])
                .unwrap_err()
                .0
                .starts_with("A: malformed meta.json (")
        );
        assert_eq!(merge_meta(" ", "", [&p("A"), &p("B")]).unwrap(), "{}\n");
    }

    #[test]
    fn review_cycle_renders_are_kept_whole_on_a_collision() {
        assert_eq!(
            review_cycle("a\n", "a\n", "r.md"),
            ("a\n".to_string(), None)
        );
        let (text, said) = review_cycle("a\n", "b\n", "review-cycle-1.md");
        assert_eq!(text, "<<<<<<< ours\na\n\n=======\nb\n\n>>>>>>> theirs");
        assert!(
            said.unwrap()
                .starts_with("review-cycle verdict collision at review-cycle-1.md: ")
        );
    }

    #[test]
    fn the_three_files_must_share_a_directory() {
        let t = tempfile::tempdir().unwrap();
        let f = |n: &str| t.path().join(n).display().to_string();
        assert!(paths(&f("O"), &f("A"), &f("B")).is_ok());
        let err = paths(&f("O"), "/etc/passwd", &f("B")).unwrap_err().0;
        assert!(err.starts_with("refusing merge-driver invocation"), "{err}");
    }

    #[test]
    fn a_driver_writes_the_merge_to_ours() {
        let t = tempfile::tempdir().unwrap();
        let f = |n: &str, text: &str| {
            std::fs::write(t.path().join(n), text).unwrap();
            t.path().join(n).display().to_string()
        };
        let (o, a, b) = (f("O", ""), f("A", "x\n"), f("B", "y\n"));
        run(Driver::Traces, &o, &a, &b).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "x\ny\n");
        let a = f("A", "{\"slug\": \"a\"}");
        run(Driver::Meta, &o, &a, &f("B", "{\"slug\": \"b\"}")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&a).unwrap(),
            "{\n  \"slug\": \"b\"\n}\n"
        );
        let a = f("A", "{\"event_id\": \"1\", \"at\": \"t\"}\n");
        run(Driver::EventLog, &o, &a, &f("B", "")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&a).unwrap(),
            "{\"at\": \"t\", \"event_id\": \"1\"}\n"
        );
    }
}

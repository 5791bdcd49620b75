//! A mission's files as the reference's generator reads them (**interop**: Python's
//! `read_text` with universal newlines, `str.splitlines`, `str.strip`, the status log's lines
//! decoded one by one, undecodable ones skipped).

use std::path::Path;

use serde_json::{Map, Value};

/// The mission's files the rules read.
#[derive(Debug, Default)]
pub struct Inputs {
    /// The mission directory's name.
    pub dir_name: String,
    /// Whether `meta.json` read as a non-empty object.
    pub has_meta: bool,
    /// `spec.md`, `plan.md`, `tasks.md` (empty when absent).
    pub spec: String,
    /// `plan.md`.
    pub plan: String,
    /// `tasks.md`.
    pub tasks: String,
    /// `research.md`, when it exists.
    pub research: Option<String>,
    /// `data-model.md`, when it exists.
    pub data_model: Option<String>,
    /// `workflow-failures-log.md`, when it exists.
    pub failures: Option<String>,
    /// `analysis-report.md`, when it exists.
    pub analysis: Option<String>,
    /// `mission-review-report.md`, when it exists.
    pub review: Option<String>,
    /// `traces/*.md`: (repository-relative label, text), by name.
    pub traces: Vec<(String, String)>,
    /// `tasks/WP*.md`: (file name, text), by name.
    pub wp_files: Vec<(String, String)>,
    /// The status log's objects, in file order.
    pub events: Vec<Map<String, Value>>,
}

/// Why the generator leaves a mission to the reference (input its Python reads differently).
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported(pub String);

/// A file as Python's `read_text` gives it: `None` when absent, newlines translated.
pub fn read_text(path: &Path) -> Result<Option<String>, Unsupported> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(|t| Some(t.replace("\r\n", "\n").replace('\r', "\n")))
            .map_err(|_| Unsupported(format!("{} is not UTF-8", path.display()))),
        Err(_) => Ok(None),
    }
}

/// Python's `str.splitlines()` on text whose newlines are already `\n`.
pub(super) fn splitlines(text: &str) -> impl Iterator<Item = &str> {
    let mut lines: Vec<&str> = text
        .split([
            '\n', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}',
        ])
        .collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines.into_iter()
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// The status log's objects (blank and undecodable lines skipped, as the reference does).
pub fn parse_events(text: &str) -> Result<Vec<Map<String, Value>>, Unsupported> {
    let mut events = Vec::new();
    for line in splitlines(text) {
        let line = py_strip(line);
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(o)) => {
                if o.get("wp_id")
                    .is_some_and(|w| !w.is_string() && super::generator::to_py(w).truthy())
                {
                    return Err(Unsupported("an event's wp_id is not a string".into()));
                }
                events.push(o);
            }
            Ok(_) => return Err(Unsupported("a status log line is not an object".into())),
            Err(_) => {}
        }
    }
    Ok(events)
}

/// The mission directory's files, as the generator reads them.
pub fn inputs(
    dir: &Path,
    dir_name: &str,
    meta: &Value,
    traces_dir: &Path,
) -> Result<Inputs, Unsupported> {
    let text = |name: &str| read_text(&dir.join(name));
    let mut wp_files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("tasks")) {
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("WP") && n.ends_with(".md") && n.len() >= 5)
            .collect();
        names.sort();
        for n in names {
            if let Some(t) = read_text(&dir.join("tasks").join(&n))? {
                wp_files.push((n, t));
            }
        }
    }
    let mut traces = Vec::new();
    if let Ok(rd) = std::fs::read_dir(traces_dir.join("traces")) {
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md") && !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            // An unreadable or non-UTF-8 tracer is skipped, as the reference skips it.
            if let Ok(Some(t)) = read_text(&traces_dir.join("traces").join(&n)) {
                traces.push((format!("kitty-specs/{dir_name}/traces/{n}"), t));
            }
        }
    }
    Ok(Inputs {
        dir_name: dir_name.into(),
        has_meta: meta.as_object().is_some_and(|m| !m.is_empty()),
        spec: text("spec.md")?.unwrap_or_default(),
        plan: text("plan.md")?.unwrap_or_default(),
        tasks: text("tasks.md")?.unwrap_or_default(),
        research: text("research.md")?,
        data_model: text("data-model.md")?,
        failures: text("workflow-failures-log.md")?,
        analysis: text("analysis-report.md")?,
        review: text("mission-review-report.md")?,
        traces,
        wp_files,
        events: parse_events(&text(crate::mission::status::log::FILE)?.unwrap_or_default())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mission_s_files_are_read_as_python_globs_and_reads_them() {
        let base = std::env::temp_dir().join(format!("kitty-inputs-{}", std::process::id()));
        let dir = base.join("m");
        let other = base.join("coord");
        for d in [
            dir.join("tasks/WP09.md"),
            dir.join("traces"),
            other.join("traces"),
        ] {
            std::fs::create_dir_all(d).unwrap();
        }
        let write = |p: &Path, t: &[u8]| std::fs::write(p, t).unwrap();
        write(&dir.join("spec.md"), b"a\r\nb\rc\n");
        write(&dir.join("research.md"), b"");
        write(&dir.join("tasks/WP02.md"), b"two");
        write(&dir.join("tasks/WP.md"), b"bare");
        write(&dir.join("tasks/wp03.md"), b"lower");
        write(&dir.join("tasks/WP04.txt"), b"text");
        write(&dir.join("traces/here.md"), b"- **primary**");
        write(&other.join("traces/b.md"), b"- **b**");
        write(&other.join("traces/a.md"), b"- **a**");
        write(&other.join("traces/.hidden.md"), b"- **h**");
        write(&other.join("traces/bad.md"), b"\xff");
        write(&other.join("traces/c.txt"), b"- **c**");
        write(&dir.join("status.events.jsonl"), b"{\"wp_id\": \"WP01\"}\n");
        let i = inputs(&dir, "m", &serde_json::json!({"a": 1}), &other).unwrap();
        assert_eq!(i.spec, "a\nb\nc\n");
        assert_eq!(
            (
                i.plan.as_str(),
                i.research.as_deref(),
                i.data_model.as_deref()
            ),
            ("", Some(""), None)
        );
        let names: Vec<&str> = i.wp_files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["WP.md", "WP02.md"]);
        let traces: Vec<&str> = i.traces.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            traces,
            ["kitty-specs/m/traces/a.md", "kitty-specs/m/traces/b.md"]
        );
        assert!(i.has_meta && i.events.len() == 1);
        assert!(
            !inputs(&dir, "m", &serde_json::json!({}), &other)
                .unwrap()
                .has_meta
        );
        write(&dir.join("plan.md"), b"\xfe");
        assert!(inputs(&dir, "m", &serde_json::json!({}), &other).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}

//! Appending transition lines to a log as the reference writes them (sorted keys, Python's
//! `json.dumps` layout, personal keys removed), one whole write per call.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::StatusError;
use super::event::Transition;
use super::log::FILE;

/// Keys the reference's sanitiser removes at any depth before a line is written.
const PERSONAL_KEYS: [&str; 5] = [
    "machine_name",
    "hostname",
    "workspace_path",
    "developer_name",
    "developer_email",
];

fn sanitise(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in PERSONAL_KEYS {
                o.remove(k);
            }
            o.values_mut().for_each(sanitise);
        }
        Value::Array(a) => a.iter_mut().for_each(sanitise),
        _ => {}
    }
}

/// The line of `t` (newline-terminated).
pub fn line(t: &Transition) -> String {
    let mut v = t.to_json();
    sanitise(&mut v);
    crate::pyfmt::to_python_json(&v).unwrap_or_default() + "\n"
}

/// Append `lines` (whole lines) to `dir`'s log in one write, synced.
pub fn append_lines(dir: &Path, lines: &str) -> Result<(), StatusError> {
    if lines.is_empty() {
        return Ok(());
    }
    let path = dir.join(FILE);
    let existing_ends_clean = match std::fs::read(&path) {
        Ok(b) => b.is_empty() || b.ends_with(b"\n"),
        Err(_) => true,
    };
    let text = if existing_ends_clean {
        lines.to_string()
    } else {
        format!("\n{lines}")
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StatusError::io("append to", &path, e))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| StatusError::io("append to", &path, e))
}

/// The line of an annotation (newline-terminated).
pub fn annotation_line(a: &super::event::Annotation) -> String {
    let mut v = a.to_json();
    sanitise(&mut v);
    crate::pyfmt::to_python_json(&v).unwrap_or_default() + "\n"
}

/// Append one transition to `dir`'s log.
pub fn append(dir: &Path, t: &Transition) -> Result<(), StatusError> {
    append_lines(dir, &line(t))
}

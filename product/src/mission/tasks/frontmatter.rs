//! A work-package file: its YAML frontmatter (read with the reference's schema: unknown keys
//! refused, string forms of lists split) and body, and the rewrite the reference's writer makes
//! (every list field written, runtime fields re-pointed, its key order).

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::TasksError;
use super::yaml_out::MapsInLists;

/// The keys a work-package frontmatter may hold.
const ALLOWED: &[&str] = &[
    "work_package_id",
    "title",
    "dependencies",
    "base_branch",
    "base_commit",
    "created_at",
    "planning_base_branch",
    "merge_target_branch",
    "branch_strategy",
    "requirement_refs",
    "tracker_refs",
    "priority",
    "execution_mode",
    "owned_files",
    "create_intent",
    "authoritative_surface",
    "scope",
    "task_type",
    "subtasks",
    "phase",
    "phases",
    "assignee",
    "agent",
    "model",
    "agent_profile",
    "role",
    "shell_pid",
    "shell_pid_created_at",
    "history",
    "lane",
    "feature_slug",
    "activity_log",
    "review_status",
    "reviewed_by",
    "approved_by",
    "reviewer",
    "reviewer_agent",
    "reviewer_shell_pid",
    "review_feedback",
    "review_feedback_file",
    "subtitle",
    "description",
    "estimated_duration",
    "tags",
    "mission_id",
    "mission_number",
    "mission_slug",
    "status",
    "wp_code",
    "work_package_title",
];

/// The list fields the writer always writes (`[]` when empty).
const LIST_FIELDS: [&str; 8] = [
    "dependencies",
    "requirement_refs",
    "tracker_refs",
    "owned_files",
    "create_intent",
    "subtasks",
    "history",
    "tags",
];

/// The keys written first, in this order, when present; the rest follow sorted.
const LEADING: [&str; 18] = [
    "work_package_id",
    "title",
    "dependencies",
    "requirement_refs",
    "planning_base_branch",
    "merge_target_branch",
    "branch_strategy",
    "base_branch",
    "base_commit",
    "created_at",
    "subtasks",
    "phase",
    "assignee",
    "agent",
    "shell_pid",
    "shell_pid_created_at",
    "scope",
    "history",
];

/// The runtime fields the writer takes from the status log, not from the file.
pub const RUNTIME: [&str; 4] = ["agent", "assignee", "shell_pid", "shell_pid_created_at"];

/// A work-package file as read.
#[derive(Debug, Clone)]
pub struct WpFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its file name.
    pub name: String,
    /// The whole text (BOM removed).
    pub text: String,
    /// The frontmatter's raw text (between the fences).
    pub raw: String,
    /// The frontmatter, validated, list fields normalised.
    pub meta: Mapping,
    /// Everything after the closing fence.
    pub body: String,
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// `"WP01, WP02"` → `[WP01, WP02]`; `"[]"` → `[]`.
fn split_list(text: &str) -> Value {
    let t = text.trim();
    if t.is_empty() || t == "[]" {
        return Value::Sequence(Vec::new());
    }
    Value::Sequence(
        t.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(s)
            .collect(),
    )
}

impl WpFile {
    /// Read and validate the file at `path`.
    pub fn read(path: &Path) -> Result<Self, TasksError> {
        let text = std::fs::read_to_string(path).map_err(|e| TasksError::Frontmatter {
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.first().is_none_or(|l| l.trim_end() != "---") {
            return Err(TasksError::Frontmatter {
                message: format!(
                    "{} has no frontmatter: the file must start with a `---` line, the YAML, then a closing `---` line",
                    path.display()
                ),
            });
        }
        let close = lines
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, l)| l.trim() == "---")
            .map(|(i, _)| i)
            .ok_or_else(|| TasksError::Frontmatter {
                message: format!(
                    "{}: the frontmatter is never closed: add a `---` line after it",
                    path.display()
                ),
            })?;
        let raw = lines[1..close].join("\n");
        let body = lines[close + 1..].join("\n");
        let parsed: Value = parse_yaml(&raw).map_err(|e| TasksError::Frontmatter {
            message: format!(
                "{}: the frontmatter is not valid YAML ({e})",
                path.display()
            ),
        })?;
        let meta = match unomap(parsed) {
            Value::Mapping(m) => m,
            Value::Null => Mapping::new(),
            _ => {
                return Err(TasksError::Frontmatter {
                    message: format!("{}: the frontmatter must be a YAML mapping", path.display()),
                });
            }
        };
        let meta = validate(path, meta)?;
        Ok(Self {
            path: path.to_path_buf(),
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text,
            raw,
            meta,
            body,
        })
    }

    /// A string field (`None` when absent, null or not a string).
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.meta.get(key).and_then(Value::as_str)
    }

    /// A list field's strings.
    pub fn get_list(&self, key: &str) -> Vec<String> {
        self.meta
            .get(key)
            .and_then(Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The id (`work_package_id`).
    pub fn id(&self) -> &str {
        self.get_str("work_package_id").unwrap_or_default()
    }

    /// Whether the raw frontmatter has a `key:` line.
    pub fn has_raw_key(&self, key: &str) -> bool {
        self.raw.lines().any(|l| {
            let t = l.trim_start();
            t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
    }
}

/// The local tag `!!omap` is read as (the YAML reader drops the standard tags, and with them
/// the only mark of an ordered map).
const OMAP_TAG: &str = "!kitty-omap";

/// Parse frontmatter YAML, keeping each `!!omap` tag (as [`OMAP_TAG`]) for [`unomap`].
pub fn parse_yaml(raw: &str) -> Result<Value, serde_yaml_ng::Error> {
    static OMAP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?m)(^|[\s:-])!!omap(\s|$)")
            .unwrap_or_else(|_| unreachable!("a valid pattern"))
    });
    let raw = OMAP.replace_all(raw, format!("${{1}}{OMAP_TAG}${{2}}").as_str());
    serde_yaml_ng::from_str(&raw)
}

/// `!!omap` sequences of one-key mappings (the reference's map-requirements writes mappings in
/// lists so) read back as the mappings they are, at any depth.
pub fn unomap(v: Value) -> Value {
    match v {
        Value::Tagged(t) if t.tag == OMAP_TAG => match t.value {
            Value::Sequence(items) => {
                let mut m = Mapping::new();
                for item in items {
                    if let Value::Mapping(one) = unomap(item) {
                        m.extend(one);
                    }
                }
                Value::Mapping(m)
            }
            other => unomap(other),
        },
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(unomap).collect()),
        Value::Mapping(m) => Value::Mapping(m.into_iter().map(|(k, v)| (k, unomap(v))).collect()),
        other => other,
    }
}

/// The reference's schema: known keys only, an id `WP` + two or more digits, string forms of
/// the list fields split on commas.
fn validate(path: &Path, mut meta: Mapping) -> Result<Mapping, TasksError> {
    let unknown: Vec<String> = meta
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| !ALLOWED.contains(k))
        .map(str::to_string)
        .collect();
    if !unknown.is_empty() {
        return Err(TasksError::Frontmatter {
            message: format!(
                "{}: unknown frontmatter key(s) {}: remove them (work-package frontmatter accepts only the known fields)",
                path.display(),
                unknown.join(", ")
            ),
        });
    }
    if !meta.contains_key("title")
        && let Some(t) = meta.remove("work_package_title")
    {
        meta.insert(s("title"), t);
    }
    let id = meta
        .get("work_package_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let valid_id =
        id.len() >= 4 && id.starts_with("WP") && id[2..].bytes().all(|b| b.is_ascii_digit());
    if !valid_id {
        return Err(TasksError::Frontmatter {
            message: format!(
                "{}: work_package_id must be WP followed by two or more digits (e.g. WP01), got '{id}'",
                path.display()
            ),
        });
    }
    let is_wp_file = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("WP"));
    if is_wp_file && !meta.contains_key("dependencies") {
        meta.insert(s("dependencies"), Value::Sequence(Vec::new()));
    }
    for key in ["dependencies", "requirement_refs", "tracker_refs"] {
        if let Some(Value::String(text)) = meta.get(key) {
            let list = split_list(text);
            meta.insert(s(key), list);
        }
    }
    if let Some(phase) = meta.get("phase")
        && !phase.is_string()
        && !phase.is_null()
    {
        let text = match phase {
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            other => serde_yaml_ng::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
        };
        meta.insert(s("phase"), s(&text));
    }
    if meta.get("base_commit").and_then(Value::as_str) == Some("unknown") {
        meta.insert(s("base_commit"), Value::Null);
    }
    if meta.get("shell_pid").and_then(Value::as_str) == Some("") {
        meta.insert(s("shell_pid"), Value::Null);
    }
    Ok(meta)
}

/// The file text the reference's writer makes of `meta` and `body`: nulls dropped, every list
/// field written, the runtime fields taken from `runtime` (the status log's values), its order.
pub fn render(meta: &Mapping, body: &str, runtime: &[(&str, Option<Value>)]) -> String {
    render_with(meta, body, runtime, MapsInLists::Plain)
}

/// [`render`], with mappings inside lists written as `style` says.
pub fn render_with(
    meta: &Mapping,
    body: &str,
    runtime: &[(&str, Option<Value>)],
    style: MapsInLists,
) -> String {
    let mut all = meta.clone();
    for key in LIST_FIELDS {
        if all.get(key).is_none_or(Value::is_null) {
            all.insert(s(key), Value::Sequence(Vec::new()));
        }
    }
    for key in RUNTIME {
        all.remove(key);
    }
    for (key, v) in runtime {
        if let Some(v) = v {
            all.insert(s(key), v.clone());
        }
    }
    let mut ordered = Mapping::new();
    for key in LEADING {
        if let Some(v) = all.get(key).filter(|v| !v.is_null()) {
            ordered.insert(s(key), v.clone());
        }
    }
    let mut rest: Vec<(String, Value)> = all
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone())))
        .filter(|(k, v)| !LEADING.contains(&k.as_str()) && !v.is_null())
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in rest {
        ordered.insert(s(&k), v);
    }
    format!(
        "---\n{}---\n{body}",
        super::yaml_out::to_yaml_with(&ordered, style)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_omap_reads_back_as_a_mapping_at_any_depth() {
        let v = parse_yaml(
            "history:\n- !!omap\n  - at: x\n  - n: !!omap\n    - a: 1\n  - l:\n    - p\n  - e: !!omap []\n",
        )
        .unwrap();
        let plain: Value =
            serde_yaml_ng::from_str("history:\n- at: x\n  n: {a: 1}\n  l: [p]\n  e: {}\n").unwrap();
        assert_eq!(unomap(v), plain);
    }
}

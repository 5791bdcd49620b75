//! The acceptance summary: what `accept` reads of a mission and what it finds wrong (**interop**:
//! the reference's `AcceptanceSummary` — its keys, its sentences, its order).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::dirt;
use crate::mission::status::reduce::{Snapshot, WpState};

/// The nine lanes the summary files work packages under, in its order.
pub const BUCKETS: [&str; 9] = [
    "planned",
    "claimed",
    "in_progress",
    "for_review",
    "in_review",
    "approved",
    "done",
    "blocked",
    "canceled",
];

/// One work package's row.
#[derive(Debug, Clone, Serialize)]
pub struct WorkPackage {
    /// Its id (the frontmatter's `work_package_id`, else the file's stem).
    pub id: String,
    /// Its bucket.
    pub lane: String,
    /// Its title.
    pub title: String,
    /// Its file, relative to the repository.
    pub path: String,
    /// Its lane in the log, if any.
    pub latest_lane: Option<String>,
    /// Whether the log names it.
    pub has_lane_entry: bool,
    /// Its runtime slots.
    pub metadata: WpMetadata,
}

/// A work package's runtime slots, as text.
#[derive(Debug, Clone, Serialize)]
pub struct WpMetadata {
    lane: Option<String>,
    agent: Option<String>,
    assignee: Option<String>,
    shell_pid: Option<String>,
}

/// A check and what it found.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// The check's name.
    pub check: String,
    /// The finding.
    pub detail: String,
}

impl Check {
    /// `{check, detail}`.
    pub fn new(check: &str, detail: impl Into<String>) -> Self {
        Self {
            check: check.into(),
            detail: detail.into(),
        }
    }
}

/// A work package an operator canceled.
#[derive(Debug, Clone, Serialize)]
pub struct Canceled {
    wp_id: String,
    reason: String,
    actor: String,
    at: String,
}

/// The whole summary, in the reference's key order.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The mission's slug (meta.json's).
    pub mission_slug: String,
    /// Its number, if it has one.
    pub mission_number: Option<i64>,
    /// Its type (empty when meta.json has none).
    pub mission_type: String,
    /// The primary checkout's branch.
    pub branch: Option<String>,
    /// The primary checkout.
    pub repo_root: String,
    /// The mission directory there.
    pub feature_dir: String,
    /// Its `tasks/`.
    pub tasks_dir: String,
    /// The work tree accept checks (the primary checkout).
    pub worktree_root: String,
    /// Where accept ran (the reference resolves `.git` against the working directory).
    pub primary_repo_root: String,
    /// The work packages by lane (all nine lanes).
    pub lanes: Map<String, Value>,
    /// One row per work package file.
    pub work_packages: Vec<WorkPackage>,
    /// Runtime metadata missing (strict).
    pub metadata_issues: Vec<String>,
    /// The log's and the gates' findings.
    pub activity_issues: Vec<String>,
    /// Unchecked `tasks.md` rows.
    pub unchecked_tasks: Vec<String>,
    /// Files with undecided clarification markers.
    pub needs_clarification: Vec<String>,
    /// Required files missing.
    pub missing_artifacts: Vec<String>,
    /// Optional artifacts missing.
    pub optional_missing: Vec<String>,
    /// Uncommitted work (`git status` lines).
    pub git_dirty: Vec<String>,
    /// Path conventions not met (strict).
    pub path_violations: Vec<String>,
    /// Advice that does not block.
    pub warnings: Vec<String>,
    /// Every finding, by check.
    pub failed_checks: Vec<Check>,
    /// Checks not run, and why.
    pub skipped_checks: Vec<Check>,
    /// Checks that could not pass.
    pub blocked_checks: Vec<Check>,
    /// The fixes, in order.
    pub recommended_fix_order: Vec<String>,
    /// Work packages an operator canceled.
    pub canceled_wps: Vec<Canceled>,
    /// Every package approved, done or canceled by an operator, one delivered.
    pub all_done: bool,
    /// Ready to accept.
    pub ok: bool,
}

impl Summary {
    /// The document (`summary.to_dict()`).
    pub fn doc(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// The work packages in `lane`.
    pub fn in_lane(&self, lane: &str) -> Vec<Value> {
        self.lanes
            .get(lane)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// `accepted_wps`, `approved_wps`, `done_wps`, `merge_pending_wps` added to `doc`.
    pub fn with_derivations(&self, doc: &mut Map<String, Value>) {
        let approved = self.in_lane("approved");
        let done = self.in_lane("done");
        let accepted: Vec<Value> = approved.iter().chain(done.iter()).cloned().collect();
        doc.insert("accepted_wps".into(), Value::Array(accepted));
        doc.insert("approved_wps".into(), Value::Array(approved.clone()));
        doc.insert("done_wps".into(), Value::Array(done));
        doc.insert("merge_pending_wps".into(), Value::Array(approved));
    }
}

/// A work package file as the summary reads it.
#[derive(Debug, Clone)]
pub struct WpFile {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its path relative to the repository.
    pub rel: String,
    /// Its frontmatter's top-level keys with their raw values.
    pub keys: Vec<(String, String)>,
}

/// The top-level `key: value` pairs of a frontmatter block (quotes around a value dropped).
pub fn frontmatter(text: &str) -> Vec<(String, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n');
    if lines.next().map(str::trim_end) != Some("---") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in lines {
        if line.trim() == "---" {
            break;
        }
        if line.starts_with([' ', '\t', '-', '#']) {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), unquote(v.trim())));
        }
    }
    out
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}

/// The work package files of `tasks` (sorted by path, `README.md` skipped), read as UTF-8.
pub fn wp_files(root: &Path, tasks: &Path) -> Vec<WpFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(tasks)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| x == "md")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case("readme.md"))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let keys = frontmatter(&text);
            let get = |k: &str| {
                keys.iter()
                    .find(|(key, v)| key == k && !v.is_empty())
                    .map(|(_, v)| v.clone())
            };
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            WpFile {
                id: get("work_package_id").unwrap_or(stem),
                title: get("title").unwrap_or_default(),
                rel: dirt::rel(root, &p),
                keys,
            }
        })
        .collect()
}

/// Python's `str()` of a slot's value.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::pyfmt::python_repr(other),
    }
}

/// Whether an operator canceled it.
pub fn operator_canceled(state: Option<&WpState>) -> bool {
    state.is_some_and(|s| s.fields.get("reason_source").and_then(Value::as_str) == Some("operator"))
}

/// What the work packages and the log say: the rows, the lanes, the metadata and readiness
/// issues, the operator cancellations, `all_done`; and whether every package is acceptable.
pub struct Board {
    /// The rows.
    pub work_packages: Vec<WorkPackage>,
    /// The lanes.
    pub lanes: Map<String, Value>,
    /// Metadata missing.
    pub metadata_issues: Vec<String>,
    /// Log and readiness findings.
    pub activity_issues: Vec<String>,
    /// Operator cancellations.
    pub canceled_wps: Vec<Canceled>,
    /// `all_done`.
    pub all_done: bool,
    /// At least one package, each approved, done or canceled by an operator.
    pub all_acceptable: bool,
}

/// Read the board of `files` against `snapshot` (`log_exists`: the log file is there).
pub fn board(
    slug: &str,
    files: &[WpFile],
    snapshot: &Snapshot,
    log_exists: bool,
    strict: bool,
) -> Board {
    let mut lanes: Map<String, Value> = BUCKETS
        .iter()
        .map(|b| ((*b).to_string(), json!([])))
        .collect();
    let mut rows = Vec::new();
    let mut metadata_issues = Vec::new();
    let mut activity_issues = Vec::new();
    let mut canceled_wps = Vec::new();
    let no_state = !log_exists || snapshot.work_packages.is_empty();
    if no_state {
        activity_issues.push(format!(
            "No canonical state found for feature '{slug}'. Cannot validate acceptance without status.events.jsonl. Run 'spec-kitty agent mission finalize-tasks --mission {slug}' to bootstrap the event log."
        ));
    }
    let (mut acceptable, mut delivered) = (true, false);
    for f in files {
        let state = snapshot.work_packages.get(&f.id);
        let latest = state.map(|s| s.lane.as_str().to_string());
        let bucket = latest
            .as_deref()
            .filter(|l| BUCKETS.contains(l))
            .unwrap_or("planned")
            .to_string();
        if let Some(Value::Array(a)) = lanes.get_mut(&bucket) {
            a.push(json!(f.id));
        }
        let slot = |k: &str| state.and_then(|s| s.slot(k)).map(text_of);
        let agent = slot("agent");
        if strict {
            if agent.as_deref().is_none_or(str::is_empty) {
                metadata_issues.push(format!(
                    "{}: missing agent in canonical runtime state",
                    f.id
                ));
            }
            if matches!(
                latest.as_deref(),
                Some("doing" | "in_progress" | "for_review")
            ) {
                for k in ["assignee", "shell_pid"] {
                    if slot(k).as_deref().is_none_or(str::is_empty) {
                        metadata_issues
                            .push(format!("{}: missing {k} in canonical runtime state", f.id));
                    }
                }
            }
        }
        let op_canceled = operator_canceled(state);
        if op_canceled {
            let field = |k: &str| {
                state
                    .and_then(|s| s.fields.get(k))
                    .filter(|v| !v.is_null())
                    .map(text_of)
                    .unwrap_or_default()
            };
            canceled_wps.push(Canceled {
                wp_id: f.id.clone(),
                reason: field("cancellation_reason"),
                actor: field("actor"),
                at: field("last_transition_at"),
            });
        }
        let good = matches!(bucket.as_str(), "approved" | "done");
        delivered |= good;
        acceptable &= good || op_canceled;
        if !no_state {
            match &latest {
                None => activity_issues.push(format!(
                    "{}: no canonical state found in status.events.jsonl",
                    f.id
                )),
                Some(l) if !(matches!(l.as_str(), "approved" | "done") || op_canceled) => {
                    activity_issues.push(format!(
                        "{}: canonical lane is '{l}', expected 'approved' or 'done'",
                        f.id
                    ));
                }
                Some(_) => {}
            }
        }
        rows.push(WorkPackage {
            id: f.id.clone(),
            lane: bucket,
            title: f.title.clone(),
            path: f.rel.clone(),
            latest_lane: latest.clone(),
            has_lane_entry: state.is_some(),
            metadata: WpMetadata {
                lane: latest,
                agent,
                assignee: slot("assignee"),
                shell_pid: slot("shell_pid"),
            },
        });
    }
    let all_acceptable = !files.is_empty() && acceptable;
    Board {
        work_packages: rows,
        lanes,
        metadata_issues,
        activity_issues,
        canceled_wps,
        all_done: files.is_empty() || (acceptable && delivered),
        all_acceptable,
    }
}

static UNCHECKED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^-\s*\[\s*\]\s*(T\d{3,})\b").unwrap());

/// The unchecked `- [ ] T001` rows of `tasks.md` outside code fences (stripped).
pub fn unchecked(tasks_md: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in tasks_md.split('\n') {
        let s = line.trim();
        if s.starts_with("```") || s.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if !fenced && UNCHECKED.is_match(s) {
            out.push(s.to_string());
        }
    }
    out
}

/// The decision ids a `[NEEDS CLARIFICATION: ...]` marker's `<!-- decision_id: X -->` names.
fn clarification_ids(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find("[NEEDS CLARIFICATION:") else {
            continue;
        };
        let Some(end) = line[start..].find(']').map(|i| i + start) else {
            continue;
        };
        let Some(open) = line[end..].find("<!--").map(|i| i + end) else {
            continue;
        };
        let Some(close) = line[open + 4..].find("-->").map(|i| i + open + 4) else {
            continue;
        };
        let body = line[open..close].strip_prefix("<!--").unwrap_or_default();
        if let Some(at) = body.find("decision_id:")
            && let Some(id) = body[at + "decision_id:".len()..].split_whitespace().next()
        {
            ids.push(id.to_string());
        }
    }
    ids
}

/// Whether `text` (a file of the mission directory `dir`) holds a marker whose decision is
/// missing from the ledger, open or deferred.
pub fn blocking_clarification(dir: &Path, text: &str) -> bool {
    let ids = clarification_ids(text);
    if ids.is_empty() {
        return false;
    }
    let entries: Vec<Value> = std::fs::read_to_string(dir.join("decisions").join("index.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("entries")?.as_array().cloned())
        .unwrap_or_default();
    ids.iter().any(|id| {
        entries
            .iter()
            .find(|e| e.get("decision_id").and_then(Value::as_str) == Some(id))
            .is_none_or(|e| {
                matches!(
                    e.get("status").and_then(Value::as_str),
                    Some("open" | "deferred")
                )
            })
    })
}

/// The failed checks, flattened in the reference's order.
pub fn failed_checks(s: &Summary) -> Vec<Check> {
    let mut out = Vec::new();
    for lane in ["planned", "claimed", "doing", "in_progress", "for_review"] {
        for wp in s.in_lane(lane) {
            out.push(Check::new("not_done", wp.as_str().unwrap_or_default()));
        }
    }
    let canceled_by_operator: Vec<String> =
        s.canceled_wps.iter().map(|c| c.wp_id.clone()).collect();
    for (lane, hint) in [
        (
            "in_review",
            "review is still in progress; complete the review and move the work package to approved or done",
        ),
        (
            "blocked",
            "work package is blocked; resolve the blocker and move the work package to approved or done",
        ),
        (
            "canceled",
            "work package is canceled; operator-authored cancellation provenance required \u{2014} reopen or replace it, then move the work package to approved or done",
        ),
    ] {
        for wp in s.in_lane(lane) {
            let wp = wp.as_str().unwrap_or_default().to_string();
            if lane == "canceled" && canceled_by_operator.contains(&wp) {
                continue;
            }
            out.push(Check::new(
                "lane_blockers",
                format!("{wp}: canonical lane is '{lane}'; {hint}."),
            ));
        }
    }
    // Every package canceled by an operator: none was delivered.
    if !s.work_packages.is_empty()
        && s.work_packages
            .iter()
            .all(|w| canceled_by_operator.contains(&w.id))
    {
        out.push(Check::new(
            "delivered_nothing",
            "mission delivered nothing: every work package is canceled; none reached approved or done",
        ));
    }
    for (check, items) in [
        ("metadata", &s.metadata_issues),
        ("activity", &s.activity_issues),
        ("unchecked_tasks", &s.unchecked_tasks),
        ("needs_clarification", &s.needs_clarification),
        ("missing_artifacts", &s.missing_artifacts),
        ("git_dirty", &s.git_dirty),
        ("path_violations", &s.path_violations),
    ] {
        out.extend(items.iter().map(|d| Check::new(check, d.clone())));
    }
    out
}

/// The fixes to make, each once, in the reference's order.
pub fn fix_order(s: &Summary) -> Vec<String> {
    let blocked = |name: &str| s.blocked_checks.iter().any(|c| c.check == name);
    let activity = |needle: &str| s.activity_issues.iter().any(|a| a.contains(needle));
    let unsettled = s
        .work_packages
        .iter()
        .any(|w| !matches!(w.lane.as_str(), "approved" | "done"));
    [
        (
            !s.git_dirty.is_empty(),
            "Commit, stash, or discard working tree changes before acceptance.",
        ),
        (
            blocked("mission_branch"),
            "Switch to the mission branch or configured target branch named in the branch failure.",
        ),
        (
            !s.missing_artifacts.is_empty(),
            "Restore required mission artifacts before acceptance.",
        ),
        (
            !s.metadata_issues.is_empty(),
            "Fix work-package metadata issues.",
        ),
        (unsettled, "Move all work packages to approved or done."),
        (
            !s.unchecked_tasks.is_empty(),
            "Complete unchecked items in tasks.md.",
        ),
        (
            !s.needs_clarification.is_empty(),
            "Resolve open NEEDS CLARIFICATION markers.",
        ),
        (
            blocked("acceptance_matrix"),
            "Create or restore kitty-specs/<mission>/acceptance-matrix.json.",
        ),
        (
            blocked("lanes_manifest"),
            "Restore or regenerate kitty-specs/<mission>/lanes.json.",
        ),
        (
            activity("Evidence:"),
            "Fill missing acceptance matrix evidence fields.",
        ),
        (
            activity("Acceptance matrix verdict is"),
            "Resolve pending or failing acceptance matrix criteria and negative invariants.",
        ),
        (
            activity("Workflow run evidence required"),
            "Add successful GitHub Actions run evidence for workflow changes.",
        ),
        (
            !s.path_violations.is_empty(),
            "Fix mission path convention violations.",
        ),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, fix)| fix.to_string())
    .collect()
}

/// `ok`: everything done and nothing outstanding.
pub fn is_ok(s: &Summary) -> bool {
    s.all_done
        && s.metadata_issues.is_empty()
        && s.activity_issues.is_empty()
        && s.unchecked_tasks.is_empty()
        && s.needs_clarification.is_empty()
        && s.missing_artifacts.is_empty()
        && s.git_dirty.is_empty()
        && s.path_violations.is_empty()
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;

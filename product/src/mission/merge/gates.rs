//! The merge's gates and history checks (**interop**: the reference's four merge gates under its
//! default policy — evidence, risk, dependency, issue-matrix completeness, in that order, each
//! line in its words — its bootstrap-only history refusal and its hollow-review check).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::forecast::Plan;
use super::integrate::{blob, git_ok};
use super::manifest::LaneDoc;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::status::Lane;
use crate::mission::status::reduce::Snapshot;
use crate::mission::tasks::frontmatter::WpFile;

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Passed.
    Pass,
    /// Failed (the default policy only warns).
    Fail,
    /// Could not be evaluated (a warning).
    Skip,
}

/// One gate's line: `  ✓ Gate <name>: <details>` (`⚠` when not passed; the default policy never
/// blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Gate {
    /// The gate's name.
    pub name: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// What it found.
    pub details: String,
}

impl Gate {
    /// The line the reference prints.
    pub fn line(&self) -> String {
        let icon = if self.verdict == Verdict::Pass {
            '\u{2713}'
        } else {
            '\u{26a0}'
        };
        format!("  {icon} Gate {}: {}", self.name, self.details)
    }
}

/// Whether a package may be merged from `lane`: approved or done, or canceled by an operator.
fn acceptable(snap: &Snapshot, wp: &str) -> bool {
    match snap.lane_of(wp) {
        Some(Lane::Approved | Lane::Done) => true,
        Some(Lane::Canceled) => snap
            .work_packages
            .get(wp)
            .is_some_and(|s| s.slot("reason_source").and_then(Value::as_str) == Some("operator")),
        _ => false,
    }
}

/// The four gates, in the reference's order, under its default policy (warn, every gate on).
pub(super) fn gates(plan: &Plan) -> Vec<Gate> {
    vec![
        evidence(&plan.snapshot, &plan.wp_ids),
        risk(&plan.lanes),
        dependency(&plan.dir, &plan.snapshot, &plan.wp_ids),
        Gate {
            name: "issue_matrix_completeness",
            verdict: Verdict::Pass,
            details: "No issue references discovered \u{2014} nothing to enforce".into(),
        },
    ]
}

/// Every package approved or done.
pub(super) fn evidence(snap: &Snapshot, wp_ids: &[String]) -> Gate {
    let missing: BTreeSet<&str> = wp_ids
        .iter()
        .filter(|w| !acceptable(snap, w))
        .map(String::as_str)
        .collect();
    let (verdict, details) = if missing.is_empty() {
        (
            Verdict::Pass,
            format!("All {} WPs have review approval", wp_ids.len()),
        )
    } else {
        (
            Verdict::Fail,
            format!(
                "WPs missing review approval: {}",
                missing.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    };
    Gate {
        name: "evidence",
        verdict,
        details,
    }
}

/// A write scope's pattern without its globs (`/**`, `/*`, and `**` when `all`).
fn clean(pattern: &str, all: bool) -> String {
    let mut c = pattern.replace("/**", "").replace("/*", "");
    if all {
        c = c.replace("**", "");
    }
    c.trim_end_matches('/').to_string()
}

/// The ancestors of each scope with two parts or more (`src/views` of `src/views/a.py`).
fn parent_dirs(scope: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in scope.iter().filter_map(Value::as_str) {
        let c = clean(p, true);
        let parts: Vec<&str> = c
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        for n in 2..parts.len() {
            out.insert(parts[..n].join("/"));
        }
    }
    out
}

/// The scopes that name tests.
fn test_surfaces(scope: &[Value]) -> BTreeSet<String> {
    scope
        .iter()
        .filter_map(Value::as_str)
        .filter(|p| p.to_lowercase().contains("test"))
        .map(|p| clean(p, false))
        .filter(|c| !c.is_empty())
        .collect()
}

/// The parallel lanes' conflict risk against the default threshold (0.6).
pub(super) fn risk(lanes: &[LaneDoc]) -> Gate {
    const THRESHOLD: f64 = 0.6;
    let mut groups: Vec<(&Value, Vec<&LaneDoc>)> = Vec::new();
    for lane in lanes {
        match groups.iter_mut().find(|(g, _)| *g == &lane.parallel_group) {
            Some((_, members)) => members.push(lane),
            None => groups.push((&lane.parallel_group, vec![lane])),
        }
    }
    let mut overall: f64 = 0.0;
    for (_, members) in &groups {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                let p = parent_dirs(&a.write_scope)
                    .intersection(&parent_dirs(&b.write_scope))
                    .count()
                    .min(5);
                let t = test_surfaces(&a.write_scope)
                    .intersection(&test_surfaces(&b.write_scope))
                    .count()
                    .min(3);
                let raw = (p as f64 * 0.12 + t as f64 * 0.08).min(1.0);
                overall = overall.max((raw * 1000.0).round() / 1000.0);
            }
        }
    }
    let (verdict, details) = if overall > THRESHOLD {
        (
            Verdict::Fail,
            format!("Risk score {overall:.2} exceeds threshold {THRESHOLD:.2}"),
        )
    } else {
        (
            Verdict::Pass,
            format!("Risk score {overall:.2} within threshold"),
        )
    };
    Gate {
        name: "risk",
        verdict,
        details,
    }
}

/// Every dependency the work-package files declare approved or done.
pub(super) fn dependency(dir: &Path, snap: &Snapshot, wp_ids: &[String]) -> Gate {
    let mut files: Vec<_> = crate::mission::tasks::wp_files(&dir.join("tasks"));
    files.sort_by(|a, b| a.1.cmp(&b.1));
    let mut graph = std::collections::BTreeMap::new();
    for (id, path) in files {
        let Ok(f) = WpFile::read(&path) else { continue };
        let declared = f.get_str("work_package_id").unwrap_or(&id).to_string();
        if declared != id {
            return Gate {
                name: "dependency",
                verdict: Verdict::Skip,
                details: format!(
                    "Dependency check unavailable: WP ID mismatch: filename {id} vs frontmatter {declared}"
                ),
            };
        }
        graph.insert(id, f.get_list("dependencies"));
    }
    let mut incomplete = Vec::new();
    for wp in wp_ids {
        for dep in graph.get(wp).into_iter().flatten() {
            if !acceptable(snap, dep) {
                let lane = snap.lane_of(dep).map_or("unknown", Lane::as_str);
                incomplete.push(format!("{dep} (lane={lane})"));
            }
        }
    }
    let (verdict, details) = if incomplete.is_empty() {
        (Verdict::Pass, "All dependencies complete".to_string())
    } else {
        (
            Verdict::Fail,
            format!("Incomplete dependencies: {}", incomplete.join(", ")),
        )
    };
    Gate {
        name: "dependency",
        verdict,
        details,
    }
}

/// Whether a mission file names an issue the issue-matrix gate would enforce (`#12`, or a
/// spec-kitty issue URL); kitty then leaves the merge to the reference.
pub(super) fn names_issues(dir: &Path) -> bool {
    let mut files: Vec<std::path::PathBuf> =
        ["spec.md", "plan.md", "research.md", "analysis-report.md"]
            .iter()
            .map(|f| dir.join(f))
            .collect();
    for sub in ["tasks", "contracts"] {
        let mut more: Vec<_> = std::fs::read_dir(dir.join(sub))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        more.sort();
        files.extend(more);
    }
    files
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.lines().any(line_names_issue)))
}

/// `#NN`..`#NNNNNN` after a start, a space, `(` or `[`, before an end, a space or `)].,;`; or an
/// issue URL on GitHub (any repository: a superset of the reference's two).
fn line_names_issue(line: &str) -> bool {
    if line.contains("github.com/") && line.contains("/issues/") {
        return true;
    }
    let b = line.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        if c != b'#' || (i > 0 && !matches!(b[i - 1], b' ' | b'\t' | b'(' | b'[')) {
            return false;
        }
        let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        let after = b.get(i + 1 + digits);
        (2..=6).contains(&digits)
            && after.is_none_or(|a| a.is_ascii_whitespace() || b"()],;.".contains(a))
    })
}

/// The reference's refusal when the board's history is bootstrap-only (no package ever moved
/// past planned); `None` when it proves more.
pub(super) fn bootstrap_only(status_dir: &Path, slug: &str, wp_ids: &[String]) -> Option<String> {
    let path = status_dir.join("status.events.jsonl");
    if wp_ids.is_empty() || !path.is_file() {
        return None;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let real = text.lines().any(|line| {
        let Ok(Value::Object(e)) = serde_json::from_str::<Value>(line.trim()) else {
            return false;
        };
        if e.contains_key("event_type") {
            return false;
        }
        if e.get("to_lane").and_then(Value::as_str) != Some("planned") {
            return true;
        }
        let from = e.get("from_lane");
        let forced = e.get("force").is_some_and(|f| match f {
            Value::Bool(b) => *b,
            Value::Null => false,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        });
        let bootstrap = from.and_then(Value::as_str) == Some("genesis")
            || (forced && from.is_none_or(|f| f.is_null() || f.as_str() == Some("planned")));
        !bootstrap
    });
    if real {
        return None;
    }
    Some(format!(
        "Canonical status history is bootstrap-only \u{2014} the local event log cannot prove that WPs advanced past planned, so a merge would ship a mission whose downstream replay would regress every WP.\n  Mission: {slug}\n  Event log: {}\n  Work packages requiring history: {}\n  Remediation: re-run the per-WP `spec-kitty agent action review` and `spec-kitty agent action implement` flows so the canonical event log captures the real lane transitions before merging, or run the repair/replay tooling for this mission.",
        path.display(),
        wp_ids.join(", ")
    ))
}

/// Whether the reference would warn of hollow reviews (a package forced twice or more without
/// a distinct reviewer, or a reviewer's self-approval); kitty then leaves the merge to it.
pub(super) fn hollow(status_dir: &Path, wp_ids: &[String]) -> bool {
    let log = std::fs::read_to_string(status_dir.join("status.events.jsonl")).unwrap_or_default();
    let events: Vec<serde_json::Map<String, Value>> = log
        .lines()
        .filter_map(|l| match serde_json::from_str::<Value>(l.trim()) {
            Ok(Value::Object(o)) => Some(o),
            _ => None,
        })
        .collect();
    let self_approved = events.iter().any(|e| {
        e.get("event_type").and_then(Value::as_str) == Some("ReviewerSelfApproval")
            && e.get("payload")
                .and_then(|p| p.get("wp_id"))
                .and_then(Value::as_str)
                .is_some_and(|w| wp_ids.iter().any(|x| x == w))
    });
    if self_approved {
        return true;
    }
    let status: Value = std::fs::read_to_string(status_dir.join("status.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let forced = wp_ids.iter().any(|wp| {
        status["work_packages"][wp]["force_count"]
            .as_i64()
            .is_some_and(|n| n >= 2)
    });
    forced && !independent_reviewer(&events)
}

/// The latest implementer (`→in_progress`) and the latest approver (`→approved`) are both
/// known and differ.
fn independent_reviewer(events: &[serde_json::Map<String, Value>]) -> bool {
    let latest = |lane: &str| {
        events
            .iter()
            .filter(|e| e.get("to_lane").and_then(Value::as_str) == Some(lane))
            .filter_map(|e| {
                let actor = match e.get("actor")? {
                    Value::String(s) => s.trim().to_string(),
                    Value::Null => return None,
                    other => crate::pyfmt::python_repr(other),
                };
                let key = |k: &str| {
                    e.get(k)
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .unwrap_or_default()
                };
                (!actor.is_empty()).then(|| ((key("at"), key("event_id")), actor))
            })
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, actor)| actor)
    };
    matches!((latest("in_progress"), latest("approved")), (Some(a), Some(b)) if a != b)
}

/// Whether the mission changes a Python file the target already has while Python tests exist
/// (the reference then analyses removed symbols against the tests: kitty hands the merge over).
pub(super) fn python_changed(
    repo: &Repo,
    target: &str,
    mission: &str,
) -> Result<bool, MissionError> {
    let changed = git_ok(
        repo,
        &["diff", "--name-only", target, mission, "--", "*.py"],
    )?;
    let existing = changed
        .lines()
        .filter(|p| !p.starts_with("tests/"))
        .any(|p| blob(repo, &format!("{target}:{p}")).is_ok_and(|b| b.is_some()));
    if !existing {
        return Ok(false);
    }
    for rev in [target, mission] {
        let tests = git_ok(repo, &["ls-tree", "-r", "--name-only", rev, "--", "tests/"])?;
        if tests.lines().any(|p| p.ends_with(".py")) {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lane(group: i64, scope: &[&str]) -> LaneDoc {
        serde_json::from_value(json!({
            "lane_id": "x", "wp_ids": [], "write_scope": scope, "predicted_surfaces": [],
            "depends_on_lanes": [], "parallel_group": group
        }))
        .unwrap()
    }

    #[test]
    fn risk_counts_shared_parent_directories_and_test_surfaces_of_parallel_lanes() {
        let a = lane(0, &["src/views/a.py", "tests/test_a.py"]);
        let b = lane(0, &["src/views/b.py", "tests/test_a.py"]);
        // One shared parent (src/views) and one shared test surface: 0.12 + 0.08.
        assert_eq!(risk(&[a, b]).details, "Risk score 0.20 within threshold");
        let deep = |g| lane(g, &["a/b/c/d/e/f/g/h.py", "t/test/x/y"]);
        let g = risk(&[deep(0), deep(0)]);
        assert_eq!(g.verdict, Verdict::Fail);
        assert_eq!(g.details, "Risk score 0.68 exceeds threshold 0.60");
        // Lanes in different groups are not compared.
        assert_eq!(risk(&[deep(0), deep(1)]).verdict, Verdict::Pass);
    }

    #[test]
    fn issue_references_are_found_as_the_gate_finds_them() {
        for yes in ["see #12", "(#123)", "[#99]", "#1234.", "fixes #12, #13"] {
            assert!(line_names_issue(yes), "{yes}");
        }
        for no in [
            "#1",
            "#1234567",
            "a#12",
            "#12a",
            "## Heading",
            "color: #fff",
        ] {
            assert!(!line_names_issue(no), "{no}");
        }
    }

    #[test]
    fn a_log_of_bootstrap_events_alone_is_refused_and_any_real_move_proves_history() {
        let dir = tempfile::tempdir().unwrap();
        let put = |lines: &[Value]| {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(dir.path().join("status.events.jsonl"), text).unwrap();
        };
        let wps = vec!["WP01".to_string()];
        put(&[
            json!({"from_lane": "genesis", "to_lane": "planned"}),
            json!({"from_lane": null, "to_lane": "planned", "force": true}),
            json!({"event_type": "X", "to_lane": "done"}),
        ]);
        let why = bootstrap_only(dir.path(), "m", &wps).unwrap();
        assert!(
            why.contains("Work packages requiring history: WP01"),
            "{why}"
        );
        put(&[json!({"from_lane": "planned", "to_lane": "claimed"})]);
        assert_eq!(bootstrap_only(dir.path(), "m", &wps), None);
        put(&[json!({"from_lane": "in_progress", "to_lane": "planned"})]);
        assert_eq!(bootstrap_only(dir.path(), "m", &wps), None);
        assert_eq!(bootstrap_only(dir.path(), "m", &[]), None);
    }

    #[test]
    fn forced_packages_are_hollow_unless_another_actor_approved_them() {
        let dir = tempfile::tempdir().unwrap();
        let wps = vec!["WP01".to_string()];
        std::fs::write(
            dir.path().join("status.json"),
            json!({"work_packages": {"WP01": {"force_count": 2}}}).to_string(),
        )
        .unwrap();
        let log = |approver: &str| {
            let lines = [
                json!({"to_lane": "in_progress", "actor": "claude", "at": "1", "event_id": "a"}),
                json!({"to_lane": "approved", "actor": approver, "at": "2", "event_id": "b"}),
            ];
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(dir.path().join("status.events.jsonl"), text).unwrap();
        };
        log("claude");
        assert!(hollow(dir.path(), &wps));
        log("codex");
        assert!(!hollow(dir.path(), &wps));
    }
}

//! `agent mission accept` and `accept`: check that a mission is ready to merge and record its
//! acceptance (**interop**: the reference's summary document, its refusals and their exit codes,
//! meta.json's acceptance record and the commits it makes).
//!
//! `summary` (the document and its lists), `dirt` (uncommitted work, path conventions), `gates`
//! (lanes.json and the acceptance matrix), `record` (meta.json and the commits). Input kitty does
//! not model (another mission type, a remapped layout, a corrupt lanes.json or log, a matrix with
//! negative invariants or a pending code review, legacy runtime state the reference would seed, a
//! protected branch, a branch other than the target, an encoding to repair) is the reference's.

pub mod dirt;
pub mod gates;
pub mod record;
mod report;
pub mod summary;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::env::{Env, vars};
use crate::mission::execution::ExecError;
use crate::mission::git::Repo;
use crate::mission::planning::handle::{Index, read_dir};
use crate::mission::planning::{PlanningError, project};
use crate::mission::status::{log, reduce};
use summary::Summary;

/// What was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--mode` (`auto`, `pr`, `local`, `checklist`).
    pub mode: Option<String>,
    /// `--lenient`: metadata and path conventions advise instead of block.
    pub lenient: bool,
    /// `--no-commit`.
    pub no_commit: bool,
    /// `--diagnose`: report, write nothing.
    pub diagnose: bool,
    /// `--actor` (top-level `accept`).
    pub actor: Option<String>,
    /// `--test` commands (top-level `accept`).
    pub tests: Vec<String>,
    /// `--allow-fail` (top-level `accept`): a refusal is not logged as an error.
    pub allow_fail: bool,
}

/// The answer.
#[derive(Debug)]
pub enum Outcome {
    /// A document, its human form, the exit status, and the error to log (`ErrorLogged`).
    Done {
        /// The document.
        doc: Value,
        /// The human form.
        human: String,
        /// The exit status.
        code: u8,
        /// What the reference logs as an error, if it does.
        error_logged: Option<String>,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

fn error(message: &str, error_code: &str, code: u8, logged: bool) -> Outcome {
    Outcome::Done {
        doc: json!({ "error": message, "error_code": error_code }),
        human: format!("Error: {message}"),
        code,
        error_logged: logged.then(|| message.to_string()),
    }
}

fn reference(why: impl Into<String>) -> Result<Outcome, ExecError> {
    Ok(Outcome::NeedsReference(why.into()))
}

/// The mission, where its parts are, and the branch it is accepted on.
struct Scope {
    root: PathBuf,
    slug: String,
    dir: PathBuf,
    status_dir: PathBuf,
    meta: Value,
    repo: Repo,
    branch: String,
    coordinated: bool,
}

/// The planning files accept reads strictly as UTF-8.
const READ_FILES: [&str; 6] = [
    "spec.md",
    "plan.md",
    "quickstart.md",
    "tasks.md",
    "research.md",
    "data-model.md",
];

/// Frontmatter keys of legacy runtime state the reference's acceptance seeds into the log
/// whenever they hold a value.
const LEGACY_SEEDED: [&str; 6] = [
    "assignee",
    "tracker_refs",
    "review_artifact_override_at",
    "review_artifact_override_actor",
    "review_artifact_override_wp_id",
    "review_artifact_override_reason",
];

/// Frontmatter claim slots it seeds when the log does not already hold the same value.
const CLAIM_SLOTS: [&str; 3] = ["shell_pid", "shell_pid_created_at", "agent"];

/// Check the mission and, when it is ready, record its acceptance.
pub fn accept(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    let Some(project) = project::locate(cwd) else {
        return Ok(error(
            "Unable to locate repository root (missing .git or .kittify).",
            "PROJECT_ROOT_NOT_FOUND",
            1,
            false,
        ));
    };
    if !project.root.join(".kittify").is_dir() {
        return reference("a repository without .kittify/");
    }
    let Some(handle) = req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    else {
        return Ok(Outcome::Done {
            doc: json!({"error": "--mission <slug> is required", "error_code": "MISSION_REQUIRED"}),
            human: "Error: --mission <slug> is required".into(),
            code: 2,
            error_logged: Some("No mission handle provided".into()),
        });
    };
    let scope = match scope(env, &project.root, handle)? {
        Ok(s) => s,
        Err(done) => return Ok(done),
    };
    if let Some(why) = unmodelled(&scope) {
        return reference(why);
    }
    let mode = mode(&scope.repo, req.mode.as_deref())?;
    let commit_required = mode != "checklist" && !req.no_commit && !req.diagnose;
    let cwd_real = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let (summary, gate) = match collect(&scope, &cwd_real, !req.lenient, !req.diagnose)? {
        Collected::Summary(s, g) => (s, g),
        Collected::Error(message) => return Ok(error(&message, "TASKS_DIR_MISSING", 1, true)),
        Collected::NeedsReference(why) => return reference(why),
    };
    let advisories = json!([]);
    if req.diagnose {
        let mut doc = summary.doc();
        summary.with_derivations(&mut doc);
        doc.insert("diagnose".into(), json!(true));
        doc.insert("advisories".into(), advisories);
        return Ok(done(doc, report::human_summary(&summary), 0, None));
    }
    if summary.ok
        && commit_required
        && let Some(why) = commit_unmodelled(env, &scope)?
    {
        return reference(why);
    }
    if let Some((path, bytes)) = &gate.rewrite {
        crate::mission::execution::acceptance_verdict::write_atomically(path, bytes)?;
    }
    if mode == "checklist" {
        let mut doc = summary.doc();
        summary.with_derivations(&mut doc);
        doc.insert("advisories".into(), advisories);
        let code = u8::from(!summary.ok);
        if code != 0 {
            doc.insert("error_code".into(), json!("ACCEPTANCE_CHECKS_FAILED"));
        }
        return Ok(done(doc, report::human_summary(&summary), code, None));
    }
    if !summary.ok {
        let mut doc = summary.doc();
        doc.insert("advisories".into(), advisories);
        doc.insert("error_code".into(), json!("ACCEPTANCE_CHECKS_FAILED"));
        let logged = (!req.allow_fail).then(|| "Outstanding acceptance issues detected".into());
        let human = format!(
            "{}\nOutstanding acceptance issues detected. Resolve them before merging or rerun with --allow-fail for a checklist-only report.",
            report::human_summary(&summary)
        );
        return Ok(done(doc, human, 1, logged));
    }
    let actor = req
        .actor
        .clone()
        .filter(|a| !a.is_empty())
        .or_else(|| {
            env.get(vars::USER)
                .filter(|u| !u.is_empty())
                .map(str::to_string)
        })
        .or_else(|| {
            env.get(vars::USERNAME)
                .filter(|u| !u.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "system".into())
        .trim()
        .to_string();
    let recorded = if commit_required {
        let r = record::accept_commits(&scope.repo, &scope.dir, &scope.slug, &actor, &mode, now)?;
        record::stamp(&scope.dir)?;
        let coord = scope
            .coordinated
            .then(|| scope.status_dir.parent().and_then(Path::parent))
            .flatten()
            .map(|top| Repo::at(env, top));
        record::sweep(&scope.repo, coord.as_ref(), &scope.slug)?;
        r
    } else {
        record::Recorded::default()
    };
    Ok(report::success(
        (&scope.slug, &scope.branch),
        &summary,
        (&mode, &actor),
        &recorded,
        &req.tests,
        now,
    ))
}

fn done(doc: Map<String, Value>, human: String, code: u8, logged: Option<String>) -> Outcome {
    Outcome::Done {
        doc: Value::Object(doc),
        human,
        code,
        error_logged: logged,
    }
}

/// Resolve the mission (its handle, its directories, the branch), or the document refusing it.
fn scope(env: &Env, root: &Path, handle: &str) -> Result<Result<Scope, Outcome>, ExecError> {
    let not_found = || {
        Ok(Err(Outcome::Done {
            doc: json!({"error": "mission_not_found", "handle": handle, "error_code": "MISSION_NOT_FOUND"}),
            human: format!(
                "Error: No mission found for handle \"{handle}\". Check that the handle is correct and that the mission exists in kitty-specs/."
            ),
            code: 2,
            error_logged: None,
        }))
    };
    let specs = root.join("kitty-specs");
    let index = Index::load(&specs);
    let entry = match index.lenient(&specs, handle) {
        Ok(Some(e)) => e.clone(),
        Ok(None) if specs.join(handle).is_dir() => {
            return Ok(Err(Outcome::NeedsReference(format!(
                "kitty-specs/{handle} has no mission identity"
            ))));
        }
        Ok(None) | Err(PlanningError::UnsafeHandle { .. }) => return not_found(),
        Err(_) => {
            return Ok(Err(Outcome::NeedsReference(format!(
                "'{handle}' matches several missions"
            ))));
        }
    };
    let repo = Repo::discover(env, root)?;
    let Some(branch) = repo.head_branch()?.filter(|b| !b.is_empty()) else {
        return Ok(Err(Outcome::NeedsReference("a detached HEAD".into())));
    };
    let status_dir = read_dir(root, &entry);
    let coordinated = matches!(
        entry.meta.get("topology").and_then(Value::as_str),
        Some("coord" | "lanes_with_coord")
    );
    if coordinated && status_dir == entry.dir {
        return Ok(Err(Outcome::NeedsReference(
            "the coordination worktree is not materialized".into(),
        )));
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    Ok(Ok(Scope {
        dir: root.join("kitty-specs").join(&entry.slug),
        status_dir,
        slug: entry.slug.clone(),
        meta: entry.meta.clone(),
        root,
        repo,
        branch,
        coordinated,
    }))
}

/// Why the reference, not kitty, accepts this mission (checked before anything is read).
fn unmodelled(s: &Scope) -> Option<String> {
    let mission_type = s.meta.get("mission_type").and_then(Value::as_str);
    if mission_type.is_some_and(|t| t != "software-dev") {
        return Some("a mission type other than software-dev".into());
    }
    if s.root.join(".kittify/missions").exists() {
        return Some("project-defined missions (.kittify/missions/)".into());
    }
    if std::fs::read_to_string(s.root.join(".kittify/config.yaml"))
        .is_ok_and(|c| c.contains("path_conventions"))
    {
        return Some("project path conventions".into());
    }
    if s.meta.get("target_branch").and_then(Value::as_str) != Some(s.branch.as_str()) {
        return Some(format!(
            "acceptance on '{}', not the mission's target branch",
            s.branch
        ));
    }
    let tasks = s.dir.join("tasks");
    for lane in ["planned", "doing", "for_review", "done"] {
        let legacy = std::fs::read_dir(tasks.join(lane))
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "md"));
        if legacy {
            return Some("a pre-3.0 lane-directory layout".into());
        }
    }
    let mut strict: Vec<PathBuf> = READ_FILES.iter().map(|f| s.dir.join(f)).collect();
    strict.extend(
        std::fs::read_dir(&tasks)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "md")),
    );
    if strict
        .iter()
        .any(|p| std::fs::read(p).is_ok_and(|b| std::str::from_utf8(&b).is_err()))
    {
        return Some("a planning file that is not UTF-8 (the reference repairs it)".into());
    }
    let stranded = std::fs::read_dir(&tasks)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("WP"))
        .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("review-cycle-") && n.ends_with(".md")
        })
        .any(|e| {
            summary::frontmatter(&std::fs::read_to_string(e.path()).unwrap_or_default())
                .iter()
                .any(|(k, _)| k == "verdict")
        });
    if stranded {
        return Some(
            "a review-cycle file carrying a verdict (the reference advises a backfill)".into(),
        );
    }
    None
}

/// Why the reference, not kitty, records this acceptance (checked before the first write).
fn commit_unmodelled(env: &Env, s: &Scope) -> Result<Option<String>, ExecError> {
    if crate::mission::planning::commit::protected(env, &s.repo, &s.branch)? {
        return Ok(Some(format!(
            "acceptance on the protected branch '{}'",
            s.branch
        )));
    }
    if s.meta
        .get("mission_id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Ok(Some("a mission without a mission_id".into()));
    }
    let files = summary::wp_files(&s.root, &s.dir.join("tasks"));
    let log = log::read(&s.status_dir).unwrap_or_default();
    let snapshot = reduce::reduce(&log);
    if files
        .iter()
        .any(|f| would_seed(f, snapshot.work_packages.get(&f.id)))
    {
        return Ok(Some(
            "work-package frontmatter with runtime state the reference seeds into the log".into(),
        ));
    }
    let tasks_md = std::fs::read_to_string(s.dir.join("tasks.md")).unwrap_or_default();
    let row = regex::Regex::new(r"^-\s*\[[\sxX]*\]\s*T\d{3,}").ok();
    if tasks_md
        .split('\n')
        .any(|l| row.as_ref().is_some_and(|r| r.is_match(l.trim())))
    {
        return Ok(Some(
            "checkbox subtask rows in tasks.md (the reference seeds them into the log)".into(),
        ));
    }
    Ok(None)
}

/// Whether the reference's acceptance stamp would seed `f`'s frontmatter runtime state into the
/// log: a value it always seeds, or a claim slot the log holds with another value (or none).
fn would_seed(f: &summary::WpFile, state: Option<&reduce::WpState>) -> bool {
    f.keys.iter().any(|(k, v)| {
        let v = v.trim();
        if v.is_empty() || v == "null" || v == "~" || v == "[]" {
            return false;
        }
        if LEGACY_SEEDED.contains(&k.as_str()) {
            return true;
        }
        if !CLAIM_SLOTS.contains(&k.as_str()) {
            return false;
        }
        if k == "shell_pid" && !v.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let held = state.and_then(|s| s.slot(k)).map(|x| match x {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        });
        held.as_deref() != Some(v)
    })
}

/// `--mode`: `pr`, `local` or `checklist` as given; otherwise `pr` with a remote, else `local`.
fn mode(repo: &Repo, asked: Option<&str>) -> Result<String, ExecError> {
    let asked = asked.unwrap_or("auto").to_lowercase();
    if matches!(asked.as_str(), "pr" | "local" | "checklist") {
        return Ok(asked);
    }
    let remotes = repo.output(&["remote"])?;
    Ok(
        if String::from_utf8_lossy(&remotes.stdout).trim().is_empty() {
            "local".into()
        } else {
            "pr".into()
        },
    )
}

enum Collected {
    Summary(Box<Summary>, gates::Gate),
    Error(String),
    NeedsReference(String),
}

/// Read the mission as the reference's summary does, in its order.
fn collect(s: &Scope, cwd_real: &Path, strict: bool, mutate: bool) -> Result<Collected, ExecError> {
    let root_text = s.root.display().to_string();
    let log_path = s.status_dir.join(crate::mission::status::log::FILE);
    let Ok(log) = log::read(&s.status_dir) else {
        return Ok(Collected::NeedsReference(
            "a status log it cannot parse".into(),
        ));
    };
    let snapshot = reduce::reduce(&log);
    let tasks = s.dir.join("tasks");
    if !tasks.is_dir() {
        return Ok(Collected::Error(format!(
            "Feature '{}' has no tasks directory at {}.",
            s.slug,
            tasks.display()
        )));
    }
    let files = summary::wp_files(&s.root, &tasks);
    let board = summary::board(&s.slug, &files, &snapshot, log_path.is_file(), strict);
    let mut activity = board.activity_issues;
    let tasks_md = std::fs::read_to_string(s.dir.join("tasks.md")).ok();
    let unchecked = if board.all_acceptable {
        Vec::new()
    } else {
        tasks_md
            .as_deref()
            .map(summary::unchecked)
            .unwrap_or_default()
    };
    let needs_clarification: Vec<String> = READ_FILES
        .iter()
        .map(|f| s.dir.join(f))
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| summary::blocking_clarification(&s.dir, &t))
        })
        .map(|p| p.display().to_string())
        .collect();
    let missing_artifacts: Vec<String> = ["spec.md", "plan.md", "tasks.md"]
        .iter()
        .filter(|f| !s.dir.join(f).exists())
        .map(|f| (*f).to_string())
        .collect();
    let paths = dirt::conventions(&s.root, &s.dir, |missing| {
        strict && dirt::owed(&s.repo, &s.dir, missing)
    });
    let optional_missing: Vec<String> = dirt::OPTIONAL
        .iter()
        .filter(|f| !s.dir.join(f).exists())
        .filter(|f| !(paths.violation.is_some() && **f == "contracts" && paths.contracts_missing))
        .map(|f| (*f).to_string())
        .collect();
    let git_dirty: Vec<String> =
        dirt::git_dirty(&s.repo.status_porcelain()?, &s.slug, s.coordinated)
            .into_iter()
            .filter(|l| !verdict_copy(s, l))
            .collect();
    let gate = match gates::check(&s.slug, &s.dir, &s.status_dir, &s.meta, mutate) {
        gates::Gated::Gate(g) => g,
        gates::Gated::NeedsReference(why) => return Ok(Collected::NeedsReference(why)),
    };
    activity.extend(gate.activity.iter().cloned());
    let mut warnings = Vec::new();
    if !optional_missing.is_empty() {
        warnings.push(format!(
            "Optional artifacts missing: {}",
            optional_missing.join(", ")
        ));
    }
    if paths.violation.is_some() {
        warnings.push("Path conventions not satisfied.".into());
    } else if let Some(w) = &paths.warning {
        warnings.push(w.clone());
    }
    let mut summary = Summary {
        mission_slug: s
            .meta
            .get("mission_slug")
            .or_else(|| s.meta.get("slug"))
            .and_then(Value::as_str)
            .filter(|v| crate::mission::status::reduce::is_safe_segment(v))
            .unwrap_or(&s.slug)
            .to_string(),
        mission_number: match s.meta.get("mission_number") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(t)) => t.trim().parse().ok(),
            _ => None,
        },
        mission_type: s
            .meta
            .get("mission_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        branch: Some(s.branch.clone()),
        repo_root: root_text.clone(),
        feature_dir: s.dir.display().to_string(),
        tasks_dir: tasks.display().to_string(),
        worktree_root: root_text,
        primary_repo_root: cwd_real.display().to_string(),
        lanes: board.lanes,
        work_packages: board.work_packages,
        metadata_issues: board.metadata_issues,
        activity_issues: activity,
        unchecked_tasks: unchecked,
        needs_clarification,
        missing_artifacts,
        optional_missing,
        git_dirty,
        path_violations: paths.violation.into_iter().collect(),
        warnings,
        failed_checks: Vec::new(),
        skipped_checks: gate.skipped.clone(),
        blocked_checks: gate.blocked.clone(),
        recommended_fix_order: Vec::new(),
        canceled_wps: board.canceled_wps,
        all_done: board.all_done,
        ok: false,
    };
    summary.failed_checks = summary::failed_checks(&summary);
    summary.recommended_fix_order = summary::fix_order(&summary);
    summary.ok = summary::is_ok(&summary);
    Ok(Collected::Summary(Box::new(summary), gate))
}

/// Whether a `git status` line is an untracked copy of review-cycle artifacts the coordination
/// branch holds byte for byte (what a verdict leaves in the primary checkout): not work, in
/// kitty's count (the reference counts it, and refuses; the `verdict_copy` difference).
fn verdict_copy(s: &Scope, line: &str) -> bool {
    let Some(path) = line.strip_prefix("?? ") else {
        return false;
    };
    if !s.coordinated {
        return false;
    }
    let branch = s
        .meta
        .get("coordination_branch")
        .and_then(Value::as_str)
        .map_or_else(|| format!("kitty/mission-{}", s.slug), str::to_string);
    let Some(coord) = s.status_dir.parent().and_then(Path::parent) else {
        return false;
    };
    crate::mission::execution::review_cycle::is_review_record(
        &s.root,
        &s.repo,
        (&s.slug, &branch, coord),
        path.trim_matches('"'),
        &|_| false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mission::status::Lane;

    fn file(keys: &[(&str, &str)]) -> summary::WpFile {
        summary::WpFile {
            id: "WP01".into(),
            title: String::new(),
            rel: String::new(),
            keys: keys
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
    }

    fn state(fields: Value) -> reduce::WpState {
        reduce::WpState {
            lane: Lane::Approved,
            fields: match fields {
                Value::Object(m) => m,
                _ => Map::new(),
            },
        }
    }

    #[test]
    fn only_runtime_state_the_log_lacks_would_be_seeded() {
        let held = state(json!({"agent": "claude", "shell_pid": 42}));
        // The log holds the same claim: nothing to seed.
        assert!(!would_seed(
            &file(&[("agent", "claude"), ("shell_pid", "42")]),
            Some(&held)
        ));
        // Another value, or none in the log: seeded.
        assert!(would_seed(&file(&[("agent", "codex")]), Some(&held)));
        assert!(would_seed(&file(&[("shell_pid", "7")]), Some(&held)));
        assert!(would_seed(&file(&[("agent", "claude")]), None));
        // Empty values and a shell_pid that is not a number are not legacy state.
        for v in ["", "null", "~", "[]"] {
            assert!(!would_seed(&file(&[("assignee", v)]), None), "{v:?}");
        }
        assert!(!would_seed(&file(&[("shell_pid", "abc")]), None));
        // Values it always seeds.
        assert!(would_seed(&file(&[("assignee", "ann")]), Some(&held)));
        assert!(would_seed(
            &file(&[("review_artifact_override_reason", "x")]),
            Some(&held)
        ));
        // Static fields are not runtime state.
        assert!(!would_seed(
            &file(&[("title", "x"), ("dependencies", "[WP00]")]),
            None
        ));
    }
}

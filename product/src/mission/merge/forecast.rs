//! `merge --dry-run` (**interop**: the reference's forecast document, its checks in its order and
//! its messages): what a merge of the mission would do; nothing is written.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::manifest::{LaneDoc, read_lanes};
use super::policy::{rejected_but_terminal, retention, would_assign};
use super::resolve::{
    Source, canonical, configured_strategy, inside_worktree, meta_target, primary_branch,
    read_meta, safe_segment, slug_of_branch, status_dir,
};
use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::handle::Index;
use crate::mission::planning::project;
use crate::mission::status::{log, reduce};
use crate::pyfmt::to_python_json;

/// The version every forecast document names.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// How the mission branch goes into the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// A merge commit.
    Merge,
    /// One squashed commit (the default).
    Squash,
    /// Rebased, then fast-forwarded.
    Rebase,
}

impl Strategy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Squash => "squash",
            Self::Rebase => "rebase",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Self> {
        match s {
            "merge" => Some(Self::Merge),
            "squash" => Some(Self::Squash),
            "rebase" => Some(Self::Rebase),
            _ => None,
        }
    }
}

/// The clean-up flags as given (`None`: neither form; the mission's policy decides).
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    /// `--delete-branch` (`Some(true)`) or `--keep-branch` (`Some(false)`).
    pub delete_branch: Option<bool>,
    /// `--remove-worktree` or `--keep-worktree`.
    pub remove_worktree: Option<bool>,
}

/// A forecast's input.
#[derive(Debug, Default)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--strategy`.
    pub strategy: Option<Strategy>,
    /// The clean-up flags.
    pub retention: Retention,
    /// `--push` (echoed).
    pub push: bool,
    /// Options that make it the reference's to run (non-empty: handed over whole).
    pub delegated: Vec<&'static str>,
    /// A merge (not `--dry-run`) asked for with `--json`: refused after the target's checks.
    pub json_without_dry_run: bool,
    /// `--resume`: an interrupted merge is resumed (said as such).
    pub resume: bool,
    /// `--allow-unaccepted`: merge a mission no acceptance is recorded for.
    pub allow_unaccepted: bool,
}

/// What the forecast says.
#[derive(Debug)]
pub enum Outcome {
    /// The forecast (exit 0).
    Forecast {
        /// The document.
        doc: Value,
        /// The human text.
        human: String,
    },
    /// A refusal, with its exit status.
    Refused {
        /// The document.
        doc: Value,
        /// The human text.
        human: String,
        /// The exit status.
        code: u8,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// A refusal: the reference's `{spec_kitty_version, error}` document, with kitty's `error_code`.
fn refused(error_code: &str, error: impl Into<String>, code: u8) -> Outcome {
    let error = error.into();
    Outcome::Refused {
        doc: json!({"spec_kitty_version": VERSION, "error": error, "error_code": error_code}),
        human: format!("Error: {error}"),
        code,
    }
}

/// A merge checked and ready: everything the forecast reports and the merge acts on.
#[derive(Debug)]
pub(super) struct Plan {
    /// The primary checkout.
    pub root: PathBuf,
    /// Its repository.
    pub repo: Repo,
    /// The mission's directory name.
    pub slug: String,
    /// The mission's directory in the primary checkout.
    pub dir: PathBuf,
    /// Its `meta.json`, when readable.
    pub meta: Option<Map<String, Value>>,
    /// The target branch.
    pub target: String,
    /// How the mission branch goes into the target.
    pub strategy: Strategy,
    /// lanes.json's `mission_branch` (a string, or null).
    pub mission_branch: Value,
    /// The lanes, in lanes.json's order.
    pub lanes: Vec<LaneDoc>,
    /// Every work package the merge covers, in lane order.
    pub wp_ids: Vec<String>,
    /// Where the board is read (the coordination worktree's copy for a coordinated mission).
    pub status_dir: PathBuf,
    /// The board.
    pub snapshot: reduce::Snapshot,
    /// The number the merge gives the mission (`None`: it has one).
    pub would_assign: Option<i64>,
    /// Whether the lane branches go, and the source of that decision.
    pub delete_branch: (bool, &'static str, Option<String>),
    /// Whether the lane worktrees go, and the source of that decision.
    pub remove_worktree: (bool, &'static str, Option<String>),
}

/// The forecast's checks, in the reference's order: a plan, or how they stopped.
pub(super) enum Checked {
    /// Ready.
    Plan(Box<Plan>),
    /// A refusal or a hand-over.
    Stop(Outcome),
}

/// The forecast of merging the mission `req` names, from `cwd`.
pub fn forecast(env: &Env, cwd: &Path, req: &Request) -> Result<Outcome, MissionError> {
    let plan = match check(env, cwd, req)? {
        Checked::Plan(p) => p,
        Checked::Stop(o) => return Ok(o),
    };
    let Plan {
        slug,
        target,
        strategy,
        mission_branch,
        lanes,
        would_assign,
        delete_branch: (delete_branch, branch_source, branch_warning),
        remove_worktree: (remove_worktree, worktree_source, worktree_warning),
        ..
    } = *plan;
    let forecast = Forecast {
        spec_kitty_version: VERSION,
        mission_slug: slug.clone(),
        target_branch: target,
        strategy: strategy.as_str(),
        delete_branch,
        remove_worktree,
        push: req.push,
        mission_branch,
        lanes,
        would_assign_mission_number: would_assign,
        retention: RetentionDoc {
            branch_source,
            worktree_source,
            warnings: branch_warning.into_iter().chain(worktree_warning).collect(),
        },
    };
    let doc = serde_json::to_value(&forecast).unwrap_or_default();
    let mut human = String::new();
    if let Some(n) = would_assign {
        human.push_str(&format!(
            "would assign mission_number={n} to mission {slug}\n"
        ));
    }
    // The reference's layout, keys in its order.
    human.push_str(&to_python_json(&forecast).unwrap_or_default());
    Ok(Outcome::Forecast { doc, human })
}

/// Run the forecast's checks for `req`, in the reference's order.
pub(super) fn check(env: &Env, cwd: &Path, req: &Request) -> Result<Checked, MissionError> {
    let stop = |o: Outcome| Ok(Checked::Stop(o));
    if !req.delegated.is_empty() {
        return stop(Outcome::NeedsReference(req.delegated.join(", ")));
    }
    if let Some(why) = inside_worktree(cwd) {
        return stop(refused("MERGE_FROM_WORKTREE", why, 1));
    }
    if env.get("SPECIFY_REPO_ROOT").is_some() {
        return stop(Outcome::NeedsReference("SPECIFY_REPO_ROOT is set".into()));
    }
    let Some(project) = project::locate(cwd) else {
        return stop(refused(
            "PROJECT_ROOT_NOT_FOUND",
            "Unable to locate repository root (missing .git or .kittify).",
            1,
        ));
    };
    let root = project.root.clone();
    if !root.join(".git").exists() {
        return stop(Outcome::NeedsReference(
            "the project has no .git (the reference skips its git preflight)".into(),
        ));
    }
    let Ok(repo) = Repo::discover(env, &root) else {
        return stop(Outcome::NeedsReference(
            "git does not recognise the repository (the reference's git preflight reports it)"
                .into(),
        ));
    };
    let strategy = match req.strategy {
        Some(s) => s,
        None => match configured_strategy(&root) {
            Ok(s) => s,
            Err(message) => return stop(refused("MERGE_STRATEGY_INVALID", message, 1)),
        },
    };
    let specs = project.specs();
    let index = Index::load(&specs);
    let slug = match req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(handle) => {
            if let Err(why) = safe_segment(handle) {
                return stop(refused(
                    "UNSAFE_MISSION_HANDLE",
                    format!("Mission slug is not a single safe path segment: {why}"),
                    2,
                ));
            }
            let name = canonical(&specs, &index, handle);
            Some(if specs.join(&name).exists() {
                name
            } else {
                handle.to_string()
            })
        }
        None => repo.head_branch()?.as_deref().and_then(slug_of_branch),
    };
    let canonical_dir = slug
        .as_deref()
        .map(|s| specs.join(canonical(&specs, &index, s)));
    if let Some(s) = &slug
        && root
            .join(".kittify/runtime/merge")
            .join(s)
            .join("state.json")
            .exists()
    {
        return stop(Outcome::NeedsReference(format!(
            "an interrupted merge of {s} is recorded (the reference resumes it)"
        )));
    }
    let meta = match canonical_dir.as_deref().map(read_meta).transpose() {
        Ok(m) => m.flatten(),
        Err(why) => {
            return stop(refused(
                "META_UNREADABLE",
                format!(
                    "Cannot resolve the merge target branch: {why}. meta.json exists but is corrupt or unreadable; fix it before merging."
                ),
                1,
            ));
        }
    };
    let (target, source) = match (&req.target, &slug) {
        (Some(t), _) => (t.clone(), Source::Flag),
        (None, None) => (primary_branch(&repo)?, Source::Primary),
        (None, Some(_)) => match meta.as_ref().and_then(meta_target) {
            Some(t) => (t, Source::Meta),
            None => (primary_branch(&repo)?, Source::Primary),
        },
    };
    if !repo.ref_exists(&format!("refs/heads/{target}"))?
        && !repo.ref_exists(&format!("refs/remotes/origin/{target}"))?
    {
        let check = slug
            .as_deref()
            .map(|s| format!(" Check kitty-specs/{s}/meta.json."))
            .unwrap_or_default();
        let message = match (source, &slug) {
            (Source::Meta, Some(_)) => {
                format!(
                    "Target branch '{target}' (from meta.json) does not exist locally or on origin.{check}"
                )
            }
            (Source::Primary, Some(_)) => format!(
                "Target branch '{target}' (resolved as primary branch) does not exist locally or on origin.{check}"
            ),
            _ => format!("Target branch '{target}' does not exist locally or on origin."),
        };
        return stop(refused("TARGET_BRANCH_NOT_FOUND", message, 1));
    }
    if req.json_without_dry_run {
        return stop(refused(
            "JSON_NEEDS_DRY_RUN",
            "--json is currently supported with --dry-run only.",
            1,
        ));
    }
    let (Some(slug), Some(dir)) = (slug, canonical_dir) else {
        return stop(refused(
            "MISSION_UNRESOLVED",
            "Mission slug could not be resolved. Use --mission <slug>.",
            1,
        ));
    };
    let (mission_branch, lanes) = match read_lanes(&dir) {
        Ok(l) => l,
        Err((code, why)) => return stop(refused(code, why, 1)),
    };
    let (status_dir, snapshot) = match status_dir(&repo, &root, &dir, meta.as_ref())? {
        Ok(status) => match log::read(&status) {
            Ok(l) => (status, reduce::reduce(&l)),
            Err(e) => {
                return stop(refused(
                    "STATUS_LOG_CORRUPT",
                    format!(
                        "the status log {} cannot be read: {e}; repair or restore that line, then run this again",
                        status.join("status.events.jsonl").display()
                    ),
                    1,
                ));
            }
        },
        Err(why) => return stop(refused("COORDINATION_BRANCH_DELETED", why, 1)),
    };
    let mut wp_ids: Vec<String> = lanes
        .iter()
        .flat_map(|l| &l.wp_ids)
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect();
    if wp_ids.is_empty() {
        wp_ids = snapshot.work_packages.keys().cloned().collect();
    }
    let blockers: Vec<Value> = wp_ids
        .iter()
        .filter_map(|wp| {
            let state = snapshot.work_packages.get(wp)?;
            rejected_but_terminal(wp, state)
        })
        .collect();
    if !blockers.is_empty() {
        return stop(blocked(&slug, &target, blockers));
    }
    let would_assign = match would_assign(&specs, meta.as_ref()) {
        Ok(n) => n,
        Err(why) => return stop(refused("MISSION_NUMBER_INVALID", why, 1)),
    };
    let (delete_branch, branch_source, branch_warning) = retention(
        req.retention.delete_branch,
        meta.as_ref().and_then(|m| m.get("retain_branches")),
        "branches",
        "retain_branches",
    );
    let (remove_worktree, worktree_source, worktree_warning) = retention(
        req.retention.remove_worktree,
        meta.as_ref().and_then(|m| m.get("retain_worktrees")),
        "worktrees",
        "retain_worktrees",
    );
    Ok(Checked::Plan(Box::new(Plan {
        root,
        repo,
        slug,
        dir,
        meta,
        target,
        strategy,
        mission_branch,
        lanes,
        wp_ids,
        status_dir,
        snapshot,
        would_assign,
        delete_branch: (delete_branch, branch_source, branch_warning),
        remove_worktree: (remove_worktree, worktree_source, worktree_warning),
    })))
}

/// The forecast document, keys in the reference's order.
#[derive(Debug, serde::Serialize)]
struct Forecast {
    spec_kitty_version: &'static str,
    mission_slug: String,
    target_branch: String,
    strategy: &'static str,
    delete_branch: bool,
    remove_worktree: bool,
    push: bool,
    mission_branch: Value,
    lanes: Vec<LaneDoc>,
    would_assign_mission_number: Option<i64>,
    retention: RetentionDoc,
}

#[derive(Debug, serde::Serialize)]
struct RetentionDoc {
    branch_source: &'static str,
    worktree_source: &'static str,
    warnings: Vec<String>,
}

fn blocked(slug: &str, target: &str, blockers: Vec<Value>) -> Outcome {
    let mut human = String::from("Error: Review artifact consistency gate failed.");
    for b in &blockers {
        let wp = b["branch_or_work_package"].as_str().unwrap_or_default();
        human.push_str(&format!(
            "\n  - {wp} is lane '{}', but the event-sourced review verdict is 'changes_requested' and no on-disk review artifact exists.\n    diagnostic_code: REJECTED_REVIEW_ARTIFACT_CONFLICT\n    branch_or_work_package: {wp}\n    violated_invariant: terminal_wp_latest_review_artifact_must_not_be_rejected\n    latest_review_cycle_path: None\n    latest_review_cycle_verdict: changes_requested",
            b["lane"].as_str().unwrap_or_default()
        ));
        for line in b["remediation"].as_array().into_iter().flatten() {
            human.push_str(&format!(
                "\n    remediation: {}",
                line.as_str().unwrap_or_default()
            ));
        }
    }
    human.push_str(&format!("\n  Mission: {slug}"));
    Outcome::Refused {
        doc: json!({
            "spec_kitty_version": VERSION,
            "mission_slug": slug,
            "target_branch": target,
            "blocked": true,
            "blockers": blockers,
            "diagnostic_code": "REJECTED_REVIEW_ARTIFACT_CONFLICT",
            "error_code": "REJECTED_REVIEW_ARTIFACT_CONFLICT",
        }),
        human,
        code: 1,
    }
}

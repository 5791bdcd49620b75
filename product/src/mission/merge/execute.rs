//! `spec-kitty merge` itself (**interop**: the reference's lane-based merge of a coordinated
//! mission with the squash strategy — its gate lines, the lanes into the mission branch, the
//! number baked, each work package's done transition on the coordination branch, the squash
//! into the target, the board projected and the bookkeeping committed, the clean-up and the
//! retrospective's terminus — every line, commit and file as the reference's).
//!
//! Checked before anything is written: what the reference would refuse, and what kitty refuses
//! where the reference would fail half-way (a work package not approved, a dirty checkout, the
//! target not checked out). What kitty leaves to the reference (another strategy, `--push`, a
//! configured gate policy, issue references, hollow reviews, a planning lane, stale-assertion
//! analysis of changed Python) is handed over whole, before anything is written.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::forecast::{Checked, Outcome, Plan, Request, Strategy, check};
use super::gates::{self, Verdict};
use super::integrate::{self, Halt, git_ok};
use super::state;
use super::steps::Run;
use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::sync_events::Lifecycle;

/// What the merge did.
#[derive(Debug)]
pub enum Merged {
    /// It ran: its lines, its exit status, and the events to queue for the mission.
    Ran {
        /// The human text.
        human: String,
        /// The exit status (1: a step failed after the merge began; its state is kept).
        code: u8,
        /// The mission's directory (the dossier's source).
        dir: PathBuf,
        /// The lifecycle events, in order.
        events: Vec<Lifecycle>,
    },
    /// It did not start: a refusal or a hand-over, as the forecast words them.
    Stopped(Outcome),
}

fn refused(code: &str, error: String) -> Merged {
    Merged::Stopped(Outcome::Refused {
        doc: json!({"error": error, "error_code": code}),
        human: format!("Error: {error}"),
        code: 1,
    })
}

fn hand(why: impl Into<String>) -> Result<Merged, MissionError> {
    Ok(Merged::Stopped(Outcome::NeedsReference(why.into())))
}

/// Why kitty leaves this merge to the reference, before anything is written.
fn handed_over(
    plan: &Plan,
    req: &Request,
    flattened: bool,
) -> Result<Option<String>, MissionError> {
    if plan.strategy != Strategy::Squash {
        return Ok(Some("a merge with another strategy than squash".into()));
    }
    if req.push {
        return Ok(Some("--push".into()));
    }
    let Some(mission) = plan.mission_branch.as_str() else {
        return Ok(Some("a mission without a mission branch".into()));
    };
    if plan.lanes.iter().any(|l| l.lane_id == "lane-planning") {
        return Ok(Some("a planning lane".into()));
    }
    if plan.status_dir == plan.dir {
        return Ok(Some("a mission without a coordination worktree".into()));
    }
    let meta = plan.meta.as_ref();
    if meta
        .and_then(|m| m.get("mission_id"))
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Ok(Some("a mission without a mission_id".into()));
    }
    if !flattened
        && meta
            .and_then(|m| m.get("coordination_branch"))
            .and_then(Value::as_str)
            != Some(mission)
    {
        return Ok(Some(
            "a coordination branch other than the mission branch".into(),
        ));
    }
    let config = crate::mission::project_config::ProjectConfig::load(&plan.root).ok();
    if config.is_some_and(|c| c.has("policy")) {
        return Ok(Some("a configured merge policy".into()));
    }
    if gates::names_issues(&plan.status_dir) {
        return Ok(Some("issue references (the issue-matrix gate)".into()));
    }
    if gates::hollow(&plan.status_dir, &plan.wp_ids) {
        return Ok(Some(
            "hollow reviews (the reference asks before merging)".into(),
        ));
    }
    if plan
        .wp_ids
        .iter()
        .any(|w| plan.snapshot.lane_of(w) == Some(crate::mission::status::Lane::Canceled))
    {
        return Ok(Some("a canceled work package".into()));
    }
    if gates::python_changed(&plan.repo, &plan.target, mission)? {
        return Ok(Some(
            "changed Python files (the reference's stale-assertion analysis)".into(),
        ));
    }
    Ok(None)
}

/// Refusals kitty makes before anything is written, where the reference would fail after
/// merging lanes (its words where it has them).
fn refusal(
    plan: &Plan,
    coord: &Repo,
    mission: &str,
    resuming: bool,
    allow_unaccepted: bool,
) -> Result<Option<Merged>, MissionError> {
    let evidence = gates::evidence(&plan.snapshot, &plan.wp_ids);
    if evidence.verdict != Verdict::Pass {
        return Ok(Some(refused(
            "WORK_PACKAGES_NOT_APPROVED",
            format!(
                "{}. Review each (spec-kitty agent action review WPxx) and move it to approved (spec-kitty agent tasks move-task WPxx --to approved), then run the merge again.",
                evidence.details
            ),
        )));
    }
    let accepted = plan
        .meta
        .as_ref()
        .and_then(|m| m.get("accepted_at"))
        .and_then(Value::as_str)
        .is_some_and(|a| !a.trim().is_empty());
    if !accepted && !allow_unaccepted && !resuming {
        return Ok(Some(refused(
            "MISSION_NOT_ACCEPTED",
            format!(
                "{slug} has not been accepted (its meta.json records no acceptance): run `spec-kitty agent mission accept --mission {slug}` and fix what it reports, then run the merge again; or merge it unaccepted with --allow-unaccepted.",
                slug = plan.slug
            ),
        )));
    }
    if let Some(why) = gates::bootstrap_only(&plan.status_dir, &plan.slug, &plan.wp_ids) {
        return Ok(Some(refused("BOOTSTRAP_ONLY_HISTORY", why)));
    }
    let head = plan.repo.head_branch()?;
    if head.as_deref() != Some(plan.target.as_str()) {
        return Ok(Some(refused(
            "TARGET_NOT_CHECKED_OUT",
            format!(
                "the merge lands on '{}', but {} has '{}' checked out: run `git checkout {}` there, then run the merge again.",
                plan.target,
                plan.root.display(),
                head.unwrap_or_else(|| "(detached HEAD)".into()),
                plan.target
            ),
        )));
    }
    if coord.head_branch()?.as_deref() != Some(mission) {
        return Ok(Some(refused(
            "COORDINATION_WORKTREE_MOVED",
            format!(
                "the coordination worktree {} does not have {mission} checked out: run `git checkout {mission}` there, then run the merge again.",
                coord.top().display()
            ),
        )));
    }
    for (checkout, branch) in [(&plan.repo, plan.target.as_str()), (coord, mission)] {
        let tip = git_ok(&plan.repo, &["rev-parse", branch])?;
        if let Some(why) = integrate::dirty(checkout, branch, &tip, "(merge)")? {
            return Ok(Some(refused("WORKTREE_DIRTY", why)));
        }
    }
    for lane in &plan.lanes {
        let id = lane.lane_id.as_str().unwrap_or_default();
        let branch = format!("{mission}-{id}");
        // A resumed merge may have removed the lanes it merged.
        if !resuming && !plan.repo.ref_exists(&format!("refs/heads/{branch}"))? {
            return Ok(Some(refused(
                "LANE_BRANCH_MISSING",
                format!("Lane branch {branch} does not exist"),
            )));
        }
    }
    Ok(None)
}

/// Merge the mission `req` names, from `cwd`.
pub fn merge(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Merged, MissionError> {
    let mut plan = match check(env, cwd, req)? {
        Checked::Plan(p) => p,
        Checked::Stop(o) => return Ok(Merged::Stopped(o)),
    };
    let mission = plan.mission_branch.as_str().unwrap_or_default().to_string();
    let mission_id = plan
        .meta
        .as_ref()
        .and_then(|m| m.get("mission_id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let state_file = state::state_path(&plan.root, &mission_id);
    let recorded = if !mission_id.is_empty() && state_file.exists() {
        match state::recorded(&state_file, &plan.slug) {
            Some(r) => Some(r),
            None => {
                return hand(format!(
                    "an interrupted merge of {} is recorded in a form kitty does not resume",
                    plan.slug
                ));
            }
        }
    } else {
        None
    };
    // A merge interrupted after it flattened the metadata: its board is still where it was.
    let flattened = recorded.is_some()
        && plan
            .meta
            .as_ref()
            .is_some_and(|m| m.get("flattened") == Some(&Value::Bool(true)));
    if flattened && plan.status_dir == plan.dir {
        let copy = plan
            .root
            .join(".worktrees")
            .join(format!("{}-coord", plan.slug))
            .join("kitty-specs")
            .join(&plan.slug);
        if let Ok(l) = crate::mission::status::log::read(&copy) {
            plan.snapshot = crate::mission::status::reduce::reduce(&l);
            plan.status_dir = copy;
        }
    }
    if let Some(why) = handed_over(&plan, req, flattened)? {
        return hand(why);
    }
    // Git runs the merge drivers as `spec-kitty` from PATH: this binary first.
    let genv = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .map_or_else(|| env.clone(), |d| env.with_path_first(&d));
    let repo = Repo::at(&genv, &plan.root);
    let coord_top = plan
        .status_dir
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let coord = Repo::at(&genv, &coord_top);
    if let Some(stop) = refusal(
        &plan,
        &coord,
        &mission,
        recorded.is_some(),
        req.allow_unaccepted,
    )? {
        return Ok(stop);
    }
    let lock = match state::Lock::take(&plan.root, now()) {
        Ok(l) => l,
        Err(why) => return Ok(refused("MERGE_LOCKED", why)),
    };
    // A killed merge's temporary worktrees (no live merge can hold them: we have the lock).
    integrate::Scratch::sweep(&plan.repo);
    let mut first = Vec::new();
    if let Some(r) = &recorded {
        let (done, all) = state::progress(r);
        if req.resume {
            first.push(format!(
                "Resume requested for {} ({done}/{all} done)",
                plan.slug
            ));
        } else if done < all {
            first.push(format!(
                "Detected interrupted merge for {} ({done}/{all} WPs done). Auto-resuming.",
                plan.slug
            ));
        }
    }
    let mut run = Run::new(&plan, repo, coord, mission, mission_id, now, recorded);
    for line in &first {
        run.say(line);
    }
    let ended = run.all();
    drop(lock);
    let code = match ended {
        Ok(()) => 0,
        Err(Stop::Failed(line)) => {
            run.say(&line);
            1
        }
        Err(Stop::Error(e)) => return Err(e),
    };
    Ok(Merged::Ran {
        human: run.lines.join("\n"),
        code,
        dir: plan.dir.clone(),
        events: run.events,
    })
}

/// How a run stopped early.
#[derive(Debug)]
pub(super) enum Stop {
    /// A step failed: the line to print (exit 1; the merge state is kept for a resume).
    Failed(String),
    /// An error kitty reports as any command's.
    Error(MissionError),
}

impl From<MissionError> for Stop {
    fn from(e: MissionError) -> Self {
        Self::Error(e)
    }
}

impl From<Halt> for Stop {
    fn from(h: Halt) -> Self {
        Self::Failed(h.0)
    }
}

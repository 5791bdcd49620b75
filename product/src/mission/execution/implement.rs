//! `agent action implement WPxx --agent A --mission M`: a planned work package claimed for
//! implementation in its lane worktree, or a package back from review or resumed by its claimant
//! (**interop**: the reference's claim — the lane made from the coordination branch with its
//! recorded planning commit and its dependency lanes merged, the `planned → claimed →
//! in_progress` batch and the shell's annotation, the forced hop back from review, the `Start
//! WPxx implementation` commit, the lane brought up to date, the baseline artifact, its refusals
//! and the lines it prints).
//!
//! Kitty commits what the reference leaves modified in the primary checkout (the package's
//! `base_*` fields and meta.json's VCS lock: `chore: WPxx claimed for implementation` on the
//! target branch), refuses a missing `--agent` before writing anything, makes the lane where a
//! kill cannot leave half of it, and holds the status lock from the lane read to the claim. A
//! single-branch mission, a planning-artifact package, a lane branch without its worktree, a
//! configured test command, a Python project (its baseline run), a stale or foreign analysis
//! report, uncommitted planning files, the fix mode and the options kitty does not model are the
//! reference's.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::claim::{Outcome, Request};
use super::implement_lane::{self as lane, Fresh};
use super::implement_text::{self as text, Summary};
use super::place::{Place, place};
use super::review_claim::{binding_delta, shell};
use super::transition::{Surface, rel};
use super::{ExecError, Found, status_lock};
use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::commit::{Committed, commit_on};
use crate::mission::status::event::{Annotation, Transition};
use crate::mission::status::{Lane, append, log, reduce};
use crate::mission::tasks::frontmatter::WpFile;

/// `wp01`, `WP01-slug` → `WP01`; `1` → `WP1` (the reference's implement reads ids so).
pub fn normalize(wp: &str) -> String {
    let up = wp.trim().to_uppercase();
    if up.starts_with("WP") {
        up.split('-').next().unwrap_or_default().to_string()
    } else {
        format!("WP{}", up.trim_start_matches(['W', 'P']))
    }
}

macro_rules! hand {
    ($why:expr) => {
        return Ok(Checked::Answer(Outcome::NeedsReference($why.into())))
    };
}

/// What the checks decided: an answer (a refusal, or input left to the reference), or the claim
/// to make.
enum Checked {
    Answer(Outcome),
    Claim(Box<Plan>),
}

/// Everything the claim writes from, found and checked before anything is written (the status
/// lock held from the status read on).
struct Plan {
    t: Box<super::Target>,
    slug: String,
    fd: std::path::PathBuf,
    branch: String,
    banner: String,
    wp: String,
    wp_path: std::path::PathBuf,
    surface: Surface,
    lock: std::fs::File,
    snap: reduce::Snapshot,
    file: WpFile,
    agent: String,
    current: Lane,
    rework: bool,
    stem: String,
    ws: super::place::Workspace,
    fresh: bool,
    coord: String,
    lanes: lane::LanesFile,
    lane_id: String,
}

/// Claim the package and make (or reuse) its lane: the checks, in the reference's order, then
/// the claim.
pub fn implement(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    match check(env, cwd, req)? {
        Checked::Answer(outcome) => Ok(outcome),
        Checked::Claim(plan) => claim(env, *plan, now),
    }
}

/// The refusals and hand-overs before any write (only what a killed claim left half-made is
/// removed first, so that a retry is not taken for the reference's recovery).
fn check(env: &Env, cwd: &Path, req: &Request) -> Result<Checked, ExecError> {
    if let Some(option) = req.delegated.first() {
        hand!(*option);
    }
    if req.agent.as_deref().is_some_and(|a| a.contains(':')) {
        hand!("a compound --agent (tool:model:profile)");
    }
    let wp = req.wp.as_deref().map(normalize);
    let handle = super::infer::mission(cwd, req.mission.as_deref(), wp.as_deref())?;
    let t = match super::target(env, cwd, Some(&handle))? {
        Found::Target(t) => t,
        Found::NeedsReference(why) => hand!(why),
    };
    if t.status_dir == t.entry.dir {
        hand!("an implementation on a single-branch mission");
    }
    let mission_type = t.entry.meta.get("mission_type").and_then(Value::as_str);
    if mission_type.is_some_and(|m| m != "software-dev") {
        hand!("another mission type");
    }
    let sparse = t.repo.local_config("^core\\.sparsecheckout$")?;
    if sparse.get("core.sparsecheckout").map(String::as_str) == Some("true") {
        hand!("a sparse primary checkout (the reference's preflight)");
    }
    if cwd.starts_with(t.root.join(".worktrees")) {
        hand!("an implementation run from inside a worktree");
    }
    if t.root.join(".kittify/charter").is_dir() {
        hand!("a project with a charter (its profile preconditions)");
    }
    let slug = t.entry.slug.clone();
    let fd = t.entry.dir.clone();
    let branch = t.repo.head_branch()?.unwrap_or_default();
    let target_branch = t
        .entry
        .meta
        .get("target_branch")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if branch != target_branch {
        hand!("an implementation from a branch other than the mission's target");
    }
    let banner = format!("Branch: {branch} (target for this mission)");
    let Some(wp) = req.wp.as_deref().map(normalize) else {
        hand!("an implementation without a work package (its auto-selection)");
    };
    let files = crate::mission::tasks::wp_files(&fd.join("tasks"));
    let Some(wp_path) = files
        .iter()
        .find(|(id, _)| *id == wp)
        .map(|(_, p)| p.clone())
    else {
        return Ok(Checked::Answer(Outcome::refused(
            &banner,
            &[format!(
                "Error locating work package: Work package '{wp}' not found under kitty-specs/{slug}/tasks."
            )],
            "WP_NOT_FOUND",
            &fd,
        )));
    };
    let surface = Surface::of(env, &t)?;
    let lock = status_lock::hold(&t.repo.git_dir()?, &slug)?;
    let snap = reduce::reduce(&log::read(&surface.dir)?);
    let Some(current) = snap.lane_of(&wp) else {
        return Ok(Checked::Answer(Outcome::refused(
            &banner,
            &[format!(
                "Error: WP {wp} has no canonical status. Run `spec-kitty agent mission finalize-tasks --mission {slug}` to initialize."
            )],
            "WP_NOT_FINALIZED",
            &fd,
        )));
    };
    let Ok(file) = WpFile::read(&wp_path) else {
        hand!("a work package whose frontmatter kitty cannot read");
    };
    if file.text.contains("bulk_edit") {
        hand!("a bulk-edit work package (its inference gate)");
    }
    let agent = req.agent.clone().filter(|a| !a.trim().is_empty());
    // Who holds the package now, when it is in progress.
    let holder = snap
        .work_packages
        .get(&wp)
        .and_then(|s| s.slot("agent").or_else(|| s.slot("actor")))
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other["tool"].as_str().unwrap_or_default().to_string(),
        });
    match current {
        Lane::Planned => {
            let unmet: Vec<String> = file
                .get_list("dependencies")
                .into_iter()
                .filter(|d| !matches!(snap.lane_of(d), Some(Lane::Approved | Lane::Done)))
                .collect();
            match unmet.as_slice() {
                [] => {}
                [one] => {
                    return Ok(Checked::Answer(Outcome::refused(
                        &banner,
                        &[format!(
                            "Error: dependencies_not_satisfied: {wp} depends on {one}; all dependencies must be approved or done before implementation can start"
                        )],
                        "DEPENDENCIES_NOT_SATISFIED",
                        &fd,
                    )));
                }
                _ => hand!("a package waiting on several dependencies"),
            }
        }
        Lane::InProgress => {
            let compatible = holder.as_deref().is_none_or(|h| {
                matches!(h, "implement-command" | "unknown") || Some(h) == agent.as_deref()
            });
            if !compatible || agent.is_none() {
                if agent.is_none() {
                    hand!("a resume without --agent");
                }
                return Ok(Checked::Answer(Outcome::refused(
                    &banner,
                    &[format!(
                        "Error: WP {wp} is already claimed for implementation by '{}'",
                        holder.unwrap_or_default()
                    )],
                    "WP_ALREADY_CLAIMED",
                    &fd,
                )));
            }
        }
        Lane::Blocked | Lane::Canceled | Lane::Done => {
            return Ok(Checked::Answer(Outcome::refused(
                &banner,
                &[format!(
                    "Error: WP {wp} is in '{}', cannot start implementation",
                    current.as_str()
                )],
                "WP_NOT_IMPLEMENTABLE",
                &fd,
            )));
        }
        Lane::ForReview | Lane::InReview | Lane::Approved => {
            if agent.is_none() {
                hand!("a rework without --agent");
            }
        }
        Lane::Claimed | Lane::Genesis | Lane::Uninitialized => {
            hand!("a package claimed but not started, or not yet planned")
        }
    }
    let rework = matches!(current, Lane::ForReview | Lane::InReview | Lane::Approved);
    let stem = wp_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reviewed = std::fs::read_dir(fd.join("tasks").join(&stem))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name() != "baseline-tests.json");
    // The reference's fix mode reads the review's reference from the primary checkout's log,
    // which on a coordinated mission never holds one (the coordination worktree's does).
    let primary_log = std::fs::read_to_string(fd.join(log::FILE)).unwrap_or_default();
    if reviewed && primary_log.contains("\"review_ref\": \"") {
        hand!("a package with review artifacts (its fix mode)");
    }
    match lane::analysis(&t.root, &fd)? {
        lane::Analysis::Current => {}
        lane::Analysis::Missing(path) => {
            return Ok(Checked::Answer(Outcome::refused(
                &banner,
                &[
                    "Error: analysis_report_required: /spec-kitty.analyze must be run before implementation.".into(),
                    format!("  Missing: {}", path.display()),
                    "  Run step 1: /spec-kitty.analyze".into(),
                    format!("  Run step 2: spec-kitty agent mission record-analysis --mission {slug} --input-file -"),
                ],
                "ANALYSIS_REPORT_REQUIRED",
                &fd,
            )));
        }
        lane::Analysis::Other(why) => hand!(why),
    }
    if !fd.join("lanes.json").is_file() {
        return Ok(Checked::Answer(Outcome::refused(
            &banner,
            &[format!(
                "Error: lanes.json is required for {}. Run the task-finalization step to compute execution lanes.",
                fd.display()
            )],
            "LANES_REQUIRED",
            &fd,
        )));
    }
    let ws = match place(&t.root, &fd, &slug, &wp) {
        Place::Lane(ws) => ws,
        Place::RepoRoot => hand!("a planning-artifact package (the repository-root workspace)"),
        Place::Unknown => hand!("a package lanes.json does not place"),
    };
    let Some(agent) = agent else {
        return Ok(Checked::Answer(Outcome::refused(
            &banner,
            &[
                "Error: --agent parameter required when starting implementation.".into(),
                format!("  Usage: spec-kitty agent action implement {wp} --agent <your-name>"),
                format!("  Example: spec-kitty agent action implement {wp} --agent claude"),
                String::new(),
                "If you're using a generated agent command file, --agent is already included."
                    .into(),
                "This tracks WHO is working on the WP (prevents abandoned tasks).".into(),
            ],
            "AGENT_REQUIRED",
            &fd,
        )));
    };
    if let Some(why) = lane::baseline_unmodelled(&t.root) {
        hand!(why);
    }
    let fresh = !ws.path.exists();
    if fresh && current != Lane::Planned {
        hand!("a package in progress without its lane worktree");
    }
    if fresh {
        lane::clear_partial(&t.repo, &ws);
        if t.repo.ref_exists(&format!("refs/heads/{}", ws.branch))? {
            hand!("a lane branch without its worktree (the reference's recovery)");
        }
        if lane::planning_dirty(&t.repo, &fd, &surface.branch)? {
            hand!("uncommitted planning files (the reference's auto-commit)");
        }
    } else if !ws.path.join(".git").exists() {
        hand!("a lane directory that is not a worktree");
    }
    let coord = surface.branch.clone();
    let lanes = lane::LanesFile::read(&fd)?;
    let lane_id = lane::lane_id(&ws, &slug);
    if lanes.missing_dependency(&t.repo, &lane_id)?.is_some() {
        hand!("a dependency lane whose branch is gone");
    }
    Ok(Checked::Claim(Box::new(Plan {
        t,
        slug,
        fd,
        branch,
        banner,
        wp,
        wp_path,
        surface,
        lock,
        snap,
        file,
        agent,
        current,
        rework,
        stem,
        ws,
        fresh,
        coord,
        lanes,
        lane_id,
    })))
}

/// The claim: the lane made (or brought up to date), the hops and annotation recorded, the
/// commits, the baseline, the prompt.
fn claim(env: &Env, p: Plan, now: &dyn Fn() -> DateTime<Utc>) -> Result<Outcome, ExecError> {
    let Plan {
        t,
        slug,
        fd,
        branch,
        banner,
        wp,
        wp_path,
        surface,
        lock: _lock,
        snap,
        file,
        agent,
        current,
        rework,
        stem,
        ws,
        fresh,
        coord,
        lanes,
        lane_id,
    } = p;
    let t0 = now();
    let sh = shell();
    let mission_id = t
        .entry
        .meta
        .get("mission_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let hop = |from: Lane, to: Lane, at: DateTime<Utc>, actor: Value| Transition {
        event_id: crate::ids::ulid(now()),
        mission_slug: slug.clone(),
        wp_id: wp.clone(),
        from_lane: from,
        to_lane: to,
        at: crate::pyfmt::isoformat(at),
        actor,
        force: false,
        execution_mode: "worktree".into(),
        reason: None,
        reason_source: None,
        review_ref: None,
        evidence: None,
        review_result: None,
        policy_metadata: Some(sh.policy(&agent)),
        mission_id: mission_id.clone(),
    };
    let micro = chrono::Duration::microseconds(1);
    let mut claimed = Vec::new();
    let mut made: Option<Fresh> = None;
    let merging = lane::merge_env(env);
    let lane_repo = Repo::at(&merging, &ws.path);
    crate::mission::repo_files::ensure_merge_drivers(&t.repo)?;
    if fresh {
        // The lane, its frontmatter fields and meta.json's VCS lock, committed on the target.
        let mut f = lane::allocate(&merging, &t.repo, &ws, &slug, &coord, &lanes, now())?;
        lane::record_base(&fd, &file, &snap, &mut f, &wp, now())?;
        lane::write_context(
            &t.root,
            &ws,
            &slug,
            &lane_id,
            &wp,
            file.get_list("dependencies"),
            lanes.members(&lane_id),
            &f,
        )?;
        made = Some(f);
        // The batch, in the reference's string-actor form.
        let batch = [
            hop(Lane::Planned, Lane::Claimed, t0, json!(agent)),
            hop(Lane::Claimed, Lane::InProgress, t0 + micro, json!(agent)),
        ];
        let lines: String = batch.iter().map(append::line).collect();
        surface.record(
            env,
            &lines,
            Some(&format!("chore(spec-kitty): status transition batch {wp}")),
        )?;
        claimed.extend(batch);
    } else {
        lane::merge_inputs(&lane_repo, &lanes, &lane_id)?;
    }
    if rework {
        // Back to work after review: one forced hop and the binding, the structured actor.
        let actor = super::move_task::bound_actor("implementer", &agent);
        let mut tr = hop(current, Lane::InProgress, t0, actor.clone());
        tr.force = true;
        tr.reason = Some("Re-implementing after review feedback".into());
        let annotation = Annotation {
            event_id: crate::ids::ulid(now()),
            wp_id: wp.clone(),
            at: crate::pyfmt::isoformat(now()),
            actor,
            delta: binding_delta("implementer", None),
        };
        surface.record(
            env,
            &super::transition::lines(&tr, Some(&annotation)),
            Some(&format!("chore(spec-kitty): status transition {wp}")),
        )?;
        claimed.push(tr);
    } else if current == Lane::Planned && !fresh {
        // An existing lane: the structured actor, the binding in the batch.
        let actor = super::move_task::bound_actor("implementer", &agent);
        let batch = [
            hop(Lane::Planned, Lane::Claimed, t0, actor.clone()),
            hop(Lane::Claimed, Lane::InProgress, t0 + micro, actor.clone()),
        ];
        let annotation = Annotation {
            event_id: crate::ids::ulid(now()),
            wp_id: wp.clone(),
            at: crate::pyfmt::isoformat(t0 + micro * 3),
            actor,
            delta: binding_delta("implementer", None),
        };
        let mut lines: String = batch.iter().map(append::line).collect();
        lines.push_str(&append::annotation_line(&annotation));
        surface.record(
            env,
            &lines,
            Some(&format!("chore(spec-kitty): status transition batch {wp}")),
        )?;
        claimed.extend(batch);
    } else {
        // A fresh lane or a resume: the shell's annotation, committed with the Start commit.
        let annotation = Annotation {
            event_id: crate::ids::ulid(now()),
            wp_id: wp.clone(),
            at: crate::pyfmt::isoformat(now()),
            actor: json!(agent),
            delta: binding_delta("implementer", Some(&sh)),
        };
        surface.record(env, &append::annotation_line(&annotation), None)?;
    }

    // The package's file on the coordination branch, with the status files.
    let start = format!("chore: Start {wp} implementation [{agent}]");
    let coord_top = surface.repo.top().to_path_buf();
    let copy = surface
        .dir
        .join("tasks")
        .join(wp_path.file_name().unwrap_or_default());
    let wp_text = std::fs::read_to_string(&wp_path)
        .map_err(|e| crate::mission::MissionError::read(&wp_path, e))?;
    if std::fs::read(&copy).ok().as_deref() != Some(wp_text.as_bytes()) {
        std::fs::create_dir_all(copy.parent().unwrap_or(&coord_top))
            .and_then(|()| std::fs::write(&copy, &wp_text))
            .map_err(|e| crate::mission::MissionError::read(&copy, e))?;
    }
    let mut paths = vec![rel(&coord_top, &copy)];
    for f in [log::FILE, crate::mission::status::materialize::FILE] {
        paths.push(rel(&coord_top, &surface.dir.join(f)));
    }
    match commit_on(env, &surface.repo, &coord, &paths, &start)? {
        Committed::Commit(_) | Committed::Unchanged => {}
    }
    lane::sync_lane(&lane_repo, &coord)?;
    let baseline = lane::baseline(env, &t.repo, &fd, &stem, &wp, &branch, now())?;
    let sharing = lanes.members(&lane_id);
    let subtasks = file.get_list("subtasks");
    let summary = Summary {
        root: &t.root,
        slug: &slug,
        wp: &wp,
        agent: &agent,
        shell_pid: sh.pid,
        target: &branch,
        ws: &ws,
        lane_id: &lane_id,
        sharing: &sharing,
        coord: &coord,
        fresh: made.as_ref(),
        baseline_failed: baseline,
        subtasks: &subtasks,
        start: &start,
    };
    lane::commit_claim(env, &t.repo, &fd, &wp_path, &wp)?;
    let prompt = text::write_prompt(env, &summary, &wp_path, &wp_text)?;
    let (human, doc) = text::report(&banner, &summary, &prompt);
    Ok(Outcome::Done {
        doc,
        human,
        code: 0,
        claimed,
        mission_dir: fd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_package_ids_are_read_as_the_reference_s_implement_reads_them() {
        assert_eq!(normalize("wp01"), "WP01");
        assert_eq!(normalize(" WP02-greeting-tests "), "WP02");
        assert_eq!(normalize("1"), "WP1");
        assert_eq!(normalize("foo"), "WPFOO");
        assert_eq!(normalize("pw3"), "WP3");
    }
}

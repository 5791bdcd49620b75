//! `agent tasks move-task` (**interop**: the reference's document, its transition rules and
//! refusals, its status lines and commits): move a work package to another lane, one recorded
//! hop per lane along the forward order, backward moves forced, runtime changes (`--agent`,
//! `--note`) as an annotation after the hops.
//!
//! Natively: `claimed`, `in_progress`, `blocked`, `canceled`, `in_review` from `for_review`,
//! `for_review` on a coordinated mission (its readiness checks, the lane-deliverables commit and
//! the pre-review gate's record where no gate contract governs the edge), and any of them
//! forced; a review's verdict from `in_review` on a coordinated mission: `approved`, unforced,
//! over no verdict or a request for changes (the readiness checks first), and `planned` with a
//! feedback file (`reject`), each recorded as the next review cycle (`review_cycle`); `done`
//! from an approval, its lane merged or an override's reason given (`done`). A move into `done`
//! otherwise, any other approval or move to `planned`, into `for_review` where a test gate
//! could run, out of a review lane backwards otherwise, or with an option kitty does not
//! implement is handed to the reference whole.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fsm::{self, Context};
use super::readiness::{Readiness, review_gate_configured};
use super::transition::{Surface, lines};
use super::{ExecError, Found, status_lock};
use super::{reject, review_cycle, review_ready};
use crate::env::Env;
use crate::mission::status::event::{Annotation, Transition};
use crate::mission::status::{Lane, log, reduce};

/// What to move.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The work package (`WP01`).
    pub wp: String,
    /// `--to`.
    pub to: String,
    /// `--mission`.
    pub mission: Option<String>,
    /// `--note`.
    pub note: Option<String>,
    /// `--agent`.
    pub agent: Option<String>,
    /// `--force`.
    pub force: bool,
    /// `--auto-commit` / `--no-auto-commit` (default: the project's).
    pub auto_commit: Option<bool>,
    /// `--review-feedback-file` (a rejection's feedback).
    pub review_feedback_file: Option<PathBuf>,
    /// `--done-override-reason` (done without merge ancestry).
    pub done_override_reason: Option<String>,
    /// Options given that kitty leaves to the reference.
    pub delegated: Vec<&'static str>,
}

/// A recorded hop (for the service's `WPStatusChanged`).
pub type Recorded = Transition;

/// What the command did.
#[derive(Debug)]
pub enum Outcome {
    /// The document, the human line, and the hops recorded.
    Done {
        /// The success document.
        doc: Value,
        /// `✓ Moved ...`.
        human: String,
        /// The mission's directory in the primary checkout.
        mission_dir: PathBuf,
        /// Every hop, in order.
        hops: Vec<Recorded>,
        /// Dirty planning files the readiness check passed over (a note for the user).
        benign: usize,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// The structured actor of a hop that binds a role (claim, review).
pub(super) fn bound_actor(role: &str, tool: &str) -> Value {
    json!({"model": null, "profile": null, "role": role, "tool": tool})
}

fn role_of(lane: Lane) -> Option<&'static str> {
    match lane {
        Lane::Claimed => Some("implementer"),
        Lane::InReview | Lane::Approved | Lane::Done => Some("reviewer"),
        _ => None,
    }
}

/// Why a move is the reference's to make, if it is.
fn reference_only(old: Lane, target: Lane, force: bool) -> Option<String> {
    if (target == Lane::Done && old != Lane::Approved)
        || (target == Lane::Planned && old != Lane::InReview)
        || (target == Lane::Approved && (force || old != Lane::InReview))
    {
        return Some(format!(
            "a move to {} from {} (review gates, evidence and feedback)",
            target.as_str(),
            old.as_str()
        ));
    }
    if force {
        return None;
    }
    if target == Lane::InReview && old != Lane::ForReview {
        return Some("a move into in_review through for_review".into());
    }
    if fsm::is_backward(old, target)
        && target != Lane::Planned
        && matches!(old, Lane::ForReview | Lane::InReview | Lane::Approved)
    {
        return Some(format!("a rewind out of {}", old.as_str()));
    }
    None
}

/// Run move-task.
#[allow(clippy::too_many_lines)]
pub fn move_task(
    env: &Env,
    cwd: &std::path::Path,
    req: &Request,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    let target = Lane::parse_alias(&req.to)
        .filter(|l| fsm::TARGETS.contains(l))
        .ok_or_else(|| ExecError::InvalidLane { to: req.to.clone() })?;
    if let Some(option) = req.delegated.first() {
        return Ok(Outcome::NeedsReference((*option).to_string()));
    }
    if req.review_feedback_file.is_some() && target != Lane::Planned {
        return Ok(Outcome::NeedsReference(
            "--review-feedback-file on a move other than a rejection".into(),
        ));
    }
    if req.done_override_reason.is_some() && target != Lane::Done {
        return Ok(Outcome::NeedsReference(
            "--done-override-reason on a move other than to done".into(),
        ));
    }
    if req.agent.as_deref().is_some_and(|a| a.contains(':')) {
        return Ok(Outcome::NeedsReference(
            "a compound --agent (tool:model:profile)".into(),
        ));
    }
    let t = match super::target(env, cwd, req.mission.as_deref())? {
        Found::Target(t) => t,
        Found::NeedsReference(why) => return Ok(Outcome::NeedsReference(why)),
    };
    let current = t.repo.head_branch()?.unwrap_or_default();
    if crate::mission::planning::commit::protected(env, &t.repo, &current)? {
        return Ok(Outcome::NeedsReference(format!(
            "a move from the protected branch '{current}'"
        )));
    }
    let auto_commit = req.auto_commit.unwrap_or_else(|| {
        crate::mission::project_config::ProjectConfig::load(&t.root)
            .map(|c| c.auto_commit())
            .unwrap_or(true)
    });
    let slug = t.entry.slug.clone();
    let wp_path = crate::mission::tasks::wp_files(&t.entry.dir.join("tasks"))
        .into_iter()
        .find(|(id, _)| *id == req.wp)
        .map(|(_, p)| p);
    let Some(wp_path) = wp_path else {
        if crate::mission::tasks::wp_files(&t.entry.dir.join("tasks"))
            .iter()
            .any(|(id, _)| id.eq_ignore_ascii_case(&req.wp))
        {
            return Ok(Outcome::NeedsReference(
                "a work package id in another case".into(),
            ));
        }
        return Err(ExecError::WpNotFound {
            wp: req.wp.clone(),
            slug,
        });
    };
    let surface = Surface::of(env, &t)?;
    let _lock = status_lock::hold(&t.repo.git_dir()?, &slug)?;
    let snap = reduce::reduce(&log::read(&surface.dir)?);
    let Some(state) = snap
        .work_packages
        .get(&req.wp)
        .filter(|s| s.lane != Lane::Uninitialized)
    else {
        return Err(ExecError::Uninitialized {
            wp: req.wp.clone(),
            slug,
            dir: surface.dir.clone(),
        });
    };
    let old = state.lane;
    if let Some(why) = reference_only(old, target, req.force) {
        return Ok(Outcome::NeedsReference(why));
    }
    let current_agent = state
        .slot("agent")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(cur), Some(agent)) = (&current_agent, &req.agent)
        && cur != agent
        && !req.force
    {
        return Err(ExecError::AgentMismatch {
            wp: req.wp.clone(),
            current: cur.clone(),
            requested: agent.clone(),
        });
    }

    // A move to for_review: subtasks done, the package ready, the gate's record.
    let mut gate: Option<Value> = None;
    let mut benign = 0;
    let readiness = Readiness {
        env,
        t: &t,
        wp: &req.wp,
        target,
        current: &current,
        state,
    };
    if target == Lane::ForReview {
        let coordinated = t.status_dir != t.entry.dir;
        let fm = std::fs::read_to_string(&wp_path).unwrap_or_default();
        if !coordinated
            || review_gate_configured(&t.root, &fm)
            || env
                .get("SPEC_KITTY_PRE_REVIEW_GATE_DISABLE")
                .is_some_and(|v| !v.trim().is_empty())
        {
            return Ok(Outcome::NeedsReference(
                "a move to for_review where the pre-review test gate may run".into(),
            ));
        }
        if !req.force {
            readiness.subtasks()?;
        }
        let place = readiness.place();
        let defer = auto_commit && !req.force;
        if !defer && !req.force {
            benign += readiness.ready(&place)?;
        }
        let changed = match &place {
            review_ready::Place::Lane(ws) if ws.path.exists() => {
                review_ready::lane_changes(env, ws, &current).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        gate = Some(review_ready::gate_no_coverage(&if changed.is_empty() {
            "no changed files detected for this WP \u{2014} skipping the gate cheaply".to_string()
        } else {
            format!(
                "NO_COVERAGE: no gate contract for (, review) governing edge {}->{}",
                old.as_str(),
                target.as_str()
            )
        }));
        if defer {
            if let review_ready::Place::Lane(ws) = &place {
                review_ready::commit_deliverables(env, &req.wp, ws);
            }
            benign += readiness.ready(&place)?;
        }
    }

    // A review's verdict: an approval (the package ready) or a rejection (its feedback), then
    // recorded and committed.
    let mut verdict: Option<review_cycle::Verdict> = None;
    let mut rollback: Option<Vec<String>> = None;
    let reviewer = req.agent.as_deref().unwrap_or("user");
    let mut note = note_of(req);
    let feedback = if target == Lane::Planned {
        let home = env.get("HOME").map(PathBuf::from);
        let given = req.review_feedback_file.as_deref();
        let f = reject::feedback(cwd, home.as_deref(), &req.wp, given)?;
        if reject::is_cycle_artifact(&f) {
            return Ok(Outcome::NeedsReference(
                "feedback that is a review-cycle artifact".into(),
            ));
        }
        Some(f)
    } else {
        None
    };
    let decision = match (&feedback, target) {
        (Some(f), _) => Some(review_cycle::Decision::Rejected { feedback: &f.text }),
        (None, Lane::Approved) => Some(review_cycle::Decision::Approved {
            note: note.as_deref(),
        }),
        _ => None,
    };
    if let Some(decision) = decision {
        let judging = (decision, auto_commit);
        if let Some(why) = review_cycle::reference_only(&t, &surface, &wp_path, state, judging) {
            return Ok(Outcome::NeedsReference(why));
        }
        let place = readiness.place();
        if target == Lane::Approved {
            readiness.subtasks()?;
            benign += readiness.ready(&place)?;
        } else {
            rollback = Some(super::subtasks::roster_of(&t.entry.dir, &req.wp).unwrap_or_default());
        }
        verdict = Some(review_cycle::record(
            env,
            &t,
            &surface,
            &wp_path,
            (&req.wp, reviewer),
            decision,
            now,
        )?);
        if let review_ready::Place::Lane(ws) = &place {
            // The review is over: its lock goes (a leftover is harmless, so a failure is not
            // an error), as the reference releases it.
            // Its directory goes too when nothing else is in it.
            let lock = crate::paths::review_lock(&ws.path);
            let _ = std::fs::remove_file(&lock);
            if let Some(dir) = lock.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }

    // A move to done: the package still ready, its lane merged into the target (or an
    // override's reason recorded in the note).
    let mut overridden = false;
    let user_note = note.clone();
    if target == Lane::Done {
        if let Some(why) = done_reference_only(&t, &surface, state) {
            return Ok(Outcome::NeedsReference(why));
        }
        let place = readiness.place();
        if matches!(place, review_ready::Place::Unknown) {
            return Ok(Outcome::NeedsReference(
                "a work package lanes.json does not place".into(),
            ));
        }
        if !req.force {
            readiness.subtasks()?;
            benign += readiness.ready(&place)?;
        }
        let target_branch = t
            .entry
            .meta
            .get("target_branch")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty())
            .unwrap_or(&current);
        let merged = match super::done::ancestry(env, &t.root, &place, target_branch) {
            Some((false, why))
                if req
                    .done_override_reason
                    .as_deref()
                    .is_none_or(|r| r.trim().is_empty()) =>
            {
                return Err(super::done::unmerged(&req.wp, &why));
            }
            Some((merged, _)) => merged,
            None => true,
        };
        let (effective, applied) = super::done::effective_note(
            note.as_deref(),
            req.done_override_reason.as_deref(),
            merged,
        );
        note = effective;
        overridden = applied;
    }

    // The plan: reason, force, review_ref, hops.
    let mut force = req.force;
    let pointer = verdict
        .as_ref()
        .filter(|_| target == Lane::Planned)
        .map(|v| v.pointer.clone());
    let review_ref = pointer.clone().or_else(|| {
        (old == Lane::ForReview && matches!(target, Lane::InProgress | Lane::Planned) && req.force)
            .then(|| "force-override".to_string())
    });
    let mut reason = note.clone().unwrap_or_else(|| {
        if req.force {
            format!("Force move to {}", target.as_str())
        } else {
            format!("move-task: {} -> {}", old.as_str(), target.as_str())
        }
    });
    if !req.force && fsm::is_backward(old, target) {
        // Every backward edge kitty moves natively is force-only (not an edge of the machine,
        // or one the shared event contract requires force for).
        force = true;
        let mut parts = vec![format!(
            "backward rewind: {} -> {}",
            old.as_str(),
            target.as_str()
        )];
        parts.extend(pointer);
        if !reason.starts_with("move-task: ") {
            parts.push(reason.clone());
        }
        reason = parts.join(": ");
    }
    let targets = if force {
        vec![target]
    } else {
        fsm::hops(old, target)
    };

    let mission_id = t
        .entry
        .meta
        .get("mission_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = format!("chore(spec-kitty): status transition {}", req.wp);
    let done_tool = if target == Lane::Done {
        review_cycle::reviewer_name(&t)
    } else {
        String::new()
    };
    let mut from = old;
    let mut recorded: Vec<Recorded> = Vec::new();
    let mut final_actor = "user".to_string();
    for hop in targets {
        let hop_actor = req
            .agent
            .clone()
            .or_else(|| {
                (from == Lane::InProgress && hop == Lane::ForReview)
                    .then(|| current_agent.clone())
                    .flatten()
            })
            .unwrap_or_else(|| "user".into());
        let judged = verdict.as_ref().filter(|_| hop == target);
        let approval = judged.filter(|v| v.verdict == "approved");
        let ctx = Context {
            force,
            actor: true,
            reason: true,
            workspace: true,
            review_ref: review_ref.is_some(),
            review_result: judged.is_some(),
            evidence: approval.is_some() || hop == Lane::Done,
            work_complete: !force,
        };
        if let Err(message) = fsm::check(from, hop, &ctx) {
            return Err(ExecError::InvalidTransition {
                message,
                current: from,
                requested: target,
            });
        }
        let role = role_of(hop);
        let actor = role.map_or_else(|| hop_actor.clone().into(), |r| bound_actor(r, &hop_actor));
        let tr = Transition {
            event_id: crate::ids::ulid(now()),
            mission_slug: slug.clone(),
            wp_id: req.wp.clone(),
            from_lane: from,
            to_lane: hop,
            at: crate::pyfmt::isoformat(now()),
            actor: actor.clone(),
            force,
            execution_mode: "worktree".into(),
            reason: Some(reason.clone()),
            reason_source: (hop == Lane::Canceled).then(|| {
                if note.is_some() {
                    "operator"
                } else {
                    "synthetic"
                }
                .to_string()
            }),
            review_ref: judged.map_or_else(|| review_ref.clone(), |v| Some(v.pointer.clone())),
            evidence: approval.map(review_cycle::Verdict::evidence).or_else(|| {
                (hop == Lane::Done).then(|| {
                    super::done::evidence(user_note.as_deref(), &req.wp, &done_tool, now())
                })
            }),
            review_result: judged.map(review_cycle::Verdict::review_result),
            policy_metadata: match approval {
                Some(v) => Some(json!({"model": null, "profile": null, "tool": v.tool})),
                None if hop == Lane::Done => {
                    Some(json!({"model": null, "profile": null, "tool": done_tool}))
                }
                None => (hop == Lane::ForReview)
                    .then(|| gate.clone().map(|g| json!({"pre_review_gate": g})))
                    .flatten(),
            },
            mission_id: mission_id.clone(),
        };
        let annotation = role.map(|r| Annotation {
            event_id: crate::ids::ulid(now()),
            wp_id: req.wp.clone(),
            at: crate::pyfmt::isoformat(now()),
            actor,
            delta: super::review_claim::binding_delta(r, None),
        });
        surface.record(env, &lines(&tr, annotation.as_ref()), Some(&message))?;
        from = hop;
        final_actor = hop_actor;
        recorded.push(tr);
    }

    // Runtime changes after the hops: a reassignment and the note.
    let mut delta = Map::new();
    if let Some(agent) = &req.agent {
        delta.insert("agent".into(), agent.clone().into());
        delta.extend(super::review_claim::binding_delta(
            role_of(target).unwrap_or("implementer"),
            None,
        ));
    }
    if let Some(n) = &note {
        delta.insert("note".into(), n.clone().into());
    }
    if let Some(roster) = &rollback {
        delta.extend(reject::rollback_delta(roster));
    }
    if !delta.is_empty() {
        let a = Annotation {
            event_id: crate::ids::ulid(now()),
            wp_id: req.wp.clone(),
            at: crate::pyfmt::isoformat(now()),
            actor: final_actor.into(),
            delta,
        };
        // Committed in its own status transaction on a coordination branch only; on a
        // single-branch mission it stays in the work tree, as the reference leaves it.
        let message = format!("chore(spec-kitty): inner-state annotation {}", req.wp);
        let coordinated = t.status_dir != t.entry.dir;
        surface.record(
            env,
            &crate::mission::status::append::annotation_line(&a),
            (auto_commit && coordinated).then_some(message.as_str()),
        )?;
    }

    let last = recorded.last();
    let mut doc = json!({
        "result": "success",
        "transition_applied": true,
        "task_id": req.wp,
        "old_lane": old.as_str(),
        "new_lane": target.as_str(),
        "path": wp_path,
        "event_id": last.map(|t| t.event_id.clone()),
        "work_package_id": req.wp,
        "to_lane": last.map_or(target, |t| t.to_lane).as_str(),
        "status_events_path": surface.log_path(),
    });
    if let Some(g) = gate {
        doc["pre_review_gate"] = g;
    }
    if let Some(v) = &verdict {
        doc["review_feedback"] = v.pointer.clone().into();
        doc["verdict_durably_persisted"] = true.into();
        doc["durability_classification"] = "durable".into();
        doc["durability_reason"] = Value::Null;
        doc["evidence_ref"] = v.evidence_ref.clone().into();
        doc["destination_ref"] = surface.branch.clone().into();
    }
    let mut human = if overridden {
        format!("{}\n", super::done::OVERRIDE_WARNING)
    } else {
        String::new()
    };
    human += &format!(
        "✓ Moved {} from {} to {}",
        req.wp,
        old.as_str(),
        target.as_str()
    );
    if let Some(roster) = &rollback {
        if let Value::Object(m) = &mut doc {
            m.extend(reject::rollback_summary(roster));
        }
        human.push('\n');
        human.push_str(&reject::rollback_lines(roster));
    }
    Ok(Outcome::Done {
        doc,
        human,
        mission_dir: t.entry.dir.clone(),
        hops: recorded,
        benign,
    })
}

/// Why a move from approved to done is the reference's, if it is: no coordination branch, a
/// verdict other than an approval (the reference records a new cycle then), or an issue matrix
/// to check.
fn done_reference_only(
    t: &super::Target,
    surface: &super::transition::Surface,
    state: &reduce::WpState,
) -> Option<String> {
    if t.status_dir == t.entry.dir {
        return Some("a move to done on a single-branch mission".into());
    }
    let verdict = state
        .fields
        .get("review_result")
        .and_then(|r| r.get("verdict"))
        .and_then(Value::as_str);
    if verdict != Some("approved") {
        return Some("a move to done without an approving review verdict".into());
    }
    review_cycle::issue_matrix(t, surface)
}

/// `--note`, trimmed, when it says anything.
fn note_of(req: &Request) -> Option<String> {
    req.note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_moves_and_rewinds_out_of_review_are_the_reference_s_unless_forced() {
        assert!(reference_only(Lane::InProgress, Lane::Approved, true).is_some());
        assert!(reference_only(Lane::InProgress, Lane::Done, false).is_some());
        assert!(reference_only(Lane::InProgress, Lane::Planned, true).is_some());
        // A rejection from review is kitty's, forced or not.
        assert!(reference_only(Lane::InReview, Lane::Planned, false).is_none());
        assert!(reference_only(Lane::InReview, Lane::Planned, true).is_none());
        assert!(reference_only(Lane::InReview, Lane::Done, true).is_some());
        assert!(reference_only(Lane::InProgress, Lane::ForReview, false).is_none());
        assert!(reference_only(Lane::ForReview, Lane::InReview, false).is_none());
        assert!(reference_only(Lane::InProgress, Lane::InReview, false).is_some());
        assert!(reference_only(Lane::InProgress, Lane::InReview, true).is_none());
        assert!(reference_only(Lane::InReview, Lane::InProgress, false).is_some());
        assert!(reference_only(Lane::ForReview, Lane::Claimed, false).is_some());
        assert!(reference_only(Lane::InProgress, Lane::Claimed, false).is_none());
        assert!(reference_only(Lane::Approved, Lane::InProgress, true).is_none());
    }
}

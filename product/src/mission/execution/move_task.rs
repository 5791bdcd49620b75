//! `agent tasks move-task` (**interop**: the reference's document, its transition rules and
//! refusals, its status lines and commits): move a work package to another lane, one recorded
//! hop per lane along the forward order, backward moves forced, runtime changes (`--agent`,
//! `--note`) as an annotation after the hops.
//!
//! Natively: `claimed`, `in_progress`, `blocked`, `canceled`, `in_review` from `for_review`,
//! `for_review` on a coordinated mission (its readiness checks, the lane-deliverables commit and
//! the pre-review gate's record where no gate contract governs the edge), and any of them
//! forced; `approved` from `in_review`, unforced, on a coordinated mission with no earlier
//! verdict (the readiness checks, then the review-cycle verdict committed: `review_cycle`). A
//! move into `done` or `planned` (ancestry, feedback files, rollbacks), any other approval, into
//! `for_review` where a test gate could run, out of a review lane backwards, or with an option
//! kitty does not implement is handed to the reference whole.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fsm::{self, Context};
use super::transition::{Surface, lines};
use super::{ExecError, Found, status_lock};
use super::{review_cycle, review_ready};
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
fn bound_actor(role: &str, tool: &str) -> Value {
    json!({"model": null, "profile": null, "role": role, "tool": tool})
}

/// The resolved-binding delta with no profile, model or provider resolved.
fn binding_delta(role: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("agent_profile".into(), "__resolved_profile_absent__".into());
    d.insert(
        "agent_profile_version".into(),
        "__resolved_profile_version_absent__".into(),
    );
    d.insert("model".into(), "__resolved_model_absent__".into());
    d.insert("provider".into(), "__resolved_provider_absent__".into());
    d.insert("role".into(), role.into());
    d
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
    if matches!(target, Lane::Done | Lane::Planned)
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

    // A review's approval: the package ready, then its verdict recorded and committed.
    let mut verdict: Option<review_cycle::Verdict> = None;
    if target == Lane::Approved {
        if let Some(why) =
            review_cycle::approval_reference_only(&t, &surface, &wp_path, state, auto_commit)
        {
            return Ok(Outcome::NeedsReference(why));
        }
        readiness.subtasks()?;
        let place = readiness.place();
        benign += readiness.ready(&place)?;
        verdict = Some(review_cycle::record_approval(
            env,
            &t,
            &surface,
            &wp_path,
            (&req.wp, req.agent.as_deref()),
            note_of(req).as_deref(),
            now,
        )?);
        if let review_ready::Place::Lane(ws) = &place {
            // The review is over: its lock goes (a leftover is harmless, so a failure is not
            // an error), as the reference releases it.
            let _ = std::fs::remove_file(ws.path.join(".spec-kitty/review-lock.json"));
        }
    }

    // The plan: reason, force, review_ref, hops.
    let note = note_of(req);
    let mut force = req.force;
    let review_ref =
        (old == Lane::ForReview && matches!(target, Lane::InProgress | Lane::Planned) && req.force)
            .then(|| "force-override".to_string());
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
        let approval = verdict.as_ref().filter(|_| hop == Lane::Approved);
        let ctx = Context {
            force,
            actor: true,
            reason: true,
            workspace: true,
            review_ref: review_ref.is_some(),
            review_result: approval.is_some(),
            evidence: approval.is_some(),
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
            review_ref: approval.map_or_else(|| review_ref.clone(), |v| Some(v.pointer.clone())),
            evidence: approval.map(review_cycle::Verdict::evidence),
            review_result: approval.map(review_cycle::Verdict::review_result),
            policy_metadata: match approval {
                Some(v) => Some(json!({"model": null, "profile": null, "tool": v.tool})),
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
            delta: binding_delta(r),
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
        delta.extend(binding_delta(role_of(target).unwrap_or("implementer")));
    }
    if let Some(n) = &note {
        delta.insert("note".into(), n.clone().into());
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
    Ok(Outcome::Done {
        doc,
        human: format!(
            "✓ Moved {} from {} to {}",
            req.wp,
            old.as_str(),
            target.as_str()
        ),
        mission_dir: t.entry.dir.clone(),
        hops: recorded,
        benign,
    })
}

/// `--note`, trimmed, when it says anything.
fn note_of(req: &Request) -> Option<String> {
    req.note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// The review readiness checks of a move to `for_review` or `approved` (the reference's subtask
/// gate, then its review-currency gate).
struct Readiness<'a> {
    env: &'a Env,
    t: &'a super::Target,
    wp: &'a str,
    target: Lane,
    current: &'a str,
    state: &'a reduce::WpState,
}

impl Readiness<'_> {
    /// Every subtask of the package recorded done.
    fn subtasks(&self) -> Result<(), ExecError> {
        let unchecked = unchecked_subtasks(&self.t.entry.dir, self.wp, self.state);
        if unchecked.is_empty() {
            return Ok(());
        }
        Err(ExecError::SubtasksUnchecked {
            message: subtasks_message(self.wp, self.target, &unchecked),
        })
    }

    /// Where the package's work is (its lane worktree, or the repository).
    fn place(&self) -> review_ready::Place {
        review_ready::place(&self.t.root, &self.t.entry.dir, &self.t.entry.slug, self.wp)
    }

    /// The package ready for review: the dirty planning files passed over, or the refusal.
    fn ready(&self, place: &review_ready::Place) -> Result<usize, ExecError> {
        let meta = &self.t.entry.meta;
        let text = |k: &str| {
            meta.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let coordination = text("coordination_branch")
            .map(str::to_string)
            .unwrap_or_else(|| format!("kitty/mission-{}", self.t.entry.slug));
        let checks = review_ready::Checks {
            env: self.env,
            root: &self.t.root,
            fd: &self.t.entry.dir,
            slug: &self.t.entry.slug,
            wp: self.wp,
            target: self.target.as_str(),
            place,
            coordination: Some(&coordination),
            planning: text("planning_base_branch").or_else(|| text("target_branch")),
            target_branch: text("target_branch").unwrap_or(self.current),
            mission_type: text("mission_type").unwrap_or_default(),
        };
        let r = review_ready::check(&checks)?;
        match r.blocked {
            Some(g) => Err(ExecError::NotReady {
                message: format!(
                    "Cannot move {} to {}\n\n{}\n\nOr use --force to override (not recommended)",
                    self.wp,
                    self.target.as_str(),
                    g.join("\n")
                ),
            }),
            None => Ok(r.benign),
        }
    }
}

/// Whether the project or the package configures the pre-review test gate (a scope, a test
/// command or the block): then it may run tests, which is the reference's to do.
fn review_gate_configured(root: &std::path::Path, wp_file: &str) -> bool {
    let front = wp_file.split("\n---").next().unwrap_or_default();
    if front.contains("pre_review_test_scope") {
        return true;
    }
    std::fs::read_to_string(root.join(".kittify/config.yaml")).is_ok_and(|c| {
        c.contains("pre_review_test_command") || c.contains("fail_on_pre_review_regression")
    })
}

/// The roster ids of `wp` not recorded done (every one when none is recorded).
fn unchecked_subtasks(fd: &std::path::Path, wp: &str, state: &reduce::WpState) -> Vec<String> {
    let roster = super::subtasks::roster_of(fd, wp).unwrap_or_default();
    let marks = state.fields.get("subtasks").and_then(Value::as_object);
    roster
        .into_iter()
        .filter(|id| marks.and_then(|m| m.get(id)).and_then(Value::as_str) != Some("done"))
        .collect()
}

/// The reference's refusal for unfinished subtasks (it ends with the commands that fix it).
fn subtasks_message(wp: &str, target: Lane, unchecked: &[String]) -> String {
    let mut m = format!(
        "Cannot move {wp} to {} - unchecked subtasks:\n",
        target.as_str()
    );
    for id in unchecked {
        m.push_str(&format!("  - [ ] {id}\n"));
    }
    m.push_str("\nMark these complete first:\n");
    for id in unchecked.iter().take(3) {
        m.push_str(&format!(
            "  spec-kitty agent tasks mark-status {id} --status done\n"
        ));
    }
    m.push_str("\nOr use --force to override (not recommended)");
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_moves_and_rewinds_out_of_review_are_the_reference_s_unless_forced() {
        assert!(reference_only(Lane::InProgress, Lane::Approved, true).is_some());
        assert!(reference_only(Lane::InProgress, Lane::Done, false).is_some());
        assert!(reference_only(Lane::InProgress, Lane::Planned, true).is_some());
        assert!(reference_only(Lane::InProgress, Lane::ForReview, false).is_none());
        assert!(reference_only(Lane::ForReview, Lane::InReview, false).is_none());
        assert!(reference_only(Lane::InProgress, Lane::InReview, false).is_some());
        assert!(reference_only(Lane::InProgress, Lane::InReview, true).is_none());
        assert!(reference_only(Lane::InReview, Lane::InProgress, false).is_some());
        assert!(reference_only(Lane::ForReview, Lane::Claimed, false).is_some());
        assert!(reference_only(Lane::InProgress, Lane::Claimed, false).is_none());
        assert!(reference_only(Lane::Approved, Lane::InProgress, true).is_none());
    }

    #[test]
    fn a_configured_gate_is_the_project_s_or_the_package_s() {
        let t = tempfile::tempdir().unwrap();
        assert!(!review_gate_configured(t.path(), "---\ntitle: x\n---\n"));
        assert!(review_gate_configured(
            t.path(),
            "---\npre_review_test_scope: tests/\n---\n"
        ));
        // Only in the body: not configured.
        assert!(!review_gate_configured(
            t.path(),
            "---\ntitle: x\n---\npre_review_test_scope: tests/\n"
        ));
        std::fs::create_dir_all(t.path().join(".kittify")).unwrap();
        std::fs::write(
            t.path().join(".kittify/config.yaml"),
            "review:\n  fail_on_pre_review_regression: true\n",
        )
        .unwrap();
        assert!(review_gate_configured(t.path(), ""));
        std::fs::write(
            t.path().join(".kittify/config.yaml"),
            "review:\n  pre_review_test_command: pytest\n",
        )
        .unwrap();
        assert!(review_gate_configured(t.path(), ""));
    }

    #[test]
    fn the_subtasks_refusal_lists_every_id_and_at_most_three_commands() {
        let ids: Vec<String> = ["T1", "T2", "T3", "T4"].map(String::from).to_vec();
        let m = subtasks_message("WP01", Lane::ForReview, &ids);
        assert!(
            m.starts_with("Cannot move WP01 to for_review - unchecked subtasks:\n  - [ ] T1\n")
        );
        assert!(m.contains("  - [ ] T4\n"));
        assert_eq!(m.matches("mark-status").count(), 3);
        assert!(m.ends_with("Or use --force to override (not recommended)"));
    }

    #[test]
    fn unchecked_subtasks_are_the_roster_s_ids_not_recorded_done() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("tasks")).unwrap();
        std::fs::write(
            t.path().join("tasks/WP01-x.md"),
            "---\nwork_package_id: WP01\ntitle: x\nsubtasks: [T1, T2, T3]\n---\n",
        )
        .unwrap();
        let mut fields = Map::new();
        fields.insert(
            "subtasks".into(),
            json!({"T1": "done", "T2": "planned", "t3": "done"}),
        );
        let state = reduce::WpState {
            lane: Lane::InProgress,
            fields,
        };
        assert_eq!(unchecked_subtasks(t.path(), "WP01", &state), ["T2", "T3"]);
        let none = reduce::WpState {
            lane: Lane::InProgress,
            fields: Map::new(),
        };
        assert_eq!(
            unchecked_subtasks(t.path(), "WP01", &none),
            ["T1", "T2", "T3"]
        );
    }
}

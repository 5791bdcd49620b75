//! The work-package commands' handlers: run the command, shape its document and human text.

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::tasks::board::{self, Board};
use crate::mission::tasks::finalize::{self, Outcome, Request};
use crate::output::Report;

/// `agent tasks ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TasksCommand {
    /// The board: every work package's lane, with progress (`--json`: the reference's document).
    Status {
        /// The mission (directory name, mission_id or its first 8 characters).
        #[arg(long)]
        mission: Option<String>,
        /// Minutes without a commit before an in-progress work package counts as stale.
        #[arg(long, default_value_t = 10)]
        stale_threshold: u64,
    },
    /// Record which requirements work packages cover (their `requirement_refs`), and commit it.
    MapRequirements {
        /// The work package (with --refs).
        #[arg(long)]
        wp: Option<String>,
        /// Comma-separated requirement ids for --wp (FR-001,NFR-002).
        #[arg(long)]
        refs: Option<String>,
        /// A JSON object of work packages to lists of ids: '{"WP01": ["FR-001"]}'.
        #[arg(long)]
        batch: Option<String>,
        /// Replace the work packages' refs instead of adding to them.
        #[arg(long)]
        replace: bool,
        /// An external tracker ref for --wp (repeatable).
        #[arg(long = "tracker-ref")]
        tracker_ref: Vec<String>,
        /// The mission (directory name, mission_id or its first 8 characters).
        #[arg(long)]
        mission: Option<String>,
        /// Commit the mapping on the mission's branch (default: the project's agents.auto_commit).
        #[arg(long, overrides_with = "no_auto_commit")]
        auto_commit: bool,
        /// Leave the mapping uncommitted.
        #[arg(long, overrides_with = "auto_commit")]
        no_auto_commit: bool,
    },
    /// Move a work package to another lane (one recorded transition per lane on the way).
    MoveTask(Box<MoveTaskArgs>),
    /// Record subtasks done or pending (in the mission's status log; tasks.md is not changed).
    MarkStatus {
        /// The subtask ids (T001, or <mission>/T001).
        #[arg(required = true, value_name = "TASK_IDS")]
        task_ids: Vec<String>,
        /// done or pending.
        #[arg(long)]
        status: String,
        /// The mission (directory name, mission_id or its first 8 characters).
        #[arg(long)]
        mission: Option<String>,
        /// An explicit single-branch checkout root.
        #[arg(long)]
        owned_checkout: Option<std::path::PathBuf>,
        /// Accepted for compatibility: mark-status commits nothing.
        #[arg(long, overrides_with = "no_auto_commit")]
        auto_commit: bool,
        /// Accepted for compatibility: mark-status commits nothing.
        #[arg(long, overrides_with = "auto_commit")]
        no_auto_commit: bool,
    },
}

/// `agent tasks move-task`'s options (the reference's; those kitty does not implement are
/// handed to the reference with the whole command).
#[derive(Debug, clap::Args)]
pub struct MoveTaskArgs {
    /// The work package (WP01).
    #[arg(value_name = "TASK_ID")]
    pub task_id: String,
    /// The lane: planned, claimed, in_progress (doing), for_review, in_review, approved, done,
    /// blocked, canceled.
    #[arg(long)]
    pub to: String,
    /// The mission (directory name, mission_id or its first 8 characters).
    #[arg(long)]
    pub mission: Option<String>,
    /// The agent making the move.
    #[arg(long)]
    pub agent: Option<String>,
    /// A note for the work package's history.
    #[arg(long)]
    pub note: Option<String>,
    /// Move even where a guard refuses (needs a reason: --note).
    #[arg(long)]
    pub force: bool,
    /// Commit the runtime annotation (default: the project's agents.auto_commit).
    #[arg(long, overrides_with = "no_auto_commit")]
    pub auto_commit: bool,
    /// Leave the runtime annotation uncommitted.
    #[arg(long, overrides_with = "auto_commit")]
    pub no_auto_commit: bool,
    /// Dispatch-resolved model (handled by the reference).
    #[arg(long)]
    pub model: Option<String>,
    /// Dispatch-resolved agent profile (handled by the reference).
    #[arg(long)]
    pub profile: Option<String>,
    /// Dispatch record id (handled by the reference).
    #[arg(long)]
    pub invocation_id: Option<String>,
    /// Assignee (handled by the reference).
    #[arg(long)]
    pub assignee: Option<String>,
    /// Shell PID of the claim (handled by the reference).
    #[arg(long)]
    pub shell_pid: Option<String>,
    /// Review feedback file for a rejection (`--to planned`).
    #[arg(long)]
    pub review_feedback_file: Option<std::path::PathBuf>,
    /// Approval reference (handled by the reference).
    #[arg(long)]
    pub approval_ref: Option<String>,
    /// Reviewer name (handled by the reference).
    #[arg(long)]
    pub reviewer: Option<String>,
    /// Self-review fallback (handled by the reference).
    #[arg(long)]
    pub self_review_fallback: bool,
    /// Intended reviewer (handled by the reference).
    #[arg(long)]
    pub intended_reviewer: Option<String>,
    /// Why the intended reviewer failed (handled by the reference).
    #[arg(long)]
    pub reviewer_failure_reason: Option<String>,
    /// Reason to record done without merge ancestry.
    #[arg(long)]
    pub done_override_reason: Option<String>,
    /// External tracker reference (handled by the reference).
    #[arg(long = "tracker-ref")]
    pub tracker_ref: Vec<String>,
    /// Skip the review artifact check (handled by the reference).
    #[arg(long)]
    pub skip_review_artifact_check: bool,
    /// Skip the pre-review test gate (handled by the reference).
    #[arg(long)]
    pub skip_pre_review_gate: bool,
    /// An explicit single-branch checkout root (handled by the reference).
    #[arg(long)]
    pub owned_checkout: Option<std::path::PathBuf>,
}

impl MoveTaskArgs {
    /// The options given that kitty leaves to the reference.
    fn delegated(&self) -> Vec<&'static str> {
        let flags: [(&'static str, bool); 14] = [
            ("--model", self.model.is_some()),
            ("--profile", self.profile.is_some()),
            ("--invocation-id", self.invocation_id.is_some()),
            ("--assignee", self.assignee.is_some()),
            ("--shell-pid", self.shell_pid.is_some()),
            ("--approval-ref", self.approval_ref.is_some()),
            ("--reviewer", self.reviewer.is_some()),
            ("--self-review-fallback", self.self_review_fallback),
            ("--intended-reviewer", self.intended_reviewer.is_some()),
            (
                "--reviewer-failure-reason",
                self.reviewer_failure_reason.is_some(),
            ),
            ("--tracker-ref", !self.tracker_ref.is_empty()),
            (
                "--skip-review-artifact-check",
                self.skip_review_artifact_check,
            ),
            ("--skip-pre-review-gate", self.skip_pre_review_gate),
            ("--owned-checkout", self.owned_checkout.is_some()),
        ];
        flags
            .iter()
            .filter(|(_, on)| *on)
            .map(|(f, _)| *f)
            .collect()
    }
}

/// Run an `agent tasks` command.
pub fn run(ctx: &Ctx, cmd: &TasksCommand) -> Result<Report, CommandError> {
    match cmd {
        TasksCommand::MoveTask(a) => move_task(
            ctx,
            &crate::mission::execution::move_task::Request {
                wp: a.task_id.clone(),
                to: a.to.clone(),
                mission: a.mission.clone(),
                note: a.note.clone(),
                agent: a.agent.clone(),
                force: a.force,
                auto_commit: if a.auto_commit {
                    Some(true)
                } else if a.no_auto_commit {
                    Some(false)
                } else {
                    None
                },
                review_feedback_file: a.review_feedback_file.clone(),
                done_override_reason: a.done_override_reason.clone(),
                delegated: a.delegated(),
            },
        ),
        TasksCommand::MarkStatus {
            task_ids,
            status,
            mission,
            owned_checkout,
            auto_commit: _,
            no_auto_commit: _,
        } => mark_status(
            ctx,
            &crate::mission::execution::mark_status::Request {
                ids: task_ids.clone(),
                status: status.clone(),
                mission: mission.clone(),
                owned_checkout: owned_checkout.is_some(),
            },
        ),
        TasksCommand::Status {
            mission,
            stale_threshold: _,
        } => status(ctx, mission.as_deref()),
        TasksCommand::MapRequirements {
            wp,
            refs,
            batch,
            replace,
            tracker_ref,
            mission,
            auto_commit,
            no_auto_commit,
        } => map_requirements(
            ctx,
            &crate::mission::tasks::mapping::Request {
                wp: wp.clone(),
                refs: refs.clone(),
                batch: batch.clone(),
                replace: *replace,
                tracker_refs: tracker_ref.clone(),
                mission: mission.clone(),
                auto_commit: if *auto_commit {
                    Some(true)
                } else if *no_auto_commit {
                    Some(false)
                } else {
                    None
                },
            },
        ),
    }
}

pub(super) fn needs_reference(why: String) -> CommandError {
    CommandError::NeedsReference {
        why,
        missing: String::new(),
    }
}

/// `spec-kitty agent mission finalize-tasks`.
pub fn finalize(ctx: &Ctx, req: &Request) -> Result<Report, CommandError> {
    let now = || ctx.clock.now_micros();
    let mut req = req.clone();
    if ctx.settings.sync_active && !req.validate_only {
        req.sync = Some(finalize::sync::Target {
            root: ctx.root()?,
            node_fallback: crate::identity::node_id(
                ctx.identity.hostname(),
                &crate::identity::user_name(&ctx.env, ctx.identity.uid()),
            ),
        });
    }
    match finalize::finalize(&ctx.env, &ctx.cwd, &req, &now)? {
        Outcome::Done(doc, human, queued) => {
            if queued > 0 {
                let n = u32::try_from(queued).unwrap_or(u32::MAX);
                ctx.queued.set(ctx.queued.get().saturating_add(n));
            }
            Ok(Report::success(serde_json::Value::Object(doc), human))
        }
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent tasks map-requirements`.
pub fn map_requirements(
    ctx: &Ctx,
    req: &crate::mission::tasks::mapping::Request,
) -> Result<Report, CommandError> {
    use crate::mission::tasks::mapping::{Outcome, map_requirements};
    match map_requirements(&ctx.env, &ctx.cwd, req)? {
        Outcome::Done(doc, human) => Ok(Report::success(serde_json::Value::Object(doc), human)),
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent tasks status`.
pub fn status(ctx: &Ctx, mission: Option<&str>) -> Result<Report, CommandError> {
    match board::board(&ctx.cwd, mission)? {
        Board::Document(doc) => {
            let human = doc["work_packages"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    format!(
                        "{:<6} {:<12} {}",
                        r["id"].as_str().unwrap_or_default(),
                        r["lane"].as_str().unwrap_or_default(),
                        r["title"].as_str().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Report::exact(doc, human))
        }
        Board::Empty(line) => Ok(Report::exact(serde_json::json!({}), line)),
        Board::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent tasks mark-status`.
pub fn mark_status(
    ctx: &Ctx,
    req: &crate::mission::execution::mark_status::Request,
) -> Result<Report, CommandError> {
    use crate::mission::execution::mark_status::{Outcome, mark_status};
    let now = || ctx.clock.now_micros();
    match mark_status(&ctx.env, &ctx.cwd, req, &now)? {
        Outcome::Done {
            doc,
            human,
            code,
            mission_dir,
            recorded,
        } => {
            if !recorded.is_empty() {
                let status = req.status.as_str();
                let history = recorded
                    .iter()
                    .map(|r| {
                        (
                            "HistoryAdded",
                            ("WorkPackage", r.wp_id.clone()),
                            serde_json::json!({
                                "wp_id": r.wp_id,
                                "entry_type": "note",
                                "entry_content": format!("Subtask(s) {} marked as {status}", r.ids.join(", ")),
                                "author": "user",
                            }),
                        )
                    })
                    .collect();
                super::planning::queue_mission_events(ctx, &mission_dir, history);
            }
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent tasks move-task`.
pub fn move_task(
    ctx: &Ctx,
    req: &crate::mission::execution::move_task::Request,
) -> Result<Report, CommandError> {
    use crate::mission::execution::move_task::{Outcome, move_task};
    let now = || ctx.clock.now_micros();
    match move_task(&ctx.env, &ctx.cwd, req, &now)? {
        Outcome::Done {
            doc,
            human,
            mission_dir,
            hops,
            benign,
        } => {
            if benign > 0 {
                // The reference prints this line on stdout, before its document; kitty keeps
                // stdout for the document alone.
                ctx.out.notice(&format!(
                    "Note: {benign} unrelated dirty file(s) ignored (not owned by {})",
                    req.wp
                ));
            }
            let changed = hops
                .iter()
                .map(|t| {
                    (
                        "WPStatusChanged",
                        ("WorkPackage", t.wp_id.clone()),
                        crate::mission::execution::transition::status_changed_payload(t),
                    )
                })
                .collect();
            super::planning::queue_mission_events(ctx, &mission_dir, changed);
            Ok(Report::exact(doc, human))
        }
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `agent mission acceptance-verdict` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct AcceptanceVerdictArgs {
    /// The mission (directory name, mission_id or its first 8 characters).
    #[arg(long)]
    pub mission: String,
    /// The criterion (e.g. FR-001); not with --negative-invariant.
    #[arg(long)]
    pub criterion: Option<String>,
    /// pass, fail or pending (with --criterion).
    #[arg(long)]
    pub result: Option<String>,
    /// How it was verified (the criterion's proof_type).
    #[arg(long)]
    pub verification_method: Option<String>,
    /// Who records the verdict.
    #[arg(long)]
    pub actor: Option<String>,
    /// An evidence reference (URL, path, ...).
    #[arg(long)]
    pub evidence: Option<String>,
    /// A negative invariant to register and run (handled by the reference).
    #[arg(long)]
    pub negative_invariant: Option<String>,
    /// The negative invariant's description.
    #[arg(long)]
    pub description: Option<String>,
    /// The invariant's grep pattern or command (handled by the reference).
    #[arg(long)]
    pub verification_command: Option<String>,
    /// The invariant's search roots (handled by the reference).
    #[arg(long)]
    pub scope: Option<String>,
    /// Run the invariant's check after registering it (handled by the reference).
    #[arg(long, overrides_with = "no_execute")]
    pub execute: bool,
    /// Do not run it.
    #[arg(long)]
    pub no_execute: bool,
}

/// `spec-kitty agent mission acceptance-verdict`.
pub fn acceptance_verdict(ctx: &Ctx, a: &AcceptanceVerdictArgs) -> Result<Report, CommandError> {
    use crate::mission::execution::acceptance_verdict::{Outcome, Request, acceptance_verdict};
    let req = Request {
        mission: Some(a.mission.clone()),
        criterion: a.criterion.clone(),
        result: a.result.clone(),
        verification_method: a.verification_method.clone(),
        actor: a.actor.clone(),
        evidence: a.evidence.clone(),
        negative_invariant: a.negative_invariant.clone(),
        description: a.description.clone(),
    };
    match acceptance_verdict(&ctx.env, &ctx.cwd, &req, ctx.clock.now_micros())? {
        Outcome::Done { doc, human, code } => Ok(Report::exact(doc, human).with_exit(code)),
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

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

/// Run an `agent tasks` command.
pub fn run(ctx: &Ctx, cmd: &TasksCommand) -> Result<Report, CommandError> {
    match cmd {
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

fn needs_reference(why: String) -> CommandError {
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

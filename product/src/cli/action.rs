//! `spec-kitty agent action`: a work package claimed for implementation (its lane made) or for
//! review, natively; the options kitty does not model go to the reference.

use super::context::Ctx;
use super::error::CommandError;
use super::tasks::needs_reference;
use crate::mission::execution::transition::status_changed_payload;
use crate::mission::status::event::Transition;
use crate::output::Report;

/// `agent action` (`implement` and `review`).
#[derive(Debug, clap::Subcommand)]
pub enum ActionCommand {
    /// Claim a planned work package for implementation: its lane worktree made (or reused), the
    /// claim recorded, the prompt written, the commands to run after printed.
    Implement(ImplementArgs),
    /// Claim a work package waiting for review: in_review, the lane brought up to date, the
    /// review prompt written, the commands that record the verdict printed.
    Review(ReviewArgs),
}

/// `agent action review` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// The work package (default: the first waiting for review).
    pub wp_id: Option<String>,
    /// The mission (directory name, mission_id or its first 8 characters).
    #[arg(long)]
    pub mission: Option<String>,
    /// Who reviews (required to claim).
    #[arg(long)]
    pub agent: Option<String>,
    /// The reviewer's model (handled by the reference).
    #[arg(long)]
    pub model: Option<String>,
    /// The reviewer's profile (handled by the reference).
    #[arg(long)]
    pub profile: Option<String>,
    /// The dispatch's invocation id (handled by the reference).
    #[arg(long)]
    pub invocation_id: Option<String>,
}

/// `spec-kitty agent action review`.
pub fn review(ctx: &Ctx, a: &ReviewArgs) -> Result<Report, CommandError> {
    use crate::mission::execution::review_claim::{Outcome, Request, review};
    let mut delegated = Vec::new();
    for (given, name) in [
        (a.model.is_some(), "--model"),
        (a.profile.is_some(), "--profile"),
        (a.invocation_id.is_some(), "--invocation-id"),
    ] {
        if given {
            delegated.push(name);
        }
    }
    let req = Request {
        wp: a.wp_id.clone(),
        mission: a.mission.clone(),
        agent: a.agent.clone(),
        delegated,
    };
    let now = || ctx.clock.now_micros();
    match review(&ctx.env, &ctx.cwd, &req, &now)? {
        Outcome::Done {
            doc,
            human,
            code,
            claimed,
            mission_dir,
        } => {
            queue_changes(ctx, &mission_dir, claimed.as_deref().into_iter());
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `agent action implement` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct ImplementArgs {
    /// The work package (`WP01`, `wp01`, `WP01-slug`).
    pub wp_id: Option<String>,
    /// The mission (directory name, mission_id or its first 8 characters).
    #[arg(long)]
    pub mission: Option<String>,
    /// Who implements (required to claim).
    #[arg(long)]
    pub agent: Option<String>,
    /// The implementer's model (handled by the reference).
    #[arg(long)]
    pub model: Option<String>,
    /// The implementer's profile (handled by the reference).
    #[arg(long)]
    pub profile: Option<String>,
    /// The dispatch's invocation id (handled by the reference).
    #[arg(long)]
    pub invocation_id: Option<String>,
    /// Bypass the legacy sparse-checkout preflight (handled by the reference).
    #[arg(long)]
    pub allow_sparse_checkout: bool,
    /// Acknowledge a work package that is not a bulk edit (handled by the reference).
    #[arg(long)]
    pub acknowledge_not_bulk_edit: bool,
}

/// `spec-kitty agent action ...`.
pub fn run(ctx: &Ctx, a: &ActionCommand) -> Result<Report, CommandError> {
    match a {
        ActionCommand::Implement(a) => implement(ctx, a),
        ActionCommand::Review(a) => review(ctx, a),
    }
}

/// Queue a `WPStatusChanged` for each hop recorded (sync on; otherwise nothing).
fn queue_changes<'a>(
    ctx: &Ctx,
    mission_dir: &std::path::Path,
    hops: impl Iterator<Item = &'a Transition>,
) {
    let changed: Vec<_> = hops
        .map(|t| {
            (
                "WPStatusChanged",
                ("WorkPackage", t.wp_id.clone()),
                status_changed_payload(t),
            )
        })
        .collect();
    if !changed.is_empty() {
        super::planning::queue_mission_events(ctx, mission_dir, changed);
    }
}

/// `spec-kitty agent action implement`.
pub fn implement(ctx: &Ctx, a: &ImplementArgs) -> Result<Report, CommandError> {
    use crate::mission::execution::implement::{Outcome, Request, implement};
    let delegated = [
        (a.model.is_some(), "--model"),
        (a.profile.is_some(), "--profile"),
        (a.invocation_id.is_some(), "--invocation-id"),
        (a.allow_sparse_checkout, "--allow-sparse-checkout"),
        (a.acknowledge_not_bulk_edit, "--acknowledge-not-bulk-edit"),
    ]
    .into_iter()
    .filter_map(|(given, name)| given.then_some(name))
    .collect();
    let req = Request {
        wp: a.wp_id.clone(),
        mission: a.mission.clone(),
        agent: a.agent.clone(),
        delegated,
    };
    let now = || ctx.clock.now_micros();
    match implement(&ctx.env, &ctx.cwd, &req, &now)? {
        Outcome::Done {
            doc,
            human,
            code,
            claimed,
            mission_dir,
        } => {
            queue_changes(ctx, &mission_dir, claimed.iter());
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

//! `spec-kitty agent action`: a work package claimed for implementation (its lane made) or for
//! review, natively; the options kitty does not model go to the reference.

use super::context::Ctx;
use super::error::CommandError;
use super::tasks::needs_reference;
use crate::mission::execution::claim::{Outcome, Request};
use crate::mission::execution::error::ExecError;
use crate::mission::execution::transition::status_changed_payload;
use crate::output::Report;

/// `agent action` (`implement` and `review`).
#[derive(Debug, clap::Subcommand)]
pub enum ActionCommand {
    /// Claim a planned work package for implementation: its lane worktree made (or reused), the
    /// claim recorded, the prompt written, the commands to run after printed.
    Implement(ImplementArgs),
    /// Claim a work package waiting for review: in_review, the lane brought up to date, the
    /// review prompt written, the commands that record the verdict printed.
    Review(ClaimArgs),
}

/// What both claims take (the reference's options).
#[derive(Debug, clap::Args)]
pub struct ClaimArgs {
    /// The work package (`WP01`, `wp01`, `WP01-slug`); for review, default: the first waiting.
    pub wp_id: Option<String>,
    /// The mission (directory name, mission_id or its first 8 characters).
    #[arg(long)]
    pub mission: Option<String>,
    /// Who claims: the implementer or the reviewer (required to claim).
    #[arg(long)]
    pub agent: Option<String>,
    /// The agent's model (handled by the reference).
    #[arg(long)]
    pub model: Option<String>,
    /// The agent's profile (handled by the reference).
    #[arg(long)]
    pub profile: Option<String>,
    /// The dispatch's invocation id (handled by the reference).
    #[arg(long)]
    pub invocation_id: Option<String>,
}

impl ClaimArgs {
    /// The request, with the options kitty leaves to the reference that were given (`more`:
    /// the command's own).
    fn request(&self, more: &[(bool, &'static str)]) -> Request {
        let delegated = [
            (self.model.is_some(), "--model"),
            (self.profile.is_some(), "--profile"),
            (self.invocation_id.is_some(), "--invocation-id"),
        ]
        .iter()
        .chain(more)
        .filter_map(|&(given, name)| given.then_some(name))
        .collect();
        Request {
            wp: self.wp_id.clone(),
            mission: self.mission.clone(),
            agent: self.agent.clone(),
            delegated,
        }
    }
}

/// `agent action implement` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct ImplementArgs {
    #[command(flatten)]
    claim: ClaimArgs,
    /// Bypass the legacy sparse-checkout preflight (handled by the reference).
    #[arg(long)]
    pub allow_sparse_checkout: bool,
    /// Acknowledge a work package that is not a bulk edit (handled by the reference).
    #[arg(long)]
    pub acknowledge_not_bulk_edit: bool,
}

/// `spec-kitty agent action ...`.
pub fn run(ctx: &Ctx, a: &ActionCommand) -> Result<Report, CommandError> {
    use crate::mission::execution::{implement::implement, review_claim::review};
    let now = || ctx.clock.now_micros();
    let outcome = match a {
        ActionCommand::Implement(a) => {
            let req = a.claim.request(&[
                (a.allow_sparse_checkout, "--allow-sparse-checkout"),
                (a.acknowledge_not_bulk_edit, "--acknowledge-not-bulk-edit"),
            ]);
            implement(&ctx.env, &ctx.cwd, &req, &now)
        }
        ActionCommand::Review(a) => review(&ctx.env, &ctx.cwd, &a.request(&[]), &now),
    };
    report(ctx, outcome)
}

/// The claim's report; a `WPStatusChanged` queued for each hop recorded (sync on).
fn report(ctx: &Ctx, outcome: Result<Outcome, ExecError>) -> Result<Report, CommandError> {
    match outcome? {
        Outcome::Done {
            doc,
            human,
            code,
            claimed,
            mission_dir,
        } => {
            let changed: Vec<_> = claimed
                .iter()
                .map(|t| {
                    (
                        "WPStatusChanged",
                        ("WorkPackage", t.wp_id.clone()),
                        status_changed_payload(t),
                    )
                })
                .collect();
            if !changed.is_empty() {
                super::planning::queue_mission_events(ctx, &mission_dir, changed);
            }
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

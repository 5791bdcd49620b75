//! `spec-kitty agent mission accept` and `spec-kitty accept`: the acceptance check and record,
//! native; `--normalize-encoding` and `--owned-checkout` through the reference.

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::accept::{Outcome, Request, accept as run};
use crate::output::Report;

/// `agent mission accept` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct AcceptArgs {
    /// The mission (directory name, mission_id, its first 8 characters or its number).
    #[arg(long)]
    pub mission: Option<String>,
    /// auto, pr, local or checklist (auto: pr when the repository has a remote, else local).
    #[arg(long)]
    pub mode: Option<String>,
    /// Report missing agent metadata and path conventions as warnings, not failures.
    #[arg(long)]
    pub lenient: bool,
    /// Check and report; record nothing.
    #[arg(long)]
    pub no_commit: bool,
    /// Report the checks only (exit 0); write nothing at all.
    #[arg(long)]
    pub diagnose: bool,
}

/// `accept` (the agent form's options, and the top-level command's own).
#[derive(Debug, clap::Args)]
pub struct TopAcceptArgs {
    /// The agent form's options.
    #[command(flatten)]
    pub common: AcceptArgs,
    /// Who accepts (default: $USER, else $USERNAME, else system).
    #[arg(long)]
    pub actor: Option<String>,
    /// A validation command to list in the acceptance notes (repeatable).
    #[arg(long)]
    pub test: Vec<String>,
    /// Report outstanding issues without logging them as an error.
    #[arg(long)]
    pub allow_fail: bool,
    /// Repair planning files that are not UTF-8 (handled by the reference).
    #[arg(long, overrides_with = "no_normalize_encoding")]
    pub normalize_encoding: bool,
    /// Do not repair them (the default).
    #[arg(long)]
    pub no_normalize_encoding: bool,
    /// Accept in an explicitly owned checkout (handled by the reference).
    #[arg(long)]
    pub owned_checkout: Option<String>,
}

impl AcceptArgs {
    fn request(&self) -> Request {
        Request {
            mission: self.mission.clone(),
            mode: self.mode.clone(),
            lenient: self.lenient,
            no_commit: self.no_commit,
            diagnose: self.diagnose,
            ..Request::default()
        }
    }
}

/// `agent mission accept`.
pub fn agent_accept(ctx: &Ctx, args: &AcceptArgs) -> Result<Report, CommandError> {
    answer(ctx, &args.request())
}

/// `accept`.
pub fn top_accept(ctx: &Ctx, args: &TopAcceptArgs) -> Result<Report, CommandError> {
    if args.normalize_encoding || args.owned_checkout.is_some() {
        return Err(CommandError::NeedsReference {
            why: "--normalize-encoding or --owned-checkout".into(),
            missing: String::new(),
        });
    }
    let req = Request {
        actor: args.actor.clone(),
        tests: args.test.clone(),
        allow_fail: args.allow_fail,
        ..args.common.request()
    };
    answer(ctx, &req)
}

fn answer(ctx: &Ctx, req: &Request) -> Result<Report, CommandError> {
    match run(&ctx.env, &ctx.cwd, req, ctx.clock.now_micros())? {
        Outcome::Done {
            doc,
            human,
            code,
            error_logged,
        } => {
            if let Some(message) = error_logged {
                super::planning::queue_error_logged(ctx, &message);
            }
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Outcome::NeedsReference(why) => Err(CommandError::NeedsReference {
            why,
            missing: String::new(),
        }),
    }
}

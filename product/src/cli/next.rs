//! `spec-kitty next`: the runtime loop's state query (query mode native; advancing mode, with
//! `--result`, is the reference's).

use std::path::PathBuf;

use serde_json::json;

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::execution::next::{
    NO_CHARTER_WARNING, Outcome, Request, not_found_remediation, query,
};
use crate::output::Report;

/// `spec-kitty next` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct NextArgs {
    /// The agent (echoed in query mode; required with --result).
    #[arg(long)]
    pub agent: Option<String>,
    /// The previous step's result: success, failed or blocked (advancing mode, handled by the
    /// reference). Without it: query mode, which advances nothing.
    #[arg(long)]
    pub result: Option<String>,
    /// The mission (directory name, mission_id or its first 8 characters).
    #[arg(long)]
    pub mission: Option<String>,
    /// An answer to a pending decision (handled by the reference).
    #[arg(long)]
    pub answer: Option<String>,
    /// The decision the answer is for (handled by the reference).
    #[arg(long)]
    pub decision_id: Option<String>,
    /// A checkout root this invocation owns (handled by the reference).
    #[arg(long)]
    pub owned_checkout: Option<PathBuf>,
}

impl NextArgs {
    fn request(&self) -> Request {
        let mut delegated = Vec::new();
        for (given, name) in [
            (self.result.is_some(), "--result (advancing mode)"),
            (self.answer.is_some(), "--answer"),
            (self.decision_id.is_some(), "--decision-id"),
            (self.owned_checkout.is_some(), "--owned-checkout"),
        ] {
            if given {
                delegated.push(name);
            }
        }
        Request {
            agent: self.agent.clone(),
            mission: self.mission.clone(),
            delegated,
        }
    }
}

/// `spec-kitty next`.
pub fn next(ctx: &Ctx, args: &NextArgs) -> Result<Report, CommandError> {
    let outcome = query(&ctx.cwd, &args.request(), ctx.clock.now_micros())?;
    // The reference's charter preflight warns before the mission is even resolved.
    if !matches!(outcome, Outcome::NeedsReference(_)) {
        ctx.out.notice(NO_CHARTER_WARNING);
    }
    match outcome {
        Outcome::Decision { doc, human } => Ok(Report::exact(doc, human)),
        Outcome::MissionNotFound { handle } => {
            let remediation = not_found_remediation(&handle);
            if !ctx.out.is_json() {
                ctx.out.notice(&format!(
                    "Error: Mission not found: '{handle}'\nNo mission matching '{handle}' exists in this repository.\n  Next: {remediation}"
                ));
            }
            Ok(Report::exact(
                json!({
                    "result": "error",
                    "error_code": "MISSION_NOT_FOUND",
                    "handle": handle,
                    "next_step": remediation,
                    "remediation": remediation,
                    "spec_kitty_version": env!("CARGO_PKG_VERSION"),
                }),
                String::new(),
            )
            .with_exit(1))
        }
        Outcome::NeedsReference(why) => Err(CommandError::NeedsReference {
            why,
            missing: String::new(),
        }),
    }
}

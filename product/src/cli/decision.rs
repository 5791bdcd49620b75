//! `agent decision ...`: the command line of the decision moments and its dispatch.

use clap::Subcommand;

use super::context::Ctx;
use super::error::CommandError;
use super::planning;

fn mission_handle(s: &str) -> Result<String, String> {
    if crate::mission::planning::decision_ledger::valid_handle(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a mission handle: use letters, digits, '-' and '_', starting with a letter or digit"
        ))
    }
}

/// `agent decision` subcommands.
#[derive(Debug, Subcommand)]
pub enum DecisionCommand {
    /// Open a decision (the same flow, step or slot and input key again: the same decision).
    Open {
        /// The mission.
        #[arg(long, value_parser = mission_handle)]
        mission: String,
        /// charter, specify or plan.
        #[arg(long)]
        flow: String,
        /// The answer's key.
        #[arg(long)]
        input_key: String,
        /// The question.
        #[arg(long)]
        question: String,
        /// The step it belongs to.
        #[arg(long)]
        step_id: Option<String>,
        /// The slot it fills.
        #[arg(long)]
        slot_key: Option<String>,
        /// The choices, a JSON array.
        #[arg(long)]
        options: Option<String>,
        /// Who opens it.
        #[arg(long, default_value = "cli")]
        actor: String,
        /// Check, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Record the answer.
    Resolve {
        /// The decision.
        decision_id: String,
        /// The mission.
        #[arg(long, value_parser = mission_handle)]
        mission: String,
        /// The answer.
        #[arg(long)]
        final_answer: String,
        /// The answer is none of the options.
        #[arg(long)]
        other_answer: bool,
        /// Why.
        #[arg(long)]
        rationale: Option<String>,
        /// Who decided.
        #[arg(long)]
        resolved_by: Option<String>,
        /// Who records it.
        #[arg(long, default_value = "cli")]
        actor: String,
        /// Check, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Leave it open for later (with a marker in spec.md or plan.md).
    Defer(CloseArgs),
    /// Drop it.
    Cancel(CloseArgs),
    /// Check the markers in spec.md and plan.md against the decisions.
    Verify {
        /// The mission.
        #[arg(long, value_parser = mission_handle)]
        mission: String,
        /// Exit 1 when there are findings (default).
        #[arg(long = "fail-on-stale", overrides_with = "no_fail_on_stale")]
        fail_on_stale: bool,
        /// Exit 0 with findings too.
        #[arg(long = "no-fail-on-stale")]
        no_fail_on_stale: bool,
    },
}

/// What `defer` and `cancel` take.
#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    /// The decision.
    decision_id: String,
    /// The mission.
    #[arg(long, value_parser = mission_handle)]
    mission: String,
    /// Why.
    #[arg(long)]
    rationale: String,
    /// Who decided.
    #[arg(long)]
    resolved_by: Option<String>,
    /// Who records it.
    #[arg(long, default_value = "cli")]
    actor: String,
    /// Check, write nothing.
    #[arg(long)]
    dry_run: bool,
}

impl CloseArgs {
    fn closing(
        &self,
        how: crate::mission::planning::decision::Close,
    ) -> crate::mission::planning::decision::Closing {
        crate::mission::planning::decision::Closing {
            how,
            id: self.decision_id.clone(),
            mission: self.mission.clone(),
            final_answer: None,
            other_answer: false,
            rationale: Some(self.rationale.clone()),
            resolved_by: self.resolved_by.clone(),
            actor: self.actor.clone(),
            dry_run: self.dry_run,
        }
    }
}

/// Run a decision command.
pub fn run(ctx: &Ctx, d: &DecisionCommand) -> Result<crate::output::Report, CommandError> {
    use crate::mission::planning::decision::{Close, Closing, Open};
    match d {
        DecisionCommand::Open {
            mission,
            flow,
            input_key,
            question,
            step_id,
            slot_key,
            options,
            actor,
            dry_run,
        } => planning::decision_open(
            ctx,
            &Open {
                mission: mission.clone(),
                flow: flow.clone(),
                input_key: input_key.clone(),
                question: question.clone(),
                step_id: step_id.clone(),
                slot_key: slot_key.clone(),
                options: options.clone(),
                actor: actor.clone(),
                dry_run: *dry_run,
            },
        ),
        DecisionCommand::Resolve {
            decision_id,
            mission,
            final_answer,
            other_answer,
            rationale,
            resolved_by,
            actor,
            dry_run,
        } => planning::decision_close(
            ctx,
            &Closing {
                how: Close::Resolve,
                id: decision_id.clone(),
                mission: mission.clone(),
                final_answer: Some(final_answer.clone()),
                other_answer: *other_answer,
                rationale: rationale.clone(),
                resolved_by: resolved_by.clone(),
                actor: actor.clone(),
                dry_run: *dry_run,
            },
        ),
        DecisionCommand::Defer(a) => planning::decision_close(ctx, &a.closing(Close::Defer)),
        DecisionCommand::Cancel(a) => planning::decision_close(ctx, &a.closing(Close::Cancel)),
        DecisionCommand::Verify {
            mission,
            fail_on_stale: _,
            no_fail_on_stale,
        } => planning::decision_verify(ctx, mission, !no_fail_on_stale),
    }
}

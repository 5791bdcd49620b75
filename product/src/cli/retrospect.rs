//! `spec-kitty retrospect create --mission M [--overwrite]`: a finished mission's retrospective
//! record; the reference's documents (`counts`, `findings_status`, `record_path`).

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::retrospective::create::{Outcome, Request, create};
use crate::output::Report;

/// `retrospect` subcommands kitty runs itself (the others run through the reference).
#[derive(Debug, clap::Subcommand)]
pub enum RetrospectCommand {
    /// Write a finished mission's retrospective record, append its `RetrospectiveCaptured`
    /// line and commit both.
    Create(CreateArgs),
}

/// `retrospect create` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The mission (mission_id, its first 8 characters, or the directory name).
    #[arg(long)]
    pub mission: String,
    /// Replace an existing record.
    #[arg(long, conflicts_with = "update")]
    pub overwrite: bool,
    /// Merge the new findings into an existing record (through the reference).
    #[arg(long)]
    pub update: bool,
}

/// `spec-kitty retrospect create`.
pub fn run(ctx: &Ctx, command: &RetrospectCommand) -> Result<Report, CommandError> {
    let RetrospectCommand::Create(args) = command;
    let req = Request {
        mission: args.mission.clone(),
        overwrite: args.overwrite,
        update: args.update,
    };
    match create(&ctx.env, &ctx.cwd, &req, ctx.clock.now_micros())? {
        Outcome::Created(doc, lines) => Ok(Report::exact(doc, lines.join("\n"))),
        Outcome::Blocked(doc, sentence) => {
            let code = doc["exit_code"]
                .as_u64()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1);
            if !ctx.out.is_json() {
                ctx.out.notice(&sentence);
            }
            Ok(Report::exact(doc, String::new()).with_exit(code))
        }
        Outcome::NeedsReference(why) => Err(CommandError::NeedsReference {
            why,
            missing: String::new(),
        }),
    }
}

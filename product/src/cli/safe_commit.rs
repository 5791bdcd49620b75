//! `spec-kitty safe-commit FILES... -m MSG [--to-branch B]`: exactly the named files committed
//! on the branch they belong to; the reference's documents (`committed`, `files`, `expansion`).

use serde_json::json;

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::safe_commit::{Outcome, Request, safe_commit};
use crate::output::Report;

/// `spec-kitty safe-commit` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct SafeCommitArgs {
    /// Files or directories to commit, relative to the worktree's top or absolute; a directory
    /// stands for its changed and untracked files.
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// The commit message.
    #[arg(long, short = 'm')]
    pub message: String,
    /// The branch the commit must land on (HEAD must be on it). Default: the mission's branch
    /// for a mission's files, else the current branch.
    #[arg(long)]
    pub to_branch: Option<String>,
}

/// `spec-kitty safe-commit`.
pub fn run(ctx: &Ctx, args: &SafeCommitArgs) -> Result<Report, CommandError> {
    let req = Request {
        files: args.files.clone(),
        message: args.message.clone(),
        to_branch: args.to_branch.clone(),
    };
    let mut warn = |line: &str| ctx.out.notice(line);
    let outcome = safe_commit(&ctx.env, &ctx.cwd, &req, ctx.clock.now_micros(), &mut warn)?;
    Ok(match outcome {
        Outcome::Done {
            commit,
            files,
            expansion,
        } => {
            let mut doc = json!({
                "result": "success",
                "success": true,
                "committed": commit.is_some(),
                "files": files,
            });
            let mut human: Vec<String> = expansion.clone().unwrap_or_default();
            if let Some(lines) = expansion {
                doc["expansion"] = json!(lines);
            }
            human.push(
                if commit.is_some() {
                    "Requested files committed"
                } else {
                    "No requested changes to commit"
                }
                .into(),
            );
            Report::exact(doc, human.join("\n"))
        }
        Outcome::Refused(refusal, lines) => {
            let message = refusal.message();
            let doc = json!({
                "result": "error",
                "success": false,
                "committed": false,
                "error": message,
                "error_code": refusal.code(),
            });
            let mut human = lines;
            human.push(format!("Error: {message}"));
            Report::exact(doc, human.join("\n")).with_exit(1)
        }
        Outcome::NeedsReference(why) => {
            return Err(CommandError::NeedsReference {
                why,
                missing: String::new(),
            });
        }
    })
}

//! `spec-kitty merge`: the merge itself, its forecast (`--dry-run`), `--abort`, and `--resume`
//! with nothing to resume native; a recorded merge's resume is the reference's.

use super::context::Ctx;
use super::error::CommandError;
use serde_json::json;

use crate::mission::merge::abort::{self, abort, nothing_to_resume};
use crate::mission::merge::execute::{self, Merged};
use crate::mission::merge::forecast::{Outcome, Request, Retention, Strategy, forecast};
use crate::output::Report;

/// `spec-kitty merge` (the reference's options).
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// How the mission branch goes into the target: merge, squash or rebase (default: the
    /// project's merge config, else squash).
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// Delete the lane branches after the merge (default: the mission's retention policy, else
    /// delete).
    #[arg(long, overrides_with = "keep_branch")]
    pub delete_branch: bool,
    /// Keep the lane branches.
    #[arg(long, overrides_with = "delete_branch")]
    pub keep_branch: bool,
    /// Remove the lane worktrees after the merge (default: the mission's retention policy, else
    /// remove).
    #[arg(long, overrides_with = "keep_worktree")]
    pub remove_worktree: bool,
    /// Keep the lane worktrees.
    #[arg(long, overrides_with = "remove_worktree")]
    pub keep_worktree: bool,
    /// Push the target to origin after the merge.
    #[arg(long)]
    pub push: bool,
    /// The target branch (default: the mission's).
    #[arg(long)]
    pub target: Option<String>,
    /// Say what the merge would do; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The mission (directory name, mission_id, its first 8 characters or its number).
    #[arg(long)]
    pub mission: Option<String>,
    /// Resume an interrupted merge.
    #[arg(long)]
    pub resume: bool,
    /// Abort an interrupted merge: its recorded state and workspace cleared, the retrospective
    /// captured and committed.
    #[arg(long)]
    pub abort: bool,
    /// Merge a mission no acceptance is recorded for (kitty's own: it refuses otherwise, where
    /// the reference merges a mission whose acceptance failed).
    #[arg(long)]
    pub allow_unaccepted: bool,
    /// Unused (the reference's compatibility flag).
    #[arg(long = "context", hide = true)]
    pub context_token: Option<String>,
    /// Unused (the reference's compatibility flag).
    #[arg(long, hide = true)]
    pub keep_workspace: bool,
    /// Proceed despite legacy sparse-checkout state (handled by the reference).
    #[arg(long)]
    pub allow_sparse_checkout: bool,
    /// Proceed after merge warnings without prompts (handled by the reference).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Bypass the review-artifact gate, with --note (handled by the reference).
    #[arg(long)]
    pub skip_review_artifact_check: bool,
    /// The reason recorded with --skip-review-artifact-check (handled by the reference).
    #[arg(long)]
    pub note: Option<String>,
}

impl MergeArgs {
    /// Tri-state flags: `None` when neither form was given.
    fn pick(yes: bool, no: bool) -> Option<bool> {
        match (yes, no) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }

    fn request(&self, json: bool) -> Request {
        let mut delegated = Vec::new();
        for (given, name) in [
            (self.resume && (self.dry_run || json), "--resume"),
            (self.allow_sparse_checkout, "--allow-sparse-checkout"),
            (
                self.skip_review_artifact_check,
                "--skip-review-artifact-check",
            ),
            (self.note.is_some(), "--note"),
        ] {
            if given {
                delegated.push(name);
            }
        }
        Request {
            mission: self.mission.clone(),
            target: self.target.clone(),
            strategy: self.strategy,
            retention: Retention {
                delete_branch: Self::pick(self.delete_branch, self.keep_branch),
                remove_worktree: Self::pick(self.remove_worktree, self.keep_worktree),
            },
            push: self.push,
            delegated,
            json_without_dry_run: json && !self.dry_run,
            resume: self.resume,
            allow_unaccepted: self.allow_unaccepted,
        }
    }
}

/// `spec-kitty merge --abort`.
fn run_abort(ctx: &Ctx, args: &MergeArgs) -> Result<Report, CommandError> {
    let mut warn = |line: &str| ctx.out.notice(&format!("warning: {line}"));
    let outcome = abort(
        &ctx.env,
        &ctx.cwd,
        args.mission.as_deref(),
        ctx.clock.now_micros(),
        &mut warn,
    )?;
    match outcome {
        abort::Outcome::Aborted {
            slug,
            cleared,
            lines,
        } => {
            let doc = json!({
                "result": "success",
                "mission_slug": slug,
                "state_cleared": cleared,
                "messages": lines,
            });
            Ok(Report::exact(doc, lines.join("\n")))
        }
        abort::Outcome::Unsafe(message) => {
            let doc =
                json!({"result": "error", "error_code": "UNSAFE_MISSION_HANDLE", "error": message});
            Ok(Report::exact(doc, format!("Error: {message}")).with_exit(2))
        }
        abort::Outcome::NeedsReference(why) => Err(CommandError::NeedsReference {
            why,
            missing: String::new(),
        }),
    }
}

/// The merge itself (human output only: the reference has no JSON document for it).
fn run_merge(ctx: &Ctx, req: &Request) -> Result<Report, CommandError> {
    let now = || ctx.clock.now_micros();
    match execute::merge(&ctx.env, &ctx.cwd, req, &now)? {
        Merged::Ran {
            human,
            code,
            dir,
            events,
        } => {
            super::planning::queue_mission_events(ctx, &dir, events);
            let doc = json!({"result": if code == 0 { "success" } else { "error" }});
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Merged::Stopped(Outcome::Forecast { doc, human }) => Ok(Report::exact(doc, human)),
        Merged::Stopped(Outcome::Refused { doc, human, code }) => {
            Ok(Report::exact(doc, human).with_exit(code))
        }
        Merged::Stopped(Outcome::NeedsReference(why)) => Err(CommandError::NeedsReference {
            why,
            missing: String::new(),
        }),
    }
}

/// `spec-kitty merge`.
pub fn merge(ctx: &Ctx, args: &MergeArgs) -> Result<Report, CommandError> {
    let flagged = args.skip_review_artifact_check || args.note.is_some();
    if args.abort && !flagged {
        return run_abort(ctx, args);
    }
    if args.resume
        && !args.abort
        && !flagged
        && nothing_to_resume(&ctx.env, &ctx.cwd, args.mission.as_deref()) == Some(true)
    {
        let message = "No interrupted merge to resume.";
        let doc = json!({"result": "error", "error_code": "NO_MERGE_TO_RESUME", "error": message});
        // On stdout, as the reference prints it.
        return Ok(Report::exact(doc, format!("Error: {message}")).with_exit(1));
    }
    let req = args.request(ctx.out.is_json());
    if !args.dry_run && !ctx.out.is_json() {
        return run_merge(ctx, &req);
    }
    match forecast(&ctx.env, &ctx.cwd, &req)? {
        Outcome::Forecast { doc, human } => Ok(Report::exact(doc, human)),
        Outcome::Refused { doc, human, code } => Ok(Report::exact(doc, human).with_exit(code)),
        Outcome::NeedsReference(why) => Err(CommandError::NeedsReference {
            why,
            missing: String::new(),
        }),
    }
}

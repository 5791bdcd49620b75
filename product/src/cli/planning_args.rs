//! The planning commands' command lines (`charter context`, `mission list`, `agent context
//! resolve`, `spec-commit`).

use clap::Subcommand;

/// `charter` subcommands.
#[derive(Debug, Subcommand)]
pub enum CharterCommand {
    /// The governance context a prompt loads for an action.
    Context {
        /// The action (specify, plan, implement, review, ...).
        #[arg(long)]
        action: String,
        /// Record the action as loaded (the default; nothing is recorded without a charter).
        #[arg(long, overrides_with = "no_mark_loaded")]
        mark_loaded: bool,
        /// Do not record the action as loaded.
        #[arg(long)]
        no_mark_loaded: bool,
    },
}

/// `mission` subcommands.
#[derive(Debug, Subcommand)]
pub enum TopMissionCommand {
    /// The mission types, activated ones first (`--json`: the rows as an array).
    List,
}

/// `agent context` subcommands.
#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// The mission an action runs on, its directory and the commands that follow.
    Resolve {
        /// The action (specify, plan, analyze, tasks, tasks_outline, tasks_packages,
        /// tasks_finalize, implement, review, accept, status).
        #[arg(long)]
        action: String,
        /// The mission (directory name, mission_id or its first 8 characters).
        #[arg(long)]
        mission: Option<String>,
        /// The work package (implement, review).
        #[arg(long)]
        wp_id: Option<String>,
        /// The agent.
        #[arg(long)]
        agent: Option<String>,
    },
}

/// `spec-commit`'s arguments.
#[derive(Debug, clap::Args)]
pub struct SpecCommitArgs {
    /// The files (relative paths are from the repository root).
    #[arg(required = true)]
    pub files: Vec<std::path::PathBuf>,
    /// The commit message.
    #[arg(long, short = 'm')]
    pub message: String,
    /// The mission (default: the directory after kitty-specs/ in the first file).
    #[arg(long)]
    pub mission: Option<String>,
    /// Accepted for compatibility (a coordination branch's fast-forward target).
    #[arg(long)]
    pub target_branch: Option<String>,
}

//! Why a mission operation failed. Every message says what to do.

use std::path::PathBuf;

/// A mission command failure, each with a stable `error_code`.
#[derive(Debug, thiserror::Error)]
pub enum MissionError {
    /// Not inside a git repository.
    #[error(
        "{dir} is not inside a git repository; run `git init` there (and make a first commit), then `spec-kitty init`"
    )]
    NotAGitRepo {
        /// The working directory.
        dir: PathBuf,
    },
    /// The directory is in a repository but not in a work tree (bare, or inside `.git`).
    #[error(
        "{dir} is {kind}; run spec-kitty from the repository's work tree (the checkout), e.g. `cd` to its top directory"
    )]
    NotAWorkTree {
        /// The working directory.
        dir: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The repository's path cannot be written into UTF-8 documents and files.
    #[error(
        "the repository path {path} is not valid UTF-8; spec-kitty writes paths into JSON and into the project's files as UTF-8: rename the directory (or a parent) to a UTF-8 name"
    )]
    NonUtf8Path {
        /// The path, with invalid bytes replaced.
        path: String,
    },
    /// The repository has no commit.
    #[error(
        "the repository at {repo} has no commit yet; make a first commit (e.g. `git commit --allow-empty -m init`), then try again"
    )]
    NoCommit {
        /// The repository.
        repo: PathBuf,
    },
    /// `.kittify/config.yaml` is missing.
    #[error("{path} does not exist; run `spec-kitty init` in this repository first")]
    NotInitialized {
        /// The missing file.
        path: PathBuf,
    },
    /// `.kittify/config.yaml` is unreadable.
    #[error(
        "{path} is not a valid spec-kitty config ({detail}); fix it or re-create it with `spec-kitty init --force`"
    )]
    ConfigInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The project already has a config.
    #[error("{path} already exists; use `spec-kitty init --force` to overwrite it")]
    AlreadyInitialized {
        /// The file.
        path: PathBuf,
    },
    /// No mission type is activated.
    #[error(
        "no mission types are activated in {path}, so a mission cannot be created; add a non-empty `mission_type_activations` list (e.g. [software-dev]) or run `spec-kitty init`"
    )]
    NoMissionTypes {
        /// The config file.
        path: PathBuf,
    },
    /// The mission type is not activated.
    #[error("mission type {requested:?} is not activated in this project; use one of: {activated}")]
    UnknownMissionType {
        /// What was asked.
        requested: String,
        /// What is available.
        activated: String,
    },
    /// The slug is not kebab-case ASCII of at most 64 characters.
    #[error(
        "invalid mission slug {slug:?}: {why}; use lower-case kebab-case ASCII such as `add-login-page` (at most 64 characters)"
    )]
    InvalidSlug {
        /// The slug given.
        slug: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The current branch is protected.
    #[error(
        "refusing to commit the mission scaffold on the protected branch {branch:?}; pass `--start-branch <feature-branch>` (or switch to one with `git switch -c <name>`), or set SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS=1"
    )]
    ProtectedBranch {
        /// The branch.
        branch: String,
    },
    /// HEAD is detached.
    #[error(
        "HEAD is detached; switch to a branch (`git switch -c <name>`) before creating a mission"
    )]
    DetachedHead,
    /// git failed or is missing.
    #[error("git failed ({what}): {detail}")]
    Git {
        /// What was attempted.
        what: String,
        /// git's words.
        detail: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An option whose effect lies outside this implementation.
    #[error("{option} is not supported by this spec-kitty: {why}")]
    UnsupportedOption {
        /// The option.
        option: &'static str,
        /// What is supported instead.
        why: &'static str,
    },
    /// `--friendly-name` is blank.
    #[error(
        "the friendly name is empty; pass a non-blank --friendly-name or leave it out to derive one from the slug"
    )]
    FriendlyNameEmpty,
    /// `--purpose-tldr` / `--purpose-context` are unusable.
    #[error(
        "invalid mission purpose: {0}; pass a one-line --purpose-tldr and a non-blank --purpose-context"
    )]
    PurposeInvalid(String),
    /// `--start-branch` and `--target-branch` differ.
    #[error(
        "--start-branch {start:?} and --target-branch {target:?} differ, but a mission has one planning branch; leave out --target-branch or give both the same name"
    )]
    StartBranchTargetMismatch {
        /// `--start-branch`.
        start: String,
        /// `--target-branch`.
        target: String,
    },
    /// Switching to `--start-branch` failed.
    #[error("cannot switch to --start-branch {branch:?}: {detail}")]
    StartBranchFailed {
        /// The branch.
        branch: String,
        /// git's words.
        detail: String,
    },
    /// A PR-bound mission on its merge target needs explicit confirmation.
    #[error(
        "a PR-bound mission created on its merge target branch {current:?} needs the branch strategy confirmed; with --json pass `--branch-strategy already-confirmed`, or use `--start-branch <feature-branch>`"
    )]
    BranchStrategyConfirmationRequired {
        /// The current branch (also the merge target).
        current: String,
    },
    /// `--target-branch` names a branch that is not checked out.
    #[error(
        "--target-branch {target:?} is not the checked-out branch {current:?}; the scaffold is committed on the target, so run `git switch {target}` first (or pass --start-branch {target})"
    )]
    TargetNotCheckedOut {
        /// The target branch.
        target: String,
        /// The current branch.
        current: String,
    },
    /// The mission's coordination branch exists and has diverged from the target.
    #[error(
        "coordination branch {branch:?} has diverged from {target:?}; rebase it onto {target:?}, or pass --force-recreate-coordination-branch to reset it"
    )]
    CoordinationBranchDiverged {
        /// The coordination branch.
        branch: String,
        /// The target branch.
        target: String,
    },
    /// `git commit` refused the scaffold (a hook failed, or git did).
    #[error("the scaffold commit was refused, so nothing was created: {detail}")]
    CommitRefused {
        /// git's and the hook's words.
        detail: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The outbox could not queue the event.
    #[error("the mission was not created because its event could not be queued: {0}")]
    Outbox(#[from] crate::sync::outbox::OutboxError),
    /// Another process held the repository's mission lock too long.
    #[error("another spec-kitty process is creating a mission in this repository; try again")]
    Busy,
}

impl MissionError {
    /// The stable `error_code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAGitRepo { .. } => "not_a_git_repo",
            Self::NotAWorkTree { .. } => "not_a_work_tree",
            Self::NonUtf8Path { .. } => "non_utf8_path",
            Self::NoCommit { .. } => "no_commit",
            Self::NotInitialized { .. } => "not_initialized",
            Self::ConfigInvalid { .. } => "config_invalid",
            Self::AlreadyInitialized { .. } => "already_initialized",
            Self::NoMissionTypes { .. } => "CHARTER_PACK_CONFIG_INVALID",
            Self::UnknownMissionType { .. } => "unknown_mission_type",
            Self::InvalidSlug { .. } => "invalid_slug",
            Self::ProtectedBranch { .. } => "protected_branch",
            Self::DetachedHead => "detached_head",
            Self::Git { .. } => "git_failed",
            Self::Io { .. } | Self::Read { .. } => "io_error",
            Self::UnsupportedOption { .. } => "unsupported_option",
            Self::FriendlyNameEmpty => "invalid_friendly_name",
            Self::PurposeInvalid(_) => "invalid_purpose",
            Self::StartBranchTargetMismatch { .. } => "START_BRANCH_TARGET_MISMATCH",
            Self::StartBranchFailed { .. } => "START_BRANCH_FAILED",
            Self::BranchStrategyConfirmationRequired { .. } => {
                "BRANCH_STRATEGY_CONFIRMATION_REQUIRED"
            }
            Self::TargetNotCheckedOut { .. } => "target_branch_not_checked_out",
            Self::CoordinationBranchDiverged { .. } => "COORDINATION_BRANCH_DIVERGED",
            Self::CommitRefused { .. } => "commit_refused",
            Self::Outbox(_) => "outbox_unavailable",
            Self::Busy => "repository_busy",
        }
    }

    /// Extra keys of the JSON error document, as the reference adds them for the same failure.
    pub fn details(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let value = match self {
            Self::StartBranchTargetMismatch { start, target } => {
                json!({"start_branch": start, "target_branch": target})
            }
            Self::StartBranchFailed { branch, .. } => json!({"start_branch": branch}),
            Self::BranchStrategyConfirmationRequired { current } => json!({
                "branch_strategy_gate": "confirmation_required",
                "current_branch": current,
                "merge_target_branch": current,
                "remediation": "Pass `--branch-strategy already-confirmed`, or create the mission from a feature branch with `--start-branch <name>`.",
            }),
            Self::CoordinationBranchDiverged { branch, target } => json!({
                "coordination_branch": branch,
                "target_branch": target,
                "next_step": format!("Rebase {branch} onto {target}, or re-run with --force-recreate-coordination-branch."),
            }),
            Self::NoMissionTypes { .. } => json!({
                "remediation": "Add a non-empty `mission_type_activations` list to .kittify/config.yaml, or run `spec-kitty init`.",
            }),
            _ => json!({}),
        };
        match value {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }

    pub(crate) fn read(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

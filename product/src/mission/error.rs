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
        "no mission types are activated in {path}; add one under `missions: activated:` (e.g. software-dev)"
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
        "refusing to commit the mission scaffold on the protected branch {branch:?}; switch to a feature branch (`git switch -c <name>`), or set SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS=1"
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
    /// A mission with this slug exists.
    #[error("a mission with slug {slug:?} already exists at {dir}; choose another slug")]
    MissionExists {
        /// The slug.
        slug: String,
        /// Its directory.
        dir: PathBuf,
    },
    /// git failed or is missing.
    #[error("git failed ({what}): {detail}")]
    Git {
        /// What was attempted.
        what: String,
        /// git's words.
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
            Self::NoCommit { .. } => "no_commit",
            Self::NotInitialized { .. } => "not_initialized",
            Self::ConfigInvalid { .. } => "config_invalid",
            Self::AlreadyInitialized { .. } => "already_initialized",
            Self::NoMissionTypes { .. } => "no_mission_types",
            Self::UnknownMissionType { .. } => "unknown_mission_type",
            Self::InvalidSlug { .. } => "invalid_slug",
            Self::ProtectedBranch { .. } => "protected_branch",
            Self::DetachedHead => "detached_head",
            Self::MissionExists { .. } => "mission_exists",
            Self::Git { .. } => "git_failed",
            Self::Io { .. } => "io_error",
            Self::Outbox(_) => "outbox_unavailable",
            Self::Busy => "repository_busy",
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

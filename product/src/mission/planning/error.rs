//! The failures of the planning commands, each with the reference's `error_code`, exit status and
//! extra keys (**interop**: an agent keys on them), and a message that ends with the fix.

use serde_json::{Map, Value, json};

/// Why a planning command failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
    /// No spec-kitty project (and no git work tree) at or above the working directory.
    #[error(
        "no spec-kitty project here ({dir} and its parents have no .git or .kittify): run from within a spec-kitty repository, or `spec-kitty init` one"
    )]
    ProjectRootUnresolved {
        /// The working directory.
        dir: std::path::PathBuf,
    },
    /// The project is not a git work tree.
    #[error(
        "{dir} is not in a git repository, and this command needs git: run `git init` there (and commit once)"
    )]
    NotInGit {
        /// The project root.
        dir: std::path::PathBuf,
    },
    /// HEAD is detached.
    #[error(
        "HEAD is detached; check out a branch (`git switch <branch>`) and run the command again"
    )]
    DetachedHead,
    /// `--action` is not one the command knows.
    #[error("unknown action '{action}': use one of {}", expected.join(", "))]
    InvalidAction {
        /// The action given.
        action: String,
        /// The accepted actions.
        expected: &'static [&'static str],
    },
    /// `--mission` is required and missing.
    #[error(
        "--mission <slug> is required: pass the mission's directory name, its id or its first 8 characters"
    )]
    MissingMission,
    /// A handle names no mission (strict resolution).
    #[error(
        "no mission matches '{handle}': pass the mission's directory name, its mission_id or its first 8 characters (`spec-kitty agent mission list` shows them)"
    )]
    MissionNotFound {
        /// The handle given.
        handle: String,
    },
    /// A handle names several missions.
    #[error("'{handle}' matches {} missions ({}): pass the full directory name or mission_id", candidates.len(), candidates.iter().map(|c| c.slug.as_str()).collect::<Vec<_>>().join(", "))]
    MissionAmbiguous {
        /// The handle given.
        handle: String,
        /// Every mission it matches.
        candidates: Vec<super::handle::Candidate>,
        /// The reference's code for this command (`ambiguous_mission_handle` where it reports the
        /// handle error itself, `MISSION_AMBIGUOUS_SELECTOR` where the commit router does).
        code: &'static str,
    },
    /// No single mission could be chosen (check-prerequisites, setup-plan).
    #[error("{}", detection_message(available, example))]
    ContextUnresolved {
        /// `FEATURE_CONTEXT_UNRESOLVED` or `PLAN_CONTEXT_UNRESOLVED`.
        code: &'static str,
        /// `--mission` as given.
        mission_flag: Option<String>,
        /// The mission directories there are.
        available: Vec<String>,
        /// The command to run with one of them.
        example: String,
    },
    /// A handle with a path separator or `..`.
    #[error(
        "'{handle}' is not a mission handle (it must not contain '/' or '..'): pass the mission's directory name"
    )]
    UnsafeHandle {
        /// The handle given.
        handle: String,
    },
    /// The mission's spec.md is missing (setup-plan).
    #[error("mission '{slug}' has no spec at {}: restore it, or pick another mission with --mission", spec.display())]
    SpecFileMissing {
        /// The mission.
        slug: String,
        /// Its directory.
        feature_dir: std::path::PathBuf,
        /// Where the spec should be.
        spec: std::path::PathBuf,
    },
    /// The mission's meta.json has no usable `mission_type`.
    #[error("{} has no mission_type, so its plan template cannot be chosen: set \"mission_type\" (for example \"software-dev\") in it", meta.display())]
    MissionTypeMissing {
        /// The meta.json.
        meta: std::path::PathBuf,
    },
    /// The mission's type is not one kitty knows.
    #[error(
        "mission type '{mission_type}' is not registered (registered: documentation, plan, research, software-dev): fix mission_type in the mission's meta.json"
    )]
    UnknownMissionType {
        /// The type found.
        mission_type: String,
    },
    /// spec-commit was given a directory.
    #[error("spec-commit takes files, not directories ({}): name the files to commit", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "))]
    DirectoryArgument {
        /// The directories given.
        dirs: Vec<std::path::PathBuf>,
    },
    /// spec-commit cannot tell which mission the files belong to.
    #[error(
        "cannot tell which mission to commit for: pass --mission <slug>, or name a kitty-specs/<slug>/ file first"
    )]
    NoMissionSlug,
    /// A commit was refused before git ran (wrong branch, protected branch, missing file).
    #[error("{message}")]
    WrongSurface {
        /// The branch the commit was for.
        placement_ref: String,
        /// What was wrong and what to do.
        message: String,
    },
    /// The checkout is on another branch than the commit's destination.
    #[error("the checkout {} is on '{head}', but this commit belongs on '{expected}': run `git -C {} switch {expected}` and run the command again", worktree.display(), worktree.display())]
    HeadMismatch {
        /// The checkout.
        worktree: std::path::PathBuf,
        /// Its branch.
        head: String,
        /// The destination branch.
        expected: String,
    },
    /// The destination branch does not exist.
    #[error(
        "the branch '{branch}' does not exist yet: commit once on it (or create it) and run the command again"
    )]
    MissingRef {
        /// The branch.
        branch: String,
    },
    /// A resume probe found something other than nothing or one clean mission.
    #[error("{message}")]
    Resume {
        /// `MISSION_RESUME_EXISTING`, `MISSION_RESUME_MALFORMED` or `MISSION_RESUME_AMBIGUOUS`.
        code: &'static str,
        /// What was found and what to do.
        message: String,
        /// The reference's keys.
        details: Map<String, Value>,
    },
    /// The working tree has changes the command will not mix with its own.
    #[error("the working tree has uncommitted changes ({}): commit or stash them, then record the analysis again", paths.join(", "))]
    DirtyWorktree {
        /// The changed paths.
        paths: Vec<String>,
    },
    /// The analysis report cannot be recorded.
    #[error("{message}")]
    Analysis {
        /// What was wrong and what to do.
        message: String,
    },
    /// A flag combination a command refuses.
    #[error("{message}")]
    BadFlags {
        /// What was wrong and what to do.
        message: String,
    },
    /// A decision command failed.
    #[error("{}", .0.message)]
    Decision(super::decision::DecisionError),
    /// A file or git failed underneath.
    #[error(transparent)]
    Mission(#[from] crate::mission::MissionError),
}

fn detection_message(available: &[String], example: &str) -> String {
    if available.is_empty() {
        "no missions in kitty-specs/: create one with `spec-kitty agent mission create <slug> --json`".into()
    } else {
        format!(
            "cannot tell which mission is meant among {} ({}): pass --mission <slug>, e.g. `{example}`",
            available.len(),
            available.join(", ")
        )
    }
}

impl PlanningError {
    /// The reference's `error_code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ProjectRootUnresolved { .. } => "PROJECT_ROOT_UNRESOLVED",
            Self::NotInGit { .. } => "NOT_A_GIT_REPOSITORY",
            Self::DetachedHead => "DETACHED_HEAD",
            Self::InvalidAction { .. } => "INVALID_ACTION",
            Self::MissingMission => "MISSING_MISSION",
            Self::MissionNotFound { .. } => "mission_not_found",
            Self::MissionAmbiguous { code, .. } | Self::ContextUnresolved { code, .. } => code,
            Self::UnsafeHandle { .. } => "UNSAFE_MISSION_HANDLE",
            Self::SpecFileMissing { .. } => "SPEC_FILE_MISSING",
            Self::MissionTypeMissing { .. } => "TEMPLATE_CONFIGURATION_ERROR",
            Self::UnknownMissionType { .. } => "UNKNOWN_MISSION_TYPE",
            Self::DirectoryArgument { .. } => "DIRECTORY_ARGUMENT",
            Self::NoMissionSlug => "MISSION_SLUG_UNRESOLVED",
            Self::WrongSurface { .. } => "no_op_wrong_surface",
            Self::HeadMismatch { .. } => "HEAD_MISMATCH",
            Self::MissingRef { .. } => "REF_NOT_FOUND",
            Self::Decision(e) => e.code,
            Self::Resume { code, .. } => code,
            Self::BadFlags { .. } => "INVALID_FLAGS",
            Self::DirtyWorktree { .. } => "DIRTY_WORKTREE",
            Self::Analysis { .. } => "ANALYSIS_REPORT_INVALID",
            Self::Mission(e) => e.code(),
        }
    }

    /// The exit status: 2 where the reference exits 2 (a handle it cannot resolve), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::MissionNotFound { .. } => 2,
            Self::MissionAmbiguous { code, .. } if *code == "ambiguous_mission_handle" => 2,
            _ => 1,
        }
    }

    /// The reference's extra keys of the error document.
    pub fn details(&self) -> Map<String, Value> {
        let v = match self {
            Self::MissionNotFound { handle } => json!({"handle": handle}),
            Self::MissionAmbiguous {
                handle, candidates, ..
            } => json!({"handle": handle, "candidates": candidates}),
            Self::ContextUnresolved {
                mission_flag,
                available,
                example,
                ..
            } => {
                if available.is_empty() {
                    json!({"mission_flag": mission_flag, "remediation": "Run /spec-kitty.specify or: spec-kitty agent mission create <name> --json"})
                } else {
                    json!({"mission_flag": mission_flag, "available_missions": available, "example_command": example, "remediation": "Re-run with --mission <slug>"})
                }
            }
            Self::SpecFileMissing {
                slug,
                feature_dir,
                spec,
            } => json!({"mission_slug": slug, "feature_dir": feature_dir, "spec_file": spec}),
            Self::MissionTypeMissing { .. } => {
                json!({"phase_complete": false, "mission_type": "<typeless>", "artifact_kind": "plan"})
            }
            Self::WrongSurface {
                placement_ref,
                message,
            } => {
                json!({"success": false, "committed": false, "placement_ref": placement_ref, "diagnostic": message})
            }
            Self::HeadMismatch { expected, .. } => {
                json!({"success": false, "committed": false, "placement_ref": expected})
            }
            Self::InvalidAction { .. } | Self::MissingMission => json!({"success": false}),
            Self::DirectoryArgument { .. } | Self::NoMissionSlug => {
                json!({"success": false, "committed": false})
            }
            Self::MissingRef { branch } => {
                json!({"success": false, "committed": false, "placement_ref": branch})
            }
            Self::Resume { details, .. } => Value::Object(details.clone()),
            Self::DirtyWorktree { paths } => json!({
                "success": false,
                "dirty_paths": paths,
                "remediation": ["Commit or stash the changes, then run the analysis again."],
            }),
            Self::Analysis { .. } => json!({"success": false}),
            Self::Decision(e) => {
                let mut d = json!({"code": e.code});
                if !e.details.is_null() {
                    d["details"] = e.details.clone();
                }
                d
            }
            Self::Mission(e) => Value::Object(e.details()),
            _ => json!({}),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

//! Committing planning files on their branch (**interop**: the reference's placement rules): the
//! checkout must be on the destination branch, the branch must exist and not be protected, every
//! file must be there; exactly the named files are committed, with the repository's hooks; no
//! change is not an error. One planning writer at a time per repository (the mission lock).

use std::path::Path;
use std::time::Duration;

use super::PlanningError;
use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::project_config::ProjectConfig;
use crate::mission::protection::ProtectionPolicy;

/// How long a planning command waits for another mission writer of the same repository.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// A new commit.
    Commit(String),
    /// The files were already as committed.
    Unchanged,
}

/// Hold the repository's mission lock for the rest of the command.
pub fn lock(repo: &Repo) -> Result<std::fs::File, PlanningError> {
    let git_dir = repo.git_dir()?;
    let path = crate::mission::recover::lock_path(&git_dir);
    Ok(crate::lock::exclusive_within(&path, LOCK_WAIT)
        .map_err(|e| MissionError::io(&path, e))?
        .ok_or(MissionError::Busy)?)
}

/// Whether a commit on `branch` must be refused (the project's protection policy).
pub fn protected(env: &Env, repo: &Repo, branch: &str) -> Result<bool, PlanningError> {
    let config = match ProjectConfig::load(repo.top()) {
        Ok(c) => c,
        Err(MissionError::NotInitialized { .. }) => ProjectConfig::parse(Path::new(""), "")?,
        Err(e) => return Err(e.into()),
    };
    let policy =
        ProtectionPolicy::resolve(&config, || repo.origin_default_branch().ok().flatten(), env)
            .map_err(|detail| MissionError::ConfigInvalid {
                path: crate::mission::project_config::config_path(repo.top()),
                detail,
            })?;
    Ok(policy.is_protected(branch))
}

/// Commit `files` (relative to the repository's top) on `branch` in `repo`, the checkout that
/// must have it checked out.
pub fn commit_on(
    env: &Env,
    repo: &Repo,
    branch: &str,
    files: &[String],
    message: &str,
) -> Result<Committed, PlanningError> {
    if protected(env, repo, branch)? {
        return Err(PlanningError::WrongSurface {
            placement_ref: branch.into(),
            message: format!(
                "'{branch}' is protected, so planning files are not committed on it: start a feature branch (`spec-kitty agent mission create <slug> --start-branch <feature-branch>`, or check one out), or set SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS=1 to commit here anyway"
            ),
        });
    }
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| !repo.top().join(f).exists())
        .collect();
    if !missing.is_empty() {
        return Err(PlanningError::WrongSurface {
            placement_ref: branch.into(),
            message: format!(
                "nothing was committed: {} not in {} (on '{branch}'); write the file first, or name the right one",
                missing
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                repo.top().display()
            ),
        });
    }
    let head = repo.head_branch()?;
    if head.as_deref() != Some(branch) {
        if !repo.ref_exists(&format!("refs/heads/{branch}"))? {
            return Err(PlanningError::MissingRef {
                branch: branch.into(),
            });
        }
        return Err(PlanningError::HeadMismatch {
            worktree: repo.top().to_path_buf(),
            head: head.unwrap_or_else(|| "(detached HEAD)".into()),
            expected: branch.into(),
        });
    }
    if repo.head_commit()?.is_none() {
        return Err(PlanningError::MissingRef {
            branch: branch.into(),
        });
    }
    let paths: Vec<&str> = files.iter().map(String::as_str).collect();
    if !repo.changed(&paths)? {
        return Ok(Committed::Unchanged);
    }
    Ok(Committed::Commit(
        repo.commit_paths_with(&paths, message, None)?,
    ))
}

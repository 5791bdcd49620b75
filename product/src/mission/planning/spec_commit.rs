//! `spec-commit`: commit named planning files of a mission on the mission's target branch
//! (**interop**: the reference's placement — relative paths from the repository root, the
//! mission's `target_branch`, else the repository's primary branch).

use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

use super::commit::{Committed, commit_on, lock};
use super::handle::Index;
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

/// What was asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--message`.
    pub message: String,
    /// The files.
    pub files: Vec<PathBuf>,
}

/// The outcome: the document, or a reason to leave the command to the reference.
#[derive(Debug)]
pub enum Outcome {
    /// The document.
    Document(Value),
    /// Status files of a coordination mission, which live on its coordination branch.
    CoordinationFiles,
}

/// The mission slug a file path names: the component after `kitty-specs`, else the file name.
fn slug_of(path: &Path) -> Option<String> {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str().map(str::to_string),
            _ => None,
        })
        .collect();
    if let Some(i) = parts.iter().position(|p| p == "kitty-specs") {
        return parts.get(i + 1).cloned();
    }
    parts.last().cloned()
}

const COORDINATION_FILES: [&str; 4] = [
    "status.events.jsonl",
    "status.json",
    "acceptance-matrix.json",
    "issue-matrix.md",
];

/// Run spec-commit from `cwd`.
pub fn spec_commit(env: &Env, cwd: &Path, req: &Request) -> Result<Outcome, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = &project.root;
    let slug = req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .or_else(|| req.files.first().and_then(|f| slug_of(f)))
        .ok_or(PlanningError::NoMissionSlug)?;
    let absolute: Vec<PathBuf> = req
        .files
        .iter()
        .map(|f| {
            if f.is_absolute() {
                f.clone()
            } else {
                root.join(f)
            }
        })
        .collect();
    let dirs: Vec<PathBuf> = absolute.iter().filter(|p| p.is_dir()).cloned().collect();
    if !dirs.is_empty() {
        return Err(PlanningError::DirectoryArgument { dirs });
    }
    let index = Index::load(&project.specs());
    let entry = index
        .lenient(&project.specs(), &slug)
        .or_else(|e| match e {
            PlanningError::UnsafeHandle { .. } => Ok(None),
            other => Err(other),
        })?;
    let coordinated = entry
        .and_then(|e| e.meta.get("topology"))
        .and_then(Value::as_str)
        .is_some_and(|t| matches!(t, "coord" | "lanes_with_coord"));
    if coordinated
        && absolute.iter().any(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| COORDINATION_FILES.contains(&n))
        })
    {
        return Ok(Outcome::CoordinationFiles);
    }
    let repo = Repo::discover(env, root)?;
    let target = match entry
        .and_then(|e| e.meta.get("target_branch"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        Some(t) => t.to_string(),
        None => super::branch::primary_branch(&repo, false)?,
    };
    let relative: Vec<String> = absolute
        .iter()
        .map(|p| {
            p.strip_prefix(root)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let _lock = lock(&repo)?;
    let doc = match commit_on(env, &repo, &target, &relative, &req.message)? {
        Committed::Commit(sha) => json!({
            "success": true,
            "committed": true,
            "placement_ref": target,
            "commit_hash": sha,
        }),
        Committed::Unchanged => json!({
            "success": true,
            "committed": false,
            "placement_ref": target,
            "reason": "no_op_no_changes",
        }),
    };
    Ok(Outcome::Document(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slug_is_the_directory_after_kitty_specs_else_the_file_name() {
        assert_eq!(
            slug_of(Path::new("kitty-specs/m-01ABCDEF/spec.md")).as_deref(),
            Some("m-01ABCDEF")
        );
        assert_eq!(
            slug_of(Path::new("/r/kitty-specs/x/tasks/WP01.md")).as_deref(),
            Some("x")
        );
        assert_eq!(
            slug_of(Path::new("README.md")).as_deref(),
            Some("README.md")
        );
        assert_eq!(slug_of(Path::new("kitty-specs")), None);
    }
}

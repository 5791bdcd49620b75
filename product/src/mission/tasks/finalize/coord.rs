//! The coordination surface of a `coord` / `lanes_with_coord` mission (**interop**: the
//! reference's layout): its transitions and acceptance matrix live in the work tree
//! `.worktrees/<slug>-coord`, which has the coordination branch `kitty/mission-<slug>` (made by
//! create) checked out, and are committed there; the work tree is added the first time a status
//! write needs it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::mission::git::Repo;
use crate::mission::status::log;
use crate::mission::tasks::TasksError;

/// Where a coordinated mission's status is written and committed.
#[derive(Debug, Clone)]
pub struct Coord {
    /// `.worktrees/<slug>-coord`.
    pub worktree: PathBuf,
    /// `kitty/mission-<slug>`.
    pub branch: String,
    /// The mission directory inside the work tree.
    pub fd: PathBuf,
    /// Whether the work tree is already there.
    pub exists: bool,
}

/// The coordination surface of mission `slug`, or why kitty leaves this mission to the
/// reference (a shape it does not handle natively).
pub fn locate(
    repo: &Repo,
    root: &Path,
    slug: &str,
    meta: &Value,
) -> Result<Result<Coord, String>, TasksError> {
    let mid8 = meta
        .get("mission_id")
        .and_then(Value::as_str)
        .filter(|id| id.len() >= 8)
        .map(|id| &id[..8]);
    let Some(mid8) = mid8 else {
        return Ok(Err(
            "a coordinated mission without a mission_id in meta.json".into(),
        ));
    };
    if !slug.ends_with(&format!("-{mid8}")) {
        return Ok(Err(format!(
            "a coordinated mission whose directory name '{slug}' does not end in its id '{mid8}'"
        )));
    }
    let branch = format!("kitty/mission-{slug}");
    if let Some(named) = meta.get("coordination_branch").and_then(Value::as_str)
        && named != branch
    {
        return Ok(Err(format!(
            "a coordination branch named '{named}' (kitty expects '{branch}')"
        )));
    }
    if !repo.ref_exists(&format!("refs/heads/{branch}"))? {
        return Ok(Err(format!(
            "a coordinated mission whose coordination branch '{branch}' does not exist"
        )));
    }
    let worktree = root.join(".worktrees").join(format!("{slug}-coord"));
    let fd = worktree.join("kitty-specs").join(slug);
    let want = format!("refs/heads/{branch}");
    let registered = repo.worktrees()?;
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let at = canon(root).join(".worktrees").join(format!("{slug}-coord"));
    let same = |p: &Path| canon(p) == at;
    let exists = worktree.exists();
    if exists {
        let on = registered
            .iter()
            .find(|(p, _, _)| same(p))
            .and_then(|(_, b, _)| b.clone());
        if on.as_deref() != Some(want.as_str()) {
            return Ok(Err(format!(
                "a coordination work tree {} that is not a work tree of '{branch}'",
                worktree.display()
            )));
        }
    } else {
        if registered
            .iter()
            .any(|(p, b, _)| same(p) || b.as_deref() == Some(want.as_str()))
        {
            return Ok(Err(format!(
                "a coordination branch '{branch}' registered in another or a missing work tree"
            )));
        }
        // The branch already holds a status log: the reference reads it from the work tree it
        // adds; kitty's plan read the primary directory.
        let rel = format!("kitty-specs/{slug}/{}", log::FILE);
        if repo.show_file(&branch, &rel)?.is_some() {
            return Ok(Err(format!(
                "a coordination branch '{branch}' with a status log but no work tree"
            )));
        }
    }
    Ok(Ok(Coord {
        worktree,
        branch,
        fd,
        exists,
    }))
}

//! Recording lane transitions where the mission's status lives (**interop**: the reference's
//! status transaction — each hop's line, and its binding annotation, appended, `status.json`
//! rematerialized, both files committed on the status branch as
//! `chore(spec-kitty): status transition WPxx`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{ExecError, Target};
use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::commit::{Committed, commit_on};
use crate::mission::status::event::{Annotation, Transition};
use crate::mission::status::{append, log, materialize};

/// The status log's directory and the branch its changes are committed on.
#[derive(Debug)]
pub struct Surface {
    /// The directory of `status.events.jsonl` and `status.json`.
    pub dir: PathBuf,
    /// The work tree holding it.
    pub repo: Repo,
    /// The branch checked out there.
    pub branch: String,
}

impl Surface {
    /// The surface of `t`: the coordination worktree for a coordinated mission, else the primary
    /// checkout on its current branch.
    pub fn of(env: &Env, t: &Target) -> Result<Self, ExecError> {
        let repo = if t.status_dir == t.entry.dir {
            t.repo.clone()
        } else {
            let top = worktree_top(&t.status_dir, &t.entry.slug);
            Repo::discover(env, &top)?
        };
        let branch = repo
            .head_branch()?
            .filter(|b| !b.is_empty())
            .ok_or(crate::mission::planning::PlanningError::DetachedHead)?;
        Ok(Self {
            dir: t.status_dir.clone(),
            repo,
            branch,
        })
    }

    /// The log's path.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(log::FILE)
    }

    /// Append `lines`, rematerialize `status.json` (annotations folded) and, when `message` is
    /// given, commit both files on the surface's branch.
    pub fn record(&self, env: &Env, lines: &str, message: Option<&str>) -> Result<(), ExecError> {
        append::append_lines(&self.dir, lines)?;
        materialize::materialize_annotated(&self.dir)?;
        let Some(message) = message else {
            return Ok(());
        };
        let top = self.repo.top().to_path_buf();
        let files = [
            rel(&top, &self.dir.join(log::FILE)),
            rel(&top, &self.dir.join(materialize::FILE)),
        ];
        match commit_on(env, &self.repo, &self.branch, &files, message) {
            Ok(Committed::Commit(_) | Committed::Unchanged) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// `<root>/.worktrees/<slug>-coord` from its mission directory
/// `<root>/.worktrees/<slug>-coord/kitty-specs/<slug>`.
fn worktree_top(dir: &Path, _slug: &str) -> PathBuf {
    dir.parent()
        .and_then(Path::parent)
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
}

/// `p` from `top`, with forward slashes (git's path form).
pub(super) fn rel(top: &Path, p: &Path) -> String {
    p.strip_prefix(top)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A transition's line, and the annotation that rides with it, as one write.
pub fn lines(t: &Transition, annotation: Option<&Annotation>) -> String {
    let mut s = append::line(t);
    if let Some(a) = annotation {
        s.push_str(&append::annotation_line(a));
    }
    s
}

/// The `WPStatusChanged` payload of `t` (**interop**: spec-kitty-events' status transition
/// payload, unset optional fields left out).
pub fn status_changed_payload(t: &Transition) -> Value {
    let mut p = serde_json::json!({
        "actor": t.actor,
        "execution_mode": t.execution_mode,
        "force": t.force,
        "from_lane": t.from_lane.as_str(),
        "mission_slug": t.mission_slug,
        "to_lane": t.to_lane.as_str(),
        "wp_id": t.wp_id,
    });
    if let Some(r) = &t.reason {
        p["reason"] = r.clone().into();
    }
    if let Some(r) = &t.review_ref {
        p["review_ref"] = r.clone().into();
    }
    if let Some(e) = &t.evidence {
        p["evidence"] = e.clone();
    }
    p
}

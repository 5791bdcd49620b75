//! finalize-tasks' undo journal: before its first write, finalize records in the repository's
//! git directory what it may change (every file's bytes, every branch's commit, the coordination
//! work tree it may add). A failure replays the journal at once; a run killed part-way leaves the
//! journal behind, and the next finalize-tasks of the repository replays it (under the mission
//! lock, so never while the killed run could still be writing) before it starts. Either way
//! the repository, its work trees and its branches end as they were before the run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::write_atomic;
use crate::mission::tasks::TasksError;

const FILE: &str = "spec-kitty-finalize.journal";

/// A branch to put back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BranchMark {
    /// The branch.
    pub branch: String,
    /// Its commit before the run.
    pub sha: String,
}

/// What a run may change, as it was before.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    /// The primary checkout.
    pub top: PathBuf,
    /// Files and their bytes (hex; `None`: absent).
    pub files: Vec<(PathBuf, Option<String>)>,
    /// Branches.
    pub branches: Vec<BranchMark>,
    /// A work tree the run adds (removed on undo).
    pub added_worktree: Option<PathBuf>,
    /// A directory the run creates for it (removed on undo when empty).
    pub added_dir: Option<PathBuf>,
    /// The outbox the run queues its events in.
    #[serde(default)]
    pub outbox: Option<PathBuf>,
    /// The events it queues there (taken back out on undo).
    #[serde(default)]
    pub queued: Vec<String>,
}

fn path(repo: &Repo) -> Result<PathBuf, TasksError> {
    Ok(repo.git_dir()?.join(FILE))
}

impl Journal {
    /// A journal of `files` (their bytes now) in the primary checkout `top`.
    pub fn capture(top: &Path, files: &[PathBuf]) -> Self {
        Self {
            top: top.to_path_buf(),
            files: files
                .iter()
                .map(|p| (p.clone(), std::fs::read(p).ok().map(hex::encode)))
                .collect(),
            branches: Vec::new(),
            added_worktree: None,
            added_dir: None,
            outbox: None,
            queued: Vec::new(),
        }
    }

    /// Write it where the next run finds it; from now on the run may write.
    pub fn save(&self, repo: &Repo) -> Result<(), TasksError> {
        let p = path(repo)?;
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        write_atomic(&p, &bytes)?;
        Ok(())
    }

    /// The run is done (committed or undone): forget the journal.
    pub fn discard(repo: &Repo) {
        if let Ok(p) = path(repo) {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Put everything back (best effort, each step on its own), then forget the journal.
    pub fn restore(&self, env: &Env, repo: &Repo) {
        let primary = Repo::at(env, &self.top);
        if let Some(path) = &self.outbox
            && !self.queued.is_empty()
        {
            let taken = crate::sync::outbox::Outbox::open_existing(path)
                .and_then(|o| o.map_or(Ok(()), |mut o| o.remove(&self.queued)));
            if let Err(e) = taken {
                tracing::warn!("taking finalize's events back out of the outbox failed: {e}");
            }
        }
        // The branches first (the index files, restored below with the other files, then
        // match them again).
        for b in &self.branches {
            if let Err(e) = primary.rewind(&b.branch, &b.sha, &[]) {
                tracing::warn!(branch = %b.branch, "undoing finalize's commits failed: {e}");
            }
        }
        if let Some(wt) = &self.added_worktree {
            primary.worktree_remove(wt);
        }
        for (p, bytes) in &self.files {
            let done = match bytes.as_deref().map(hex::decode) {
                Some(Ok(b)) => write_atomic(p, &b).map_err(|e| e.to_string()),
                Some(Err(e)) => Err(e.to_string()),
                None => match std::fs::remove_file(p) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                    _ => Ok(()),
                },
            };
            if let Err(e) = done {
                tracing::warn!(path = %p.display(), "restoring a file failed: {e}");
            }
        }
        if let Some(d) = &self.added_dir {
            let _ = std::fs::remove_dir(d);
        }
        Self::discard(repo);
    }
}

/// Replay the journal a killed run left (the caller holds the mission lock).
pub fn recover(env: &Env, repo: &Repo) -> Result<bool, TasksError> {
    let p = path(repo)?;
    let Ok(bytes) = std::fs::read(&p) else {
        return Ok(false);
    };
    match serde_json::from_slice::<Journal>(&bytes) {
        Ok(j) => j.restore(env, repo),
        // Torn before the run wrote anything (the journal is written atomically, so only a
        // foreign file gets here): nothing to replay.
        Err(e) => {
            tracing::warn!(path = %p.display(), "ignoring an unreadable finalize journal: {e}");
            Journal::discard(repo);
        }
    }
    Ok(true)
}

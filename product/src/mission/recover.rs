//! Crash recovery of mission creates.
//!
//! A create stages its event in the outbox before it writes anything and promotes it once its
//! commit exists. A staged event whose create died is resolved here, under the repository's
//! mission lock (so never while that create still runs): if the mission's `meta.json` is in a
//! commit, the event is promoted and will be sent; otherwise everything the create left is
//! removed (the scaffold directory, its index entries, its coordination branch) with the event,
//! so after a kill at any point either all of the mission exists or nothing of it does, and no
//! event is ever sent for a commit that does not exist.

use std::path::Path;
use std::time::Duration;

use super::git::repo::Repo;
use crate::env::Env;
use crate::sync::outbox::{Outbox, OutboxError, Staging};

/// What recovery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Staged events whose commit exists, now queued.
    pub promoted: u64,
    /// Staged events of creates that died before committing, removed with their debris.
    pub discarded: u64,
    /// Staged events left alone (their create still holds the lock, or git failed).
    pub pending: u64,
}

/// The lock a create holds while it works, in the repository's git directory.
pub fn lock_path(git_dir: &Path) -> std::path::PathBuf {
    git_dir.join("spec-kitty-mission.lock")
}

/// Resolve staged events. With `held` (the git directory whose mission lock the caller already
/// holds, i.e. a create), only that repository's events are resolved; without it, every staged
/// event whose repository's lock is free.
pub fn recover(
    env: &Env,
    outbox: &mut Outbox,
    held: Option<&Path>,
) -> Result<Recovered, OutboxError> {
    let mut done = Recovered::default();
    for (event_id, staging) in outbox.staged()? {
        let _lock = match held {
            Some(g) if g == staging.git_dir => None,
            Some(_) => continue,
            // The repository is gone: there is nothing to lock, and taking the lock would
            // re-create its directories.
            None if !staging.git_dir.exists() => None,
            None => {
                match crate::lock::exclusive_within(&lock_path(&staging.git_dir), Duration::ZERO) {
                    Ok(Some(lock)) => Some(lock),
                    // A create is running there, or its lock cannot be taken: later.
                    Ok(None) | Err(_) => {
                        done.pending += 1;
                        continue;
                    }
                }
            }
        };
        match resolve(env, &staging) {
            Some(true) => {
                outbox.promote(&event_id)?;
                done.promoted += 1;
            }
            Some(false) => {
                outbox.remove(std::slice::from_ref(&event_id))?;
                done.discarded += 1;
            }
            None => done.pending += 1,
        }
    }
    Ok(done)
}

/// `Some(true)`: the mission is committed. `Some(false)`: it is not, and its debris is gone.
/// `None`: cannot tell now (git failed); try again later.
fn resolve(env: &Env, staging: &Staging) -> Option<bool> {
    if !staging.top.is_dir() {
        // The repository is gone: nothing was committed that could be synced.
        return Some(false);
    }
    let repo = Repo::at(env, &staging.top);
    let rel = format!("kitty-specs/{}", staging.dir);
    if repo.path_in_any_commit(&format!("{rel}/meta.json")).ok()? {
        return Some(true);
    }
    tracing::warn!(mission = %staging.dir, "removing what an interrupted mission create left behind");
    repo.unstage(&rel).ok()?;
    let dir = staging.top.join(&rel);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).ok()?;
    }
    repo.delete_branch(&format!("kitty/mission-{}", staging.dir));
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::envelope::{MissionCreated, Producer};

    #[test]
    fn a_create_resolves_only_its_own_repository() {
        let dir = tempfile::tempdir().unwrap();
        let mut outbox = Outbox::open(&dir.path().join("outbox.sqlite")).unwrap();
        // Staged by a create in repository B, which is gone.
        let b = dir.path().join("b");
        staged_in(&mut outbox, &b);
        // A create in repository A leaves it alone...
        let env = Env::default();
        let a_git = dir.path().join("a").join(".git");
        let r = recover(&env, &mut outbox, Some(&a_git)).unwrap();
        assert_eq!(r, Recovered::default());
        assert_eq!(outbox.staged().unwrap().len(), 1);
        // ...and one in B resolves it (nothing committed there: discarded).
        let r = recover(&env, &mut outbox, Some(&b.join(".git"))).unwrap();
        assert_eq!((r.promoted, r.discarded, r.pending), (0, 1, 0));
        assert!(outbox.staged().unwrap().is_empty());
        assert_eq!(outbox.depth().unwrap(), 0);
        // A repository git cannot answer in (here: a directory that is no repository): the
        // event waits for a later try.
        let c = dir.path().join("c");
        std::fs::create_dir_all(&c).unwrap();
        staged_in(&mut outbox, &c);
        let r = recover(&env, &mut outbox, Some(&c.join(".git"))).unwrap();
        assert_eq!((r.promoted, r.discarded, r.pending), (0, 0, 1));
        assert_eq!(outbox.staged().unwrap().len(), 1);
    }

    fn staged_in(outbox: &mut Outbox, top: &Path) {
        let staging = Staging {
            git_dir: top.join(".git"),
            top: top.to_path_buf(),
            dir: "x-01M8KJT9".into(),
        };
        let id = crate::ids::ulid(chrono::Utc::now());
        let draft =
            MissionCreated::sample(&id, "x").draft(chrono::Utc::now(), &Producer::example());
        outbox.append_staged(draft, &staging).unwrap();
    }

    #[test]
    fn a_sync_leaves_what_it_cannot_lock_and_resolves_a_vanished_repository() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::default();
        let mut outbox = Outbox::open(&dir.path().join("outbox.sqlite")).unwrap();
        // A create is running in `busy` (its lock is held). It is a real repository in which
        // nothing is committed, so resolving its event now would discard it.
        let busy = dir.path().join("busy");
        let init = std::process::Command::new("git")
            .args(["init", "-q"])
            .arg(&busy)
            .output()
            .unwrap();
        assert!(init.status.success(), "git init: {init:?}");
        let held = crate::lock::exclusive_within(&lock_path(&busy.join(".git")), Duration::ZERO)
            .unwrap()
            .unwrap();
        staged_in(&mut outbox, &busy);
        // The lock of `odd` cannot be taken at all (its path is a directory).
        let odd = dir.path().join("odd");
        std::fs::create_dir_all(lock_path(&odd.join(".git"))).unwrap();
        staged_in(&mut outbox, &odd);
        let r = recover(&env, &mut outbox, None).unwrap();
        assert_eq!((r.promoted, r.discarded, r.pending), (0, 0, 2));
        assert_eq!(outbox.staged().unwrap().len(), 2);
        drop(held);
        // A repository that is gone (no git directory to lock): nothing was committed there.
        // `busy`, free now, is resolved too (nothing committed: discarded).
        let gone = dir.path().join("gone");
        staged_in(&mut outbox, &gone);
        let r = recover(&env, &mut outbox, None).unwrap();
        assert_eq!(
            (r.discarded, r.pending),
            (2, 1),
            "the vanished one and the unlocked one go; the unlockable one stays"
        );
        assert_eq!(outbox.staged().unwrap().len(), 1);
        assert!(!gone.exists(), "recovery re-created a vanished repository");
    }
}

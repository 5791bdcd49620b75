//! Staged missions kept on disk and copied: a repository a home's `spec-kitty` brought to a stage
//! is built once per binary, stage and environment, and each later home gets a byte copy of it.
//!
//! A staging writes only its repository (the commands queue nothing without sync, and a home that
//! names a server is left out). The key also covers the files the home holds (a seeded session,
//! env files, consent), and a template is kept only when the staging wrote nothing else in the
//! home. The copy's linked
//! worktrees are pointed at their new place; nothing else in a staged repository names a path.
//! `KITTY_TESTKIT_NO_STAGE_CACHE=1` turns the cache off.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::{IsolatedHome, Repo, StagedMission};

/// The template of one binary, stage and environment, locked while held.
pub(crate) struct Slot {
    dir: PathBuf,
    _lock: std::fs::File,
}

/// The files of `home` outside its work directory, with their sizes (what a staging must not
/// change for its repository to be a template).
pub(crate) fn outside_work(home: &IsolatedHome) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    walk(home.path(), home.work_dir(), &mut out);
    out
}

fn walk(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, u64>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path == skip {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&path, skip, out),
            _ => {
                let len = e.metadata().map(|m| m.len()).unwrap_or_default();
                out.insert(path, len);
            }
        }
    }
}

impl Slot {
    /// The slot for `stage` staged by `home`'s binary in its environment (the home's own path
    /// read as a placeholder), locked; `None` when the cache is off or the binary unreadable.
    pub(crate) fn open(home: &IsolatedHome, stage: &str) -> Option<Self> {
        if !home.stage_cache
            || crate::process_env::non_empty_var("KITTY_TESTKIT_NO_STAGE_CACHE").is_some()
        {
            return None;
        }
        // A home that names a server (it syncs, or refuses on a port of its own) has an
        // environment no other home shares: no template would ever be reused.
        if home.var("SPEC_KITTY_SAAS_URL").is_some() {
            return None;
        }
        let binary = home.host().path().to_path_buf();
        let meta = std::fs::metadata(&binary).ok()?;
        let mut h = std::hash::DefaultHasher::new();
        binary.hash(&mut h);
        meta.len().hash(&mut h);
        meta.modified().ok()?.hash(&mut h);
        stage.hash(&mut h);
        include_str!("stages.rs").hash(&mut h);
        include_str!("repo.rs").hash(&mut h);
        let base = home.path().to_string_lossy().into_owned();
        for (k, v) in home.env_map() {
            k.hash(&mut h);
            v.replace(&base, "<H>").hash(&mut h);
        }
        // And what the home holds (a seeded session, env files, consent): the commands may read it.
        for path in outside_work(home).keys() {
            path.strip_prefix(home.path()).unwrap_or(path).hash(&mut h);
            std::fs::read(path).ok()?.hash(&mut h);
        }
        let root = std::env::temp_dir().join("kitty-testkit-stages");
        std::fs::create_dir_all(&root).ok()?;
        let dir = root.join(format!("{:016x}", h.finish()));
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.with_extension("lock"))
            .ok()?;
        lock.lock().ok()?;
        Some(Self { dir, _lock: lock })
    }

    /// A copy of the template as `home`'s repository `name`, if there is a template.
    pub(crate) fn copy_into(&self, home: &IsolatedHome, name: &str) -> Option<StagedMission> {
        let text = std::fs::read_to_string(self.dir.join("mission.json")).ok()?;
        let [from, slug, mission_id]: [String; 3] = serde_json::from_str(&text).ok()?;
        let to = home.work_dir().join(name);
        copy_tree(&self.dir.join("repo"), &to).ok()?;
        relink(&to, &from).ok()?;
        Some(StagedMission {
            repo: Repo::existing(to, home.env_map().clone()),
            slug,
            mission_id,
        })
    }

    /// Keep `m` as the template (atomically: a half-made copy is never read), and drop the
    /// templates and locks of other builds not touched for a day.
    pub(crate) fn store(&self, m: &StagedMission) {
        prune(self.dir.parent().unwrap_or(&self.dir));
        let partial = self
            .dir
            .with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        let _ = self.keep(m, &partial);
        // Left only when the keeping failed part-way.
        let _ = std::fs::remove_dir_all(&partial);
    }

    /// `m` copied to `partial`, then renamed into the slot.
    fn keep(&self, m: &StagedMission, partial: &Path) -> std::io::Result<()> {
        copy_tree(m.repo.path(), &partial.join("repo"))?;
        let from = m.repo.path().to_string_lossy().into_owned();
        let text = serde_json::to_string(&[from, m.slug.clone(), m.mission_id.clone()])
            .map_err(std::io::Error::other)?;
        std::fs::write(partial.join("mission.json"), text)?;
        std::fs::rename(partial, &self.dir)
    }
}

/// `from` copied to `to` (files with their permissions, symbolic links as links).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type()?;
        if t.is_dir() {
            copy_tree(&src, &dst)?;
        } else if t.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
            #[cfg(not(unix))]
            std::fs::copy(&src, &dst).map(drop)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Point the linked worktrees of the repository copied to `to` (from `from`) at their new place:
/// each worktree's `.git` file and its administrative `gitdir` file.
fn relink(to: &Path, from: &str) -> std::io::Result<()> {
    let new = to.to_string_lossy();
    let mut links = Vec::new();
    for (dir, file) in [
        (to.join(".worktrees"), ".git"),
        (to.join(".git/worktrees"), "gitdir"),
    ] {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            links.push(e.path().join(file));
        }
    }
    for link in links.into_iter().filter(|l| l.is_file()) {
        let text = std::fs::read_to_string(&link)?;
        std::fs::write(&link, text.replace(from, &new))?;
    }
    Ok(())
}

/// Seconds in a day.
const DAY: u64 = 86_400;

/// Remove what under `root` was last modified a day ago or more (best effort).
fn prune(root: &Path) {
    for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() / DAY >= 1);
        if old {
            let path = e.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_home_that_names_a_server_or_asks_for_fresh_stagings_gets_no_slot() {
        let named = IsolatedHome::builder().server("http://127.0.0.1:9").build();
        assert!(Slot::open(&named, "Created").is_none());
        let fresh = IsolatedHome::builder().fresh_stagings().build();
        assert!(Slot::open(&fresh, "Created").is_none());
    }

    #[test]
    fn what_a_staging_must_leave_alone_is_every_file_of_the_home_outside_its_work_directory() {
        let home = IsolatedHome::new();
        let before = outside_work(&home);
        std::fs::write(home.work_dir().join("in-work"), "x").unwrap();
        assert_eq!(
            outside_work(&home),
            before,
            "the work directory is the staging's"
        );
        let queued = home.path().join("kitty-home/queue.db");
        std::fs::create_dir_all(queued.parent().unwrap()).unwrap();
        std::fs::write(&queued, "xyz").unwrap();
        let after = outside_work(&home);
        assert_eq!(after.get(&queued), Some(&3));
        assert_eq!(after.len(), before.len() + 1);
    }

    #[test]
    fn what_was_not_touched_for_a_day_is_pruned_and_the_rest_kept() {
        let t = tempfile::tempdir().unwrap();
        let age = |p: &Path, hours: u64| {
            let then = std::time::SystemTime::now() - std::time::Duration::from_secs(hours * 3600);
            std::fs::File::open(p).unwrap().set_modified(then).unwrap();
        };
        let aged = |name: &str, hours: u64| {
            let p = t.path().join(name);
            std::fs::create_dir_all(p.join("repo")).unwrap();
            age(&p, hours);
            p
        };
        let kept = [aged("a", 0), aged("b", 23)];
        let gone = [aged("c", 25), aged("d", 72)];
        let lock = t.path().join("d.lock");
        std::fs::write(&lock, "").unwrap();
        age(&lock, 72);
        prune(t.path());
        assert!(kept.iter().all(|p| p.exists()));
        assert!(gone.iter().all(|p| !p.exists()) && !lock.exists());
    }

    #[test]
    fn a_copy_points_its_linked_worktrees_at_its_own_place() {
        let t = tempfile::tempdir().unwrap();
        let from = t.path().join("from");
        std::fs::create_dir_all(from.join(".worktrees/w")).unwrap();
        std::fs::create_dir_all(from.join(".git/worktrees/w")).unwrap();
        let f = from.to_string_lossy().into_owned();
        std::fs::write(
            from.join(".worktrees/w/.git"),
            format!("gitdir: {f}/.git/worktrees/w\n"),
        )
        .unwrap();
        std::fs::write(
            from.join(".git/worktrees/w/gitdir"),
            format!("{f}/.worktrees/w/.git\n"),
        )
        .unwrap();
        std::fs::write(from.join("other"), &f).unwrap();
        let to = t.path().join("to");
        copy_tree(&from, &to).unwrap();
        relink(&to, &f).unwrap();
        let n = to.to_string_lossy();
        let read = |p: &str| std::fs::read_to_string(to.join(p)).unwrap();
        assert_eq!(
            read(".worktrees/w/.git"),
            format!("gitdir: {n}/.git/worktrees/w\n")
        );
        assert_eq!(
            read(".git/worktrees/w/gitdir"),
            format!("{n}/.worktrees/w/.git\n")
        );
        assert_eq!(read("other"), f, "only the links");
    }
}

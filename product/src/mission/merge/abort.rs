//! `merge --abort` (**interop**: the reference's abort — every merge state recorded for the
//! mission cleared, its merge workspaces removed, the retrospective captured and committed
//! unless the mission retains its worktrees, then the global merge lock, the legacy state
//! file and an unfinished git merge cleared — each step said in the reference's words).
//!
//! What it does not undo, as in the reference: lanes already merged, the number baked into
//! the mission branch, branches and worktrees.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::policy::retention;
use super::resolve::{canonical, safe_segment, slug_of_branch};
use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::handle::Index;
use crate::mission::planning::project;
use crate::mission::retrospective::terminus;

/// How the abort ended.
#[derive(Debug)]
pub enum Outcome {
    /// Done: what it did, one line each, in order.
    Aborted {
        /// The mission.
        slug: String,
        /// Whether a recorded merge state was cleared.
        cleared: bool,
        /// The lines the reference prints on stdout.
        lines: Vec<String>,
    },
    /// The handle is not a safe path segment (exit 2).
    Unsafe(String),
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// A merge state file as the reference loads it: its runtime key and the names it records.
#[derive(Debug, Clone)]
struct State {
    key: String,
    mission_id: String,
    mission_slug: String,
}

fn runtime(root: &Path) -> PathBuf {
    root.join(".kittify/runtime/merge")
}

/// The state under `key`: `Ok(None)` when absent or not a state (as the reference skips it),
/// `Err` when it is JSON the reference would crash on.
fn load(root: &Path, key: &str) -> Result<Option<State>, String> {
    let Ok(text) = std::fs::read_to_string(runtime(root).join(key).join("state.json")) else {
        return Ok(None);
    };
    let Ok(value) = serde_json::from_str::<Value>(&text) else {
        return Ok(None);
    };
    let Value::Object(o) = value else {
        return Err(format!("the merge state of {key} is not an object"));
    };
    if !["mission_id", "mission_slug", "target_branch", "wp_order"]
        .iter()
        .all(|k| o.contains_key(*k))
    {
        return Ok(None);
    }
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    match (text("mission_id"), text("mission_slug")) {
        (Some(id), Some(slug)) if safe_segment(&id).is_ok() && safe_segment(&slug).is_ok() => {
            Ok(Some(State {
                key: key.into(),
                mission_id: id,
                mission_slug: slug,
            }))
        }
        _ => Err(format!("the merge state of {key} names its mission oddly")),
    }
}

/// Every state whose recorded slug is `slug`, in key order.
fn states_of(root: &Path, slug: &str) -> Result<Vec<State>, String> {
    let mut keys: Vec<String> = std::fs::read_dir(runtime(root))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    keys.sort();
    let mut out = Vec::new();
    for key in keys {
        if let Some(s) = load(root, &key)?
            && s.mission_slug == slug
        {
            out.push(s);
        }
    }
    Ok(out)
}

fn clear(root: &Path, key: &str) -> bool {
    std::fs::remove_file(runtime(root).join(key).join("state.json")).is_ok()
}

/// The reference's workspace clean-up of one key: the merge worktree removed, then everything
/// but `state.json` and `lock`, then the directory if empty.
fn clean_workspace(repo: &Repo, root: &Path, key: &str) {
    let dir = runtime(root).join(key);
    let ws = dir.join("workspace");
    if ws.exists() {
        let path = ws.display().to_string();
        let removed = repo
            .output(&["worktree", "remove", &path])
            .is_ok_and(|o| o.status.success());
        if !removed {
            let _ = repo.output(&["worktree", "remove", "--force", &path]);
        }
    }
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        if name == "state.json" || name == "lock" {
            continue;
        }
        let p = e.path();
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
    }
    let _ = std::fs::remove_dir(&dir);
}

/// Run `merge --abort [--mission M]` from `cwd`.
pub fn abort(
    env: &Env,
    cwd: &Path,
    mission: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
    warn: &mut dyn FnMut(&str),
) -> Result<Outcome, MissionError> {
    let Some(project) = project::locate(cwd) else {
        return Ok(Outcome::NeedsReference("no project here".into()));
    };
    let root = project.root.clone();
    let Ok(repo) = Repo::discover(env, &root) else {
        return Ok(Outcome::NeedsReference(
            "git does not recognise the project".into(),
        ));
    };
    let specs = project.specs();
    let slug = match mission.map(str::trim).filter(|m| !m.is_empty()) {
        Some(handle) => {
            if let Err(why) = safe_segment(handle) {
                return Ok(Outcome::Unsafe(format!(
                    "Mission slug is not a single safe path segment: {why}"
                )));
            }
            let name = canonical(&specs, &Index::load(&specs), handle);
            if specs.join(&name).exists() {
                name
            } else {
                handle.to_string()
            }
        }
        None => match repo.head_branch()?.as_deref().and_then(slug_of_branch) {
            Some(s) => s,
            None => {
                return Ok(Outcome::NeedsReference(
                    "no mission named or on the branch".into(),
                ));
            }
        },
    };
    let dir = specs.join(&slug);
    let meta: Option<Value> = match std::fs::read_to_string(dir.join("meta.json")) {
        Ok(t) => match serde_json::from_str::<Value>(&t) {
            Ok(v) => Some(v),
            Err(_) => return Ok(Outcome::NeedsReference("meta.json does not parse".into())),
        },
        Err(_) => None,
    };
    if meta
        .as_ref()
        .is_some_and(|m| m.get("mid8").is_some_and(|v| !v.is_null()))
    {
        return Ok(Outcome::NeedsReference(
            "the mission records a mid8 (its coordination worktree is torn down)".into(),
        ));
    }
    let mut keys: Vec<String> = meta
        .as_ref()
        .and_then(|m| m.get("mission_id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .into_iter()
        .collect();
    if !keys.contains(&slug) {
        keys.push(slug.clone());
    }
    // Everything read before anything is written.
    let mut found = None;
    for key in &keys {
        match load(&root, key) {
            Ok(Some(s)) => {
                found = Some(s);
                break;
            }
            Ok(None) => {}
            Err(why) => return Ok(Outcome::NeedsReference(why)),
        }
    }
    let matches = match states_of(&root, &slug) {
        Ok(m) => m,
        Err(why) => return Ok(Outcome::NeedsReference(why)),
    };
    let found = found.or_else(|| matches.first().cloned());
    let empty = Value::Object(serde_json::Map::new());
    let worktrees = dir
        .is_dir()
        .then(|| meta.as_ref().unwrap_or(&empty))
        .map(|m| {
            let get = |k: &str| m.get(k);
            let (_, _, branch_warning) =
                retention(None, get("retain_branches"), "branches", "retain_branches");
            let (remove, _, worktree_warning) = retention(
                None,
                get("retain_worktrees"),
                "worktrees",
                "retain_worktrees",
            );
            (remove, [branch_warning, worktree_warning])
        });
    let capture = match &worktrees {
        Some((true, _)) => match terminus::prepare(env, &repo, &root, &slug) {
            Ok(t) => Some(t),
            Err(why) => return Ok(Outcome::NeedsReference(why)),
        },
        _ => None,
    };

    let mut cleared = false;
    for key in &keys {
        cleared |= clear(&root, key);
    }
    for s in &matches {
        cleared |= clear(&root, &s.key);
    }
    let mut workspaces: Vec<String> = Vec::new();
    if let Some(s) = &found {
        cleared |= clear(&root, &s.key);
        cleared |= clear(&root, &s.mission_id);
        workspaces.extend([s.mission_id.clone(), s.key.clone(), s.mission_slug.clone()]);
    }
    workspaces.extend(keys.iter().cloned());
    workspaces.push(slug.clone());
    let mut seen = std::collections::HashSet::new();
    for key in workspaces.iter().filter(|k| seen.insert(k.as_str())) {
        clean_workspace(&repo, &root, key);
    }
    let mut lines = Vec::new();
    if let Some((remove, warnings)) = worktrees {
        lines.extend(
            warnings
                .into_iter()
                .flatten()
                .map(|w| format!("Warning: {w}")),
        );
        if !remove {
            lines.push("Notice: retention honored for worktrees (source: meta.json) \u{2014} coordination worktree kept during abort.".into());
        }
    }
    if let Some(t) = capture {
        t.apply(&repo, &root, now, warn)?;
    }
    lines.push(if cleared {
        format!("Aborted merge for {slug}. State and workspace cleaned up.")
    } else {
        format!("No active merge state found for {slug}. Workspace cleaned up.")
    });
    if std::fs::remove_file(runtime(&root).join("__global_merge__/lock")).is_ok() {
        lines.push("Removed merge lock.".into());
    }
    if std::fs::remove_file(root.join(".kittify/merge-state.json")).is_ok() {
        lines.push("Removed legacy merge-state.".into());
    }
    if repo.rev_parse("MERGE_HEAD")?.is_some() {
        let _ = repo.output(&["merge", "--abort"]);
        lines.push("Aborted in-progress git merge.".into());
    }
    Ok(Outcome::Aborted {
        slug,
        cleared,
        lines,
    })
}

/// `merge --resume`'s first check: `true` when no merge of the mission is recorded (the
/// reference's "No interrupted merge to resume."); `None` when the reference must look (no
/// mission named or on the branch, or a state it reads differently).
pub fn nothing_to_resume(env: &Env, cwd: &Path, mission: Option<&str>) -> Option<bool> {
    let project = project::locate(cwd)?;
    let root = project.root.clone();
    let repo = Repo::discover(env, &root).ok()?;
    let specs = project.specs();
    let slug = match mission.map(str::trim).filter(|m| !m.is_empty()) {
        Some(handle) => {
            safe_segment(handle).ok()?;
            let name = canonical(&specs, &Index::load(&specs), handle);
            if specs.join(&name).exists() {
                name
            } else {
                handle.to_string()
            }
        }
        None => repo
            .head_branch()
            .ok()?
            .as_deref()
            .and_then(slug_of_branch)?,
    };
    let id = std::fs::read_to_string(specs.join(&slug).join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|m| {
            m.get("mission_id")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    for key in id.iter().chain(std::iter::once(&slug)) {
        if load(&root, key).ok()?.is_some() {
            return Some(false);
        }
    }
    Some(states_of(&root, &slug).ok()?.is_empty())
}

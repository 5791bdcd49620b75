//! Lanes into the mission branch (**interop**: the reference's lane consolidation — a lane
//! already in the mission branch skipped; a stale lane first merged with the mission branch in
//! its worktree, its coordination artifacts taken from the mission branch, its event logs
//! united, its `status.json` rebuilt; then the lane merged into the mission branch, whose
//! worktree follows).
//!
//! A conflict in anything else (source code) is the user's to resolve: the lane's merge is
//! aborted and the lane reported stale, as the reference reports what its classifier cannot
//! resolve.

use std::path::{Path, PathBuf};

use super::drivers::Activation;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::merge_drivers::merge_event_logs;
use crate::mission::status::materialize;

/// What a git command said, trimmed (stderr, else stdout).
pub(super) fn said(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if err.is_empty() {
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    } else {
        err
    }
}

/// `git args` in `repo`, its trimmed stdout; `Err` with git's words when it fails.
pub(super) fn git_ok(repo: &Repo, args: &[&str]) -> Result<String, MissionError> {
    let out = repo.output(args)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(MissionError::Git {
            what: format!("git {}", args.join(" ")),
            detail: said(&out),
        })
    }
}

/// What the merge's own merges and commits run with: no signing (the reference's), and none of
/// git's housekeeping (the user's next git command does it).
const QUIET: [&str; 6] = [
    "-c",
    "commit.gpgsign=false",
    "-c",
    "maintenance.auto=false",
    "-c",
    "gc.auto=0",
];

/// `git args` in `repo`, with [`QUIET`]'s settings.
pub(super) fn quiet(repo: &Repo, args: &[&str]) -> Result<std::process::Output, MissionError> {
    let mut all = QUIET.to_vec();
    all.extend_from_slice(args);
    repo.output(&all)
}

/// [`git_ok`] with [`QUIET`]'s settings.
pub(super) fn git_ok_quiet(repo: &Repo, args: &[&str]) -> Result<String, MissionError> {
    let mut all = QUIET.to_vec();
    all.extend_from_slice(args);
    git_ok(repo, &all)
}

/// The blob `spec` names (`:2:path`, `rev:path`), `None` when there is none.
pub(super) fn blob(repo: &Repo, spec: &str) -> Result<Option<Vec<u8>>, MissionError> {
    let out = repo.output(&["cat-file", "blob", spec])?;
    Ok(out.status.success().then_some(out.stdout))
}

/// The lane has nothing the mission branch lacks.
pub(super) fn integrated(repo: &Repo, lane: &str, mission: &str) -> Result<bool, MissionError> {
    let out = repo.output(&["rev-list", "--count", lane, &format!("^{mission}")])?;
    Ok(out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The files both the lane and the mission branch changed since they parted (sorted); empty
/// when the lane is not stale.
pub(super) fn stale(repo: &Repo, lane: &str, mission: &str) -> Result<Vec<String>, MissionError> {
    let base = repo.output(&["merge-base", lane, mission])?;
    let base = String::from_utf8_lossy(&base.stdout).trim().to_string();
    if base.is_empty() {
        return Ok(Vec::new());
    }
    let names = |tip: &str| -> Result<std::collections::BTreeSet<String>, MissionError> {
        Ok(git_ok(repo, &["diff", "--name-only", &base, tip])?
            .lines()
            .map(str::to_string)
            .collect())
    };
    let theirs = names(mission)?;
    if theirs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(theirs.intersection(&names(lane)?).cloned().collect())
}

/// The reference's remediation sentence for a stale lane.
pub(super) fn stale_error(lane_id: &str, mission: &str, files: &[String]) -> String {
    let list: Vec<String> = files
        .iter()
        .map(|f| crate::pyfmt::python_repr(&serde_json::Value::String(f.clone())))
        .collect();
    format!(
        "Lane {lane_id} is stale: overlapping files [{}]. Lane {lane_id} must incorporate mission changes before merging. Run: cd .worktrees/*-{lane_id} && git merge {mission}",
        list.join(", ")
    )
}

/// A path's parts after its first `kitty-specs` component.
fn mission_parts(path: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts.iter().position(|p| *p == "kitty-specs")?;
    Some(parts[at + 1..].to_vec())
}

fn is_status(path: &str, name: &str) -> bool {
    mission_parts(path).is_some_and(|p| p.len() >= 2 && p.last() == Some(&name))
}

/// A mission file whose copy on the mission branch wins a conflict: the matrices, the board,
/// the decision log, traces, lanes.json, the work-package files and the analysis report.
fn coordination_owned(path: &str) -> bool {
    let Some(parts) = mission_parts(path) else {
        return false;
    };
    match parts.as_slice() {
        [_, file] => matches!(
            *file,
            "acceptance-matrix.json"
                | "issue-matrix.md"
                | "issue-matrix.json"
                | "status.events.jsonl"
                | "status.json"
                | "decisions.events.jsonl"
                | "lanes.json"
                | "baseline-tests.json"
                | "analysis-report.md"
        ),
        [_, dir, _, ..] => matches!(*dir, "tasks" | "traces"),
        _ => false,
    }
}

/// Why the lane's merge with the mission branch stopped (the merge is aborted).
#[derive(Debug)]
pub(super) struct Halt(pub String);

/// Merge the mission branch into the lane in its worktree `wt`, resolving the conflicts the
/// reference's classifier resolves; `Err(Halt)` when it stops (nothing left behind).
pub(super) fn auto_rebase(
    wt: &Repo,
    mission: &str,
    lane_id: &str,
    lane_branch: &str,
) -> Result<Result<(), Halt>, MissionError> {
    for (key, value) in [
        ("user.email", "auto-rebase@spec-kitty"),
        ("user.name", "spec-kitty auto-rebase"),
    ] {
        let got = wt.output(&["config", "--get", key])?;
        if !got.status.success() || String::from_utf8_lossy(&got.stdout).trim().is_empty() {
            git_ok(wt, &["config", key, value])?;
        }
    }
    if let Some(why) = lane_deleted_status(wt, mission)? {
        return Ok(Err(Halt(why)));
    }
    crate::mission::repo_files::ensure_merge_drivers(wt)?;
    let merged = quiet(
        wt,
        &["merge", "--no-edit", "--no-ff", "--no-commit", mission],
    )?;
    let halt = |why: String| -> Result<Result<(), Halt>, MissionError> {
        let _ = wt.output(&["merge", "--abort"]);
        Ok(Err(Halt(why)))
    };
    let mut rules: Vec<&'static str> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    if !merged.status.success() {
        let conflicted = git_ok(wt, &["diff", "--name-only", "--diff-filter=U"])?;
        if conflicted.is_empty() {
            return halt(format!(
                "git merge failed without conflicts on {lane_branch}: {}",
                said(&merged)
            ));
        }
        for path in conflicted.lines() {
            let dir = wt
                .top()
                .join(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            if is_status(path, "status.events.jsonl") {
                let stage = |n: u8| blob(wt, &format!(":{n}:{path}"));
                let (base, ours, theirs) = (stage(1)?, stage(2)?, stage(3)?);
                let (Some(ours), Some(theirs)) = (ours, theirs) else {
                    return halt(format!(
                        "R-STATUS-EVENTS-JSONL-UNION: refusing status.events.jsonl deletion conflict for {path}"
                    ));
                };
                let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                let sides = [
                    text(base.as_deref().unwrap_or_default()),
                    text(&ours),
                    text(&theirs),
                ];
                let names = [
                    Path::new("<merge-stage-1>"),
                    Path::new("<merge-stage-2>"),
                    Path::new("<merge-stage-3>"),
                ];
                let union = match merge_event_logs([&sides[0], &sides[1], &sides[2]], names) {
                    Ok(u) => u,
                    Err(e) => return halt(format!("R-STATUS-EVENTS-JSONL-UNION: {e}")),
                };
                std::fs::write(wt.top().join(path), union)
                    .map_err(|e| MissionError::io(&wt.top().join(path), e))?;
                git_ok(wt, &["add", "--sparse", path])?;
                rules.push("R-STATUS-EVENTS-JSONL-UNION");
                dirs.push(dir);
            } else if is_status(path, "status.json") {
                dirs.push(dir);
            } else if coordination_owned(path) {
                match blob(wt, &format!(":3:{path}"))? {
                    Some(bytes) => {
                        std::fs::write(wt.top().join(path), bytes)
                            .map_err(|e| MissionError::io(&wt.top().join(path), e))?;
                        git_ok(wt, &["add", "--sparse", path])?;
                    }
                    None => {
                        let _ = std::fs::remove_file(wt.top().join(path));
                        git_ok(
                            wt,
                            &["rm", "-f", "--ignore-unmatch", "--sparse", "--quiet", path],
                        )?;
                    }
                }
                rules.push("R-COORDINATION-ARTIFACT-THEIRS");
            } else {
                return halt(format!(
                    "no classifier rule matched {}",
                    wt.top().join(path).display()
                ));
            }
        }
    }
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        if let Err(why) = rematerialize(wt, dir)? {
            return halt(why);
        }
        rules.push("R-STATUS-JSON-REMATERIALIZE");
    }
    // Staged status files whose status.json is not rebuilt yet.
    let staged = git_ok(wt, &["diff", "--name-status", "--cached"])?;
    let mut more: Vec<PathBuf> = Vec::new();
    for line in staged.lines() {
        let (kind, path) = line.split_once('\t').unwrap_or(("", line));
        let path = path.rsplit('\t').next().unwrap_or(path);
        let events = is_status(path, "status.events.jsonl");
        if events && (kind.starts_with('D') || kind.starts_with('R')) {
            return halt(format!(
                "R-STATUS-EVENTS-JSONL-UNION: refusing staged deletion of {path}"
            ));
        }
        if events || is_status(path, "status.json") {
            let dir = wt
                .top()
                .join(path)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            if !dirs.contains(&dir) && !more.contains(&dir) {
                more.push(dir);
            }
        }
    }
    more.sort();
    for dir in &more {
        if let Err(why) = rematerialize(wt, dir)? {
            return halt(why);
        }
        if !merged.status.success() {
            rules.push("R-STATUS-JSON-REMATERIALIZE");
        }
    }
    if wt
        .output(&["rev-parse", "-q", "--verify", "MERGE_HEAD"])?
        .status
        .success()
    {
        let commit = if merged.status.success() {
            quiet(wt, &["commit", "--no-edit", "--quiet"])?
        } else {
            let mut unique = rules.clone();
            unique.sort_unstable();
            unique.dedup();
            let message = format!(
                "auto-rebase(lane={lane_id}): {} conflicts resolved by classifier rules [{}]",
                rules.len(),
                unique.join(", ")
            );
            quiet(wt, &["commit", "--quiet", "-m", &message])?
        };
        if !commit.status.success() {
            return halt(format!("merge commit failed: {}", said(&commit)));
        }
    }
    Ok(Ok(()))
}

/// The reference's refusal to merge when the lane deleted a status file both its base and the
/// mission branch have.
fn lane_deleted_status(wt: &Repo, mission: &str) -> Result<Option<String>, MissionError> {
    let base = wt.output(&["merge-base", "HEAD", mission])?;
    if !base.status.success() {
        return Ok(Some(format!(
            "R-STATUS-EVENTS-JSONL-UNION: could not find merge base with {mission}: {}",
            said(&base)
        )));
    }
    let base = String::from_utf8_lossy(&base.stdout).trim().to_string();
    let status_files = |rev: &str| -> Result<std::collections::BTreeSet<String>, MissionError> {
        Ok(git_ok(
            wt,
            &["ls-tree", "-r", "--name-only", rev, "--", "kitty-specs"],
        )?
        .lines()
        .filter(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len() >= 3
                && matches!(parts.last(), Some(&("status.events.jsonl" | "status.json")))
        })
        .map(str::to_string)
        .collect())
    };
    let both: Vec<String> = status_files(&base)?
        .intersection(&status_files(mission)?)
        .cloned()
        .collect();
    for path in both {
        if !wt
            .output(&["cat-file", "-e", &format!("HEAD:{path}")])?
            .status
            .success()
        {
            return Ok(Some(format!(
                "R-STATUS-EVENTS-JSONL-UNION: refusing pre-existing lane-side deletion of coordination-owned status artifact {path}"
            )));
        }
    }
    Ok(None)
}

/// Rebuild `dir`'s status.json from its event log (taken from the index when not on disk) and
/// stage it; `Err` (why) when it cannot.
fn rematerialize(wt: &Repo, dir: &Path) -> Result<Result<(), String>, MissionError> {
    let rel = |p: &Path| {
        p.strip_prefix(wt.top())
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let events = dir.join("status.events.jsonl");
    if !events.exists() {
        let Some(bytes) = blob(wt, &format!(":0:{}", rel(&events)))? else {
            return Ok(Err(format!(
                "R-STATUS-JSON-REMATERIALIZE: missing authoritative {}",
                events.display()
            )));
        };
        std::fs::write(&events, bytes).map_err(|e| MissionError::io(&events, e))?;
        git_ok(wt, &["add", "--sparse", &rel(&events)])?;
    }
    if let Err(e) = materialize::materialize_annotated(dir) {
        return Ok(Err(format!(
            "R-STATUS-JSON-REMATERIALIZE: could not materialize {}: {e}",
            dir.join("status.json").display()
        )));
    }
    git_ok(wt, &["add", "--sparse", &rel(&dir.join("status.json"))])?;
    Ok(Ok(()))
}

/// Merge `lane` into `mission` (a fast-forward when it can; else a merge commit made in a
/// temporary worktree), then move the mission branch and its worktree `coord` to the result.
/// `Err` (the reference's sentence) when git cannot merge them; nothing is left behind.
pub(super) fn merge_into(
    repo: &Repo,
    coord: &Repo,
    lane: &str,
    mission: &str,
) -> Result<Result<(), String>, MissionError> {
    let old = git_ok(repo, &["rev-parse", mission])?;
    let new = if repo.is_ancestor(mission, lane)? {
        git_ok(repo, &["rev-parse", lane])?
    } else {
        let scratch = Scratch::add(repo, mission)?;
        let activation = Activation::start(repo)?;
        let message = format!("Merge {lane} into {mission}");
        let out = quiet(&scratch.repo, &["merge", lane, "--no-edit", "-m", &message])?;
        activation.finish();
        if !out.status.success() {
            let _ = scratch.repo.output(&["merge", "--abort"]);
            return Ok(Err(format!(
                "Merge of {lane} into {mission} failed: {}",
                said(&out)
            )));
        }
        git_ok(&scratch.repo, &["rev-parse", "HEAD"])?
    };
    advance(repo, coord, mission, &old, &new)
}

/// Move `branch` from `old` to `new` and reset `checkout` (the worktree that has it checked
/// out) to it; refused when that worktree holds changes a reset would destroy.
pub(super) fn advance(
    repo: &Repo,
    checkout: &Repo,
    branch: &str,
    old: &str,
    new: &str,
) -> Result<Result<(), String>, MissionError> {
    if old == new {
        return Ok(Ok(()));
    }
    if let Some(why) = dirty(checkout, branch, old, new)? {
        return Ok(Err(why));
    }
    let now = git_ok(repo, &["rev-parse", branch])?;
    if now != old {
        return Ok(Err(format!(
            "'{branch}' moved from {old} to {now} while the merge ran: run the merge again"
        )));
    }
    // One git command moves the branch and its checkout together (a kill leaves either).
    git_ok(checkout, &["reset", "--hard", "--quiet", new])?;
    Ok(Ok(()))
}

/// The reference's refusal to advance `branch` over uncommitted changes in `checkout`.
pub(super) fn dirty(
    checkout: &Repo,
    branch: &str,
    old: &str,
    new: &str,
) -> Result<Option<String>, MissionError> {
    // Untrimmed: each line's first column is its index state, a space when unchanged.
    let out = checkout.output(&["status", "--porcelain", "--untracked-files=no"])?;
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    // A board the tools rewrote (a status log or status.json), or a retrospective an
    // interrupted merge captured, is churn: the reset absorbs it, the terminus writes it again.
    let status: Vec<&str> = status
        .lines()
        .filter(|l| {
            let path = l.get(3..).unwrap_or_default();
            !(is_status(path, "status.events.jsonl")
                || is_status(path, "status.json")
                || is_status(path, "retrospective.yaml"))
        })
        .collect();
    if status.is_empty() {
        return Ok(None);
    }
    let top = checkout.top().display();
    let short = |s: &str| s.chars().take(12).collect::<String>();
    let entries: Vec<String> = status.iter().map(|l| format!("    {l}")).collect();
    Ok(Some(format!(
        "Refusing to advance branch '{branch}' ({} -> {}): the worktree at {top} has it checked out and holds uncommitted local changes that a resync (`git reset --hard`) would destroy (#1826 / NFR-002).\n  Dirty entries:\n{}\n  Commit, stash, or revert these changes in {top}, then run the merge again.",
        short(old),
        short(new),
        entries.join("\n")
    )))
}

/// A detached worktree for one merge, removed when dropped.
pub(super) struct Scratch {
    /// The worktree.
    pub repo: Repo,
    main: Repo,
    path: PathBuf,
}

impl Scratch {
    /// A detached worktree of `rev`, in the repository's git directory.
    pub fn add(main: &Repo, rev: &str) -> Result<Self, MissionError> {
        let common = main.git_dir()?;
        let path = common.join(format!(
            "kitty-merge-{}-{}",
            std::process::id(),
            crate::ids::uuid4()
        ));
        let p = path.to_string_lossy().into_owned();
        git_ok(main, &["worktree", "add", "--quiet", "--detach", &p, rev])?;
        Ok(Self {
            repo: Repo::at(main.env(), &path),
            main: main.clone(),
            path,
        })
    }
}

impl Scratch {
    /// Remove the temporary worktrees a killed merge left behind.
    pub fn sweep(main: &Repo) {
        let Ok(all) = main.worktrees() else { return };
        for (path, _, _) in all {
            let ours = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("kitty-merge-"));
            if ours
                && main
                    .git_dir()
                    .is_ok_and(|g| path.parent() == Some(g.as_path()))
            {
                main.worktree_remove(&path);
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.main.worktree_remove(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mission_branch_wins_only_coordination_artifacts() {
        for yes in [
            "kitty-specs/m/acceptance-matrix.json",
            "kitty-specs/m/lanes.json",
            "kitty-specs/m/tasks/WP01-x.md",
            "kitty-specs/m/tasks/WP01-x/review-cycle-1.md",
            "kitty-specs/m/traces/a.md",
            "kitty-specs/m/analysis-report.md",
        ] {
            assert!(coordination_owned(yes), "{yes}");
        }
        for no in [
            "kitty-specs/m/spec.md",
            "kitty-specs/m/plan.md",
            "kitty-specs/m/tasks.md",
            "kitty-specs/m/checklists/a.md",
            "src/lanes.json",
            "kitty-specs/lanes.json",
        ] {
            assert!(!coordination_owned(no), "{no}");
        }
        assert!(is_status("kitty-specs/m/status.json", "status.json"));
        assert!(!is_status("kitty-specs/status.json", "status.json"));
    }

    #[test]
    fn a_stale_lane_is_reported_with_its_files_as_python_lists_them() {
        let e = stale_error("lane-a", "kitty/mission-m", &["a.py".into(), "it's".into()]);
        assert!(
            e.starts_with("Lane lane-a is stale: overlapping files ['a.py', \"it's\"]."),
            "{e}"
        );
        assert!(e.ends_with("git merge kitty/mission-m"), "{e}");
    }
}

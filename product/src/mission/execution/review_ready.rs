//! Whether a work package is ready to hand to review (**interop**: the reference's readiness
//! checks before `for_review` — uncommitted planning files owned by the package, then its lane
//! worktree's health, currency, uncommitted work, an implementation commit and kitty-specs
//! edits — their guidance, the lane-deliverables commit, and the pre-review gate's record).
//!
//! One deliberate difference (`lane_inherits_coordination`): a lane branch starts from the
//! coordination branch, so it carries that branch's status files, acceptance matrix and the
//! implement commit's frontmatter; the reference counts them as kitty-specs edits made on the
//! lane and refuses every unforced `for_review`. Kitty counts only what the lane itself changed
//! (content that differs from both the planning branch and what the lane inherited from the
//! coordination branch; coordination files never count). And an
//! implementation is a change outside kitty-specs/ on the lane, not any commit beyond its base
//! (a new lane already has one: its merge of the planning commit).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::ExecError;
use crate::env::Env;
use crate::mission::git::Repo;

pub use super::place::{Place, Workspace, place};

static WP_TASK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"kitty-specs/[^/]+/tasks/WP\d+-.+\.md$").unwrap());
static TASKS_MD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"kitty-specs/[^/]+/tasks\.md$").unwrap());
static KITTY_OPS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|/)kitty-ops/[0-9A-HJKMNP-TV-Z]{26}\.jsonl$").unwrap());

/// A coordination-partition file (status log and snapshot, matrices).
pub fn is_coord_residue(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    path.starts_with("kitty-specs/")
        && matches!(
            base,
            "status.events.jsonl" | "status.json" | "acceptance-matrix.json" | "issue-matrix.md"
        )
}

/// A dirty planning path that does not block a review handoff.
fn is_benign(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    is_coord_residue(path)
        || base == "meta.json"
        || base == "lanes.json"
        || KITTY_OPS.is_match(path)
        || path.starts_with(".kittify/")
        || path == ".kittify"
        || WP_TASK.is_match(path)
        || TASKS_MD.is_match(path)
}

fn is_dossier_snapshot(path: &str) -> bool {
    path.contains(".kittify/dossiers/") && path.ends_with("/snapshot-latest.json")
}

/// `git status --porcelain` lines without spec-kitty's runtime directories.
fn filter_runtime(porcelain: &str) -> Vec<String> {
    porcelain
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            let p = l.get(3..).unwrap_or(l.trim());
            !(p.starts_with(".spec-kitty/") || p.starts_with(".kittify/") || is_dossier_snapshot(p))
        })
        .map(str::to_string)
        .collect()
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// What the readiness checks found.
#[derive(Debug, Default)]
pub struct Readiness {
    /// Dirty planning files that do not block (the reference's "unrelated dirty file(s)").
    pub benign: usize,
    /// The guidance lines of the first blocking check, if one blocked.
    pub blocked: Option<Vec<String>>,
}

/// Everything the checks need.
#[derive(Debug)]
pub struct Checks<'a> {
    /// The environment for git.
    pub env: &'a Env,
    /// The primary checkout.
    pub root: &'a Path,
    /// The mission directory in it.
    pub fd: &'a Path,
    /// The mission.
    pub slug: &'a str,
    /// The work package.
    pub wp: &'a str,
    /// The lane asked for (in the guidance).
    pub target: &'a str,
    /// Where the package is implemented.
    pub place: &'a Place,
    /// The mission's coordination branch, when it has one.
    pub coordination: Option<&'a str>,
    /// The planning branch (meta's planning_base_branch, else target_branch).
    pub planning: Option<&'a str>,
    /// The mission's target branch.
    pub target_branch: &'a str,
    /// `meta.json`'s mission_type.
    pub mission_type: &'a str,
}

/// Run the readiness checks (the reference's order; the first blocking one wins).
pub fn check(c: &Checks<'_>) -> Result<Readiness, ExecError> {
    let mut r = Readiness::default();
    let root = Repo::at(c.env, c.root);
    let fd_arg = c.fd.to_string_lossy().into_owned();
    let out = root.output(&["status", "--porcelain", &fd_arg])?;
    let (mut blocking, mut blocking_lines) = (Vec::new(), Vec::new());
    for line in text(&out).lines().filter(|l| !l.trim().is_empty()) {
        let path = line.get(3..).unwrap_or(line.trim()).to_string();
        if is_dossier_snapshot(&path) {
            continue;
        }
        if is_benign(&path) || is_recorded_verdict(c, &root, line) {
            r.benign += 1;
        } else {
            blocking.push(path);
            blocking_lines.push(line.to_string());
        }
    }
    if !blocking.is_empty() {
        let mut g = vec![
            format!(
                "Blocking: {} uncommitted file(s) owned by {}:",
                blocking.len(),
                c.wp
            ),
            String::new(),
            "Modified files in kitty-specs/:".into(),
        ];
        g.extend(blocking_lines.iter().take(5).map(|l| format!("  {l}")));
        if blocking_lines.len() > 5 {
            g.push(format!("  ... and {} more", blocking_lines.len() - 5));
        }
        let commit = if c.mission_type == "research" {
            format!(
                "  git commit -m \"research({}): <describe your research outputs>\"",
                c.wp
            )
        } else {
            format!(
                "  git commit -m \"docs({}): <describe your changes>\"",
                c.wp
            )
        };
        g.extend([
            String::new(),
            format!("Commit these files before moving to {}.", c.target),
            format!("  cd {}", c.root.display()),
            format!("  git add kitty-specs/{}/", c.slug),
            commit,
            String::new(),
            retry(c),
        ]);
        r.blocked = Some(g);
        return Ok(r);
    }
    if c.mission_type != "software-dev" {
        return Ok(r);
    }
    let ws = match c.place {
        Place::RepoRoot => return Ok(r),
        Place::Lane(ws) => ws.clone(),
        // The reference falls back to lane-a's worktree.
        Place::Unknown => Workspace {
            path: c.root.join(".worktrees").join(format!("{}-lane-a", c.slug)),
            branch: String::new(),
            base_branch: None,
        },
    };
    if !ws.path.exists() {
        return Ok(r);
    }
    r.blocked = worktree(c, &ws)?;
    Ok(r)
}

/// An untracked copy of review-cycle artifacts the coordination branch holds byte for byte,
/// with the review's feedback beside it: the record of a finished review, not the package's
/// work (see [`super::review_cycle::is_review_record`]).
fn is_recorded_verdict(c: &Checks<'_>, root: &Repo, line: &str) -> bool {
    match (line.strip_prefix("?? "), c.coordination) {
        (Some(path), Some(branch)) => {
            let coord = c.root.join(".worktrees").join(format!("{}-coord", c.slug));
            super::review_cycle::is_review_record(
                c.root,
                root,
                (c.slug, branch, &coord),
                path,
                &is_benign,
            )
        }
        _ => false,
    }
}

fn retry(c: &Checks<'_>) -> String {
    format!(
        "Then retry: spec-kitty agent tasks move-task {} --to {}",
        c.wp, c.target
    )
}

/// The lane worktree's checks; `None` when they pass.
fn worktree(c: &Checks<'_>, ws: &Workspace) -> Result<Option<Vec<String>>, ExecError> {
    let wt = &ws.path;
    let cd = format!("  cd {}", wt.display());
    if !wt.join(".git").exists() {
        return Ok(Some(vec![format!(
            "{} is not a git worktree (no .git): recreate it with `spec-kitty agent action implement {} --agent <name>`",
            wt.display(),
            c.wp
        )]));
    }
    let repo = Repo::at(c.env, wt);
    if repo.head_branch()?.is_none_or(|b| b.is_empty()) {
        return Ok(Some(vec![
            "Detached HEAD detected in worktree!".into(),
            String::new(),
            "Please reattach to a branch before review:".into(),
            cd,
            "  git checkout <your-branch>".into(),
            String::new(),
            retry(c),
        ]));
    }
    let mut ops = Vec::new();
    for (r, label) in [
        ("MERGE_HEAD", "merge"),
        ("REBASE_HEAD", "rebase"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
    ] {
        if repo
            .output(&["rev-parse", "-q", "--verify", r])?
            .status
            .success()
        {
            ops.push(label);
        }
    }
    if !ops.is_empty() {
        return Ok(Some(vec![
            "In-progress git operation detected in worktree!".into(),
            String::new(),
            format!("Active operation(s): {}", ops.join(", ")),
            String::new(),
            "Resolve or abort before review:".into(),
            cd,
            "  git status".into(),
            "  git merge --abort   # if merge".into(),
            "  git rebase --abort  # if rebase".into(),
            "  git cherry-pick --abort  # if cherry-pick".into(),
            String::new(),
            retry(c),
        ]));
    }
    let check_branch = ws
        .base_branch
        .clone()
        .or_else(|| c.coordination.map(str::to_string))
        .unwrap_or_else(|| c.target_branch.to_string());
    let behind = repo.output(&["rev-list", "--count", &format!("HEAD..{check_branch}")])?;
    let behind: u64 = if behind.status.success() {
        text(&behind).trim().parse().unwrap_or(0)
    } else {
        0
    };
    if behind > 0 && !behind_only_planning(&repo, &check_branch, c.slug)? {
        return Ok(Some(vec![
            format!("{check_branch} branch has new commits not in this worktree!"),
            String::new(),
            format!("Your branch is behind {check_branch} by {behind} commit(s)."),
            "Rebase before review:".into(),
            cd,
            format!("  git rebase {check_branch}"),
            String::new(),
            retry(c),
        ]));
    }
    let dirty = filter_runtime(&text(&repo.output(&["status", "--porcelain"])?));
    if !dirty.is_empty() {
        let (mut staged, mut unstaged) = (false, false);
        for l in &dirty {
            if l.starts_with("??") {
                unstaged = true;
                continue;
            }
            let b = l.as_bytes();
            staged |= b.first().is_some_and(|x| *x != b' ');
            unstaged |= b.get(1).is_some_and(|x| *x != b' ');
        }
        let head = match (staged, unstaged) {
            (true, false) => "Staged but uncommitted changes in worktree!",
            (true, true) => "Staged and unstaged changes in worktree!",
            _ => "Uncommitted implementation changes in worktree!",
        };
        let mut g = vec![head.to_string(), String::new(), "Modified files:".into()];
        g.extend(dirty.iter().take(5).map(|l| format!("  {l}")));
        g.extend([
            String::new(),
            "Commit your work first:".into(),
            cd,
            "  git add <deliverable-path-1> <deliverable-path-2> ...".into(),
            format!(
                "  git commit -m \"feat({}): <describe implementation>\"",
                c.wp
            ),
            String::new(),
            retry(c),
        ]);
        return Ok(Some(g));
    }
    if !has_implementation(&repo, c.planning.unwrap_or(&check_branch))? {
        return Ok(Some(vec![
            "No implementation commits on lane branch!".into(),
            String::new(),
            format!("The worktree exists but has no commits beyond {check_branch}."),
            "Either:".into(),
            "  1. Commit your implementation work to the worktree".into(),
            "  2. Or verify work is complete (use --force if nothing to commit)".into(),
            String::new(),
            cd,
            "  git add <deliverable-path-1> <deliverable-path-2> ...".into(),
            format!(
                "  git commit -m \"feat({}): <describe implementation>\"",
                c.wp
            ),
            String::new(),
            retry(c),
        ]));
    }
    let base = c.planning.unwrap_or(&check_branch).to_string();
    let contaminated = lane_kitty_specs_edits(&repo, &base, c.coordination)?;
    if contaminated.is_empty() {
        return Ok(None);
    }
    let mut g = vec!["Committed kitty-specs files on this lane branch:".to_string()];
    g.extend(contaminated.iter().take(5).map(|p| format!("  {p}")));
    if contaminated.len() > 5 {
        g.push(format!("  ... and {} more", contaminated.len() - 5));
    }
    g.push(String::new());
    g.push(format!(
        "kitty-specs/ changes are not allowed on lane branches.\nPlanning artifacts must live on: {base}\n\nTo verify a file exists on the planning branch:\n  git show {base}:{}",
        contaminated[0]
    ));
    g.extend([
        String::new(),
        format!("Clean the branch before moving to {}:", c.target),
        cd,
        format!("  git restore --source {base} --staged --worktree -- kitty-specs/"),
        "  git commit -m \"chore: remove planning artifacts from lane branch\"".into(),
        String::new(),
        retry(c),
    ]);
    Ok(Some(g))
}

/// Whether the lane changed a file outside kitty-specs/ since its merge-base with the planning
/// branch `base` (what it took from there is not its work). The reference counts commits beyond
/// the coordination branch, and a new lane already has one, its merge of the planning commit: an
/// empty lane passed.
fn has_implementation(repo: &Repo, base: &str) -> Result<bool, ExecError> {
    let mb = repo.output(&["merge-base", "HEAD", base])?;
    if !mb.status.success() {
        return Ok(false);
    }
    let d = repo.output(&[
        "diff",
        "--name-only",
        text(&mb).trim(),
        "HEAD",
        "--",
        ".",
        ":(exclude)kitty-specs",
    ])?;
    Ok(d.status.success() && !text(&d).trim().is_empty())
}

/// Whether the commits HEAD is behind `branch` by touch only this mission's planning files.
fn behind_only_planning(repo: &Repo, branch: &str, slug: &str) -> Result<bool, ExecError> {
    let mb = repo.output(&["merge-base", "HEAD", branch])?;
    if !mb.status.success() {
        return Ok(false);
    }
    let names = repo.output(&["diff", "--name-only", text(&mb).trim(), branch])?;
    if !names.status.success() {
        return Ok(false);
    }
    let prefix = format!("kitty-specs/{slug}/");
    Ok(text(&names).lines().filter(|l| !l.is_empty()).all(|p| {
        p.starts_with(&prefix)
            || p.starts_with(".kittify/workspaces/")
            || p == ".kittify/config.yaml"
            || p == ".kittify/config.yml"
    }))
}

/// The kitty-specs files the lane itself changed: touched since its merge-base with the planning
/// branch, different from the planning branch's tip, and different from what the lane inherited
/// from the coordination branch (their merge-base); the coordination files (status log and
/// snapshot, matrices) are never the lane's own.
fn lane_kitty_specs_edits(
    repo: &Repo,
    planning: &str,
    coordination: Option<&str>,
) -> Result<Vec<String>, ExecError> {
    let mb = repo.output(&["merge-base", "HEAD", planning])?;
    if !mb.status.success() {
        return Ok(Vec::new());
    }
    let touched = repo.output(&[
        "diff",
        "--name-only",
        text(&mb).trim(),
        "HEAD",
        "--",
        "kitty-specs/",
    ])?;
    // What the lane inherited from the coordination branch: their merge-base.
    let inherited = match coordination {
        Some(coord) => {
            let o = repo.output(&["merge-base", "HEAD", coord])?;
            o.status.success().then(|| text(&o).trim().to_string())
        }
        None => None,
    };
    let mut out = Vec::new();
    for path in text(&touched)
        .lines()
        .map(str::trim)
        .filter(|p| p.starts_with("kitty-specs/") && !is_coord_residue(p))
    {
        if out.iter().any(|p: &String| p == path) {
            continue;
        }
        let differs_from = |rev: &str| -> Result<bool, ExecError> {
            let d = repo.output(&["diff", "--quiet", rev, "HEAD", "--", path])?;
            Ok(!d.status.success())
        };
        if !differs_from(planning)? {
            continue;
        }
        if let Some(base) = &inherited
            && !differs_from(base)?
        {
            continue;
        }
        out.push(path.to_string());
    }
    Ok(out)
}

/// Commit the lane's finished deliverables before review (the reference's
/// `chore(WPxx): commit lane deliverables for review`), leaving coordination files out. Best
/// effort: a failure leaves the tree as it was and the readiness check explains.
pub fn commit_deliverables(env: &Env, wp: &str, ws: &Workspace) {
    if !ws.path.exists() || ws.branch.is_empty() {
        return;
    }
    let repo = Repo::at(env, &ws.path);
    let Ok(out) = repo.output(&["status", "--porcelain", "--untracked-files=all"]) else {
        return;
    };
    let paths: Vec<String> = filter_runtime(&text(&out))
        .iter()
        .filter_map(|l| {
            let e = l.get(3..)?;
            let e = e.split_once(" -> ").map_or(e, |(_, b)| b);
            Some(e.trim().trim_matches('"').to_string())
        })
        .filter(|p| !p.is_empty() && !is_coord_residue(p))
        .collect();
    if paths.is_empty() {
        return;
    }
    if repo.head_branch().ok().flatten().as_deref() != Some(ws.branch.as_str()) {
        return;
    }
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let _ = repo.commit_paths_with(
        &refs,
        &format!("chore({wp}): commit lane deliverables for review"),
        None,
    );
}

/// The pre-review gate's record when kitty decides it without running tests: nothing changed
/// in the lane, or (on a coordinated mission) no gate contract governs the edge.
pub fn gate_no_coverage(reason: &str) -> Value {
    json!({
        "outcome": "no_coverage",
        "reason": reason,
        "new_failure_count": 0,
        "new_failure_nodeids": [],
        "pre_existing_failure_count": 0,
        "affected_shard_count": 0,
        "matched_shard_groups": [],
        "matched_composite_dirs": [],
        "test_targets": [],
        "block_enabled": false,
        "blocked": false,
        "force_bypassed": false,
        "run_state": "completed",
    })
}

/// The files the lane changed for the gate: since its merge-base with `base`, plus its dirty
/// deliverables. `None` when git cannot say.
pub fn lane_changes(env: &Env, ws: &Workspace, base: &str) -> Option<Vec<String>> {
    let repo = Repo::at(env, &ws.path);
    let mb = repo.output(&["merge-base", "HEAD", base]).ok()?;
    let mut files: Vec<String> = Vec::new();
    if mb.status.success() {
        let d = repo
            .output(&["diff", "--name-only", text(&mb).trim(), "HEAD"])
            .ok()?;
        files.extend(
            text(&d)
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let st = repo.output(&["status", "--porcelain"]).ok()?;
    for l in filter_runtime(&text(&st)) {
        if let Some(p) = l.get(3..) {
            files.push(p.trim().to_string());
        }
    }
    files.sort();
    files.dedup();
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_files_matrices_metadata_and_task_files_are_benign_other_planning_files_block() {
        for p in [
            "kitty-specs/m/status.events.jsonl",
            "kitty-specs/m/status.json",
            "kitty-specs/m/meta.json",
            "kitty-specs/m/lanes.json",
            "kitty-specs/m/tasks.md",
            "kitty-specs/m/tasks/WP01-x.md",
            "kitty-specs/m/acceptance-matrix.json",
        ] {
            assert!(is_benign(p), "{p}");
        }
        for p in [
            "kitty-specs/m/decisions/",
            "kitty-specs/m/research.md",
            "kitty-specs/m/tasks/WP01-x/",
        ] {
            assert!(!is_benign(p), "{p}");
        }
    }

    #[test]
    fn lanes_json_places_a_package_in_its_lane_or_the_repository_and_the_context_gives_its_base() {
        let t = tempfile::tempdir().unwrap();
        let (root, fd) = (t.path(), t.path().join("kitty-specs/m"));
        assert!(matches!(place(root, &fd, "m", "WP01"), Place::Unknown));
        std::fs::create_dir_all(&fd).unwrap();
        std::fs::write(
            fd.join("lanes.json"),
            r#"{"mission_branch": "kitty/mission-m", "planning_artifact_wps": ["WP09"],
                "lanes": [{"lane_id": "lane-a", "wp_ids": ["WP01"]}, {"lane_id": "lane-b", "wp_ids": ["WP02", "WP03"]}]}"#,
        )
        .unwrap();
        std::fs::create_dir_all(root.join(".kittify/workspaces")).unwrap();
        std::fs::write(
            root.join(".kittify/workspaces/m-lane-b.json"),
            r#"{"base_branch": "kitty/mission-m"}"#,
        )
        .unwrap();
        assert!(matches!(place(root, &fd, "m", "WP09"), Place::RepoRoot));
        assert!(matches!(place(root, &fd, "m", "WP07"), Place::Unknown));
        let Place::Lane(a) = place(root, &fd, "m", "WP01") else {
            panic!("WP01 has a lane")
        };
        assert_eq!(a.path, root.join(".worktrees/m-lane-a"));
        assert_eq!(a.branch, "kitty/mission-m-lane-a");
        assert_eq!(a.base_branch, None);
        let Place::Lane(b) = place(root, &fd, "m", "WP03") else {
            panic!("WP03 has a lane")
        };
        assert_eq!(b.branch, "kitty/mission-m-lane-b");
        assert_eq!(b.base_branch.as_deref(), Some("kitty/mission-m"));
    }

    #[test]
    fn only_coordination_files_under_kitty_specs_are_residue() {
        assert!(is_coord_residue("kitty-specs/m/status.json"));
        assert!(is_coord_residue("kitty-specs/m/issue-matrix.md"));
        assert!(!is_coord_residue("status.json"));
        assert!(!is_coord_residue("kitty-specs/m/spec.md"));
        assert!(is_benign(
            "kitty-specs/m/kitty-ops/01M91EKYBAA4XY7TBB9N2XES50.jsonl"
        ));
        assert!(is_benign(".kittify/x"));
        assert!(!is_benign("kitty-specs/m/kitty-ops/notes.jsonl"));
        assert!(is_dossier_snapshot(
            "kitty-specs/m/.kittify/dossiers/x/snapshot-latest.json"
        ));
        assert!(!is_dossier_snapshot(
            "kitty-specs/m/.kittify/dossiers/x/other.json"
        ));
    }

    #[test]
    fn the_gate_record_is_no_coverage_with_its_reason() {
        let g = gate_no_coverage("why");
        assert_eq!(g["outcome"], "no_coverage");
        assert_eq!(g["reason"], "why");
        assert_eq!(g["run_state"], "completed");
        assert_eq!(g.as_object().unwrap().len(), 13);
    }

    #[test]
    fn runtime_directories_are_not_uncommitted_work() {
        let kept = filter_runtime(" M src/a.rs\n?? .kittify/x\n?? .spec-kitty/lock\n M b\n");
        assert_eq!(kept, [" M src/a.rs", " M b"]);
    }
}

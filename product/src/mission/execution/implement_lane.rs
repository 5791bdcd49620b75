//! A work package's lane made ready for implementation (**interop**: the reference's lane
//! allocation — the worktree cut from the coordination branch, sparse without the status files,
//! the recorded planning commit and the dependency lanes merged in, the workspace context, the
//! package's `base_*` fields, meta.json's VCS lock, the merge drivers' git config, the baseline
//! artifact — and the analysis gate before it).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::ExecError;
use super::place::Workspace;
use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::planning::commit::{Committed, commit_on};
use crate::mission::status::reduce::Snapshot;
use crate::mission::tasks::frontmatter::{RUNTIME, WpFile, render};

/// The analysis report, as the implement gate reads it.
pub enum Analysis {
    /// Present and judging the current spec, plan, tasks and charter.
    Current,
    /// Absent (its expected path).
    Missing(PathBuf),
    /// Stale, foreign or unreadable: the reference's to explain.
    Other(&'static str),
}

/// Whether `fd/analysis-report.md` judged the files as they are now.
pub fn analysis(root: &Path, fd: &Path) -> Result<Analysis, ExecError> {
    let path = fd.join("analysis-report.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Analysis::Missing(path));
    };
    let front = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---"))
        .map(|(f, _)| f);
    let Some(saved) = front
        .and_then(|f| serde_yaml_ng::from_str::<Value>(f).ok())
        .filter(|v| v["artifact_type"] == "spec-kitty.analysis-report")
        .map(|v| v["input_artifacts"].clone())
    else {
        return Ok(Analysis::Other("an analysis report kitty does not read"));
    };
    let Ok(now) = crate::mission::planning::record_analysis::input_artifacts(root, fd) else {
        return Ok(Analysis::Other(
            "an analysis report whose inputs are missing",
        ));
    };
    let stale = ["spec.md", "plan.md", "tasks.md", "charter"]
        .iter()
        .any(|k| saved[k]["sha256"] != now[k]["sha256"]);
    Ok(if stale {
        Analysis::Other("a stale analysis report")
    } else {
        Analysis::Current
    })
}

/// Why the baseline run is the reference's: a configured test command, or a Python project
/// (the reference runs pytest there); none otherwise (nothing a run would collect: the artifact
/// records that no JUnit report was produced, as the reference's does).
pub fn baseline_unmodelled(root: &Path) -> Option<&'static str> {
    let config = std::fs::read_to_string(root.join(".kittify/config.yaml")).unwrap_or_default();
    if config.contains("test_command") {
        return Some("a configured review test command (the baseline run)");
    }
    [
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "pytest.ini",
        "tox.ini",
        "conftest.py",
    ]
    .iter()
    .any(|m| root.join(m).exists())
    .then_some("a Python project (the baseline's pytest run)")
}

/// Whether the primary's mission directory holds uncommitted planning files: its status files
/// aside, and a file the coordination branch holds byte for byte (a verdict's copy) aside, as the
/// reference's auto-commit filters them.
pub fn planning_dirty(repo: &Repo, fd: &Path, coord: &str) -> Result<bool, ExecError> {
    let rel = super::transition::rel(repo.top(), fd);
    let out = repo.output(&["status", "--porcelain", "--untracked-files=all", "--", &rel])?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let path = line.get(3..).unwrap_or_default().trim_matches('"');
        if path.ends_with("/status.events.jsonl") || path.ends_with("/status.json") {
            continue;
        }
        let here = std::fs::read(repo.top().join(path)).ok();
        if here.is_none() || repo.show_file(coord, path)? != here {
            return Ok(true);
        }
    }
    Ok(false)
}

/// lanes.json, as the allocation reads it.
#[derive(Debug, Clone)]
pub struct LanesFile {
    /// `kitty/mission-<slug>`.
    pub mission_branch: String,
    /// The planning commit finalize recorded.
    pub planning_commit: Option<String>,
    lanes: Vec<Value>,
}

impl LanesFile {
    /// Read `fd/lanes.json`.
    pub fn read(fd: &Path) -> Result<Self, ExecError> {
        let path = fd.join("lanes.json");
        let v: Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| MissionError::read(&path, std::io::ErrorKind::InvalidData.into()))?;
        Ok(Self {
            mission_branch: v["mission_branch"].as_str().unwrap_or_default().to_string(),
            planning_commit: v["planning_commit_sha"].as_str().map(str::to_string),
            lanes: v["lanes"].as_array().cloned().unwrap_or_default(),
        })
    }

    fn lane(&self, id: &str) -> Option<&Value> {
        self.lanes.iter().find(|l| l["lane_id"] == id)
    }

    /// The packages of lane `id`, in lanes.json's order.
    pub fn members(&self, id: &str) -> Vec<String> {
        self.lane(id)
            .and_then(|l| l["wp_ids"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The lanes `id` depends on, by parallel group then id, with their branches.
    fn dependencies(&self, id: &str) -> Vec<(String, String)> {
        let mut deps: Vec<(i64, String)> = self
            .lane(id)
            .and_then(|l| l["depends_on_lanes"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|d| {
                        let group = self.lane(d).and_then(|l| l["parallel_group"].as_i64());
                        (group.unwrap_or(0), d.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        deps.sort();
        deps.into_iter()
            .map(|(_, d)| (format!("{}-{d}", self.mission_branch), d))
            .collect()
    }

    /// A dependency lane of `id` whose branch is missing (the reference warns; kitty hands over).
    pub fn missing_dependency(&self, repo: &Repo, id: &str) -> Result<Option<String>, ExecError> {
        for (branch, dep) in self.dependencies(id) {
            if !repo.ref_exists(&format!("refs/heads/{branch}"))? {
                return Ok(Some(dep));
            }
        }
        Ok(None)
    }
}

/// A lane made by this run.
#[derive(Debug, Clone)]
pub struct Fresh {
    /// The branch it was cut from (the coordination branch).
    pub base_branch: String,
    /// Its commit then.
    pub base_commit: String,
    /// When.
    pub created_at: String,
    /// Whether meta.json was locked to git by this run.
    pub vcs_locked: bool,
}

/// The lane id of `ws` (`.worktrees/<slug>-<lane>`).
pub fn lane_id(ws: &Workspace, slug: &str) -> String {
    ws.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .and_then(|n| n.strip_prefix(&format!("{slug}-")).map(str::to_string))
        .unwrap_or_default()
}

fn git_ok(repo: &Repo, args: &[&str]) -> Result<(), ExecError> {
    let out = repo.output(args)?;
    if out.status.success() {
        return Ok(());
    }
    Err(failed(repo, args, &out))
}

/// git's failure of `args` in `repo`, with what it said on both streams (a merge names its
/// conflicts on stdout).
fn failed(repo: &Repo, args: &[&str], out: &std::process::Output) -> ExecError {
    MissionError::Git {
        what: format!("git {} (in {})", args.join(" "), repo.top().display()),
        detail: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .trim()
        .to_string(),
    }
    .into()
}

/// The environment for merges in a lane: git runs the merge drivers the repository configures
/// (`spec-kitty merge-driver-...`) by name, so this kitty, when it is installed as `spec-kitty`,
/// comes first on PATH and merges with its own drivers.
pub fn merge_env(env: &Env) -> Env {
    match std::env::current_exe() {
        Ok(exe) if exe.file_stem().is_some_and(|n| n == "spec-kitty") => exe
            .parent()
            .map_or_else(|| env.clone(), |dir| env.with_path_first(dir)),
        _ => env.clone(),
    }
}

/// Where a lane is made before it is moved into place (`.worktrees/.partial/<name>`): a kill
/// while it is made leaves no lane at its path, only this, which the next implement removes.
fn staging(ws: &Workspace) -> PathBuf {
    let name = ws.path.file_name().unwrap_or_default();
    ws.path
        .parent()
        .map_or_else(|| ws.path.clone(), Path::to_path_buf)
        .join(".partial")
        .join(name)
}

/// Remove what a killed allocation of `ws` left (its worktree at the staging path and its
/// branch, which nothing else holds); nothing when there is none.
pub fn clear_partial(repo: &Repo, ws: &Workspace) {
    let partial = staging(ws);
    if partial.exists() && !ws.path.exists() {
        repo.worktree_remove(&partial);
        repo.delete_branch(&ws.branch);
    }
}

/// Cut the lane from `coord`, sparse without the status files, merge its inputs, then move it
/// into place (all of it, or no lane at its path).
pub fn allocate(
    env: &Env,
    repo: &Repo,
    ws: &Workspace,
    slug: &str,
    coord: &str,
    lanes: &LanesFile,
    now: DateTime<Utc>,
) -> Result<Fresh, ExecError> {
    let base_commit = repo.rev_parse(coord)?.unwrap_or_default();
    let partial = staging(ws);
    let path = partial.to_string_lossy().into_owned();
    git_ok(
        repo,
        &["worktree", "add", "-q", "-b", &ws.branch, &path, coord],
    )?;
    let lane = Repo::at(env, &partial);
    let sparse = || -> Result<(), ExecError> {
        git_ok(&lane, &["sparse-checkout", "init", "--no-cone"])?;
        let gitdir = PathBuf::from(
            String::from_utf8_lossy(&lane.output(&["rev-parse", "--absolute-git-dir"])?.stdout)
                .trim(),
        );
        let file = gitdir.join("info/sparse-checkout");
        std::fs::create_dir_all(gitdir.join("info"))
            .and_then(|()| {
                std::fs::write(
                    &file,
                    format!(
                        "/*\n!kitty-specs/{slug}/status.events.jsonl\n!kitty-specs/{slug}/status.json\n"
                    ),
                )
            })
            .map_err(|e| MissionError::read(&file, e))?;
        git_ok(&lane, &["read-tree", "-mu", "HEAD"])?;
        merge_inputs(&lane, lanes, &lane_id(ws, slug))?;
        git_ok(
            repo,
            &["worktree", "move", &path, &ws.path.to_string_lossy()],
        )
    };
    if let Err(e) = sparse() {
        repo.worktree_remove(&partial);
        repo.delete_branch(&ws.branch);
        return Err(e);
    }
    if let Some(dir) = partial.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(Fresh {
        base_branch: coord.to_string(),
        base_commit,
        created_at: crate::pyfmt::isoformat(now),
        vcs_locked: false,
    })
}

/// Merge into the lane what it must hold and does not yet: the recorded planning commit, then
/// each dependency lane's tip (a conflict is aborted and reported).
pub fn merge_inputs(lane: &Repo, lanes: &LanesFile, id: &str) -> Result<(), ExecError> {
    let mut inputs = Vec::new();
    if let Some(sha) = &lanes.planning_commit {
        // The lane starts from the coordination branch, whose planning artifacts are newer than
        // the planning commit's (a claim's frontmatter).
        inputs.push((
            sha.clone(),
            format!("Merge recorded planning-artifact commit into {id} (FR-009)"),
            Some(Keep::Ours),
        ));
    }
    for (branch, dep) in lanes.dependencies(id) {
        inputs.push((
            branch,
            format!("Merge dependency lane {dep} into {id}"),
            None,
        ));
    }
    for (rev, message, keep) in inputs {
        if lane.is_ancestor(&rev, "HEAD")? {
            continue;
        }
        merge_into_lane(lane, &["merge", "--no-edit", "-m", &message, &rev], keep)?;
    }
    Ok(())
}

/// Which side of a merge into a lane holds the coordination branch's planning artifacts.
#[derive(Clone, Copy)]
enum Keep {
    /// The lane (a merge of the planning commit).
    Ours,
    /// The branch merged (the coordination branch).
    Theirs,
}

/// Run `merge` (git's arguments) in the lane. Where it conflicts only on planning artifacts
/// (`kitty-specs/`) and `keep` names the side that holds the coordination branch's, that side's
/// versions are taken and the merge committed: a work package file the planning commit and the
/// coordination branch both added (map-requirements' commit, then a claim's frontmatter) is the
/// coordination branch's. Any other failure is aborted and reported. A merge a killed run left
/// in the lane (its `MERGE_HEAD`) is aborted first.
fn merge_into_lane(lane: &Repo, merge: &[&str], keep: Option<Keep>) -> Result<(), ExecError> {
    if lane
        .output(&["rev-parse", "-q", "--verify", "MERGE_HEAD"])?
        .status
        .success()
    {
        git_ok(lane, &["merge", "--abort"])?;
    }
    let out = lane.output(merge)?;
    if out.status.success() {
        return Ok(());
    }
    let conflicted = lane.output(&["diff", "--name-only", "-z", "--diff-filter=U"])?;
    let paths: Vec<String> = String::from_utf8_lossy(&conflicted.stdout)
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let planning_only = !paths.is_empty() && paths.iter().all(|p| p.starts_with("kitty-specs/"));
    if let Some(keep) = keep.filter(|_| planning_only) {
        let side = match keep {
            Keep::Ours => "--ours",
            Keep::Theirs => "--theirs",
        };
        let mut checkout = vec!["checkout", side, "--"];
        checkout.extend(paths.iter().map(String::as_str));
        let mut add = vec!["add", "--"];
        add.extend(paths.iter().map(String::as_str));
        let resolved = git_ok(lane, &checkout)
            .and_then(|()| git_ok(lane, &add))
            .and_then(|()| {
                git_ok(
                    lane,
                    &["commit", "--no-edit", "--no-verify", "--cleanup=strip"],
                )
            });
        if resolved.is_ok() {
            return Ok(());
        }
    }
    let _ = lane.output(&["merge", "--abort"]);
    Err(failed(lane, merge, &out))
}

/// The package's `base_*` fields and meta.json's VCS lock written in the primary checkout.
pub fn record_base(
    fd: &Path,
    file: &WpFile,
    snap: &Snapshot,
    fresh: &mut Fresh,
    wp: &str,
    now: DateTime<Utc>,
) -> Result<(), ExecError> {
    let mut meta = file.meta.clone();
    let s = |v: &str| serde_yaml_ng::Value::String(v.to_string());
    meta.insert(s("base_branch"), s(&fresh.base_branch));
    meta.insert(s("base_commit"), s(&fresh.base_commit));
    meta.insert(s("created_at"), s(&fresh.created_at));
    let state = snap.work_packages.get(wp);
    let runtime: Vec<(&str, Option<serde_yaml_ng::Value>)> = RUNTIME
        .iter()
        .map(|k| {
            let v = state
                .and_then(|s| s.slot(k))
                .and_then(|v| serde_yaml_ng::to_value(v).ok());
            (*k, v)
        })
        .collect();
    let text = render(&meta, &file.body, &runtime);
    super::acceptance_verdict::write_atomically(&file.path, &text)?;
    let meta_path = fd.join("meta.json");
    let mut mission: Map<String, Value> = std::fs::read_to_string(&meta_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    if !mission.contains_key("vcs") {
        mission.insert("vcs".into(), "git".into());
        mission.insert("vcs_locked_at".into(), crate::pyfmt::isoformat(now).into());
        crate::mission::accept::record::write_meta(&meta_path, &mission)?;
        fresh.vcs_locked = true;
    }
    Ok(())
}

/// Commit the package's `base_*` fields and meta.json's VCS lock on the primary's branch as
/// `chore: WPxx claimed for implementation` (the reference leaves both uncommitted on a
/// coordinated mission).
pub fn commit_claim(
    env: &Env,
    repo: &Repo,
    fd: &Path,
    wp_path: &Path,
    wp: &str,
) -> Result<(), ExecError> {
    let top = repo.top();
    let files = [
        super::transition::rel(top, wp_path),
        super::transition::rel(top, &fd.join("meta.json")),
    ];
    let branch = repo.head_branch()?.unwrap_or_default();
    match commit_on(
        env,
        repo,
        &branch,
        &files,
        &format!("chore: {wp} claimed for implementation"),
    )? {
        Committed::Commit(_) | Committed::Unchanged => Ok(()),
    }
}

/// The workspace context implement leaves for the lane (`.kittify/workspaces/<slug>-<lane>.json`).
#[derive(Serialize)]
struct Context<'a> {
    wp_id: &'a str,
    mission_slug: &'a str,
    worktree_path: String,
    branch_name: &'a str,
    base_branch: &'a str,
    base_commit: &'a str,
    dependencies: Vec<String>,
    created_at: &'a str,
    created_by: &'static str,
    vcs_backend: &'static str,
    lane_id: &'a str,
    lane_wp_ids: Vec<String>,
    current_wp: &'a str,
    lane_test_env: Map<String, Value>,
}

/// The lane's test database name: `test_` and the slug and lane with each run of non-word
/// characters as `_`.
pub fn test_db_name(slug: &str, lane_id: &str) -> String {
    let mut out = String::from("test_");
    let mut gap = false;
    for c in format!("{slug}_{lane_id}").chars() {
        if c.is_alphanumeric() || c == '_' {
            out.push(c);
            gap = false;
        } else if !gap {
            out.push('_');
            gap = true;
        }
    }
    out
}

/// Write the lane's workspace context.
#[allow(clippy::too_many_arguments)]
pub fn write_context(
    root: &Path,
    ws: &Workspace,
    slug: &str,
    lane_id: &str,
    wp: &str,
    dependencies: Vec<String>,
    members: Vec<String>,
    fresh: &Fresh,
) -> Result<(), ExecError> {
    let mut env = Map::new();
    env.insert(
        "SPEC_KITTY_TEST_DB_NAME".into(),
        test_db_name(slug, lane_id).into(),
    );
    let ctx = Context {
        wp_id: wp,
        mission_slug: slug,
        worktree_path: super::transition::rel(root, &ws.path),
        branch_name: &ws.branch,
        base_branch: &fresh.base_branch,
        base_commit: &fresh.base_commit,
        dependencies,
        created_at: &fresh.created_at,
        created_by: "implement-command-lane",
        vcs_backend: "git",
        lane_id,
        lane_wp_ids: members,
        current_wp: wp,
        lane_test_env: env,
    };
    let path = crate::paths::workspace_context(root, slug, lane_id);
    let text = crate::pyfmt::to_python_json_pretty(&ctx).unwrap_or_default() + "\n";
    std::fs::create_dir_all(path.parent().unwrap_or(root))
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| MissionError::read(&path, e).into())
}

/// Bring the lane up to date with the coordination branch (`Merge branch '<coord>' into <lane>`)
/// and reapply its sparse patterns; a merge that fails is aborted and reported.
pub fn sync_lane(lane: &Repo, coord: &str) -> Result<(), ExecError> {
    // Where git has no identity configured, the reference's lane sync sets one in the
    // repository's config (`spec-kitty auto-rebase`), which later verdicts then record.
    for (key, default) in [
        ("user.email", "auto-rebase@spec-kitty"),
        ("user.name", "spec-kitty auto-rebase"),
    ] {
        let set = lane.output(&["config", "--get", key])?;
        // Unset (or set empty): git prints nothing.
        if String::from_utf8_lossy(&set.stdout).trim().is_empty() {
            git_ok(lane, &["config", key, default])?;
        }
    }
    merge_into_lane(
        lane,
        &["merge", "--no-edit", "--no-ff", coord],
        Some(Keep::Theirs),
    )?;
    let _ = lane.output(&["sparse-checkout", "reapply"]);
    Ok(())
}

/// The baseline artifact: the reference's record of a run that produced no JUnit report.
#[derive(Serialize)]
struct Baseline<'a> {
    wp_id: &'a str,
    captured_at: String,
    base_branch: &'a str,
    base_commit: String,
    test_runner: &'static str,
    total: i64,
    passed: i64,
    failed: i64,
    skipped: i64,
    failures: Vec<Failure>,
    source_identity: &'static str,
}

/// One failure of the baseline.
#[derive(Serialize)]
struct Failure {
    test: &'static str,
    error: &'static str,
    file: &'static str,
}

/// The package's baseline (`tasks/<stem>/baseline-tests.json`): read when present, else written
/// and committed on `branch` as `chore: Capture baseline tests for WPxx`; its failure count.
pub fn baseline(
    env: &Env,
    repo: &Repo,
    fd: &Path,
    stem: &str,
    wp: &str,
    branch: &str,
    now: DateTime<Utc>,
) -> Result<i64, ExecError> {
    let path = fd.join("tasks").join(stem).join("baseline-tests.json");
    if let Some(v) = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    {
        return Ok(v["failed"].as_i64().unwrap_or(0));
    }
    let b = Baseline {
        wp_id: wp,
        captured_at: crate::pyfmt::seconds_z(now),
        base_branch: branch,
        base_commit: repo.head_commit()?.unwrap_or_default(),
        test_runner: "pytest",
        total: 1,
        passed: 0,
        failed: 1,
        skipped: 0,
        failures: vec![Failure {
            test: "<gate-coverage-junit>",
            error: "no JUnit XML artifact produced by the scoped run",
            file: "unknown",
        }],
        source_identity: "GateCoverageScopeSource/junit_xml",
    };
    let text = crate::pyfmt::to_python_json_pretty(&b).unwrap_or_default();
    std::fs::create_dir_all(path.parent().unwrap_or(fd))
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| MissionError::read(&path, e))?;
    let rel = super::transition::rel(repo.top(), &path);
    commit_on(
        env,
        repo,
        branch,
        &[rel],
        &format!("chore: Capture baseline tests for {wp}"),
    )?;
    Ok(b.failed)
}

#[cfg(test)]
#[path = "implement_lane_tests.rs"]
mod tests;

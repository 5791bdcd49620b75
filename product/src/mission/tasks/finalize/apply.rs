//! finalize-tasks' writes, in the reference's order and with its commits (branch-flat
//! topologies: every commit on the planning branch), under the repository's mission lock, all or
//! nothing: a failure anywhere puts the branch, the index and every file back as they were.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::acceptance;
use super::events;
use super::plan::Plan;
use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::lanes::manifest::{self, LanesFile};
use crate::mission::planning::commit::{Committed, commit_on};
use crate::mission::planning::write_atomic;
use crate::mission::status::event::Transition;
use crate::mission::status::{Lane, append, log, materialize};
use crate::mission::tasks::TasksError;

/// What the writes did, for the document.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The `Add tasks` commit.
    pub commit: Option<String>,
    /// Every candidate (when a commit was made).
    pub files_committed: Vec<String>,
    /// `planning_commit`.
    pub planning_commit: Value,
}

/// The planning commit decision, before anything is written.
pub fn planning_commit(
    repo: &Repo,
    plan: &Plan,
    refresh: bool,
) -> Result<(Option<String>, Value), TasksError> {
    let recorded =
        manifest::recorded_sha(&plan.fd).map_err(|message| TasksError::Refresh { message })?;
    let any_canceled = plan
        .snapshot
        .work_packages
        .values()
        .any(|w| w.lane == Lane::Canceled);
    let tip = || repo.rev_parse(&format!("refs/heads/{}", plan.planning_branch));
    match recorded {
        Some(sha) if plan.begun || any_canceled => {
            let tip = tip()?;
            if refresh {
                let Some(tip) = tip else {
                    return Err(TasksError::Refresh {
                        message: format!(
                            "cannot refresh planning_commit_sha: the branch '{}' does not resolve; check it out or create it",
                            plan.planning_branch
                        ),
                    });
                };
                if let Some(old) = &sha
                    && !repo.is_ancestor(old, &tip)?
                {
                    return Err(TasksError::Refresh {
                        message: format!(
                            "cannot refresh planning_commit_sha of '{}': the recorded {old} is not an ancestor of the '{}' tip {tip}; merge or rebase so it is, or keep the recorded one (drop --refresh-planning-commit)",
                            plan.slug, plan.planning_branch
                        ),
                    });
                }
                Ok((
                    Some(tip.clone()),
                    json!({"sha": tip, "action": "refreshed", "previous_sha": sha, "branch_tip": tip}),
                ))
            } else {
                Ok((
                    sha.clone(),
                    json!({"sha": sha, "action": "preserved", "previous_sha": sha, "branch_tip": tip}),
                ))
            }
        }
        None if plan.begun => Err(TasksError::RefuseRefinalize {
            slug: plan.slug.clone(),
        }),
        // Not begun: the tip is read after the seeding commits (see `apply`).
        _ => Ok((None, Value::Null)),
    }
}

/// The files finalize may write, with their bytes before (`None`: absent).
struct Undo {
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    branch: String,
    head: String,
    rel: Vec<String>,
}

impl Undo {
    fn restore(&self, repo: &Repo) {
        let rel: Vec<&str> = self.rel.iter().map(String::as_str).collect();
        if let Err(e) = repo.rewind(&self.branch, &self.head, &rel) {
            tracing::warn!("undoing finalize's commits failed: {e}");
        }
        for (path, bytes) in &self.files {
            let done = match bytes {
                Some(b) => write_atomic(path, b).map_err(|e| e.to_string()),
                None => match std::fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                    _ => Ok(()),
                },
            };
            if let Err(e) = done {
                tracing::warn!(path = %path.display(), "restoring a file failed: {e}");
            }
        }
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Write, seed, compute lanes and commit; undo everything on failure.
pub fn apply(
    env: &Env,
    repo: &Repo,
    plan: &Plan,
    refresh: bool,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Applied, TasksError> {
    let root = repo.top().to_path_buf();
    let fd = &plan.fd;
    let mut touched: Vec<PathBuf> = plan
        .wps
        .iter()
        .filter(|w| w.new_text.is_some())
        .map(|w| w.file.path.clone())
        .collect();
    for name in [
        log::FILE,
        materialize::FILE,
        manifest::FILE,
        acceptance::FILE,
    ] {
        touched.push(fd.join(name));
    }
    let head = repo
        .rev_parse(&format!("refs/heads/{}", plan.planning_branch))?
        .unwrap_or_default();
    let undo = Undo {
        files: touched
            .iter()
            .map(|p| (p.clone(), std::fs::read(p).ok()))
            .collect(),
        branch: plan.planning_branch.clone(),
        head,
        rel: touched.iter().map(|p| rel(&root, p)).collect(),
    };
    let (recorded, decided) = planning_commit(repo, plan, refresh)?;
    match write_all(env, repo, plan, recorded, decided, now) {
        Ok(a) => Ok(a),
        Err(e) => {
            undo.restore(repo);
            Err(e)
        }
    }
}

fn write_all(
    env: &Env,
    repo: &Repo,
    plan: &Plan,
    recorded: Option<String>,
    decided: Value,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Applied, TasksError> {
    let root = repo.top().to_path_buf();
    let fd = &plan.fd;
    let branch = plan.planning_branch.as_str();
    // Last listed first: a rename adds a directory entry, and file systems that list the newest
    // entry first (tmpfs) then keep the directory order the reference's lists follow.
    for w in plan.wps.iter().rev() {
        if let Some(text) = &w.new_text {
            write_atomic(&w.file.path, text.as_bytes())?;
        }
    }
    events::record(fd, plan, now)?;
    let status_files = [
        rel(&root, &plan.status_dir.join(log::FILE)),
        rel(&root, &plan.status_dir.join(materialize::FILE)),
    ];
    for wp in &plan.seed {
        let t = Transition {
            event_id: crate::ids::ulid(now()),
            mission_slug: plan.slug.clone(),
            wp_id: wp.clone(),
            from_lane: Lane::Genesis,
            to_lane: Lane::Planned,
            at: crate::pyfmt::isoformat(now()),
            actor: "finalize-tasks".into(),
            force: false,
            execution_mode: "worktree".into(),
            reason: Some("canonical bootstrap".into()),
            reason_source: None,
            review_ref: None,
            evidence: None,
            review_result: None,
            policy_metadata: None,
            mission_id: plan.mission_id.clone(),
        };
        append::append(&plan.status_dir, &t)?;
        materialize::materialize(&plan.status_dir)?;
        commit(
            env,
            repo,
            branch,
            &status_files,
            &format!("chore(spec-kitty): status transition {wp}"),
        )?;
    }
    if !plan.seed.is_empty() {
        materialize::materialize(fd)?;
    }
    let (sha, planning_commit) = if decided.is_null() {
        let tip = repo.rev_parse(&format!("refs/heads/{branch}"))?;
        (
            tip.clone(),
            json!({"sha": tip, "action": "captured", "previous_sha": null, "branch_tip": null}),
        )
    } else {
        (recorded, decided)
    };
    let lanes = plan
        .lanes
        .as_ref()
        .ok_or_else(|| TasksError::LanesAborted {
            reason: "no work package has both an execution_mode and owned_files".into(),
        })?;
    let file = LanesFile::new(
        &plan.slug,
        plan.mission_id.as_deref(),
        branch,
        lanes,
        crate::pyfmt::isoformat(now()),
        sha.as_deref(),
    );
    write_atomic(&fd.join(manifest::FILE), file.render().as_bytes())?;
    let matrix = fd.join(acceptance::FILE);
    if !matrix.exists() {
        write_atomic(
            &matrix,
            acceptance::scaffold(&plan.slug, &plan.functional).as_bytes(),
        )?;
        // The reference carries on when this commit fails; the file then joins the next one.
        if let Err(e) = commit(
            env,
            repo,
            branch,
            &[rel(&root, &matrix)],
            &format!("chore({}): scaffold acceptance-matrix", plan.slug),
        ) {
            tracing::warn!("the acceptance matrix was not committed on its own: {e}");
        }
    }
    let candidates = candidates(repo, plan)?;
    let paths: Vec<&str> = candidates.iter().map(String::as_str).collect();
    if !repo.changed(&paths)? {
        return Ok(Applied {
            commit: None,
            files_committed: Vec::new(),
            planning_commit,
        });
    }
    let made = commit(
        env,
        repo,
        branch,
        &candidates,
        &format!("Add tasks for feature {}", plan.slug),
    )?;
    Ok(Applied {
        commit: made,
        files_committed: candidates,
        planning_commit,
    })
}

fn commit(
    env: &Env,
    repo: &Repo,
    branch: &str,
    files: &[String],
    message: &str,
) -> Result<Option<String>, TasksError> {
    match commit_on(env, repo, branch, files, message) {
        Ok(Committed::Commit(sha)) => Ok(Some(sha)),
        Ok(Committed::Unchanged) => Ok(None),
        Err(crate::mission::planning::PlanningError::Mission(
            crate::mission::MissionError::CommitRefused { detail },
        )) => Err(TasksError::Commit { detail }),
        Err(e) => Err(e.into()),
    }
}

/// The `Add tasks` commit's files, in the reference's order, kept if they exist; meta.json only
/// when its change is the planning branches (or it is new).
fn candidates(repo: &Repo, plan: &Plan) -> Result<Vec<String>, TasksError> {
    let root = repo.top().to_path_buf();
    let fd = &plan.fd;
    let mut out = Vec::new();
    for name in [
        log::FILE,
        materialize::FILE,
        "tasks.md",
        "wps.yaml",
        "meta.json",
        acceptance::FILE,
        "issue-matrix.json",
    ] {
        let p = fd.join(name);
        if !p.is_file() {
            continue;
        }
        let r = rel(&root, &p);
        if name == "meta.json" && !meta_change_is_branches(repo, &r, &p)? {
            continue;
        }
        out.push(r);
    }
    let dossier = fd
        .join(".kittify/dossiers")
        .join(&plan.slug)
        .join("snapshot-latest.json");
    if dossier.is_file() {
        out.push(rel(&root, &dossier));
    }
    let mut tasks: Vec<String> = std::fs::read_dir(&plan.tasks_dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| rel(&root, &e.path()))
                .collect()
        })
        .unwrap_or_default();
    tasks.sort();
    out.extend(tasks);
    let lanes = fd.join(manifest::FILE);
    if lanes.is_file() {
        out.push(rel(&root, &lanes));
    }
    Ok(out)
}

fn meta_change_is_branches(repo: &Repo, rel: &str, path: &Path) -> Result<bool, TasksError> {
    let Some(head) = repo.show_file("HEAD", rel)? else {
        return Ok(true);
    };
    let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).ok();
    let (Some(mut old), Some(mut new)) = (
        parse(&head),
        std::fs::read(path).ok().and_then(|b| parse(&b)),
    ) else {
        return Ok(false);
    };
    for v in [&mut old, &mut new] {
        if let Some(o) = v.as_object_mut() {
            o.remove("target_branch");
            o.remove("merge_target_branch");
        }
    }
    Ok(old == new)
}

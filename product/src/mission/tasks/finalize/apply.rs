//! finalize-tasks' writes, in the reference's order and with its commits (branch-flat
//! topologies: every commit on the planning branch), under the repository's mission lock, all or
//! nothing: a failure anywhere puts the branch, the index and every file back as they were.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::acceptance;
use super::coord::Coord;
use super::events;
use super::plan::Plan;
use super::sync::{Queue, Seeded};
use super::undo::{BranchMark, Journal};
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
    /// The lifecycle lines this run appended to the mission's log.
    pub lifecycle: Vec<Value>,
    /// The transitions it seeded.
    pub seeded: Vec<Seeded>,
    /// Events queued for the service.
    pub queued: usize,
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

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Where the transitions and the acceptance matrix are written and committed: the planning
/// branch in the primary checkout (branch-flat topologies) or the coordination branch in its
/// work tree.
struct Surface {
    repo: Repo,
    branch: String,
    fd: PathBuf,
}

/// Write, seed, compute lanes and commit; undo everything on failure (and after a kill, at the
/// next run: see [`undo`](super::undo)).
pub fn apply(
    env: &Env,
    repo: &Repo,
    plan: &Plan,
    coord: Option<&Coord>,
    refresh: bool,
    queue: Option<&Queue>,
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
    touched.push(repo.git_dir()?.join("index"));
    let mut branches = vec![BranchMark {
        branch: plan.planning_branch.clone(),
        sha: repo
            .rev_parse(&format!("refs/heads/{}", plan.planning_branch))?
            .unwrap_or_default(),
    }];
    if let Some(c) = coord {
        if c.exists {
            for name in [log::FILE, materialize::FILE, acceptance::FILE] {
                touched.push(c.fd.join(name));
            }
            touched.push(Repo::discover(env, &c.worktree)?.git_dir()?.join("index"));
        }
        branches.push(BranchMark {
            branch: c.branch.clone(),
            sha: repo
                .rev_parse(&format!("refs/heads/{}", c.branch))?
                .unwrap_or_default(),
        });
    }
    let (recorded, decided) = planning_commit(repo, plan, refresh)?;
    let mut journal = Journal::capture(&root, &touched);
    journal.branches = branches;
    if let Some(c) = coord.filter(|c| !c.exists) {
        journal.added_worktree = Some(c.worktree.clone());
        journal.added_dir = c
            .worktree
            .parent()
            .filter(|d| !d.exists())
            .map(Path::to_path_buf);
    }
    journal.save(repo)?;
    let done = write_all(env, repo, plan, coord, recorded, decided, now)
        .and_then(|a| enqueue(repo, &mut journal, plan, a, queue, now));
    match done {
        Ok(a) => {
            Journal::discard(repo);
            Ok(a)
        }
        Err(e) => {
            journal.restore(env, repo);
            Err(e)
        }
    }
}

/// Queue the run's events, once its commits exist. The journal names them first, so a run
/// killed before it forgets the journal also takes them back out of the outbox.
fn enqueue(
    repo: &Repo,
    journal: &mut Journal,
    plan: &Plan,
    mut applied: Applied,
    queue: Option<&Queue>,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Applied, TasksError> {
    let Some(q) = queue else {
        return Ok(applied);
    };
    let drafts = super::sync::drafts(
        &plan.slug,
        &applied.lifecycle,
        &applied.seeded,
        &q.producer,
        now(),
    );
    if drafts.is_empty() {
        return Ok(applied);
    }
    journal.outbox = Some(q.outbox.clone());
    journal.queued = drafts.iter().map(|d| d.event_id.clone()).collect();
    journal.save(repo)?;
    let mut outbox = crate::sync::outbox::Outbox::open(&q.outbox)
        .map_err(|e| TasksError::Queue(e.to_string()))?;
    applied.queued = outbox
        .append_all(drafts)
        .map_err(|e| TasksError::Queue(e.to_string()))?
        .len();
    Ok(applied)
}

fn write_all(
    env: &Env,
    repo: &Repo,
    plan: &Plan,
    coord: Option<&Coord>,
    recorded: Option<String>,
    decided: Value,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Applied, TasksError> {
    let fd = &plan.fd;
    let branch = plan.planning_branch.as_str();
    // Last listed first: a rename adds a directory entry, and file systems that list the newest
    // entry first (tmpfs) then keep the directory order the reference's lists follow.
    for w in plan.wps.iter().rev() {
        if let Some(text) = &w.new_text {
            write_atomic(&w.file.path, text.as_bytes())?;
        }
    }
    let lifecycle = events::record(fd, plan, now)?;
    let mut seeded = Vec::new();
    // The status surface; a coordination work tree is added by the first status write.
    let mut surface: Option<Surface> = match coord {
        None => Some(Surface {
            repo: repo.clone(),
            branch: branch.to_string(),
            fd: plan.status_dir.clone(),
        }),
        Some(c) if c.exists => Some(Surface {
            repo: Repo::discover(env, &c.worktree)?,
            branch: c.branch.clone(),
            fd: c.fd.clone(),
        }),
        Some(_) => None,
    };
    let surface_for = |surface: &mut Option<Surface>| -> Result<(), TasksError> {
        if surface.is_none()
            && let Some(c) = coord
        {
            if let Some(dir) = c.worktree.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| crate::mission::MissionError::io(dir, e))?;
            }
            repo.worktree_add(&c.worktree, &c.branch)?;
            *surface = Some(Surface {
                repo: Repo::discover(env, &c.worktree)?,
                branch: c.branch.clone(),
                fd: c.fd.clone(),
            });
        }
        Ok(())
    };
    for wp in &plan.seed {
        surface_for(&mut surface)?;
        let Some(s) = surface.as_ref() else {
            continue;
        };
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
        std::fs::create_dir_all(&s.fd).map_err(|e| crate::mission::MissionError::io(&s.fd, e))?;
        append::append(&s.fd, &t)?;
        seeded.push(Seeded {
            wp: wp.clone(),
            event_id: t.event_id.clone(),
            at: t.at.clone(),
        });
        materialize::materialize(&s.fd)?;
        let top = s.repo.top().to_path_buf();
        commit(
            env,
            &s.repo,
            &s.branch,
            &[
                rel(&top, &s.fd.join(log::FILE)),
                rel(&top, &s.fd.join(materialize::FILE)),
            ],
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
    // Its home: the status surface (the coordination work tree, added if need be).
    let home_dir = coord.map_or(plan.status_dir.clone(), |c| c.fd.clone());
    if !home_dir.join(acceptance::FILE).exists() && !fd.join(acceptance::FILE).exists() {
        surface_for(&mut surface)?;
        if let Some(s) = surface.as_ref() {
            let matrix = s.fd.join(acceptance::FILE);
            std::fs::create_dir_all(&s.fd)
                .map_err(|e| crate::mission::MissionError::io(&s.fd, e))?;
            write_atomic(
                &matrix,
                acceptance::scaffold(&plan.slug, &plan.functional).as_bytes(),
            )?;
            // The reference carries on when this commit fails; the file then joins the next one
            // (branch-flat) or stays uncommitted in the work tree (coordinated).
            if let Err(e) = commit(
                env,
                &s.repo,
                &s.branch,
                &[rel(s.repo.top(), &matrix)],
                &format!("chore({}): scaffold acceptance-matrix", plan.slug),
            ) {
                tracing::warn!("the acceptance matrix was not committed on its own: {e}");
            }
        }
    }
    let candidates = candidates(repo, plan)?;
    let paths: Vec<&str> = candidates.iter().map(String::as_str).collect();
    if !repo.changed(&paths)? {
        return Ok(Applied {
            commit: None,
            files_committed: Vec::new(),
            planning_commit,
            lifecycle,
            seeded,
            queued: 0,
        });
    }
    // Coordinated: the status files are the coordination branch's; their primary copies are
    // listed but not committed (the reference leaves them as they are).
    let to_commit: Vec<String> = if coord.is_some() {
        candidates
            .iter()
            .filter(|c| !is_status_partition(c))
            .cloned()
            .collect()
    } else {
        candidates.clone()
    };
    let made = commit(
        env,
        repo,
        branch,
        &to_commit,
        &format!("Add tasks for feature {}", plan.slug),
    )?;
    Ok(Applied {
        commit: made,
        files_committed: candidates,
        planning_commit,
        lifecycle,
        seeded,
        queued: 0,
    })
}

/// The status partition: the files a coordinated mission keeps on its coordination branch.
fn is_status_partition(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == log::FILE
        || name == materialize::FILE
        || name == acceptance::FILE
        || name.starts_with("issue-matrix.")
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

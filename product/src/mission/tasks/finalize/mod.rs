//! `agent mission finalize-tasks`: resolve the mission, plan (every parse and gate, no
//! writes), then apply (WP files, lifecycle events, status seeding, lanes.json, the acceptance
//! matrix, the commits) under the repository's mission lock (**interop**: the reference's
//! documents, files and commits for branch-flat topologies).

pub mod acceptance;
pub mod apply;
pub mod coord;
pub mod events;
pub mod plan;
pub mod report;
pub mod resolve;
pub mod sync;
pub mod undo;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::handle::{Index, read_dir};
use crate::mission::planning::{PlanningError, commit, project};
use crate::mission::tasks::TasksError;

/// The command line.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--validate-only`.
    pub validate_only: bool,
    /// `--refresh-planning-commit`.
    pub refresh_planning_commit: bool,
    /// `--json` (the example command of the detection error says it).
    pub json: bool,
    /// Where to queue the run's events when sync is on (`None`: sync is off).
    pub sync: Option<sync::Target>,
}

/// What finalize-tasks gave.
#[derive(Debug)]
pub enum Outcome {
    /// The document, its human text and the number of events queued.
    Done(Map<String, Value>, String, usize),
    /// Input only the reference handles.
    NeedsReference(String),
}

/// Run finalize-tasks from `cwd`.
pub fn finalize(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Outcome, TasksError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = project.root.clone();
    let specs = project.specs();
    let index = Index::load(&specs);
    let entry = resolve::resolve(&index, &specs, req.mission.as_deref(), req.json)?;
    if entry.dir.join("wps.yaml").exists() {
        return Ok(Outcome::NeedsReference(
            "a mission planned with wps.yaml".into(),
        ));
    }
    let topology = entry
        .meta
        .get("topology")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let coordinated = matches!(topology, "coord" | "lanes_with_coord");
    let status_dir = read_dir(&root, entry);
    let inputs = plan::Inputs {
        root: &root,
        slug: &entry.slug,
        fd: &entry.dir,
        status_dir: &status_dir,
        meta: &entry.meta,
    };
    if req.validate_only {
        let plan = plan::plan(&inputs)?;
        let human = report::human_validate(&plan);
        return Ok(Outcome::Done(report::validate_only(&plan), human, 0));
    }
    // One mission writer at a time: the plan is read under the lock it is applied under.
    let repo = Repo::discover(env, &root)?;
    let _lock = commit::lock(&repo)?;
    // A run killed part-way left its journal: put the repository back first.
    undo::recover(env, &repo)?;
    let coord = if coordinated {
        match coord::locate(&repo, &root, &entry.slug, &entry.meta)? {
            Ok(c) => Some(c),
            Err(why) => return Ok(Outcome::NeedsReference(why)),
        }
    } else {
        None
    };
    let plan = plan::plan(&inputs)?;
    let head = repo.head_branch()?.ok_or(PlanningError::DetachedHead)?;
    if head != plan.planning_branch {
        return Err(PlanningError::HeadMismatch {
            worktree: root.clone(),
            head,
            expected: plan.planning_branch.clone(),
        }
        .into());
    }
    if commit::protected(env, &repo, &plan.planning_branch)? {
        return Err(PlanningError::WrongSurface {
            placement_ref: plan.planning_branch.clone(),
            message: format!(
                "'{}' is protected, so finalize-tasks commits nothing on it: plan the mission on a feature branch, or set SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS=1 to commit here anyway",
                plan.planning_branch
            ),
        }
        .into());
    }
    let queue = match &req.sync {
        Some(target) => queue(&repo, target)?,
        None => None,
    };
    let applied = apply::apply(
        env,
        &repo,
        &plan,
        coord.as_ref(),
        req.refresh_planning_commit,
        queue.as_ref(),
        now,
    )?;
    let human = report::human(&plan, &applied);
    Ok(Outcome::Done(
        report::success(&plan, &applied),
        human,
        applied.queued,
    ))
}

/// The run's queue, when the project consented to sync (as for a create: without consent
/// nothing is queued, since nothing may be sent).
fn queue(repo: &Repo, target: &sync::Target) -> Result<Option<sync::Queue>, TasksError> {
    let config = crate::mission::project_config::ProjectConfig::load(repo.top())
        .map_err(PlanningError::from)?;
    let Some(uuid) = config.uuid() else {
        return Ok(None);
    };
    if !crate::mission::create::project_consents(&target.root, uuid) {
        return Ok(None);
    }
    let node_id = config
        .node_id()
        .map_or_else(|| target.node_fallback.clone(), str::to_string);
    let producer = crate::sync::envelope::Producer {
        project_uuid: uuid.to_string(),
        project_slug: config.slug().map(str::to_string),
        build_id: config
            .build_id()
            .map_or_else(|| crate::ids::build_id(uuid, &node_id), str::to_string),
        node_id,
        git_branch: repo.head_branch().map_err(PlanningError::from)?,
        head_commit_sha: repo.head_commit().map_err(PlanningError::from)?,
        repo_slug: repo
            .origin_url()
            .as_deref()
            .and_then(crate::sync::envelope::repo_slug),
    };
    Ok(Some(sync::Queue {
        outbox: target.root.outbox_db(),
        producer,
    }))
}

//! The apply step of a create: carry out a [`CreatePlan`] (switch, lock, stage the event, write
//! the scaffold, branch, commit) and, on any failure, undo every one of those changes.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::plan::{CreatePlan, StartSwitch};
use super::{CoordinationBranch, Created};
use crate::clock::Clock;
use crate::env::Env;
use crate::mission::MissionError;
use crate::mission::git::{PendingGit, Repo};
use crate::mission::meta::MissionMeta;
use crate::mission::project_config::specs_dir;
use crate::mission::{recover, scaffold};
use crate::paths::RuntimeRoot;
use crate::pyfmt::{isoformat, isoformat_z};
use crate::sync::envelope::MissionCreated;
use crate::sync::outbox::{Outbox, Staging};

/// How long a create waits for another create in the same repository.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// Apply `plan` in `repo`: the only step of a create that writes.
pub fn apply(
    plan: &CreatePlan,
    repo: &Repo,
    env: &Env,
    root: &RuntimeRoot,
    clock: Clock,
) -> Result<Created, MissionError> {
    let switched = SwitchUndo::switch(repo, plan.switch.as_ref())?;
    // One creator at a time per repository (the lock lives in the git dir, not the work tree).
    let git_dir = repo.git_dir()?;
    let lock_path = recover::lock_path(&git_dir);
    let _lock = crate::lock::exclusive_within(&lock_path, LOCK_WAIT)
        .map_err(|e| MissionError::io(&lock_path, e))?
        .ok_or(MissionError::Busy)?;

    let now = clock.now_micros();
    let specs = specs_dir(&plan.top);
    let (mission_id, dir_name) = free_mission_id(&specs, &plan.slug, now);
    let feature_dir = specs.join(&dir_name);
    let created_at = isoformat(now);
    let meta = plan.meta(&mission_id, &dir_name, &created_at);
    let facts = MissionCreated {
        mission_id: &mission_id,
        mission_slug: &dir_name,
        mission_type: &plan.mission_type,
        target_branch: &plan.target_branch,
        friendly_name: &plan.friendly_name,
        purpose_tldr: &plan.purpose_tldr,
        purpose_context: &plan.purpose_context,
        created_at: &created_at,
    };
    let mut producer = plan.producer.clone();
    if plan.switch.is_some() {
        // The switch may have moved HEAD since the plan read it.
        producer.head_commit_sha = repo.head_commit()?;
    }
    let draft = facts.draft(now, &producer);
    // The specify phase opens after the creation, strictly later (as the reference's second clock
    // read): the event-log merge driver orders a log by time, so the two keep their order.
    let started = clock
        .now_micros()
        .max(now + chrono::Duration::microseconds(1));
    let event_log = scaffold::event_line(&scaffold::mission_created_event(
        &draft.event_id,
        &created_at,
        (
            &producer.project_uuid,
            producer.project_slug.as_deref().unwrap_or_default(),
        ),
        &facts.payload(),
    )) + &scaffold::event_line(&scaffold::specify_started_event(
        &crate::ids::ulid(started),
        &isoformat(started),
        &isoformat_z(started),
        &dir_name,
    ));

    let specs_existed = specs.exists();
    let event_id = draft.event_id.clone();
    let staging = Staging {
        git_dir,
        top: plan.top.clone(),
        dir: dir_name.clone(),
    };
    let mut queue = match plan.queue_event {
        true => Some(stage_event(env, root, draft, &staging)?),
        false => {
            recover_only(env, root, &staging)?;
            None
        }
    };
    let mut coordination = None;
    let scaffold = Scaffold {
        meta: &meta,
        dir: &feature_dir,
        event_log,
    };
    match scaffold.write_and_commit(plan, repo, &mut coordination) {
        Ok(commit) => {
            // The commit exists: the event may go. Should this fail, the next create or sync
            // in this repository promotes it (the commit is what recovery looks for).
            if let Some(outbox) = queue.as_mut()
                && let Err(e) = outbox.promote(&event_id)
            {
                tracing::warn!(error = %e, "could not mark the mission's event ready to send");
            }
            switched.keep();
            Ok(Created {
                meta,
                feature_dir,
                current_branch: plan.current_branch.clone(),
                target_branch: plan.target_branch.clone(),
                coordination_branch: coordination,
                commit,
                queued: queue.is_some(),
                event_id,
                now,
            })
        }
        Err(e) => {
            // Leave the repository and the outbox as they were (the start branch is restored
            // when `switched` drops).
            let _ = std::fs::remove_dir_all(&feature_dir);
            if !specs_existed {
                let _ = std::fs::remove_dir(&specs);
            }
            if let Some(CoordinationBranch {
                name,
                created: true,
            }) = &coordination
            {
                repo.delete_branch(name);
            }
            if let Some(outbox) = queue.as_mut() {
                let _ = outbox.remove(std::slice::from_ref(&event_id));
            }
            Err(e)
        }
    }
}

/// Open the outbox, finish what an interrupted create in this repository left, and stage the
/// event: durable now, never sent until the commit exists and promotes it (crash consistency).
fn stage_event(
    env: &Env,
    root: &RuntimeRoot,
    draft: crate::sync::envelope::EnvelopeDraft,
    staging: &Staging,
) -> Result<Outbox, MissionError> {
    let mut outbox = Outbox::open(&root.outbox_db())?;
    recover::recover(env, &mut outbox, Some(&staging.git_dir))?;
    outbox.append_staged(draft, staging)?;
    Ok(outbox)
}

/// Sync off: nothing is queued, but what an interrupted create in this repository left (while
/// sync was on) is still finished first, when an outbox exists. None is created.
fn recover_only(env: &Env, root: &RuntimeRoot, staging: &Staging) -> Result<(), MissionError> {
    if let Some(mut outbox) = Outbox::open_existing(&root.outbox_db())? {
        recover::recover(env, &mut outbox, Some(&staging.git_dir))?;
    }
    Ok(())
}

/// The mission id and directory name: a ULID of `now`, stepped forward while its directory exists.
///
/// The directory name carries the first 8 characters of the ULID: the top 38 bits of its 48-bit
/// time (the first character holds 3), so its time to 1024 ms. Two creates of one slug inside
/// that window would share a directory, so the id's time steps forward a window at a time until
/// the name is free (the caller holds the lock, so nobody takes it meanwhile).
fn free_mission_id(specs: &Path, slug: &str, now: DateTime<Utc>) -> (String, String) {
    (0..)
        .map(|step| {
            let id = crate::ids::ulid(now + chrono::Duration::milliseconds(1024 * step));
            let name = scaffold::dir_name(slug, &id);
            (id, name)
        })
        .find(|(_, name)| !specs.join(name).exists())
        .unwrap_or_default()
}

/// The files of one new mission, before they are written.
struct Scaffold<'a> {
    meta: &'a MissionMeta,
    /// `kitty-specs/<dir>` (absolute).
    dir: &'a Path,
    /// The two first lines of `status.events.jsonl`.
    event_log: String,
}

impl Scaffold<'_> {
    /// Write the files, make the coordination branch (recorded in `coordination` as soon as it
    /// may exist, for the undo), and commit exactly the reference's set.
    fn write_and_commit(
        &self,
        plan: &CreatePlan,
        repo: &Repo,
        coordination: &mut Option<CoordinationBranch>,
    ) -> Result<String, MissionError> {
        let dir_name = &self.meta.mission_slug;
        let created_at = self.meta.created_at.as_deref().unwrap_or_default();
        write_files(
            self.dir,
            &[
                ("meta.json", self.meta.to_json()),
                ("status.events.jsonl", self.event_log.clone()),
                (
                    "tasks/README.md",
                    scaffold::tasks_readme(&plan.target_branch),
                ),
                ("tasks/.gitkeep", String::new()),
                (
                    "spec.md",
                    scaffold::spec_md(&plan.friendly_name, dir_name, created_at),
                ),
            ],
        )?;
        for empty in ["checklists", "research"] {
            let d = self.dir.join(empty);
            std::fs::create_dir_all(&d).map_err(|e| MissionError::io(&d, e))?;
        }
        let mut pending = None;
        if let Some(name) = plan.coordination_branch(dir_name) {
            let work = start_coordination_branch(
                repo,
                &name,
                &plan.target_branch,
                plan.force_recreate_coordination_branch,
            )?;
            let created = matches!(work, BranchWork::Starting(_));
            *coordination = Some(CoordinationBranch { name, created });
            if let BranchWork::Starting(p) = work {
                pending = Some(p);
            }
        }
        let committed = [
            "meta.json",
            "status.events.jsonl",
            "tasks/README.md",
            "tasks/.gitkeep",
        ]
        .map(|f| format!("kitty-specs/{dir_name}/{f}"));
        let paths: Vec<&str> = committed.iter().map(String::as_str).collect();
        // The branch is made while the scaffold is staged; both finish before the commit.
        repo.commit_paths_with(
            &paths,
            &format!("Add scaffold for feature {dir_name}"),
            pending,
        )
    }
}

/// What making the coordination branch takes.
#[derive(Debug)]
enum BranchWork {
    /// Nothing: it exists at or behind the planning head, or there is no planning head.
    Reused,
    /// It is being created (or reset) in the background: finish it before the commit.
    Starting(PendingGit),
}

/// Make the coordination branch at the planning head: reuse it when it is at or behind it, reset
/// it with `force`, refuse it when it has diverged.
fn start_coordination_branch(
    repo: &Repo,
    name: &str,
    target: &str,
    force: bool,
) -> Result<BranchWork, MissionError> {
    let target_ref = format!("refs/heads/{target}");
    if !repo.ref_exists(&target_ref)? {
        return Ok(BranchWork::Reused);
    }
    // The planning head as a commit id: the scaffold commit that follows cannot move it.
    let start = match (repo.branch()?, repo.head_commit()?) {
        (Some(current), Some(sha)) if current == target => sha,
        _ => target_ref.clone(),
    };
    let branch_ref = format!("refs/heads/{name}");
    if repo.ref_exists(&branch_ref)? {
        if force {
            return Ok(BranchWork::Starting(
                repo.start_create_branch(name, &start, true)?,
            ));
        }
        if repo.is_ancestor(&branch_ref, &target_ref)? {
            return Ok(BranchWork::Reused);
        }
        return Err(MissionError::CoordinationBranchDiverged {
            branch: name.to_string(),
            target: target.to_string(),
        });
    }
    Ok(BranchWork::Starting(
        repo.start_create_branch(name, &start, false)?,
    ))
}

fn write_files(dir: &Path, files: &[(&str, String)]) -> Result<(), MissionError> {
    for (name, body) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| MissionError::io(parent, e))?;
        }
        std::fs::write(&path, body).map_err(|e| MissionError::io(&path, e))?;
    }
    Ok(())
}

/// The checkout as it was before `--start-branch`, put back when dropped unless kept.
struct SwitchUndo<'r> {
    repo: &'r Repo,
    switch: Option<&'r StartSwitch>,
}

impl<'r> SwitchUndo<'r> {
    /// Make the switch (if any); the guard undoes it on drop.
    fn switch(repo: &'r Repo, switch: Option<&'r StartSwitch>) -> Result<Self, MissionError> {
        if let Some(s) = switch {
            repo.switch(&s.branch, s.create)
                .map_err(|detail| MissionError::StartBranchFailed {
                    branch: s.branch.clone(),
                    detail,
                })?;
        }
        Ok(Self { repo, switch })
    }

    /// The create succeeded: stay on the start branch.
    fn keep(mut self) {
        self.switch = None;
    }
}

impl Drop for SwitchUndo<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.switch {
            let _ = self.repo.switch(&s.back_to, false);
            if s.create {
                self.repo.delete_branch(&s.branch);
            }
        }
    }
}

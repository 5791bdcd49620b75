//! `agent mission create`: validate everything first, then write, queue and commit, undoing every
//! change on any failure so the repository, the outbox and the checkout are left as they were.
//!
//! **Interop**: the reference CLI's create contract: the `<slug>-<mid8>` directory, the committed
//! set (`meta.json`, `status.events.jsonl`, `tasks/README.md`, `tasks/.gitkeep`; `spec.md` left
//! untracked), the commit message, the hooks, the coordination branch and the protected-branch
//! policy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::MissionError;
use super::config::{DEFAULT_MISSION_TYPE, ProjectConfig, config_path, specs_dir};
use super::meta::{MissionMeta, Topology, meta_json};
use super::protection::ProtectionPolicy;
use super::repo::Repo;
use super::scaffold;
use super::slug;
use crate::clock::Clock;
use crate::env::Env;
use crate::paths::RuntimeRoot;
use crate::pyfmt::{isoformat as py_isoformat, isoformat_z as py_isoformat_z};
use crate::sync::envelope::{Envelope, MissionCreated, Producer, repo_slug};
use crate::sync::outbox::{Outbox, Staging};

const LOCK_WAIT: Duration = Duration::from_secs(60);

/// `--branch-strategy` value that confirms a PR-bound mission on its merge target.
pub const ALREADY_CONFIRMED: &str = "already-confirmed";

/// What to create: every option of the reference's `agent mission create`.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Kebab-case slug.
    pub slug: String,
    /// `--mission-type`.
    pub mission_type: Option<String>,
    /// `--mission` (deprecated alias of `--mission-type`).
    pub mission_alias: Option<String>,
    /// `--target-branch`.
    pub target_branch: Option<String>,
    /// `--friendly-name`.
    pub friendly_name: Option<String>,
    /// `--purpose-tldr`.
    pub purpose_tldr: Option<String>,
    /// `--purpose-context`.
    pub purpose_context: Option<String>,
    /// `--pr-bound`.
    pub pr_bound: bool,
    /// `--topology`.
    pub topology: Option<Topology>,
    /// `--branch-strategy`.
    pub branch_strategy: Option<String>,
    /// `--start-branch`.
    pub start_branch: Option<String>,
    /// `--force-recreate-coordination-branch`.
    pub force_recreate_coordination_branch: bool,
    /// `--owned-checkout` (not supported: worktrees are outside this implementation).
    pub owned_checkout: Option<PathBuf>,
    /// `--retain-branches`.
    pub retain_branches: bool,
    /// `--retain-worktrees`.
    pub retain_worktrees: bool,
}

/// A created mission.
#[derive(Debug, Clone)]
pub struct Created {
    /// The full `meta.json` as written.
    pub meta: Map<String, Value>,
    /// The directory name (`<slug>-<mid8>`), the reference's `mission_slug`.
    pub dir_name: String,
    /// `kitty-specs/<dir>` (absolute).
    pub feature_dir: PathBuf,
    /// The branch the command started on, after `--start-branch`.
    pub current_branch: String,
    /// The planning (target) branch.
    pub target_branch: String,
    /// The coordination branch and whether this run created it.
    pub coordination_branch: Option<(String, bool)>,
    /// The scaffold commit.
    pub commit: String,
    /// The queued event.
    pub event: Envelope,
    /// The command's time, for `runtime_vars`.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Created {
    /// A string field of the meta.
    pub fn meta_str(&self, key: &str) -> &str {
        self.meta
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The checkout as it was before `--start-branch`, to put back on failure.
struct StartBranchUndo<'r> {
    repo: &'r Repo,
    original: String,
    created: Option<String>,
    armed: bool,
}

impl Drop for StartBranchUndo<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.repo.switch(&self.original, false);
            if let Some(b) = &self.created {
                self.repo.delete_branch(b);
            }
        }
    }
}

fn resolve_mission_type(req: &CreateRequest) -> Result<Option<String>, MissionError> {
    match (&req.mission_type, &req.mission_alias) {
        (Some(a), Some(b)) if a != b => Err(MissionError::UnknownMissionType {
            requested: format!("{a} (--mission-type) and {b} (--mission)"),
            activated: "one of them; --mission is a deprecated alias of --mission-type".into(),
        }),
        (Some(t), _) | (None, Some(t)) => Ok(Some(t.clone())),
        (None, None) => Ok(None),
    }
}

/// Create a mission in the repository containing `cwd`.
pub fn create(
    env: &Env,
    identity: &crate::identity::MachineIdentity,
    root: &RuntimeRoot,
    cwd: &Path,
    clock: Clock,
    req: &CreateRequest,
) -> Result<Created, MissionError> {
    // 1. Validate everything that needs no git before touching anything.
    if req.owned_checkout.is_some() {
        return Err(MissionError::UnsupportedOption {
            option: "--owned-checkout",
            why: "spec-kitty creates missions in the checkout it runs in (worktree ownership is not implemented); run it from the primary checkout without --owned-checkout",
        });
    }
    slug::validate(&req.slug)?;
    let friendly_name = match &req.friendly_name {
        Some(given) => {
            let n = scaffold::normalize_space(given);
            if n.is_empty() {
                return Err(MissionError::FriendlyNameEmpty);
            }
            n
        }
        None => scaffold::default_friendly_name(&req.slug),
    };
    let requested_type = resolve_mission_type(req)?;
    if let (Some(start), Some(target)) = (&req.start_branch, &req.target_branch)
        && start.trim() != target.trim()
    {
        return Err(MissionError::StartBranchTargetMismatch {
            start: start.clone(),
            target: target.clone(),
        });
    }

    let repo = Repo::discover(env, cwd)?;
    let Some(head) = repo.head_commit()? else {
        return Err(MissionError::NoCommit {
            repo: repo.top().to_path_buf(),
        });
    };
    let config = ProjectConfig::load(repo.top())?;
    let activated = config.mission_types();
    if activated.is_empty() {
        return Err(MissionError::NoMissionTypes {
            path: config_path(repo.top()),
        });
    }
    let mission_type = requested_type.unwrap_or_else(|| DEFAULT_MISSION_TYPE.to_string());
    if !activated.contains(&mission_type) {
        return Err(MissionError::UnknownMissionType {
            requested: mission_type,
            activated: activated.join(", "),
        });
    }
    let (Some(project_uuid), Some(project_slug)) = (config.uuid(), config.slug()) else {
        return Err(MissionError::ConfigInvalid {
            path: config_path(repo.top()),
            detail: "`project.uuid` and `project.slug` are required".into(),
        });
    };
    let policy =
        ProtectionPolicy::resolve(&config, || repo.origin_default_branch().ok().flatten(), env)
            .map_err(|detail| MissionError::ConfigInvalid {
                path: config_path(repo.top()),
                detail,
            })?;
    let original_branch = repo.branch()?.ok_or(MissionError::DetachedHead)?;

    // 2. --start-branch: the only step before the lock that changes the checkout; undone on
    //    any later failure.
    let mut undo = None;
    if let Some(start) = req.start_branch.as_deref().map(str::trim) {
        repo.check_branch_name(start)
            .map_err(|detail| MissionError::StartBranchFailed {
                branch: start.to_string(),
                detail,
            })?;
        if policy.is_protected(start) {
            return Err(MissionError::ProtectedBranch {
                branch: start.to_string(),
            });
        }
        if start != original_branch {
            let exists = repo.ref_exists(&format!("refs/heads/{start}"))?;
            repo.switch(start, !exists)
                .map_err(|detail| MissionError::StartBranchFailed {
                    branch: start.to_string(),
                    detail,
                })?;
            undo = Some(StartBranchUndo {
                repo: &repo,
                original: original_branch.clone(),
                created: (!exists).then(|| start.to_string()),
                armed: true,
            });
        }
    }
    let current_branch = match &undo {
        Some(_) => req
            .start_branch
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_string(),
        None => original_branch.clone(),
    };

    // 3. The branch gates.
    let target_branch = req
        .target_branch
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(&current_branch)
        .to_string();
    let confirmed = req.branch_strategy.as_deref() == Some(ALREADY_CONFIRMED)
        || (req.branch_strategy.is_none() && req.start_branch.is_some());
    if req.pr_bound && current_branch == target_branch && !confirmed {
        return Err(MissionError::BranchStrategyConfirmationRequired {
            current: current_branch,
        });
    }
    if target_branch != current_branch {
        return Err(MissionError::TargetNotCheckedOut {
            target: target_branch,
            current: current_branch,
        });
    }
    if policy.is_protected(&target_branch) {
        return Err(MissionError::ProtectedBranch {
            branch: target_branch,
        });
    }
    let purpose_tldr = match &req.purpose_tldr {
        Some(t) => {
            if t.trim().contains('\n') {
                return Err(MissionError::PurposeInvalid(
                    "purpose_tldr must be a single line".into(),
                ));
            }
            scaffold::normalize_space(t)
        }
        None => friendly_name.clone(),
    };
    let purpose_context = match &req.purpose_context {
        Some(c) => scaffold::normalize_space(c),
        None => scaffold::default_purpose_context(&friendly_name, &target_branch),
    };
    let mut purpose_errors = Vec::new();
    if purpose_tldr.is_empty() {
        purpose_errors.push("purpose_tldr must not be blank");
    }
    if purpose_context.is_empty() {
        purpose_errors.push("purpose_context must not be blank");
    }
    if !purpose_errors.is_empty() {
        return Err(MissionError::PurposeInvalid(purpose_errors.join("; ")));
    }
    let topology = match req.topology {
        Some(t) => t,
        None if req.pr_bound => Topology::Coord,
        None => {
            // The primary branch: origin's default, else the branch we stand on.
            let primary = repo
                .origin_default_branch()?
                .unwrap_or_else(|| current_branch.clone());
            if primary == current_branch {
                Topology::Coord
            } else {
                Topology::SingleBranch
            }
        }
    };

    // 4. One creator at a time per repository (the lock lives in the git dir, not the work tree).
    let git_dir = repo.git_dir()?;
    let lock_path = super::recover::lock_path(&git_dir);
    let _lock = crate::lock::exclusive_within(&lock_path, LOCK_WAIT)
        .map_err(|e| MissionError::io(&lock_path, e))?
        .ok_or(MissionError::Busy)?;

    // 5. Write, queue, branch, commit; undo on failure.
    let now = clock.now_micros();
    let specs = specs_dir(repo.top());
    // The directory name carries the first 8 characters of the ULID: the top 38 bits of its
    // 48-bit time (the first character holds 3), so its time to 1024 ms. Two creates of one
    // slug inside that window would share a directory, so step the id's time forward a window
    // at a time until the name is free (we hold the lock, so nobody takes it meanwhile).
    let (mission_id, dir_name) = (0..)
        .map(|step| {
            let at = now + chrono::Duration::milliseconds(1024 * step);
            let id = crate::ids::ulid(at);
            let name = scaffold::dir_name(&req.slug, &id);
            (id, name)
        })
        .find(|(_, name)| !specs.join(name).exists())
        .unwrap_or_default();
    let feature_dir = specs.join(&dir_name);
    let created_at = py_isoformat(now);
    let mut meta = Map::new();
    let mut put = |k: &str, v: Value| {
        meta.insert(k.to_string(), v);
    };
    put("mission_id", json!(mission_id));
    put("mission_number", Value::Null);
    put("slug", json!(dir_name));
    put("mission_slug", json!(dir_name));
    put("friendly_name", json!(friendly_name));
    put("purpose_tldr", json!(purpose_tldr));
    put("purpose_context", json!(purpose_context));
    put("mission_type", json!(mission_type));
    put("target_branch", json!(target_branch));
    put("created_at", json!(created_at));
    if req.pr_bound {
        put("pr_bound", json!(true));
    }
    if req.retain_branches {
        put("retain_branches", json!(true));
    }
    if req.retain_worktrees {
        put("retain_worktrees", json!(true));
    }
    let coordination_name = format!("kitty/mission-{dir_name}");
    if topology.has_coordination_branch() {
        put("coordination_branch", json!(coordination_name));
    }
    put("topology", json!(topology.as_str()));
    put("flattened", json!(false));
    if mission_type == "documentation" {
        put(
            "documentation_state",
            json!({
                "iteration_mode": "initial",
                "divio_types_selected": [],
                "generators_configured": [],
                "target_audience": "developers",
                "last_audit_date": null,
                "coverage_percentage": 0.0,
            }),
        );
    }
    let facts = MissionCreated {
        mission_id: &mission_id,
        mission_slug: &dir_name,
        mission_type: &mission_type,
        target_branch: &target_branch,
        friendly_name: &friendly_name,
        purpose_tldr: &purpose_tldr,
        purpose_context: &purpose_context,
        created_at: &created_at,
    };
    let payload = facts.payload();
    let node_id = config.node_id().map_or_else(
        || {
            crate::identity::node_id(
                identity.hostname(),
                &crate::identity::user_name(env, identity.uid()),
            )
        },
        str::to_string,
    );
    let producer = Producer {
        project_uuid: project_uuid.to_string(),
        project_slug: Some(project_slug.to_string()),
        build_id: config.build_id().map_or_else(
            || crate::ids::build_id(project_uuid, &node_id),
            str::to_string,
        ),
        node_id,
        git_branch: Some(current_branch.clone()),
        // A --start-branch switch may have moved HEAD since it was first read.
        head_commit_sha: if undo.is_some() {
            repo.head_commit()?
        } else {
            Some(head)
        },
        repo_slug: repo.origin_url().as_deref().and_then(repo_slug),
    };
    let draft = facts.draft(now, &producer);
    let created_line = scaffold::event_line(&scaffold::mission_created_event(
        &draft.event_id,
        &py_isoformat(now),
        (project_uuid, project_slug),
        &payload,
    ));
    let specify_line = scaffold::event_line(&scaffold::specify_started_event(
        &crate::ids::ulid(now),
        &py_isoformat(now),
        &py_isoformat_z(now),
        &dir_name,
    ));

    let specs_existed = specs.exists();
    let mut outbox = Outbox::open(&root.outbox_db())?;
    // Finish what an interrupted create in this repository left, before making anything new.
    super::recover::recover(env, &mut outbox, Some(&git_dir))?;
    // Staged: durable now, never sent until the commit exists (crash consistency).
    let event = outbox.append_staged(
        draft,
        &Staging {
            git_dir: git_dir.clone(),
            top: repo.top().to_path_buf(),
            dir: dir_name.clone(),
        },
    )?;
    let mut coordination = None;
    let written = (|| {
        write_files(
            &feature_dir,
            &[
                ("meta.json", meta_json(&meta)),
                ("status.events.jsonl", created_line + &specify_line),
                ("tasks/README.md", scaffold::tasks_readme(&target_branch)),
                ("tasks/.gitkeep", String::new()),
                (
                    "spec.md",
                    scaffold::spec_md(&friendly_name, &dir_name, &created_at),
                ),
            ],
        )?;
        for empty in ["checklists", "research"] {
            let d = feature_dir.join(empty);
            std::fs::create_dir_all(&d).map_err(|e| MissionError::io(&d, e))?;
        }
        let mut pending = None;
        if topology.has_coordination_branch() {
            let (created, started) = ensure_coordination_branch(
                &repo,
                &coordination_name,
                &target_branch,
                req.force_recreate_coordination_branch,
            )?;
            coordination = Some((coordination_name.clone(), created));
            pending = started;
        }
        let rel = |f: &str| format!("kitty-specs/{dir_name}/{f}");
        let committed = [
            rel("meta.json"),
            rel("status.events.jsonl"),
            rel("tasks/README.md"),
            rel("tasks/.gitkeep"),
        ];
        let paths: Vec<&str> = committed.iter().map(String::as_str).collect();
        // The branch is made while the scaffold is staged; both finish before the commit.
        repo.commit_paths_with(
            &paths,
            &format!("Add scaffold for feature {dir_name}"),
            pending,
        )
    })();
    match written {
        Ok(commit) => {
            // The commit exists: the event may go. Should this fail, the next create or sync
            // in this repository promotes it (the commit is what recovery looks for).
            if let Err(e) = outbox.promote(&event.event_id) {
                tracing::warn!(error = %e, "could not mark the mission's event ready to send");
            }
            if let Some(u) = undo.as_mut() {
                u.armed = false;
            }
            Ok(Created {
                meta,
                dir_name,
                feature_dir,
                current_branch,
                target_branch,
                coordination_branch: coordination,
                commit,
                event,
                now,
            })
        }
        Err(e) => {
            // Leave the repository and the outbox as they were (the start branch is restored
            // when `undo` drops).
            let _ = std::fs::remove_dir_all(&feature_dir);
            if !specs_existed {
                let _ = std::fs::remove_dir(&specs);
            }
            if let Some((name, true)) = &coordination {
                repo.delete_branch(name);
            }
            let _ = outbox.remove(std::slice::from_ref(&event.event_id));
            Err(e)
        }
    }
}

/// Create the coordination branch at `target`, reuse it when it is at or behind `target`, reset
/// it with `force`. Returns whether this call created (or reset) it.
/// Make the coordination branch at the planning head. `Ok((true, Some(pending)))`: it is being
/// created in the background (finish it before the commit); `(false, None)`: it already exists
/// at or behind the planning head, or there is no planning head.
fn ensure_coordination_branch(
    repo: &Repo,
    name: &str,
    target: &str,
    force: bool,
) -> Result<(bool, Option<super::repo::PendingGit>), MissionError> {
    let target_ref = format!("refs/heads/{target}");
    if !repo.ref_exists(&target_ref)? {
        return Ok((false, None));
    }
    // The planning head as a commit id: the scaffold commit that follows cannot move it.
    let start = match (repo.branch()?, repo.head_commit()?) {
        (Some(current), Some(sha)) if current == target => sha,
        _ => target_ref.clone(),
    };
    let branch_ref = format!("refs/heads/{name}");
    if repo.ref_exists(&branch_ref)? {
        if force {
            return Ok((true, Some(repo.start_create_branch(name, &start, true)?)));
        }
        if repo.is_ancestor(&branch_ref, &target_ref)? {
            return Ok((false, None));
        }
        return Err(MissionError::CoordinationBranchDiverged {
            branch: name.to_string(),
            target: target.to_string(),
        });
    }
    Ok((true, Some(repo.start_create_branch(name, &start, false)?)))
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

/// Every mission of the repository containing `cwd` (the reference's and kitty's), by creation
/// time.
pub fn list(env: &Env, cwd: &Path) -> Result<(PathBuf, Vec<(PathBuf, MissionMeta)>), MissionError> {
    let repo = Repo::discover(env, cwd)?;
    let specs = specs_dir(repo.top());
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&specs) {
        for e in entries.flatten() {
            let meta_path = e.path().join("meta.json");
            let Ok(text) = std::fs::read_to_string(&meta_path) else {
                continue;
            };
            match serde_json::from_str::<MissionMeta>(&text) {
                Ok(meta) => out.push((e.path(), meta)),
                Err(err) => {
                    tracing::warn!(path = %meta_path.display(), error = %err, "skipping unreadable mission meta")
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (&a.1.created_at, &a.1.mission_slug).cmp(&(&b.1.created_at, &b.1.mission_slug))
    });
    Ok((repo.top().to_path_buf(), out))
}

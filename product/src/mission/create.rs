//! `agent mission create`: validate everything first, then write, queue and commit, undoing the
//! writes on any failure so the repository is left exactly as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::MissionError;
use super::config::{ProjectConfig, config_path, specs_dir};
use super::repo::Repo;
use super::slug;
use crate::clock::Clock;
use crate::env::{Env, vars};
use crate::paths::RuntimeRoot;
use crate::sync::envelope::{Envelope, EnvelopeDraft};
use crate::sync::outbox::Outbox;

/// Branches that need `SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS`.
pub const PROTECTED_BRANCHES: &[&str] = &["main", "master"];
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// What to create.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// Kebab-case slug.
    pub slug: String,
    /// Mission type (default: the first activated).
    pub mission_type: Option<String>,
    /// Display name (default: from the slug).
    pub friendly_name: Option<String>,
}

/// `meta.json` of a mission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissionMeta {
    /// ULID.
    pub mission_id: String,
    /// Slug.
    pub mission_slug: String,
    /// Type.
    pub mission_type: String,
    /// Display name.
    pub friendly_name: String,
    /// When (ISO 8601 UTC).
    pub created_at: String,
    /// Project uuid.
    pub project_uuid: String,
    /// The version that created it.
    pub spec_kitty_version: String,
}

/// A created mission.
#[derive(Debug, Clone)]
pub struct Created {
    /// Its meta.
    pub meta: MissionMeta,
    /// `kitty-specs/<slug>-<id8>` (absolute).
    pub feature_dir: PathBuf,
    /// Files written, relative to the repository top.
    pub created_files: Vec<String>,
    /// The branch committed on.
    pub branch: String,
    /// The scaffold commit.
    pub commit: String,
    /// The queued event.
    pub event: Envelope,
}

/// Create a mission in the repository containing `cwd`.
pub fn create(
    env: &Env,
    root: &RuntimeRoot,
    cwd: &Path,
    clock: Clock,
    req: &CreateRequest,
) -> Result<Created, MissionError> {
    // 1. Validate everything before touching anything.
    slug::validate(&req.slug)?;
    let repo = Repo::discover(env, cwd)?;
    if !repo.has_commit()? {
        return Err(MissionError::NoCommit {
            repo: repo.top().to_path_buf(),
        });
    }
    let config = ProjectConfig::load(repo.top())?;
    if config.missions.activated.is_empty() {
        return Err(MissionError::NoMissionTypes {
            path: config_path(repo.top()),
        });
    }
    let mission_type = match &req.mission_type {
        Some(t) if config.missions.activated.contains(t) => t.clone(),
        Some(t) => {
            return Err(MissionError::UnknownMissionType {
                requested: t.clone(),
                activated: config.missions.activated.join(", "),
            });
        }
        None => config.missions.activated[0].clone(),
    };
    let branch = repo.branch()?.ok_or(MissionError::DetachedHead)?;
    if PROTECTED_BRANCHES.contains(&branch.as_str())
        && !env.is_truthy(vars::SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS)
    {
        return Err(MissionError::ProtectedBranch { branch });
    }

    // 2. One creator at a time per repository (the lock lives in the git dir, not the work tree).
    let lock_path = repo.git_dir()?.join("spec-kitty-mission.lock");
    let _lock = crate::lock::exclusive_within(&lock_path, LOCK_WAIT)
        .map_err(|e| MissionError::io(&lock_path, e))?
        .ok_or(MissionError::Busy)?;
    let specs = specs_dir(repo.top());
    if let Some(dir) = existing(&specs, &req.slug) {
        return Err(MissionError::MissionExists {
            slug: req.slug.clone(),
            dir,
        });
    }

    // 3. Write, queue, commit; undo on failure.
    let now = clock.now();
    let mission_id = crate::ids::ulid(now);
    let created_at = crate::auth::session::Timestamp(now).to_iso();
    let dir_name = format!("{}-{}", req.slug, &mission_id[..8]);
    let feature_dir = specs.join(&dir_name);
    let meta = MissionMeta {
        mission_id: mission_id.clone(),
        mission_slug: req.slug.clone(),
        mission_type,
        friendly_name: req
            .friendly_name
            .clone()
            .unwrap_or_else(|| slug::friendly(&req.slug)),
        created_at: created_at.clone(),
        project_uuid: config.project.uuid.clone(),
        spec_kitty_version: crate::VERSION.to_string(),
    };
    let draft = EnvelopeDraft::new(
        now,
        "MissionCreated",
        ("Mission", &mission_id),
        (&config.project.uuid, &config.project.slug),
        json!({
            "mission_id": meta.mission_id,
            "mission_slug": meta.mission_slug,
            "mission_type": meta.mission_type,
            "friendly_name": meta.friendly_name,
            "feature_dir": format!("kitty-specs/{dir_name}"),
            "created_at": created_at,
        }),
    );
    let specs_existed = specs.exists();
    let mut outbox = Outbox::open(&root.outbox_db())?;
    let event = outbox.append(draft)?;
    let dir_rel = format!("kitty-specs/{dir_name}");
    let written = write_scaffold(&feature_dir, &meta, &event).and_then(|files| {
        let message = format!("chore(mission): create {} ({})", req.slug, meta.mission_type);
        let commit = repo.commit_paths(&[dir_rel.as_str()], &message)?;
        Ok((files, commit))
    });
    match written {
        Ok((files, commit)) => Ok(Created {
            created_files: files.iter().map(|f| format!("{dir_rel}/{f}")).collect(),
            meta,
            feature_dir,
            branch,
            commit,
            event,
        }),
        Err(e) => {
            // Leave the repository and the outbox as they were.
            let _ = std::fs::remove_dir_all(&feature_dir);
            if !specs_existed {
                let _ = std::fs::remove_dir(&specs);
            }
            let _ = outbox.settle(std::slice::from_ref(&event.event_id), &[]);
            Err(e)
        }
    }
}

fn existing(specs: &Path, slug: &str) -> Option<PathBuf> {
    let prefix = format!("{slug}-");
    std::fs::read_dir(specs).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let rest = name.strip_prefix(&prefix)?;
        (rest.len() == 8 && !rest.contains('-')).then(|| e.path())
    })
}

fn write_scaffold(
    dir: &Path,
    meta: &MissionMeta,
    event: &Envelope,
) -> Result<Vec<&'static str>, MissionError> {
    let tasks = dir.join("tasks");
    std::fs::create_dir_all(&tasks).map_err(|e| MissionError::io(&tasks, e))?;
    let meta_text = serde_json::to_string_pretty(meta).unwrap_or_default() + "\n";
    let event_line = serde_json::to_string(event).unwrap_or_default() + "\n";
    let spec = format!(
        "# {}\n\n- Mission: `{}`\n- Type: {}\n- Created: {}\n\n## Problem\n\n## Goals\n\n## Requirements\n",
        meta.friendly_name, meta.mission_slug, meta.mission_type, meta.created_at
    );
    let files: [(&'static str, String); 4] = [
        ("meta.json", meta_text),
        ("spec.md", spec),
        ("status.events.jsonl", event_line),
        (
            "tasks/README.md",
            "# Tasks\n\nWork packages for this mission go here.\n".into(),
        ),
    ];
    for (name, body) in &files {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| MissionError::io(&path, e))?;
    }
    Ok(files.iter().map(|(n, _)| *n).collect())
}

/// Every mission of the repository containing `cwd`, by creation time.
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

/// `spec-kitty init`: write `.kittify/config.yaml` and `kitty-specs/` in the repository.
pub fn init(
    env: &Env,
    cwd: &Path,
    project_slug: Option<String>,
    mission_types: Vec<String>,
    force: bool,
) -> Result<(PathBuf, ProjectConfig), MissionError> {
    let repo = Repo::discover(env, cwd)?;
    let path = config_path(repo.top());
    if path.exists() && !force {
        return Err(MissionError::AlreadyInitialized { path });
    }
    let slug = match project_slug {
        Some(s) => {
            slug::validate(&s)?;
            s
        }
        None => kebab(
            &repo
                .top()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "project".into()),
        ),
    };
    let types = if mission_types.is_empty() {
        super::config::DEFAULT_MISSION_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        mission_types
    };
    let config = ProjectConfig {
        project: super::config::Project {
            uuid: crate::ids::uuid4(),
            slug,
        },
        missions: super::config::Missions { activated: types },
    };
    let kittify = repo.top().join(".kittify");
    std::fs::create_dir_all(&kittify).map_err(|e| MissionError::io(&kittify, e))?;
    std::fs::write(&path, config.to_yaml()).map_err(|e| MissionError::io(&path, e))?;
    let specs = specs_dir(repo.top());
    std::fs::create_dir_all(&specs).map_err(|e| MissionError::io(&specs, e))?;
    let keep = specs.join(".gitkeep");
    if !keep.exists() {
        std::fs::write(&keep, "").map_err(|e| MissionError::io(&keep, e))?;
    }
    Ok((repo.top().to_path_buf(), config))
}

fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "project".into()
    } else {
        out.chars().take(64).collect()
    }
}

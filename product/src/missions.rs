//! The missions of a project, read-only (public and stable, for plugins): each mission's identity
//! and its work packages with their lanes, read as the CLI reads them (`meta.json`, the WP files'
//! frontmatter, the status event log reduced by the CLI's own reducer, on the coordination
//! branch's worktree when the mission has one).
//!
//! ```
//! // Outside a project there is nothing to list.
//! let dir = std::env::temp_dir();
//! assert!(spec_kitty::missions::list(&dir).is_err());
//! ```

use std::path::{Path, PathBuf};

use crate::mission::planning::handle::{Entry, Index, Resolved, read_dir};
use crate::mission::planning::project;
use crate::mission::status::{log, reduce::reduce};
use crate::mission::tasks::frontmatter::WpFile;

/// Why the missions could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MissionsError {
    /// No project (a `.kittify/` directory) at or above the directory.
    #[error(
        "no spec-kitty project at or above {0}; run this inside a repository set up with `spec-kitty init`"
    )]
    NoProject(PathBuf),
    /// The mission's status log does not read.
    #[error(
        "the status log of mission {slug} does not read: {reason}; run `spec-kitty agent tasks status --mission {slug}` to see the damage"
    )]
    Status {
        /// The mission.
        slug: String,
        /// What is wrong.
        reason: String,
    },
}

/// One mission.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mission {
    /// Its directory name under `kitty-specs/` (what `--mission` takes).
    pub slug: String,
    /// Its ULID (`meta.json`).
    pub mission_id: String,
    /// Its type (`software-dev`, ...), when `meta.json` names one.
    pub mission_type: Option<String>,
    /// Its human name, when `meta.json` has one.
    pub friendly_name: Option<String>,
    /// Its directory in the primary checkout.
    pub dir: PathBuf,
    /// Its work packages (`tasks/WPxx-*.md`), in id order.
    pub work_packages: Vec<WorkPackage>,
}

/// One work package of a mission.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkPackage {
    /// `WP01`, ...
    pub id: String,
    /// Its title (frontmatter `title`).
    pub title: String,
    /// Its lane as the status log gives it (`planned`, `in_progress`, `done`, ...); `None` for a
    /// package the log does not know yet (before `finalize-tasks`).
    pub lane: Option<String>,
    /// The packages it depends on (frontmatter `dependencies`).
    pub dependencies: Vec<String>,
    /// Its file.
    pub file: PathBuf,
}

/// Every mission of the project at or above `dir`, in directory-name order.
pub fn list(dir: &Path) -> Result<Vec<Mission>, MissionsError> {
    let project = project::locate(dir).ok_or_else(|| MissionsError::NoProject(dir.into()))?;
    let index = Index::load(&project.specs());
    index
        .entries
        .iter()
        .map(|e| mission(&project.root, e))
        .collect()
}

/// The mission `handle` names (its directory name, its id or the id's first 8 characters, as
/// `--mission` takes them) in the project at or above `dir`; `None` when none or several match.
pub fn find(dir: &Path, handle: &str) -> Result<Option<Mission>, MissionsError> {
    let project = project::locate(dir).ok_or_else(|| MissionsError::NoProject(dir.into()))?;
    let index = Index::load(&project.specs());
    match index.resolve(handle.trim()) {
        Resolved::One(e) => mission(&project.root, e).map(Some),
        Resolved::NotFound | Resolved::Ambiguous(_) => Ok(None),
    }
}

fn text(meta: &serde_json::Value, key: &str) -> Option<String> {
    meta.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn mission(root: &Path, e: &Entry) -> Result<Mission, MissionsError> {
    let status = log::read(&read_dir(root, e)).map_err(|err| MissionsError::Status {
        slug: e.slug.clone(),
        reason: err.to_string(),
    })?;
    let board = reduce(&status);
    let mut files: Vec<PathBuf> = std::fs::read_dir(e.dir.join("tasks"))
        .map(|d| d.flatten().map(|f| f.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut work_packages = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("WP") && name.ends_with(".md")) {
            continue;
        }
        let Ok(wp) = WpFile::read(&path) else {
            continue;
        };
        let field = |k: &str| wp.meta.get(k).and_then(serde_yaml_ng::Value::as_str);
        let id = field("work_package_id")
            .map(str::to_string)
            .unwrap_or_else(|| {
                name.split(['-', '.'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
        let lane = board
            .work_packages
            .get(&id)
            .map(|s| s.lane.as_str().to_string());
        let dependencies = wp
            .meta
            .get("dependencies")
            .and_then(serde_yaml_ng::Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(serde_yaml_ng::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        work_packages.push(WorkPackage {
            title: field("title").unwrap_or_default().to_string(),
            id,
            lane,
            dependencies,
            file: path,
        });
    }
    work_packages.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Mission {
        slug: e.slug.clone(),
        mission_id: e.mission_id.clone(),
        mission_type: text(&e.meta, "mission_type"),
        friendly_name: text(&e.meta, "friendly_name"),
        dir: e.dir.clone(),
        work_packages,
    })
}

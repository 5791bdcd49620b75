//! `agent mission list`: every mission of a repository, the reference's and kitty's.

use std::path::{Path, PathBuf};

use super::MissionError;
use super::git::Repo;
use super::meta::MissionMeta;
use super::project_config::specs_dir;
use crate::env::Env;

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

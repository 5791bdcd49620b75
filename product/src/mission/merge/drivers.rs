//! The merge drivers switched on for one merge (**interop**: the reference's ephemeral
//! activation — the six drivers' config kept, their patterns added to the repository's shared
//! `info/attributes` for the merge and removed after it, a user's own lines untouched).

use std::path::PathBuf;

use crate::mission::MissionError;
use crate::mission::git::Repo;
use crate::mission::repo_files::{MERGE_DRIVERS, ensure_merge_drivers};

/// Attribute lines added for one merge.
#[derive(Debug)]
pub(super) struct Activation {
    path: PathBuf,
    added: Vec<String>,
}

impl Activation {
    /// Register the drivers and map their patterns in `info/attributes`.
    pub fn start(repo: &Repo) -> Result<Self, MissionError> {
        ensure_merge_drivers(repo)?;
        let common = super::integrate::git_ok(
            repo,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        )?;
        let path = PathBuf::from(common).join("info").join("attributes");
        let existing: Vec<String> = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        let mut added = Vec::new();
        for d in MERGE_DRIVERS {
            for p in d.patterns {
                let line = format!("{p} merge={}", d.config_key());
                if !existing.contains(&line) && !added.contains(&line) {
                    added.push(line);
                }
            }
        }
        if !added.is_empty() {
            let mut all = existing.clone();
            all.extend(added.iter().cloned());
            let text = all.join("\n").trim_end_matches('\n').to_string() + "\n";
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| MissionError::io(dir, e))?;
            }
            std::fs::write(&path, text).map_err(|e| MissionError::io(&path, e))?;
        }
        Ok(Self { path, added })
    }

    /// Remove exactly the lines [`Self::start`] added (the file too when nothing else is left).
    pub fn finish(self) {
        if self.added.is_empty() {
            return;
        }
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return;
        };
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !self.added.iter().any(|a| a == l))
            .collect();
        if kept.iter().all(|l| l.trim().is_empty()) {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::write(&self.path, kept.join("\n") + "\n");
        }
    }
}

//! map-requirements' writes: every target WP file rendered first (a frontmatter the reference's
//! schema refuses fails here, before any write), then written, then committed on the mission's
//! branch; a refused commit puts every file back as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value as Yaml;

use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::commit::{Committed, commit_on};
use crate::mission::planning::{PlanningError, write_atomic};
use crate::mission::status::{log, reduce::reduce};
use crate::mission::tasks::TasksError;
use crate::mission::tasks::frontmatter::{RUNTIME, WpFile, render_with};
use crate::mission::tasks::yaml_out::MapsInLists;

/// One file to write.
#[derive(Debug, Clone)]
pub struct Write {
    /// The file.
    pub path: PathBuf,
    /// Its bytes before.
    pub before: Vec<u8>,
    /// Its new text.
    pub after: String,
}

/// Render each target's file with its new refs (the runtime fields from the status log of
/// `status_dir`). Nothing is written.
pub fn render_all(
    targets: &[(String, PathBuf)],
    new_values: &BTreeMap<String, Vec<String>>,
    status_dir: &Path,
) -> Result<Vec<Write>, TasksError> {
    let snapshot = reduce(&log::read(status_dir)?);
    let mut out = Vec::new();
    for (wp, path) in targets {
        let before =
            std::fs::read(path).map_err(|e| crate::mission::MissionError::read(path, e))?;
        let file = WpFile::read(path)?;
        if file.meta.contains_key("lane") {
            return Err(TasksError::Frontmatter {
                message: format!(
                    "{}: the frontmatter has a `lane:` key, which the work-package writer cannot write (the lane lives in status.events.jsonl): remove the key, then map again",
                    path.display()
                ),
            });
        }
        if file.get_str("title").is_some_and(|t| t.trim().is_empty()) {
            return Err(TasksError::Frontmatter {
                message: format!(
                    "{}: the title is empty: give the work package a title",
                    path.display()
                ),
            });
        }
        let mut meta = file.meta.clone();
        let refs = new_values.get(wp).cloned().unwrap_or_default();
        meta.insert(
            Yaml::String("requirement_refs".into()),
            Yaml::Sequence(refs.into_iter().map(Yaml::String).collect()),
        );
        let state = snapshot.work_packages.get(wp);
        let runtime: Vec<(&str, Option<Yaml>)> = RUNTIME
            .iter()
            .map(|k| {
                (
                    *k,
                    state
                        .and_then(|s| s.slot(k))
                        .and_then(|v| serde_yaml_ng::to_value(v).ok()),
                )
            })
            .collect();
        let body = file.body.clone();
        out.push(Write {
            path: path.clone(),
            before,
            after: render_with(&meta, &body, &runtime, MapsInLists::Omap),
        });
    }
    Ok(out)
}

fn restore(writes: &[Write]) {
    for w in writes {
        let _ = write_atomic(&w.path, &w.before);
    }
}

/// Write `writes`, then, with a `target` branch, commit them there with `message`. Returns the
/// new commit's id (`None`: not committed: nothing changed, or the checkout is not on the
/// target, as the reference leaves it). A commit git or a hook refuses puts every file back.
pub fn write_and_commit(
    env: &Env,
    repo: &Repo,
    writes: &[Write],
    target: Option<&String>,
    message: &str,
) -> Result<Option<String>, TasksError> {
    for (n, w) in writes.iter().enumerate() {
        if let Err(e) = write_atomic(&w.path, w.after.as_bytes()) {
            restore(&writes[..n]);
            return Err(e.into());
        }
    }
    let Some(target) = target else {
        return Ok(None);
    };
    let files: Vec<String> = writes
        .iter()
        .map(|w| {
            w.path
                .strip_prefix(repo.top())
                .unwrap_or(&w.path)
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    match commit_on(env, repo, target, &files, message) {
        Ok(Committed::Commit(sha)) => Ok(Some(sha)),
        Ok(Committed::Unchanged)
        | Err(PlanningError::HeadMismatch { .. } | PlanningError::MissingRef { .. }) => Ok(None),
        Err(e) => {
            restore(writes);
            Err(TasksError::Commit {
                detail: e.to_string(),
            })
        }
    }
}

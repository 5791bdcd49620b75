//! An acceptance recorded: meta.json's acceptance fields, the `Accept` and `Record acceptance
//! commit` commits, the snapshot-authority stamp and the residual sweep (**interop**: the
//! reference's meta keys, history, commit messages and the files each commit holds).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::mission::MissionError;
use crate::mission::execution::ExecError;
use crate::mission::git::Repo;

/// How many acceptances meta.json's history keeps.
const HISTORY: usize = 20;

/// The commits an acceptance made.
#[derive(Debug, Default)]
pub struct Recorded {
    /// HEAD before the `Accept` commit.
    pub parent: Option<String>,
    /// The `Accept` commit.
    pub accept: Option<String>,
    /// Whether it made one.
    pub created: bool,
}

fn read_meta(path: &Path) -> Result<Map<String, Value>, ExecError> {
    let text = std::fs::read_to_string(path).map_err(|e| MissionError::read(path, e))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(MissionError::Git {
            what: format!("read {}", path.display()),
            detail: "meta.json is not a JSON object".into(),
        }
        .into()),
    }
}

/// Write meta.json as the reference does (sorted keys, two-space indent, non-ASCII kept), whole or
/// not at all.
pub fn write_meta(path: &Path, meta: &Map<String, Value>) -> Result<(), ExecError> {
    let text = serde_json::to_string_pretty(meta).unwrap_or_default() + "\n";
    crate::mission::execution::acceptance_verdict::write_atomically(path, &text)
}

/// Record the acceptance in meta.json (`dir`) and commit it twice on the primary's branch.
pub fn accept_commits(
    repo: &Repo,
    dir: &Path,
    slug: &str,
    actor: &str,
    mode: &str,
    now: DateTime<Utc>,
) -> Result<Recorded, ExecError> {
    let path = dir.join("meta.json");
    let rel = super::dirt::rel(repo.top(), &path);
    let parent = repo.head_commit()?;
    let mut meta = read_meta(&path)?;
    let at = crate::pyfmt::isoformat(now);
    meta.insert("accepted_at".into(), json!(at));
    meta.insert("accepted_by".into(), json!(actor));
    meta.insert("acceptance_mode".into(), json!(mode));
    meta.remove("accept_commit");
    meta.remove("accepted_from_commit");
    meta.insert("accepted_from_commit".into(), json!(parent));
    let mut history: Vec<Value> = meta
        .get("acceptance_history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    history.push(json!({
        "accepted_at": at,
        "accepted_by": actor,
        "acceptance_mode": mode,
        "accepted_from_commit": parent,
    }));
    let keep = history.len().saturating_sub(HISTORY);
    meta.insert(
        "acceptance_history".into(),
        Value::Array(history.split_off(keep)),
    );
    write_meta(&path, &meta)?;
    if !repo.changed(&[&rel])? {
        return Ok(Recorded {
            parent,
            accept: None,
            created: false,
        });
    }
    let sha = repo.commit_paths_with(&[&rel], &format!("Accept {slug}"), None)?;
    meta.insert("accept_commit".into(), json!(sha));
    if let Some(Value::Array(h)) = meta.get_mut("acceptance_history")
        && let Some(Value::Object(last)) = h.last_mut()
    {
        last.insert("accept_commit".into(), json!(sha));
    }
    write_meta(&path, &meta)?;
    if repo.changed(&[&rel])? {
        repo.commit_paths_with(
            &[&rel],
            &format!("Record acceptance commit for {slug}"),
            None,
        )?;
    }
    Ok(Recorded {
        parent,
        accept: Some(sha),
        created: true,
    })
}

/// Whether meta.json already declares the log the authority (`status_phase` ≥ 1).
fn snapshot_authority(meta: &Map<String, Value>) -> bool {
    let text = match meta.get("status_phase") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return false,
    };
    text.parse::<i64>().is_ok_and(|n| n >= 1)
}

/// Stamp meta.json `status_phase: "1"` (once).
pub fn stamp(dir: &Path) -> Result<(), ExecError> {
    let path = dir.join("meta.json");
    let mut meta = read_meta(&path)?;
    if snapshot_authority(&meta) {
        return Ok(());
    }
    meta.insert("status_phase".into(), json!("1"));
    write_meta(&path, &meta)
}

/// The tracked files under `kitty-specs/<slug>/` that `repo`'s work tree has changed.
fn modified(repo: &Repo, slug: &str) -> Result<Vec<String>, MissionError> {
    let prefix = format!("kitty-specs/{slug}/");
    Ok(repo
        .status_porcelain()?
        .split('\n')
        .filter(|l| !l.starts_with("??"))
        .filter_map(|l| {
            let raw = l.get(3..)?.trim();
            Some(
                raw.rsplit_once(" -> ")
                    .map_or(raw, |(_, to)| to)
                    .trim_matches('"')
                    .to_string(),
            )
        })
        .filter(|p| p.starts_with(&prefix))
        .collect())
}

/// Commit what acceptance left modified in the mission directory: on the coordination branch
/// (`coord`), then on the primary's branch.
pub fn sweep(primary: &Repo, coord: Option<&Repo>, slug: &str) -> Result<(), ExecError> {
    let message = format!("Finalize acceptance artifacts for {slug}");
    if let Some(c) = coord {
        let files = modified(c, slug)?;
        if !files.is_empty() {
            let paths: Vec<&str> = files.iter().map(String::as_str).collect();
            c.commit_paths_with(&paths, &message, None)?;
        }
    }
    let files = modified(primary, slug)?;
    if !files.is_empty() {
        let paths: Vec<&str> = files.iter().map(String::as_str).collect();
        if primary.changed(&paths)? {
            primary.commit_paths_with(&paths, &message, None)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_written_once_a_phase_of_one_or_more_is_left() {
        let m = |v: Value| match json!({ "status_phase": v }) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        assert!(snapshot_authority(&m(json!("1"))));
        assert!(snapshot_authority(&m(json!(" 2 "))));
        assert!(snapshot_authority(&m(json!(3))));
        assert!(!snapshot_authority(&m(json!("0"))));
        assert!(!snapshot_authority(&m(json!("x"))));
        assert!(!snapshot_authority(&m(Value::Null)));
    }
}

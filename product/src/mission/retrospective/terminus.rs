//! The retrospective a merge (or its abort) leaves behind (**interop**: the reference's
//! post-merge terminus — a record captured by the runtime when none exists, its
//! `RetrospectiveCaptured` line, then whichever of the two files is dirty committed on the
//! mission's target as `chore(<slug>): capture mission retrospective`).
//!
//! Split in two so a caller decides everything before it writes anything: [`prepare`] reads
//! (and says when the reference must run instead), [`Terminus::apply`] writes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::create::{policy_configured, status_surface};
use super::generator::{self, Findings};
use super::inputs::{Unsupported, inputs};
use super::record::{self, Capture, Identity};
use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::status::log;

/// The runtime's capture at the end of a mission.
pub const RUNTIME_POST_COMPLETION: Capture = Capture {
    provenance: "runtime_post_completion",
    actor: ("runtime", "spec-kitty-generator", None),
    record_display: "Spec Kitty Generator",
    command: None,
};

/// A record to capture.
#[derive(Debug)]
struct Pending {
    id: Identity,
    findings: Findings,
    /// False when a legacy record holds the place (the reference then writes nothing but
    /// still appends its line).
    write: bool,
}

/// What the terminus will do for one mission.
#[derive(Debug)]
pub struct Terminus {
    slug: String,
    dir: PathBuf,
    record_path: PathBuf,
    target: String,
    pending: Option<Pending>,
}

fn meta_of(dir: &Path) -> Value {
    std::fs::read_to_string(dir.join("meta.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()))
}

/// Read what the terminus needs for the mission `slug`, whose directory exists (the caller
/// checked); `Err` (why) when its input is the reference's to handle (a configured
/// retrospective policy, files Python reads differently).
pub fn prepare(env: &Env, repo: &Repo, root: &Path, slug: &str) -> Result<Terminus, String> {
    let dir = root.join("kitty-specs").join(slug);
    let record_path = dir.join(record::FILE);
    let meta = meta_of(&dir);
    let primary = || {
        crate::mission::planning::branch::primary_branch(repo, false)
            .unwrap_or_else(|_| "main".into())
    };
    let target = meta
        .get("target_branch")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map_or_else(primary, str::to_string);
    let mut terminus = Terminus {
        slug: slug.into(),
        dir: dir.clone(),
        record_path: record_path.clone(),
        target,
        pending: None,
    };
    if record_path.exists() {
        return Ok(terminus);
    }
    if let Some(why) = policy_configured(env, root) {
        return Err(why);
    }
    let surface = status_surface(repo, root, &dir, slug, &meta)
        .filter(|s| s.is_dir())
        .unwrap_or_else(|| dir.clone());
    let inputs = inputs(&dir, slug, &meta, &surface).map_err(|Unsupported(why)| why)?;
    let id = Identity::from_meta(&meta, slug, primary);
    let legacy = root
        .join(".kittify/missions")
        .join(&id.mission_id)
        .join(record::FILE);
    terminus.pending = Some(Pending {
        findings: generator::findings(&inputs),
        write: id.mission_id.is_empty() || !legacy.exists(),
        id,
    });
    Ok(terminus)
}

impl Terminus {
    /// Capture (if pending), then commit what is dirty; a commit that cannot be made is a
    /// warning (`warn`), as in the reference, never a failure.
    pub fn apply(
        self,
        repo: &Repo,
        root: &Path,
        now: DateTime<Utc>,
        warn: &mut dyn FnMut(&str),
    ) -> Result<(), crate::mission::MissionError> {
        if let Some(p) = &self.pending {
            let policy = record::default_policy_source();
            if p.write {
                let text = super::yaml::dump(&record::record(
                    &p.id,
                    &p.findings,
                    &RUNTIME_POST_COMPLETION,
                    &policy,
                    now,
                ));
                crate::mission::planning::write_atomic(&self.record_path, text.as_bytes())?;
            }
            let line = record::captured_line(
                &p.id,
                &p.findings,
                &RUNTIME_POST_COMPLETION,
                &policy,
                &self.record_path,
                record::next_lamport(&self.dir.join(log::FILE)),
                &crate::ids::ulid(now),
                now,
            );
            crate::mission::status::append::append_lines(&self.dir, &line).map_err(|e| {
                crate::mission::MissionError::io(&self.dir, std::io::Error::other(e.to_string()))
            })?;
        }
        let mut dirty = Vec::new();
        for path in [self.record_path.clone(), self.dir.join(log::FILE)] {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            if path.exists() && repo.changed(&[rel.as_str()]).unwrap_or(false) {
                dirty.push(rel);
            }
        }
        if dirty.is_empty() {
            return Ok(());
        }
        let message = format!("chore({}): capture mission retrospective", self.slug);
        if let Err(why) =
            crate::mission::safe_commit::bookkeeping(repo, &dirty, &self.target, &message, now)
        {
            let root = root.display();
            warn(&format!(
                "retrospective for mission {} was captured but could NOT be committed: {why}. The durable event log has an uncommitted append. Commit it manually: git -C {root} add {} && git -C {root} commit -m '{message}'",
                self.slug,
                dirty.join(" ")
            ));
        }
        Ok(())
    }
}

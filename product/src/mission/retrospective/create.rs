//! `retrospect create --mission M [--overwrite]`: a finished mission's record written, its
//! `RetrospectiveCaptured` line appended and both committed (**interop**: the reference's
//! checks in its order, its blocked documents, its auto-commit).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::generator;
use super::inputs::{Unsupported, inputs};
use super::record::{self, EXPLICIT_CREATE, Identity};
use crate::env::{Env, vars};
use crate::mission::execution::ExecError;
use crate::mission::git::Repo;
use crate::mission::planning::PlanningError;
use crate::mission::planning::handle::{Index, Resolved};
use crate::mission::planning::{branch, project};
use crate::mission::project_config::ProjectConfig;
use crate::mission::status::{Lane, log, reduce};

/// What was asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// The mission handle.
    pub mission: String,
    /// Replace an existing record.
    pub overwrite: bool,
    /// Merge with an existing record (left to the reference).
    pub update: bool,
}

/// How it ended.
#[derive(Debug)]
pub enum Outcome {
    /// The record was written: the success document and its human lines.
    Created(Value, Vec<String>),
    /// A refusal: the document (with its `exit_code`) and the sentence for stderr.
    Blocked(Value, String),
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

fn blocked(code: &str, exit: u8, reason: String, human: String, extra: Value) -> Outcome {
    let mut doc = json!({"result": "blocked", "code": code, "error_code": code});
    if let (Value::Object(d), Value::Object(x)) = (&mut doc, extra) {
        d.extend(x);
    }
    doc["blocked_reason"] = json!(reason);
    doc["exit_code"] = json!(exit);
    Outcome::Blocked(doc, format!("Error {code}: {human}"))
}

/// Why a configured retrospective policy is left to the reference, if one is.
pub(crate) fn policy_configured(env: &Env, root: &Path) -> Option<String> {
    for var in [vars::SPEC_KITTY_RETROSPECTIVE, vars::SPEC_KITTY_MODE] {
        if env.get(var).is_some_and(|v| !v.trim().is_empty()) {
            return Some(format!("{var} overrides the retrospective policy"));
        }
    }
    let charter = root.join(".kittify/charter");
    for name in ["charter.md", "charter.yaml"] {
        let text = std::fs::read(charter.join(name)).unwrap_or_default();
        if String::from_utf8_lossy(&text)
            .to_lowercase()
            .contains("retrospective")
        {
            return Some(format!(
                ".kittify/charter/{name} may set a retrospective policy"
            ));
        }
    }
    match ProjectConfig::load(root) {
        Ok(c) if c.has("retrospective") => {
            Some(".kittify/config.yaml sets a retrospective policy".into())
        }
        Err(crate::mission::MissionError::NotInitialized { .. }) | Ok(_) => None,
        Err(_) => Some(".kittify/config.yaml does not parse".into()),
    }
}

/// Where the mission's status log is read (and committed) from: the coordination worktree's
/// copy when the mission declares a coordination branch, else the primary checkout's; `None`
/// when that branch is gone with its worktree.
pub(super) fn status_surface(
    repo: &Repo,
    root: &Path,
    dir: &Path,
    slug: &str,
    meta: &Value,
) -> Option<PathBuf> {
    let Some(branch) = meta.get("coordination_branch").filter(|b| !b.is_null()) else {
        return Some(dir.to_path_buf());
    };
    let coord = root.join(".worktrees").join(format!("{slug}-coord"));
    let in_coord = coord.join("kitty-specs").join(slug);
    if coord.is_dir() {
        return Some(if in_coord.is_dir() {
            in_coord
        } else {
            dir.to_path_buf()
        });
    }
    let name = branch.as_str()?;
    repo.ref_exists(&format!("refs/heads/{name}"))
        .ok()
        .filter(|e| *e)
        .map(|_| in_coord)
}

/// The work packages not yet done or canceled, in id order (the log at `dir`).
fn open_packages(dir: &Path) -> Vec<(String, Lane)> {
    let Ok(log) = log::read(dir) else {
        return Vec::new();
    };
    reduce::reduce(&log)
        .work_packages
        .into_iter()
        .filter(|(_, s)| !matches!(s.lane, Lane::Done | Lane::Canceled))
        .map(|(wp, s)| (wp, s.lane))
        .collect()
}

/// Run `retrospect create` from `cwd` at `now`.
pub fn create(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    if req.update {
        return Ok(Outcome::NeedsReference(
            "--update merges with the existing record".into(),
        ));
    }
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = project.root.clone();
    let specs = project.specs();
    let handle = req.mission.as_str();
    let index = Index::load(&specs);
    let entry = match index.resolve(handle) {
        Resolved::One(e) => e.clone(),
        Resolved::Ambiguous(_) => {
            return Ok(Outcome::NeedsReference(format!(
                "'{handle}' matches several missions"
            )));
        }
        Resolved::NotFound if specs.join(handle).is_dir() => {
            return Ok(Outcome::NeedsReference(format!(
                "kitty-specs/{handle} has no mission identity"
            )));
        }
        Resolved::NotFound => {
            let reason = format!("No mission found for handle '{handle}'.");
            return Ok(blocked(
                "MISSION_NOT_FOUND",
                1,
                reason.clone(),
                format!(
                    "{reason} Check the mission handle or run `spec-kitty agent mission list`."
                ),
                json!({}),
            ));
        }
    };
    let slug = entry.slug.clone();
    let meta = &entry.meta;
    if meta
        .get("mission_slug")
        .and_then(Value::as_str)
        .is_some_and(|s| s != slug)
    {
        return Ok(Outcome::NeedsReference(
            "meta.json's mission_slug is not its directory's name".into(),
        ));
    }
    let repo = Repo::discover(env, &root)?;
    let Some(surface) = status_surface(&repo, &root, &entry.dir, &slug, meta) else {
        return Ok(Outcome::NeedsReference(
            "the coordination branch is gone".into(),
        ));
    };
    let who = json!({"mission_id": entry.mission_id, "mission_slug": slug});
    let open = open_packages(&surface);
    if !open.is_empty() {
        let list: Vec<String> = open
            .iter()
            .map(|(wp, l)| format!("{wp} ({})", l.as_str()))
            .collect();
        let reason = format!(
            "Mission has WPs in non-terminal lanes: {}. Complete the mission before authoring a retrospective.",
            list.join(", ")
        );
        let mut extra = who;
        extra["open_wps"] = open
            .iter()
            .map(|(wp, l)| json!({"wp_id": wp, "lane": l.as_str()}))
            .collect();
        return Ok(blocked(
            "MISSION_NOT_COMPLETED",
            1,
            reason.clone(),
            reason,
            extra,
        ));
    }
    if let Some(why) = policy_configured(env, &root) {
        return Ok(Outcome::NeedsReference(why));
    }
    let policy = record::default_policy_source();
    let traces_dir = if surface.is_dir() {
        &surface
    } else {
        &entry.dir
    };
    let inputs = match inputs(&entry.dir, &slug, meta, traces_dir) {
        Ok(i) => i,
        Err(Unsupported(why)) => return Ok(Outcome::NeedsReference(why)),
    };
    let findings = generator::findings(&inputs);
    let id = Identity::from_meta(meta, &slug, || {
        branch::primary_branch(&repo, false).unwrap_or_else(|_| "main".into())
    });
    let record_path = root.join("kitty-specs").join(&slug).join(record::FILE);
    let legacy = root
        .join(".kittify/missions")
        .join(&id.mission_id)
        .join(record::FILE);
    let prior = if record_path.exists() {
        Some(&record_path)
    } else {
        Some(&legacy).filter(|p| !id.mission_id.is_empty() && p.exists())
    };
    if let (Some(prior), false) = (prior, req.overwrite) {
        let mut extra = who;
        extra["record_path"] = json!(prior.display().to_string());
        return Ok(blocked(
            "RETROSPECTIVE_RECORD_EXISTS",
            1,
            "A retrospective record already exists for this mission. Pass --overwrite to replace it or --update to merge.".into(),
            format!("A retrospective record already exists at {}. Pass --overwrite to replace it or --update to merge.", prior.display()),
            extra,
        ));
    }
    let text = super::yaml::dump(&record::record(
        &id,
        &findings,
        &EXPLICIT_CREATE,
        &policy,
        now,
    ));
    if let Some(parent) = record_path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| crate::mission::MissionError::io(parent, e))?;
    }
    crate::mission::planning::write_atomic(&record_path, text.as_bytes())?;
    let primary_log = entry.dir.join(log::FILE);
    let line = record::captured_line(
        &id,
        &findings,
        &EXPLICIT_CREATE,
        &policy,
        &record_path,
        record::next_lamport(&primary_log),
        &crate::ids::ulid(now),
        now,
    );
    crate::mission::status::append::append_lines(&entry.dir, &line)?;
    auto_commit(
        &repo,
        &root,
        &[&record_path, &surface.join(log::FILE)],
        &id.mission_slug,
    );
    let counts = json!({
        "helped": findings.helped.len(),
        "not_helpful": findings.not_helpful.len(),
        "gaps": findings.gaps.len(),
        "proposals": 0,
        "evidence_refs": findings.evidence.len(),
    });
    let next_step = format!(
        "Run `spec-kitty agent retrospect synthesize --mission {slug}` to review proposals (dry-run by default; add --apply to mutate)."
    );
    let doc = json!({
        "result": "success",
        "mission_id": entry.mission_id,
        "mission_slug": slug,
        "record_path": record_path.display().to_string(),
        "findings_status": findings.status(),
        "counts": counts,
        "provenance_kind": "explicit_create",
        "policy_source": {"enabled": policy["enabled"], "timing": policy["timing"], "failure_policy": policy["failure_policy"]},
        "next_step": next_step,
    });
    let human = vec![
        "Retrospective authored".to_string(),
        String::new(),
        format!("Mission: {slug}"),
        format!("Record path: {}", record_path.display()),
        format!("Findings status: {}", findings.status()),
        format!(
            "Counts: helped={} not_helpful={} gaps={} proposals=0",
            findings.helped.len(),
            findings.not_helpful.len(),
            findings.gaps.len()
        ),
        String::new(),
        next_step,
    ];
    Ok(Outcome::Created(doc, human))
}

/// The reference's auto-commit: `git add` then `git commit` of `paths` when the project's
/// `auto_commit` is on, any failure ignored (a coordination worktree's log is not addable).
fn auto_commit(repo: &Repo, root: &Path, paths: &[&Path], slug: &str) {
    if !ProjectConfig::load(root).is_ok_and(|c| c.auto_commit()) {
        return;
    }
    let rel: Vec<String> = paths
        .iter()
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect();
    let mut add = vec!["add", "--"];
    add.extend(rel.iter().map(String::as_str));
    if repo.output(&add).is_ok_and(|o| o.status.success()) {
        let message = format!("chore(retrospective): author retrospective for {slug}");
        let _ = repo.output(&["commit", "-m", &message]);
    }
}

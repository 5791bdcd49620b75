//! `agent mission setup-plan`: gate on a committed, substantive spec; scaffold `plan.md` on the
//! first run; commit it on a later run once it has real content (**interop**: the reference's
//! documents, its gates, its phase events and its plan commit).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::branch::Contract;
use super::commit::{Committed, commit_on, lock};
use super::gate::{plan_gap, spec_is_substantive};
use super::handle::{Index, read_dir};
use super::phase_events::{Phase, record_once};
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

const ACTOR: &str = "spec-kitty agent mission setup-plan";

/// kitty's plan scaffold: every field a placeholder, so no gate passes it until it is filled.
pub fn plan_template() -> &'static str {
    "# Implementation Plan\n\n\
     <!-- Scaffold written by spec-kitty. Fill in the Technical Context, then run setup-plan again to commit it. -->\n\n\
     ## Summary\n\n[NEEDS CLARIFICATION: the approach in two or three sentences]\n\n\
     ## Technical Context\n\n\
     **Language/Version**: [NEEDS CLARIFICATION: e.g. Rust 1.95]\n\
     **Primary Dependencies**: [NEEDS CLARIFICATION: libraries and services]\n\
     **Storage**: [NEEDS CLARIFICATION: files, a database, or N/A]\n\
     **Testing**: [NEEDS CLARIFICATION: how it is tested]\n\
     **Target Platform**: [NEEDS CLARIFICATION: where it runs]\n\
     **Performance Goals**: [NEEDS CLARIFICATION: measurable targets, or N/A]\n\
     **Constraints**: [NEEDS CLARIFICATION: limits to respect, or N/A]\n\n\
     ## Structure\n\n[NEEDS CLARIFICATION: the files and modules this mission adds or changes]\n\n\
     ## Risks\n\n[NEEDS CLARIFICATION: what could go wrong, and the fallback]\n"
}

/// What setup-plan gave.
#[derive(Debug)]
pub enum Outcome {
    /// The document (success or blocked, both exit 0).
    Document(Map<String, Value>),
    /// A mission type whose plan gate only the reference knows.
    OtherMissionType(String),
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Run setup-plan from `cwd`.
pub fn setup_plan(
    env: &Env,
    cwd: &Path,
    mission: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Outcome, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = project.root.clone();
    let specs = project.specs();
    let index = Index::load(&specs);
    let handle = match mission.map(str::trim).filter(|m| !m.is_empty()) {
        Some(h) => Some(h.to_string()),
        None if index.candidates.len() == 1 => index.candidates.first().cloned(),
        None => None,
    };
    let entry = match &handle {
        Some(h) => index.lenient(&specs, h).or_else(|e| match e {
            PlanningError::MissionAmbiguous { .. } => Ok(None),
            other => Err(other),
        })?,
        None => None,
    };
    let Some(entry) = entry else {
        let first = index.candidates.first().cloned().unwrap_or_default();
        return Err(PlanningError::ContextUnresolved {
            code: "PLAN_CONTEXT_UNRESOLVED",
            mission_flag: mission.map(str::to_string),
            available: index.candidates.clone(),
            example: format!("spec-kitty agent mission setup-plan --mission {first} --json"),
        });
    };
    let slug = entry.slug.clone();
    let feature_dir = read_dir(&root, entry);
    let primary = Repo::discover(env, &root)?;
    let shown = primary
        .head_branch()?
        .filter(|b| !b.is_empty())
        .ok_or(PlanningError::DetachedHead)?;
    let spec_file = entry.dir.join("spec.md");
    let plan_file = entry.dir.join("plan.md");
    let here = Repo::discover(env, cwd)
        .ok()
        .and_then(|r| r.head_branch().ok().flatten())
        .unwrap_or_else(|| shown.clone());
    let meta_target = entry
        .meta
        .get("target_branch")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| here.clone());
    let contract = Contract {
        current: &shown,
        target: &shown,
        matches: here == meta_target,
        now,
        primary: None,
    }
    .keys();
    if !spec_file.is_file() {
        return Err(PlanningError::SpecFileMissing {
            slug,
            feature_dir,
            spec: spec_file,
        });
    }
    let rel = |p: &Path| {
        p.strip_prefix(&root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let spec_rel = rel(&spec_file);
    let spec_committed = primary.committed(&spec_rel)?;
    let spec_text = std::fs::read_to_string(&spec_file)
        .map_err(|e| crate::mission::MissionError::read(&spec_file, e))?;
    let spec_substantive = spec_is_substantive(&spec_text);
    let base = |result: &str, phase_complete: bool| -> Map<String, Value> {
        obj(json!({
            "result": result,
            "phase_complete": phase_complete,
            "mission_slug": slug,
            "plan_file": plan_file,
            "feature_dir": feature_dir,
            "spec_file": spec_file,
        }))
    };
    if !(spec_committed && spec_substantive) {
        let mut doc = base("blocked", false);
        doc.remove("plan_file");
        doc.insert(
            "blocked_reason".into(),
            "spec.md must be committed and have real content before planning: write at least one functional requirement (an FR-### line or table row with a real description), commit spec.md, then run setup-plan again.".into(),
        );
        doc.insert(
            "error_code".into(),
            "SPEC_NOT_SUBSTANTIVE_OR_UNCOMMITTED".into(),
        );
        doc.insert("spec_committed".into(), spec_committed.into());
        doc.insert("spec_substantive".into(), spec_substantive.into());
        doc.insert(
            "spec_commit_surfaces_checked".into(),
            json!([format!(
                "HEAD:{spec_rel} (cwd={}): {}",
                root.display(),
                if spec_committed { "hit" } else { "miss" }
            )]),
        );
        doc.extend(contract);
        return Ok(Outcome::Document(doc));
    }
    let mission_type = entry
        .meta
        .get("mission_type")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PlanningError::MissionTypeMissing {
            meta: entry.dir.join("meta.json"),
        })?
        .to_string();
    match mission_type.as_str() {
        "software-dev" => {}
        "documentation" | "research" | "plan" => {
            return Ok(Outcome::OtherMissionType(mission_type));
        }
        _ => return Err(PlanningError::UnknownMissionType { mission_type }),
    }
    let _lock = lock(&primary)?;
    if !plan_file.exists() {
        super::write_atomic(&plan_file, plan_template().as_bytes())?;
    }
    let spec_done = Phase {
        event_type: "SpecifyCompleted",
        actor: ACTOR,
        artifact: Some(format!("kitty-specs/{slug}/spec.md")),
        summary: true,
    };
    let plan_started = Phase {
        event_type: "PlanStarted",
        actor: ACTOR,
        artifact: None,
        summary: false,
    };
    record_once(&feature_dir, &slug, &[spec_done, plan_started], now)?;
    let plan_text = std::fs::read_to_string(&plan_file)
        .map_err(|e| crate::mission::MissionError::read(&plan_file, e))?;
    let plan_rel = rel(&plan_file);
    let gap = plan_gap(&plan_text);
    let Some(gap) = gap else {
        let committed = commit_on(
            env,
            &primary,
            &meta_target,
            std::slice::from_ref(&plan_rel),
            &format!("Add plan for feature {slug}"),
        )?;
        let later = now + chrono::Duration::microseconds(2);
        let plan_done = Phase {
            event_type: "PlanCompleted",
            actor: ACTOR,
            artifact: Some(format!("kitty-specs/{slug}/plan.md")),
            summary: true,
        };
        record_once(&feature_dir, &slug, &[plan_done], later)?;
        let mut doc = base("success", true);
        doc.insert("plan_substantive".into(), true.into());
        let (created, hash, status) = match committed {
            Committed::Commit(sha) => (true, json!(sha), "committed"),
            Committed::Unchanged => (false, Value::Null, "unchanged"),
        };
        doc.insert("commit_created".into(), created.into());
        doc.insert("commit_hash".into(), hash);
        doc.insert("commit_status".into(), status.into());
        doc.extend(contract);
        return Ok(Outcome::Document(doc));
    };
    let pristine = plan_text == plan_template() && !primary.committed(&plan_rel)?;
    let mut doc = if pristine {
        let mut d = base("success", false);
        d.insert("plan_substantive".into(), false.into());
        d.insert("scaffold_only".into(), true.into());
        d
    } else {
        let mut d = base("blocked", false);
        d.insert("plan_substantive".into(), false.into());
        d.insert(
            "blocked_reason".into(),
            format!(
                "plan.md has no real content yet: fill its Technical Context (Language/Version and at least one more field, such as Primary Dependencies) with real values, not placeholders, then run setup-plan again to commit it. Detail: {}",
                gap.detail()
            )
            .into(),
        );
        d
    };
    doc.extend(contract);
    Ok(Outcome::Document(doc))
}

//! `agent tasks map-requirements`: record which requirements each work package covers, in its
//! frontmatter, and commit that on the mission's branch (**interop**: the reference's modes,
//! gates, document, WP file bytes and commit).
//!
//! `plan` decides everything without writing; `apply` writes the files and commits them. Every
//! refusal comes before the first write (the reference rewrites the files before its stale gate).

pub mod apply;
pub mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::TasksError;
use super::frontmatter::WpFile;
use super::requirements::{refs_of, spec_ids, tasks_md_refs};
use crate::env::Env;
use crate::mission::git::Repo;
use crate::mission::planning::handle::{Index, read_dir};
use crate::mission::planning::{PlanningError, commit, project};
use crate::mission::status::reduce::is_safe_segment;
use plan::Mode;

/// What the command was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--wp`.
    pub wp: Option<String>,
    /// `--refs`.
    pub refs: Option<String>,
    /// `--batch`.
    pub batch: Option<String>,
    /// `--replace`.
    pub replace: bool,
    /// `--tracker-ref`, each occurrence.
    pub tracker_refs: Vec<String>,
    /// `--mission`.
    pub mission: Option<String>,
    /// `--auto-commit` (true) / `--no-auto-commit` (false); `None`: the project's setting.
    pub auto_commit: Option<bool>,
}

/// What the command gave.
#[derive(Debug)]
pub enum Outcome {
    /// The success document and its human text.
    Done(Map<String, Value>, String),
    /// Input only the reference handles.
    NeedsReference(String),
}

/// The work-package files of `tasks_dir` in directory order: `WP*.md` named `WP` + two digits
/// first (the reference's glob and id pattern), with that id.
pub fn wp_listing(tasks_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(tasks_dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let b = name.as_bytes();
            let ok = name.starts_with("WP")
                && name.ends_with(".md")
                && b.len() >= 7
                && b[2].is_ascii_digit()
                && b[3].is_ascii_digit()
                && e.path().is_file();
            ok.then(|| (name[..4].to_string(), e.path()))
        })
        .collect()
}

/// A frontmatter read as plain YAML (no schema), for the raw tokens; `None` when unreadable.
fn raw_frontmatter(path: &Path) -> Option<serde_yaml_ng::Value> {
    let text = std::fs::read_to_string(path).ok()?.replace("\r\n", "\n");
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text.split('\n');
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let raw: Vec<&str> = lines.take_while(|l| l.trim() != "---").collect();
    crate::mission::tasks::frontmatter::parse_yaml(&raw.join("\n"))
        .ok()
        .map(crate::mission::tasks::frontmatter::unomap)
}

fn strings(v: &[String]) -> Value {
    json!(v)
}

/// Run map-requirements from `cwd`.
pub fn map_requirements(env: &Env, cwd: &Path, req: &Request) -> Result<Outcome, TasksError> {
    let mode = plan::mode(
        req.wp.as_deref(),
        req.refs.as_deref(),
        req.batch.as_deref(),
        &req.tracker_refs,
    )?;
    if mode == Mode::Tracker {
        return Ok(Outcome::NeedsReference(
            "--tracker-ref (status-log annotations) is handled by the reference".into(),
        ));
    }
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let root = project.root.clone();
    let specs = project.specs();
    let handle = req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(TasksError::MissionRequired)?;
    if !is_safe_segment(handle) {
        return Err(TasksError::UnsafeHandle {
            handle: handle.into(),
        });
    }
    let index = Index::load(&specs);
    if specs.join(handle).is_dir() && !index.entries.iter().any(|e| e.slug == handle) {
        return Ok(Outcome::NeedsReference(format!(
            "kitty-specs/{handle} has no mission identity"
        )));
    }
    let entry = match index.lenient(&specs, handle) {
        Ok(Some(e)) => e,
        Ok(None) => {
            return Err(PlanningError::MissionNotFound {
                handle: handle.into(),
            }
            .into());
        }
        Err(PlanningError::MissionAmbiguous { .. }) => {
            return Ok(Outcome::NeedsReference(format!(
                "'{handle}' matches several missions"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let slug = entry.slug.clone();
    let repo = Repo::discover(env, &root)?;
    let current = repo
        .head_branch()?
        .filter(|b| !b.is_empty())
        .ok_or(PlanningError::DetachedHead)?;
    let target = entry
        .meta
        .get("target_branch")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or(&current)
        .to_string();
    let auto_commit = match req.auto_commit {
        Some(a) => a,
        None => crate::mission::project_config::ProjectConfig::load(&root)
            .map(|c| c.auto_commit())
            .unwrap_or(true),
    };
    if auto_commit && commit::protected(env, &repo, &target)? {
        return Err(TasksError::ProtectedTarget { branch: target });
    }
    let fd = entry.dir.clone();
    let spec_path = fd.join("spec.md");
    if !spec_path.is_file() {
        return Err(TasksError::SpecMissing { path: spec_path });
    }
    let spec_text = std::fs::read_to_string(&spec_path)
        .map_err(|e| crate::mission::MissionError::read(&spec_path, e))?
        .replace("\r\n", "\n");
    let ids = spec_ids(&spec_text);
    let declared: BTreeSet<String> = ids.all.iter().cloned().collect();
    let mapping = match mode {
        Mode::Refs(m) => m,
        Mode::Batch(text) => plan::parse_batch(&text)?,
        Mode::Tracker => unreachable!("handed to the reference above"),
    };
    let tasks_dir = fd.join("tasks");
    let listing = wp_listing(&tasks_dir);
    let mut known: Vec<String> = listing.iter().map(|(id, _)| id.clone()).collect();
    known.sort();
    known.dedup();
    let mut unknown: Vec<String> = mapping
        .iter()
        .map(|(wp, _)| wp.clone())
        .filter(|wp| !known.contains(wp))
        .collect();
    if !unknown.is_empty() {
        unknown.sort();
        unknown.dedup();
        return Err(TasksError::UnknownWps {
            unknown,
            available: known,
        });
    }
    let mut sorted = listing.clone();
    sorted.sort_by(|a, b| a.1.cmp(&b.1));
    // Every work package's refs as read now (unreadable: none), in path order.
    let mut existing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, path) in &sorted {
        let refs = WpFile::read(path)
            .map(|f| refs_of(&f.get_list("requirement_refs")).0)
            .unwrap_or_default();
        existing.insert(id.clone(), refs);
    }
    let tasks_md = std::fs::read_to_string(fd.join("tasks.md"))
        .unwrap_or_default()
        .replace("\r\n", "\n");
    plan::gate(&mapping, &declared)?;
    let _lock = commit::lock(&repo)?;
    let mut new_values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut targets: Vec<(String, PathBuf)> = Vec::new();
    for (wp, refs) in &mapping {
        let value = plan::merge(
            refs,
            existing.get(wp).map(Vec::as_slice).unwrap_or_default(),
            &tasks_md_refs(&tasks_md, wp),
            req.replace,
        );
        new_values.insert(wp.clone(), value);
        if let Some((_, path)) = listing.iter().find(|(_, p)| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(wp.as_str()))
        }) && !targets.iter().any(|(w, _)| w == wp)
        {
            targets.push((wp.clone(), path.clone()));
        }
    }
    let status_dir = read_dir(&root, entry);
    let writes = apply::render_all(&targets, &new_values, &status_dir)?;
    let mut projected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, path) in &sorted {
        let tokens = match new_values.get(id) {
            Some(v) if targets.iter().any(|(w, _)| w == id) => v.clone(),
            _ => plan::raw_tokens(
                raw_frontmatter(path)
                    .as_ref()
                    .and_then(|f| f.get("requirement_refs")),
            ),
        };
        projected.insert(id.clone(), tokens);
    }
    plan::stale(&projected, &declared)?;
    let committed = apply::write_and_commit(
        env,
        &repo,
        &writes,
        auto_commit.then_some(&target),
        &format!(
            "chore: Map requirements for {} on spec {}",
            {
                let mut w: Vec<&str> = targets.iter().map(|(w, _)| w.as_str()).collect();
                w.sort_unstable();
                w.join(", ")
            },
            slug.split('-').next().unwrap_or(&slug)
        ),
    )?;
    let mut after = existing.clone();
    for (wp, _) in &targets {
        if let Some(v) = new_values.get(wp) {
            after.insert(wp.clone(), v.clone());
        }
    }
    let (total, mapped_fr, unmapped) = plan::coverage(&after, &ids.functional());
    let mut mapped = Map::new();
    for (wp, refs) in &mapping {
        let mut r = refs.clone();
        r.sort();
        mapped.insert(wp.clone(), strings(&r));
    }
    let total_mappings: Map<String, Value> = after
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), strings(v)))
        .collect();
    let commit_result = committed
        .as_ref()
        .map(|sha| json!({"sha": sha, "destination_ref": target, "worktree_root": root}));
    let mut doc = Map::new();
    doc.insert("mission_slug".into(), slug.clone().into());
    doc.insert(
        "mission_number".into(),
        entry
            .meta
            .get("mission_number")
            .cloned()
            .unwrap_or(Value::Null),
    );
    doc.insert(
        "mission_type".into(),
        entry
            .meta
            .get("mission_type")
            .cloned()
            .unwrap_or_else(|| "software-dev".into()),
    );
    doc.insert("mapped".into(), Value::Object(mapped.clone()));
    doc.insert("total_mappings".into(), Value::Object(total_mappings));
    doc.insert(
        "coverage".into(),
        json!({"total_functional": total, "mapped_functional": mapped_fr, "unmapped_functional": unmapped}),
    );
    doc.insert("committed".into(), committed.is_some().into());
    doc.insert("commit_sha".into(), json!(committed));
    doc.insert("commit_result".into(), commit_result.unwrap_or(Value::Null));
    doc.insert(
        "requirement_extraction_warnings".into(),
        json!(ids.warnings),
    );
    let mut bare = ids.bare_prose.clone();
    bare.sort();
    doc.insert("bare_prose_requirement_ids".into(), json!(bare));
    let human = human_text(
        &current,
        &target,
        &mapping,
        (total, mapped_fr, &unmapped),
        committed.is_some(),
        &ids,
    );
    Ok(Outcome::Done(doc, human))
}

fn human_text(
    current: &str,
    target: &str,
    mapping: &[(String, Vec<String>)],
    (total, mapped, unmapped): (usize, usize, &[String]),
    committed: bool,
    ids: &super::requirements::SpecIds,
) -> String {
    let mut lines = vec![if current == target {
        format!("Branch: {current} (the mission's branch)")
    } else {
        format!("Branch: {current} (the mission's branch is {target})")
    }];
    lines.push("Requirement refs saved".into());
    let mut sorted: Vec<&(String, Vec<String>)> = mapping.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (wp, refs) in sorted {
        lines.push(format!("  {wp}: {}", refs.join(", ")));
    }
    lines.push(String::new());
    lines.push(format!(
        "  Coverage: {mapped}/{total} functional requirements mapped"
    ));
    if !unmapped.is_empty() {
        lines.push(format!("  Not mapped yet: {}", unmapped.join(", ")));
    }
    if committed {
        lines.push("Committed the mapping".into());
    }
    for w in &ids.warnings {
        lines.push(format!("Warning: {w}"));
    }
    if !ids.bare_prose.is_empty() {
        lines.push(format!(
            "  Requirement ids only mentioned in prose (not counted): {}",
            ids.bare_prose.join(", ")
        ));
    }
    lines.join("\n")
}

//! Everything finalize-tasks decides before it writes (**interop**: the reference's parsing,
//! gates and their order, the frontmatter changes, the bootstrap and lane previews). No writes:
//! `--validate-only` stops here, and every refusal happens before the first write (the
//! reference already rewrote the WP files when its ownership checks refuse; kitty does not).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};
use serde_yaml_ng::{Mapping, Value as Yaml};

use crate::mission::lanes::compute::{LaneError, Lanes, compute, reaches};
use crate::mission::status::reduce::Snapshot;
use crate::mission::status::{Lane, log, reduce::reduce};
use crate::mission::tasks::frontmatter::{WpFile, render};
use crate::mission::tasks::ownership::{self, Manifest};
use crate::mission::tasks::{RequirementGaps, TasksError, requirements, sections, wp_files};

/// One work package's part of the plan.
#[derive(Debug, Clone)]
pub struct WpPlan {
    /// Its id (frontmatter).
    pub id: String,
    /// The file as read.
    pub file: WpFile,
    /// Its title (`title`, else the id).
    pub title: String,
    /// Its dependencies as they will be written.
    pub deps: Vec<String>,
    /// Its requirement refs as they will be written.
    pub refs: Vec<String>,
    /// What changes, in the reference's order of keys (empty: unchanged).
    pub changes: Vec<(String, Value)>,
    /// Its frontmatter dependencies kept although nothing resolved them (no tasks.md).
    pub preserved: bool,
    /// The rewritten file (when it changes).
    pub new_text: Option<String>,
    /// Not canceled.
    pub eligible: bool,
    /// Its ownership after inference.
    pub manifest: Option<Manifest>,
}

/// The plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The mission's directory name.
    pub slug: String,
    /// The mission directory in the primary checkout.
    pub fd: PathBuf,
    /// Where its transitions live.
    pub status_dir: PathBuf,
    /// `FD/tasks`.
    pub tasks_dir: PathBuf,
    /// The planning branch.
    pub planning_branch: String,
    /// meta.json's mission_id.
    pub mission_id: Option<String>,
    /// Work packages in directory order.
    pub wps: Vec<WpPlan>,
    /// Resolved dependencies in directory order (empty without tasks.md).
    pub deps_parsed: Vec<(String, Vec<String>)>,
    /// Resolved refs in directory order.
    pub refs_parsed: Vec<(String, Vec<String>)>,
    /// Ownership notes.
    pub ownership_warnings: Vec<String>,
    /// spec.md and refs notes.
    pub requirement_warnings: Vec<String>,
    /// Acceptance criteria only observable after integration.
    pub post_integration_warnings: Vec<String>,
    /// The status surface's board (transitions only).
    pub snapshot: Snapshot,
    /// Work packages to seed, in file-name order.
    pub seed: Vec<String>,
    /// Work packages counted by the bootstrap.
    pub total_wps: usize,
    /// The lanes (`None`: nothing to compute).
    pub lanes: Option<Lanes>,
    /// Functional requirement ids (the acceptance matrix's criteria).
    pub functional: Vec<String>,
    /// Whether tasks.md exists.
    pub has_tasks_md: bool,
    /// Whether a transition ever left the planning lanes (execution has begun).
    pub begun: bool,
}

/// The inputs of a plan.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The repository root.
    pub root: &'a Path,
    /// The mission's directory name.
    pub slug: &'a str,
    /// Its primary directory.
    pub fd: &'a Path,
    /// Where its transitions live.
    pub status_dir: &'a Path,
    /// meta.json.
    pub meta: &'a Value,
}

fn re(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
}

static EMPTY_OWNED: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^owned_files:\s*\[\s*\]\s*$"));
static WP_ID_FORMAT: LazyLock<Regex> = LazyLock::new(|| re(r"^WP\d{2}$"));
static POST_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)post-merge|after merge|once merged|post-integration|after integration|once integrated|after (?:the )?deploy(?:ment)?|once deployed",
    )
});

fn strings(list: &[String]) -> Yaml {
    Yaml::Sequence(list.iter().map(|s| Yaml::String(s.clone())).collect())
}

fn meta_str<'a>(meta: &'a Value, key: &str) -> Option<&'a str> {
    meta.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The branch-strategy sentence written into each WP (kitty's words).
pub fn branch_strategy(planning: &str, merge: &str) -> String {
    format!(
        "Planned on {planning}. During implementation this work package may start from a dependency's branch, but its finished changes merge back into {merge} unless a human redirects the landing branch."
    )
}

/// Plan finalize-tasks.
pub fn plan(inp: &Inputs<'_>) -> Result<Plan, TasksError> {
    let fd = inp.fd;
    let tasks_dir = fd.join("tasks");
    if !tasks_dir.is_dir() {
        return Err(TasksError::TasksDirMissing { dir: tasks_dir });
    }
    let files = wp_files(&tasks_dir);
    let expected: BTreeSet<String> = files.iter().map(|(id, _)| id.clone()).collect();
    let spec_path = fd.join("spec.md");
    let spec_text = std::fs::read_to_string(&spec_path).map_err(|_| TasksError::SpecMissing {
        path: spec_path.clone(),
    })?;
    let spec = requirements::spec_ids(&spec_text);
    let tasks_md = std::fs::read_to_string(fd.join("tasks.md")).ok();
    let section_deps: Option<BTreeMap<String, Vec<String>>> = match &tasks_md {
        Some(text) => {
            let secs = sections::sections(text);
            let ids: BTreeSet<String> = secs.iter().map(|(i, _)| i.clone()).collect();
            let missing: Vec<String> = expected
                .iter()
                .filter(|e| !ids.contains(*e))
                .cloned()
                .collect();
            let extra: Vec<String> = ids
                .iter()
                .filter(|i| !expected.contains(*i))
                .cloned()
                .collect();
            if !missing.is_empty() || !extra.is_empty() {
                return Err(TasksError::Coverage { missing, extra });
            }
            Some(sections::dependency_map(text))
        }
        None => None,
    };
    let mut read: Vec<WpFile> = Vec::new();
    for (_, path) in &files {
        read.push(WpFile::read(path)?);
    }
    // Dependencies and refs, in directory order.
    let mut deps_parsed: Vec<(String, Vec<String>)> = Vec::new();
    let mut refs_parsed: Vec<(String, Vec<String>)> = Vec::new();
    let mut requirement_warnings = spec.warnings.clone();
    for f in &read {
        let id = f.id().to_string();
        if let Some(map) = &section_deps {
            let fm = f.get_list("dependencies");
            let deps = if f.has_raw_key("dependencies") && !fm.is_empty() {
                fm
            } else {
                map.get(&id).cloned().unwrap_or_default()
            };
            deps_parsed.push((id.clone(), deps));
        }
        let (mut refs, sc) = requirements::refs_of(&f.get_list("requirement_refs"));
        if !sc.is_empty() {
            requirement_warnings.push(format!(
                "{id} lists Success-Criteria id(s) ({}) in requirement_refs; they are not requirement refs and are dropped: trace them as FR/NFR/C requirements, or keep them on the WP's success criteria",
                sc.join(", ")
            ));
        }
        if refs.is_empty()
            && let Some(md) = &tasks_md
        {
            refs = requirements::tasks_md_refs(md, &id);
        }
        refs_parsed.push((id, refs));
    }
    let all_ids: BTreeSet<String> = read.iter().map(|f| f.id().to_string()).collect();
    for (wp, deps) in &deps_parsed {
        let errors: Vec<String> = deps
            .iter()
            .filter_map(|d| {
                if !WP_ID_FORMAT.is_match(d) {
                    Some(format!(
                        "'{d}' is not a work-package id (write WPnn, e.g. WP01)"
                    ))
                } else if !all_ids.contains(d) {
                    Some(format!("{d} is not a work package of this mission"))
                } else {
                    None
                }
            })
            .collect();
        if !errors.is_empty() {
            return Err(TasksError::DependencyRefs {
                wp_id: wp.clone(),
                errors,
            });
        }
    }
    let pairs = |v: &[(String, Vec<String>)]| -> Value {
        Value::Object(v.iter().map(|(k, l)| (k.clone(), json!(l))).collect())
    };
    // The requirement gate.
    let mut missing: Vec<String> = refs_parsed
        .iter()
        .filter(|(_, r)| r.is_empty())
        .map(|(w, _)| w.clone())
        .collect();
    missing.sort();
    let mut unknown = Map::new();
    let mut mapped: BTreeSet<String> = BTreeSet::new();
    for (wp, refs) in &refs_parsed {
        let mut bad: Vec<String> = refs
            .iter()
            .filter(|r| !spec.all.contains(r))
            .cloned()
            .collect();
        if bad.is_empty() {
            mapped.extend(refs.iter().cloned());
        } else {
            bad.sort();
            unknown.insert(wp.clone(), json!(bad));
        }
    }
    let functional = spec.functional();
    let unmapped: Vec<String> = functional
        .iter()
        .filter(|f| !mapped.contains(*f))
        .cloned()
        .collect();
    if !missing.is_empty()
        || !unknown.is_empty()
        || !unmapped.is_empty()
        || !spec.bare_prose.is_empty()
    {
        return Err(TasksError::Requirements(Box::new(RequirementGaps {
            missing,
            unknown,
            unmapped,
            bare_prose: spec.bare_prose.clone(),
            dependencies: pairs(&deps_parsed),
            refs: pairs(&refs_parsed),
        })));
    }
    // The lifecycle so far: canceled work packages leave execution.
    let mut transitions = log::read(inp.status_dir)?;
    transitions.annotations.clear();
    let snapshot = reduce(&transitions);
    let begun = transitions
        .transitions
        .iter()
        .any(|t| t.from_lane.is_execution() || t.to_lane.is_execution());
    let canceled = |wp: &str| snapshot.lane_of(wp) == Some(Lane::Canceled);
    let resolved: BTreeMap<String, Vec<String>> = deps_parsed.iter().cloned().collect();
    let mut stale = Vec::new();
    for (wp, deps) in &resolved {
        if canceled(wp) {
            continue;
        }
        for d in deps {
            if canceled(d) {
                stale.push((wp.clone(), d.clone()));
            }
        }
    }
    if !stale.is_empty() {
        return Err(TasksError::CanceledDependency { stale });
    }
    let eligible_deps: BTreeMap<String, Vec<String>> = resolved
        .iter()
        .filter(|(w, _)| !canceled(w))
        .map(|(w, d)| {
            let mut d: Vec<String> = d.iter().filter(|x| !canceled(x)).cloned().collect();
            d.sort();
            (w.clone(), d)
        })
        .collect();
    let cycles = find_cycles(&eligible_deps);
    if !cycles.is_empty() {
        return Err(TasksError::Cycle { cycles });
    }
    // The bootstrap loop: each WP's new frontmatter.
    let planning_branch = meta_str(inp.meta, "target_branch")
        .unwrap_or_default()
        .to_string();
    let pr_bound = inp
        .meta
        .get("pr_bound")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let merge_target = meta_str(inp.meta, "merge_target_branch")
        .map(str::to_string)
        .or_else(|| {
            (pr_bound && meta_str(inp.meta, "target_branch") != Some(planning_branch.as_str()))
                .then(|| planning_branch.clone())
        })
        .unwrap_or_else(|| planning_branch.clone());
    let strategy = branch_strategy(&planning_branch, &merge_target);
    let runtime_snapshot = reduce(&log::read(inp.fd)?);
    let mut ownership_warnings = Vec::new();
    let mut contradictions = Vec::new();
    let mut wps = Vec::new();
    for (f, (id, refs)) in read.iter().zip(&refs_parsed) {
        let fm_deps = f.get_list("dependencies");
        let (deps, preserved) = match &section_deps {
            Some(_) => (resolved.get(id).cloned().unwrap_or_default(), false),
            None if !fm_deps.is_empty() => (fm_deps.clone(), true),
            None => (Vec::new(), false),
        };
        let mut meta: Mapping = f.meta.clone();
        let mut changes: Vec<(String, Value)> = Vec::new();
        if !f.has_raw_key("dependencies") || fm_deps != deps {
            changes.push(("dependencies".into(), json!(deps)));
            meta.insert("dependencies".into(), strings(&deps));
        }
        for (key, want) in [
            ("planning_base_branch", &planning_branch),
            ("merge_target_branch", &merge_target),
            ("branch_strategy", &strategy),
        ] {
            if f.get_str(key) != Some(want.as_str()) {
                changes.push((key.into(), json!(want)));
                meta.insert(key.into(), Yaml::String(want.clone()));
            }
        }
        let fm_refs = f.get_list("requirement_refs");
        if !f.has_raw_key("requirement_refs") || &fm_refs != refs {
            changes.push(("requirement_refs".into(), json!(refs)));
            meta.insert("requirement_refs".into(), strings(refs));
        }
        let eligible = !canceled(id);
        let mode = f
            .get_str("execution_mode")
            .unwrap_or_default()
            .trim()
            .to_string();
        let owned = f.get_list("owned_files");
        let literal_empty = EMPTY_OWNED.is_match(&f.raw);
        if mode == "code_change" && literal_empty {
            contradictions.push(id.clone());
        }
        let mut manifest_mode = mode.clone();
        let mut manifest_owned = owned.clone();
        let mut surface = f
            .get_str("authoritative_surface")
            .unwrap_or_default()
            .to_string();
        if eligible && (mode.is_empty() || (owned.is_empty() && !literal_empty)) {
            if mode.is_empty() {
                manifest_mode = ownership::infer_mode(&f.text).to_string();
                changes.push(("execution_mode".into(), json!(manifest_mode)));
                meta.insert("execution_mode".into(), Yaml::String(manifest_mode.clone()));
            }
            if owned.is_empty() {
                let (globs, broad) = ownership::infer_owned(&f.text, &manifest_mode, inp.slug);
                if broad {
                    ownership_warnings.push(format!("{id}: {}", ownership::BROAD_FALLBACK));
                }
                manifest_owned = globs;
                changes.push(("owned_files".into(), json!(manifest_owned)));
                meta.insert("owned_files".into(), strings(&manifest_owned));
            }
            if surface.is_empty() {
                surface = ownership::infer_surface(&manifest_owned);
                changes.push(("authoritative_surface".into(), json!(surface)));
                meta.insert(
                    "authoritative_surface".into(),
                    Yaml::String(surface.clone()),
                );
            }
        }
        let manifest =
            (!manifest_mode.is_empty() && !manifest_owned.is_empty()).then(|| Manifest {
                execution_mode: manifest_mode.clone(),
                owned_files: manifest_owned.clone(),
                authoritative_surface: surface.clone(),
                scope: f.get_str("scope").map(str::to_string),
            });
        let new_text = (!changes.is_empty()).then(|| {
            let state = runtime_snapshot.work_packages.get(id);
            let runtime: Vec<(&str, Option<Yaml>)> = crate::mission::tasks::frontmatter::RUNTIME
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
            render(&meta, &f.body, &runtime)
        });
        wps.push(WpPlan {
            id: id.clone(),
            file: f.clone(),
            title: f
                .get_str("title")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or(id)
                .to_string(),
            deps,
            refs: refs.clone(),
            changes,
            preserved,
            new_text,
            eligible,
            manifest,
        });
    }
    if !contradictions.is_empty() {
        return Err(TasksError::Contradiction {
            wp_ids: contradictions,
        });
    }
    let mut invalid = Vec::new();
    for w in wps.iter().filter(|w| w.eligible) {
        let Some(m) = &w.manifest else { continue };
        let norm: Vec<&str> = m
            .owned_files
            .iter()
            .map(|p| p.strip_prefix("./").unwrap_or(p))
            .collect();
        let under = |p: &&&str| **p == "kitty-specs" || p.starts_with("kitty-specs/");
        let exempt = m.execution_mode == "planning_artifact"
            && norm
                .iter()
                .all(|p| p.starts_with("kitty-specs/") || p.starts_with("docs/"));
        if !exempt {
            for p in norm.iter().filter(under) {
                invalid.push((w.id.clone(), (*p).to_string()));
            }
        }
    }
    invalid.sort();
    if !invalid.is_empty() {
        return Err(TasksError::KittySpecsOwned { invalid });
    }
    let mut post_integration_warnings = Vec::new();
    for w in &wps {
        if w.manifest
            .as_ref()
            .is_some_and(|m| m.execution_mode == "code_change")
        {
            post_integration(&w.id, &w.file.body, &mut post_integration_warnings);
        }
    }
    check_ownership(inp.root, &wps, &mut ownership_warnings)?;
    // Bootstrap preview.
    let mut by_name: Vec<&WpPlan> = wps.iter().collect();
    by_name.sort_by(|a, b| a.file.name.cmp(&b.file.name));
    let seed: Vec<String> = by_name
        .iter()
        .filter(|w| !snapshot.work_packages.contains_key(&w.id))
        .map(|w| w.id.clone())
        .collect();
    // Lanes over eligible work packages, with the dependencies as written.
    let lane_deps: BTreeMap<String, Vec<String>> = wps
        .iter()
        .filter(|w| w.eligible)
        .map(|w| {
            let mut d: Vec<String> = w.deps.iter().filter(|x| !canceled(x)).cloned().collect();
            d.sort();
            (w.id.clone(), d)
        })
        .collect();
    let manifests: BTreeMap<String, Manifest> = wps
        .iter()
        .filter(|w| w.eligible)
        .filter_map(|w| Some((w.id.clone(), w.manifest.clone()?)))
        .collect();
    let bodies: BTreeMap<String, String> = wps
        .iter()
        .map(|w| (w.id.clone(), w.file.body.clone()))
        .collect();
    let lanes = if manifests.is_empty() || lane_deps.is_empty() {
        None
    } else {
        Some(
            compute(&lane_deps, &manifests, &bodies).map_err(|e| match e {
                LaneError::NoManifest(wp) => TasksError::LanesAborted {
                    reason: format!("{wp} has no execution_mode and owned_files"),
                },
                LaneError::Cycle(lanes) => TasksError::LaneCycle { lanes },
            })?,
        )
    };
    Ok(Plan {
        slug: inp.slug.to_string(),
        fd: fd.to_path_buf(),
        status_dir: inp.status_dir.to_path_buf(),
        tasks_dir,
        planning_branch,
        mission_id: meta_str(inp.meta, "mission_id").map(str::to_string),
        total_wps: by_name.len(),
        wps,
        deps_parsed: if section_deps.is_some() {
            deps_parsed
        } else {
            Vec::new()
        },
        refs_parsed,
        ownership_warnings,
        requirement_warnings,
        post_integration_warnings,
        snapshot,
        seed,
        lanes,
        functional,
        has_tasks_md: tasks_md.is_some(),
        begun,
    })
}

/// Cycles of `deps` (sorted keys, depth first), each closed by its first id.
fn find_cycles(deps: &BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
    fn visit(
        n: &str,
        deps: &BTreeMap<String, Vec<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
        out: &mut Vec<Vec<String>>,
    ) {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            out.push(c);
            return;
        }
        if done.contains(n) {
            return;
        }
        path.push(n.to_string());
        for d in deps.get(n).into_iter().flatten() {
            visit(d, deps, done, path, out);
        }
        path.pop();
        done.insert(n.to_string());
    }
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in deps.keys() {
        visit(n, deps, &mut done, &mut Vec::new(), &mut out);
    }
    out
}

/// Acceptance phrases only observable after integration, under acceptance-like headings.
fn post_integration(id: &str, body: &str, out: &mut Vec<String>) {
    let mut inside = false;
    let mut found: Vec<String> = Vec::new();
    for line in body.lines() {
        if line.trim_start().starts_with('#') {
            let l = line.to_lowercase();
            inside = l.contains("acceptance")
                || l.contains("success crit")
                || l.contains("review guidance");
            continue;
        }
        if inside {
            for m in POST_PHRASE.find_iter(line) {
                let p = m.as_str().to_lowercase();
                if !found.contains(&p) {
                    found.push(p);
                }
            }
        }
    }
    if !found.is_empty() {
        out.push(format!(
            "{id}: its acceptance criteria look observable only after integration ({}): state what the diff itself must show",
            found.join(", ")
        ));
    }
}

/// The ownership checks over eligible manifests (sorted by id).
fn check_ownership(
    root: &Path,
    wps: &[WpPlan],
    warnings: &mut Vec<String>,
) -> Result<(), TasksError> {
    let mut ms: Vec<(&WpPlan, &Manifest)> = wps
        .iter()
        .filter(|w| w.eligible)
        .filter_map(|w| Some((w, w.manifest.as_ref()?)))
        .collect();
    ms.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let deps: BTreeMap<String, Vec<String>> =
        wps.iter().map(|w| (w.id.clone(), w.deps.clone())).collect();
    let wide = |m: &Manifest| m.scope.as_deref() == Some("codebase-wide");
    let mut errors = Vec::new();
    for (i, (a, ma)) in ms.iter().enumerate() {
        for (b, mb) in &ms[i + 1..] {
            if wide(ma) || wide(mb) || reaches(&deps, &a.id, &b.id) || reaches(&deps, &b.id, &a.id)
            {
                continue;
            }
            for ga in &ma.owned_files {
                for gb in &mb.owned_files {
                    if ownership::overlaps(ga, gb) {
                        errors.push(format!(
                            "{} ('{ga}') and {} ('{gb}') may both write the same paths without depending on each other",
                            a.id, b.id
                        ));
                    }
                }
            }
        }
    }
    for (w, m) in &ms {
        if wide(m) {
            continue;
        }
        if m.authoritative_surface.is_empty() {
            errors.push(format!("{}: authoritative_surface is empty", w.id));
        } else if !m
            .owned_files
            .iter()
            .any(|o| o.starts_with(&m.authoritative_surface))
        {
            errors.push(format!(
                "{}: authoritative_surface '{}' is a prefix of none of its owned_files ({})",
                w.id,
                m.authoritative_surface,
                m.owned_files.join(", ")
            ));
        }
    }
    if !errors.is_empty() {
        return Err(TasksError::Ownership { errors });
    }
    let paths = ownership::repo_paths(root);
    let mut literal = Vec::new();
    for (w, m) in &ms {
        let intent = w.file.get_list("create_intent");
        for p in &m.owned_files {
            if ownership::is_glob(p) {
                if !ownership::glob_matches_any(p, &paths) {
                    warnings.push(format!(
                        "{}: owned_files glob '{p}' matches no file in the repository",
                        w.id
                    ));
                }
            } else if !paths.iter().any(|x| x == p.trim_end_matches('/')) && !intent.contains(p) {
                literal.push(format!(
                    "{}: owned_files names '{p}', which does not exist; if implementation creates it, add it to create_intent",
                    w.id
                ));
            }
        }
    }
    if !literal.is_empty() {
        return Err(TasksError::LiteralPaths { errors: literal });
    }
    Ok(())
}

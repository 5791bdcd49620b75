//! `agent mission record-analysis`: persist the agent's analysis as `analysis-report.md`, with the
//! hashes of the inputs it judged, and commit it (**interop**: the reference's report, the gate
//! `implement` checks, its document and refusals).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use serde_yaml_ng::{Mapping, Value as Yaml};
use sha2::Digest;

use super::analysis::{self, Report};
use super::handle::Index;
use super::{PlanningError, project};
use crate::env::Env;
use crate::mission::git::Repo;

/// What was asked.
#[derive(Debug, Clone)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// The report's text (already read from `--input-file` or stdin).
    pub text: String,
    /// `--agent`.
    pub agent: Option<String>,
    /// `--json` (it shows in the example command of a detection error).
    pub json: bool,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// tasks.md with its checkboxes unticked (ticking a box does not make an analysis stale).
pub fn tasks_normalized(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut l = line.to_string();
        // `- [x]` / `* [X]` at the start of a line.
        let indent = l.len() - l.trim_start().len();
        let rest = &l[indent..];
        if let Some(after) = rest.strip_prefix(['-', '*']) {
            let gap = after.len() - after.trim_start().len();
            let b = &after.as_bytes()[gap..];
            if b.len() >= 3 && b[0] == b'[' && matches!(b[1], b' ' | b'x' | b'X') && b[2] == b']' {
                let at = indent + 1 + gap + 1;
                l.replace_range(at..at + 1, " ");
            }
        }
        // `| [x] |` status cells.
        let bytes = l.as_bytes().to_vec();
        let mut cells = bytes.clone();
        for (i, &c) in bytes.iter().enumerate() {
            if c != b'|' {
                continue;
            }
            let mut j = i + 1;
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                j += 1;
            }
            if j + 2 < bytes.len()
                && bytes[j] == b'['
                && matches!(bytes[j + 1], b' ' | b'x' | b'X' | b'D' | b'P')
                && bytes[j + 2] == b']'
            {
                let mut k = j + 3;
                while k < bytes.len() && (bytes[k] == b' ' || bytes[k] == b'\t') {
                    k += 1;
                }
                if bytes.get(k) == Some(&b'|') {
                    cells[j + 1] = b' ';
                }
            }
        }
        out.push_str(&String::from_utf8_lossy(&cells));
    }
    out
}

/// The inputs' paths and hashes, as the report and the implement gate record them.
pub fn input_artifacts(root: &Path, dir: &Path) -> Result<Value, PlanningError> {
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let mut m = Map::new();
    for name in ["spec.md", "plan.md", "tasks.md"] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|_| PlanningError::Analysis {
            message: format!(
                "required artifact missing: {} (record the analysis after spec, plan and tasks exist)",
                path.display()
            ),
        })?;
        let hash = if name == "tasks.md" {
            sha256_hex(tasks_normalized(&String::from_utf8_lossy(&bytes)).as_bytes())
        } else {
            sha256_hex(&bytes)
        };
        m.insert(name.into(), json!({"path": rel(&path), "sha256": hash}));
    }
    let charter = [
        ".kittify/charter/charter.yaml",
        ".kittify/charter/charter.md",
    ]
    .iter()
    .map(|c| root.join(c))
    .find(|p| p.is_file());
    let charter = match charter {
        Some(p) => {
            json!({"path": rel(&p), "sha256": sha256_hex(&std::fs::read(&p).unwrap_or_default())})
        }
        None => json!({"path": null, "sha256": null}),
    };
    m.insert("charter".into(), charter);
    Ok(Value::Object(m))
}

fn yaml(v: &Value) -> Yaml {
    serde_yaml_ng::to_value(v).unwrap_or(Yaml::Null)
}

/// The report file's text.
fn report_text(
    slug: &str,
    mission_id: Option<&str>,
    now: DateTime<Utc>,
    agent: &str,
    inputs: &Value,
    r: &Report,
) -> String {
    let mut m = Mapping::new();
    let mut put = |k: &str, v: Yaml| {
        m.insert(Yaml::String(k.into()), v);
    };
    put("schema_version", Yaml::Number(1.into()));
    put(
        "artifact_type",
        Yaml::String("spec-kitty.analysis-report".into()),
    );
    put("command", Yaml::String("/spec-kitty.analyze".into()));
    put("mission_slug", Yaml::String(slug.into()));
    put(
        "mission_id",
        mission_id.map_or(Yaml::Null, |id| Yaml::String(id.into())),
    );
    put("generated_at", Yaml::String(crate::pyfmt::isoformat(now)));
    put("analyzer_agent", Yaml::String(agent.into()));
    let mut ordered = Mapping::new();
    for name in ["spec.md", "plan.md", "tasks.md", "charter"] {
        ordered.insert(Yaml::String(name.into()), yaml(&inputs[name]));
    }
    put("input_artifacts", Yaml::Mapping(ordered));
    put("verdict", Yaml::String(r.verdict.into()));
    let mut counts = Mapping::new();
    for (k, v) in &r.counts {
        counts.insert(Yaml::String((*k).into()), yaml(v));
    }
    put("issue_counts", Yaml::Mapping(counts));
    let findings: Vec<Yaml> = r
        .findings
        .iter()
        .map(|f| {
            let mut fm = Mapping::new();
            for k in ["id", "severity", "category", "summary"] {
                fm.insert(Yaml::String(k.into()), yaml(&f[k]));
            }
            Yaml::Mapping(fm)
        })
        .collect();
    put("findings", Yaml::Sequence(findings));
    let mut body = r.body.clone();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    format!(
        "---\n{}---\n\n{body}",
        crate::mission::tasks::yaml_out::to_yaml(&m)
    )
}

/// Paths `git status` shows in `repo`, less what spec-kitty itself keeps there (any meta.json,
/// and a coordination mission's status files, which live on its coordination branch).
fn dirty_paths(repo: &Repo, slug: &str, coordinated: bool) -> Result<Vec<String>, PlanningError> {
    let status = repo.status_porcelain()?;
    let coord_files = crate::mission::safe_commit::COORDINATION;
    let prefix = format!("kitty-specs/{slug}/");
    Ok(status
        .lines()
        .filter(|l| l.len() > 3)
        .map(|l| l[3..].trim().to_string())
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            if name == "meta.json" || p.ends_with(".kittify/encoding-provenance/global.jsonl") {
                return false;
            }
            if p.starts_with("kitty-ops/") && p.ends_with(".jsonl") {
                return false;
            }
            if coordinated && let Some(inner) = p.strip_prefix(&prefix) {
                let review = inner.starts_with("tasks/")
                    && name.starts_with("review-cycle-")
                    && name.ends_with(".md");
                return !(coord_files.contains(&inner) || inner.starts_with("traces/") || review);
            }
            true
        })
        .collect())
}

/// Record the analysis from `cwd`.
pub fn record(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Value, PlanningError> {
    let project = project::locate(cwd).ok_or_else(|| PlanningError::ProjectRootUnresolved {
        dir: cwd.to_path_buf(),
    })?;
    let index = Index::load(&project.specs());
    let found = match req
        .mission
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(h) => {
            super::prerequisites::mission_dir(&project.root, &index, h).or_else(|e| match e {
                PlanningError::MissionAmbiguous { .. } => Ok(None),
                other => Err(other),
            })?
        }
        None => None,
    };
    let Some((dir, meta)) = found else {
        let first = index.candidates.first().cloned().unwrap_or_default();
        let json = if req.json { " --json" } else { "" };
        return Err(PlanningError::ContextUnresolved {
            code: "FEATURE_CONTEXT_UNRESOLVED",
            mission_flag: req.mission.clone(),
            available: index.candidates.clone(),
            example: format!("spec-kitty agent mission record-analysis --mission {first}{json}"),
        });
    };
    let slug = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let coordinated = meta
        .get("topology")
        .and_then(Value::as_str)
        .is_some_and(|t| matches!(t, "coord" | "lanes_with_coord"));
    let here = Repo::discover(env, cwd)?;
    let dirty = dirty_paths(&here, &slug, coordinated)?;
    if !dirty.is_empty() {
        return Err(PlanningError::DirtyWorktree { paths: dirty });
    }
    let parsed =
        analysis::parse(&req.text).map_err(|message| PlanningError::Analysis { message })?;
    let inputs = input_artifacts(&project.root, &dir)?;
    let mission_id = meta.get("mission_id").and_then(Value::as_str);
    let agent = req.agent.as_deref().unwrap_or("unknown");
    let path = dir.join("analysis-report.md");
    let primary = Repo::discover(env, &project.root)?;
    let _lock = super::commit::lock(&primary)?;
    super::write_atomic(
        &path,
        report_text(&slug, mission_id, now, agent, &inputs, &parsed).as_bytes(),
    )?;
    // Best effort, as the reference: a branch that refuses the commit leaves the report written.
    if let Some(target) = meta.get("target_branch").and_then(Value::as_str) {
        let rel = format!("kitty-specs/{slug}/analysis-report.md");
        if let Err(e) = super::commit::commit_on(
            env,
            &primary,
            target,
            &[rel],
            &format!("docs(record-analysis): record analysis report for mission {slug}"),
        ) {
            tracing::warn!("the analysis report was written but not committed: {e}");
        }
    }
    let counts: Map<String, Value> = parsed
        .counts
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    Ok(json!({
        "success": true,
        "path": path,
        "mission_slug": slug,
        "mission_id": mission_id,
        "input_artifacts": inputs,
        "verdict": parsed.verdict,
        "issue_counts": counts,
        "findings": parsed.findings,
        "stale": false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticking_a_box_does_not_change_the_tasks_hash_but_other_edits_do() {
        let a = "# Tasks\n- [ ] T001 a\n  * [x] T002 b\n| WP01 | [D] | x |\n";
        let b = "# Tasks\r\n- [X] T001 a\r\n  * [ ] T002 b\r\n| WP01 | [ ] | x |\r\n";
        assert_eq!(tasks_normalized(a), tasks_normalized(b));
        assert_ne!(
            tasks_normalized(a),
            tasks_normalized("# Tasks\n- [ ] T001 changed\n")
        );
        assert_eq!(tasks_normalized("|[x]x|\n"), "|[x]x|\n");
    }
}

//! A mission's dossier: every artifact file of its directory, classified and hashed, and the
//! snapshot over them (**interop**: the reference's `MissionDossierArtifactIndexed` and
//! `MissionDossierSnapshotComputed` payloads, for the software-dev manifest).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::Digest;

/// One artifact file.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// Relative to the mission directory, `/`-separated.
    pub path: String,
    /// sha256 hex (a work package's: of its static projection).
    pub hash: String,
    /// Size on disk.
    pub size: u64,
    /// `input.spec.main`, `artifact.meta`, ...
    pub key: String,
    /// `input`, `output`, `evidence`, ...
    pub class: &'static str,
    /// Whether the manifest requires it.
    pub required: bool,
}

/// The software-dev manifest: `(file name pattern, key, class, required)`.
const MANIFEST: [(&str, &str, &str, bool); 9] = [
    ("spec.md", "input.spec.main", "input", true),
    ("plan.md", "output.plan.main", "output", true),
    ("tasks.md", "output.tasks.list", "output", true),
    ("tasks/WP*.md", "output.tasks.per_wp", "output", true),
    ("research.md", "evidence.research", "evidence", false),
    (
        "gap-analysis.md",
        "evidence.gap-analysis",
        "evidence",
        false,
    ),
    ("quickstart.md", "evidence.quickstart", "evidence", false),
    ("data-model.md", "evidence.data-model", "evidence", false),
    (
        "lint-report.json",
        "runtime.charter-lint.decay",
        "runtime",
        false,
    ),
];

/// `fnmatch` with `*` only (which also crosses `/`, as Python's does).
fn fnmatch(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
        }
    }
}

fn classify(rel: &str) -> (String, &'static str, bool) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let key = MANIFEST
        .iter()
        .find(|m| fnmatch(m.0, name))
        .map(|m| m.1.to_string())
        .unwrap_or_else(|| {
            let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
            format!("artifact.{}", stem.to_lowercase().replace(['_', ' '], "-"))
        });
    let class = MANIFEST
        .iter()
        .find(|m| fnmatch(m.0, rel))
        .map(|m| m.2)
        .unwrap_or_else(|| heuristic_class(&name.to_lowercase()));
    let required = MANIFEST.iter().any(|m| m.3 && m.1 == key);
    (key, class, required)
}

fn heuristic_class(name: &str) -> &'static str {
    let has = |s: &str| name.contains(s);
    if name == "spec.md" || name == "specification.md" {
        "input"
    } else if name == "plan.md"
        || name == "tasks.md"
        || (name.starts_with("wp") && name.ends_with(".md"))
    {
        "workflow"
    } else if name == "research.md"
        || name == "analysis-report.md"
        || has("test")
        || has("gap-analysis")
        || has("log")
    {
        "evidence"
    } else if has("requirements")
        || has("constraints")
        || has("architecture-decision")
        || has("adr")
    {
        "policy"
    } else if has("implementation") || has("code") || has("findings") || has("report") {
        "output"
    } else if has("generated") || has("cache") {
        "runtime"
    } else {
        "output"
    }
}

/// A work package's static projection (what it is, not its runtime state), as hashed.
fn wp_projection(path: &Path) -> Option<String> {
    let wp = crate::mission::tasks::frontmatter::WpFile::read(path).ok()?;
    let get = |k: &str, list: bool| {
        wp.meta
            .get(k)
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or(if list { json!([]) } else { Value::Null })
    };
    let mut m = serde_json::Map::new();
    for k in [
        "dependencies",
        "requirement_refs",
        "tracker_refs",
        "owned_files",
        "create_intent",
        "subtasks",
    ] {
        m.insert(k.into(), get(k, true));
    }
    for k in [
        "work_package_id",
        "title",
        "priority",
        "execution_mode",
        "authoritative_surface",
        "scope",
        "task_type",
    ] {
        m.insert(k.into(), get(k, false));
    }
    let phase = match get("phase", false) {
        Value::Null => Value::Null,
        Value::String(s) => Value::String(s),
        other => Value::String(other.to_string()),
    };
    m.insert("phase".into(), phase);
    serde_json::to_string(&Value::Object(m)).ok()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn visit(dir: &Path, base: &Path, out: &mut Vec<Artifact>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let entries: Vec<_> = rd
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    let mut subdirs = Vec::new();
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            subdirs.push(path);
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if std::str::from_utf8(&bytes).is_err() {
            continue;
        }
        let rel = path
            .strip_prefix(base)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let is_wp = fnmatch("tasks/WP*.md", &rel);
        let hash = match is_wp {
            true => match wp_projection(&path) {
                Some(p) => sha256_hex(p.as_bytes()),
                None if crate::mission::tasks::frontmatter::WpFile::read(&path).is_err()
                    && bytes.starts_with(b"---") =>
                {
                    continue;
                }
                None => sha256_hex(&bytes),
            },
            false => sha256_hex(&bytes),
        };
        let (key, class, required) = classify(&rel);
        out.push(Artifact {
            path: rel,
            hash,
            size: bytes.len() as u64,
            key,
            class,
            required,
        });
    }
    for d in subdirs {
        visit(&d, base, out);
    }
}

/// Every artifact of the mission directory `dir`: its own files in listing order, then each
/// subdirectory's, depth first (names starting with `.` skipped, files that are not UTF-8 too).
pub fn scan(dir: &Path) -> Vec<Artifact> {
    let mut out = Vec::new();
    visit(dir, dir, &mut out);
    out
}

/// Where the dossier's events belong.
#[derive(Debug, Clone)]
pub struct Namespace<'a> {
    /// The mission directory name.
    pub mission_slug: &'a str,
    /// Its type.
    pub mission_type: &'a str,
    /// The project's uuid.
    pub project_uuid: &'a str,
    /// The mission's target branch.
    pub target_branch: &'a str,
}

/// One dossier event: `(event_type, aggregate_id, payload)`.
pub type DossierEvent = (&'static str, String, Value);

/// The events of a scan: one `MissionDossierArtifactIndexed` per artifact, then the snapshot.
pub fn events(
    ns: &Namespace<'_>,
    artifacts: &[Artifact],
    now: DateTime<Utc>,
    snapshot_id: &str,
) -> Vec<DossierEvent> {
    let namespace = json!({
        "manifest_version": "1",
        "mission_slug": ns.mission_slug,
        "mission_type": ns.mission_type,
        "project_uuid": ns.project_uuid,
        "target_branch": ns.target_branch,
    });
    let at = crate::pyfmt::isoformat(now);
    let mut out: Vec<DossierEvent> = artifacts
        .iter()
        .map(|a| {
            (
                "MissionDossierArtifactIndexed",
                format!("{}:{}", ns.mission_slug, a.path),
                json!({
                    "namespace": namespace,
                    "artifact_id": {"artifact_class": a.class, "mission_type": ns.mission_type, "path": a.path},
                    "content_ref": {"algorithm": "sha256", "hash": a.hash, "size_bytes": a.size},
                    "context_diagnostics": {
                        "artifact_key": a.key,
                        "required_status": if a.required { "required" } else { "optional" },
                    },
                    "indexed_at": at,
                }),
            )
        })
        .collect();
    let mut lines: Vec<String> = artifacts
        .iter()
        .map(|a| format!("{}\t{}", a.path, a.hash))
        .collect();
    lines.sort();
    let required = artifacts.iter().filter(|a| a.required).count();
    let optional = artifacts.len() - required;
    out.push((
        "MissionDossierSnapshotComputed",
        format!("{}:{snapshot_id}", ns.mission_slug),
        json!({
            "algorithm": "sha256",
            "anomaly_count": 0,
            "artifact_count": artifacts.len(),
            "computed_at": at,
            "context_diagnostics": {
                "completeness_status": "complete",
                "optional_artifacts": optional.to_string(),
                "optional_present": optional.to_string(),
                "required_artifacts": required.to_string(),
                "required_present": required.to_string(),
                "snapshot_id": snapshot_id,
            },
            "namespace": namespace,
            "snapshot_hash": format!("sha256:{}", sha256_hex(lines.join("\n").as_bytes())),
        }),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_keyed_and_classed_by_the_manifest_then_by_name() {
        assert_eq!(
            classify("spec.md"),
            ("input.spec.main".into(), "input", true)
        );
        assert_eq!(
            classify("plan.md"),
            ("output.plan.main".into(), "output", true)
        );
        assert_eq!(
            classify("meta.json"),
            ("artifact.meta".into(), "output", false)
        );
        assert_eq!(
            classify("status.events.jsonl"),
            ("artifact.status.events".into(), "output", false)
        );
        assert_eq!(
            classify("tasks/WP01-Greeting_tool.md"),
            ("artifact.wp01-greeting-tool".into(), "output", false)
        );
        assert_eq!(
            classify("analysis-report.md"),
            ("artifact.analysis-report".into(), "evidence", false)
        );
        assert_eq!(
            classify("research.md"),
            ("evidence.research".into(), "evidence", false)
        );
        assert_eq!(
            classify("tasks/README.md"),
            ("artifact.readme".into(), "output", false)
        );
    }

    #[test]
    fn the_snapshot_hashes_the_sorted_path_and_hash_lines() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("tasks")).unwrap();
        std::fs::create_dir_all(t.path().join(".kittify")).unwrap();
        std::fs::write(t.path().join("spec.md"), "s").unwrap();
        std::fs::write(t.path().join("tasks/README.md"), "r").unwrap();
        std::fs::write(t.path().join(".kittify/x"), "hidden").unwrap();
        std::fs::write(t.path().join("bin.dat"), [0xff, 0xfe]).unwrap();
        let a = scan(t.path());
        let paths: Vec<&str> = a.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["spec.md", "tasks/README.md"]);
        let ns = Namespace {
            mission_slug: "m",
            mission_type: "software-dev",
            project_uuid: "u",
            target_branch: "main",
        };
        let ev = events(&ns, &a, Utc::now(), "snap");
        assert_eq!(ev.len(), 3);
        let want = format!(
            "sha256:{}",
            sha256_hex(
                format!(
                    "spec.md\t{}\ntasks/README.md\t{}",
                    sha256_hex(b"s"),
                    sha256_hex(b"r")
                )
                .as_bytes()
            )
        );
        assert_eq!(ev[2].2["snapshot_hash"], want.as_str());
        assert_eq!(ev[2].2["context_diagnostics"]["required_artifacts"], "1");
        assert_eq!(ev[0].1, "m:spec.md");
    }
}

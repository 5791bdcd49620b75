//! What `accept` counts as uncommitted work and which project paths it expects (**interop**: the
//! reference's `git_dirty` filter and the software-dev mission's path conventions, with their
//! sentences).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::mission::git::Repo;

/// `path` relative to `root`, with `/` separators (the path itself when outside it).
pub fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

static OPS_LOG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|/)kitty-ops/[0-9A-HJKMNP-TV-Z]{26}\.jsonl$").unwrap());

/// The files a coordinated mission keeps on its coordination branch, directly in its directory.
const COORD_FILES: [&str; 7] = [
    "acceptance-matrix.json",
    "issue-matrix.md",
    "issue-matrix.json",
    "status.events.jsonl",
    "status.json",
    "decisions.events.jsonl",
    "traces",
];

/// The part of `path` after `kitty-specs/<slug>/` (at the first `kitty-specs` component).
fn in_mission<'a>(path: &'a str, slug: &str) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let at = parts.iter().position(|p| *p == "kitty-specs")?;
    (parts.get(at + 1) == Some(&slug)).then(|| parts[at + 2..].to_vec())
}

/// `fnmatch("review-cycle-*.md")`.
fn review_cycle(name: &str) -> bool {
    name.starts_with("review-cycle-") && name.ends_with(".md")
}

/// Whether a `git status --porcelain` line is acceptance's own bookkeeping, not work.
fn ignored(line: &str, slug: &str, coordinated: bool) -> bool {
    let raw = line.get(3..).unwrap_or_default().trim();
    let path = raw.rsplit_once(" -> ").map_or(raw, |(_, to)| to);
    let rest = in_mission(path, slug);
    if let Some(rest) = &rest
        && rest.len() == 1
        && matches!(rest[0], "acceptance-matrix.json" | "status.json")
    {
        return true;
    }
    let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if base == "meta.json"
        || path.ends_with(".kittify/encoding-provenance/global.jsonl")
        || OPS_LOG.is_match(path)
    {
        return true;
    }
    if !coordinated {
        return false;
    }
    match rest.as_deref() {
        Some([one]) => COORD_FILES.contains(one),
        Some(["traces", _, ..]) => true,
        Some(["tasks", more @ ..]) if more.len() >= 2 => {
            more.last().is_some_and(|n| review_cycle(n))
        }
        _ => false,
    }
}

/// The lines of `porcelain` that count as uncommitted work.
pub fn git_dirty(porcelain: &str, slug: &str, coordinated: bool) -> Vec<String> {
    porcelain
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !ignored(l, slug, coordinated))
        .map(str::to_string)
        .collect()
}

/// The mission's name in the path sentences.
const MISSION_NAME: &str = "Software Dev Kitty";

/// The software-dev mission's path conventions: `(key, declared path, checked in the mission
/// directory)`.
const CONVENTIONS: [(&str, &str, bool); 4] = [
    ("workspace", "src/", false),
    ("tests", "tests/", false),
    ("deliverables", "contracts/", true),
    ("documentation", "docs/", false),
];

/// The software-dev mission's optional artifacts, in its order.
pub const OPTIONAL: [&str; 5] = [
    "data-model.md",
    "contracts",
    "quickstart.md",
    "research.md",
    "checklists",
];

/// Whether the mission's own work needs one of the `missing` convention paths: a lane of
/// `lanes.json` (in `dir`) writes under it, and neither the checkout nor any of the mission's
/// branches holds it. The conventions are the mission type's defaults: a project that lays its
/// code out otherwise (the reference's users pass `--lenient`) is told, not stopped.
pub fn owed(repo: &Repo, dir: &Path, missing: &[&str]) -> bool {
    let Some(lanes) = std::fs::read_to_string(dir.join("lanes.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return false;
    };
    let Some(mission) = lanes["mission_branch"].as_str().filter(|m| !m.is_empty()) else {
        return false;
    };
    let lane_list = lanes["lanes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut branches = vec![mission.to_string()];
    branches.extend(
        lane_list
            .iter()
            .filter_map(|l| l["lane_id"].as_str())
            .map(|id| format!("{mission}-{id}")),
    );
    let scopes: Vec<&str> = lane_list
        .iter()
        .filter_map(|l| l["write_scope"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    missing
        .iter()
        .filter(|p| scopes.iter().any(|scope| scope.starts_with(*p)))
        .any(|p| {
            !branches.iter().any(|b| {
                let spec = format!("{b}:{}", p.trim_end_matches('/'));
                repo.output(&["rev-parse", "-q", "--verify", &spec])
                    .is_ok_and(|o| o.status.success())
            })
        })
}

/// What the path check found.
#[derive(Debug, Default, PartialEq)]
pub struct Paths {
    /// The blocking text (strict), if any path is missing.
    pub violation: Option<String>,
    /// The advisory text (lenient), if any path is missing.
    pub warning: Option<String>,
    /// Whether the missing paths include the mission's `contracts/`.
    pub contracts_missing: bool,
}

/// Check the conventions under `root` and the mission directory `dir`; `strict` decides, given
/// the missing paths (relative to `root`, each ending in `/`), whether they block.
pub fn conventions(root: &Path, dir: &Path, strict: impl FnOnce(&[&str]) -> bool) -> Paths {
    let mut missing = Vec::new();
    let mut contracts_missing = false;
    for (key, declared, in_mission_dir) in CONVENTIONS {
        let full = if in_mission_dir {
            dir.join(declared)
        } else {
            root.join(declared)
        };
        if full.exists() {
            continue;
        }
        let mut resolved = rel(root, &full);
        if !resolved.ends_with('/') {
            resolved.push('/');
        }
        contracts_missing |= in_mission_dir;
        missing.push((key, resolved));
    }
    if missing.is_empty() {
        return Paths::default();
    }
    let warnings: Vec<String> = missing
        .iter()
        .map(|(k, p)| format!("{MISSION_NAME} expects {k} path: {p} (not found)"))
        .collect();
    let dirs: Vec<&str> = missing.iter().map(|(_, p)| p.as_str()).collect();
    let mut suggestions: Vec<String> = dirs.iter().map(|p| format!("mkdir -p {p}")).collect();
    if dirs.len() > 1 {
        suggestions.insert(
            0,
            format!("Create directories in one go: mkdir -p {}", dirs.join(" ")),
        );
    }
    let bullets = |items: &[String]| items.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>();
    if strict(&dirs) {
        let mut lines = vec!["Path Convention Errors:".to_string()];
        lines.extend(bullets(&warnings));
        lines.push(String::new());
        lines.push("Run `accept --lenient` to treat these as warnings instead of blocking errors for this mission run - or, if you want to adopt the convention, see the commands below:".into());
        lines.push(String::new());
        lines.push("Required Actions:".into());
        lines.extend(bullets(&suggestions));
        Paths {
            violation: Some(lines.join("\n")),
            warning: None,
            contracts_missing,
        }
    } else {
        let mut lines = vec!["Path Convention Warnings:".to_string()];
        lines.extend(bullets(&warnings));
        lines.push(String::new());
        lines.push("Suggestions:".into());
        lines.extend(bullets(&suggestions));
        Paths {
            violation: None,
            warning: Some(lines.join("\n")),
            contracts_missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_is_not_dirt_and_work_is() {
        let s = "demo-01ABCDEF";
        let porcelain = format!(
            " M kitty-specs/{s}/spec.md\n?? notes.txt\n?? other/\n?? kitty-ops/\n M kitty-ops/lifecycle.jsonl\n M other/meta.json\n?? kitty-ops/01ARZ3NDEKTSV4RRFFQ69G5FAV.jsonl\n M kitty-specs/{s}/status.events.jsonl\n?? kitty-specs/{s}/status.json\n?? kitty-specs/{s}/tasks/WP01-x/review-cycle-1.md\n M kitty-specs/{s}/acceptance-matrix.json\n D kitty-specs/{s}/lanes.json\nR  a.txt -> kitty-specs/{s}/meta.json\n M kitty-specs/{s}/traces/a.json\n M kitty-specs/other/status.json\n?? kitty-specs/{s}/tasks/WP01-x/notes.md\n?? kitty-specs/{s}/tasks/WP01-x/review-cycle-1.txt\n?? kitty-specs/{s}/tasks/review-cycle-9.md\n"
        );
        assert_eq!(
            git_dirty(&porcelain, s, true),
            vec![
                format!(" M kitty-specs/{s}/spec.md"),
                "?? notes.txt".into(),
                "?? other/".into(),
                "?? kitty-ops/".into(),
                " M kitty-ops/lifecycle.jsonl".into(),
                format!(" D kitty-specs/{s}/lanes.json"),
                " M kitty-specs/other/status.json".into(),
                format!("?? kitty-specs/{s}/tasks/WP01-x/notes.md"),
                format!("?? kitty-specs/{s}/tasks/WP01-x/review-cycle-1.txt"),
                format!("?? kitty-specs/{s}/tasks/review-cycle-9.md"),
            ]
        );
        // A flat mission's log and review copies are work.
        let flat = git_dirty(&porcelain, s, false);
        assert!(flat.contains(&format!(" M kitty-specs/{s}/status.events.jsonl")));
        assert!(flat.contains(&format!(
            "?? kitty-specs/{s}/tasks/WP01-x/review-cycle-1.md"
        )));
        assert!(!flat.contains(&format!("?? kitty-specs/{s}/status.json")));
    }

    #[test]
    fn missing_paths_block_with_their_fixes_or_warn_when_lenient() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("kitty-specs/m");
        std::fs::create_dir_all(t.path().join("src")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let strict = conventions(t.path(), &dir, |missing| {
            assert_eq!(missing, ["tests/", "kitty-specs/m/contracts/", "docs/"]);
            true
        });
        assert_eq!(
            strict.violation.as_deref(),
            Some(
                "Path Convention Errors:\n  - Software Dev Kitty expects tests path: tests/ (not found)\n  - Software Dev Kitty expects deliverables path: kitty-specs/m/contracts/ (not found)\n  - Software Dev Kitty expects documentation path: docs/ (not found)\n\nRun `accept --lenient` to treat these as warnings instead of blocking errors for this mission run - or, if you want to adopt the convention, see the commands below:\n\nRequired Actions:\n  - Create directories in one go: mkdir -p tests/ kitty-specs/m/contracts/ docs/\n  - mkdir -p tests/\n  - mkdir -p kitty-specs/m/contracts/\n  - mkdir -p docs/"
            )
        );
        assert!(strict.contracts_missing && strict.warning.is_none());
        std::fs::create_dir_all(dir.join("contracts")).unwrap();
        std::fs::create_dir_all(t.path().join("docs")).unwrap();
        let lenient = conventions(t.path(), &dir, |_| false);
        assert_eq!(
            lenient.warning.as_deref(),
            Some(
                "Path Convention Warnings:\n  - Software Dev Kitty expects tests path: tests/ (not found)\n\nSuggestions:\n  - mkdir -p tests/"
            )
        );
        assert!(!lenient.contracts_missing);
        std::fs::create_dir_all(t.path().join("tests")).unwrap();
        assert_eq!(conventions(t.path(), &dir, |_| true), Paths::default());
    }
}

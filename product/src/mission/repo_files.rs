//! The repository files the reference's `init` writes outside agent files (`.gitignore` block,
//! `.gitattributes`, the merge drivers in `.git/config`, `.kittify/metadata.yaml`), each only
//! added to: a line, key or file that is there already is left as it is.

use std::path::{Path, PathBuf};

use super::MissionError;
use super::git::repo::Repo;

/// The line that opens the reference's block in `.gitignore`.
pub const GITIGNORE_MARKER: &str = "# Added by Spec Kitty CLI (auto-managed)";

/// Where lane worktrees live; always ignored as a whole.
const WORKTREES_ENTRY: &str = ".worktrees/";

/// What the reference's `init` ignores, in its order: every agent's directory (for all agents,
/// not only the chosen ones), then the runtime files under `.kittify/`, lane worktrees and the ops
/// index.
pub const GITIGNORE_ENTRIES: &[&str] = &[
    ".claude/",
    ".codex/",
    ".vibe/",
    ".pi/",
    ".letta/",
    ".opencode/",
    ".windsurf/",
    ".gemini/",
    ".cursor/rules/spec-kitty.mdc",
    ".cursor/commands/",
    ".cursor/skills/",
    ".qwen/",
    ".kilocode/",
    ".augment/",
    ".amazonq/",
    ".kiro/",
    ".agent/",
    ".github/copilot/",
    ".agents/skills/",
    ".kittify/.dashboard",
    ".kittify/charter/context-state.json",
    ".kittify/derived/",
    ".kittify/dossiers/",
    ".kittify/encoding-provenance/",
    ".kittify/events/",
    ".kittify/lint-report.json",
    ".kittify/logs/",
    ".kittify/merge-state.json",
    ".kittify/migrations/",
    ".kittify/missions/__pycache__/",
    ".kittify/runtime/",
    ".kittify/skills-manifest.json",
    ".kittify/sync-state.json",
    ".kittify/workspaces/",
    WORKTREES_ENTRY,
    "kitty-ops/ops-index.jsonl",
];

/// One git merge driver: its config key, its description, the files it merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeDriver {
    /// `merge-driver-<name>` is the command; `spec-kitty-<name>` the config key.
    pub name: &'static str,
    /// `merge.<key>.name`.
    pub description: &'static str,
    /// The `.gitattributes` patterns mapped to it.
    pub patterns: &'static [&'static str],
}

impl MergeDriver {
    /// `spec-kitty-<name>`.
    pub fn config_key(&self) -> String {
        format!("spec-kitty-{}", self.name)
    }

    /// `merge.<key>.driver`: `spec-kitty` found on PATH, as the reference configures it.
    pub fn command(&self) -> String {
        format!("spec-kitty merge-driver-{} %O %A %B", self.name)
    }
}

/// The reference's six merge drivers, in its order.
pub const MERGE_DRIVERS: &[MergeDriver] = &[
    MergeDriver {
        name: "event-log",
        description: "Spec Kitty event log union merge",
        patterns: &[
            "kitty-specs/**/status.events.jsonl",
            "kitty-specs/**/decisions.events.jsonl",
        ],
    },
    MergeDriver {
        name: "meta",
        description: "Spec Kitty mission meta field merge",
        patterns: &["kitty-specs/**/meta.json"],
    },
    MergeDriver {
        name: "traces",
        description: "Spec Kitty mission traces union merge",
        patterns: &["kitty-specs/**/traces/*.md"],
    },
    MergeDriver {
        name: "acceptance-matrix",
        description: "Spec Kitty acceptance matrix filled-side merge",
        patterns: &["kitty-specs/**/acceptance-matrix.json"],
    },
    MergeDriver {
        name: "issue-matrix",
        description: "Spec Kitty issue matrix row-aware merge",
        patterns: &["kitty-specs/**/issue-matrix.json"],
    },
    MergeDriver {
        name: "review-cycle",
        description: "Spec Kitty review-cycle verdict collision refusal",
        patterns: &["kitty-specs/**/tasks/*/review-cycle-*.md"],
    },
];

/// Files marked generated for code review (after the merge lines), in the reference's order.
const GENERATED: &[&str] = &[
    "kitty-specs/**/status.json linguist-generated=true",
    "kitty-specs/**/status.events.jsonl linguist-generated=true",
    "kitty-specs/**/lanes.json linguist-generated=true",
    "kitty-specs/**/mission-events.jsonl linguist-generated=true",
    "kitty-specs/**/snapshot-latest.json linguist-generated=true",
    "kitty-specs/**/acceptance-matrix.json linguist-generated=true",
    "kitty-specs/**/occurrence_map.yaml linguist-generated=true",
    "kitty-specs/**/tasks/** linguist-generated=true",
    "kitty-specs/**/research/evidence-log.csv linguist-generated=true",
    "kitty-specs/**/research/source-register.csv linguist-generated=true",
    "kitty-specs/**/test-transcripts/** linguist-generated=true",
    "kitty-specs/**/baseline/** linguist-generated=true",
    "kitty-specs/**/canary-evidence/** linguist-generated=true",
    ".kittify/workspaces/** linguist-generated=true",
    ".kittify/workspaces/** -diff",
    ".kittify/migrations/** linguist-generated=true",
    ".kittify/migrations/** -diff",
];

/// Every `.gitattributes` line the reference's `init` requires, in its order.
pub fn gitattributes_lines() -> Vec<String> {
    let merges = MERGE_DRIVERS.iter().flat_map(|d| {
        d.patterns
            .iter()
            .map(move |p| format!("{p} merge={}", d.config_key()))
    });
    merges
        .chain(GENERATED.iter().map(|l| l.to_string()))
        .collect()
}

/// The project schema the reference 3.2.7 writes, and the capabilities of that schema.
const SCHEMA_VERSION: u32 = 3;
const SCHEMA_CAPABILITIES: &[&str] = &[
    "canonical_context",
    "event_log_authority",
    "ownership_manifest",
    "thin_shims",
];

/// The reference release whose repository layout kitty writes (the reference's upgrade checks
/// compare it with their own version).
pub const LAYOUT_VERSION: &str = "3.2.7";

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It did not exist.
    Created,
    /// Lines or keys were added.
    Updated,
    /// Everything was there.
    Unchanged,
}

/// What [`ensure`] did to each file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RepoFiles {
    /// `.gitignore`.
    #[serde(rename = ".gitignore")]
    pub gitignore: Change,
    /// `.gitattributes`.
    #[serde(rename = ".gitattributes")]
    pub gitattributes: Change,
    /// The `merge.spec-kitty-*` entries of `.git/config`.
    pub merge_drivers: Change,
    /// `.kittify/metadata.yaml`.
    #[serde(rename = ".kittify/metadata.yaml")]
    pub metadata: Change,
}

impl RepoFiles {
    /// The names of what changed, for a sentence.
    pub fn changed(&self) -> Vec<&'static str> {
        [
            (".gitignore", self.gitignore),
            (".gitattributes", self.gitattributes),
            ("merge drivers", self.merge_drivers),
            (".kittify/metadata.yaml", self.metadata),
        ]
        .into_iter()
        .filter(|(_, c)| *c != Change::Unchanged)
        .map(|(n, _)| n)
        .collect()
    }
}

/// Add whatever of the four is missing in the repository at `repo.top()`.
pub fn ensure(repo: &Repo, now: chrono::DateTime<chrono::Utc>) -> Result<RepoFiles, MissionError> {
    let top = repo.top();
    Ok(RepoFiles {
        gitignore: ensure_gitignore(top)?,
        gitattributes: ensure_gitattributes(top)?,
        merge_drivers: ensure_merge_drivers(repo)?,
        metadata: ensure_metadata(top, now)?,
    })
}

/// Read a text file that may be absent; a symlink is refused (the reference neither reads nor
/// writes through one).
fn read_optional(path: &Path) -> Result<Option<String>, MissionError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(MissionError::io(
            path,
            std::io::Error::other(
                "it is a symbolic link, which spec-kitty does not write through; replace it with a regular file",
            ),
        )),
        Ok(_) => std::fs::read_to_string(path)
            .map(Some)
            .map_err(|e| MissionError::read(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(MissionError::read(path, e)),
    }
}

/// Replace `path` atomically, keeping its permissions.
fn write_atomic(path: &Path, text: &str) -> Result<(), MissionError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp: PathBuf = dir.join(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, text).map_err(|e| MissionError::io(&tmp, e))?;
    if let Ok(m) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, m.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        MissionError::io(path, e)
    })
}

/// The reference's rule: keep every line, add the marker (after a blank line) and each missing
/// entry at the end, in the file's own line ending; `.worktrees/` is added again when a later
/// negation could re-include part of it.
fn ensure_gitignore(top: &Path) -> Result<Change, MissionError> {
    let path = top.join(".gitignore");
    let existing = read_optional(&path)?;
    let text = existing.as_deref().unwrap_or("");
    let Some(new) = gitignore_with_block(text, existing.is_some()) else {
        return Ok(Change::Unchanged);
    };
    write_atomic(&path, &new)?;
    Ok(match existing {
        None => Change::Created,
        Some(_) => Change::Updated,
    })
}

/// The new `.gitignore` text, or `None` when nothing is missing.
fn gitignore_with_block(text: &str, existed: bool) -> Option<String> {
    let eol = if text.contains("\r\n") || (!existed && cfg!(windows)) {
        "\r\n"
    } else {
        "\n"
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut changed = false;
    let mut append = |lines: &mut Vec<String>, entries: &[&str], force: bool| {
        if !force && entries.iter().all(|e| lines.iter().any(|l| l == e)) {
            return;
        }
        if !lines.iter().any(|l| l == GITIGNORE_MARKER) {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(GITIGNORE_MARKER.to_string());
        }
        for e in entries {
            if force || !lines.iter().any(|l| l == e) {
                lines.push(e.to_string());
            }
        }
        changed = true;
    };
    append(&mut lines, GITIGNORE_ENTRIES, false);
    if worktrees_negated(&lines) {
        append(&mut lines, &[WORKTREES_ENTRY], true);
    }
    if !changed {
        return None;
    }
    if lines.last().is_some_and(|l| !l.is_empty()) {
        lines.push(String::new());
    }
    Some(lines.join(eol))
}

/// A negation after the last `.worktrees/` line may re-include part of the worktrees.
fn worktrees_negated(lines: &[String]) -> bool {
    let entries: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    match entries.iter().rposition(|e| *e == WORKTREES_ENTRY) {
        Some(i) => entries[i + 1..].iter().any(|e| e.starts_with('!')),
        None => true,
    }
}

/// Missing lines are appended; the file ends with one newline.
fn ensure_gitattributes(top: &Path) -> Result<Change, MissionError> {
    let path = top.join(".gitattributes");
    let existing = read_optional(&path)?;
    let mut lines: Vec<String> = existing
        .as_deref()
        .unwrap_or("")
        .lines()
        .map(str::to_string)
        .collect();
    let missing: Vec<String> = gitattributes_lines()
        .into_iter()
        .filter(|l| !lines.contains(l))
        .collect();
    if missing.is_empty() {
        return Ok(Change::Unchanged);
    }
    lines.extend(missing);
    let text = format!("{}\n", lines.join("\n").trim_end());
    write_atomic(&path, &text)?;
    Ok(match existing {
        None => Change::Created,
        Some(_) => Change::Updated,
    })
}

/// `merge.spec-kitty-<name>.{name,driver}` in the repository's own config, set where different.
/// The six merge drivers in the repository's git config, as the reference's `init` and
/// `implement` register them.
pub fn ensure_merge_drivers(repo: &Repo) -> Result<Change, MissionError> {
    let current = repo.local_config(r"^merge\.spec-kitty-")?;
    let mut changed = false;
    for d in MERGE_DRIVERS {
        for (field, value) in [("name", d.description.to_string()), ("driver", d.command())] {
            let key = format!("merge.{}.{field}", d.config_key());
            if current.get(&key) != Some(&value) {
                repo.set_local_config(&key, &value)?;
                changed = true;
            }
        }
    }
    Ok(match (changed, current.is_empty()) {
        (false, _) => Change::Unchanged,
        (true, true) => Change::Created,
        (true, false) => Change::Updated,
    })
}

/// Created when absent (never rewritten): the layout version, the schema and its capabilities,
/// the platform, no migrations applied.
fn ensure_metadata(top: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<Change, MissionError> {
    let path = top.join(".kittify").join("metadata.yaml");
    if read_optional(&path)?.is_some() {
        return Ok(Change::Unchanged);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| MissionError::io(dir, e))?;
    }
    write_atomic(&path, &metadata_yaml(now))?;
    Ok(Change::Created)
}

/// The text of a fresh `metadata.yaml`, in the reference's shape.
fn metadata_yaml(now: chrono::DateTime<chrono::Utc>) -> String {
    let caps: String = SCHEMA_CAPABILITIES
        .iter()
        .map(|c| format!("    {c}: true\n"))
        .collect();
    format!(
        "# Spec Kitty project metadata, written by kitty's spec-kitty init.\n\
         # spec-kitty upgrade keeps it current; do not edit it by hand.\n\n\
         spec_kitty:\n  schema_version: {SCHEMA_VERSION}\n  version: {LAYOUT_VERSION}\n  \
         initialized_at: '{at}'\n  last_upgraded_at:\n  schema_capabilities:\n{caps}\
         environment:\n  platform: {platform}\n  platform_version: {os} {arch}\n\
         migrations:\n  applied: []\n",
        at = crate::pyfmt::isoformat(now),
        platform = python_platform(),
        os = std::env::consts::OS,
        arch = std::env::consts::ARCH,
    )
}

/// The platform name as Python's `sys.platform` spells it.
fn python_platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_gitignore_is_the_marker_and_every_entry() {
        let text = gitignore_with_block("", false).unwrap();
        let want = format!("{GITIGNORE_MARKER}\n{}\n", GITIGNORE_ENTRIES.join("\n"));
        if cfg!(windows) {
            assert_eq!(text, want.replace('\n', "\r\n"));
        } else {
            assert_eq!(text, want);
        }
    }

    #[test]
    fn an_existing_gitignore_keeps_its_lines_and_gains_only_what_is_missing() {
        let text = gitignore_with_block("target/\n.claude/\n", true).unwrap();
        assert!(text.starts_with(&format!(
            "target/\n.claude/\n\n{GITIGNORE_MARKER}\n.codex/\n"
        )));
        assert_eq!(text.matches(".claude/").count(), 1);
        assert!(text.ends_with("kitty-ops/ops-index.jsonl\n"));
        assert_eq!(gitignore_with_block(&text, true), None, "idempotent");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = gitignore_with_block("target/\r\n", true).unwrap();
        assert!(text.starts_with("target/\r\n\r\n# Added"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn a_later_negation_re_asserts_the_worktrees() {
        let full = gitignore_with_block("", false)
            .unwrap()
            .replace("\r\n", "\n");
        let negated = format!("{full}!.worktrees/keep\n");
        let text = gitignore_with_block(&negated, true).unwrap();
        assert!(text.ends_with("!.worktrees/keep\n.worktrees/\n"), "{text}");
        assert_eq!(gitignore_with_block(&text, true), None);
    }

    #[test]
    fn the_attributes_are_the_seven_merge_lines_then_the_generated_ones() {
        let lines = gitattributes_lines();
        assert_eq!(lines.len(), 24);
        assert_eq!(
            lines[0],
            "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log"
        );
        assert_eq!(lines.iter().filter(|l| l.contains(" merge=")).count(), 7);
        assert_eq!(lines[23], ".kittify/migrations/** -diff");
    }

    #[test]
    fn metadata_names_the_layout_schema_and_time() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00.5+00:00")
            .unwrap()
            .to_utc();
        let y = metadata_yaml(t);
        for want in [
            "\nspec_kitty:\n  schema_version: 3\n  version: 3.2.7\n",
            "  initialized_at: '2026-12-04T10:00:00.500000+00:00'\n  last_upgraded_at:\n",
            "    thin_shims: true\nenvironment:\n",
            "migrations:\n  applied: []\n",
        ] {
            assert!(y.contains(want), "{want:?} in\n{y}");
        }
        let parsed: serde_yaml_ng::Value = serde_yaml_ng::from_str(&y).unwrap();
        assert_eq!(
            parsed["spec_kitty"]["schema_capabilities"]["canonical_context"],
            true
        );
        assert!(parsed["spec_kitty"]["last_upgraded_at"].is_null());
    }
}

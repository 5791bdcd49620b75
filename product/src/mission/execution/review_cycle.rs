//! A review verdict's durable record (**interop**: the reference's `review-cycle-N.md` artifact
//! under the work package's `tasks/<WP file stem>/` directory, its frontmatter and body, the
//! `review-cycle://` pointer the status line carries, and the commit that lands it on the status
//! branch).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use serde_json::{Value, json};

use super::transition::Surface;
use super::{ExecError, Target};
use crate::env::Env;
use crate::mission::status::reduce::WpState;
use crate::mission::tasks::yaml_out::scalar;

/// One verdict artifact, as the reference writes it.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// N in `review-cycle-N.md`.
    pub cycle: u32,
    /// `WPnn`.
    pub wp_id: String,
    /// The mission's directory name.
    pub mission_slug: String,
    /// Who gave the verdict (`--agent`, else `user`).
    pub reviewer_agent: String,
    /// When, to the second.
    pub reviewed_at: DateTime<Utc>,
    /// The command that reproduces the verdict.
    pub reproduction_command: String,
    /// The body after the frontmatter.
    pub body: String,
}

impl Artifact {
    /// The file name.
    pub fn file_name(&self) -> String {
        format!("review-cycle-{}.md", self.cycle)
    }

    /// The file's bytes: sorted frontmatter keys, block style, then a blank line and the body.
    pub fn render(&self) -> String {
        let reviewed_at = self.reviewed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        format!(
            "---\naffected_files: []\ncycle_number: {}\nmission_slug: {}\nreproduction_command: {}\nreviewed_at: {}\nreviewer_agent: {}\nwp_id: {}\n---\n\n{}",
            self.cycle,
            scalar(&self.mission_slug),
            scalar(&self.reproduction_command),
            scalar(&reviewed_at),
            scalar(&self.reviewer_agent),
            scalar(&self.wp_id),
            self.body
        )
    }

    /// `review-cycle://<slug>/<WP file stem>/review-cycle-N.md`.
    pub fn pointer(&self, wp_stem: &str) -> String {
        format!(
            "review-cycle://{}/{wp_stem}/{}",
            self.mission_slug,
            self.file_name()
        )
    }

    /// `chore: Record review-cycle-N (<verdict>) for WPnn on <slug>`.
    pub fn commit_message(&self, verdict: &str) -> String {
        format!(
            "chore: Record review-cycle-{} ({verdict}) for {} on {}",
            self.cycle, self.wp_id, self.mission_slug
        )
    }
}

/// The directory of a work package's review artifacts: `tasks/<WP file stem>/` beside its file.
pub fn dir_of(wp_file: &Path) -> PathBuf {
    let stem = wp_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    wp_file.with_file_name(stem)
}

/// The review-cycle files already in `dir` (any name the `review-cycle-*.md` pattern matches).
pub fn existing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("review-cycle-") && n.ends_with(".md"))
        .collect();
    names.sort();
    names
}

/// An approval's recorded verdict: what its status line carries and the document reports.
#[derive(Debug)]
pub struct Verdict {
    /// `review-cycle://...`.
    pub pointer: String,
    /// Who approved (`--agent`, else `user`).
    pub reviewer: String,
    /// The artifact in the primary checkout.
    pub feedback_path: PathBuf,
    /// Its path from the repository's top.
    pub evidence_ref: String,
    /// The reviewer the policy metadata names: git's `user.name`, else `unknown`.
    pub tool: String,
}

impl Verdict {
    /// The `evidence` of the status line.
    pub fn evidence(&self) -> Value {
        json!({"review": {"reference": self.pointer, "reviewer": self.reviewer, "verdict": "approved"}})
    }

    /// The `review_result` of the status line.
    pub fn review_result(&self) -> Value {
        json!({
            "feedback_path": self.feedback_path,
            "reference": self.pointer,
            "reviewer": self.reviewer,
            "verdict": "approved",
        })
    }
}

/// Why an approval from in_review is the reference's to record, if it is: no coordination
/// branch to commit its verdict on, auto-commit off (a local-only verdict), an earlier verdict
/// or review cycle (the reference adopts or supersedes those), or an issue matrix to check.
pub fn approval_reference_only(
    t: &Target,
    surface: &Surface,
    wp_path: &std::path::Path,
    state: &WpState,
    auto_commit: bool,
) -> Option<String> {
    if t.status_dir == t.entry.dir {
        return Some("an approval on a single-branch mission".into());
    }
    if !auto_commit {
        return Some("an approval without auto-commit (a verdict recorded locally)".into());
    }
    if state
        .fields
        .get("review_result")
        .is_some_and(|r| !r.is_null())
    {
        return Some("a work package with an earlier review verdict".into());
    }
    let stem = wp_path.file_stem().unwrap_or_default();
    let dirs = [dir_of(wp_path), surface.dir.join("tasks").join(stem)];
    if dirs.iter().any(|d| !existing(d).is_empty()) {
        return Some("a work package with earlier review cycles".into());
    }
    [&t.entry.dir, &surface.dir]
        .iter()
        .any(|d| d.join("issue-matrix.md").exists())
        .then(|| "a mission with an issue matrix".into())
}

/// Write the approval's review-cycle artifact in the primary checkout and commit it on the
/// status branch (the reference leaves the primary copy untracked).
pub fn record_approval(
    env: &Env,
    t: &Target,
    surface: &Surface,
    wp_path: &std::path::Path,
    (wp, agent): (&str, Option<&str>),
    note: Option<&str>,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Verdict, ExecError> {
    let slug = &t.entry.slug;
    let reviewer = agent.unwrap_or("user").to_string();
    let reference = note.map_or_else(|| format!("approval:{wp}"), str::to_string);
    let artifact = Artifact {
        cycle: 1,
        wp_id: wp.to_string(),
        mission_slug: slug.clone(),
        reviewer_agent: reviewer.clone(),
        reviewed_at: now(),
        reproduction_command: format!(
            "spec-kitty agent tasks move-task {} --to approved --mission {slug}",
            wp
        ),
        body: format!("Approved by {reviewer}: {reference}\n"),
    };
    let stem = wp_path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let bytes = artifact.render();
    let primary = dir_of(wp_path).join(artifact.file_name());
    let coord = surface
        .dir
        .join("tasks")
        .join(&stem)
        .join(artifact.file_name());
    for path in [&primary, &coord] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| crate::mission::MissionError::io(dir, e))?;
        }
        crate::mission::planning::write_atomic(path, bytes.as_bytes())?;
    }
    let top = surface.repo.top().to_path_buf();
    let rel = coord
        .strip_prefix(&top)
        .unwrap_or(&coord)
        .to_string_lossy()
        .replace('\\', "/");
    crate::mission::planning::commit::commit_on(
        env,
        &surface.repo,
        &surface.branch,
        &[rel],
        &artifact.commit_message("approved"),
    )?;
    let tool = t
        .repo
        .output(&["config", "user.name"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".into());
    Ok(Verdict {
        pointer: artifact.pointer(&stem),
        reviewer,
        evidence_ref: primary
            .strip_prefix(&t.root)
            .unwrap_or(&primary)
            .to_string_lossy()
            .replace('\\', "/"),
        feedback_path: primary,
        tool,
    })
}

/// Whether `path` (a file or directory under the mission's `tasks/`, from the primary
/// checkout's top `root`) holds only review-cycle artifacts that `branch` holds byte for byte:
/// the copy an approval leaves behind once its verdict is committed on the coordination branch.
/// The reference counts such a copy as the next package's uncommitted work and refuses its
/// handoff; kitty passes it by (the `verdict_copy` difference).
pub fn is_committed_copy(
    root: &Path,
    repo: &crate::mission::git::Repo,
    slug: &str,
    branch: &str,
    path: &str,
) -> bool {
    if !path.starts_with(&format!("kitty-specs/{slug}/tasks/")) {
        return false;
    }
    let mut files = Vec::new();
    collect_files(&root.join(path), &mut files);
    !files.is_empty()
        && files.iter().all(|f| {
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            let rel = f
                .strip_prefix(root)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/");
            name.starts_with("review-cycle-")
                && name.ends_with(".md")
                && std::fs::read(f).ok() == repo.show_file(branch, &rel).ok().flatten()
        })
}

/// Every file at or under `path`.
fn collect_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
            collect_files(&e.path(), out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact() -> Artifact {
        Artifact {
            cycle: 1,
            wp_id: "WP01".into(),
            mission_slug: "demo-01ABCDEF".into(),
            reviewer_agent: "user".into(),
            reviewed_at: DateTime::parse_from_rfc3339("2026-12-05T11:22:33.456Z")
                .unwrap()
                .with_timezone(&Utc),
            reproduction_command:
                "spec-kitty agent tasks move-task WP01 --to approved --mission demo-01ABCDEF".into(),
            body: "Approved by user: Review passed\n".into(),
        }
    }

    #[test]
    fn an_approval_is_written_with_sorted_keys_a_quoted_time_and_its_body() {
        assert_eq!(
            artifact().render(),
            "---\naffected_files: []\ncycle_number: 1\nmission_slug: demo-01ABCDEF\nreproduction_command: spec-kitty agent tasks move-task WP01 --to approved --mission demo-01ABCDEF\nreviewed_at: '2026-12-05T11:22:33Z'\nreviewer_agent: user\nwp_id: WP01\n---\n\nApproved by user: Review passed\n"
        );
    }

    #[test]
    fn the_pointer_message_and_directory_name_the_cycle_and_the_package_file() {
        let a = artifact();
        assert_eq!(
            a.pointer("WP01-greeting"),
            "review-cycle://demo-01ABCDEF/WP01-greeting/review-cycle-1.md"
        );
        assert_eq!(
            a.commit_message("approved"),
            "chore: Record review-cycle-1 (approved) for WP01 on demo-01ABCDEF"
        );
        assert_eq!(
            dir_of(Path::new("/m/tasks/WP01-greeting.md")),
            Path::new("/m/tasks/WP01-greeting")
        );
    }

    #[test]
    fn existing_lists_only_review_cycle_files() {
        let d = tempfile::tempdir().unwrap();
        for n in ["review-cycle-2.md", "review-cycle-1.md", "notes.md"] {
            std::fs::write(d.path().join(n), "x").unwrap();
        }
        assert_eq!(
            existing(d.path()),
            ["review-cycle-1.md", "review-cycle-2.md"]
        );
        assert!(existing(&d.path().join("absent")).is_empty());
    }
}

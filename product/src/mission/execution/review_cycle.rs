//! A review verdict's durable record (**interop**: the reference's `review-cycle-N.md` artifact
//! under the work package's `tasks/<WP file stem>/` directory, its frontmatter and body, the
//! `review-cycle://` pointer the status line carries, and the commit that lands it on the status
//! branch).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

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

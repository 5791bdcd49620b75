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
    /// The command that reproduces the verdict (an approval's; a rejection has none).
    pub reproduction_command: Option<String>,
    /// The body after the frontmatter.
    pub body: String,
}

impl Artifact {
    /// The file name.
    pub fn file_name(&self) -> String {
        format!("review-cycle-{}.md", self.cycle)
    }

    /// The file's bytes: sorted frontmatter keys, block style, then a blank line and the body
    /// (when there is one).
    pub fn render(&self) -> String {
        let reviewed_at = self.reviewed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let reproduction = self
            .reproduction_command
            .as_deref()
            .map_or_else(String::new, |c| format!(" {}", scalar(c)));
        let mut text = format!(
            "---\naffected_files: []\ncycle_number: {}\nmission_slug: {}\nreproduction_command:{reproduction}\nreviewed_at: {}\nreviewer_agent: {}\nwp_id: {}\n---\n",
            self.cycle,
            scalar(&self.mission_slug),
            scalar(&reviewed_at),
            scalar(&self.reviewer_agent),
            scalar(&self.wp_id),
        );
        if !self.body.is_empty() {
            text.push('\n');
            text.push_str(&self.body);
        }
        text
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

/// The numbers of the `review-cycle-<n>.md` files in `dir`; `Err` names a file the pattern
/// matches whose number cannot be read (the reference refuses to number the next cycle then).
pub fn numbers(dir: &Path) -> Result<Vec<u32>, String> {
    existing(dir)
        .into_iter()
        .map(|name| {
            name.strip_prefix("review-cycle-")
                .and_then(|n| n.strip_suffix(".md"))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse().ok())
                .ok_or(name)
        })
        .collect()
}

/// The next cycle's number: one above the highest in either directory (the primary checkout's
/// copies, which the reference counts, and the status branch's committed ones, so a deleted
/// local copy never makes a new verdict overwrite a committed one).
pub fn next_number(dirs: &[PathBuf]) -> Result<u32, String> {
    let mut max = 0;
    for d in dirs {
        max = numbers(d)?.into_iter().fold(max, u32::max);
    }
    Ok(max + 1)
}

/// The number of a review-cycle file in `dir` that already says `body` from `reviewer`: the
/// verdict is adopted (recorded again under that cycle) instead of written as a new one, as the
/// reference does. A verdict whose recording was interrupted after its file was written is
/// completed this way by the next run.
pub fn adoptable(dir: &Path, reviewer: &str, body: &str) -> Option<u32> {
    existing(dir).iter().find_map(|name| {
        let n: u32 = name
            .strip_prefix("review-cycle-")?
            .strip_suffix(".md")?
            .parse()
            .ok()?;
        let text = std::fs::read_to_string(dir.join(name)).ok()?;
        let (front, rest) = text
            .strip_prefix("---\n")
            .and_then(|t| t.split_once("\n---\n"))?;
        (front
            .lines()
            .any(|l| l.trim_end() == format!("reviewer_agent: {}", scalar(reviewer)))
            && rest.trim_start_matches('\n') == body)
            .then_some(n)
    })
}

/// What a review decided, and what its artifact's body says.
#[derive(Debug, Clone, Copy)]
pub enum Decision<'a> {
    /// Approved: the note (else `approval:WPnn`) is its reference.
    Approved {
        /// `--note`, trimmed.
        note: Option<&'a str>,
    },
    /// Changes requested: the feedback file's text, as it is.
    Rejected {
        /// The feedback.
        feedback: &'a str,
    },
}

impl Decision<'_> {
    /// The verdict the status line records.
    pub fn verdict(self) -> &'static str {
        match self {
            Self::Approved { .. } => "approved",
            Self::Rejected { .. } => "changes_requested",
        }
    }

    /// The word in the record commit's message.
    fn word(self) -> &'static str {
        match self {
            Self::Approved { .. } => "approved",
            Self::Rejected { .. } => "rejected",
        }
    }

    /// The artifact's body.
    pub fn body(self, wp: &str, reviewer: &str) -> String {
        match self {
            Self::Approved { note } => format!(
                "Approved by {reviewer}: {}\n",
                note.map_or_else(|| format!("approval:{wp}"), str::to_string)
            ),
            Self::Rejected { feedback } => feedback.to_string(),
        }
    }
}

/// A recorded verdict: what its status line carries and the document reports.
#[derive(Debug)]
pub struct Verdict {
    /// `approved` or `changes_requested`.
    pub verdict: &'static str,
    /// `review-cycle://...`.
    pub pointer: String,
    /// Who reviewed (`--agent`, else `user`).
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
        json!({"review": {"reference": self.pointer, "reviewer": self.reviewer, "verdict": self.verdict}})
    }

    /// The `review_result` of the status line.
    pub fn review_result(&self) -> Value {
        json!({
            "feedback_path": self.feedback_path,
            "reference": self.pointer,
            "reviewer": self.reviewer,
            "verdict": self.verdict,
        })
    }
}

/// Why a verdict on a package in review is the reference's to record, if it is: no
/// coordination branch to commit it on, auto-commit off (a local-only verdict), an approval
/// over a verdict other than a request for changes, a cycle file the reference could not
/// number, or an issue matrix to check.
pub fn reference_only(
    t: &Target,
    surface: &Surface,
    wp_path: &Path,
    state: &WpState,
    (decision, auto_commit): (Decision<'_>, bool),
) -> Option<String> {
    if t.status_dir == t.entry.dir {
        return Some("a verdict on a single-branch mission".into());
    }
    if !auto_commit {
        return Some("a verdict without auto-commit (recorded locally)".into());
    }
    if let Decision::Approved { .. } = decision
        && let Some(earlier) = state.fields.get("review_result").filter(|r| !r.is_null())
        && earlier.get("verdict").and_then(Value::as_str) != Some("changes_requested")
    {
        return Some("a work package with an earlier review verdict".into());
    }
    if let Err(name) = next_number(&[dir_of(wp_path), coord_dir(surface, wp_path)]) {
        return Some(format!("a review-cycle file named {name}"));
    }
    issue_matrix(t, surface)
}

/// Why a verdict is the reference's when the mission has an issue matrix (in either checkout):
/// it checks the matrix before approving.
pub fn issue_matrix(t: &Target, surface: &Surface) -> Option<String> {
    [&t.entry.dir, &surface.dir]
        .iter()
        .any(|d| d.join("issue-matrix.md").exists())
        .then(|| "a mission with an issue matrix".into())
}

/// The package's review directory in the status worktree.
fn coord_dir(surface: &Surface, wp_path: &Path) -> PathBuf {
    surface
        .dir
        .join("tasks")
        .join(wp_path.file_stem().unwrap_or_default())
}

/// Write the verdict's next review-cycle artifact in the primary checkout and commit it on the
/// status branch (the reference leaves the primary copy untracked); a cycle that already says
/// the same is adopted instead (committed if it is not yet).
pub fn record(
    env: &Env,
    t: &Target,
    surface: &Surface,
    wp_path: &Path,
    (wp, reviewer): (&str, &str),
    decision: Decision<'_>,
    now: &dyn Fn() -> DateTime<Utc>,
) -> Result<Verdict, ExecError> {
    let slug = &t.entry.slug;
    let primary_dir = dir_of(wp_path);
    let coord_dir = coord_dir(surface, wp_path);
    let body = decision.body(wp, reviewer);
    let adopted = adoptable(&primary_dir, reviewer, &body);
    let cycle = match adopted {
        Some(n) => n,
        None => next_number(&[primary_dir.clone(), coord_dir.clone()]).unwrap_or(1),
    };
    let artifact = Artifact {
        cycle,
        wp_id: wp.to_string(),
        mission_slug: slug.clone(),
        reviewer_agent: reviewer.to_string(),
        reviewed_at: now(),
        reproduction_command: matches!(decision, Decision::Approved { .. }).then(|| {
            format!("spec-kitty agent tasks move-task {wp} --to approved --mission {slug}")
        }),
        body,
    };
    let stem = wp_path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let primary = primary_dir.join(artifact.file_name());
    let coord = coord_dir.join(artifact.file_name());
    let bytes = match adopted {
        Some(_) => {
            std::fs::read(&primary).map_err(|e| crate::mission::MissionError::io(&primary, e))?
        }
        None => artifact.render().into_bytes(),
    };
    for path in [&primary, &coord] {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| crate::mission::MissionError::io(dir, e))?;
        }
        if std::fs::read(path).ok().as_deref() != Some(bytes.as_slice()) {
            crate::mission::planning::write_atomic(path, &bytes)?;
        }
    }
    crate::mission::planning::commit::commit_on(
        env,
        &surface.repo,
        &surface.branch,
        &[super::transition::rel(surface.repo.top(), &coord)],
        &artifact.commit_message(decision.word()),
    )?;
    let tool = reviewer_name(t);
    Ok(Verdict {
        verdict: decision.verdict(),
        pointer: artifact.pointer(&stem),
        reviewer: reviewer.to_string(),
        evidence_ref: super::transition::rel(&t.root, &primary),
        feedback_path: primary,
        tool,
    })
}

/// The reviewer an approval's policy metadata names: git's `user.name`, else `unknown` (the
/// reference's detection).
pub fn reviewer_name(t: &Target) -> String {
    t.repo
        .output(&["config", "user.name"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether `path` (a file or directory under the mission's `tasks/`, from the primary
/// checkout's top `root`) holds only a review's records: review-cycle artifacts that `branch`
/// holds byte for byte (the copy a verdict leaves behind once it is committed on the
/// coordination branch) or that the coordination worktree `pending` holds byte for byte (a
/// verdict whose commit was interrupted: the next verdict adopts and commits it), and files
/// that `benign` passes one by one (the review's feedback file). The reference counts such a copy, or a directory of them it sees as one untracked
/// entry, as the package's uncommitted work and refuses its handoff; kitty passes it by (the
/// `verdict_copy` difference).
pub fn is_review_record(
    root: &Path,
    repo: &crate::mission::git::Repo,
    (slug, branch, pending): (&str, &str, &Path),
    path: &str,
    benign: &dyn Fn(&str) -> bool,
) -> bool {
    if !path.starts_with(&format!("kitty-specs/{slug}/tasks/")) {
        return false;
    }
    let mut files = Vec::new();
    collect_files(&root.join(path), &mut files);
    !files.is_empty()
        && files.iter().all(|f| {
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            let rel = super::transition::rel(root, f);
            let recorded = name.starts_with("review-cycle-") && name.ends_with(".md") && {
                let bytes = std::fs::read(f).ok();
                bytes.is_some()
                    && (bytes == repo.show_file(branch, &rel).ok().flatten()
                        || bytes == std::fs::read(pending.join(&rel)).ok())
            };
            recorded || (!name.starts_with("review-cycle-") && benign(&rel))
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
            reproduction_command: Some(
                "spec-kitty agent tasks move-task WP01 --to approved --mission demo-01ABCDEF"
                    .into(),
            ),
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
    fn a_rejection_has_no_reproduction_command_and_the_feedback_as_it_is() {
        let mut a = artifact();
        a.reproduction_command = None;
        a.body = Decision::Rejected {
            feedback: "**Issue**: x\n\n",
        }
        .body("WP01", "user");
        let text = a.render();
        assert!(
            text.contains("\nreproduction_command:\nreviewed_at: '"),
            "{text}"
        );
        assert!(text.ends_with("---\n\n**Issue**: x\n\n"), "{text}");
        a.body = String::new();
        assert!(a.render().ends_with("wp_id: WP01\n---\n"));
        assert_eq!(
            Decision::Approved { note: None }.body("WP02", "claude"),
            "Approved by claude: approval:WP02\n"
        );
        assert_eq!(
            Decision::Rejected { feedback: "" }.verdict(),
            "changes_requested"
        );
        assert_eq!(Decision::Approved { note: None }.word(), "approved");
        assert_eq!(Decision::Rejected { feedback: "" }.word(), "rejected");
    }

    #[test]
    fn the_next_cycle_is_one_above_the_highest_in_either_directory() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let dirs = [a.path().to_path_buf(), b.path().to_path_buf()];
        assert_eq!(next_number(&dirs), Ok(1));
        std::fs::write(a.path().join("review-cycle-1.md"), "x").unwrap();
        std::fs::write(b.path().join("review-cycle-3.md"), "x").unwrap();
        assert_eq!(next_number(&dirs), Ok(4));
        std::fs::write(b.path().join("review-cycle-+5.md"), "x").unwrap();
        assert_eq!(next_number(&dirs), Err("review-cycle-+5.md".into()));
        std::fs::remove_file(b.path().join("review-cycle-+5.md")).unwrap();
        std::fs::write(a.path().join("review-cycle-x.md"), "x").unwrap();
        assert_eq!(next_number(&dirs), Err("review-cycle-x.md".into()));
    }

    #[test]
    fn an_earlier_cycle_is_adopted_only_with_the_same_reviewer_and_body() {
        let d = tempfile::tempdir().unwrap();
        let mut a = artifact();
        std::fs::write(d.path().join(a.file_name()), a.render()).unwrap();
        let body = "Approved by user: Review passed\n";
        assert_eq!(adoptable(d.path(), "user", body), Some(1));
        assert_eq!(adoptable(d.path(), "claude", body), None);
        assert_eq!(
            adoptable(d.path(), "user", "Approved by user: other\n"),
            None
        );
        a.body = "\n\nleading blank lines\n".into();
        a.cycle = 2;
        std::fs::write(d.path().join(a.file_name()), a.render()).unwrap();
        assert_eq!(
            adoptable(d.path(), "user", "leading blank lines\n"),
            Some(2)
        );
        assert_eq!(
            adoptable(d.path(), "user", "\n\nleading blank lines\n"),
            None
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

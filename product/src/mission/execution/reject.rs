//! A review's rejection, `move-task WPxx --to planned --review-feedback-file F` (**interop**: the
//! reference's feedback-file refusals, the rollback's annotation and the document's rollback
//! summary).

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};

use super::ExecError;

/// The feedback a rejection records.
#[derive(Debug)]
pub struct Feedback {
    /// Its file, resolved.
    pub path: PathBuf,
    /// Its text, as it is.
    pub text: String,
}

/// The feedback file of a move to `planned`, or the reference's refusal: none given (also with
/// `--force`), not there, not a file, or nothing but whitespace. A relative path is the working
/// directory's; `~` is the home directory.
pub fn feedback(
    cwd: &Path,
    home: Option<&Path>,
    wp: &str,
    given: Option<&Path>,
) -> Result<Feedback, ExecError> {
    let Some(given) = given else {
        return Err(refused(format!(
            "\u{274c} Moving {wp} to 'planned' requires review feedback.\n\nPlease provide feedback:\n  1. Create feedback file: echo '**Issue**: Description' > feedback.md\n  2. Run: spec-kitty agent tasks move-task {wp} --to planned --review-feedback-file feedback.md\n\nThis requirement cannot be bypassed with --force."
        )));
    };
    let path = resolve(cwd, home, given);
    if !path.exists() {
        return Err(refused(format!(
            "Review feedback file not found: {}",
            path.display()
        )));
    }
    if !path.is_file() {
        return Err(refused(format!(
            "Review feedback path is not a file: {}",
            path.display()
        )));
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| crate::mission::MissionError::io(&path, e))?;
    if text.trim().is_empty() {
        return Err(refused(format!(
            "Review feedback file is empty: {}",
            path.display()
        )));
    }
    Ok(Feedback { path, text })
}

fn refused(message: String) -> ExecError {
    ExecError::FeedbackRefused { message }
}

/// `given` made absolute (against `cwd`, `~` against `home`), symbolic links resolved where the
/// path exists and `..` folded where it does not.
fn resolve(cwd: &Path, home: Option<&Path>, given: &Path) -> PathBuf {
    let expanded = match (given.strip_prefix("~"), home) {
        (Ok(rest), Some(h)) => h.join(rest),
        _ => given.to_path_buf(),
    };
    let absolute = cwd.join(expanded);
    if let Ok(real) = absolute.canonicalize() {
        return real;
    }
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether the feedback is (or copies) a review-cycle artifact: the reference refuses it as a
/// prior verdict's content, with sentences kitty leaves to it.
pub fn is_cycle_artifact(f: &Feedback) -> bool {
    let name = f
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    (name.starts_with("review-cycle-") && name.ends_with(".md"))
        || (f.text.trim_start().starts_with("---") && f.text.contains("cycle_number"))
}

/// The rollback's runtime delta: the claim released, the review override cleared, every
/// subtask of the roster planned again.
pub fn rollback_delta(roster: &[String]) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("release_runtime_claim".into(), true.into());
    d.insert(
        "review".into(),
        json!({"actor": "", "at": "", "reason": "", "wp_id": ""}),
    );
    d.insert(
        "subtasks".into(),
        Value::Object(
            roster
                .iter()
                .map(|id| (id.clone(), Value::from("planned")))
                .collect(),
        ),
    );
    d
}

/// The document's rollback summary. Nothing counts as previously completed: the reference reads
/// the primary checkout's lifecycle-only log for it, so on a coordinated mission it never finds
/// a completed subtask.
pub fn rollback_summary(roster: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("subtasks_reset_count".into(), roster.len().into());
    m.insert("subtasks_reset_ids".into(), json!(roster));
    m.insert("subtasks_previously_completed".into(), json!([]));
    m.insert("subtasks_never_completed".into(), json!(roster));
    m.insert("runtime_claim_released".into(), true.into());
    m.insert("review_override_cleared".into(), true.into());
    m
}

/// The human lines after `✓ Moved ...`.
pub fn rollback_lines(roster: &[String]) -> String {
    let mut s = format!(
        "\u{21ba} Reset {} subtask(s) to planned \u{2014} re-mark completed work before this WP re-enters review.",
        roster.len()
    );
    if !roster.is_empty() {
        s.push_str(&format!(
            "\n  \u{2022} {} never completed ({}).",
            roster.len(),
            roster.join(", ")
        ));
    }
    s.push_str("\n  \u{2022} runtime claim released; any review-override cleared (the WP exposes no live claim and no superseded approval).");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_is_refused_when_absent_missing_a_directory_or_blank() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        let err = |given: Option<&Path>| {
            feedback(&root, None, "WP01", given)
                .unwrap_err()
                .to_string()
        };
        assert!(err(None).contains("requires review feedback"));
        assert!(err(None).ends_with("cannot be bypassed with --force."));
        assert_eq!(
            err(Some(Path::new("sub/../nope.md"))),
            format!(
                "Review feedback file not found: {}",
                root.join("nope.md").display()
            )
        );
        assert!(err(Some(Path::new("."))).starts_with("Review feedback path is not a file: "));
        std::fs::write(root.join("blank.md"), " \n\t\n").unwrap();
        assert!(err(Some(Path::new("blank.md"))).starts_with("Review feedback file is empty: "));
        std::fs::write(root.join("fb.md"), "\n**Issue**: x\n").unwrap();
        let f = feedback(&root, None, "WP01", Some(Path::new("fb.md"))).unwrap();
        assert_eq!(f.text, "\n**Issue**: x\n", "the text as it is");
        assert_eq!(f.path, root.join("fb.md"));
        let home = feedback(&root, Some(&root), "WP01", Some(Path::new("~/fb.md"))).unwrap();
        assert_eq!(home.path, root.join("fb.md"));
    }

    #[test]
    fn a_review_cycle_file_or_its_copy_is_a_cycle_artifact() {
        let f = |name: &str, text: &str| Feedback {
            path: PathBuf::from("/x").join(name),
            text: text.into(),
        };
        assert!(is_cycle_artifact(&f("review-cycle-1.md", "anything")));
        assert!(is_cycle_artifact(&f(
            "copy.md",
            "---\ncycle_number: 1\n---\n"
        )));
        assert!(!is_cycle_artifact(&f(
            "review-feedback-1.md",
            "**Issue**: x"
        )));
        assert!(!is_cycle_artifact(&f("fb.md", "---\ntitle: x\n---\n")));
    }

    #[test]
    fn the_rollback_plans_every_subtask_again_and_says_so() {
        let roster: Vec<String> = ["T001", "T002"].map(String::from).to_vec();
        let d = rollback_delta(&roster);
        assert_eq!(d["subtasks"], json!({"T001": "planned", "T002": "planned"}));
        assert_eq!(d["release_runtime_claim"], true);
        let s = rollback_summary(&roster);
        assert_eq!(s["subtasks_reset_count"], 2);
        assert_eq!(s["subtasks_never_completed"], json!(["T001", "T002"]));
        assert_eq!(s["subtasks_previously_completed"], json!([]));
        let lines = rollback_lines(&roster);
        assert!(lines.contains("Reset 2 subtask(s)"));
        assert!(lines.contains("2 never completed (T001, T002)."));
    }
}

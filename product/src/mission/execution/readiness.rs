//! The review-readiness checks of a move to `for_review` or `approved` (**interop**: the
//! reference's subtask gate, its review-currency gate and their refusals' sentences).

use serde_json::Value;

use super::{ExecError, review_ready};
use crate::env::Env;
use crate::mission::status::{Lane, reduce};

/// The review readiness checks of a move to `for_review` or `approved` (the reference's subtask
/// gate, then its review-currency gate).
pub(super) struct Readiness<'a> {
    pub(super) env: &'a Env,
    pub(super) t: &'a super::Target,
    pub(super) wp: &'a str,
    pub(super) target: Lane,
    pub(super) current: &'a str,
    pub(super) state: &'a reduce::WpState,
}

impl Readiness<'_> {
    /// Every subtask of the package recorded done.
    pub(super) fn subtasks(&self) -> Result<(), ExecError> {
        let unchecked = unchecked_subtasks(&self.t.entry.dir, self.wp, self.state);
        if unchecked.is_empty() {
            return Ok(());
        }
        Err(ExecError::SubtasksUnchecked {
            message: subtasks_message(self.wp, self.target, &unchecked),
        })
    }

    /// Where the package's work is (its lane worktree, or the repository).
    pub(super) fn place(&self) -> review_ready::Place {
        review_ready::place(&self.t.root, &self.t.entry.dir, &self.t.entry.slug, self.wp)
    }

    /// The package ready for review: the dirty planning files passed over, or the refusal.
    pub(super) fn ready(&self, place: &review_ready::Place) -> Result<usize, ExecError> {
        let meta = &self.t.entry.meta;
        let text = |k: &str| {
            meta.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let coordination = text("coordination_branch")
            .map(str::to_string)
            .unwrap_or_else(|| format!("kitty/mission-{}", self.t.entry.slug));
        let checks = review_ready::Checks {
            env: self.env,
            root: &self.t.root,
            fd: &self.t.entry.dir,
            slug: &self.t.entry.slug,
            wp: self.wp,
            target: self.target.as_str(),
            place,
            coordination: Some(&coordination),
            planning: text("planning_base_branch").or_else(|| text("target_branch")),
            target_branch: text("target_branch").unwrap_or(self.current),
            mission_type: text("mission_type").unwrap_or_default(),
        };
        let r = review_ready::check(&checks)?;
        match r.blocked {
            Some(g) => Err(ExecError::NotReady {
                message: format!(
                    "Cannot move {} to {}\n\n{}\n\nOr use --force to override (not recommended)",
                    self.wp,
                    self.target.as_str(),
                    g.join("\n")
                ),
            }),
            None => Ok(r.benign),
        }
    }
}

/// Whether the project or the package configures the pre-review test gate (a scope, a test
/// command or the block): then it may run tests, which is the reference's to do.
pub(super) fn review_gate_configured(root: &std::path::Path, wp_file: &str) -> bool {
    let front = wp_file.split("\n---").next().unwrap_or_default();
    if front.contains("pre_review_test_scope") {
        return true;
    }
    std::fs::read_to_string(root.join(".kittify/config.yaml")).is_ok_and(|c| {
        c.contains("pre_review_test_command") || c.contains("fail_on_pre_review_regression")
    })
}

/// The roster ids of `wp` not recorded done (every one when none is recorded).
fn unchecked_subtasks(fd: &std::path::Path, wp: &str, state: &reduce::WpState) -> Vec<String> {
    let roster = super::subtasks::roster_of(fd, wp).unwrap_or_default();
    let marks = state.fields.get("subtasks").and_then(Value::as_object);
    roster
        .into_iter()
        .filter(|id| marks.and_then(|m| m.get(id)).and_then(Value::as_str) != Some("done"))
        .collect()
}

/// The reference's refusal for unfinished subtasks (it ends with the commands that fix it).
fn subtasks_message(wp: &str, target: Lane, unchecked: &[String]) -> String {
    let mut m = format!(
        "Cannot move {wp} to {} - unchecked subtasks:\n",
        target.as_str()
    );
    for id in unchecked {
        m.push_str(&format!("  - [ ] {id}\n"));
    }
    m.push_str("\nMark these complete first:\n");
    for id in unchecked.iter().take(3) {
        m.push_str(&format!(
            "  spec-kitty agent tasks mark-status {id} --status done\n"
        ));
    }
    m.push_str("\nOr use --force to override (not recommended)");
    m
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    #[test]
    fn a_configured_gate_is_the_project_s_or_the_package_s() {
        let t = tempfile::tempdir().unwrap();
        assert!(!review_gate_configured(t.path(), "---\ntitle: x\n---\n"));
        assert!(review_gate_configured(
            t.path(),
            "---\npre_review_test_scope: tests/\n---\n"
        ));
        // Only in the body: not configured.
        assert!(!review_gate_configured(
            t.path(),
            "---\ntitle: x\n---\npre_review_test_scope: tests/\n"
        ));
        std::fs::create_dir_all(t.path().join(".kittify")).unwrap();
        std::fs::write(
            t.path().join(".kittify/config.yaml"),
            "review:\n  fail_on_pre_review_regression: true\n",
        )
        .unwrap();
        assert!(review_gate_configured(t.path(), ""));
        std::fs::write(
            t.path().join(".kittify/config.yaml"),
            "review:\n  pre_review_test_command: pytest\n",
        )
        .unwrap();
        assert!(review_gate_configured(t.path(), ""));
    }

    #[test]
    fn the_subtasks_refusal_lists_every_id_and_at_most_three_commands() {
        let ids: Vec<String> = ["T1", "T2", "T3", "T4"].map(String::from).to_vec();
        let m = subtasks_message("WP01", Lane::ForReview, &ids);
        assert!(
            m.starts_with("Cannot move WP01 to for_review - unchecked subtasks:\n  - [ ] T1\n")
        );
        assert!(m.contains("  - [ ] T4\n"));
        assert_eq!(m.matches("mark-status").count(), 3);
        assert!(m.ends_with("Or use --force to override (not recommended)"));
    }

    #[test]
    fn unchecked_subtasks_are_the_roster_s_ids_not_recorded_done() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("tasks")).unwrap();
        std::fs::write(
            t.path().join("tasks/WP01-x.md"),
            "---\nwork_package_id: WP01\ntitle: x\nsubtasks: [T1, T2, T3]\n---\n",
        )
        .unwrap();
        let mut fields = Map::new();
        fields.insert(
            "subtasks".into(),
            json!({"T1": "done", "T2": "planned", "t3": "done"}),
        );
        let state = reduce::WpState {
            lane: Lane::InProgress,
            fields,
        };
        assert_eq!(unchecked_subtasks(t.path(), "WP01", &state), ["T2", "T3"]);
        let none = reduce::WpState {
            lane: Lane::InProgress,
            fields: Map::new(),
        };
        assert_eq!(
            unchecked_subtasks(t.path(), "WP01", &none),
            ["T1", "T2", "T3"]
        );
    }
}

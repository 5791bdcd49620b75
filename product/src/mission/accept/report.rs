//! What `accept` says: the success document and the summary's facts for a person.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::summary::{self, Summary};
use super::{Outcome, done, record};

/// The success document.
pub(super) fn success(
    (slug, b): (&str, &str),
    summary: &Summary,
    (mode, actor): (&str, &str),
    recorded: &record::Recorded,
    tests: &[String],
    now: DateTime<Utc>,
) -> Outcome {
    let instructions = vec![if mode == "pr" {
        format!(
            "Acceptance recorded on integration branch `{b}`. Push and open a pull request if needed."
        )
    } else {
        format!("Acceptance recorded directly on `{b}`. No merge needed.")
    }];
    let mut cleanup = Vec::new();
    if summary.worktree_root != summary.primary_repo_root {
        cleanup.push(format!(
            "After merging, remove the worktree: `git worktree remove {}`",
            summary.worktree_root
        ));
    }
    let mut notes = Vec::new();
    if let Some(c) = &recorded.accept {
        notes.push(format!("Acceptance commit: {c}"));
    }
    if let Some(p) = &recorded.parent {
        notes.push(format!("Accepted from parent commit: {p}"));
    }
    if !tests.is_empty() {
        notes.push("Validation commands:".into());
        notes.extend(tests.iter().map(|t| format!("  - {t}")));
    }
    let mut doc = Map::new();
    doc.insert("accepted_at".into(), json!(crate::pyfmt::seconds_z(now)));
    doc.insert("accepted_by".into(), json!(actor));
    doc.insert("mode".into(), json!(mode));
    doc.insert("parent_commit".into(), json!(recorded.parent));
    doc.insert("accept_commit".into(), json!(recorded.accept));
    doc.insert("commit_created".into(), json!(recorded.created));
    doc.insert("instructions".into(), json!(instructions));
    doc.insert("cleanup_instructions".into(), json!(cleanup));
    doc.insert("notes".into(), json!(notes));
    summary.with_derivations(&mut doc);
    doc.insert("canceled_wps".into(), json!(summary.canceled_wps));
    doc.insert("summary".into(), Value::Object(summary.doc()));
    doc.insert("advisories".into(), json!([]));
    let mut human = vec![format!("Mission {slug} accepted ({mode}).")];
    if let Some(c) = &recorded.accept {
        human.push(format!("Acceptance commit: {c}"));
    }
    human.extend(instructions);
    human.extend(cleanup);
    done(doc, human.join("\n"), 0, None)
}

/// The summary's facts for a person.
pub(super) fn human_summary(s: &Summary) -> String {
    let mut lines = vec![format!(
        "Acceptance of {}: {}",
        s.mission_slug,
        if s.ok { "ready" } else { "not ready" }
    )];
    for lane in summary::BUCKETS {
        let wps = s.in_lane(lane);
        if !wps.is_empty() {
            let ids: Vec<&str> = wps.iter().filter_map(Value::as_str).collect();
            lines.push(format!("  {lane}: {}", ids.join(", ")));
        }
    }
    for c in &s.failed_checks {
        lines.push(format!("  [{}] {}", c.check, c.detail));
    }
    for w in &s.warnings {
        lines.push(format!("  warning: {w}"));
    }
    for (i, fix) in s.recommended_fix_order.iter().enumerate() {
        lines.push(format!("  {}. {fix}", i + 1));
    }
    lines.join("\n")
}

//! A move into `done` (**interop**: the reference's merge-ancestry guard and its refusal, the
//! `--done-override-reason` note, and the approval evidence a done transition carries when no
//! new review cycle is written).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::ExecError;
use super::review_ready::Place;
use crate::env::Env;
use crate::mission::git::Repo;

/// Whether the package's lane is merged into the target branch, and the reference's sentence
/// about it; `None` for a planning-artifact package (in the repository itself: nothing to
/// merge).
pub fn ancestry(
    env: &Env,
    root: &std::path::Path,
    place: &Place,
    target: &str,
) -> Option<(bool, String)> {
    let Place::Lane(ws) = place else {
        return None;
    };
    let repo = Repo::at(env, root);
    let ok = |args: &[&str]| repo.output(args).is_ok_and(|o| o.status.success());
    let branch = &ws.branch;
    if !ok(&["rev-parse", "--verify", "--quiet", branch]) {
        return Some((
            false,
            format!(
                "Cannot verify merge ancestry: branch '{branch}' not found.\nEither merge and keep branch ref available, or provide --done-override-reason."
            ),
        ));
    }
    if ok(&["merge-base", "--is-ancestor", branch, target]) {
        return Some((
            true,
            format!("Merge ancestry verified: {branch} is merged into {target}."),
        ));
    }
    Some((
        false,
        format!(
            "Merge ancestry check failed: {branch} is not merged into {target}.\nMerge first, or provide --done-override-reason to record a conscious exception."
        ),
    ))
}

/// The refusal of a move to done whose lane is not merged and no override reason given; it
/// ends with the commands that fix it.
pub fn unmerged(wp: &str, why: &str) -> ExecError {
    ExecError::DoneUnmerged {
        message: format!(
            "Cannot move {wp} to done without verified merge ancestry.\n{why}\nIf review just passed, move it to approved first:\n  spec-kitty agent tasks move-task {wp} --to approved --note \"Review passed\"\nTo proceed anyway, provide --done-override-reason \"<why this is acceptable>\"."
        ),
    }
}

/// The note a done move records: the user's, with `Done override: <reason>` folded in when the
/// lane is not merged and a reason is given (and whether it was).
pub fn effective_note(
    note: Option<&str>,
    override_reason: Option<&str>,
    merged: bool,
) -> (Option<String>, bool) {
    let reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    match (merged, reason) {
        (false, Some(r)) => {
            let o = format!("Done override: {r}");
            (
                Some(note.map_or_else(|| o.clone(), |n| format!("{n} | {o}"))),
                true,
            )
        }
        _ => (note.map(str::to_string), false),
    }
}

/// The approval evidence of a done transition that writes no review cycle: the note (else an
/// automatic reference of the day) by git's user.
pub fn evidence(note: Option<&str>, wp: &str, reviewer: &str, now: DateTime<Utc>) -> Value {
    let reference = note.map_or_else(
        || format!("auto-approval:{wp}:{}", now.format("%Y%m%d")),
        str::to_string,
    );
    json!({"review": {"reference": reference, "reviewer": reviewer, "verdict": "approved"}})
}

/// The line printed before the move when an override was recorded.
pub const OVERRIDE_WARNING: &str =
    "\u{26a0}\u{fe0f}  Proceeding with done override; reason recorded in history/events.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_is_folded_into_the_note_only_when_the_lane_is_not_merged() {
        assert_eq!(
            effective_note(None, Some(" Merged manually "), false),
            (Some("Done override: Merged manually".into()), true)
        );
        assert_eq!(
            effective_note(Some("Ship it"), Some("x"), false),
            (Some("Ship it | Done override: x".into()), true)
        );
        assert_eq!(
            effective_note(Some("Ship it"), Some("x"), true),
            (Some("Ship it".into()), false)
        );
        assert_eq!(effective_note(None, Some("  "), false), (None, false));
    }

    #[test]
    fn the_evidence_names_the_note_or_the_day_s_automatic_approval() {
        let now = DateTime::parse_from_rfc3339("2026-12-05T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            evidence(None, "WP01", "Ann", now)["review"],
            json!({"reference": "auto-approval:WP01:20261205", "reviewer": "Ann", "verdict": "approved"})
        );
        assert_eq!(
            evidence(Some("Ship it"), "WP01", "Ann", now)["review"]["reference"],
            "Ship it"
        );
    }

    #[test]
    fn the_refusal_says_why_and_how_to_proceed() {
        let m = unmerged(
            "WP02",
            "Merge ancestry check failed: b is not merged into t.",
        )
        .to_string();
        assert!(m.starts_with(
            "Cannot move WP02 to done without verified merge ancestry.\nMerge ancestry check failed"
        ));
        assert!(m.contains("move-task WP02 --to approved"));
        assert!(m.ends_with("--done-override-reason \"<why this is acceptable>\"."));
    }
}

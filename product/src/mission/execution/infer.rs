//! Which mission a claim without `--mission` is for: the one finalized mission that has the work
//! package it names open.
//!
//! The reference requires `--mission` on `agent action implement` and `review`, while the prompts
//! it writes for agents (`/spec-kitty.implement`, `/spec-kitty.review`) pass only the work
//! package; its users add the flag by hand. kitty infers the mission when exactly one fits and
//! refuses, naming the candidates, when several do.

use std::path::Path;

use crate::mission::planning::handle::{Entry, Index, read_dir};
use crate::mission::planning::project;
use crate::mission::status::{Lane, log, reduce};
use crate::mission::tasks::TasksError;

/// The mission handle to claim in: `given` when there is one, else the inferred mission's
/// directory name. `wp` is the normalised work package, when one was named.
pub fn mission(cwd: &Path, given: Option<&str>, wp: Option<&str>) -> Result<String, TasksError> {
    if let Some(h) = given.map(str::trim).filter(|h| !h.is_empty()) {
        return Ok(h.to_string());
    }
    let Some(project) = project::locate(cwd) else {
        return Err(TasksError::MissionRequired);
    };
    let index = Index::load(&project.specs());
    let fits: Vec<&Entry> = index
        .entries
        .iter()
        .filter(|e| open_for(&project.root, e, wp))
        .collect();
    match fits.as_slice() {
        [one] => Ok(one.slug.clone()),
        [] => Err(TasksError::MissionRequired),
        several => Err(TasksError::MissionNotInferred {
            wp: wp.unwrap_or("a work package").to_string(),
            slugs: several.iter().map(|e| e.slug.clone()).collect(),
        }),
    }
}

/// Whether the mission's tasks are finalized (its lanes computed), it has the work package (any,
/// when none is named), and that package is not done or canceled (its status log read where
/// the mission keeps it: the coordination worktree's copy for a coordinated mission).
fn open_for(root: &Path, e: &Entry, wp: Option<&str>) -> bool {
    if !e.dir.join("lanes.json").is_file() {
        return false;
    }
    let Some(wp) = wp else { return true };
    let has_file = std::fs::read_dir(e.dir.join("tasks")).is_ok_and(|rd| {
        rd.flatten().any(|f| {
            let name = f.file_name();
            let name = name.to_string_lossy();
            name.strip_suffix(".md")
                .is_some_and(|stem| stem == wp || stem.starts_with(&format!("{wp}-")))
        })
    });
    let finished = log::read(&read_dir(root, e)).ok().is_some_and(|l| {
        matches!(
            reduce::reduce(&l).lane_of(wp),
            Some(Lane::Done | Lane::Canceled)
        )
    });
    has_file && !finished
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project in `root` with mission `name` (flat): its tasks finalized when `lanes`, WP01 and
    /// WP02 files, and WP01 done when `wp01_done`.
    fn mission(root: &Path, name: &str, lanes: bool, wp01_done: bool) {
        let dir = root.join("kitty-specs").join(name);
        std::fs::create_dir_all(dir.join("tasks")).unwrap();
        let id = format!("01ARZ3NDEKTSV4RRFFQ69G5F{}", &name[..2].to_uppercase());
        std::fs::write(
            dir.join("meta.json"),
            format!(r#"{{"mission_id": "{id}", "mission_slug": "{name}"}}"#),
        )
        .unwrap();
        for wp in ["WP01-one", "WP02-two"] {
            std::fs::write(dir.join(format!("tasks/{wp}.md")), "---\n---\n").unwrap();
        }
        if lanes {
            std::fs::write(dir.join("lanes.json"), "{}").unwrap();
        }
        if wp01_done {
            let line = format!(
                r#"{{"actor": "merge", "at": "2026-12-06T15:26:50.124012+00:00", "event_id": "01M95ZE1RC9A9VQSDRFDB1WSKS", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "approved", "mission_id": "{id}", "mission_slug": "{name}", "policy_metadata": null, "reason": null, "review_ref": null, "to_lane": "done", "wp_id": "WP01"}}"#
            );
            std::fs::write(dir.join("status.events.jsonl"), line + "\n").unwrap();
        }
    }

    #[test]
    fn the_one_finalized_mission_with_the_package_open_is_inferred_else_the_candidates_are_named() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        mission(root, "aa-one", true, true);
        mission(root, "bb-two", true, false);
        mission(root, "cc-unfinalized", false, false);
        // Given: taken as it is.
        assert_eq!(ok(mission_for(root, Some(" x "), None)), "x");
        // WP01 is done in aa-one, cc-unfinalized has no lanes: bb-two.
        assert_eq!(ok(mission_for(root, None, Some("WP01"))), "bb-two");
        assert_eq!(ok(mission_for(root, Some(" "), Some("WP01"))), "bb-two");
        // WP02 is open in both finalized missions.
        let err = mission_for(root, None, Some("WP02")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--mission <slug> is required: WP02 is open in 2 missions (aa-one, bb-two); pass --mission with one of them"
        );
        assert_eq!(err.code(), "MISSING_MISSION");
        // No package named: any finalized mission counts.
        assert!(mission_for(root, None, None).is_err());
        // A package no mission has, or no project: the reference's refusal.
        let none = mission_for(root, None, Some("WP09")).unwrap_err();
        assert!(matches!(none, TasksError::MissionRequired));
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(matches!(
            mission_for(elsewhere.path(), None, Some("WP01")),
            Err(TasksError::MissionRequired)
        ));
    }

    fn mission_for(
        cwd: &Path,
        given: Option<&str>,
        wp: Option<&str>,
    ) -> Result<String, TasksError> {
        super::mission(cwd, given, wp)
    }

    fn ok(r: Result<String, TasksError>) -> String {
        r.unwrap_or_else(|e| panic!("{e}"))
    }
}

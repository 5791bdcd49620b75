//! The execution commands through kitty and through the reference, on a mission both finalized
//! the same way (two work packages, WP02 depending on WP01): `agent tasks mark-status` in every
//! task format, its refusals, and on a coordinated mission's coordination worktree; compared
//! document, files (the status log and status.json) and commits.

use std::path::Path;

use crate::finalize::{SLUG, as_is, edit, mission, shaped};
use crate::harness::{Side, assert_parity, pair, run_both};

/// Both sides with the mission finalized (`tweak` applied to its directory first).
fn finalized(topology: &'static str, tweak: fn(&Path)) -> (Side, Side) {
    let (k, r) = pair(if topology == "single_branch" {
        Box::new(mission(tweak)) as Box<dyn Fn(&kitty_testkit::IsolatedHome) -> kitty_testkit::Repo>
    } else {
        Box::new(shaped(topology, tweak))
    });
    let args = ["agent", "mission", "finalize-tasks", "--mission", SLUG];
    let (kr, rr) = run_both(&k, &r, &args, &[]);
    kr.assert_success();
    rr.assert_success();
    (k, r)
}

fn mark(ids: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "tasks", "mark-status"];
    v.extend_from_slice(ids);
    v.extend_from_slice(&["--mission", SLUG]);
    v.extend_from_slice(extra);
    v
}

#[track_caller]
fn both(k: &Side, r: &Side, args: &[&str]) -> kitty_testkit::RunOutput {
    let (kr, rr) = run_both(k, r, args, &[]);
    assert_parity(k, r, &kr, &rr);
    kr
}

#[test]
fn mark_status_records_pipe_table_subtasks_per_work_package_as_the_reference_does() {
    let (k, r) = finalized("single_branch", as_is);
    let out = both(
        &k,
        &r,
        &mark(&["T001", "T003", "t002"], &["--status", "done"]),
    );
    out.assert_success()
        .json()
        .assert_eq("/summary/updated", 3)
        .assert_eq("/results/0/format", "pipe_table");
    // Pending again, a qualified id, an unknown id and a work-package id in one call.
    let qualified: &'static str = Box::leak(format!("{SLUG}/t001").into_boxed_str());
    let out = both(
        &k,
        &r,
        &mark(&[qualified, "T099", "WP07"], &["--status", "pending"]),
    );
    out.assert_success()
        .json()
        .assert_eq("/results/0/id", "T001")
        .assert_eq("/results/2/format", "wp_id")
        .assert_eq("/summary/not_found", 2);
}

fn checkboxes(fd: &Path) {
    edit(
        &fd.join("tasks.md"),
        "T001 Create bin/greet script (WP01)",
        "- [ ] T001 Create bin/greet script",
    );
    edit(
        &fd.join("tasks.md"),
        "T003 Create tests/test_greet.sh (WP02)",
        "**Subtasks**: T003, T004",
    );
    // Out of tasks.md's table: T002 only in the WP file's roster, T004 only in the inline list.
    edit(
        &fd.join("tasks.md"),
        "| T002 | Handle the default greeting | WP01 | |\n",
        "",
    );
    edit(
        &fd.join("tasks.md"),
        "| T004 | Cover the default greeting in tests | WP02 | |\n",
        "",
    );
    edit(
        &fd.join("tasks.md"),
        "T004 Cover the default greeting in tests (WP02)\n",
        "",
    );
}

#[test]
fn mark_status_reads_checkbox_rows_inline_lists_and_authored_rosters_as_the_reference_does() {
    let (k, r) = finalized("single_branch", checkboxes);
    let out = both(
        &k,
        &r,
        &mark(&["T001", "T004", "T002"], &["--status", "done"]),
    );
    out.assert_success()
        .json()
        .assert_eq("/results/0/format", "checkbox")
        .assert_eq("/results/1/format", "inline_subtasks")
        .assert_eq("/results/2/format", "authored_roster");
}

#[test]
fn mark_status_with_nothing_resolved_prints_the_document_and_fails() {
    let (k, r) = finalized("single_branch", as_is);
    let out = both(&k, &r, &mark(&["T099", "wp07"], &["--status", "done"]));
    out.assert_code(1).json().assert_eq("/summary/updated", 0);
}

#[test]
fn mark_status_refuses_a_bad_status_a_missing_mission_and_an_unknown_one() {
    let (k, r) = finalized("single_branch", as_is);
    both(&k, &r, &mark(&["T001"], &["--status", "finished"])).assert_code(1);
    both(
        &k,
        &r,
        &["agent", "tasks", "mark-status", "T001", "--status", "done"],
    )
    .assert_code(1);
    both(
        &k,
        &r,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "--status",
            "done",
            "--mission",
            "nosuch",
        ],
    )
    .assert_code(2);
}

#[test]
fn mark_status_on_a_coordinated_mission_writes_the_coordination_worktree_s_log_uncommitted() {
    let (k, r) = finalized("coord", as_is);
    both(&k, &r, &mark(&["T001", "T002"], &["--status", "done"])).assert_success();
    let status = k.repo.path().join(format!(
        ".worktrees/{SLUG}-coord/kitty-specs/{SLUG}/status.json"
    ));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(status).unwrap()).unwrap();
    assert_eq!(doc["work_packages"]["WP01"]["subtasks"]["T002"], "done");
}

//! The execution commands through kitty and through the reference, on a mission both finalized
//! the same way (two work packages, WP02 depending on WP01): `agent tasks mark-status` in every
//! task format, its refusals, and on a coordinated mission's coordination worktree; compared
//! document, files (the status log and status.json) and commits.

use std::path::Path;

use crate::finalize::{SLUG, as_is, edit, mission, shaped};
use crate::harness::{Side, assert_parity, pair, run_both, single};

/// Both sides with the mission finalized (`tweak` applied to its directory first), by kitty on
/// both: `finalize` proves its finalize the reference's, and the reference's own takes a third of
/// a CPU-second per set-up.
pub(crate) fn finalized(topology: &'static str, tweak: fn(&Path)) -> (Side, Side) {
    let (k, r) = pair(if topology == "single_branch" {
        Box::new(mission(tweak)) as Box<dyn Fn(&kitty_testkit::IsolatedHome) -> kitty_testkit::Repo>
    } else {
        Box::new(shaped(topology, tweak))
    });
    for side in [&k, &r] {
        side.home
            .command()
            .env("SPEC_KITTY_REFERENCE", "")
            .current_dir(side.repo.path())
            .args([
                "agent",
                "mission",
                "finalize-tasks",
                "--mission",
                SLUG,
                "--json",
            ])
            .run()
            .assert_success();
    }
    (k, r)
}

/// Kitty (never the reference) runs `args --json` on both sides, successfully: the set-up steps
/// that bring both repositories to the same state before the command under test.
pub(crate) fn kitty_on_both(k: &Side, r: &Side, args: &[&str]) {
    for side in [k, r] {
        side.home
            .command()
            .env("SPEC_KITTY_REFERENCE", "")
            .current_dir(side.repo.path())
            .args(args)
            .arg("--json")
            .run()
            .assert_success();
    }
}

pub(crate) fn mark(ids: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "tasks", "mark-status"];
    v.extend_from_slice(ids);
    v.extend_from_slice(&["--mission", SLUG]);
    v.extend_from_slice(extra);
    v
}

/// Run `args` on both sides and compare; kitty with delegation off, so what it does here it
/// does natively.
#[track_caller]
pub(crate) fn both(k: &Side, r: &Side, args: &[&str]) -> kitty_testkit::RunOutput {
    let (kr, rr) = run_both(k, r, args, &[("SPEC_KITTY_REFERENCE", "")]);
    assert_parity(k, r, &kr, &rr);
    kr
}

#[test]
fn mark_status_records_pipe_table_subtasks_per_work_package_and_refuses_as_the_reference_does() {
    let (k, r) = finalized("single_branch", as_is);
    // Nothing resolved: the document, and exit 1.
    let out = both(&k, &r, &mark(&["T099", "wp07"], &["--status", "done"]));
    out.assert_code(1).json().assert_eq("/summary/updated", 0);
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

/// `next --json` (query mode) on both sides: the same document, nothing written, and the same
/// state, reason and work package (compared outright: `reason` is prose elsewhere). Returns
/// kitty's `(mission_state, reason, wp_id)`.
#[track_caller]
fn next(k: &Side, r: &Side) -> (String, String, String) {
    let args = ["next", "--agent", "claude", "--mission", SLUG];
    let (kr, rr) = run_both(k, r, &args, &[("SPEC_KITTY_REFERENCE", "")]);
    assert_parity(k, r, &kr, &rr);
    let facts = |out: &kitty_testkit::RunOutput| {
        let doc = out.json();
        let text = |p: &str| doc.value().pointer(p).map(|v| v.to_string()).unwrap();
        (text("/mission_state"), text("/reason"), text("/wp_id"))
    };
    assert_eq!(facts(&kr), facts(&rr), "{kr}\n{rr}");
    assert_eq!(kr.json().value()["kind"], "query");
    facts(&kr)
}

pub(crate) fn mv(wp: &'static str, to: &'static str, extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec![
        "agent",
        "tasks",
        "move-task",
        wp,
        "--to",
        to,
        "--mission",
        SLUG,
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn move_task_claims_then_starts_with_one_commit_per_hop_and_refuses_a_second_claim() {
    for topology in ["coord", "single_branch"] {
        let (k, r) = finalized(topology, as_is);
        if topology == "single_branch" {
            // On a single-branch mission the runtime annotation stays uncommitted.
            both(
                &k,
                &r,
                &mv(
                    "WP01",
                    "in_progress",
                    &["--agent", "claude", "--note", "started"],
                ),
            )
            .assert_success();
            continue;
        }
        both(&k, &r, &mv("WP01", "claimed", &[]))
            .assert_success()
            .json()
            .assert_eq("/new_lane", "claimed");
        both(&k, &r, &mv("WP01", "claimed", &[]))
            .assert_code(1)
            .json()
            .assert_eq("/code", "invalid_transition");
        both(
            &k,
            &r,
            &mv(
                "WP01",
                "in_progress",
                &["--agent", "claude", "--note", "started"],
            ),
        )
        .assert_success();
        // Another agent is refused; the same one passes.
        both(&k, &r, &mv("WP01", "blocked", &["--agent", "codex"])).assert_code(1);
        both(&k, &r, &mv("WP01", "blocked", &["--agent", "claude"])).assert_success();
    }
}

#[test]
fn move_task_expands_a_forward_move_into_hops_forces_a_backward_one_and_refuses_unknowns() {
    let (k, r) = finalized("coord", as_is);
    both(&k, &r, &mv("WP01", "doing", &[]))
        .assert_success()
        .json()
        .assert_eq("/old_lane", "planned")
        .assert_eq("/new_lane", "in_progress");
    both(&k, &r, &mv("WP01", "claimed", &["--note", "wrong package"])).assert_success();
    both(&k, &r, &mv("WP02", "canceled", &["--note", "not needed"])).assert_success();
    assert_eq!(next(&k, &r).1, "\"all_wps_in_progress\"");
    // canceled is terminal: refused, then forced out of it.
    both(&k, &r, &mv("WP02", "claimed", &[])).assert_code(1);
    both(&k, &r, &mv("WP02", "claimed", &["--force"])).assert_success();
    both(
        &k,
        &r,
        &mv(
            "WP02",
            "in_progress",
            &["--no-auto-commit", "--note", "resumed"],
        ),
    )
    .assert_success();
}

#[test]
fn move_task_checks_subtasks_records_the_gate_then_review_claims_and_approval_records_the_verdict()
{
    let (k, r) = finalized("coord", as_is);
    assert_eq!(
        next(&k, &r),
        ("\"implement\"".into(), "null".into(), "\"WP01\"".into())
    );
    both(&k, &r, &mv("WP01", "in_progress", &["--agent", "claude"])).assert_success();
    assert_eq!(next(&k, &r).1, "\"dependencies_not_satisfied\"");
    both(&k, &r, &mv("WP01", "for_review", &[]))
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "SUBTASKS_INCOMPLETE");
    both(&k, &r, &mark(&["T001", "T002"], &["--status", "done"])).assert_success();
    // Marked on the coordination worktree's log, uncommitted (compared above), and folded into
    // its status.json.
    let status = k.repo.path().join(format!(
        ".worktrees/{SLUG}-coord/kitty-specs/{SLUG}/status.json"
    ));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(status).unwrap()).unwrap();
    assert_eq!(doc["work_packages"]["WP01"]["subtasks"]["T002"], "done");
    both(&k, &r, &mv("WP01", "for_review", &[]))
        .assert_success()
        .json()
        .assert_eq("/pre_review_gate/outcome", "no_coverage");
    both(&k, &r, &mv("WP01", "in_review", &[]))
        .assert_success()
        .json()
        .assert_eq("/old_lane", "for_review");
    // The approval: its review-cycle artifact committed on the coordination branch (a copy left
    // in the primary checkout), the verdict on the status line, the note as an annotation.
    let approved = both(
        &k,
        &r,
        &mv("WP01", "approved", &["--note", "Review passed"]),
    );
    approved
        .assert_success()
        .json()
        .assert_eq("/verdict_durably_persisted", true)
        .assert_eq("/destination_ref", format!("kitty/mission-{SLUG}"));
    assert!(
        approved.json().value()["review_feedback"]
            .as_str()
            .unwrap()
            .ends_with("/review-cycle-1.md"),
        "{approved}"
    );
    assert_eq!(next(&k, &r).2, "\"WP02\"");
    // From planned straight to for_review: three hops, the gate on the last.
    both(&k, &r, &mark(&["T003", "T004"], &["--status", "done"])).assert_success();
    // WP01's approval left its verdict's copy in the primary checkout: the reference refuses
    // WP02's handoff over it, kitty does not (`verdict_copy`).
    past_the_verdict_copy(&k, &r, &mv("WP02", "for_review", &["--no-auto-commit"]));
    assert_eq!(next(&k, &r).0, "\"review\"");
    both(&k, &r, &mv("WP02", "in_review", &[])).assert_success();
    assert_eq!(
        next(&k, &r),
        (
            "\"blocked\"".into(),
            "\"review in progress\"".into(),
            "null".into()
        )
    );
    // Approved by a named agent, with no note: the verdict names it, the reference is generic.
    past_the_verdict_copy(&k, &r, &mv("WP02", "approved", &["--agent", "claude"]));
    assert_eq!(next(&k, &r).0, "\"accept\"");
}

/// Run `args` where WP01's approval has left its verdict's copy in the primary checkout: the
/// reference counts the copy as the package's uncommitted work and refuses (its users delete or
/// commit it, or pass --force); kitty moves it (`verdict_copy`). The reference then runs with the
/// copy set aside, put back before the comparison, so both sides go on from the same state.
#[track_caller]
fn past_the_verdict_copy(k: &Side, r: &Side, args: &[&str]) {
    let copy = r
        .repo
        .path()
        .join(format!("kitty-specs/{SLUG}/tasks/WP01-greeting-tool"));
    let refused = r
        .home
        .reference_command(&crate::harness::reference())
        .current_dir(r.repo.path())
        .args(args)
        .arg("--json")
        .run();
    refused.assert_code(1);
    assert!(
        refused.stdout().contains("WP01-greeting-tool/"),
        "{refused}"
    );
    let aside = r.home.path().join("verdict-copy");
    std::fs::rename(&copy, &aside).unwrap();
    let (kr, rr) = run_both(k, r, args, &[("SPEC_KITTY_REFERENCE", "")]);
    std::fs::rename(&aside, &copy).unwrap();
    assert_parity(k, r, &kr, &rr);
    kr.assert_success();
}

/// `side` (finalized) analysed by kitty; the runtime files the reference leaves in .kittify/ (its
/// sync state, implement's workspace contexts) ignored as an initialised project ignores them;
/// no hook runs (the reference's implement installs a pre-commit hook that starts Python for
/// each of its commits, about a second each; kitty installs none: `lane_inherits_coordination`).
pub(crate) fn analyse(side: &Side) {
    std::fs::write(
        side.repo.path().join(".gitignore"),
        ".worktrees/\n.kittify/sync-state.json\n.kittify/workspaces/\n",
    )
    .unwrap();
    side.repo.git(&["add", ".gitignore"]);
    side.repo
        .git(&["commit", "--quiet", "-m", "ignore runtime files"]);
    let hooks = side.home.path().join("no-hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    side.repo
        .git(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
    let report = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/lifecycle_parity/content/analysis.md")
        .canonicalize()
        .unwrap();
    side.home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(side.repo.path())
        .args(["agent", "mission", "record-analysis", "--mission", SLUG])
        .arg("--input-file")
        .arg(&report)
        .arg("--json")
        .run()
        .assert_success();
}

/// One repository, finalized and analysed by kitty, WP01 implemented by kitty, its subtasks
/// marked done: a lane with nothing in it yet.
fn implemented() -> Side {
    let side = single(shaped("coord", as_is));
    let kitty = |args: &[&str]| {
        side.home
            .command()
            .env("SPEC_KITTY_REFERENCE", "")
            .current_dir(side.repo.path())
            .args(args)
            .arg("--json")
            .run()
            .assert_success();
    };
    kitty(&["agent", "mission", "finalize-tasks", "--mission", SLUG]);
    analyse(&side);
    // Kitty's implement: `action_implement` proves its lane the reference's.
    kitty(&[
        "agent",
        "action",
        "implement",
        "WP01",
        "--agent",
        "claude",
        "--mission",
        SLUG,
    ]);
    kitty(&[
        "agent",
        "tasks",
        "mark-status",
        "T001",
        "T002",
        "--status",
        "done",
        "--mission",
        SLUG,
    ]);
    side
}

fn lane(side: &Side) -> std::path::PathBuf {
    side.repo.path().join(format!(".worktrees/{SLUG}-lane-a"))
}

/// The test's own commits pass `--no-verify`: they are set-up, not under test, and the reference's
/// implement installs a pre-commit hook that starts Python (about a second each).
#[test]
fn a_lane_made_by_implement_goes_to_review_without_force_under_kitty_once_it_holds_work() {
    let side = implemented();
    let run = |reference: bool| {
        let cmd = if reference {
            side.home.reference_command(&crate::harness::reference())
        } else {
            side.home.command().env("SPEC_KITTY_REFERENCE", "")
        };
        cmd.current_dir(side.repo.path())
            .args(mv("WP01", "for_review", &[]))
            .arg("--json")
            .run()
    };
    let lane = lane(&side);
    // A new lane holds only its merge of the planning commit: no implementation.
    let out = run(false);
    out.assert_code(1);
    assert!(
        out.json()
            .str("/error")
            .contains("No implementation commits on lane branch!"),
        "{out}"
    );
    // Work, and a kitty-specs edit made on the lane: refused, and that edit alone is listed.
    std::fs::create_dir_all(lane.join("bin")).unwrap();
    std::fs::write(
        lane.join("bin/greet"),
        "#!/bin/sh\necho \"Hello, ${1:-World}!\"\n",
    )
    .unwrap();
    let spec = lane.join(format!("kitty-specs/{SLUG}/spec.md"));
    assert!(spec.is_file(), "the lane checks out the spec");
    let original = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, "# edited on the lane\n").unwrap();
    side.repo.git_in(
        &lane,
        &["add", "bin/greet", &format!("kitty-specs/{SLUG}/spec.md")],
    );
    side.repo.git_in(
        &lane,
        &[
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "feat(WP01): greet",
        ],
    );
    let out = run(false);
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "NOT_READY_FOR_REVIEW");
    let error = out.json().str("/error").to_string();
    assert!(
        error.contains(&format!(
            "Committed kitty-specs files on this lane branch:\n  kitty-specs/{SLUG}/spec.md\n\n"
        )),
        "only the lane's own edit: {error}"
    );
    std::fs::write(&spec, original).unwrap();
    side.repo.git_in(
        &lane,
        &[
            "commit",
            "--quiet",
            "--no-verify",
            "-am",
            "restore the spec",
        ],
    );
    // The reference refuses what is left: the status files and the acceptance matrix the lane
    // inherited from the coordination branch (the `lane_inherits_coordination` difference); its
    // users pass --force (workaround W1). Kitty moves it, unforced.
    let rr = run(true);
    rr.assert_code(1);
    assert!(
        rr.stdout()
            .contains("Committed kitty-specs files on this lane branch"),
        "{rr}"
    );
    run(false).assert_success().json().assert_eq(
        "/pre_review_gate/reason",
        "NO_COVERAGE: no gate contract for (, review) governing edge in_progress->for_review",
    );
    let log = std::fs::read_to_string(side.repo.path().join(format!(
        ".worktrees/{SLUG}-coord/kitty-specs/{SLUG}/status.events.jsonl"
    )))
    .unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["to_lane"].as_str(), last["force"].as_bool()),
        (Some("for_review"), Some(false))
    );
}

fn verdict(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "mission", "acceptance-verdict", "--mission", SLUG];
    v.extend_from_slice(extra);
    v
}

#[test]
fn acceptance_verdicts_are_recorded_committed_and_refused_as_the_reference_does() {
    let (k, r) = finalized("coord", as_is);
    // The flags' shape first (exit 2), then the criterion.
    both(&k, &r, &verdict(&[])).assert_code(2);
    both(
        &k,
        &r,
        &verdict(&["--criterion", "FR-001", "--result", "ok"]),
    )
    .assert_code(2);
    both(
        &k,
        &r,
        &verdict(&["--criterion", "FR-009", "--result", "pass"]),
    )
    .assert_code(1);
    both(
        &k,
        &r,
        &verdict(&["--criterion", "FR-001", "--result", "pass"]),
    )
    .assert_success()
    .json()
    .assert_eq("/write_status", "committed")
    .assert_eq("/overall_verdict", "pending");
    // The same verdict again changes nothing and commits nothing.
    both(
        &k,
        &r,
        &verdict(&["--criterion", "FR-001", "--result", "pass"]),
    )
    .assert_success()
    .json()
    .assert_eq("/write_status", "unchanged");
    both(
        &k,
        &r,
        &verdict(&[
            "--criterion",
            "FR-002",
            "--result",
            "fail",
            "--actor",
            "claude",
            "--evidence",
            "tests/test_greet.py",
            "--verification-method",
            "manual_qa",
        ]),
    )
    .assert_success()
    .json()
    .assert_eq("/overall_verdict", "fail");
}

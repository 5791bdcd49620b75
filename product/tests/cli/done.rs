//! `agent tasks move-task --to done` from approved beyond the differential suite: the merge
//! ancestry guard (the lane branch merged into the target, else an override's reason), the
//! approval evidence the transition carries, the override's note and warning, and the moves to
//! done kitty leaves to the reference.

use kitty_testkit::{IsolatedHome, MissionStage, RunOutput, StagedMission};
use serde_json::Value;

use crate::approve::{handed, in_review, last_line, mv};

/// `WP01` approved, with git's user named.
fn approved(home: &IsolatedHome) -> StagedMission {
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    m.repo.git(&["config", "user.name", "Ann Reviewer"]);
    in_review(home, &m, "WP01", "T001");
    mv(home, &m, "WP01", "approved", &[]).assert_success();
    m
}

fn lane_branch(m: &StagedMission) -> String {
    format!("kitty/mission-{}-lane-a", m.slug)
}

#[test]
fn done_waits_for_the_lane_to_be_merged_into_the_target_then_records_the_approval() {
    let home = IsolatedHome::new();
    let m = approved(&home);
    let target = m.repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let target = target.trim();
    // No lane branch yet, then one with a commit the target does not have.
    let refused = mv(&home, &m, "WP01", "done", &[]);
    refused
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "DONE_NOT_MERGED");
    let branch = lane_branch(&m);
    assert!(
        refused.json().str("/error").contains(&format!(
            "Cannot verify merge ancestry: branch '{branch}' not found."
        )),
        "{refused}"
    );
    m.repo.git(&["branch", &branch]);
    m.repo.git(&["checkout", "--quiet", &branch]);
    m.repo
        .git(&["commit", "--quiet", "--allow-empty", "-m", "lane work"]);
    m.repo.git(&["checkout", "--quiet", target]);
    let refused = mv(&home, &m, "WP01", "done", &["--force"]);
    refused.assert_code(1);
    assert!(
        refused.json().str("/error").contains(&format!(
            "Merge ancestry check failed: {branch} is not merged into {target}."
        )),
        "forced too: {refused}"
    );
    assert_eq!(
        last_line(&m, "approved")["to_lane"],
        "approved",
        "nothing recorded"
    );
    // Merged, but a planning file left uncommitted: refused unforced (the readiness checks),
    // while a forced move skips them.
    m.repo.git(&["merge", "--quiet", "--no-edit", &branch]);
    std::fs::write(m.dir().join("research.md"), "# notes\n").unwrap();
    mv(&home, &m, "WP01", "done", &[])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "NOT_READY_FOR_REVIEW");
    std::fs::remove_file(m.dir().join("research.md")).unwrap();
    // Done, with the day's automatic approval by git's user; the dirty status files passed
    // over are said once.
    let out = mv(&home, &m, "WP01", "done", &[]);
    assert!(
        out.stderr()
            .contains("Note: 3 unrelated dirty file(s) ignored (not owned by WP01)"),
        "{out}"
    );
    out.assert_success()
        .json()
        .assert_eq("/old_lane", "approved")
        .assert_eq("/new_lane", "done");
    let line = last_line(&m, "done");
    assert_eq!(line["reason"], "move-task: approved -> done");
    assert_eq!(line["force"], false);
    assert_eq!(line["actor"]["role"], "reviewer");
    assert_eq!(line["evidence"]["review"]["reviewer"], "Ann Reviewer");
    assert!(
        line["evidence"]["review"]["reference"]
            .as_str()
            .unwrap()
            .starts_with("auto-approval:WP01:20"),
        "{line}"
    );
    assert_eq!(line["policy_metadata"]["tool"], "Ann Reviewer");
    assert_eq!(line["review_ref"], Value::Null);
    assert!(
        line.get("review_result").is_none_or(Value::is_null),
        "{line}"
    );
}

#[test]
fn a_forced_done_skips_the_readiness_checks_and_an_empty_target_in_meta_is_the_current_branch() {
    let home = IsolatedHome::new();
    let m = approved(&home);
    let branch = lane_branch(&m);
    m.repo.git(&["branch", &branch]);
    // meta.json names no target: the branch checked out is the target (the lane is in it).
    let meta_path = m.dir().join("meta.json");
    let mut meta: Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["target_branch"] = "".into();
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    std::fs::write(m.dir().join("research.md"), "# notes\n").unwrap();
    let out = mv(&home, &m, "WP01", "done", &["--force", "--note", "shipped"]);
    out.assert_success();
    let line = last_line(&m, "done");
    assert_eq!(line["force"], true);
    // Merged, so no override was folded in.
    assert_eq!(line["reason"], "shipped");
}

#[test]
fn an_override_reason_is_recorded_in_the_note_with_a_warning() {
    let home = IsolatedHome::new();
    let m = approved(&home);
    let out: RunOutput = home
        .command()
        .current_dir(m.repo.path())
        .args([
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "done",
            "--note",
            "Ship it",
            "--done-override-reason",
            "Merged manually",
            "--mission",
            &m.slug,
        ])
        .run();
    out.assert_success();
    assert!(
        out.stdout().contains(
            "Proceeding with done override; reason recorded in history/events.\n\u{2713} Moved WP01 from approved to done"
        ),
        "{out}"
    );
    let line = last_line(&m, "done");
    assert_eq!(line["reason"], "Ship it | Done override: Merged manually");
    // The evidence keeps the user's own note as its reference.
    assert_eq!(line["evidence"]["review"]["reference"], "Ship it");
}

#[test]
fn moves_to_done_kitty_does_not_record_itself_go_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    in_review(&home, &m, "WP01", "T001");
    // From a lane other than approved, and the reason on another move.
    handed(mv(
        &home,
        &m,
        "WP01",
        "done",
        &["--done-override-reason", "x"],
    ));
    handed(mv(
        &home,
        &m,
        "WP02",
        "done",
        &["--force", "--done-override-reason", "x"],
    ));
    handed(mv(
        &home,
        &m,
        "WP01",
        "in_progress",
        &["--force", "--done-override-reason", "x"],
    ));
    // An issue matrix to check.
    mv(&home, &m, "WP01", "approved", &[]).assert_success();
    std::fs::write(m.dir().join("issue-matrix.md"), "# issues\n").unwrap();
    handed(mv(
        &home,
        &m,
        "WP01",
        "done",
        &["--done-override-reason", "x"],
    ));
    std::fs::remove_file(m.dir().join("issue-matrix.md")).unwrap();
    assert_eq!(last_line(&m, "approved")["wp_id"], "WP01");
    mv(&home, &m, "WP01", "done", &["--done-override-reason", "x"]).assert_success();
}

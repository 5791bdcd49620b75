//! `agent tasks move-task --to planned --review-feedback-file F` (a review's rejection) beyond
//! the differential suite: the feedback file's refusals, the verdict artifact and its three
//! commits, the rollback, the rework handed off past the review's own records (the reference's
//! refusal there is a workaround), the rejections kitty leaves to the reference, and the event it
//! queues with sync on, in the published contract.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage, RunOutput, StagedMission};
use serde_json::Value;

use crate::approve::{coord, handed, in_review, kitty, last_line, mv};

fn reject(home: &IsolatedHome, m: &StagedMission, feedback: &str, extra: &[&str]) -> RunOutput {
    let mut args = vec!["--review-feedback-file", feedback];
    args.extend_from_slice(extra);
    mv(home, m, "WP01", "planned", &args)
}

fn status(m: &StagedMission) -> Value {
    let text =
        std::fs::read_to_string(coord(m).join(format!("kitty-specs/{}/status.json", m.slug)))
            .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_rejection_needs_a_feedback_file_that_exists_is_a_file_and_says_something() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    in_review(&home, &m, "WP01", "T001");
    let root = m.repo.path();
    let refused = |out: RunOutput, error: String| {
        out.assert_code(1)
            .json()
            .assert_eq("/error_code", "REVIEW_FEEDBACK_INVALID")
            .assert_eq("/error", error.as_str());
    };
    refused(
        mv(&home, &m, "WP01", "planned", &["--force"]),
        "\u{274c} Moving WP01 to 'planned' requires review feedback.\n\nPlease provide feedback:\n  1. Create feedback file: echo '**Issue**: Description' > feedback.md\n  2. Run: spec-kitty agent tasks move-task WP01 --to planned --review-feedback-file feedback.md\n\nThis requirement cannot be bypassed with --force.".into(),
    );
    refused(
        reject(&home, &m, "notes/../missing.md", &[]),
        format!(
            "Review feedback file not found: {}",
            root.join("missing.md").display()
        ),
    );
    refused(
        reject(&home, &m, "kitty-specs", &[]),
        format!(
            "Review feedback path is not a file: {}",
            root.join("kitty-specs").display()
        ),
    );
    std::fs::write(root.join("blank.md"), "\n  \n").unwrap();
    refused(
        reject(&home, &m, "blank.md", &[]),
        format!(
            "Review feedback file is empty: {}",
            root.join("blank.md").display()
        ),
    );
    // Nothing was recorded by any of them.
    assert!(!m.dir().join("tasks/WP01-part-1").exists());
    assert_eq!(status(&m)["work_packages"]["WP01"]["lane"], "in_review");
}

#[test]
fn a_rejection_commits_the_feedback_as_its_verdict_then_the_rewind_then_the_rollback() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    in_review(&home, &m, "WP01", "T001");
    let feedback = "**Issue**: the greeting ignores its argument.\n\nFix it.";
    std::fs::write(m.repo.path().join("feedback.md"), feedback).unwrap();
    let out = reject(&home, &m, "feedback.md", &["--note", "see feedback"]);
    out.assert_success();
    let pointer = format!("review-cycle://{}/WP01-part-1/review-cycle-1.md", m.slug);
    out.json()
        .assert_eq("/new_lane", "planned")
        .assert_eq("/review_feedback", pointer.as_str())
        .assert_eq("/durability_classification", "durable")
        .assert_eq("/subtasks_reset_ids", serde_json::json!(["T001"]))
        .assert_eq("/subtasks_previously_completed", serde_json::json!([]))
        .assert_eq("/runtime_claim_released", true);
    // The verdict, the move, the rollback: three commits on the coordination branch.
    let subjects = m.repo.git(&[
        "log",
        "--format=%s",
        "-3",
        &format!("kitty/mission-{}", m.slug),
    ]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            "chore(spec-kitty): inner-state annotation WP01".to_string(),
            "chore(spec-kitty): status transition WP01".to_string(),
            format!(
                "chore: Record review-cycle-1 (rejected) for WP01 on {}",
                m.slug
            ),
        ]
    );
    // The artifact: no reproduction command, the feedback as it is for its body.
    let artifact =
        std::fs::read_to_string(m.dir().join("tasks/WP01-part-1/review-cycle-1.md")).unwrap();
    assert!(
        artifact.contains("\nreproduction_command:\nreviewed_at: '"),
        "{artifact}"
    );
    assert!(
        artifact.ends_with(&format!("---\n\n{feedback}")),
        "{artifact}"
    );
    // A forced rewind that carries the verdict; the claim released, the subtasks planned.
    let line = last_line(&m, "planned");
    assert_eq!(line["actor"], "user");
    assert_eq!(line["force"], true);
    assert_eq!(
        line["reason"],
        format!("backward rewind: in_review -> planned: {pointer}: see feedback")
    );
    assert_eq!(line["review_ref"], pointer.as_str());
    assert_eq!(line["review_result"]["verdict"], "changes_requested");
    assert_eq!(line["evidence"], Value::Null);
    let wp = &status(&m)["work_packages"]["WP01"];
    assert_eq!(wp["lane"], "planned");
    assert_eq!(wp["agent"], Value::Null);
    assert_eq!(wp["subtasks"]["T001"], "planned");
    assert_eq!(wp["review_result"]["verdict"], "changes_requested");
}

#[test]
fn the_rework_hands_off_past_the_review_s_records_and_is_approved_in_the_next_cycle() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    in_review(&home, &m, "WP01", "T001");
    // Where the review prompt has the reviewer write it: beside the verdicts.
    let cycles = m.dir().join("tasks/WP01-part-1");
    std::fs::create_dir_all(&cycles).unwrap();
    std::fs::write(cycles.join("review-feedback-1.md"), "**Issue**: x\n").unwrap();
    let rel = format!(
        "kitty-specs/{}/tasks/WP01-part-1/review-feedback-1.md",
        m.slug
    );
    reject(&home, &m, &rel, &[]).assert_success();
    // The package's review directory is wholly untracked (its verdict's copy and the
    // feedback): the reference sees one untracked directory and refuses the handoff; kitty
    // looks inside.
    mv(&home, &m, "WP01", "in_progress", &["--agent", "claude"]).assert_success();
    in_review(&home, &m, "WP01", "T001");
    let out = mv(&home, &m, "WP01", "approved", &["--note", "Fixed"]);
    out.assert_success().json().assert_eq(
        "/review_feedback",
        format!("review-cycle://{}/WP01-part-1/review-cycle-2.md", m.slug).as_str(),
    );
    assert_eq!(
        last_line(&m, "approved")["review_result"]["verdict"],
        "approved"
    );
    // Anything else in that directory is still uncommitted work.
    std::fs::write(cycles.join("notes.txt"), "x\n").unwrap();
    mv(
        &home,
        &m,
        "WP01",
        "in_progress",
        &["--force", "--note", "again"],
    )
    .assert_success();
    kitty(
        &home,
        &m,
        &["agent", "tasks", "mark-status", "T001", "--status", "done"],
    )
    .assert_success();
    mv(&home, &m, "WP01", "for_review", &[])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "NOT_READY_FOR_REVIEW");
}

#[test]
fn rejections_kitty_does_not_record_itself_go_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    in_review(&home, &m, "WP01", "T001");
    std::fs::write(m.repo.path().join("fb.md"), "**Issue**: x\n").unwrap();
    // From a lane other than in_review, without auto-commit, with the feedback on another move.
    handed(mv(
        &home,
        &m,
        "WP02",
        "planned",
        &["--review-feedback-file", "fb.md"],
    ));
    handed(reject(&home, &m, "fb.md", &["--no-auto-commit"]));
    handed(mv(
        &home,
        &m,
        "WP01",
        "approved",
        &["--review-feedback-file", "fb.md"],
    ));
    // A review-cycle artifact as the feedback.
    let cycles = m.dir().join("tasks/WP01-part-1");
    std::fs::create_dir_all(&cycles).unwrap();
    std::fs::write(cycles.join("copy.md"), "---\ncycle_number: 1\n---\n").unwrap();
    let copy = format!("kitty-specs/{}/tasks/WP01-part-1/copy.md", m.slug);
    handed(reject(&home, &m, &copy, &[]));
    std::fs::remove_file(cycles.join("copy.md")).unwrap();
    // An earlier cycle file it cannot number.
    std::fs::write(cycles.join("review-cycle-a.md"), "---\n---\n").unwrap();
    handed(reject(&home, &m, "fb.md", &[]));
    std::fs::remove_dir_all(&cycles).unwrap();
    // None of them wrote anything; the same rejection then records natively.
    assert_eq!(last_line(&m, "in_review")["wp_id"], "WP01");
    reject(&home, &m, "fb.md", &[]).assert_success();
}

#[test]
fn the_same_feedback_from_the_same_reviewer_again_adopts_its_cycle() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    std::fs::write(m.repo.path().join("fb.md"), "**Issue**: x\n").unwrap();
    let branch = format!("kitty/mission-{}", m.slug);
    let records = || {
        m.repo
            .git(&["log", "--format=%s", &branch])
            .lines()
            .filter(|l| l.starts_with("chore: Record review-cycle"))
            .count()
    };
    in_review(&home, &m, "WP01", "T001");
    reject(&home, &m, "fb.md", &[]).assert_success();
    mv(&home, &m, "WP01", "in_progress", &["--agent", "claude"]).assert_success();
    in_review(&home, &m, "WP01", "T001");
    let again = reject(&home, &m, "fb.md", &[]);
    again.assert_success().json().assert_eq(
        "/review_feedback",
        format!("review-cycle://{}/WP01-part-1/review-cycle-1.md", m.slug).as_str(),
    );
    // No second file, no second record: the rewind and its rollback only.
    assert!(!m.dir().join("tasks/WP01-part-1/review-cycle-2.md").exists());
    assert_eq!(records(), 1);
    // Other feedback is a new cycle.
    std::fs::write(m.repo.path().join("fb.md"), "**Issue**: y\n").unwrap();
    mv(&home, &m, "WP01", "in_progress", &["--agent", "claude"]).assert_success();
    in_review(&home, &m, "WP01", "T001");
    reject(&home, &m, "fb.md", &[]).assert_success();
    assert_eq!(records(), 2);
    assert!(m.dir().join("tasks/WP01-part-1/review-cycle-2.md").exists());
}

#[test]
fn with_sync_on_a_rejection_queues_one_status_changed_event_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    in_review(&home, &m, "WP01", "T001");
    std::fs::write(m.repo.path().join("fb.md"), "**Issue**: x\n").unwrap();
    let before = saas.received_events().len();
    reject(&home, &m, "fb.md", &[]).assert_success();
    let changed = saas.received_events_of("WPStatusChanged", before);
    assert_eq!(changed.len(), 1, "{changed:?}");
    let p = &changed[0]["payload"];
    assert_eq!(
        (&p["from_lane"], &p["to_lane"], &p["force"]),
        (&"in_review".into(), &"planned".into(), &true.into())
    );
    assert!(
        p["review_ref"]
            .as_str()
            .unwrap()
            .starts_with("review-cycle://")
    );
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
}

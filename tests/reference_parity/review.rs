//! A review's rejection and the rework after it, through kitty and through the reference on the
//! same coordinated mission: the feedback's refusal, the rejected verdict's review-cycle artifact
//! and rollback, then the package implemented again and approved in a second cycle, then moved to
//! done; compared document, files, commits and events at each step.

use crate::execution::{both, finalized, mark, mv};
use crate::finalize::{SLUG, as_is};
use crate::harness::Side;

/// The feedback file where the review prompt tells the reviewer to write it, on both sides.
fn write_feedback(k: &Side, r: &Side, n: u32, text: &str) -> &'static str {
    let rel = format!("kitty-specs/{SLUG}/tasks/WP01-greeting-tool/review-feedback-{n}.md");
    for side in [k, r] {
        let path = side.repo.path().join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    Box::leak(rel.into_boxed_str())
}

/// WP01 through implementation into review, on both sides.
fn into_review(k: &Side, r: &Side) {
    both(k, r, &mv("WP01", "in_progress", &["--agent", "claude"])).assert_success();
    both(k, r, &mark(&["T001", "T002"], &["--status", "done"])).assert_success();
    both(k, r, &mv("WP01", "for_review", &[])).assert_success();
    both(k, r, &mv("WP01", "in_review", &["--agent", "claude"])).assert_success();
}

#[test]
fn a_rejection_records_its_feedback_the_rework_is_approved_in_a_second_cycle_and_done_needs_its_lane_merged_or_a_reason()
 {
    let (k, r) = finalized("coord", as_is);
    // As implement leaves it: the package's review directory tracked on the target branch (its
    // baseline test record), so a review's files in it are listed one by one.
    for side in [&k, &r] {
        let dir = side
            .repo
            .path()
            .join(format!("kitty-specs/{SLUG}/tasks/WP01-greeting-tool"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("baseline-tests.json"), "{}\n").unwrap();
        side.repo.git(&["add", "kitty-specs"]);
        side.repo
            .git(&["commit", "--quiet", "-m", "baseline tests"]);
    }
    into_review(&k, &r);
    // No feedback: refused, even forced, with nothing written.
    both(&k, &r, &mv("WP01", "planned", &["--force"]))
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "REVIEW_FEEDBACK_INVALID");
    // The rejection: the feedback as the body of review-cycle-1, the verdict on a forced
    // rewind, the subtasks planned again and the claim released.
    let feedback = write_feedback(&k, &r, 1, "**Issue**: greet ignores its argument.\n");
    let rejected = both(
        &k,
        &r,
        &mv(
            "WP01",
            "planned",
            &["--review-feedback-file", feedback, "--note", "see feedback"],
        ),
    );
    rejected
        .assert_success()
        .json()
        .assert_eq("/new_lane", "planned")
        .assert_eq("/subtasks_reset_count", 2)
        .assert_eq("/runtime_claim_released", true);
    assert!(
        rejected
            .json()
            .str("/review_feedback")
            .ends_with("/review-cycle-1.md"),
        "{rejected}"
    );
    // Reworked and reviewed again: the approval is the second cycle.
    into_review(&k, &r);
    let approved = both(&k, &r, &mv("WP01", "approved", &["--note", "Fixed"]));
    approved.assert_success();
    assert!(
        approved
            .json()
            .str("/review_feedback")
            .ends_with("/review-cycle-2.md"),
        "{approved}"
    );
    // Done: refused while the lane branch is not merged (here it was never made), then
    // recorded with the override's reason in the note and the day's automatic approval.
    let refused = both(&k, &r, &mv("WP01", "done", &[]));
    refused.assert_code(1);
    assert!(
        refused
            .json()
            .str("/error")
            .contains("Cannot verify merge ancestry"),
        "{refused}"
    );
    both(
        &k,
        &r,
        &mv(
            "WP01",
            "done",
            &["--done-override-reason", "Merged manually"],
        ),
    )
    .assert_success()
    .json()
    .assert_eq("/new_lane", "done");
}

//! `spec-kitty merge` itself, through kitty and through the reference, on the same coordinated
//! mission with both packages implemented in their lanes, reviewed and approved: the lanes into
//! the mission branch (the first through the auto-rebase's managed-artifact rules), the number,
//! the done transitions, the squash, the board projected onto the target, the flattening, the
//! retrospective and the clean-up; compared exit code, every stdout line and the repositories
//! (commits on every branch, work trees, files, status).

use std::path::PathBuf;

use crate::action_review::text_both;
use crate::execution::{analyse, finalized, kitty_on_both, mark, mv};
use crate::finalize::{SLUG, as_is};
use crate::harness::{Side, assert_state_parity};

/// `wp`'s lane worktree, from lanes.json.
fn lane_of(side: &Side, wp: &str) -> PathBuf {
    let lanes: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            side.repo
                .path()
                .join(format!("kitty-specs/{SLUG}/lanes.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let lane = lanes["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["wp_ids"].as_array().unwrap().iter().any(|w| w == wp))
        .unwrap()["lane_id"]
        .as_str()
        .unwrap()
        .to_string();
    side.repo.path().join(format!(".worktrees/{SLUG}-{lane}"))
}

/// Both sides with both packages implemented (each its own file in its lane), reviewed and
/// approved, all by kitty (the other parity tests prove those steps the reference's).
fn approved() -> (Side, Side) {
    let (k, r) = finalized("coord", as_is);
    for side in [&k, &r] {
        analyse(side);
    }
    let code = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/lifecycle_parity/content/code");
    for (wp, ids, file) in [
        ("WP01", ["T001", "T002"], "bin/greet"),
        ("WP02", ["T003", "T004"], "tests/test_greet.sh"),
    ] {
        kitty_on_both(
            &k,
            &r,
            &[
                "agent",
                "action",
                "implement",
                wp,
                "--agent",
                "claude",
                "--mission",
                SLUG,
            ],
        );
        for side in [&k, &r] {
            let lane = lane_of(side, wp);
            let to = lane.join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            let name = file.rsplit('/').next().unwrap();
            std::fs::copy(code.join(name), &to).unwrap();
            side.repo.git_in(&lane, &["add", file]);
            side.repo
                .git_in(&lane, &["commit", "-q", "-m", &format!("{wp}: implement")]);
        }
        kitty_on_both(&k, &r, &mark(&ids, &["--status", "done"]));
        kitty_on_both(&k, &r, &mv(wp, "for_review", &[]));
        kitty_on_both(&k, &r, &mv(wp, "in_review", &["--agent", "claude"]));
        kitty_on_both(&k, &r, &mv(wp, "approved", &["--note", "Review passed"]));
    }
    accepted(&k, &r);
    (k, r)
}

/// Every acceptance criterion passed and the mission accepted, by kitty on both sides (kitty
/// refuses to merge a mission that is not: `writes_nothing_on_refusal`), the layout following
/// the software-dev path conventions.
fn accepted(k: &Side, r: &Side) {
    let contracts = format!("kitty-specs/{SLUG}/contracts");
    for side in [k, r] {
        for d in ["src", "tests", "docs", contracts.as_str()] {
            std::fs::create_dir_all(side.repo.path().join(d)).unwrap();
            std::fs::write(side.repo.path().join(d).join(".keep"), "").unwrap();
            side.repo.git(&["add", d]);
        }
        side.repo.git(&["commit", "-q", "-m", "layout"]);
    }
    crate::accept::all_criteria_pass(k, r);
    kitty_on_both(k, r, &["agent", "mission", "accept", "--mission", SLUG]);
}

/// stdout with each side's short commit ids as `<SHA>`.
fn lines(out: &kitty_testkit::RunOutput) -> Vec<String> {
    let sha = regex::Regex::new(r"\b[0-9a-f]{7}\b").unwrap();
    out.stdout()
        .lines()
        .map(|l| sha.replace_all(l, "<SHA>").into_owned())
        .collect()
}

#[test]
fn an_approved_mission_merges_with_the_reference_s_lines_commits_board_and_clean_up() {
    let (k, r) = approved();
    let (ko, ro) = text_both(&k, &r, &["merge", "--mission", SLUG]);
    assert_eq!(lines(&ko), lines(&ro), "\n{ko}\n{ro}");
    assert_state_parity(&k, &r, &ko, &ro);
    ko.assert_success();
    let subjects = k.repo.git(&["log", "--format=%s", "-2"]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            format!("chore({SLUG}): capture mission retrospective"),
            format!("chore({SLUG}): flatten coordination metadata after branch deletion (#3086)"),
        ]
    );
}

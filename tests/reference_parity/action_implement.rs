//! `agent action implement`, through kitty and through the reference on the same coordinated
//! mission (finalized, its analysis recorded): the refusals before a claim, and the first claim
//! of WP01 — the lane cut from the coordination branch (sparse, the planning commit merged), the
//! claim batch and the shell's annotation, the `Start` commit, the lane brought up to date, the
//! baseline artifact, the workspace context and the lines printed from the claim on. Compared
//! exit code, files, commits, branches and work trees, once the reference's uncommitted claim
//! fields are committed as kitty commits them (`lane_inherits_coordination`).

use kitty_testkit::RunOutput;
use serde_json::Value;

use crate::action_review::{lines, text_both};
use crate::execution::{analyse, finalized, kitty_on_both, mark, mv};
use crate::finalize::{SLUG, as_is};
use crate::harness::{Side, assert_state_parity};

/// Both sides finalized and analysed, their runtime files ignored as an initialised project
/// ignores them.
fn analysed() -> (Side, Side) {
    let (k, r) = finalized("coord", as_is);
    analyse(&k);
    analyse(&r);
    (k, r)
}

fn implement(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "action", "implement"];
    v.extend_from_slice(extra);
    v.extend_from_slice(&["--mission", SLUG]);
    v
}

/// The lines from the claim on (before it, the reference's tracker wraps at 80 columns).
fn from_claim(side: &Side, out: &kitty_testkit::RunOutput) -> Vec<String> {
    lines(side, out)
        .into_iter()
        .skip_while(|l| !l.starts_with("\u{2713} Claimed"))
        .collect()
}

/// The workspace context, its minted values set aside.
fn context(side: &Side) -> Value {
    let path = side
        .repo
        .path()
        .join(format!(".kittify/workspaces/{SLUG}-lane-a.json"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["base_commit"] = "<ID>".into();
    v["created_at"] = "<TIME>".into();
    v
}

/// WP01's first claim on both sides; the reference's claim fields, which it leaves uncommitted
/// in the checkout, then committed as kitty commits them.
fn first_claim(k: &Side, r: &Side, args: &[&str]) -> (RunOutput, RunOutput) {
    let (ko, ro) = text_both(k, r, args);
    ko.assert_success();
    let fd = format!("kitty-specs/{SLUG}");
    let dirty = r
        .repo
        .git(&["status", "--porcelain", "--untracked-files=no"]);
    assert_eq!(
        dirty,
        format!("M {fd}/meta.json\n M {fd}/tasks/WP01-greeting-tool.md"),
        "{ro}"
    );
    r.repo.git(&["add", "-u", &fd]);
    r.repo.git(&[
        "commit",
        "--quiet",
        "-m",
        "chore: WP01 claimed for implementation",
    ]);
    (ko, ro)
}

#[test]
fn a_first_claim_makes_the_lane_records_the_claim_and_prints_the_reference_s_steps() {
    let (k, r) = analysed();
    // Refused before any write: an unknown package; WP02 before WP01 is approved.
    for args in [
        implement(&["WP09", "--agent", "claude"]),
        implement(&["WP02", "--agent", "claude"]),
    ] {
        let (ko, ro) = text_both(&k, &r, &args);
        ko.assert_code(1);
        assert_state_parity(&k, &r, &ko, &ro);
        assert_eq!(lines(&k, &ko), lines(&r, &ro), "\n{ko}\n{ro}");
    }
    let (ko, ro) = first_claim(&k, &r, &implement(&["wp01", "--agent", "claude"]));
    assert_state_parity(&k, &r, &ko, &ro);
    let fd = format!("kitty-specs/{SLUG}");
    assert_eq!(from_claim(&k, &ko), from_claim(&r, &ro), "\n{ko}\n{ro}");
    assert_eq!(context(&k), context(&r));
    // The lane: sparse without the status files, as the reference's.
    for side in [&k, &r] {
        let lane = side.repo.path().join(format!(".worktrees/{SLUG}-lane-a"));
        assert!(lane.join(format!("{fd}/spec.md")).is_file());
        assert!(!lane.join(format!("{fd}/status.events.jsonl")).exists());
        assert_eq!(
            side.repo
                .git(&["config", "--get", "merge.spec-kitty-event-log.driver"]),
            "spec-kitty merge-driver-event-log %O %A %B"
        );
    }
    // The prompt file is where the text says, under the home's temporary directory.
    let prompt = ko
        .stdout()
        .lines()
        .find_map(|l| l.trim().strip_prefix("cat "))
        .unwrap()
        .to_string();
    assert!(prompt.ends_with(&format!("/spec-kitty-implement-{SLUG}-WP01.md")));
    assert!(
        std::fs::read_to_string(&prompt)
            .unwrap()
            .contains("IMPLEMENT: WP01")
    );
}

#[test]
fn a_package_back_from_review_and_a_claim_resumed_are_recorded_as_by_the_reference() {
    let (k, r) = analysed();
    let claim = implement(&["WP01", "--agent", "claude"]);
    // Each side's own claim, from the test's process as the resume below is: the same shell
    // claims and resumes, on both sides (through the zygote, the parent is the test's process as
    // in a direct run).
    let (ko, ro) = first_claim(&k, &r, &claim);
    assert_state_parity(&k, &r, &ko, &ro);
    // Work in the lane, its subtasks done, sent to review.
    for side in [&k, &r] {
        let lane = side.repo.path().join(format!(".worktrees/{SLUG}-lane-a"));
        std::fs::create_dir_all(lane.join("bin")).unwrap();
        std::fs::write(lane.join("bin/greet"), "#!/bin/sh\necho hello\n").unwrap();
        side.repo.git_in(&lane, &["add", "bin/greet"]);
        side.repo
            .git_in(&lane, &["commit", "-q", "-m", "feat(WP01): greet"]);
    }
    kitty_on_both(&k, &r, &mark(&["T001", "T002"], &["--status", "done"]));
    kitty_on_both(&k, &r, &mv("WP01", "for_review", &[]));
    // Back to work from review: one forced hop.
    let (ko, ro) = text_both(&k, &r, &claim);
    ko.assert_success();
    assert_state_parity(&k, &r, &ko, &ro);
    assert_eq!(from_claim(&k, &ko), from_claim(&r, &ro), "\n{ko}\n{ro}");
    // The same agent again, from the same shell: the claim resumed, its shell recorded again,
    // nothing else.
    let (ko, ro) = text_both(&k, &r, &claim);
    ko.assert_success();
    assert_state_parity(&k, &r, &ko, &ro);
    assert_eq!(from_claim(&k, &ko), from_claim(&r, &ro), "\n{ko}\n{ro}");
    // Another agent: refused, nothing written.
    let (ko, ro) = text_both(&k, &r, &implement(&["WP01", "--agent", "codex"]));
    ko.assert_code(1);
    assert_state_parity(&k, &r, &ko, &ro);
    assert_eq!(lines(&k, &ko), lines(&r, &ro), "\n{ko}\n{ro}");
}

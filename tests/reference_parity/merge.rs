//! `merge --dry-run`, through kitty and through the reference on the same coordinated mission:
//! the forecast (lanes, strategy, clean-up policy, the number the merge would assign) and its
//! refusals, compared document, files, commits and events; each refusal's sentence compared word
//! for word.

use crate::execution::{both, finalized, mv};
use crate::finalize::{SLUG, as_is};
use crate::harness::{Side, assert_parity, run_both};
use kitty_testkit::RunOutput;

fn dry_run(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["merge", "--mission", SLUG, "--dry-run"];
    v.extend_from_slice(extra);
    v
}

/// The same edit to a file of both repositories.
fn edit(k: &Side, r: &Side, rel: &str, change: impl Fn(String) -> String) {
    for side in [k, r] {
        let path = side.repo.path().join(rel);
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, change(before)).unwrap();
    }
}

/// Both refused with the same exit code and the same sentence (each side's repository path
/// read as `<R>`).
#[track_caller]
fn same_refusal(k: &Side, r: &Side, args: &[&str], code: i32) -> String {
    let (ko, ro) = run_both(k, r, args, &[("SPEC_KITTY_REFERENCE", "")]);
    assert_parity(k, r, &ko, &ro);
    ko.assert_code(code);
    let error = |out: &RunOutput, side: &Side| {
        out.json()
            .str("/error")
            .replace(&side.repo.path().display().to_string(), "<R>")
    };
    let (ke, re) = (error(&ko, k), error(&ro, r));
    assert_eq!(ke, re, "\n--- kitty ---\n{ko}\n--- reference ---\n{ro}");
    ke
}

fn meta(k: &Side, r: &Side, change: impl Fn(&mut serde_json::Value)) {
    edit(k, r, &format!("kitty-specs/{SLUG}/meta.json"), |text| {
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        change(&mut v);
        serde_json::to_string_pretty(&v).unwrap()
    });
}

#[test]
fn the_forecast_names_the_lanes_the_strategy_the_clean_up_and_the_number_as_the_reference_does() {
    let (k, r) = finalized("coord", as_is);
    let forecast = both(&k, &r, &dry_run(&[]));
    forecast
        .assert_success()
        .json()
        .assert_eq("/strategy", "squash")
        .assert_eq("/delete_branch", true)
        .assert_eq("/would_assign_mission_number", 1)
        .assert_eq("/retention/branch_source", "default");
    assert!(
        !forecast.json().at("/lanes").as_array().unwrap().is_empty(),
        "{forecast}"
    );
    // The flags win.
    both(
        &k,
        &r,
        &dry_run(&[
            "--strategy",
            "merge",
            "--keep-branch",
            "--remove-worktree",
            "--push",
        ]),
    )
    .assert_success()
    .json()
    .assert_eq("/strategy", "merge")
    .assert_eq("/delete_branch", false)
    .assert_eq("/retention/branch_source", "cli")
    .assert_eq("/push", true);
    // The project's merge config, the mission's retention policy (one of them malformed), and
    // another mission's number.
    edit(&k, &r, ".kittify/config.yaml", |text| {
        format!("{text}merge:\n  strategy: rebase\n")
    });
    meta(&k, &r, |m| {
        m["retain_worktrees"] = true.into();
        m["retain_branches"] = "yes".into();
    });
    edit(&k, &r, "kitty-specs/other/meta.json", |_| {
        r#"{"mission_number": "010"}"#.into()
    });
    let policy = both(&k, &r, &dry_run(&[]));
    policy
        .assert_success()
        .json()
        .assert_eq("/strategy", "rebase")
        .assert_eq("/remove_worktree", false)
        .assert_eq("/retention/worktree_source", "meta")
        .assert_eq("/would_assign_mission_number", 11);
    assert_eq!(
        policy
            .json()
            .at("/retention/warnings")
            .as_array()
            .unwrap()
            .len(),
        2,
        "{policy}"
    );
    // A numbered mission is assigned nothing.
    meta(&k, &r, |m| m["mission_number"] = 4.into());
    both(&k, &r, &dry_run(&[]))
        .assert_success()
        .json()
        .assert_eq("/would_assign_mission_number", serde_json::Value::Null);
}

#[test]
fn every_refusal_before_the_forecast_is_the_reference_s_word_for_word() {
    let (k, r) = finalized("coord", as_is);
    // No mission on a branch that names none: the target is the origin's default branch, which
    // this repository lacks; then, given a target, the mission is missing.
    let e = same_refusal(&k, &r, &["merge", "--dry-run"], 1);
    assert_eq!(
        e,
        "Target branch 'main' does not exist locally or on origin."
    );
    let e = same_refusal(&k, &r, &["merge", "--dry-run", "--target", "feat/x"], 1);
    assert_eq!(
        e,
        "Mission slug could not be resolved. Use --mission <slug>."
    );
    // A merge asked for in JSON: refused once the target is known, before the mission is.
    for args in [
        &["merge", "--target", "feat/x"][..],
        &["merge", "--mission", SLUG],
    ] {
        let e = same_refusal(&k, &r, args, 1);
        assert_eq!(e, "--json is currently supported with --dry-run only.");
    }
    let e = same_refusal(
        &k,
        &r,
        &["merge", "--mission", SLUG, "--target", "nosuch"],
        1,
    );
    assert!(e.starts_with("Target branch 'nosuch'"), "{e}");
    // A target that does not exist.
    let e = same_refusal(&k, &r, &dry_run(&["--target", "nosuch"]), 1);
    assert_eq!(
        e,
        "Target branch 'nosuch' does not exist locally or on origin."
    );
    // An unknown mission is read as a directory: it has no meta.json (so no target: the
    // primary branch is assumed) and no lanes.
    let e = same_refusal(&k, &r, &["merge", "--mission", "nosuch", "--dry-run"], 1);
    assert_eq!(
        e,
        "Target branch 'main' (resolved as primary branch) does not exist locally or on origin. Check kitty-specs/nosuch/meta.json."
    );
    let e = same_refusal(
        &k,
        &r,
        &[
            "merge",
            "--mission",
            "nosuch",
            "--dry-run",
            "--target",
            "feat/x",
        ],
        1,
    );
    assert!(
        e.starts_with("lanes.json is required for <R>/kitty-specs/nosuch."),
        "{e}"
    );
    // A corrupt manifest, then none.
    let lanes = format!("kitty-specs/{SLUG}/lanes.json");
    let saved: Vec<String> = [&k, &r]
        .iter()
        .map(|side| std::fs::read_to_string(side.repo.path().join(&lanes)).unwrap())
        .collect();
    edit(&k, &r, &lanes, |_| "{bad".into());
    let e = same_refusal(&k, &r, &dry_run(&[]), 1);
    assert!(e.ends_with("is corrupt or malformed: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"), "{e}");
    edit(&k, &r, &lanes, |_| r#"{"mission_slug": "x"}"#.into());
    let e = same_refusal(&k, &r, &dry_run(&[]), 1);
    assert!(e.ends_with(": 'version'"), "{e}");
    for side in [&k, &r] {
        std::fs::remove_file(side.repo.path().join(&lanes)).unwrap();
    }
    same_refusal(&k, &r, &dry_run(&[]), 1);
    for (side, text) in [&k, &r].iter().zip(&saved) {
        std::fs::write(side.repo.path().join(&lanes), text).unwrap();
    }
    // A corrupt meta.json: the target cannot be read.
    let meta = format!("kitty-specs/{SLUG}/meta.json");
    edit(&k, &r, &meta, |_| "{bad".into());
    let e = same_refusal(&k, &r, &dry_run(&[]), 1);
    assert!(
        e.starts_with("Cannot resolve the merge target branch: Cannot read <R>/"),
        "{e}"
    );
}

#[test]
fn a_package_approved_after_a_rejection_without_another_review_blocks_the_forecast() {
    let (k, r) = finalized("coord", as_is);
    both(&k, &r, &mv("WP01", "for_review", &["--force"])).assert_success();
    both(&k, &r, &mv("WP01", "in_review", &["--agent", "claude"])).assert_success();
    for side in [&k, &r] {
        std::fs::write(side.repo.path().join("fb.md"), "**Issue**: no.\n").unwrap();
    }
    both(
        &k,
        &r,
        &mv("WP01", "planned", &["--review-feedback-file", "fb.md"]),
    )
    .assert_success();
    // A forced approval from planned (kitty hands it to the reference).
    let args = mv("WP01", "approved", &["--force", "--note", "skip"]);
    let (ko, ro) = run_both(&k, &r, &args, &[]);
    assert_parity(&k, &r, &ko, &ro);
    let blocked = both(&k, &r, &dry_run(&[]));
    blocked
        .assert_code(1)
        .json()
        .assert_eq("/blocked", true)
        .assert_eq("/diagnostic_code", "REJECTED_REVIEW_ARTIFACT_CONFLICT")
        .assert_eq("/blockers/0/branch_or_work_package", "WP01")
        .assert_eq("/blockers/0/lane", "approved");
}

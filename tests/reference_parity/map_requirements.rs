//! `agent tasks map-requirements` through kitty and through the reference, on the lifecycle's
//! single-branch mission (WP files written, not committed): individual and batch modes, add and
//! replace, auto-commit on and off, a repeated run, and the refusals, compared document, files
//! and commits.

use std::path::Path;

use crate::finalize::{SLUG, as_is, edit, mission};
use crate::harness::{assert_document_parity, assert_parity, pair, run_both};

fn map(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "tasks", "map-requirements", "--mission", SLUG];
    v.extend_from_slice(extra);
    v
}

#[track_caller]
fn check(tweak: fn(&Path), args: &[&str]) -> (kitty_testkit::RunOutput, kitty_testkit::RunOutput) {
    let (k, r) = pair(mission(tweak));
    let (kr, rr) = run_both(&k, &r, args, &[]);
    assert_parity(&k, &r, &kr, &rr);
    (kr, rr)
}

#[test]
fn batch_mode_without_auto_commit_rewrites_both_work_packages_as_the_reference_does() {
    let (k, _) = check(
        as_is,
        &map(&[
            "--batch",
            r#"{"WP01":["FR-002"],"WP02":["FR-001","NFR-001"]}"#,
            "--no-auto-commit",
        ]),
    );
    k.assert_success()
        .json()
        .assert_eq("/committed", false)
        .assert_eq(
            "/total_mappings/WP02",
            serde_json::json!(["FR-001", "FR-002", "NFR-001"]),
        )
        .assert_eq("/coverage/mapped_functional", 2);
}

#[test]
fn individual_mode_commits_on_the_mission_branch_and_a_repeat_commits_nothing() {
    let (k, r) = pair(mission(as_is));
    let args = map(&["--wp", "wp01", "--refs", "FR-002, fr-002"]);
    let (kr, rr) = run_both(&k, &r, &args, &[]);
    assert_parity(&k, &r, &kr, &rr);
    kr.json()
        .assert_eq("/committed", true)
        .assert_eq("/mapped/WP01", serde_json::json!(["FR-002", "FR-002"]))
        .assert_eq("/commit_result/destination_ref", "feat/x");
    let (kr, rr) = run_both(&k, &r, &args, &[]);
    assert_parity(&k, &r, &kr, &rr);
    kr.json()
        .assert_eq("/committed", false)
        .assert_eq("/commit_result", serde_json::Value::Null);
}

#[test]
fn replace_sets_the_refs_and_an_empty_replace_clears_them() {
    let (k, r) = pair(mission(as_is));
    for refs in ["NFR-001,C-001", ","] {
        let args = map(&["--wp", "WP01", "--refs", refs, "--replace", "--auto-commit"]);
        let (kr, rr) = run_both(&k, &r, &args, &[]);
        assert_parity(&k, &r, &kr, &rr);
    }
    let (kr, rr) = run_both(
        &k,
        &r,
        &map(&["--wp", "WP02", "--refs", "FR-001", "--replace"]),
        &[],
    );
    assert_parity(&k, &r, &kr, &rr);
    kr.json().assert_eq(
        "/coverage/unmapped_functional",
        serde_json::json!(["FR-002"]),
    );
}

#[test]
fn mode_batch_and_handle_refusals_match() {
    let (k, r) = pair(mission(as_is));
    let cases: Vec<Vec<&str>> = vec![
        map(&["--batch", r#"{"WP01":["FR-001"]}"#, "--wp", "WP01"]),
        map(&["--wp", "WP01", "--refs", ""]),
        map(&[]),
        map(&["--batch", r#"{"WP01":[]}"#, "--tracker-ref", "JIRA-1"]),
        map(&["--tracker-ref", "JIRA-1"]),
        map(&["--batch", "{bad"]),
        map(&["--batch", r#"["a"]"#]),
        map(&["--batch", r#"{"wp01":"FR-001"}"#]),
        map(&["--wp", "WP09", "--refs", "FR-001"]),
        map(&["--wp", "WP01", "--refs", "FR-1a,SC-001,FR-009"]),
        map(&["--wp", "WP01", "--refs", "FR-009,NFR-007,FR-009"]),
        vec![
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
        ],
        vec![
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
            "--mission",
            "nope",
        ],
        vec![
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP01",
            "--refs",
            "FR-001",
            "--mission",
            "$M",
        ],
    ];
    for args in cases {
        let (kr, rr) = run_both(&k, &r, &args, &[]);
        assert_parity(&k, &r, &kr, &rr);
        assert_ne!(kr.code(), Some(0), "{args:?}");
    }
}

#[test]
fn no_work_package_files_and_no_spec_are_refused_first() {
    let (k, _) = check(
        |fd| {
            for wp in ["WP01-greeting-tool.md", "WP02-greeting-tests.md"] {
                std::fs::remove_file(fd.join("tasks").join(wp)).unwrap();
            }
        },
        &map(&["--wp", "WP01", "--refs", "FR-001"]),
    );
    k.assert_code(1).json().assert_eq("/unknown_wps/0", "WP01");
    // Without spec.md even a bad --batch reports the spec.
    let (k, _) = check(
        |fd| std::fs::remove_file(fd.join("spec.md")).unwrap(),
        &map(&["--batch", "{bad"]),
    );
    k.assert_code(1)
        .json()
        .assert_eq("/error_code", "SPEC_FILE_MISSING");
}

#[test]
fn auto_commit_to_a_protected_target_is_refused_before_any_write() {
    let to_main: fn(&Path) = |fd| {
        edit(
            &fd.join("meta.json"),
            "\"target_branch\": \"feat/x\"",
            "\"target_branch\": \"main\"",
        )
    };
    let (k, _) = check(to_main, &map(&["--wp", "WP01", "--refs", "FR-002"]));
    k.assert_code(1)
        .json()
        .assert_eq("/error_code", "PROTECTED_BRANCH");
    let (k, _) = check(
        to_main,
        &map(&["--wp", "WP01", "--refs", "FR-002", "--no-auto-commit"]),
    );
    k.assert_success().json().assert_eq("/committed", false);
}

#[test]
fn stale_refs_in_another_work_package_are_refused_and_kitty_writes_nothing() {
    let stale: fn(&Path) = |fd| {
        edit(
            &fd.join("tasks/WP02-greeting-tests.md"),
            "requirement_refs: [\"FR-002\"]",
            "requirement_refs: [\"FR-009\", \"fr-1a\", 7]",
        )
    };
    let (k, r) = pair(mission(stale));
    let wp01 = k
        .repo
        .specs_dir()
        .join(SLUG)
        .join("tasks/WP01-greeting-tool.md");
    let before = std::fs::read(&wp01).unwrap();
    let (kr, rr) = run_both(&k, &r, &map(&["--wp", "WP01", "--refs", "FR-002"]), &[]);
    // The documents agree; the reference has rewritten WP01 (see `writes_nothing_on_refusal`).
    assert_document_parity(&k, &r, &kr, &rr);
    kr.json()
        .assert_eq(
            "/stale_refs/WP02",
            serde_json::json!(["<NON_STRING:7>", "FR-009", "fr-1a"]),
        )
        .assert_eq(
            "/stale_ref_reasons/WP02/unknown_spec_id",
            serde_json::json!(["FR-009"]),
        );
    assert_eq!(std::fs::read(&wp01).unwrap(), before, "kitty wrote WP01");
}

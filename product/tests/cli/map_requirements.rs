//! `agent tasks map-requirements`, kitty-only behaviour: every refusal (a hook refusing the
//! commit, stale refs elsewhere, a later work package's invalid frontmatter, a `lane:` key)
//! leaves the repository as it was, and `--tracker-ref` is handed to the reference.

use std::path::Path;

use crate::finalize_tasks::{SLUG, mission, run, state};

fn map(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "tasks", "map-requirements", "--mission", SLUG];
    v.extend_from_slice(extra);
    v
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_hook_refusing_the_mapping_commit_puts_every_file_back() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "single_branch");
    repo.install_hook("pre-commit", "echo 'hook says no' >&2\nexit 1");
    let before = state(&repo);
    let out = run(
        &home,
        &repo,
        &map(&["--batch", r#"{"WP01":["FR-002"],"WP02":["NFR-001"]}"#]),
    );
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "COMMIT_FAILED");
    assert!(out.json().str("/error").contains("hook says no"), "{out}");
    before.0.assert_unchanged(&state(&repo).0);
    assert_eq!(before.1, state(&repo).1, "refs changed");
    assert_eq!(before.2, state(&repo).2, "index changed");
    // Without the hook the same run commits both files.
    repo.install_hook("pre-commit", "exit 0");
    run(
        &home,
        &repo,
        &map(&["--batch", r#"{"WP01":["FR-002"],"WP02":["NFR-001"]}"#]),
    )
    .assert_success()
    .json()
    .assert_eq("/committed", true);
}

#[test]
fn stale_refs_elsewhere_refuse_before_the_target_is_written() {
    let home = crate::builder().build();
    let (repo, fd) = mission(&home, "single_branch");
    edit(
        &fd.join("tasks/WP02-greeting-tests.md"),
        "requirement_refs: [\"FR-002\"]",
        "requirement_refs: [\"FR-009\"]",
    );
    let before = state(&repo);
    let out = run(&home, &repo, &map(&["--wp", "WP01", "--refs", "FR-002"]));
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "STALE_REQUIREMENT_REFS")
        .assert_eq("/stale_refs/WP02/0", "FR-009");
    before.0.assert_unchanged(&state(&repo).0);
    // Replacing the stale refs is the way out, and it is allowed.
    run(
        &home,
        &repo,
        &map(&["--wp", "WP02", "--refs", "FR-002", "--replace"]),
    )
    .assert_success();
}

#[test]
fn an_invalid_later_work_package_or_a_lane_key_writes_no_file() {
    let home = crate::builder().build();
    let (repo, fd) = mission(&home, "single_branch");
    let wp02 = fd.join("tasks/WP02-greeting-tests.md");
    for (from, to) in [
        (
            "role: \"implementer\"",
            "role: \"implementer\"\nbogus_key: 1",
        ),
        ("bogus_key: 1", "lane: planned"),
    ] {
        edit(&wp02, from, to);
        let before = state(&repo);
        let out = run(
            &home,
            &repo,
            &map(&["--batch", r#"{"WP01":["FR-002"],"WP02":["FR-001"]}"#]),
        );
        out.assert_code(1)
            .json()
            .assert_eq("/error_code", "WP_FRONTMATTER_INVALID");
        before.0.assert_unchanged(&state(&repo).0);
    }
}

#[test]
fn tracker_refs_are_handed_to_the_reference() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "single_branch");
    let before = state(&repo);
    let out = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(repo.path())
        .args(map(&["--wp", "WP01", "--tracker-ref", "JIRA-1"]))
        .arg("--json")
        .run();
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
    before.0.assert_unchanged(&state(&repo).0);
}

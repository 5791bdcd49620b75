//! `agent mission finalize-tasks` and `agent tasks status`, kitty-only behaviour: a refused
//! commit leaves the repository as it was, `--validate-only` writes nothing, input kitty leaves
//! to the reference is handed over, and a corrupt status log is a clear error.

use std::path::{Path, PathBuf};

use kitty_testkit::{DirSnapshot, IsolatedHome, Repo, RunOutput};

pub(crate) const SLUG: &str = "greeting-cli-01M91EKY";
const CONTENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/lifecycle_parity/content"
);

fn content(name: &str) -> String {
    std::fs::read_to_string(Path::new(CONTENT).join(name)).unwrap()
}

/// A repository on `feat/x` with a committed mission of `topology` and its uncommitted
/// tasks.md and two WP files (WP02 depends on WP01).
pub(crate) fn mission(home: &IsolatedHome, topology: &str) -> (Repo, PathBuf) {
    let repo = home.repo().branch("feat/x").build();
    let fd = repo.specs_dir().join(SLUG);
    std::fs::create_dir_all(fd.join("tasks")).unwrap();
    let meta = serde_json::json!({
        "mission_id": "01M91EKYBAA4XY7TBB9N2XES50",
        "mission_number": null,
        "mission_slug": SLUG,
        "mission_type": "software-dev",
        "slug": SLUG,
        "target_branch": "feat/x",
        "topology": topology,
    });
    std::fs::write(fd.join("meta.json"), meta.to_string()).unwrap();
    std::fs::write(fd.join("spec.md"), content("spec.md")).unwrap();
    repo.git(&["add", "--all"]);
    repo.git(&["commit", "--quiet", "-m", "spec"]);
    std::fs::write(fd.join("tasks.md"), content("tasks.md")).unwrap();
    for wp in ["WP01-greeting-tool.md", "WP02-greeting-tests.md"] {
        std::fs::write(fd.join("tasks").join(wp), content(wp)).unwrap();
    }
    (repo, fd)
}

pub(crate) fn run(home: &IsolatedHome, repo: &Repo, args: &[&str]) -> RunOutput {
    home.command()
        .current_dir(repo.path())
        .args(args)
        .arg("--json")
        .run()
}

fn finalize(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["agent", "mission", "finalize-tasks", "--mission", SLUG]
        .map(String::from)
        .to_vec();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The work tree, the refs and the index's entries: what a user sees of a repository.
pub(crate) fn state(repo: &Repo) -> (DirSnapshot, String, String, String) {
    (
        DirSnapshot::of_filtered(repo.path(), |p| p.starts_with(".git")),
        repo.git(&["for-each-ref"]),
        repo.git(&["ls-files", "--stage"]),
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
    )
}

#[test]
fn a_hook_refusing_the_tasks_commit_leaves_the_repository_as_it_was() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "single_branch");
    // The status commits pass; the last one (which carries lanes.json) is refused.
    repo.install_hook(
        "pre-commit",
        "if git diff --cached --name-only | grep -q lanes.json; then echo 'lanes are frozen' >&2; exit 1; fi",
    );
    let before = state(&repo);
    let out = run(&home, &repo, &args(&finalize(&[])));
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "COMMIT_FAILED");
    assert!(
        out.json().str("/error").contains("lanes are frozen"),
        "{out}"
    );
    let after = state(&repo);
    before.0.assert_unchanged(&after.0);
    assert_eq!(before.1, after.1, "refs");
    assert_eq!(before.2, after.2, "index");
    assert_eq!(before.3, after.3, "status");

    // Without the hook the same run succeeds: nothing was left behind to trip it.
    repo.install_hook("pre-commit", "exit 0");
    run(&home, &repo, &args(&finalize(&[])))
        .assert_success()
        .json()
        .assert_eq("/bootstrap/newly_seeded", 2);
    assert_eq!(
        repo.git(&["log", "--format=%s", "-4"]),
        format!(
            "Add tasks for feature {SLUG}\nchore({SLUG}): scaffold acceptance-matrix\nchore(spec-kitty): status transition WP02\nchore(spec-kitty): status transition WP01"
        )
    );
}

#[test]
fn validate_only_writes_nothing_in_the_repository_or_the_home() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "single_branch");
    let repo_before = DirSnapshot::of(repo.path());
    let home_before = DirSnapshot::of(home.path());
    run(&home, &repo, &args(&finalize(&["--validate-only"])))
        .assert_success()
        .json()
        .assert_eq("/result", "validation_passed")
        .assert_eq("/updated_wp_count", 2);
    repo_before.assert_unchanged(&DirSnapshot::of(repo.path()));
    home_before.assert_unchanged(&DirSnapshot::of(home.path()));
}

#[test]
fn finalizing_a_coordination_mission_is_handed_to_the_reference() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "coord");
    let before = state(&repo);
    let out = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(repo.path())
        .args(args(&finalize(&[])))
        .arg("--json")
        .run();
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
    assert!(out.json().str("/error").contains("coordination"), "{out}");
    before.0.assert_unchanged(&state(&repo).0);
    // Validating reads only, so kitty does it for every topology.
    run(&home, &repo, &args(&finalize(&["--validate-only"])))
        .assert_success()
        .json()
        .assert_eq("/wp_count", 2);
}

#[test]
fn the_board_without_a_mission_says_to_pass_one_with_the_reference_s_keys_only() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "single_branch");
    let out = run(&home, &repo, &["agent", "tasks", "status"]);
    out.assert_code(1);
    let doc = out.json().value().clone();
    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["error", "error_code", "result", "spec_kitty_version"],
        "{out}"
    );
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .starts_with("--mission <slug> is required")
    );
}

#[test]
fn a_corrupt_status_log_is_an_error_naming_its_line() {
    let home = crate::builder().build();
    let (repo, fd) = mission(&home, "single_branch");
    std::fs::write(
        fd.join("status.events.jsonl"),
        "{\"event_type\": \"X\"}\n\n{oops\n",
    )
    .unwrap();
    let status = ["agent", "tasks", "status", "--mission", SLUG];
    let out = run(&home, &repo, &status);
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "STATUS_LOG_INVALID");
    assert!(
        out.json()
            .str("/error")
            .starts_with("Invalid JSON on line 3: "),
        "{out}"
    );
    run(&home, &repo, &args(&finalize(&["--validate-only"])))
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "STATUS_LOG_INVALID");
}

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
    if topology != "single_branch" {
        // Where create puts the coordination branch; init's .gitignore ignores the work trees.
        repo.git(&["branch", &format!("kitty/mission-{SLUG}")]);
        std::fs::write(repo.path().join(".gitignore"), ".worktrees/\n").unwrap();
        repo.git(&["add", ".gitignore"]);
        repo.git(&["commit", "--quiet", "-m", "ignore work trees"]);
    }
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
fn a_coordinated_mission_without_its_coordination_branch_is_handed_to_the_reference() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "coord");
    repo.git(&["branch", "-D", &format!("kitty/mission-{SLUG}")]);
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

/// `state` plus the work trees git knows.
fn full_state(repo: &Repo) -> (DirSnapshot, String, String, String, String) {
    let (a, b, c, d) = state(repo);
    (a, b, c, d, repo.git(&["worktree", "list", "--porcelain"]))
}

#[track_caller]
fn assert_same(before: &(DirSnapshot, String, String, String, String), repo: &Repo) {
    let after = full_state(repo);
    before.0.assert_unchanged(&after.0);
    assert_eq!(before.1, after.1, "refs");
    assert_eq!(before.2, after.2, "index");
    assert_eq!(before.3, after.3, "status");
    assert_eq!(before.4, after.4, "work trees");
}

fn coord_log(repo: &Repo) -> String {
    repo.git(&["log", "--format=%s", &format!("kitty/mission-{SLUG}")])
}

#[test]
fn a_refused_coordination_commit_leaves_the_branches_and_no_work_tree_behind() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "coord");
    // WP01's status commit passes; WP02's is refused.
    repo.install_hook(
        "pre-commit",
        "if [ \"$(git log -1 --format=%s)\" = 'chore(spec-kitty): status transition WP01' ]; then echo 'status frozen' >&2; exit 1; fi",
    );
    let before = full_state(&repo);
    let out = run(&home, &repo, &args(&finalize(&[])));
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "COMMIT_FAILED");
    assert!(out.json().str("/error").contains("status frozen"), "{out}");
    assert_same(&before, &repo);
    assert!(!repo.path().join(".worktrees").exists());

    repo.install_hook("pre-commit", "exit 0");
    run(&home, &repo, &args(&finalize(&[])))
        .assert_success()
        .json()
        .assert_eq("/commit_hashes/0/branch", "feat/x");
    assert_eq!(
        coord_log(&repo).lines().take(3).collect::<Vec<_>>(),
        [
            format!("chore({SLUG}): scaffold acceptance-matrix"),
            "chore(spec-kitty): status transition WP02".into(),
            "chore(spec-kitty): status transition WP01".into(),
        ]
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        // The primary status files stay uncommitted, as the reference leaves them (this mission
        // had no log committed yet).
        format!("?? kitty-specs/{SLUG}/status.events.jsonl\n?? kitty-specs/{SLUG}/status.json")
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_finalize_killed_mid_way_is_undone_by_the_next_one() {
    let home = crate::builder().build();
    let (repo, _) = mission(&home, "coord");
    let before = full_state(&repo);
    // Kill spec-kitty itself while git commits WP02's status (WP01's is committed, the work
    // tree added, the WP files rewritten, the lifecycle events appended).
    repo.install_hook(
        "pre-commit",
        r#"[ "$(git log -1 --format=%s)" = 'chore(spec-kitty): status transition WP01' ] || exit 0
p=$PPID
while [ "$p" -gt 1 ]; do
  if [ "$(cat /proc/$p/comm)" = spec-kitty ]; then kill -9 "$p"; exit 1; fi
  p=$(awk '{print $4}' /proc/$p/stat)
done
exit 1"#,
    );
    let out = run(&home, &repo, &args(&finalize(&[])));
    assert_eq!(out.code(), None, "killed by a signal: {out}");
    assert!(repo.path().join(".worktrees").exists());
    // The next run puts everything back before it starts (here it is refused at once, so it
    // ends with the repository as it was before the killed run).
    repo.install_hook("pre-commit", "echo 'no commits' >&2; exit 1");
    run(&home, &repo, &args(&finalize(&[]))).assert_code(1);
    assert_same(&before, &repo);
    repo.install_hook("pre-commit", "exit 0");
    run(&home, &repo, &args(&finalize(&[])))
        .assert_success()
        .json()
        .assert_eq("/bootstrap/newly_seeded", 2);
    // The branch's first commit and the three of the finished run.
    assert_eq!(coord_log(&repo).lines().count(), 4, "{}", coord_log(&repo));
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

/// A single-branch or coordinated mission in a home with sync on, a session and consent, whose
/// final syncs deliver to `saas`.
fn synced(saas: &kitty_testkit::FakeSaas, topology: &str) -> (IsolatedHome, Repo) {
    let home = crate::builder().fake_saas(saas).sync(true).build();
    home.seed(&kitty_testkit::SessionSeed::with_private_team());
    let (repo, _) = mission(&home, topology);
    (home, repo)
}

#[test]
fn with_sync_on_finalize_delivers_its_events_once_each_and_they_conform() {
    for topology in ["single_branch", "coord"] {
        let saas = kitty_testkit::FakeSaas::start();
        let (home, repo) = synced(&saas, topology);
        let out = run(&home, &repo, &args(&finalize(&[])));
        out.assert_success();
        out.diagnostics().assert_none();
        let events = saas.received_events();
        let kinds: Vec<(&str, &str)> = events
            .iter()
            .map(|e| {
                (
                    e["event_type"].as_str().unwrap(),
                    e["aggregate_id"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("TasksStarted", SLUG),
                ("WPCreated", "WP02"),
                ("WPCreated", "WP01"),
                ("TasksCompleted", SLUG),
                ("WPStatusChanged", "WP01"),
                ("WPStatusChanged", "WP02"),
            ],
            "{topology}"
        );
        let ids: std::collections::BTreeSet<&str> = events
            .iter()
            .map(|e| e["event_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), events.len(), "one delivery per event");
        // The seeded transitions cause the status events (in the status surface's log).
        let log = if topology == "coord" {
            repo.path()
                .join(format!(".worktrees/{SLUG}-coord/kitty-specs/{SLUG}"))
        } else {
            repo.specs_dir().join(SLUG)
        };
        let log = std::fs::read_to_string(log.join("status.events.jsonl")).unwrap();
        for e in &events[4..] {
            assert_eq!(e["causation_id"], e["correlation_id"]);
            assert!(log.contains(e["causation_id"].as_str().unwrap()), "{e}");
            assert_eq!(e["payload"]["from_lane"], "genesis");
            assert_eq!(e["payload"]["to_lane"], "planned");
        }
        assert_eq!(
            events[1]["payload"]["depends_on"],
            serde_json::json!(["WP01"])
        );
        assert_eq!(events[3]["payload"]["wp_count"], 2);
        // Unix-only: the contract validator runs on the reference venv's Python.
        #[cfg(unix)]
        saas.assert_received_events_conform(&kitty_testkit::EventContract::require());
        // Again: nothing new happened, nothing is sent.
        run(&home, &repo, &args(&finalize(&[]))).assert_success();
        assert_eq!(saas.received_events().len(), 6, "{topology}");
        assert!(home.queued_events().is_empty());
    }
}

#[test]
fn without_the_project_s_consent_finalize_queues_nothing() {
    let saas = kitty_testkit::FakeSaas::start();
    let home = kitty_testkit::IsolatedHome::builder()
        .fake_saas(&saas)
        .sync(true)
        .build();
    let (repo, _) = mission(&home, "single_branch");
    run(&home, &repo, &args(&finalize(&[]))).assert_success();
    assert!(saas.received_events().is_empty());
    assert!(home.queued_events().is_empty());
}

#[test]
fn a_refused_commit_with_sync_on_queues_nothing() {
    let saas = kitty_testkit::FakeSaas::start();
    let (home, repo) = synced(&saas, "coord");
    repo.install_hook("pre-commit", "echo 'no' >&2; exit 1");
    let before = full_state(&repo);
    run(&home, &repo, &args(&finalize(&[]))).assert_code(1);
    assert_same(&before, &repo);
    assert!(saas.received_events().is_empty());
    assert!(home.queued_events().is_empty());
}

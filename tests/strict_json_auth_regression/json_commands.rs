//! Every other `--json` command that can run while sync is active: strict JSON on stdout,
//! diagnostics only on stderr, on success and on failure.

use kitty_testkit::{IsolatedHome, Repo, SessionSeed};

use crate::contract::{check_stdout, scenario_home};

fn setup() -> (IsolatedHome, Repo) {
    let home = scenario_home().build();
    home.seed(&SessionSeed::shared_only());
    let repo = home.repo().build();
    // Queue one event (and let its final sync fire the skip diagnostic).
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "queued-event", "--json"])
        .run()
        .assert_success();
    (home, repo)
}

fn check(home: &IsolatedHome, repo: &Repo, args: &[&str], code: i32) {
    let run = home
        .command()
        .current_dir(repo.path())
        .args(args)
        .arg("--json")
        .run();
    run.assert_code(code);
    let doc = check_stdout(&run).unwrap_or_else(|e| panic!("{e}"));
    let expected = if code == 0 { "success" } else { "error" };
    doc.assert_eq("/result", expected);
    if code != 0 {
        assert!(
            doc.get("/error_code").is_some_and(|c| c.is_string()),
            "{run}"
        );
    }
    // Whatever fired went to stderr in the reference format (parsed, not grepped).
    for line in run.diagnostics().lines() {
        assert_eq!(line.phase, "final_sync");
    }
}

#[test]
fn auth_status_is_strict_json() {
    let (home, repo) = setup();
    check(&home, &repo, &["auth", "status"], 0);
}

#[test]
fn sync_status_is_strict_json() {
    let (home, repo) = setup();
    check(&home, &repo, &["sync", "status"], 0);
}

#[test]
fn sync_now_failure_is_strict_json() {
    let (home, repo) = setup();
    check(&home, &repo, &["sync", "now"], 1);
}

#[test]
fn mission_list_is_strict_json() {
    let (home, repo) = setup();
    check(&home, &repo, &["agent", "mission", "list"], 0);
}

#[test]
fn a_bad_slug_is_strict_json() {
    let (home, repo) = setup();
    check(
        &home,
        &repo,
        &["agent", "mission", "create", "Not A Slug"],
        1,
    );
}

#[test]
fn a_duplicate_slug_is_strict_json() {
    // The reference allows a slug twice (each mission gets its own directory).
    let (home, repo) = setup();
    check(
        &home,
        &repo,
        &["agent", "mission", "create", "queued-event"],
        0,
    );
}

#[test]
fn an_unsupported_option_is_strict_json() {
    let (home, repo) = setup();
    check(
        &home,
        &repo,
        &["agent", "mission", "create", "x", "--owned-checkout", "."],
        1,
    );
}

#[test]
fn a_usage_error_is_strict_json() {
    let (home, repo) = setup();
    check(&home, &repo, &["agent", "mission", "create"], 2);
}

#[test]
fn a_broken_store_is_strict_json_for_status() {
    let home = scenario_home().build();
    home.seed_broken(kitty_testkit::BrokenSeed::TamperedCiphertext);
    let repo = home.repo().build();
    check(&home, &repo, &["auth", "status"], 1);
    // And mission create still succeeds, reporting the unusable session on stderr only.
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "despite-store", "--json"])
        .run();
    run.assert_success();
    check_stdout(&run).unwrap_or_else(|e| panic!("{e}"));
    run.diagnostics()
        .assert_exactly_one(kitty_testkit::SyncDiagnosticCode::ServerAuthFailure);
}

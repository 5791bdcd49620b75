//! Operator env files (`.kitty.env`): folded in once at start, as the reference does; `env`
//! shows where each value comes from; the drift canary reports a file the home did not write.

use kitty_testkit::{DriftError, FakeSaas, IsolatedHome, SessionSeed};
use serde_json::Value;

fn var<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in `spec-kitty env`"))
}

#[test]
fn sync_configured_only_in_the_repository_env_file_delivers_the_event() {
    let saas = FakeSaas::start();
    // The FakeSaas's tokens join the leak check; its URL is not in the process environment.
    let home = crate::builder()
        .fake_saas(&saas)
        .unset("SPEC_KITTY_SAAS_URL")
        .build();
    assert_eq!(home.var("SPEC_KITTY_ENABLE_SAAS_SYNC"), None);
    assert_eq!(home.var("SPEC_KITTY_SAAS_URL"), None);
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    let create = |slug: &str| {
        let run = home
            .command()
            .current_dir(repo.path())
            .args(["agent", "mission", "create", slug, "--json"])
            .run();
        run.assert_success();
        run
    };
    // The guard: without the file, sync is off: nothing is sent and nothing is queued.
    create("before-the-file").diagnostics().assert_none();
    assert_eq!(saas.count("/api/v1/events/batch/"), 0);
    assert!(home.queued_events().is_empty());

    home.write_repo_kitty_env(
        &repo,
        &[
            ("SPEC_KITTY_ENABLE_SAAS_SYNC", "1"),
            ("SPEC_KITTY_SAAS_URL", &saas.url()),
        ],
    );
    create("after-the-file").diagnostics().assert_none();
    assert_eq!(
        saas.received_events().len(),
        kitty_testkit::EVENTS_PER_CREATE,
        "the final sync delivered the events of the create that ran with sync on"
    );
    assert!(home.queued_events().is_empty());
    home.check_drift_in(repo.path())
        .expect("a deliberate env file is not drift");
}

#[test]
fn the_process_wins_over_both_files_and_the_repository_over_the_home() {
    let home = crate::builder()
        .env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "500")
        .kitty_env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "900")
        .kitty_env("SPEC_KITTY_HTTP_TIMEOUT_MS", "111")
        .kitty_env("SPEC_KITTY_LOCK_BUDGET_MS", "333")
        .kitty_env("SPEC_KITTY_HOME", "/somewhere/else")
        .build();
    let repo = home.repo().build();
    home.write_repo_kitty_env(&repo, &[("SPEC_KITTY_HTTP_TIMEOUT_MS", "222")]);
    let home_file = home.runtime_root().base().join(".kitty.env");
    let repo_file = repo.path().join(".kittify/.kitty.env");

    let run = home
        .command()
        .current_dir(repo.path())
        .args(["env", "--json"])
        .run();
    run.assert_success();
    let doc = run.json().value().clone();
    let budget = var(&doc, "SPEC_KITTY_FINAL_SYNC_BUDGET_MS");
    assert_eq!(budget["source"], "process", "{doc}");
    let timeout = var(&doc, "SPEC_KITTY_HTTP_TIMEOUT_MS");
    assert_eq!(timeout["source"], "file");
    assert_eq!(
        timeout["file"],
        repo_file.to_str().unwrap(),
        "the repository tier wins"
    );
    let lock = var(&doc, "SPEC_KITTY_LOCK_BUDGET_MS");
    assert_eq!(lock["file"], home_file.to_str().unwrap());
    assert_eq!(
        var(&doc, "SPEC_KITTY_LOG")["source"],
        "process",
        "set by the suite"
    );
    assert_eq!(var(&doc, "NO_COLOR")["source"], "default");

    // The file cannot move the root that locates it.
    let paths = home
        .command()
        .current_dir(repo.path())
        .args(["paths", "--json"])
        .run();
    paths
        .json()
        .assert_eq("/root", home.runtime_root().base().to_str().unwrap())
        .assert_eq("/env_files/0/tier", "home")
        .assert_eq("/env_files/0/ignored/0", "SPEC_KITTY_HOME")
        .assert_eq("/env_files/1/tier", "repository")
        .assert_eq("/env_files/1/applied/0", "SPEC_KITTY_HTTP_TIMEOUT_MS");
    paths.assert_stderr_contains("SPEC_KITTY_HOME in an operator env file is ignored");
}

#[test]
fn an_unreadable_env_file_is_a_clear_strict_json_error() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let file = repo.path().join(".kittify/.kitty.env");
    std::fs::create_dir_all(&file).unwrap(); // a directory where the file should be
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["sync", "status", "--json"])
        .run();
    run.assert_code(1);
    run.json().assert_eq("/error_code", "env_file_unreadable");
    assert!(
        run.json().str("/error").contains(file.to_str().unwrap()),
        "{run}"
    );
    std::fs::remove_dir(&file).unwrap();
    std::fs::write(&file, b"SPEC_KITTY_LOG=\xff\xfe\n").unwrap();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["paths", "--json"])
        .run();
    run.assert_code(1);
    assert!(run.json().str("/error").contains("not UTF-8"), "{run}");
}

#[test]
fn the_minimal_import_switch_turns_sync_off_as_in_the_reference() {
    let saas = FakeSaas::start();
    let home = crate::builder()
        .fake_saas(&saas)
        .sync(true)
        .kitty_env("SPEC_KITTY_SYNC_MINIMAL_IMPORT", "yes")
        .build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    let create = |slug: &str| {
        home.command()
            .current_dir(repo.path())
            .args(["agent", "mission", "create", slug, "--json"])
            .run()
            .assert_success();
    };
    create("quiet-one");
    assert_eq!(saas.count("/api/v1/events/batch/"), 0);
    assert!(
        home.queued_events().is_empty(),
        "sync is off: nothing is queued either"
    );
    let status = home.command().args(["sync", "status", "--json"]).run();
    status.json().assert_eq("/sync_enabled", false);
    // The guard: without the switch the same home delivers.
    home.clear_kitty_env_files();
    create("loud-one");
    assert_eq!(
        saas.received_events().len(),
        kitty_testkit::EVENTS_PER_CREATE
    );
}

#[test]
fn a_hand_written_env_file_is_drift() {
    let home = IsolatedHome::new();
    home.assert_no_drift();
    std::fs::create_dir_all(home.runtime_root().base()).unwrap();
    std::fs::write(
        home.runtime_root().base().join(".kitty.env"),
        "SPEC_KITTY_ENABLE_SAAS_SYNC=1\n",
    )
    .unwrap();
    match home.check_drift() {
        Err(DriftError::StrayEnvFile { sets, tier, .. }) => {
            assert_eq!(sets, "SPEC_KITTY_ENABLE_SAAS_SYNC");
            assert_eq!(tier, "home");
        }
        other => panic!("a stray .kitty.env must be drift, got {other:?}"),
    }
    home.write_home_kitty_env(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")]);
    home.assert_no_drift();
}

/// The canary as seen from a repository: a repository-tier env file written by hand (not through
/// `write_repo_kitty_env`) is drift there, and invisible from the home's own work directory.
#[test]
fn a_hand_written_repository_env_file_is_drift_seen_from_the_repository() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let file = repo.path().join(".kittify/.kitty.env");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "NO_COLOR=1\n").unwrap();
    home.check_drift()
        .expect("the repository tier is not seen from the work directory");
    match home.check_drift_in(repo.path()) {
        Err(kitty_testkit::DriftError::StrayEnvFile { path, tier, sets }) => {
            assert_eq!(
                (path, tier.as_str(), sets.as_str()),
                (file, "repository", "NO_COLOR")
            );
        }
        other => panic!("expected a stray env file, got {other:?}"),
    }
}

//! Finding 8's local half and finding 9's settings: every message names what is wrong.

use kitty_testkit::SessionSeed;

#[test]
fn a_bare_repository_or_the_git_dir_is_not_told_to_run_git_init() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let bare = home.path().join("work/bare.git");
    let ok = std::process::Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(repo.path())
        .arg(&bare)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    for (dir, words) in [
        (bare.clone(), "bare repository"),
        (repo.path().join(".git"), ".git directory"),
    ] {
        let run = home
            .command()
            .current_dir(&dir)
            .args(["agent", "mission", "create", "x", "--json"])
            .run();
        run.assert_code(1);
        run.json().assert_eq("/error_code", "not_a_work_tree");
        let msg = run.json().str("/error").to_string();
        assert!(msg.contains(words), "{run}");
        assert!(!msg.contains("git init"), "{run}");
    }
}

#[test]
fn an_unreadable_config_is_a_read_error() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let config = repo.path().join(".kittify/config.yaml");
    std::fs::remove_file(&config).unwrap();
    std::fs::create_dir(&config).unwrap();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "x", "--json"])
        .run();
    run.assert_code(1);
    let msg = run.json().str("/error").to_string();
    assert!(msg.contains("cannot read"), "{run}");
    assert!(!msg.contains("cannot write"), "{run}");
}

#[test]
fn a_non_mission_directory_never_blocks_a_slug() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let other = repo.path().join("kitty-specs/api-overview");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.md"), "hand-written notes\n").unwrap();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "api", "--json"])
        .run();
    run.assert_success();
    assert!(run.json().str("/mission_slug").starts_with("api-"));
    assert_ne!(run.json().str("/mission_slug"), "api-overview");
    assert_eq!(
        std::fs::read_to_string(other.join("notes.md")).unwrap(),
        "hand-written notes\n"
    );
}

#[test]
fn a_budget_that_is_not_a_number_is_said_once() {
    let home = crate::builder()
        .env("SPEC_KITTY_LOG", "warn")
        .env("SPEC_KITTY_LOCK_BUDGET_MS", "two seconds")
        .build();
    let run = home.command().args(["sync", "status", "--json"]).run();
    run.assert_success();
    assert_eq!(
        run.stderr().matches("SPEC_KITTY_LOCK_BUDGET_MS").count(),
        1,
        "{run}"
    );
    assert!(run.stderr().contains("not a number"), "{run}");
}

#[test]
fn a_locked_outbox_fails_in_seconds_with_the_reason() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1);
    let conn = rusqlite::Connection::open(home.runtime_root().outbox_db()).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let repo = home.repo().build();
    let started = std::time::Instant::now();
    let run = home
        .command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "locked", "--json"])
        .run();
    run.assert_code(1);
    assert!(
        run.json()
            .str("/error")
            .contains("locked by another process"),
        "{run}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{run}"
    );
    assert!(repo.mission_dirs().is_empty());
    conn.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_session_file_that_is_a_directory_is_named_as_such_not_as_permissions() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    let session = home.runtime_root().auth_dir().join("session.json");
    std::fs::remove_file(&session).unwrap();
    std::fs::create_dir(&session).unwrap();
    for hot_path_off in ["0", "1"] {
        let run = home
            .command()
            .env("SPEC_KITTY_DISABLE_SESSION_HOT_PATH", hot_path_off)
            .args(["auth", "status", "--json"])
            .run();
        run.assert_code(1);
        let msg = run.json().str("/error").to_string();
        assert!(msg.contains("is a directory, not a file"), "{run}");
        assert!(msg.contains("move it away"), "{run}");
        assert!(
            !msg.contains("chmod") && !msg.contains("permissions"),
            "{run}"
        );
    }
    assert!(session.is_dir(), "the directory was changed");
}

#[test]
fn a_huge_service_url_is_shortened_in_messages() {
    let long = format!("http://127.0.0.1:9/{}", "a".repeat(100_000));
    let home = crate::builder().server(&long).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1);
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_code(1);
    let msg = run.json().str("/error").to_string();
    assert!(msg.contains("characters left out"), "{msg}");
    assert!(msg.len() < 2_000, "a {} byte message", msg.len());
    assert!(
        run.stderr().len() < 4_000,
        "stderr of {} bytes",
        run.stderr().len()
    );
}

// Unix-only: a symbolic link (to itself).
#[cfg(unix)]
#[test]
fn a_session_path_that_cannot_be_read_for_another_reason_is_not_called_a_directory() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    let session = home.runtime_root().auth_dir().join("session.json");
    std::fs::remove_file(&session).unwrap();
    // A symbolic link to itself: reading it fails with a loop, not as a directory.
    std::os::unix::fs::symlink(&session, &session).unwrap();
    let run = home
        .command()
        .env("SPEC_KITTY_DISABLE_SESSION_HOT_PATH", "1")
        .args(["auth", "status", "--json"])
        .run();
    run.assert_code(1);
    let msg = run.json().str("/error").to_string();
    assert!(msg.contains("cannot read"), "{run}");
    assert!(!msg.contains("a directory"), "{run}");
}

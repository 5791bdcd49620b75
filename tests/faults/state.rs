//! Findings 3, 4 and 7: a failing command changes nothing; unusable values are errors, never a
//! fallback; a session write's debris never survives.

#[cfg(unix)]
use kitty_testkit::DirSnapshot;
use kitty_testkit::{FakeSaas, SessionSeed};

// Unix-only: a symbolic link, and file modes.
#[cfg(unix)]
#[test]
fn an_auth_dir_symlinked_outside_the_root_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let home = crate::builder().build();
    let outside = home.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o755)).unwrap();
    let auth = home.runtime_root().auth_dir();
    std::fs::create_dir_all(auth.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&outside, &auth).unwrap();
    let saas = FakeSaas::start();
    saas.set_device_polls([kitty_testkit::DevicePoll::Grant]);
    let run = home
        .command()
        .env("SPEC_KITTY_SAAS_URL", saas.url())
        .args(["auth", "login", "--json"])
        .run();
    run.assert_code(1);
    assert!(run.json().str("/error").contains("symbolic link"), "{run}");
    let mode = std::fs::metadata(&outside).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the link's target was chmod-ed");
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "a session was written outside the root"
    );
}

#[test]
fn a_foreign_sqlite_file_at_the_outbox_path_is_refused_unchanged() {
    let home = crate::builder().build();
    let db = home.runtime_root().outbox_db();
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');",
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let repo = home.repo().build();
    let run = home
        .command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "foreign", "--json"])
        .run();
    run.assert_code(1);
    assert!(
        run.json().str("/error").contains("not a spec-kitty outbox"),
        "{run}"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "tables were added to a foreign database"
    );
    assert!(
        repo.mission_dirs().is_empty(),
        "nothing of the mission was made"
    );
    let status = home.command().args(["sync", "status", "--json"]).run();
    status.assert_code(1);
    status.json().assert_eq("/error_code", "outbox_unavailable");
    // A file that is not SQLite at all is refused the same way.
    std::fs::write(&db, b"not a database, just text").unwrap();
    let run = home.command().args(["sync", "status", "--json"]).run();
    run.assert_code(1);
    assert_eq!(std::fs::read(&db).unwrap(), b"not a database, just text");
}

// Unix-only: file modes.
#[cfg(unix)]
#[test]
fn a_read_only_outbox_is_refused_and_nothing_is_chmod_ed() {
    use std::os::unix::fs::PermissionsExt;
    let home = crate::builder().build();
    home.seed_queued_events(1);
    let db = home.runtime_root().outbox_db();
    let wal = db.with_file_name("outbox.sqlite-wal");
    for f in [&db, &wal] {
        if f.exists() {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o400)).unwrap();
        }
    }
    let before = DirSnapshot::of(home.runtime_root().base());
    let run = home.command().args(["sync", "status", "--json"]).run();
    run.assert_code(1);
    assert!(run.json().str("/error").contains("read-only"), "{run}");
    assert!(run.json().str("/error").contains("chmod 600"), "{run}");
    before.assert_unchanged(&DirSnapshot::of(home.runtime_root().base()));
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o400);
}

// Unix-only: an OS string made from raw bytes.
#[cfg(unix)]
#[test]
fn a_registered_variable_that_is_not_utf8_is_an_error_not_a_fallback() {
    use std::os::unix::ffi::OsStringExt;
    let home = crate::builder().build();
    let repo = home.repo().build();
    let bad = std::ffi::OsString::from_vec(b"/tmp/kitty-\xff-home".to_vec());
    for var in [
        "SPEC_KITTY_HOME",
        "SPEC_KITTY_ENABLE_SAAS_SYNC",
        "SPEC_KITTY_SAAS_URL",
    ] {
        let before = DirSnapshot::of(home.path());
        let run = home
            .command()
            .env_os(var, bad.clone())
            .current_dir(repo.path())
            .args(["agent", "mission", "create", "utf8", "--json"])
            .run();
        run.assert_code(1);
        run.json().assert_eq("/error_code", "env_not_utf8");
        assert!(run.json().str("/error").contains(var), "{run}");
        before.assert_unchanged(&DirSnapshot::of(home.path()));
    }
    // A variable spec-kitty does not read may be anything (passed on to git untouched).
    home.command()
        .env_os("SOME_OTHER_VAR", bad)
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "utf8", "--json"])
        .run()
        .assert_success();
}

// Unix-only: a path made from raw bytes.
#[cfg(unix)]
#[test]
fn a_repository_path_that_is_not_utf8_says_so_and_creates_nothing() {
    use std::os::unix::ffi::OsStrExt;
    let home = crate::builder().build();
    let dir = home
        .path()
        .join("work")
        .join(std::ffi::OsStr::from_bytes(b"repo-\xff"));
    std::fs::create_dir_all(&dir).unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .env("GIT_CEILING_DIRECTORIES", home.path())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "i",
    ]);
    let parent = dir.parent().unwrap().to_path_buf();
    let before: Vec<_> = std::fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    for args in [
        &["init", "--json"][..],
        &["agent", "mission", "create", "x", "--json"],
    ] {
        let run = home.command().current_dir(&dir).args(args).run();
        run.assert_code(1);
        run.json().assert_eq("/error_code", "non_utf8_path");
        let msg = run.json().str("/error").to_string();
        assert!(!msg.contains("is git installed"), "{run}");
        // The path is named, its invalid byte shown as U+FFFD.
        assert!(msg.contains("work/repo-\u{fffd}"), "{run}");
    }
    let after: Vec<_> = std::fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "a look-alike directory was created");
}

#[test]
fn a_session_write_removes_the_debris_of_crashed_writes_and_keeps_a_rotated_token() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    home.seed(&SessionSeed::with_private_team().access_expired());
    let auth = home.runtime_root().auth_dir();
    let debris = auth.join(".session.json.a1b2c3d4e5f6.tmp");
    std::fs::write(&debris, b"{\"version\": 2, \"nonce\": \"...\"}").unwrap();
    // The refresh answer's expiry does not parse: the rotated refresh token must still be kept.
    saas.set_grant_fields(serde_json::json!({"refresh_token_expires_at": "next tuesday"}));
    home.command()
        .args(["auth", "refresh", "--json"])
        .run()
        .assert_success();
    assert!(
        !debris.exists(),
        "a crashed write's temporary survived a write"
    );
    let session = home.read_session().unwrap();
    assert!(
        saas.issued_tokens().contains(&session.refresh_token),
        "the rotated refresh token was not saved"
    );
}

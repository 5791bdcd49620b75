//! Issue 27, the queue safe at rest: private files from the first byte, no event only in a
//! `-wal` SQLite may discard, a foreign database left byte-identical, a broken root named.

#[cfg(unix)]
use std::path::Path;

use kitty_testkit::{DirSnapshot, SessionSeed};

/// Every file under `root` that another user could read or write, and every directory that is
/// not 0700, as `path mode` lines.
#[cfg(unix)]
fn wider_than_private(root: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut wide = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_dir() {
                if mode != 0o700 {
                    wide.push(format!("{} {mode:04o}", path.display()));
                }
                stack.push(path);
            } else if mode & 0o077 != 0 {
                wide.push(format!("{} {mode:04o}", path.display()));
            }
        }
    }
    wide
}

// Unix-only: file modes.
#[cfg(unix)]
#[test]
fn every_file_under_the_root_is_private_after_every_command_wal_and_shm_included() {
    let saas = kitty_testkit::FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    let root = home.runtime_root().base().to_path_buf();
    let db = home.runtime_root().outbox_db();
    let mut saw_wal = false;
    let steps: [&[&str]; 7] = [
        &["agent", "mission", "create", "first", "--json"],
        &["sync", "status", "--json"],
        &["agent", "mission", "create", "second", "--json"],
        &["sync", "now", "--json"],
        &["auth", "status", "--json"],
        &["auth", "refresh", "--json"],
        &["sync", "status", "--json"],
    ];
    for args in steps {
        home.command()
            .current_dir(repo.path())
            .args(args)
            .run()
            .assert_success();
        let wide = wider_than_private(&root);
        assert!(wide.is_empty(), "after {args:?}: {wide:#?}");
        saw_wal |= db.with_file_name("outbox.sqlite3-wal").exists()
            && db.with_file_name("outbox.sqlite3-shm").exists();
    }
    assert!(
        saw_wal,
        "the scenario never made the outbox's -wal and -shm, so never checked them"
    );
}

#[test]
fn a_damaged_wal_loses_no_queued_event() {
    // The service refuses connections: the create's event stays queued.
    let home = crate::builder()
        .server(kitty_testkit::refusing_url())
        .sync(true)
        .build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "kept", "--json"])
        .run()
        .assert_success();
    let wal = home
        .runtime_root()
        .outbox_db()
        .with_file_name("outbox.sqlite3-wal");
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    if size > 0 {
        // Same size, random bytes: every frame fails its checksum.
        let noise: Vec<u8> = (0..size).map(|i| (i * 7919 % 251) as u8 ^ 0x5a).collect();
        std::fs::write(&wal, noise).unwrap();
    }
    let status = home.command().args(["sync", "status", "--json"]).run();
    status.assert_success();
    status
        .json()
        .assert_eq("/queue_depth", kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn a_foreign_events_table_is_refused_in_words_and_left_byte_identical() {
    let home = crate::builder().build();
    let db = home.runtime_root().outbox_db();
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(db.parent().unwrap(), std::fs::Permissions::from_mode(0o700))
            .unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT);
             INSERT INTO events (payload) VALUES ('someone else''s');",
        )
        .unwrap();
    }
    let before = DirSnapshot::of(home.runtime_root().base());
    let repo = home.repo().build();
    for args in [
        &["agent", "mission", "create", "foreign", "--json"][..],
        &["sync", "status", "--json"],
    ] {
        let run = home
            .command()
            .sync_queue_only()
            .current_dir(repo.path())
            .args(args)
            .run();
        run.assert_code(1);
        let doc = run.json();
        doc.assert_eq("/error_code", "outbox_unavailable");
        let msg = doc.str("/error");
        assert!(msg.contains("not a spec-kitty outbox"), "{run}");
        assert!(
            msg.contains("events table"),
            "the message says what is foreign\n{run}"
        );
        assert!(
            !msg.contains("no such column"),
            "raw SQL in the message\n{run}"
        );
    }
    before.assert_unchanged(&DirSnapshot::of(home.runtime_root().base()));
    assert!(repo.mission_dirs().is_empty());
}

#[test]
fn sync_status_reports_a_broken_root_as_create_does() {
    let home = crate::builder().build();
    let sync_dir = home.runtime_root().sync_dir();
    std::fs::create_dir_all(sync_dir.parent().unwrap()).unwrap();
    std::fs::write(&sync_dir, "a file where the sync directory goes").unwrap();
    let repo = home.repo().build();
    let create = home
        .command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "x", "--json"])
        .run();
    create.assert_code(1);
    let status = home.command().args(["sync", "status", "--json"]).run();
    status.assert_code(1);
    let (c, s) = (create.json(), status.json());
    assert_eq!(c.str("/error_code"), "outbox_unavailable");
    assert_eq!(s.str("/error_code"), c.str("/error_code"), "{status}");
    for run in [&c, &s] {
        let msg = run.str("/error");
        assert!(msg.contains(&sync_dir.display().to_string()), "{msg}");
        assert!(msg.contains("move away whatever is there"), "{msg}");
    }
}

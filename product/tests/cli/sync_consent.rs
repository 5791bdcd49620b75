//! Sync consent as the reference records it (`spec-kitty sync opt-in` / `opt-out`, in its
//! per-project store): nothing is queued without a grant, nothing is sent after a refusal, and
//! `sync status` / `sync now` see the reference's own queue for the project.

use kitty_testkit::{FakeSaas, IsolatedHome, PROJECT_UUID, Repo, SessionSeed};
use serde_json::Value;

/// Sync on against a FakeSaas with a private session, and no consent seeded.
fn home_without_consent(saas: &FakeSaas) -> (IsolatedHome, Repo) {
    let home = IsolatedHome::builder()
        .env("SPEC_KITTY_LOG", "trace")
        .sync(true)
        .fake_saas(saas)
        .build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    (home, repo)
}

fn create(home: &IsolatedHome, repo: &Repo, slug: &str) -> kitty_testkit::JsonDoc {
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", slug, "--json"])
        .run();
    run.assert_success();
    run.json()
}

#[test]
fn without_consent_a_create_with_sync_on_queues_and_sends_nothing() {
    let saas = FakeSaas::start();
    let (home, repo) = home_without_consent(&saas);
    create(&home, &repo, "unconsented").assert_eq("/event_queued", false);
    assert!(home.queued_events().is_empty());
    assert!(saas.requests().is_empty(), "{:?}", saas.requests());
    // The guard: the same home, once the project opts in, queues and delivers.
    home.seed_sync_consent(PROJECT_UUID, true);
    create(&home, &repo, "consented").assert_eq("/event_queued", true);
    assert_eq!(
        saas.received_events().len(),
        kitty_testkit::EVENTS_PER_CREATE
    );
}

#[test]
fn after_an_opt_out_queued_events_are_withheld_and_kept_until_consent_returns() {
    let saas = FakeSaas::start();
    let (home, repo) = home_without_consent(&saas);
    home.seed_sync_consent(PROJECT_UUID, true);
    home.command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "before-opt-out", "--json"])
        .run()
        .assert_success();
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
    home.seed_sync_consent(PROJECT_UUID, false);
    let now = home
        .command()
        .current_dir(repo.path())
        .args(["sync", "now", "--json"])
        .run();
    now.assert_success()
        .json()
        .assert_eq("/withheld", kitty_testkit::EVENTS_PER_CREATE)
        .assert_eq("/delivered", 0)
        .assert_eq("/remaining", kitty_testkit::EVENTS_PER_CREATE);
    assert_eq!(saas.count("/api/v1/events/batch/"), 0);
    assert_eq!(
        home.queued_events().len(),
        kitty_testkit::EVENTS_PER_CREATE,
        "withheld, not lost"
    );
    home.command()
        .current_dir(repo.path())
        .args(["sync", "status", "--json"])
        .run()
        .json()
        .assert_eq("/project/uuid", PROJECT_UUID)
        .assert_eq("/project/consent", "refused");
    home.seed_sync_consent(PROJECT_UUID, true);
    home.command()
        .args(["sync", "now", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/delivered", kitty_testkit::EVENTS_PER_CREATE)
        .assert_eq("/withheld", 0);
}

/// A reference store with journal rows the reference's next `sync now` would send.
fn seed_reference_queue(home: &IsolatedHome, sendable: usize) {
    let store = home.runtime_root().reference_project_store(PROJECT_UUID);
    home.seed_sync_consent(PROJECT_UUID, true);
    let c = rusqlite::Connection::open(&store).unwrap();
    c.execute_batch(
        "CREATE TABLE consent_epochs (epoch_id INTEGER, project_uuid TEXT, state TEXT,
             consent_generation INTEGER);
         CREATE TABLE journal_entries (entry_id TEXT, project_uuid TEXT, epoch_id INTEGER,
             capture_sequence INTEGER, payload_json TEXT);
         CREATE TABLE delivery_attempts (attempt_id TEXT, project_uuid TEXT,
             payload_reference TEXT, state TEXT, deadline_at TEXT);",
    )
    .unwrap();
    c.execute(
        "INSERT INTO consent_epochs SELECT 1, ?1, 'eligible', generation
         FROM project_consent_decisions WHERE project_uuid = ?1",
        [PROJECT_UUID],
    )
    .unwrap();
    for i in 0..sendable {
        c.execute(
            "INSERT INTO journal_entries VALUES (?1, ?2, 1, ?3, '{}')",
            rusqlite::params![format!("ev-{i}"), PROJECT_UUID, i as i64 + 1],
        )
        .unwrap();
    }
}

#[test]
fn sync_status_shows_the_project_s_consent_and_the_reference_s_queue_only_inside_it() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    seed_reference_queue(&home, 3);
    let status = home
        .command()
        .current_dir(repo.path())
        .args(["sync", "status", "--json"])
        .run();
    status
        .assert_success()
        .json()
        .assert_eq("/project/consent", "granted")
        .assert_eq("/project/reference_queue/retained", 3)
        .assert_eq("/project/reference_queue/sendable", 3)
        .assert_eq("/project/reference_queue/withheld", 0);
    // Outside a project there is no project to show.
    home.command()
        .args(["sync", "status", "--json"])
        .run()
        .json()
        .assert_eq("/project", Value::Null);
}

#[cfg(unix)]
#[test]
fn sync_now_drains_the_reference_s_queue_through_the_reference_and_needs_one() {
    use std::os::unix::fs::PermissionsExt;
    let saas = FakeSaas::start();
    let home = crate::builder().sync(true).fake_saas(&saas).build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    seed_reference_queue(&home, 2);
    // Without a reference: kitty's part is done, the reference's queue is named with the fix.
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["sync", "now", "--json"])
        .run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "reference_not_found");
    assert!(doc.str("/error").contains("2 event(s)"), "{run}");
    assert!(
        doc.str("/error")
            .contains("pip install spec-kitty-cli==3.2.7"),
        "{run}"
    );
    // With one: it runs `sync now` in the project, its output on stderr, stdout still one document.
    let bin = home.path().join("reference-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stub = bin.join("spec-kitty");
    let log = home.path().join("reference.log");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\necho \"$@ in $(pwd)\" >> '{}'\necho 'reference says hello'\nexit 0\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = home
        .command()
        .env("SPEC_KITTY_REFERENCE", stub.to_str().unwrap())
        .current_dir(repo.path())
        .args(["sync", "now", "--json"])
        .run();
    run.assert_success()
        .json()
        .assert_eq("/reference_queue/before", 2)
        .assert_eq("/reference_queue/after", 2);
    run.assert_stderr_contains("reference says hello");
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ran.trim(), format!("sync now in {}", repo.path().display()));
}

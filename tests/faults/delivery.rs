//! Findings 9, 10 and 11: `sync now` has an overall deadline; a killed drain re-sends at most the
//! one batch in flight; the outbox gives its space back after a drain.

use std::time::{Duration, Instant};

use kitty_testkit::{FakeSaas, SessionSeed};

const BATCH: usize = 500;

#[test]
fn a_killed_drain_resends_at_most_the_batch_in_flight() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let ids = home.seed_queued_events(3 * BATCH);
    for _ in 0..3 {
        saas.set_batch_delay(Duration::from_millis(300));
        let before = saas.count("/api/v1/events/batch/");
        let running = home.command().args(["sync", "now", "--json"]).spawn();
        // Kill while a batch is in flight (the server has it, the answer is not back yet).
        let deadline = Instant::now() + Duration::from_secs(20);
        while saas.count("/api/v1/events/batch/") <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        let killed = running.kill();
        // Killed by a signal: no exit code (Windows has no signals: its kill sets code 1).
        #[cfg(unix)]
        assert_eq!(killed.code(), None, "killed\n{killed}");
        #[cfg(not(unix))]
        assert_ne!(killed.code(), Some(0), "killed\n{killed}");
    }
    saas.set_batch_delay(Duration::ZERO);
    home.command()
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    let received: Vec<String> = saas
        .received_events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    let mut unique = received.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "every event delivered");
    let duplicates = received.len() - unique.len();
    assert!(
        duplicates <= 3 * BATCH,
        "{duplicates} duplicates over 3 kills: more than one batch per kill"
    );
    assert!(home.queued_events().is_empty());
}

#[test]
fn sync_now_stops_at_its_deadline_against_a_server_that_never_answers() {
    let rogue = kitty_testkit::RogueServer::start(kitty_testkit::Misbehaviour::Hang);
    let home = crate::builder().server(rogue.url()).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1);
    let started = Instant::now();
    let run = home
        .command()
        .env("SPEC_KITTY_SYNC_DEADLINE_MS", "1500")
        .args(["sync", "now", "--json"])
        .run();
    let took = started.elapsed();
    run.assert_code(1);
    run.json()
        .assert_eq("/error_code", "sync.server_unavailable");
    assert!(
        took < Duration::from_secs(4),
        "took {took:?} with a 1.5 s deadline"
    );
    assert!(
        took >= Duration::from_millis(1000),
        "gave up early: {took:?}"
    );
    assert_eq!(home.queued_events().len(), 1);
}

#[test]
fn a_rejection_back_off_that_would_pass_the_deadline_is_not_waited_for() {
    // Every send is rejected; the back-off is 250 ms after the first rejection and 1 s after
    // the second, so within a 600 ms deadline at most two batches go out. Waiting out the
    // second back-off would send a third.
    let saas = FakeSaas::start();
    saas.set_default_event_status("rejected");
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1);
    let run = home
        .command()
        .env("SPEC_KITTY_SYNC_DEADLINE_MS", "600")
        .args(["sync", "now", "--json"])
        .run();
    let _ = run.json();
    let sent = saas.count("/api/v1/events/batch/");
    assert!((1..=2).contains(&sent), "{sent} batches\n{run}");
    assert_eq!(home.queued_events().len(), 1, "the event stays queued");
}

#[test]
fn the_outbox_gives_its_space_back_after_a_drain() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(4000);
    let full = home.outbox_file_size();
    assert!(
        full > 2 * 1024 * 1024,
        "the guard: the queue is big ({full} bytes)"
    );
    home.command()
        .args(["sync", "now", "--json"])
        .run()
        .assert_success()
        .assert_stderr_contains("outbox space reclaimed");
    let after = home.outbox_file_size();
    assert!(
        after < full / 10,
        "the outbox stayed at {after} bytes after draining (was {full})"
    );
}

#[test]
fn a_small_drain_leaves_its_free_pages_for_a_later_vacuum() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(200);
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_success().json().assert_eq("/delivered", 200);
    // Nothing was staged, so the recovery pass that ran first had nothing to say.
    run.assert_stderr_lacks("staged events resolved")
        .assert_stderr_lacks("outbox space reclaimed");
    let free = freelist_pages(&home);
    assert!(
        free > 0,
        "a drain that freed far less than 1 MiB vacuumed the outbox"
    );
}

fn freelist_pages(home: &kitty_testkit::IsolatedHome) -> i64 {
    rusqlite::Connection::open(home.runtime_root().outbox_db())
        .unwrap()
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn discarding_quarantined_rows_gives_their_space_back_too() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let big = format!("{{\"not an envelope\": \"{}\"}}", "x".repeat(600_000));
    for i in 0..3 {
        home.seed_raw_outbox_row(&format!("01JBIG{i:020}"), "MissionCreated", &big);
    }
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.json()
        .assert_eq("/error_code", "sync.events_quarantined");
    assert_eq!(home.quarantined_rows().len(), 3);
    let run = home
        .command()
        .args(["sync", "now", "--discard-quarantined", "--json"])
        .run();
    run.assert_success()
        .json()
        .assert_eq("/discarded", 3)
        .assert_eq("/delivered", 0);
    run.assert_stderr_contains("outbox space reclaimed");
    assert_eq!(freelist_pages(&home), 0, "the 1.8 MB freed were given back");
}

#[test]
fn an_answer_that_settles_no_event_is_a_protocol_failure_that_keeps_them() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let ids = home.seed_queued_events(2);
    for body in [
        serde_json::json!({}),
        serde_json::json!({"results": [{"event_id": "01NOTONEOFOURS0000000000000", "status": "success"}]}),
    ] {
        saas.push_batch_answers([kitty_testkit::BatchAnswer::Body(body.clone())]);
        let run = home.command().args(["sync", "now", "--json"]).run();
        run.assert_code(1);
        let doc = run.json();
        doc.assert_eq("/error_code", "sync.server_unavailable");
        assert!(
            doc.str("/error")
                .contains("without a status for any of them"),
            "{body}: {run}"
        );
        assert_eq!(
            home.queued_events().len(),
            ids.len(),
            "{body}: events were dropped"
        );
    }
    // The next good answer delivers them.
    home.command()
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    assert!(home.queued_events().is_empty());
}

#[test]
fn an_empty_answer_to_a_create_s_final_sync_is_one_diagnostic_and_the_event_stays() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    saas.push_batch_answers([
        kitty_testkit::BatchAnswer::Body(serde_json::json!({})),
        kitty_testkit::BatchAnswer::Body(serde_json::json!({})),
    ]);
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "unsettled", "--json"])
        .run();
    run.assert_success();
    let d = run
        .diagnostics()
        .assert_exactly_one(kitty_testkit::SyncDiagnosticCode::ServerUnavailable)
        .clone();
    assert!(d.message.contains("without a status"), "{run}");
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

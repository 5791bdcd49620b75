//! `sync now`, `sync status`, per-event statuses, and eight concurrent creators.

use kitty_testkit::{BatchAnswer, FakeSaas, IsolatedHome, Repo, SessionSeed};

/// A create whose event waits in the outbox (sync on, final sync off): nothing is sent.
fn create_queued(home: &IsolatedHome, repo: &Repo, slug: &str) {
    home.command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", slug, "--json"])
        .run()
        .assert_success();
}

#[test]
fn per_event_statuses_remove_keep_or_retry_after_back_off() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    // Three events, each of its own (the statuses answer them by position).
    drop(repo);
    home.seed_queued_events(3);
    let ids: Vec<String> = home
        .queued_events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    saas.push_batch_answers([BatchAnswer::Statuses(vec![
        "rejected".into(),
        "pending".into(),
        "duplicate".into(),
    ])]);
    let run = home
        .command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run();
    run.assert_success();
    // The rejected event is sent again after its back-off (the service then accepts it); the
    // pending one is kept without penalty and not re-sent in the same run.
    run.json()
        .assert_eq("/delivered", 2)
        .assert_eq("/rejected", 1)
        .assert_eq("/parked", 0)
        .assert_eq("/kept", 1)
        .assert_eq("/remaining", 1);
    assert_eq!(home.queued_retry_counts(), vec![(ids[1].clone(), 0)]);
    let batches = saas.requests_to("/api/v1/events/batch/");
    assert_eq!(
        batches.len(),
        2,
        "one pass, then one retry of the rejected event"
    );
    assert_eq!(batches[1].json()["events"][0]["event_id"], ids[0].as_str());
}

#[test]
fn an_always_rejected_event_is_parked_named_and_retried_only_on_request() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1);
    let id = home.queued_events()[0]["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    saas.set_default_event_status("rejected");
    saas.set_rejection_reason("payload.purpose_tldr: too long");
    let sync_now = |extra: &[&str]| {
        home.command()
            .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
            .args(["sync", "now", "--json"])
            .args(extra)
            .run()
    };
    let run = sync_now(&[]);
    run.assert_failure();
    run.json()
        .assert_eq("/error_code", "sync.events_rejected")
        .assert_eq("/rejected_events/0/event_id", id.as_str())
        .assert_eq("/rejected_events/0/retry_count", 3)
        .assert_eq(
            "/rejected_events/0/reason",
            "payload.purpose_tldr: too long",
        );
    assert_eq!(
        saas.count("/api/v1/events/batch/"),
        3,
        "bounded: three attempts, then parked"
    );
    assert_eq!(
        home.parked_rejections(),
        vec![(id.clone(), Some("payload.purpose_tldr: too long".into()))]
    );
    assert!(
        home.queued_events().is_empty(),
        "a parked event is not queued"
    );

    // Parked events are not sent again by a plain `sync now`, which keeps failing.
    sync_now(&[]).assert_failure();
    assert_eq!(saas.count("/api/v1/events/batch/"), 3);
    let status = home.command().args(["sync", "status", "--json"]).run();
    status.assert_success();
    status
        .json()
        .assert_eq("/rejected_count", 1)
        .assert_eq("/rejected_events/0/event_id", id.as_str())
        .assert_eq("/queue_depth", 0);
    home.command()
        .args(["sync", "status"])
        .run()
        .assert_success()
        .assert_stdout_contains(&format!(
            "Rejected (parked): 1\n  {id} MissionCreated (payload.purpose_tldr: too long)\nQuarantined: 0\n"
        ));

    // The service now accepts events. The final sync of another command delivers its own
    // event, does not resend the parked one, and names it in its one diagnostic line.
    saas.set_default_event_status("success");
    create_offline_synced_names_parked(&home, &repo, &id);
    assert_eq!(saas.count("/api/v1/events/batch/"), 4);
    assert!(
        !saas.requests_to("/api/v1/events/batch/")[3].json()["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_id"] == id.as_str())
    );

    // --retry-rejected puts it back and sends it.
    let run = sync_now(&["--retry-rejected"]);
    run.assert_success();
    run.json()
        .assert_eq("/requeued", 1)
        .assert_eq("/remaining", 0);
    assert!(home.parked_rejections().is_empty());
    assert!(
        saas.received_events()
            .iter()
            .any(|e| e["event_id"] == id.as_str())
    );
}

fn create_offline_synced_names_parked(home: &IsolatedHome, repo: &Repo, id: &str) {
    let run = home
        .command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "second", "--json"])
        .run();
    run.assert_success();
    let line = run
        .diagnostics()
        .assert_exactly_one(kitty_testkit::SyncDiagnosticCode::EventsRejected)
        .clone();
    assert!(line.message.contains(id), "{run}");
    assert!(line.message.contains("--retry-rejected"), "{run}");
}

#[test]
fn an_undecodable_row_is_quarantined_never_sent_and_reported() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    create_queued(&home, &repo, "before");
    home.seed_raw_outbox_row(
        "01JPOISONED000000000000000",
        "MissionCreated",
        "{\"event_id\":",
    );
    // A kitty 0.1 row: the old integer schema_version, no build_id.
    home.seed_raw_outbox_row(
        "01JLEGACY00000000000000000",
        "MissionCreated",
        r#"{"event_id":"01JLEGACY00000000000000000","schema_version":1,"payload":{}}"#,
    );
    create_queued(&home, &repo, "after");
    let run = home
        .command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run();
    run.assert_failure();
    run.json()
        .assert_eq("/error_code", "sync.events_quarantined")
        .assert_eq("/quarantined_rows/0/event_id", "01JPOISONED000000000000000")
        .assert_eq("/quarantined_rows/1/event_id", "01JLEGACY00000000000000000");
    // The guard ran: the good events on either side were delivered, and nothing else was sent.
    let sent: Vec<_> = saas
        .received_events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent.len(), 2 * kitty_testkit::EVENTS_PER_CREATE, "{sent:?}");
    assert!(
        sent.iter()
            .all(|id| !id.starts_with("01JPOISON") && !id.starts_with("01JLEGACY"))
    );
    assert!(
        saas.received_events().iter().all(|e| !e.is_null()),
        "a null event was sent"
    );
    let rows = home.quarantined_rows();
    assert_eq!(rows.len(), 2);
    assert!(rows[1].1.contains("schema_version"), "{rows:?}");
    let status = home.command().args(["sync", "status", "--json"]).run();
    status
        .json()
        .assert_eq("/quarantined_count", 2)
        .assert_eq("/queue_depth", 0);
    // In words: the count, then one indented line per row; an empty list is a plain 0.
    home.command()
        .args(["sync", "status"])
        .run()
        .assert_success()
        .assert_stdout_contains("Queue: 0 event(s)\nRejected (parked): 0\nQuarantined: 2\n  01JPOISONED000000000000000 MissionCreated (")
        .assert_stdout_contains("\n  01JLEGACY00000000000000000 MissionCreated (");
    // Dropping them by hand makes `sync now` clean again.
    let run = home
        .command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--discard-quarantined", "--json"])
        .run();
    run.assert_success();
    run.json().assert_eq("/discarded", 2);
    assert!(home.quarantined_rows().is_empty());
}

#[test]
fn sync_now_refuses_when_sync_is_disabled() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "sync_disabled");
    assert!(saas.requests().is_empty());
}

#[test]
fn sync_now_failure_is_strict_json_with_the_code() {
    let home = crate::builder().sync(true).refusing_server().build();
    let repo = home.repo().build();
    create_queued(&home, &repo, "pending-one");
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "sync.server_auth_failure");
}

#[test]
fn sync_status_reports_the_queue_without_network() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    let empty = home.command().args(["sync", "status", "--json"]).run();
    empty
        .json()
        .assert_eq("/queue_depth", 0)
        .assert_eq("/sync_enabled", false);
    create_queued(&home, &repo, "queued-one");
    let run = home.command().args(["sync", "status", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/queue_depth", kitty_testkit::EVENTS_PER_CREATE)
        .assert_eq("/auth_state", "authenticated")
        .assert_eq("/private_team_id", "team-private")
        .assert_eq("/server_url", saas.url())
        .assert_eq("/last_attempt", serde_json::Value::Null);
    assert!(run.json().at("/oldest_event_age_seconds").is_number());
    assert!(saas.requests().is_empty());

    home.command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    home.command()
        .args(["sync", "status", "--json"])
        .run()
        .json()
        .assert_eq("/queue_depth", 0)
        .assert_eq("/last_attempt/outcome", "success")
        .assert_eq("/last_attempt/delivered", kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn eight_concurrent_creators_lose_nothing_and_sync_delivers_each_once() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    let running: Vec<_> = (0..8)
        .map(|i| {
            home.command()
                .sync_queue_only()
                .current_dir(repo.path())
                .args([
                    "agent",
                    "mission",
                    "create",
                    &format!("parallel-{i}"),
                    "--json",
                ])
                .spawn()
        })
        .collect();
    for r in running {
        r.wait()
            .assert_success()
            .json()
            .assert_eq("/result", "success");
    }
    assert_eq!(repo.mission_dirs().len(), 8);
    assert_eq!(repo.commit_count(), 9);
    // Only the eight spec.md scaffolds are left for the agent (untracked), nothing else.
    let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status.lines().count(), 8, "{status}");
    assert!(
        status
            .lines()
            .all(|l| l.starts_with("?? ") && l.ends_with("/spec.md")),
        "{status}"
    );
    let events = home.queued_events();
    assert_eq!(events.len(), 8 * kitty_testkit::EVENTS_PER_CREATE);
    let mut ids: Vec<_> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        8 * kitty_testkit::EVENTS_PER_CREATE,
        "duplicate event ids"
    );
    let mut clocks: Vec<_> = events
        .iter()
        .map(|e| e["lamport_clock"].as_i64().unwrap())
        .collect();
    clocks.sort();
    assert_eq!(
        clocks,
        (1..=(8 * kitty_testkit::EVENTS_PER_CREATE) as i64).collect::<Vec<_>>()
    );

    home.command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/delivered", 8 * kitty_testkit::EVENTS_PER_CREATE);
    let mut received: Vec<_> = saas
        .received_events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    received.sort();
    assert_eq!(received, ids, "each event exactly once");
    assert!(home.queued_events().is_empty());
}

/// No deadline, one attempt per batch, batches of 10.
/// A signed-in home with one queued event and a fresh fake service; `sync` turns sync on in
/// the home's environment.
fn one_queued_event(sync: bool) -> (FakeSaas, IsolatedHome) {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(sync).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1);
    (saas, home)
}

const ONCE: spec_kitty::internals::sync::drain::DrainLimits =
    spec_kitty::internals::sync::drain::DrainLimits {
        deadline: None,
        attempts: 1,
        batch_size: 10,
    };

/// Drain `home`'s outbox in this process, as `sync now` does, returning the outcome and every
/// progress call.
fn drain_here(
    home: &IsolatedHome,
    saas: &FakeSaas,
    limits: spec_kitty::internals::sync::drain::DrainLimits,
) -> (
    spec_kitty::internals::sync::drain::DrainOutcome,
    Vec<(u64, u64)>,
) {
    use spec_kitty::internals::sync::drain::drain;
    use spec_kitty::internals::sync::outbox::Outbox;
    let mut outbox = Outbox::open(&home.runtime_root().outbox_db()).unwrap();
    let mut tokens = crate::token_refresh::manager(home, saas);
    let mut calls = Vec::new();
    let outcome = drain(
        &mut outbox,
        &mut tokens,
        &crate::token_refresh::client(saas),
        spec_kitty::internals::clock::Clock::system(),
        limits,
        &|_| true,
        &mut |done, total| calls.push((done, total)),
    );
    (outcome, calls)
}

#[test]
fn a_drain_counts_the_rows_it_quarantines() {
    let (saas, home) = one_queued_event(false);
    home.seed_raw_outbox_row("01JPOISONED000000000000000", "MissionCreated", "{");
    home.seed_queued_events(1);
    let (outcome, calls) = drain_here(&home, &saas, ONCE);
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let r = outcome.report;
    assert_eq!(
        (r.delivered, r.quarantined, r.batches, r.remaining),
        (2, 1, 1, 0)
    );
    assert_eq!(calls, vec![(2, 3)]);
    assert_eq!(home.quarantined_rows().len(), 1);
}

#[test]
fn a_drain_counts_every_rejection_and_the_event_it_parks() {
    let (saas, home) = one_queued_event(false);
    saas.set_default_event_status("rejected");
    let (outcome, calls) = drain_here(&home, &saas, ONCE);
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let r = outcome.report;
    assert_eq!(
        (
            r.delivered,
            r.rejected,
            r.parked,
            r.kept,
            r.batches,
            r.remaining
        ),
        (0, 3, 1, 0, 3, 0)
    );
    assert_eq!(calls, vec![(0, 1), (0, 1), (1, 1)]);
    assert_eq!(home.parked_rejections().len(), 1);
}

#[test]
fn a_failing_batch_is_sent_again_up_to_the_attempts() {
    let (saas, home) = one_queued_event(false);
    let three = spec_kitty::internals::sync::drain::DrainLimits {
        attempts: 3,
        ..ONCE
    };
    // Three 503s use up the three attempts.
    saas.push_batch_answers([
        BatchAnswer::Status(503),
        BatchAnswer::Status(503),
        BatchAnswer::Status(503),
    ]);
    let (outcome, _) = drain_here(&home, &saas, three);
    assert!(outcome.error.is_some(), "{:?}", outcome.report);
    assert_eq!(saas.count("/api/v1/events/batch/"), 3);
    assert_eq!(home.queued_events().len(), 1);
    // One 503, then the second attempt delivers.
    saas.push_batch_answers([BatchAnswer::Status(503)]);
    let (outcome, _) = drain_here(&home, &saas, three);
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.report.delivered, 1);
    assert_eq!(saas.count("/api/v1/events/batch/"), 5);
}

#[test]
fn a_retry_whose_back_off_would_pass_the_deadline_is_not_made() {
    let (saas, home) = one_queued_event(false);
    saas.push_batch_answers([
        BatchAnswer::Status(503),
        BatchAnswer::Status(503),
        BatchAnswer::Status(503),
    ]);
    // The first back-off is 100 ms, beyond this 50 ms deadline.
    let limits = spec_kitty::internals::sync::drain::DrainLimits {
        deadline: Some(std::time::Instant::now() + std::time::Duration::from_millis(50)),
        attempts: 3,
        ..ONCE
    };
    let (outcome, _) = drain_here(&home, &saas, limits);
    assert!(outcome.error.is_some(), "{:?}", outcome.report);
    assert_eq!(saas.count("/api/v1/events/batch/"), 1);
}

/// A drain of batches of 10 answered in 300 ms each, with a 450 ms deadline: the first batch
/// is delivered, a second is cut off by the deadline (no request outlives it).
fn drain_past_the_deadline(
    events: usize,
) -> (
    spec_kitty::internals::sync::drain::DrainOutcome,
    IsolatedHome,
) {
    let saas = FakeSaas::start();
    saas.set_batch_delay(std::time::Duration::from_millis(300));
    let home = crate::builder().fake_saas(&saas).build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(events);
    let limits = spec_kitty::internals::sync::drain::DrainLimits {
        deadline: Some(std::time::Instant::now() + std::time::Duration::from_millis(450)),
        ..ONCE
    };
    let (outcome, _) = drain_here(&home, &saas, limits);
    assert_eq!(outcome.report.batches, 1, "{:?}", outcome.report);
    (outcome, home)
}

#[test]
fn a_deadline_reached_with_events_left_is_reported_with_their_number() {
    let (outcome, home) = drain_past_the_deadline(11);
    assert_eq!(outcome.report.delivered, 10);
    let e = outcome.error.expect("out of time with an event left");
    assert!(e.to_string().contains("(1 event(s) stay queued)"), "{e}");
    assert_eq!(e.code().as_str(), "sync.server_unavailable");
    assert_eq!(home.queued_events().len(), 1);
}

#[test]
fn a_deadline_reached_after_the_last_event_is_a_success() {
    let (outcome, home) = drain_past_the_deadline(10);
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(
        (outcome.report.delivered, outcome.report.remaining),
        (10, 0)
    );
    assert!(home.queued_events().is_empty());
}

#[test]
fn a_batch_refused_with_403_is_an_auth_failure_that_keeps_the_events() {
    let (saas, home) = one_queued_event(true);
    saas.push_batch_answers([BatchAnswer::Status(403)]);
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "sync.server_auth_failure");
    assert!(doc.str("/error").contains("(403)"), "{run}");
    assert_eq!(saas.count("/api/v1/events/batch/"), 1, "not retried");
    assert_eq!(home.queued_events().len(), 1);
}

#[test]
fn a_rejection_under_another_status_names_that_status_in_its_reason() {
    let (saas, home) = one_queued_event(true);
    saas.set_default_event_status("invalid");
    saas.set_rejection_reason("payload.wp_count: must be >= 0");
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_failure();
    run.json()
        .assert_eq("/error_code", "sync.events_rejected")
        .assert_eq(
            "/rejected_events/0/reason",
            "invalid: payload.wp_count: must be >= 0",
        );
}

#[test]
fn sync_status_says_an_expired_session_is_expired() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team().refresh_expired());
    let run = home.command().args(["sync", "status", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/auth_state", "expired")
        .assert_eq("/private_team_id", serde_json::Value::Null);
}

#[test]
fn an_empty_outbox_past_its_deadline_is_a_success_not_a_deadline() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    home.seed(&SessionSeed::with_private_team());
    let limits = spec_kitty::internals::sync::drain::DrainLimits {
        deadline: Some(std::time::Instant::now()),
        ..ONCE
    };
    let (outcome, _) = drain_here(&home, &saas, limits);
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.report.remaining, 0);
}

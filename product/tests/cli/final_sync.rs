//! The final sync after `agent mission create`: every row of the behaviour table.

use kitty_testkit::{
    BatchAnswer, FakeSaas, IsolatedHome, IsolatedHomeBuilder, MeAnswer, Repo, RunOutput,
    SessionSeed, SyncDiagnosticCode as Code, team,
};

fn synced(builder: IsolatedHomeBuilder) -> (IsolatedHome, Repo) {
    let home = builder
        .sync(true)
        .env("SPEC_KITTY_LOG", "trace")
        .env("SPEC_KITTY_LOCK_BUDGET_MS", "200")
        .build();
    let repo = home.repo().build();
    (home, repo)
}

fn create(home: &IsolatedHome, repo: &Repo) -> RunOutput {
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "sync-me", "--json"])
        .run();
    run.assert_success();
    run.json()
        .assert_eq("/result", "success")
        .assert_mission_dir("/mission_slug", "sync-me");
    run
}

#[test]
fn shared_only_session_and_refusing_server_reports_the_ingress_skip() {
    let (home, repo) = synced(crate::builder().refusing_server());
    let seed = SessionSeed::shared_only();
    home.seed(&seed);
    let run = create(&home, &repo);
    let d = run
        .diagnostics()
        .assert_exactly_one(Code::DirectIngressMissingPrivateTeam)
        .clone();
    assert_eq!(
        (d.severity.as_str(), d.fatal, d.phase.as_str()),
        ("warning", false, "final_sync")
    );
    run.assert_nowhere("no valid access token");
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn no_session_and_refusing_server_is_an_auth_failure_with_the_fix() {
    let (home, repo) = synced(crate::builder().refusing_server());
    let run = create(&home, &repo);
    let d = run
        .diagnostics()
        .assert_exactly_one(Code::ServerAuthFailure)
        .clone();
    assert!(d.message.contains("no valid access token"), "{run}");
    assert!(d.message.contains("spec-kitty auth login"), "{run}");
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn shared_only_session_rehydrates_once_then_delivers() {
    let saas = FakeSaas::start();
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    let seed = SessionSeed::shared_only();
    home.seed(&seed);
    let run = create(&home, &repo);
    run.diagnostics().assert_none();
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    assert_eq!(saas.count("/api/v1/me"), 1);
    let batches = saas.requests_to("/api/v1/events/batch/");
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(b.header("content-encoding"), Some("gzip"));
    assert_eq!(b.header("content-type"), Some("application/json"));
    assert_eq!(b.header("x-spec-kitty-sync-protocol"), Some("2.0"));
    assert_eq!(
        b.header("authorization"),
        Some(format!("Bearer {}", seed.access_token()).as_str())
    );
    let events = saas.received_events();
    assert_eq!(events.len(), kitty_testkit::EVENTS_PER_CREATE);
    assert_eq!(events[0]["event_type"], "MissionCreated");
    assert_eq!(events[0]["aggregate_id"], run.json().str("/mission_id"));
    let session = home.read_session().unwrap();
    assert_eq!(session.default_team_id.as_deref(), Some("team-private"));
    assert!(home.queued_events().is_empty());
}

#[test]
fn private_session_and_healthy_server_delivers_without_rehydrate() {
    let saas = FakeSaas::start();
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::with_private_team());
    let run = create(&home, &repo);
    run.diagnostics().assert_none();
    assert_eq!(saas.count("/api/v1/me"), 0);
    assert_eq!(
        saas.received_events().len(),
        kitty_testkit::EVENTS_PER_CREATE
    );
    assert!(home.queued_events().is_empty());
}

#[test]
fn server_503_is_unavailable_not_auth_and_keeps_the_event_untouched() {
    let saas = FakeSaas::start();
    saas.push_batch_answers([
        BatchAnswer::Status(503),
        BatchAnswer::Status(503),
        BatchAnswer::Status(503),
    ]);
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::with_private_team());
    let run = create(&home, &repo);
    run.diagnostics()
        .assert_exactly_one(Code::ServerUnavailable);
    run.assert_nowhere("no valid access token");
    assert_eq!(
        home.queued_retry_counts().len(),
        kitty_testkit::EVENTS_PER_CREATE
    );
    assert_eq!(
        home.queued_retry_counts()[0].1,
        0,
        "a 5xx must not count a retry"
    );
}

#[test]
fn a_401_refreshes_once_then_delivers() {
    let saas = FakeSaas::start();
    saas.push_batch_answers([BatchAnswer::Status(401)]);
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    let seed = SessionSeed::with_private_team();
    home.seed(&seed);
    let run = create(&home, &repo);
    run.diagnostics().assert_none();
    assert_eq!(saas.count("/oauth/token"), 1);
    let batches = saas.requests_to("/api/v1/events/batch/");
    assert_eq!(batches.len(), 2);
    let fresh = home.read_session().unwrap().access_token;
    assert_ne!(fresh, seed.access_token());
    assert_eq!(
        batches[1].header("authorization"),
        Some(format!("Bearer {fresh}").as_str())
    );
    assert!(home.queued_events().is_empty());
    run.assert_no_secrets(&saas.issued_tokens());
}

#[test]
fn a_held_refresh_lock_reports_refresh_in_progress() {
    let saas = FakeSaas::start();
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::with_private_team().access_expired());
    let _held = home.hold_refresh_lock();
    let run = create(&home, &repo);
    run.diagnostics()
        .assert_exactly_one(Code::AuthRefreshInProgress);
    assert_eq!(saas.count("/oauth/token"), 0);
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn a_held_drain_lock_reports_lock_unavailable() {
    let saas = FakeSaas::start();
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::with_private_team());
    let _held = home.hold_drain_lock();
    let run = create(&home, &repo);
    run.diagnostics()
        .assert_exactly_one(Code::FinalSyncLockUnavailable);
    assert!(saas.requests().is_empty());
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn sync_disabled_makes_no_network_call_no_diagnostic_and_queues_nothing() {
    for disabled in [
        crate::builder().sync(false),
        crate::builder()
            .sync(true)
            .env("SPEC_KITTY_SYNC_DISABLE", "1"),
    ] {
        let saas = FakeSaas::start();
        let home = disabled.fake_saas(&saas).build();
        let repo = home.repo().build();
        home.seed(&SessionSeed::shared_only());
        let run = create(&home, &repo);
        run.diagnostics().assert_none();
        assert!(saas.requests().is_empty(), "{:?}", saas.requests());
        assert!(home.queued_events().is_empty(), "nothing waits to leave");
        // The mission's own log still records its creation.
        let dir = repo.specs_dir().join(run.json().str("/mission_slug"));
        let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
        assert!(log.contains("MissionCreated"), "{log}");
    }
}

#[test]
fn a_zero_final_sync_budget_queues_the_event_and_sends_nothing_until_sync_now() {
    let saas = FakeSaas::start();
    let (home, repo) = synced(
        crate::builder()
            .fake_saas(&saas)
            .env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "0"),
    );
    home.seed(&SessionSeed::with_private_team());
    let run = create(&home, &repo);
    run.diagnostics().assert_none();
    assert!(saas.requests().is_empty(), "{:?}", saas.requests());
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
    // The guard: the same home's `sync now` delivers what waited.
    home.command()
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    assert_eq!(
        saas.received_events().len(),
        kitty_testkit::EVENTS_PER_CREATE
    );
    assert!(home.queued_events().is_empty());
}

#[test]
fn quiet_json_carries_the_diagnostic_in_the_document_and_nothing_on_stderr() {
    let (home, repo) = synced(crate::builder().refusing_server());
    home.seed(&SessionSeed::shared_only());
    let run = home
        .command()
        .current_dir(repo.path())
        .args([
            "agent",
            "mission",
            "create",
            "quiet-one",
            "--json",
            "--quiet",
        ])
        .run();
    run.assert_success();
    assert_eq!(run.stderr(), "");
    run.json()
        .assert_eq(
            "/diagnostics/0/code",
            "sync.direct_ingress_missing_private_team",
        )
        .assert_eq("/diagnostics/0/phase", "final_sync");
}

#[test]
fn me_without_a_private_team_keeps_the_event_and_never_uses_a_shared_team() {
    let saas = FakeSaas::start();
    saas.set_me(MeAnswer::Teams(vec![
        team("team-shared", false),
        team("team-other", false),
    ]));
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::shared_only());
    let run = create(&home, &repo);
    run.diagnostics()
        .assert_exactly_one(Code::DirectIngressMissingPrivateTeam);
    assert_eq!(saas.count("/api/v1/me"), 1);
    assert_eq!(saas.count("/api/v1/events/batch/"), 0);
    assert_eq!(
        home.read_session().unwrap().default_team_id.as_deref(),
        Some("team-shared")
    );
}

#[test]
fn a_service_that_stays_down_gets_each_batch_as_often_as_the_attempt_counts_say_and_loses_nothing()
{
    use spec_kitty::sync::attempts::{FINAL_SYNC_ATTEMPTS, SYNC_NOW_ATTEMPTS};
    let saas = FakeSaas::start();
    saas.go_down();
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::with_private_team());
    let run = create(&home, &repo);
    run.diagnostics()
        .assert_exactly_one(Code::ServerUnavailable);
    let batch = "/api/v1/events/batch/";
    assert_eq!(saas.count(batch), FINAL_SYNC_ATTEMPTS as usize);
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);

    let now = home
        .command()
        .current_dir(repo.path())
        .args(["sync", "now", "--json"])
        .run();
    assert_ne!(
        now.code(),
        Some(0),
        "a sync now against a down service fails"
    );
    assert_eq!(
        saas.count(batch),
        (FINAL_SYNC_ATTEMPTS + SYNC_NOW_ATTEMPTS) as usize
    );
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);

    saas.come_back();
    home.command()
        .current_dir(repo.path())
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    assert!(home.queued_events().is_empty());
    assert_eq!(
        saas.received_events().len(),
        // Every request carried the create's events; only the last one was answered.
        (FINAL_SYNC_ATTEMPTS + SYNC_NOW_ATTEMPTS + 1) as usize * kitty_testkit::EVENTS_PER_CREATE
    );
}

#[test]
fn a_service_refusing_every_batch_gets_each_event_max_rejections_times_then_it_is_parked() {
    use spec_kitty::sync::attempts::MAX_REJECTIONS;
    let saas = FakeSaas::start();
    saas.refuse_every_batch();
    let (home, repo) = synced(crate::builder().fake_saas(&saas));
    home.seed(&SessionSeed::with_private_team());
    home.command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "sync-me", "--json"])
        .run()
        .assert_success();
    assert_eq!(saas.count("/api/v1/events/batch/"), 0);
    let now = home
        .command()
        .current_dir(repo.path())
        .args(["sync", "now", "--json"])
        .run();
    assert_eq!(now.code(), Some(1));
    now.json()
        .assert_eq("/error_code", "sync.events_rejected")
        .assert_eq("/rejected_events/0/retry_count", MAX_REJECTIONS);
    let rounds = usize::try_from(MAX_REJECTIONS).unwrap();
    assert_eq!(saas.count("/api/v1/events/batch/"), rounds);
    let parked = home.parked_rejections();
    assert_eq!(parked.len(), kitty_testkit::EVENTS_PER_CREATE);
    assert!(
        parked
            .iter()
            .all(|(_, why)| why.as_deref() == Some("refused: FakeSaas refuses every batch")),
        "{parked:?}"
    );
}

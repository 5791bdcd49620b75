//! Finding 8 (misleading transport messages) and the fault suite's server half: mission create
//! and `sync now` against every misbehaviour stay within budget, print strict JSON and exactly one
//! sensible diagnostic, lose nothing, and deliver each event exactly once afterwards.

use std::time::{Duration, Instant};

use kitty_testkit::{
    BatchAnswer, FakeSaas, Misbehaviour, RogueServer, SessionSeed, SyncDiagnosticCode as Code,
};

fn expected_words(how: Misbehaviour) -> &'static str {
    match how {
        Misbehaviour::Hang | Misbehaviour::SlowHeaders => "did not answer within",
        Misbehaviour::Reset => "spec-kitty service",
        Misbehaviour::Garbage => "did not answer with valid HTTP",
        Misbehaviour::HugeBody => "larger than",
        Misbehaviour::RedirectLoop => "answered 302",
        Misbehaviour::WrongContentType => "unexpected answer",
    }
}

/// The cases cover [`Misbehaviour::ALL`] (checked below), one test each so they run side by side.
#[rstest::rstest]
#[case::hang(Misbehaviour::Hang)]
#[case::reset(Misbehaviour::Reset)]
#[case::garbage(Misbehaviour::Garbage)]
#[case::huge_body(Misbehaviour::HugeBody)]
#[case::slow_headers(Misbehaviour::SlowHeaders)]
#[case::redirect_loop(Misbehaviour::RedirectLoop)]
#[case::wrong_content_type(Misbehaviour::WrongContentType)]
fn a_misbehaving_server_is_bounded_reported_once_and_loses_nothing(#[case] how: Misbehaviour) {
    let good = FakeSaas::start();
    {
        let rogue = RogueServer::start(how);
        let home = crate::builder()
            .fake_saas(&good)
            .server(rogue.url())
            .sync(true)
            .env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "1500")
            .build();
        home.seed(&SessionSeed::with_private_team());
        let repo = home.repo().build();
        let started = Instant::now();
        let run = home
            .command()
            .current_dir(repo.path())
            .args(["agent", "mission", "create", "rogue", "--json"])
            .run();
        let took = started.elapsed();
        run.assert_success();
        run.json().assert_eq("/result", "success");
        let d = run
            .diagnostics()
            .assert_exactly_one(Code::ServerUnavailable)
            .clone();
        assert!(
            d.message.contains(expected_words(how)),
            "{how:?}: the message should say what happened\n{run}"
        );
        assert!(
            !d.message.contains("auth"),
            "{how:?}: not an auth failure\n{run}"
        );
        assert!(
            took < Duration::from_secs(5),
            "{how:?}: took {took:?}, budget 1.5 s"
        );
        assert!(
            rogue.connections() >= 1,
            "{how:?}: the rogue server was called"
        );
        assert_eq!(
            home.queued_events().len(),
            kitty_testkit::EVENTS_PER_CREATE,
            "{how:?}: the event is kept"
        );

        let started = Instant::now();
        let now = home
            .command()
            .env("SPEC_KITTY_SYNC_DEADLINE_MS", "2000")
            .env("SPEC_KITTY_HTTP_TIMEOUT_MS", "1000")
            .args(["sync", "now", "--json"])
            .run();
        now.assert_code(1);
        now.json()
            .assert_eq("/error_code", "sync.server_unavailable");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{how:?}: sync now took {:?} with a 2 s deadline",
            started.elapsed()
        );

        // Against a service that behaves, the event goes exactly once.
        let before = good.received_events().len();
        home.command()
            .env("SPEC_KITTY_SAAS_URL", good.url())
            .args(["sync", "now", "--json"])
            .run()
            .assert_success();
        let sent = &good.received_events()[before..];
        assert_eq!(sent.len(), kitty_testkit::EVENTS_PER_CREATE, "{how:?}");
        assert!(home.queued_events().is_empty(), "{how:?}");
    }
}

#[test]
fn the_cases_above_cover_every_misbehaviour() {
    let source = include_str!("server.rs");
    for how in Misbehaviour::ALL {
        let case = format!("(Misbehaviour::{how:?})]");
        assert!(source.contains(&case), "no case for {how:?}");
    }
}

#[test]
fn statuses_missing_or_null_keep_the_events_without_penalty() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let ids = home.seed_queued_events(2);
    saas.push_batch_answers([BatchAnswer::Statuses(vec![
        "<null>".into(),
        "<missing>".into(),
    ])]);
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_success();
    run.json().assert_eq("/kept", 2).assert_eq("/remaining", 2);
    assert_eq!(
        home.queued_retry_counts(),
        vec![(ids[0].clone(), 0), (ids[1].clone(), 0)]
    );
    home.command()
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    assert!(home.queued_events().is_empty());
    assert_eq!(
        saas.received_events().len(),
        4,
        "sent twice each: kept, then accepted"
    );
}

//! Issue 27, budgets that hold: with a backlog and a slow service, the final sync of a create
//! ends inside its budget (no request outlives it, no maintenance runs inside it).

use std::time::{Duration, Instant};

use kitty_testkit::{
    FakeSaas, IsolatedHome, Repo, RunOutput, SessionSeed, SyncDiagnosticCode as Code,
};

const BUDGET_MS: u64 = 1_000;

fn timed_create(home: &IsolatedHome, repo: &Repo, slug: &str) -> (Duration, RunOutput) {
    let started = Instant::now();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", slug, "--json"])
        .run();
    (started.elapsed(), run)
}

#[test]
fn the_final_sync_of_a_create_ends_inside_its_budget_with_a_backlog_and_a_slow_service() {
    let saas = FakeSaas::start();
    let home = crate::builder()
        .fake_saas(&saas)
        .sync(true)
        .env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", BUDGET_MS.to_string())
        .build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    // The floor: the same create, with nothing queued and a quick service.
    let (floor, first) = timed_create(&home, &repo, "floor");
    first.assert_success();
    assert!(home.queued_events().is_empty());
    // A backlog of two batches, and a service that takes 0.9 of the budget per batch: the
    // second batch cannot finish inside the budget.
    home.seed_queued_events(1_000);
    saas.set_batch_delay(Duration::from_millis(BUDGET_MS * 9 / 10));
    let (took, run) = timed_create(&home, &repo, "backlog");
    run.assert_success();
    run.diagnostics()
        .assert_exactly_one(Code::ServerUnavailable);
    let over = took.saturating_sub(floor).as_secs_f64() / (BUDGET_MS as f64 / 1000.0);
    assert!(
        over <= 1.3,
        "the final sync took {:.2} budgets ({took:?} against a floor of {floor:?})\n{run}",
        over
    );
    // Nothing is lost: every event was delivered or is still queued (a batch whose answer came
    // too late is both).
    let mut ids: Vec<String> = saas
        .received_events()
        .iter()
        .chain(home.queued_events().iter())
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1_000 + 2 * kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn a_held_refresh_lock_waits_no_longer_than_the_final_sync_budget() {
    let saas = FakeSaas::start();
    let home = crate::builder()
        .fake_saas(&saas)
        .sync(true)
        .env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", BUDGET_MS.to_string())
        // Alone, the lock wait would be ten budgets.
        .env("SPEC_KITTY_LOCK_BUDGET_MS", (10 * BUDGET_MS).to_string())
        .build();
    home.seed(&SessionSeed::with_private_team().access_expired());
    let repo = home.repo().build();
    let (floor, first) = timed_create(&home, &repo, "floor");
    first.assert_success();
    // Another process holds the refresh lock; the access token must be refreshed first.
    home.seed(&SessionSeed::with_private_team().access_expired());
    let _held = home.hold_refresh_lock();
    let (took, run) = timed_create(&home, &repo, "locked");
    run.assert_success();
    run.diagnostics()
        .assert_exactly_one(Code::AuthRefreshInProgress);
    let over = took.saturating_sub(floor).as_secs_f64() / (BUDGET_MS as f64 / 1000.0);
    assert!(
        over <= 1.3,
        "{over:.2} budgets waiting for the refresh lock\n{run}"
    );
}

//! Token refresh under the cross-process lock, and the one-rehydrate rule.

use std::time::Duration;

use kitty_testkit::{
    DirSnapshot, FakeSaas, IsolatedHome, MeAnswer, RefreshAnswer, SessionSeed, team,
};
use spec_kitty::auth::session::Timestamp;
use spec_kitty::internals::auth::tokens::TokenManager;
use spec_kitty::internals::clock::Clock;
use spec_kitty::internals::saas::SaasClient;

#[test]
fn two_processes_refreshing_at_once_make_one_token_call() {
    let saas = FakeSaas::start();
    saas.set_refresh(RefreshAnswer::Grant, Duration::from_millis(300));
    let home = crate::builder()
        .fake_saas(&saas)
        .env("SPEC_KITTY_LOCK_BUDGET_MS", "5000")
        .build();
    let seed = SessionSeed::with_private_team().access_expired();
    home.seed(&seed);
    let a = home.command().args(["auth", "refresh", "--json"]).spawn();
    let b = home.command().args(["auth", "refresh", "--json"]).spawn();
    let (a, b) = (a.wait(), b.wait());
    for run in [&a, &b] {
        run.assert_success()
            .json()
            .assert_eq("/authenticated", true);
        run.assert_no_secrets(&saas.issued_tokens());
        run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    }
    assert_eq!(saas.count("/oauth/token"), 1, "{a}\n{b}");
    let form = saas.requests_to("/oauth/token")[0].form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], seed.refresh_token());
    let session = home.read_session().unwrap();
    assert!(saas.issued_tokens().contains(&session.access_token));
}

#[test]
fn a_held_refresh_lock_reports_refresh_in_progress_without_calling_the_server() {
    let saas = FakeSaas::start();
    let home = crate::builder()
        .fake_saas(&saas)
        .env("SPEC_KITTY_LOCK_BUDGET_MS", "200")
        .build();
    home.seed(&SessionSeed::with_private_team().access_expired());
    let lock = std::fs::File::create(home.runtime_root().refresh_lock()).unwrap();
    lock.lock().unwrap();
    let run = home.command().args(["auth", "refresh", "--json"]).run();
    run.assert_code(1);
    run.json()
        .assert_eq("/error_code", "auth_refresh_in_progress");
    assert_eq!(saas.count("/oauth/token"), 0);
}

#[test]
fn a_valid_access_token_is_not_refreshed() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    home.seed(&SessionSeed::with_private_team());
    home.command()
        .args(["auth", "refresh", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/membership_rehydrated", false);
    assert_eq!(saas.count("/oauth/token"), 0);
    assert_eq!(
        saas.count("/api/v1/me"),
        0,
        "a private team needs no rehydrate"
    );
}

#[test]
fn an_expired_refresh_token_makes_a_live_access_token_unusable() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let mut session = SessionSeed::with_private_team().build();
    session.refresh_token_expires_at =
        Some(Timestamp(chrono::Utc::now() - chrono::Duration::minutes(1)));
    assert!(session.access_token_expires_at.0 > chrono::Utc::now() + chrono::Duration::minutes(5));
    home.session_store().write(&session).unwrap();
    let run = home.command().args(["auth", "refresh", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "not_authenticated");
    let msg = doc.str("/error");
    assert!(msg.contains("refresh token expired"), "{run}");
    assert_eq!(saas.count("/oauth/token"), 0);
}

#[test]
fn a_refused_refresh_token_is_unauthenticated_and_a_failing_server_a_server_error() {
    for (status, code) in [
        (400, "not_authenticated"),
        (401, "not_authenticated"),
        (500, "server_error"),
    ] {
        let saas = FakeSaas::start();
        saas.set_refresh(RefreshAnswer::Status(status), Duration::ZERO);
        let home = crate::builder().fake_saas(&saas).build();
        let seed = SessionSeed::with_private_team().access_expired();
        home.seed(&seed);
        let run = home.command().args(["auth", "refresh", "--json"]).run();
        run.assert_code(1);
        run.json().assert_eq("/error_code", code);
        assert!(saas.count("/oauth/token") >= 1, "{status}: {run}");
        run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    }
}

#[test]
fn rehydrate_persists_a_private_team_as_the_default() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let seed = SessionSeed::shared_only();
    home.seed(&seed);
    assert_eq!(
        home.read_session().unwrap().default_team_id.as_deref(),
        Some("team-shared")
    );
    let run = home.command().args(["auth", "refresh", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/membership_rehydrated", true)
        .assert_eq("/private_team_id", "team-private")
        .assert_eq("/default_team_id", "team-private");
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    let session = home.read_session().unwrap();
    assert_eq!(session.default_team_id.as_deref(), Some("team-private"));
    assert_eq!(session.private_team().unwrap().id, "team-private");
    assert_eq!(saas.count("/api/v1/me"), 1);
    let me = &saas.requests_to("/api/v1/me")[0];
    assert_eq!(
        me.header("authorization"),
        Some(format!("Bearer {}", seed.access_token()).as_str())
    );

    // Persisted: the next process needs no rehydrate.
    home.command()
        .args(["auth", "refresh", "--json"])
        .run()
        .assert_success();
    assert_eq!(saas.count("/api/v1/me"), 1);
}

/// A client of `saas`, as the binary builds one.
pub(crate) fn client(saas: &FakeSaas) -> SaasClient {
    SaasClient::new(
        &spec_kitty::internals::saas::url::ServiceUrl::parse(&saas.url()).unwrap(),
        Duration::from_secs(5),
    )
}

/// A token manager over `home`'s session store, talking to `saas`.
pub(crate) fn manager(home: &IsolatedHome, saas: &FakeSaas) -> TokenManager {
    let root = home.runtime_root();
    TokenManager::new(
        home.session_store(),
        root.refresh_lock(),
        Some(client(saas)),
        Duration::from_secs(1),
        Clock::system(),
    )
}

#[test]
fn rehydrate_is_attempted_at_most_once_per_process_and_a_miss_changes_nothing() {
    let saas = FakeSaas::start();
    saas.set_me(MeAnswer::Teams(vec![team("team-shared", false)]));
    let home = crate::builder().fake_saas(&saas).build();
    home.seed(&SessionSeed::shared_only());
    let before = DirSnapshot::of(home.path());
    let mut tokens = manager(&home, &saas);
    for _ in 0..3 {
        assert!(tokens.private_team().unwrap().is_none());
    }
    assert_eq!(saas.count("/api/v1/me"), 1);
    assert_eq!(tokens.me_calls(), 1);
    before.assert_unchanged(&DirSnapshot::of(home.path()));
}

#[test]
fn a_failed_rehydrate_is_remembered_and_never_falls_back_to_a_shared_team() {
    let saas = FakeSaas::start();
    saas.set_me(MeAnswer::Status(500));
    let home = crate::builder().fake_saas(&saas).build();
    home.seed(&SessionSeed::shared_only());
    let before = DirSnapshot::of(home.path());
    let mut tokens = manager(&home, &saas);
    assert!(tokens.private_team().unwrap().is_none());
    assert!(tokens.private_team().unwrap().is_none());
    assert_eq!(saas.count("/api/v1/me"), 1);
    before.assert_unchanged(&DirSnapshot::of(home.path()));
}

//! `auth login`: the device authorization flow against FakeSaas.

use kitty_testkit::{BrokenSeed, DevicePoll, FakeSaas, IsolatedHome, MeAnswer, SessionSeed};

fn home_for(saas: &FakeSaas) -> IsolatedHome {
    crate::builder().fake_saas(saas).build()
}

#[test]
fn login_succeeds_and_stores_the_session_where_the_product_reads() {
    let saas = FakeSaas::start();
    saas.set_device_polls([DevicePoll::Pending, DevicePoll::Grant]);
    let home = home_for(&saas);
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_success();
    let doc = run.json();
    doc.assert_eq("/authenticated", true)
        .assert_eq("/user/email", "ada@example.com")
        .assert_eq("/default_team_id", "team-private");
    // The prompt is on stderr, never stdout.
    run.assert_stderr_contains("https://kitty.example/device?code=KITY-CODE");
    run.assert_stderr_contains("KITY-CODE");
    run.assert_no_secrets(&saas.issued_tokens());

    let session = home.read_session().expect("login wrote a session");
    assert_eq!(session.email, "ada@example.com");
    assert_eq!(session.private_team().unwrap().id, "team-private");
    assert!(saas.issued_tokens().contains(&session.access_token));
    // The grant's `expires_in` (3600 s) counts from the login.
    assert_eq!(
        (session.access_token_expires_at.0 - session.issued_at.0).num_seconds(),
        3600
    );
    home.assert_no_drift();

    let polls = saas.requests_to("/oauth/token");
    assert_eq!(polls.len(), 2);
    let form = polls[0].form();
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
    assert_eq!(form["client_id"], "cli_native");
    let me = saas.requests_to("/api/v1/me");
    assert_eq!(me.len(), 1);
    assert_eq!(
        me[0].header("authorization"),
        Some(format!("Bearer {}", session.access_token).as_str())
    );
}

fn assert_login_fails(saas: &FakeSaas, home: &IsolatedHome, code: &str, needle: &str) {
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/result", "error")
        .assert_eq("/error_code", code);
    let msg = doc.str("/error");
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}\n{run}");
    assert!(home.read_session().is_none(), "no session may be written");
    assert!(!home.session_store().files().session.exists());
    run.assert_no_secrets(&saas.issued_tokens());
}

#[test]
fn access_denied_is_reported_and_writes_nothing() {
    let saas = FakeSaas::start();
    saas.set_device_polls([DevicePoll::Pending, DevicePoll::Denied]);
    let home = home_for(&saas);
    assert_login_fails(&saas, &home, "login_denied", "denied");
}

#[test]
fn an_unexpected_oauth_error_is_a_server_error_not_a_denial() {
    let saas = FakeSaas::start();
    saas.set_device_polls([
        DevicePoll::Pending,
        DevicePoll::OtherError("invalid_client"),
    ]);
    let home = home_for(&saas);
    assert_login_fails(&saas, &home, "server_error", "invalid_client");
}

#[test]
fn expired_device_code_is_reported_and_writes_nothing() {
    let saas = FakeSaas::start();
    saas.set_device_polls([DevicePoll::Expired]);
    let home = home_for(&saas);
    assert_login_fails(&saas, &home, "login_expired", "expired");
}

#[test]
fn slow_down_adds_five_interval_seconds() {
    let saas = FakeSaas::start();
    saas.set_device_interval(1);
    saas.set_device_polls([DevicePoll::Pending, DevicePoll::SlowDown, DevicePoll::Grant]);
    // One interval second lasts 20 ms here: 1 s → 20 ms; after slow_down 6 s → 120 ms.
    let home = crate::builder()
        .fake_saas(&saas)
        .env("SPEC_KITTY_POLL_SECOND_MS", "20")
        .build();
    home.command()
        .args(["auth", "login", "--json"])
        .run()
        .assert_success();
    let polls = saas.requests_to("/oauth/token");
    assert_eq!(polls.len(), 3);
    let before = polls[1].at - polls[0].at;
    let after = polls[2].at - polls[1].at;
    assert!(
        after >= std::time::Duration::from_millis(120),
        "poll after slow_down came after {after:?} (before: {before:?})"
    );
    assert!(after > before, "slow_down must lengthen the interval");
}

#[test]
fn refused_connection_names_the_url_and_writes_nothing() {
    let home = crate::builder().refusing_server().build();
    let url = home.var("SPEC_KITTY_SAAS_URL").unwrap().to_string();
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "server_unreachable");
    assert!(doc.str("/error").contains(&url), "{run}");
    assert!(home.read_session().is_none());
}

#[test]
fn no_server_configured_says_how_to_set_one() {
    let home = crate::builder().build();
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_code(1);
    run.json().assert_eq("/error_code", "no_server_configured");
    assert!(run.stdout().contains("SPEC_KITTY_SAAS_URL"));
}

#[test]
fn me_without_teams_is_refused() {
    let saas = FakeSaas::start();
    saas.set_me(MeAnswer::Teams(vec![]));
    let home = home_for(&saas);
    assert_login_fails(
        &saas,
        &home,
        "login_unusable_account",
        "no team memberships",
    );
}

#[test]
fn existing_session_is_kept_unless_forced() {
    let saas = FakeSaas::start();
    let home = home_for(&saas);
    let seeded = home.seed(&SessionSeed::shared_only().email("old@example.com"));
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/already_authenticated", true);
    assert_eq!(saas.count("/oauth/device"), 0);
    assert_eq!(home.read_session().unwrap().email, seeded.email);
    run.assert_no_secrets(&[seeded.access_token.as_str(), seeded.refresh_token.as_str()]);

    home.command()
        .args(["auth", "login", "--force", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/already_authenticated", false);
    assert_eq!(home.read_session().unwrap().email, "ada@example.com");
}

#[test]
fn broken_store_needs_force_and_force_repairs_it() {
    let saas = FakeSaas::start();
    let home = home_for(&saas);
    home.seed_broken(BrokenSeed::WrongVersion);
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "session_store_unreadable");
    assert!(doc.str("/error").contains("spec-kitty auth login --force"));
    home.command()
        .args(["auth", "login", "--force", "--json"])
        .run()
        .assert_success();
    assert_eq!(home.read_session().unwrap().email, "ada@example.com");
}

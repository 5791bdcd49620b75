//! The seed note's test: a shared-only session, sync on, a refusing server. The benign
//! "no private teamspace" skip must be reported as such, never as an auth failure.

use kitty_testkit::SessionSeed;

use crate::contract::{mission_create_contract, scenario_home};

#[test]
fn mission_create_json_with_a_shared_only_session_reports_the_ingress_skip() {
    let home = scenario_home().build();
    let seed = SessionSeed::shared_only();
    home.seed(&seed);
    let repo = home.repo().build();
    let run =
        mission_create_contract(&home, &repo, "strict-json").unwrap_or_else(|e| panic!("{e}"));
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    // The event stays queued for a later sync.
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn the_same_contract_holds_with_an_empty_spec_kitty_home() {
    // SPEC_KITTY_HOME="" means "unset": the root is HOME/.spec-kitty, and seeding follows it.
    let home = scenario_home().empty_spec_kitty_home().build();
    home.seed(&SessionSeed::shared_only());
    let repo = home.repo().build();
    let run = mission_create_contract(&home, &repo, "empty-home").unwrap_or_else(|e| panic!("{e}"));
    run.json().assert_mission_dir("/mission_slug", "empty-home");
    assert!(home.runtime_root().base().starts_with(home.home_dir()));
}

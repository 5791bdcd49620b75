//! Tests of the tests: each guard of the suite fails when what it guards breaks, with a message
//! that says what broke.

use kitty_testkit::{RunOutput, SessionSeed};

use crate::contract::{check_mission_create, mission_create_contract, scenario_home};

#[test]
fn the_seed_notes_mis_seed_fails_the_contract_and_names_the_drift() {
    let home = scenario_home().build();
    // Exactly the seed's bug: the session under HOME/.spec-kitty/auth, SPEC_KITTY_HOME elsewhere.
    home.mis_seed_under_home(&SessionSeed::shared_only());
    let repo = home.repo().build();
    let err = mission_create_contract(&home, &repo, "mis-seeded")
        .expect_err("a mis-seeded home must fail");
    assert!(err.starts_with("DRIFT:"), "{err}");
    assert!(
        err.contains("home/.spec-kitty/auth") && err.contains("kitty-home/auth"),
        "{err}"
    );
}

#[test]
fn the_mis_seed_fails_the_run_assertions_even_without_the_canary() {
    let home = scenario_home().build();
    home.mis_seed_under_home(&SessionSeed::shared_only());
    let repo = home.repo().build();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "no-canary", "--json"])
        .run();
    let err = check_mission_create(&run).expect_err("the invisible session must be noticed");
    assert!(
        err.starts_with("DRIFT: stderr says \"no valid access token\""),
        "{err}"
    );
}

#[test]
fn changing_spec_kitty_home_after_seeding_trips_the_canary() {
    let mut home = scenario_home().build();
    home.seed(&SessionSeed::shared_only());
    let moved = home.path().join("moved-root");
    home.set_var("SPEC_KITTY_HOME", moved.to_str().unwrap());
    let repo = home.repo().build();
    let err = mission_create_contract(&home, &repo, "moved").expect_err("the canary must trip");
    assert!(
        err.starts_with("DRIFT: the fixture seeded a session under"),
        "{err}"
    );
    assert!(err.contains("moved-root/auth"), "{err}");
}

#[test]
fn with_sync_disabled_the_diagnostic_fired_guard_fails() {
    let home = scenario_home().env("SPEC_KITTY_SYNC_DISABLE", "1").build();
    home.seed(&SessionSeed::shared_only());
    let repo = home.repo().build();
    let err =
        mission_create_contract(&home, &repo, "sync-off").expect_err("must not pass vacuously");
    assert!(
        err.starts_with(
            "expected exactly one diagnostic, sync.direct_ingress_missing_private_team, found []"
        ),
        "{err}"
    );
}

#[test]
fn a_stray_line_before_the_json_fails_the_strict_json_assertion() {
    let home = scenario_home().build();
    home.seed(&SessionSeed::shared_only());
    let repo = home.repo().build();
    let good = mission_create_contract(&home, &repo, "stray").unwrap_or_else(|e| panic!("{e}"));
    let tampered = RunOutput::synthetic(
        "spec-kitty agent mission create stray --json",
        0,
        &format!("Connection failed\n{}", good.stdout()),
        good.stderr(),
    );
    let err = check_mission_create(&tampered).expect_err("a stray line must fail");
    assert!(err.starts_with("stdout is not strict JSON: stdout has text before the JSON document: \"Connection failed\""), "{err}");
    assert!(
        err.contains("----- stdout -----") && err.contains("----- stderr -----"),
        "{err}"
    );
}

#[test]
fn prose_inside_the_json_document_still_fails() {
    let tampered = RunOutput::synthetic(
        "spec-kitty agent mission create x --json",
        0,
        "{\"result\": \"success\", \"mission_slug\": \"x\", \"note\": \"direct ingress skipped\"}\n",
        "",
    );
    let err = check_mission_create(&tampered).expect_err("prose on stdout must fail");
    assert!(
        err.starts_with("diagnostic prose \"direct ingress\" leaked onto stdout"),
        "{err}"
    );
}

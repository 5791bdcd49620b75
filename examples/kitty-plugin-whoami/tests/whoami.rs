//! The example plugin's tests, written only against kitty-testkit's public API. They run against
//! the `spec-kitty` given by `SPEC_KITTY_BIN` (an installed release, say), or the workspace build.

use std::path::Path;

use kitty_testkit::{BrokenSeed, IsolatedHome, RunOutput, SessionSeed};

/// A home whose PATH finds this package's `spec-kitty-whoami` (cargo built it for these tests).
fn home() -> IsolatedHome {
    let plugin = Path::new(env!("CARGO_BIN_EXE_spec-kitty-whoami"));
    IsolatedHome::builder()
        .prepend_path(plugin.parent().expect("the plugin has a directory"))
        .build()
}

/// `spec-kitty whoami`: dispatched by spec-kitty to the plugin.
fn whoami(home: &IsolatedHome) -> RunOutput {
    home.command().arg("whoami").run()
}

#[test]
fn logged_out_is_a_json_error() {
    let home = home();
    let run = whoami(&home);
    run.assert_code(1);
    run.json()
        .assert_eq("/result", "error")
        .assert_eq("/error_code", "not_authenticated");
}

#[test]
fn shared_only_has_no_private_team() {
    let home = home();
    let seed = SessionSeed::shared_only().email("shared@example.com");
    home.seed(&seed);
    let run = whoami(&home);
    run.assert_success()
        .json()
        .assert_eq("/email", "shared@example.com")
        .assert_eq("/private_team", serde_json::Value::Null);
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
}

#[test]
fn private_team_is_reported() {
    let home = home();
    home.seed(&SessionSeed::with_private_team());
    whoami(&home)
        .assert_success()
        .json()
        .assert_eq("/email", "ada@example.com")
        .assert_eq("/private_team/id", "team-private");
}

#[test]
fn a_broken_store_is_a_json_error_with_the_fix() {
    let home = home();
    home.seed_broken(BrokenSeed::WorldReadable);
    let run = whoami(&home);
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "session_store_unreadable");
    assert!(doc.str("/error").contains("chmod 600"), "{run}");
}

#[test]
fn dispatch_gives_the_plugin_the_same_root_as_spec_kitty() {
    let home = home();
    home.seed(&SessionSeed::with_private_team());
    home.assert_no_drift();
    // Run directly (not through spec-kitty) with the same environment: same answer.
    let direct = home.program(env!("CARGO_BIN_EXE_spec-kitty-whoami")).run();
    let via = whoami(&home);
    assert_eq!(direct.json().value(), via.json().value());
    let listed = home.command().args(["plugins", "--json"]).run();
    assert!(
        listed
            .json()
            .at("/plugins")
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "whoami"),
        "{listed}"
    );
}

//! `upgrade --agent-check`: kitty's answer to an agent's first question, without the network;
//! every other form of `upgrade` is the reference's.

use kitty_testkit::IsolatedHome;

use crate::approve::handed;

#[test]
fn the_agent_check_answers_that_no_upgrade_is_known_and_the_nag_switch_is_honoured() {
    let home = IsolatedHome::new();
    let out = home
        .command()
        .args(["upgrade", "--agent-check", "--json"])
        .run();
    out.assert_success()
        .json()
        .assert_eq("/schema_version", 1)
        .assert_eq("/action", "none")
        .assert_eq("/reason", "up_to_date")
        .assert_eq("/latest_version", serde_json::Value::Null)
        .assert_eq("/latest_source", "none")
        .assert_eq("/install_method", "unknown")
        .assert_eq("/upgrade_command", serde_json::Value::Null);
    assert!(
        out.json()
            .str("/upgrade_note")
            .contains("same method you used to install it"),
        "{out}"
    );
    for (value, reason) in [
        ("1", "nag_disabled"),
        ("anything", "nag_disabled"),
        ("off", "up_to_date"),
    ] {
        home.command()
            .env("SPEC_KITTY_NO_NAG", value)
            .args(["upgrade", "--agent-check", "--json"])
            .run()
            .assert_success()
            .json()
            .assert_eq("/reason", reason);
    }
    // In text: nothing to say when no upgrade is available.
    let text = home.command().args(["upgrade", "--agent-check"]).run();
    text.assert_success();
    assert_eq!(text.stdout(), "", "{text}");
}

#[test]
fn a_project_upgrade_is_the_reference_s_and_the_agent_s_choice_is_not_kitty_s() {
    let home = IsolatedHome::new();
    handed(home.command().args(["upgrade", "--json"]).run());
    // A form kitty does not parse: the reference's when one is installed (none here), else
    // kitty's usage error.
    home.command()
        .args([
            "upgrade",
            "--agent-check",
            "--agent-choice",
            "never_ask",
            "--json",
        ])
        .run()
        .assert_code(2)
        .json()
        .assert_eq("/error_code", "usage");
}

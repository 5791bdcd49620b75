//! `paths --json` under every way the runtime root can be chosen.

use kitty_testkit::DirSnapshot;

#[test]
fn spec_kitty_home_is_used_verbatim() {
    let home = crate::builder().build();
    let run = home.command().args(["paths", "--json"]).run();
    let doc = run.json();
    doc.assert_eq("/result", "success")
        .assert_eq("/root_source", "SPEC_KITTY_HOME")
        .assert_eq("/root", home.var("SPEC_KITTY_HOME").unwrap());
    assert_eq!(
        doc.str("/auth_dir"),
        home.runtime_root().auth_dir().to_str().unwrap()
    );
    home.assert_no_drift();
}

#[test]
fn home_only_gives_dot_spec_kitty() {
    let home = crate::builder().without_spec_kitty_home().build();
    let run = home.command().args(["paths", "--json"]).run();
    let doc = run.json();
    doc.assert_eq("/root_source", "HOME");
    let expected = home.home_dir().join(".spec-kitty");
    doc.assert_eq("/root", expected.to_str().unwrap());
    assert_eq!(home.runtime_root().base(), expected);
}

#[test]
fn empty_spec_kitty_home_falls_back_to_home() {
    let home = crate::builder().empty_spec_kitty_home().build();
    let doc = home.command().args(["paths", "--json"]).run().json();
    doc.assert_eq("/root_source", "HOME").assert_eq(
        "/root",
        home.home_dir().join(".spec-kitty").to_str().unwrap(),
    );
}

#[test]
fn no_home_and_no_spec_kitty_home_is_a_clear_error_that_writes_nothing() {
    let home = kitty_testkit::IsolatedHome::builder()
        .env("SPEC_KITTY_LOG", "trace")
        .without_spec_kitty_home()
        .without_home()
        .build();
    let before = DirSnapshot::of(home.path());
    let run = home.command().args(["paths", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/result", "error")
        .assert_eq("/error_code", "runtime_root_unresolved");
    let msg = doc.str("/error");
    assert!(
        msg.contains("SPEC_KITTY_HOME") && msg.contains("HOME"),
        "{msg}"
    );
    before.assert_unchanged(&DirSnapshot::of(home.path()));

    // Human mode: the same error on stderr, nothing on stdout.
    let run = home.command().arg("paths").run();
    run.assert_code(1).assert_stdout_empty();
    run.assert_stderr_contains("neither SPEC_KITTY_HOME nor HOME is set");
}

#[test]
fn usage_errors_are_strict_json_with_exit_2() {
    let home = crate::builder().build();
    let run = home
        .command()
        .args(["paths", "--no-such-flag", "--json"])
        .run();
    run.assert_code(2);
    run.json()
        .assert_eq("/result", "error")
        .assert_eq("/error_code", "usage");
    // An unknown command name is a missing plugin (127), also as strict JSON.
    let run = home.command().args(["no-such-command", "--json"]).run();
    run.assert_code(127);
    run.json().assert_eq("/error_code", "plugin_not_found");
}

#[test]
fn env_lists_every_registered_variable() {
    let home = crate::builder().build();
    let doc = home.command().args(["env", "--json"]).run().json();
    let names: Vec<&str> = doc
        .at("/variables")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for spec in spec_kitty::env::REGISTRY {
        assert!(
            names.contains(&spec.name),
            "{} missing from `env`",
            spec.name
        );
    }
}

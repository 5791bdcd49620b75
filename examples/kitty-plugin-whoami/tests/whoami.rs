//! The example plugin's tests, written only against kitty-testkit's public API. They run against
//! the `spec-kitty` given by `SPEC_KITTY_BIN` (an installed release, say), or the workspace build.

use std::path::PathBuf;

use kitty_testkit::{IsolatedHome, RunOutput, SessionSeed};

/// This package's `spec-kitty-whoami`, found at run time (a nextest archive run elsewhere too).
fn plugin() -> PathBuf {
    kitty_testkit::plugin_bin!("spec-kitty-whoami")
}

/// A home with a fresh copy of the plugin installed in its `bin/` (first on its PATH), checked to
/// be the one `spec-kitty whoami` runs.
fn home() -> IsolatedHome {
    let home = IsolatedHome::new();
    let installed = home.install_plugin(&plugin());
    home.assert_plugin_resolves("whoami", &installed);
    home
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

// The breakage is a file mode (world-readable), which only Unix has.
#[cfg(unix)]
#[test]
fn a_broken_store_is_a_json_error_with_the_fix() {
    let home = home();
    home.seed_broken(kitty_testkit::BrokenSeed::WorldReadable);
    let run = whoami(&home);
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "session_store_unreadable");
    assert!(doc.str("/error").contains("chmod 600"), "{run}");
    // The whole document, pinned in one line: the store's path in the message is under the
    // sandbox, redacted as `[sandbox]` (tests/snapshots/; review changes with `cargo insta review`).
    kitty_testkit::assert_json_snapshot!(home.redactions(), doc.value());
}

/// Set in the environment of a run of [`the_private_team_document_is_pinned_whole`] that must
/// fail: the document is changed before it is compared.
const PROBE: &str = "WHOAMI_SNAPSHOT_PROBE";

#[test]
fn the_private_team_document_is_pinned_whole() {
    let home = home();
    home.seed(&SessionSeed::with_private_team());
    let run = whoami(&home);
    run.assert_success();
    let mut doc = run.json().value().clone();
    if std::env::var_os(PROBE).is_some() {
        doc["email"] = "changed@example.com".into();
    }
    kitty_testkit::assert_json_snapshot!(home.redactions(), &doc);
}

/// The snapshot can fail: the test above, run again in its own process with its document
/// changed, fails, and what it prints is insta's diff of the field that changed.
#[test]
fn a_changed_document_fails_its_snapshot_with_a_readable_diff() {
    let home = IsolatedHome::new();
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let run = home
        .program(&test_binary)
        .args([
            "the_private_team_document_is_pinned_whole",
            "--exact",
            "--test-threads=1",
        ])
        .env(PROBE, "1")
        // Compare only: write no `.snap.new` beside the real snapshot.
        .env("INSTA_UPDATE", "no")
        .env("INSTA_WORKSPACE_ROOT", workspace)
        .env("SPEC_KITTY_BIN", home.host().path().to_string_lossy())
        .run();
    assert_ne!(run.code(), Some(0), "the changed document passed: {run}");
    let out = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        out.contains("Snapshot Summary")
            && out.contains("\"email\": \"ada@example.com\"")
            && out.contains("\"email\": \"changed@example.com\""),
        "{run}"
    );
}

#[test]
fn dispatch_gives_the_plugin_the_same_root_as_spec_kitty() {
    let home = home();
    home.seed(&SessionSeed::with_private_team());
    home.assert_no_drift();
    // Run directly (not through spec-kitty) with what the host adds: same answer.
    let direct = home.plugin_command(&plugin()).run();
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

/// A stale copy earlier on PATH would answer instead of the fresh build: the fixture says so.
#[test]
fn a_stale_plugin_first_on_path_is_caught() {
    let stale_dir = tempfile_dir();
    let stale = stale_dir.join("spec-kitty-whoami");
    std::fs::write(
        &stale,
        "#!/bin/sh\necho '{\"result\":\"success\",\"email\":\"old\"}'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let home = IsolatedHome::builder().prepend_path(&stale_dir).build();
    let installed = home.install_plugin(&plugin());
    let message = kitty_testkit::expect_panic(|| {
        home.assert_plugin_resolves("whoami", &installed);
    });
    assert!(
        message.contains("a stale plugin answers first"),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(stale_dir);
}

/// Global flags before the plugin's name reach it (`SPEC_KITTY_JSON`); a missing plugin is the
/// host's `plugin_not_found`, not this plugin's error.
#[test]
fn the_host_tells_a_missing_plugin_apart() {
    let home = home();
    let run = home.command().args(["--json", "whoami"]).run();
    run.assert_code(1);
    run.json().assert_eq("/error_code", "not_authenticated");
    let run = home.command().args(["--json", "whoamix"]).run();
    run.assert_code(127);
    run.json().assert_eq("/error_code", "plugin_not_found");
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stale-plugin-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

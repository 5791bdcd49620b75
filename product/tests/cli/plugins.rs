//! External subcommands: `spec-kitty <name>` runs `spec-kitty-<name>` from PATH.

#[cfg(unix)]
use kitty_testkit::IsolatedHome;

/// A home with `spec-kitty-<name>` scripts in its bin dir (the front of PATH). `/bin/sh` scripts
/// run by their `#!` line with the executable bit, so the tests that use it are Unix-only.
#[cfg(unix)]
fn home_with_plugins(plugins: &[(&str, &str)]) -> IsolatedHome {
    use std::os::unix::fs::PermissionsExt;
    let home = crate::builder().build();
    for (name, body) in plugins {
        let path = home.bin_dir().join(format!("spec-kitty-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    home
}

// Unix-only: shell-script plugins.
#[cfg(unix)]
#[test]
fn a_plugin_gets_its_arguments_unchanged_and_its_exit_status_is_ours() {
    let home = home_with_plugins(&[(
        "echo",
        r#"for a in "$@"; do printf '[%s]' "$a"; done; printf '\n%s\n%s\n%s\n' "$SPEC_KITTY_BIN" "$SPEC_KITTY_RUNTIME_ROOT" "$HOME"; exit 7"#,
    )]);
    let run = home
        .command()
        .args(["echo", "--json", "two words", "-x"])
        .run();
    run.assert_code(7);
    let lines: Vec<&str> = run.stdout().lines().collect();
    assert_eq!(lines[0], "[--json][two words][-x]", "{run}");
    let bin = kitty_testkit::SpecKittyBin::require();
    assert_eq!(lines[1], bin.path().to_str().unwrap());
    assert_eq!(lines[2], home.runtime_root().base().to_str().unwrap());
    assert_eq!(lines[3], home.home_dir().to_str().unwrap());
}

// Unix-only: a signal, and a shell-script plugin.
#[cfg(unix)]
#[test]
fn a_plugin_killed_by_a_signal_exits_128_plus_n() {
    let home = home_with_plugins(&[("die", "kill -TERM $$")]);
    home.command().arg("die").run().assert_code(128 + 15);
}

// Unix-only: shell-script plugins.
#[cfg(unix)]
#[test]
fn an_unknown_command_is_plugin_not_found_with_close_matches() {
    let home = home_with_plugins(&[
        ("whoami", "exit 0"),
        ("usage", "echo 'bad flag' >&2; exit 2"),
    ]);
    let run = home.command().args(["syncc", "--json"]).run();
    run.assert_code(127);
    let doc = run.json();
    doc.assert_eq("/error_code", "plugin_not_found");
    assert!(
        doc.str("/error").contains("a similar command exists: sync"),
        "{run}"
    );
    let run = home.command().args(["whoamii"]).run();
    run.assert_code(127).assert_stdout_empty();
    run.assert_stderr_contains("a similar command exists: whoami");
    // A plugin's own usage error is its exit code (2), not the host's "no such plugin".
    home.command().arg("usage").run().assert_code(2);
}

// Unix-only: shell-script plugins.
#[cfg(unix)]
#[test]
fn global_flags_before_a_plugin_reach_it_as_variables() {
    let home = home_with_plugins(&[(
        "flags",
        "printf '{\"json\":\"%s\",\"quiet\":\"%s\"}\\n' \"$SPEC_KITTY_JSON\" \"$SPEC_KITTY_QUIET\"",
    )]);
    let run = home.command().args(["--json", "--quiet", "flags"]).run();
    run.assert_success();
    run.json().assert_eq("/json", "1").assert_eq("/quiet", "1");
    let run = home.command().arg("flags").run();
    run.json().assert_eq("/json", "").assert_eq("/quiet", "");
}

// Unix-only: shell-script plugins, and the executable bit decides what is one.
#[cfg(unix)]
#[test]
fn plugins_lists_what_is_on_path() {
    let home = home_with_plugins(&[("alpha", "exit 0"), ("beta", "exit 0"), ("", "exit 0")]);
    // Neither a file that cannot be run nor an executable `spec-kitty-` with no name is one.
    std::fs::write(home.bin_dir().join("spec-kitty-notes"), "not a program\n").unwrap();
    assert!(home.bin_dir().join("spec-kitty-").is_file());
    let doc = home.command().args(["plugins", "--json"]).run().json();
    let ours: Vec<(&str, &str)> = doc
        .at("/plugins")
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["path"].as_str().unwrap()))
        .filter(|(_, path)| path.starts_with(home.bin_dir().to_str().unwrap()))
        .collect();
    let bin = |n: &str| home.bin_dir().join(format!("spec-kitty-{n}"));
    assert_eq!(
        ours,
        [
            ("alpha", bin("alpha").to_str().unwrap()),
            ("beta", bin("beta").to_str().unwrap())
        ]
    );
}

/// The version-skew guard a plugin's suite calls: silent for the host this testkit was built
/// with, and failing for a host of another minor version.
#[test]
fn a_host_of_another_version_fails_the_skew_check() {
    crate::builder().build().assert_host_matches_testkit();
    // The other host is a `/bin/sh` script: Unix-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("spec-kitty");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho '{\"result\": \"success\", \"version\": \"9.9.0\"}'\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let home = crate::builder()
            .binary(kitty_testkit::SpecKittyBin::at(&fake))
            .build();
        let text = kitty_testkit::expect_panic(|| home.assert_host_matches_testkit());
        assert!(
            text.starts_with(&format!(
                "assertion `left == right` failed: version skew: the host {} is spec-kitty 9.9.0",
                fake.display()
            )),
            "{text}"
        );
    }
}

//! Delegation: a command kitty does not implement runs the reference CLI with the same
//! arguments, stdio, directory and environment, and its exit status; never kitty itself.

#[cfg(unix)]
use std::path::{Path, PathBuf};

#[cfg(unix)]
use kitty_testkit::IsolatedHome;

/// A stand-in reference: says what it was given, on stdout and stderr, and exits 7. A `/bin/sh`
/// script run by its `#!` line, so the tests that use it are Unix-only.
#[cfg(unix)]
const STUB: &str = "#!/bin/sh
printf 'argv:'; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; printf '\\n'
printf 'cwd: %s\\n' \"$(pwd)\"
printf 'marker: %s\\n' \"$KITTY_TEST_MARKER\"
printf 'stdin: %s\\n' \"$(cat)\"
echo 'reference stderr' >&2
exit 7
";

/// `spec-kitty` files in `dir` (made): the stub reference.
#[cfg(unix)]
fn stub_in(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("spec-kitty");
    std::fs::write(&path, STUB).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
fn with_reference(home: &IsolatedHome) -> PathBuf {
    stub_in(&home.path().join("reference-bin"))
}

// Unix-only: the stub reference is a shell script.
#[cfg(unix)]
#[test]
fn a_command_kitty_lacks_runs_the_reference_with_everything_as_given() {
    let home = crate::builder().build();
    let reference = with_reference(&home);
    let dir = home.work_dir().join("somewhere");
    std::fs::create_dir_all(&dir).unwrap();
    let run = home
        .command()
        .env("SPEC_KITTY_REFERENCE", reference.to_str().unwrap())
        .env("KITTY_TEST_MARKER", "passed through")
        .current_dir(&dir)
        .stdin("the agent's input")
        .args([
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--note",
            "claude",
            "--json",
        ])
        .run();
    run.assert_code(7);
    assert_eq!(
        run.stdout(),
        format!(
            "argv: [agent] [tasks] [add-history] [WP01] [--note] [claude] [--json]\ncwd: {}\nmarker: passed through\nstdin: the agent's input\n",
            dir.display()
        )
    );
    assert!(run.stderr().ends_with("reference stderr\n"), "{run}");
}

// Unix-only: the stub reference is a shell script.
#[cfg(unix)]
#[test]
fn a_native_command_in_a_form_kitty_lacks_is_delegated_whole() {
    let home = crate::builder().build();
    let reference = with_reference(&home);
    for args in [
        &[
            "agent",
            "mission",
            "create",
            "x",
            "--an-option-kitty-lacks",
            "--json",
        ][..],
        &["--json", "mission", "current"],
        &["merge", "--agent", "claude"],
    ] {
        let run = home
            .command()
            .env("SPEC_KITTY_REFERENCE", reference.to_str().unwrap())
            .args(args)
            .run();
        run.assert_code(7);
        let shown: String = args.iter().map(|a| format!(" [{a}]")).collect();
        assert!(
            run.stdout().starts_with(&format!("argv:{shown}\n")),
            "{run}"
        );
    }
}

#[test]
fn without_a_reference_a_command_kitty_lacks_says_how_to_get_one_in_strict_json() {
    let home = crate::builder().build();
    let run = home
        .command()
        .args([
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--note",
            "claude",
            "--json",
        ])
        .run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/result", "error")
        .assert_eq("/error_code", "reference_not_found");
    let msg = doc.str("/error");
    for words in [
        "`spec-kitty agent tasks add-history`",
        "does not implement natively",
        "pip install spec-kitty-cli==3.2.7",
        "SPEC_KITTY_REFERENCE",
    ] {
        assert!(msg.contains(words), "{words:?} missing\n{run}");
    }
    // In words without --json, on stderr (a fatal error, so even with --quiet).
    for args in [&["dashboard"][..], &["--quiet", "dashboard"]] {
        let text = home.command().args(args).run();
        text.assert_code(1).assert_stdout_empty();
        assert!(
            text.stderr().starts_with("error: `spec-kitty dashboard`"),
            "{text}"
        );
    }
    // A name that is nobody's command is still the plugin error, and a native command's own
    // usage error is still kitty's.
    home.command().args(["frobnicate"]).run().assert_code(127);
    let usage = home
        .command()
        .args(["agent", "mission", "create", "x", "--topology", "nonsense"])
        .run();
    usage.assert_code(2);
    assert!(!usage.stderr().contains("reference"), "{usage}");
}

// Unix-only: a symbolic link, and the stub reference is a shell script.
#[cfg(unix)]
#[test]
fn kitty_is_never_its_own_reference_through_a_symlink_or_a_copy() {
    let home = crate::builder().build();
    let kitty = env!("CARGO_BIN_EXE_spec-kitty");
    let links = home.path().join("links");
    let copies = home.path().join("copies");
    std::fs::create_dir_all(&links).unwrap();
    std::fs::create_dir_all(&copies).unwrap();
    std::os::unix::fs::symlink(kitty, links.join("spec-kitty")).unwrap();
    std::fs::copy(kitty, copies.join("spec-kitty")).unwrap();
    let later = home.path().join("later");
    stub_in(&later);
    let path = |dirs: &[&Path]| std::env::join_paths(dirs).unwrap().into_string().unwrap();
    // Only kitty on PATH: no reference, no loop.
    let alone = home
        .command()
        .env(
            "PATH",
            path(&[&links, &copies, Path::new("/usr/bin"), Path::new("/bin")]),
        )
        .args(["retrospect", "summary", "--json"])
        .run();
    alone.assert_code(1);
    alone.json().assert_eq("/error_code", "reference_not_found");
    // The reference after them is found.
    let found = home
        .command()
        .env(
            "PATH",
            path(&[
                &links,
                &copies,
                &later,
                Path::new("/usr/bin"),
                Path::new("/bin"),
            ]),
        )
        .args(["retrospect", "summary"])
        .run();
    found.assert_code(7);
    // Named as the reference, kitty refuses it.
    let named = home
        .command()
        .env(
            "SPEC_KITTY_REFERENCE",
            copies.join("spec-kitty").to_str().unwrap(),
        )
        .args(["retrospect", "summary", "--json"])
        .run();
    named.assert_code(1);
    assert!(
        named.json().str("/error").contains("is kitty itself"),
        "{named}"
    );
}

// Unix-only: pip's Unix layout: a `#!` script naming its venv's interpreter.
#[cfg(unix)]
#[test]
fn paths_and_env_say_which_reference_is_used_and_its_version() {
    let home = crate::builder().build();
    // A reference as pip installs it: a script naming its venv's interpreter.
    let venv = home.path().join("venv");
    let site = venv.join("lib/python3.11/site-packages/spec_kitty_cli-3.2.7.dist-info");
    std::fs::create_dir_all(&site).unwrap();
    let script = stub_in(&venv.join("bin"));
    let body = std::fs::read_to_string(&script).unwrap().replacen(
        "#!/bin/sh",
        &format!("#!{}", venv.join("bin/python3").display()),
        1,
    );
    std::fs::write(&script, body).unwrap();
    let paths = home
        .command()
        .env("SPEC_KITTY_REFERENCE", script.to_str().unwrap())
        .args(["paths", "--json"])
        .run();
    paths.assert_success();
    let doc = paths.json();
    doc.assert_eq("/reference/path", script.to_str().unwrap())
        .assert_eq("/reference/found_by", "SPEC_KITTY_REFERENCE")
        .assert_eq("/reference/version", "3.2.7");
    let env = home
        .command()
        .env("SPEC_KITTY_REFERENCE", script.to_str().unwrap())
        .args(["env", "--json"])
        .run();
    env.json().assert_eq("/reference/version", "3.2.7");
    // None: said, with why.
    let none = home.command().args(["paths", "--json"]).run();
    let doc = none.json();
    doc.assert_eq("/reference/path", serde_json::Value::Null);
    assert!(
        doc.str("/reference/why").contains("no spec-kitty on PATH"),
        "{none}"
    );
    let help = home.command().args(["--help"]).run();
    assert!(help.stdout().contains("kitty's own (native)"), "{help}");
}

//! For people at a terminal: shell completions, and the progress line of `sync now`, which only a
//! terminal gets.

#[cfg(unix)]
use kitty_testkit::{FakeSaas, SessionSeed};

/// The subcommand names `--help` lists (read from the help text, not from the code that makes
/// the completions).
fn help_commands(home: &kitty_testkit::IsolatedHome, path: &[&str]) -> Vec<String> {
    let mut args = path.to_vec();
    args.push("--help");
    let run = home.command().args(&args).run();
    run.assert_success();
    run.stdout()
        .split("Commands:")
        .nth(1)
        .unwrap_or_default()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_bash_completion_names_every_subcommand_and_loads_in_bash() {
    let home = crate::builder().build();
    let run = home.command().args(["completions", "bash"]).run();
    run.assert_success();
    let script = run.stdout().to_string();
    let mut names = help_commands(&home, &[]);
    assert!(
        names.contains(&"agent".to_string()) && names.len() >= 8,
        "{names:?}"
    );
    for nested in [&["auth"][..], &["sync"], &["agent"], &["agent", "mission"]] {
        names.extend(help_commands(&home, nested));
    }
    for name in &names {
        assert!(
            script.contains(name.as_str()),
            "the completion lacks `{name}`"
        );
    }
    // It is valid bash that registers a completion for spec-kitty (Unix-only: Windows has no
    // bash it is sure to find; `bash` there may be WSL's launcher).
    #[cfg(unix)]
    {
        let file = home.path().join("spec-kitty.bash");
        std::fs::write(&file, &script).unwrap();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}' && complete -p spec-kitty",
                file.display()
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("spec-kitty"));
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = home.command().args(["completions", shell]).run();
        run.assert_success();
        assert!(run.stdout().contains("spec-kitty"), "{shell}");
    }
    let run = home.command().args(["completions", "bash", "--json"]).run();
    run.json().assert_eq("/shell", "bash");
}

#[cfg(unix)]
fn queued_home(saas: &FakeSaas) -> kitty_testkit::IsolatedHome {
    let home = crate::builder()
        .env("SPEC_KITTY_LOG", "warn")
        .fake_saas(saas)
        .sync(true)
        .build();
    home.seed(&SessionSeed::with_private_team());
    home.seed_queued_events(1200);
    home
}

// Unix-only: stderr on a pseudo-terminal.
#[cfg(unix)]
#[test]
fn sync_now_shows_progress_only_on_a_terminal_and_never_when_quiet() {
    let saas = FakeSaas::start();
    let home = queued_home(&saas);
    let run = home
        .command()
        .args(["sync", "now"])
        .run_with_terminal_stderr();
    run.assert_success();
    assert!(
        run.stderr().contains("\r\x1b[2Ksyncing 500/1200 events"),
        "{run}"
    );
    assert!(run.stderr().contains("syncing 1200/1200 events"), "{run}");

    // The guard: the same drain with stderr on a pipe, and quiet on a terminal, show none.
    let home = queued_home(&saas);
    let run = home.command().args(["sync", "now"]).run();
    run.assert_success();
    assert!(!run.stderr().contains("syncing"), "{run}");
    let home = queued_home(&saas);
    let run = home
        .command()
        .args(["sync", "now", "--quiet"])
        .run_with_terminal_stderr();
    run.assert_success();
    assert!(!run.stderr().contains("syncing"), "{run}");
    assert_eq!(saas.received_events().len(), 3 * 1200);
}

/// Colour is for a person at a terminal: an error reaches a terminal stderr unpainted while
/// stdout is captured (both must be terminals).
// Unix-only: stderr on a pseudo-terminal.
#[cfg(unix)]
#[test]
fn errors_are_not_painted_unless_stdout_is_a_terminal_too() {
    let home = crate::builder().build();
    let run = home
        .command()
        .args(["agent", "mission", "create", "Not A Slug"])
        .run_with_terminal_stderr();
    assert_ne!(run.code(), Some(0), "{run}");
    assert!(run.stderr().contains("error: "), "{run}");
    assert!(!run.stderr().contains('\x1b'), "{run}");
}

//! Delegation against the real reference: kitty's table of the reference's commands is the
//! installed reference's own tree, and a delegated command answers exactly as the reference.

use kitty_testkit::IsolatedHome;
use spec_kitty::internals::cli::reference_commands::{COMMANDS, Kind};

use crate::harness::reference;

#[test]
fn the_table_of_reference_commands_is_the_installed_reference_s_own_tree() {
    let reference = reference();
    let python = reference.path().with_file_name("python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/reference-commands");
    let out = std::process::Command::new("bash")
        .arg(script)
        .env("KITTY_EVENT_CONTRACT_PYTHON", &python)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let ours: Vec<String> = COMMANDS
        .iter()
        .map(|(path, kind)| {
            let kind = match kind {
                Kind::Group => "group",
                Kind::Command => "command",
            };
            format!("{path}\t{kind}")
        })
        .collect();
    assert_eq!(
        ours, installed,
        "regenerate product/src/cli/reference_commands.rs from scripts/reference-commands"
    );
    assert!(
        installed.len() > 250,
        "a walk that found {} paths",
        installed.len()
    );
}

#[test]
fn a_delegated_command_answers_exactly_as_the_reference_does() {
    let reference = reference();
    let home = IsolatedHome::new();
    let repo = home
        .repo()
        .build_with_reference(&reference, "feat/delegated");
    let direct = home
        .reference_command(&reference)
        .current_dir(repo.path())
        .args(["mission-type", "list", "--json"])
        .run();
    let through_kitty = home
        .command()
        .env(
            "SPEC_KITTY_REFERENCE",
            reference.for_programs(&home).to_str().unwrap(),
        )
        .current_dir(repo.path())
        .args(["mission-type", "list", "--json"])
        .run();
    assert_eq!(
        through_kitty.code(),
        direct.code(),
        "{through_kitty}\n{direct}"
    );
    assert_eq!(through_kitty.stdout(), direct.stdout());
    assert!(!direct.stdout().trim().is_empty(), "{direct}");
}

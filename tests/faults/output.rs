//! Findings 5 and 6: a result that cannot reach stdout fails the run; every `--json` form prints
//! exactly one document.

use kitty_testkit::parse_strict_json;

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

#[test]
fn a_full_stdout_fails_the_run_and_says_so_on_stderr() {
    let home = crate::builder().build();
    for args in [
        &["paths", "--json"][..],
        &["paths"],
        &["--json", "--version"],
    ] {
        let run = home.command().args(args).stdout_file(dev_full()).run();
        run.assert_code(1);
        run.assert_stderr_contains("cannot write the result to stdout");
    }
    // With --quiet too: this error has no other channel.
    let run = home
        .command()
        .args(["paths", "--json", "--quiet"])
        .stdout_file(dev_full())
        .run();
    run.assert_code(1);
    run.assert_stderr_contains("cannot write the result to stdout");
    // The guard: the same commands succeed when stdout can be written.
    home.command()
        .args(["paths", "--json"])
        .run()
        .assert_success();
}

#[test]
fn every_json_form_prints_one_document() {
    let home = crate::builder().build();
    let run = home.command().args(["--json=true", "paths"]).run();
    run.assert_success();
    run.json().str("/auth_dir");
    let run = home.command().args(["paths", "--json=false"]).run();
    run.assert_success();
    assert!(
        parse_strict_json(run.stdout()).is_err(),
        "--json=false is human output\n{run}"
    );

    let run = home.command().args(["--json", "--help"]).run();
    run.assert_success();
    assert!(run.json().str("/help").contains("Usage:"), "{run}");
    let run = home
        .command()
        .args(["agent", "mission", "create", "--help", "--json"])
        .run();
    run.assert_success();
    assert!(run.json().str("/help").contains("--mission-type"), "{run}");
    let run = home.command().args(["--json", "--version"]).run();
    run.assert_success();
    run.json()
        .assert_eq("/version", spec_kitty::VERSION)
        .assert_eq("/result", "success");
    // The same answers through the full command line (other flags beside --version), which the
    // quick path leaves to clap.
    let run = home
        .command()
        .args(["--quiet", "--json", "--version"])
        .run();
    run.assert_success();
    run.json()
        .assert_eq("/version", spec_kitty::VERSION)
        .assert_eq("/result", "success");
    let run = home.command().args(["--quiet", "--version"]).run();
    run.assert_success()
        .assert_stdout_contains(&format!("spec-kitty {}", spec_kitty::VERSION));
    let run = home.command().args(["--json"]).run();
    run.assert_code(2);
    run.json().assert_eq("/error_code", "usage");
    let run = home.command().args(["--json=maybe", "paths"]).run();
    run.assert_code(2);
    run.json().assert_eq("/error_code", "usage");
}

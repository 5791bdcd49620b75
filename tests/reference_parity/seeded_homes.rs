//! A seeded home is the reference's own first run: the files copied in before a home's first
//! reference run are exactly what the reference's start-up writes in a new home, and the first
//! run in a seeded home writes nothing more where its start-up writes, and answers the same.

use std::path::PathBuf;

use kitty_testkit::{DirSnapshot, IsolatedHome, reference_home::SEED_OFF_VAR};

use crate::harness::reference;

/// Where the reference's start-up writes, as the home's environment resolves them.
fn start_up_roots(home: &IsolatedHome) -> Vec<PathBuf> {
    ["HOME", "SPEC_KITTY_HOME", "XDG_CONFIG_HOME"]
        .iter()
        .map(|v| PathBuf::from(home.var(v).expect("an isolated home sets it")))
        .collect()
}

fn snapshots(home: &IsolatedHome) -> Vec<DirSnapshot> {
    start_up_roots(home)
        .iter()
        .map(|r| DirSnapshot::of(r))
        .collect()
}

#[test]
fn a_seeded_home_holds_what_the_reference_s_first_run_writes_and_that_run_adds_nothing() {
    assert!(
        std::env::var_os(SEED_OFF_VAR).is_none_or(|v| v.is_empty()),
        "{SEED_OFF_VAR} is set: homes are not seeded, and this test is about seeding"
    );
    let reference = reference();
    let args = ["mission", "list", "--json"];

    let new = IsolatedHome::new();
    let before = snapshots(&new);
    let own = new
        .reference_command(&reference.clone().unseeded())
        .current_dir(new.work_dir())
        .args(args)
        .run();
    own.assert_success();
    let after_own = snapshots(&new);
    assert!(
        before
            .iter()
            .zip(&after_own)
            .any(|(b, a)| !b.diff(a).is_empty()),
        "the reference's first run in a new home wrote nothing: nothing here is tested"
    );

    let seeded = IsolatedHome::new();
    let command = seeded
        .reference_command(&reference)
        .current_dir(seeded.work_dir())
        .args(args);
    let after_seed = snapshots(&seeded);
    for (own, seed) in after_own.iter().zip(&after_seed) {
        let diff = own.diff(seed);
        assert!(
            diff.is_empty(),
            "the seed is not the reference's own start-up: {diff:#?}"
        );
    }
    let run = command.run();
    run.assert_success();
    for (seed, later) in after_seed.iter().zip(&snapshots(&seeded)) {
        seed.assert_unchanged(later);
    }
    assert_eq!(run.stdout(), own.stdout());
    assert_eq!(run.stderr(), own.stderr());
}

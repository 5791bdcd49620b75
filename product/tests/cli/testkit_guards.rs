//! The harness's own guards: each must fail when what it guards breaks.

use kitty_testkit::expect_panic as panic_text;
use kitty_testkit::{DriftError, IsolatedHome, MissionStage, SessionSeed, StrictJsonError};

#[test]
fn seeding_lands_where_the_binary_reads() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    home.check_drift().expect("no drift");
    // And the binary really sees it.
    home.command()
        .args(["auth", "status", "--json"])
        .run()
        .json()
        .assert_eq("/authenticated", true);
}

#[test]
fn the_canary_trips_when_spec_kitty_home_changes_after_seeding() {
    let mut home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    let moved = home.path().join("elsewhere");
    home.set_var("SPEC_KITTY_HOME", moved.to_str().unwrap());
    match home.check_drift() {
        Err(DriftError::SeededElsewhere { reads, .. }) => assert_eq!(reads, moved.join("auth")),
        other => panic!("expected drift, got {other:?}"),
    }
    let text = panic_text(|| home.assert_no_drift());
    assert!(
        text.starts_with("DRIFT: the fixture seeded a session under"),
        "{text}"
    );
}

#[test]
fn the_canary_trips_on_the_seed_notes_exact_mis_seed() {
    let home = crate::builder().build();
    home.mis_seed_under_home(&SessionSeed::shared_only());
    let err = home.check_drift().expect_err("mis-seed must be caught");
    let text = err.to_string();
    assert!(
        text.contains(".spec-kitty/auth") && text.contains("kitty-home/auth"),
        "{text}"
    );
}

#[test]
#[should_panic(expected = "built but never run: `spec-kitty paths --json`")]
fn a_command_built_and_never_run_fails_the_test() {
    let home = crate::builder().build();
    let cmd = home.command().args(["paths", "--json"]);
    let shown = format!("{cmd:?}");
    assert!(
        shown.starts_with("KittyCommand { command: \"spec-kitty paths --json\", cwd: "),
        "{shown}"
    );
}

#[test]
fn strict_json_rejects_every_malformed_stdout_and_shows_both_streams() {
    let home = crate::builder().build();
    // `env` prints JSON; we feed the parser the malformed variants directly and through a run's
    // failure message.
    let run = home.command().args(["paths", "--json"]).run();
    let good = run.stdout().to_string();
    type Expect = fn(&StrictJsonError) -> bool;
    let cases: [(String, Expect); 4] = [
        (String::new(), |e| *e == StrictJsonError::Empty),
        (format!("{good}trailing text\n"), |e| {
            matches!(e, StrictJsonError::TrailingText(_))
        }),
        (format!("{good}{good}"), |e| {
            *e == StrictJsonError::MultipleDocuments(2)
        }),
        ("[1, 2]\n".to_string(), |e| {
            *e == StrictJsonError::NotAnObject("an array")
        }),
    ];
    for (stdout, expected) in cases {
        let err = kitty_testkit::parse_strict_json(&stdout).expect_err("must be rejected");
        assert!(expected(&err), "{stdout:?} gave {err:?}");
        let run = kitty_testkit::RunOutput::synthetic(
            "spec-kitty paths --json",
            0,
            &stdout,
            "stderr-marker\n",
        );
        let text = panic_text(|| {
            let _ = run.json();
        });
        assert!(text.starts_with(&err.to_string()), "{text}");
        assert!(
            text.contains(&format!("----- stdout -----\n{stdout}")),
            "{text}"
        );
        assert!(text.contains("----- stderr -----\nstderr-marker"), "{text}");
    }
    // Through a real run: the failure message shows status, stdout and stderr whole.
    let run = home.command().args(["paths"]).run(); // human text, not JSON
    let text = panic_text(|| {
        let _ = run.json();
    });
    assert!(text.contains("command: spec-kitty paths\n"), "{text}");
    assert!(
        text.contains(&format!("program: {}\n", run.program())),
        "{text}"
    );
    assert!(text.contains("exit status:"), "{text}");
    assert!(text.contains("----- stdout -----\nroot "), "{text}");
    assert!(text.contains("----- stderr -----"), "{text}");
}

#[test]
fn the_environment_is_exact() {
    let home = crate::builder().env("SPEC_KITTY_LOG", "debug").build();
    let env = home.env_map();
    for spec in spec_kitty::env::REGISTRY {
        let allowed = [
            "HOME",
            "PATH",
            "SPEC_KITTY_HOME",
            "SPEC_KITTY_LOG",
            "SPEC_KITTY_POLL_SECOND_MS",
            "TMPDIR",
        ];
        if !allowed.contains(&spec.name) {
            assert!(
                !env.contains_key(spec.name),
                "{} leaked into the environment",
                spec.name
            );
        }
    }
    assert_eq!(env["HOME"], home.home_dir().to_str().unwrap());
    assert!(
        std::path::Path::new(&env["TMPDIR"]).starts_with(home.path()),
        "temporary files stay in the home: {}",
        env["TMPDIR"]
    );
    assert_eq!(
        env["GIT_CEILING_DIRECTORIES"],
        home.path().to_str().unwrap()
    );
    assert!(home.runtime_root().base().starts_with(home.path()));
    assert!(
        !home.runtime_root().base().starts_with(home.home_dir()),
        "SPEC_KITTY_HOME must not be HOME/.spec-kitty"
    );
}

// Unix-only: the programs that print the token are `/bin/sh -c` scripts.
#[cfg(unix)]
#[test]
fn every_run_fails_when_a_seeded_token_reaches_the_output() {
    let home = crate::builder().build();
    let seed = SessionSeed::with_private_team();
    home.seed(&seed);
    let script = format!("echo token={}", seed.access_token());
    let text = panic_text(|| {
        let _ = home.program("/bin/sh").args(["-c", script.as_str()]).run();
    });
    assert!(text.starts_with("SECRET LEAK:"), "{text}");
    assert!(
        text.contains("token=<redacted>") && !text.contains(seed.access_token()),
        "{text}"
    );
    // The same program without the token passes.
    let ok = home.program("/bin/sh").args(["-c", "echo fine"]).run();
    ok.assert_success();
    // A credential the test wrote itself is guarded once declared.
    let own = home
        .program("/bin/sh")
        .args(["-c", "echo pw=hunter2-own >&2"])
        .run();
    own.assert_success();
    home.treat_as_secret("hunter2-own");
    let text = panic_text(|| {
        let _ = home
            .program("/bin/sh")
            .args(["-c", "echo pw=hunter2-own >&2"])
            .run();
    });
    assert!(
        text.starts_with("SECRET LEAK:") && text.contains("pw=<redacted>"),
        "{text}"
    );
}

#[test]
fn tokens_issued_by_the_fake_saas_are_guarded_too() {
    let saas = kitty_testkit::FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    home.command()
        .args(["auth", "login", "--json"])
        .run()
        .assert_success();
    let issued = saas.issued_tokens();
    assert_eq!(issued.len(), 2);
    assert!(issued.iter().all(|t| home.secrets().contains(t)));
    // A run that prints one fails (Unix-only: the program is a `/bin/sh -c` script).
    #[cfg(unix)]
    {
        let script = format!("echo {} >&2", issued[1]);
        let text = panic_text(|| {
            let _ = home.program("/bin/sh").args(["-c", script.as_str()]).run();
        });
        assert!(text.starts_with("SECRET LEAK:"), "{text}");
    }
}

#[rstest::rstest]
#[case::private(kitty_testkit::fixtures::private_home(), Some("team-private"))]
#[case::shared_only(kitty_testkit::fixtures::shared_only_home(), None)]
fn fixtures_seed_where_the_binary_reads(#[case] home: IsolatedHome, #[case] private: Option<&str>) {
    home.assert_no_drift();
    let doc = home
        .command()
        .args(["auth", "status", "--json"])
        .run()
        .json();
    doc.assert_eq("/authenticated", true).assert_eq(
        "/private_team_id",
        private.map_or(serde_json::Value::Null, Into::into),
    );
}

#[rstest::rstest]
fn the_fake_saas_fixture_serves_login(
    #[from(kitty_testkit::fixtures::fake_saas)] saas: kitty_testkit::FakeSaas,
) {
    let home = crate::builder().fake_saas(&saas).build();
    home.command()
        .args(["auth", "login", "--json"])
        .run()
        .assert_success();
    assert_eq!(saas.count("/oauth/device"), 1);
}

/// The seed note's mistake made by hand (the product's own store at a hand-built
/// `$HOME/.spec-kitty/auth` while `SPEC_KITTY_HOME` points elsewhere) fails the very next run of
/// every kind, the canary, and the home's drop, naming the stray path, the path the binary reads
/// and the fix.
#[test]
fn a_hand_written_wrong_seed_is_stray_state_at_the_next_run_of_every_kind_and_at_drop() {
    use spec_kitty::auth::store::SessionStore;
    use spec_kitty::identity::MachineIdentity;
    let home = crate::builder().build();
    home.command()
        .args(["paths", "--json"])
        .run()
        .assert_success();
    let wrong = home.home_dir().join(".spec-kitty").join("auth");
    SessionStore::new(&wrong, MachineIdentity::current())
        .write(&kitty_testkit::SessionSeed::shared_only().build())
        .unwrap();
    let err = home.check_drift().expect_err("a stray store must be drift");
    let text = err.to_string();
    assert!(
        text.starts_with("STRAY STATE: a session store at"),
        "{text}"
    );
    assert!(text.contains(".spec-kitty/auth/session"), "{text}");
    assert!(text.contains("kitty-home/auth"), "{text}");
    assert!(text.contains("never a hand-built path"), "{text}");
    // Red at the next run of every kind: kitty, another program, a plugin, the reference, a
    // spawned run; each time naming the stray file, where the binary reads, and the fix.
    let host = home.host().path().to_path_buf();
    let reference = kitty_testkit::ReferenceCli::at(&host).unseeded().direct();
    let runs: [(&str, &dyn Fn()); 5] = [
        ("command", &|| {
            drop(home.command().args(["paths", "--json"]).run())
        }),
        ("program", &|| {
            drop(home.program(&host).arg("--version").run())
        }),
        ("plugin", &|| {
            drop(home.plugin_command(&host).arg("--version").run())
        }),
        ("reference", &|| {
            drop(home.reference_command(&reference).arg("--version").run());
        }),
        ("spawned", &|| {
            drop(home.command().arg("--version").spawn().wait())
        }),
    ];
    for (kind, run) in runs {
        let message = panic_text(run);
        assert!(
            message.starts_with("STRAY STATE: a session store at")
                && message.contains(".spec-kitty/auth/session")
                && message.contains("kitty-home/auth/session")
                && message.contains("never a hand-built path"),
            "{kind}: {message}"
        );
    }
    // And when the home is dropped, even after no run at all.
    let message = panic_text(move || drop(home));
    assert!(
        message.starts_with("STRAY STATE: a session store")
            && message.ends_with("(found when the home was dropped)"),
        "{message}"
    );
}

#[test]
fn a_hand_written_outbox_or_env_file_is_stray_state() {
    let home = crate::builder().build();
    let outbox = home.home_dir().join(".spec-kitty/sync/outbox.sqlite3");
    std::fs::create_dir_all(outbox.parent().unwrap()).unwrap();
    std::fs::write(&outbox, b"").unwrap();
    let err = home.check_drift().expect_err("a stray outbox").to_string();
    assert!(err.contains("outbox database"), "{err}");
    std::fs::remove_file(&outbox).unwrap();
    let env = home.home_dir().join(".kitty.env");
    std::fs::write(&env, "SPEC_KITTY_ENABLE_SAAS_SYNC=1\n").unwrap();
    let err = home
        .check_drift()
        .expect_err("a stray env file")
        .to_string();
    assert!(
        err.contains("operator env file") && err.contains("home/.kitty.env"),
        "{err}"
    );
    std::fs::remove_file(&env).unwrap();
    home.assert_no_drift();
}

/// What a repository holds, as git and the file system see it: branches and their commits'
/// subjects and trees, the worktrees (paths read as relative to the repository), the status of
/// each.
fn repo_state(repo: &kitty_testkit::Repo) -> Vec<String> {
    let root = repo.path().to_string_lossy().into_owned();
    let mut out = vec![
        repo.git(&["for-each-ref", "--format=%(refname) %(tree)", "refs/heads"]),
        repo.git(&["log", "--all", "--format=%s %T"]),
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
    ];
    let worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    for dir in worktrees
        .lines()
        .filter_map(|l| l.strip_prefix("worktree "))
    {
        out.push(dir.replace(&root, "<R>"));
        out.push(repo.git(&["-C", dir, "status", "--porcelain", "--branch"]));
    }
    out
}

/// A staging copied from the on-disk template is the repository a staging builds: the same
/// branches, commits, trees, worktrees and status as the template, its linked worktrees working
/// at their new place, and the commits and branches (ids aside) of a staging built through the
/// commands; a home that names a server is never served a copy.
#[test]
fn a_staged_mission_copied_from_the_template_is_the_one_a_staging_builds() {
    let stage = MissionStage::Finalized { work_packages: 2 };
    // A variable of this run's own: a key no earlier run kept a template for.
    let nonce = format!("{:?}", std::time::SystemTime::now());
    let home = || {
        IsolatedHome::builder()
            .env("KITTY_STAGE_NONCE", nonce.as_str())
            .build()
    };
    let homes = [home(), home()];
    let template = homes[0].mission_at(stage);
    let copied = homes[1].mission_at(stage);
    if std::env::var_os("KITTY_TESTKIT_NO_STAGE_CACHE").is_some_and(|v| !v.is_empty()) {
        // The cache is off for the whole run: each staging is built.
        assert_ne!(copied.mission_id, template.mission_id, "built, not copied");
        return;
    }
    assert_eq!(copied.slug, template.slug, "the template's copy");
    assert_eq!(repo_state(&copied.repo), repo_state(&template.repo));
    // Built through the commands: the same commits and branches, but for ids.
    let fresh = IsolatedHome::builder().fresh_stagings().build();
    let built = fresh.mission_at(stage);
    assert_ne!(built.mission_id, copied.mission_id, "built, not copied");
    let shape = |m: &kitty_testkit::StagedMission| {
        let mid8 = &m.mission_id[..8];
        // Subjects sorted: `--all` interleaves the branches by commit time.
        let mut subjects: Vec<String> = m
            .repo
            .git(&["log", "--all", "--format=%s"])
            .lines()
            .map(str::to_string)
            .collect();
        subjects.sort();
        [
            subjects.join("\n"),
            m.repo
                .git(&["for-each-ref", "--format=%(refname)", "refs/heads"]),
            m.repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
        ]
        .map(|s| s.replace(mid8, "<MID8>"))
    };
    assert_eq!(shape(&copied), shape(&built));
    // The copy's coordination worktree is its own: a commit there moves the copy's branch only.
    let coord = copied
        .repo
        .path()
        .join(format!(".worktrees/{}-coord", copied.slug));
    copied.repo.git(&[
        "-C",
        coord.to_str().unwrap(),
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    ]);
    let branch = format!("kitty/mission-{}", copied.slug);
    assert_eq!(
        copied
            .repo
            .git(&["log", "-1", "--format=%s", &branch])
            .trim(),
        "x"
    );
    assert_ne!(
        template
            .repo
            .git(&["log", "-1", "--format=%s", &branch])
            .trim(),
        "x"
    );
    // A syncing home builds its own (its events are queued in its own outbox).
    let saas = kitty_testkit::FakeSaas::start();
    let syncing = IsolatedHome::syncing_to(&saas);
    let own = syncing.mission_at(stage);
    assert_ne!(own.mission_id, template.mission_id);
}

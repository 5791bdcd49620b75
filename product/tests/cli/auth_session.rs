//! `auth status`, `auth logout` and `auth whoami`.

use kitty_testkit::{BrokenSeed, DirSnapshot, FakeSaas, IsolatedHome, RunOutput, SessionSeed};

#[test]
fn status_without_a_session_is_success_and_unauthenticated() {
    let home = crate::builder().build();
    let run = home.command().args(["auth", "status", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/authenticated", false)
        .assert_eq(
            "/storage_path",
            home.session_store().files().session.to_str().unwrap(),
        );
    let human = home.command().args(["auth", "status"]).run();
    human
        .assert_success()
        .assert_stdout_contains("Not logged in");
}

#[test]
fn status_with_a_valid_session_marks_the_private_team() {
    let home = crate::builder().build();
    let seed = SessionSeed::with_private_team();
    home.seed(&seed);
    let run = home.command().args(["auth", "status", "--json"]).run();
    let doc = run.json();
    doc.assert_eq("/authenticated", true)
        .assert_eq("/access_token_valid", true)
        .assert_eq("/refresh_token_valid", true)
        .assert_eq("/private_team_id", "team-private")
        .assert_eq("/teams/1/private", true)
        .assert_eq("/teams/0/private", false)
        .assert_eq("/user/email", "ada@example.com");
    run.assert_success()
        .assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    let human = home.command().args(["auth", "status"]).run();
    human
        .assert_success()
        .assert_stdout_contains("  - Team team-shared [team-shared]\n")
        .assert_stdout_contains("  - Team team-private [team-private] (private)\n")
        .assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    assert_eq!(human.stdout().matches("(private)").count(), 1, "{human}");
}

#[test]
fn status_with_expired_access_but_valid_refresh_is_authenticated() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team().access_expired());
    home.command()
        .args(["auth", "status", "--json"])
        .run()
        .json()
        .assert_eq("/authenticated", true)
        .assert_eq("/access_token_valid", false)
        .assert_eq("/refresh_token_valid", true);
}

#[test]
fn status_with_expired_refresh_is_not_authenticated() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team().refresh_expired());
    let run = home.command().args(["auth", "status", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/authenticated", false)
        .assert_eq("/refresh_token_valid", false);
}

#[test]
fn status_with_an_unreadable_store_fails_with_the_fix_and_changes_nothing() {
    // A file others can read is a Unix mode: elsewhere the store has no such refusal.
    let breakages = BrokenSeed::ALL
        .into_iter()
        .filter(|b| cfg!(unix) || *b != BrokenSeed::WorldReadable);
    for broken in breakages {
        let home = crate::builder().build();
        home.seed_broken(broken);
        let before = DirSnapshot::of(home.path());
        let run = home.command().args(["auth", "status", "--json"]).run();
        run.assert_code(1);
        let doc = run.json();
        doc.assert_eq("/error_code", "session_store_unreadable");
        let msg = doc.str("/error");
        assert!(msg.contains(broken.expected_message()), "{broken:?}\n{run}");
        before.assert_unchanged(&DirSnapshot::of(home.path()));
    }
}

/// `auth logout --json` in a home built by `builder` with a seeded session.
fn logout(builder: kitty_testkit::IsolatedHomeBuilder) -> (IsolatedHome, SessionSeed, RunOutput) {
    let home = builder.build();
    let seed = SessionSeed::with_private_team();
    home.seed(&seed);
    let run = home.command().args(["auth", "logout", "--json"]).run();
    (home, seed, run)
}

#[test]
fn logout_revokes_then_deletes() {
    let saas = FakeSaas::start();
    let (home, seed, run) = logout(crate::builder().fake_saas(&saas));
    run.assert_success()
        .json()
        .assert_eq("/revoked", true)
        .assert_eq("/had_session", true);
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    let revokes = saas.requests_to("/oauth/revoke");
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].form()["token"], seed.refresh_token());
    let files = home.session_store().files();
    assert!(!files.session.exists() && !files.salt.exists());
}

#[test]
fn logout_with_an_unreachable_server_still_deletes() {
    let (home, seed, run) = logout(crate::builder().refusing_server());
    run.assert_success().json().assert_eq("/revoked", false);
    run.assert_stderr_contains("could not revoke");
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    assert!(home.read_session().is_none());
}

#[test]
fn logout_refused_by_the_server_still_deletes() {
    let saas = FakeSaas::start();
    saas.set_revoke_status(500);
    let (home, _seed, run) = logout(crate::builder().fake_saas(&saas));
    run.assert_success()
        .json()
        .assert_eq("/revoked", false)
        .assert_eq("/logged_out", true);
    run.assert_stderr_contains("could not revoke the session on the server");
    assert_eq!(saas.requests_to("/oauth/revoke").len(), 1, "it asked");
    assert!(home.read_session().is_none());
}

#[test]
fn logout_force_skips_revoke_and_clears_a_broken_store() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    home.seed_broken(BrokenSeed::TamperedCiphertext);
    home.command()
        .args(["auth", "logout", "--force", "--json"])
        .run()
        .assert_success();
    assert_eq!(saas.count("/oauth/revoke"), 0);
    assert!(home.read_session().is_none());
}

#[test]
fn whoami_prints_the_user_or_fails_when_logged_out() {
    let home = crate::builder().build();
    let run = home.command().args(["auth", "whoami", "--json"]).run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "not_authenticated");
    assert!(doc.str("/error").contains("spec-kitty auth login"));

    let seed = SessionSeed::with_private_team();
    home.seed(&seed);
    let run = home.command().args(["auth", "whoami"]).run();
    run.assert_success();
    assert_eq!(run.stdout(), "ada@example.com\n");
    home.command()
        .args(["auth", "whoami", "--json"])
        .run()
        .json()
        .assert_eq("/user/email", "ada@example.com")
        .assert_eq("/private_team_id", "team-private");
}

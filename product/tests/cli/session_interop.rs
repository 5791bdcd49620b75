//! Sessions kitty writes after login, refresh and rehydrate are read by the reference's own code
//! with the same expiry, session id and generation; `session.hot-path.json` stays in step, is
//! used by `auth status` without deriving the key, and goes away on logout.

use kitty_testkit::{DevicePoll, FakeSaas, IsolatedHome, SessionSeed};
#[cfg(unix)]
use kitty_testkit::{MeAnswer, ReferenceCli, team};
use serde_json::{Value, json};

/// What the reference reads from the home's store. The testkit looks for the reference CLI in
/// its venv's `bin/`, which `scripts/install-reference` (a POSIX shell script) makes: the tests
/// that ask it are Unix-only.
#[cfg(unix)]
fn reference_view(home: &IsolatedHome) -> Value {
    ReferenceCli::require().read_session(&home.runtime_root().auth_dir(), None)
}

fn status(home: &IsolatedHome, extra_env: &[(&str, &str)]) -> kitty_testkit::RunOutput {
    let mut cmd = home.command();
    for (k, v) in extra_env {
        cmd = cmd.env(*k, *v);
    }
    cmd.args(["auth", "status", "--json"]).run()
}

// Unix-only: asks the reference CLI (see `reference_view`).
#[cfg(unix)]
#[test]
fn login_with_an_absolute_refresh_expiry_is_read_by_the_reference() {
    let saas = FakeSaas::start();
    saas.set_device_polls([DevicePoll::Grant]);
    saas.set_grant_fields(
        json!({"refresh_token_expires_at": "2027-01-15T10:00:00Z", "generation": 4}),
    );
    let home = crate::builder().fake_saas(&saas).build();
    home.command()
        .args(["auth", "login", "--json"])
        .run()
        .assert_success();
    let view = reference_view(&home);
    let s = &view["session"];
    assert_eq!(
        s["refresh_token_expires_at"], "2027-01-15T10:00:00+00:00",
        "{view}"
    );
    assert_eq!(s["session_id"], "sess-fake");
    assert_eq!(
        s["generation"],
        Value::Null,
        "a login starts without a generation, as in the reference"
    );
    assert_eq!(s["name"], "Ada Lovelace", "{view}");
    assert_eq!(s["refresh_token_expired"], false);
    let hot = &view["hot_path"];
    assert_eq!(
        hot["authenticated"], true,
        "the reference trusts kitty's summary: {view}"
    );
    assert_eq!(hot["refresh_token_expires_at"], "2027-01-15T10:00:00+00:00");
    status(&home, &[])
        .json()
        .assert_eq("/refresh_token_expires_at", "2027-01-15T10:00:00+00:00");
}

#[test]
fn a_token_answer_without_a_session_id_is_refused() {
    let saas = FakeSaas::start();
    saas.set_device_polls([DevicePoll::Grant]);
    saas.set_grant_fields(json!({"session_id": null}));
    let home = crate::builder().fake_saas(&saas).build();
    let run = home.command().args(["auth", "login", "--json"]).run();
    run.assert_failure();
    run.json()
        .assert_eq("/error_code", "login_unusable_account");
    assert!(run.json().str("/error").contains("session_id"), "{run}");
    assert!(home.read_session().is_none(), "nothing half-written");
}

// Unix-only: asks the reference CLI (see `reference_view`).
#[cfg(unix)]
#[test]
fn refresh_and_rehydrate_keep_the_reference_reading_the_same_session() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let seeded = home.seed(&SessionSeed::shared_only().access_expired());
    saas.set_me(MeAnswer::Teams(vec![
        team("team-shared", false),
        team("team-private", true),
    ]));
    saas.set_grant_fields(json!({"refresh_token_expires_in": 7200, "generation": 9}));
    let run = home.command().args(["auth", "refresh", "--json"]).run();
    run.assert_success();
    run.json().assert_eq("/membership_rehydrated", true);
    let kitty = status(&home, &[("SPEC_KITTY_DISABLE_SESSION_HOT_PATH", "1")]).json();
    let view = reference_view(&home);
    let s = &view["session"];
    assert_eq!(
        s["session_id"],
        seeded.session_id.clone().unwrap().as_str(),
        "the session id never changes"
    );
    assert_eq!(
        s["generation"], 9,
        "the refresh answer's generation: {view}"
    );
    assert_eq!(
        s["refresh_token_expires_at"],
        *kitty.at("/refresh_token_expires_at"),
        "both read the same expiry"
    );
    assert_eq!(s["default_team_id"], "team-private");
    assert_eq!(
        view["hot_path"]["authenticated"], true,
        "the summary is in step: {view}"
    );
    assert_eq!(
        view["hot_path"]["refresh_token_expires_at"],
        s["refresh_token_expires_at"]
    );
}

// Unix-only: asks the reference CLI (see `reference_view`).
#[cfg(unix)]
#[test]
fn a_refresh_without_a_generation_clears_it_and_keeps_the_old_expiry() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let seeded = home.seed(&SessionSeed::with_private_team().access_expired());
    home.command()
        .args(["auth", "refresh", "--json"])
        .run()
        .assert_success();
    let view = reference_view(&home);
    assert_eq!(view["session"]["generation"], Value::Null, "{view}");
    assert_eq!(
        view["session"]["refresh_token_expires_at"],
        seeded
            .refresh_token_expires_at
            .map(|t| t.to_iso())
            .map_or(Value::Null, Value::from),
        "no expiry in the answer: the previous one stays"
    );
}

/// The guarded path runs both ways: with a valid summary `auth status` answers without the
/// salt (no key derivation); with the summary off, stale, or gone the same state is an error.
#[test]
fn auth_status_answers_from_a_valid_summary_without_deriving_the_key() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    let auth = home.runtime_root().auth_dir();
    let hot = auth.join("session.hot-path.json");
    assert!(
        hot.is_file(),
        "the store publishes the summary when it writes"
    );
    // Break the key derivation's input; the summary does not need it.
    std::fs::write(auth.join("session.salt"), b"short").unwrap();
    let fast = status(&home, &[]);
    fast.assert_success();
    fast.json()
        .assert_eq("/authenticated", true)
        .assert_eq("/user/email", "ada@example.com");
    let slow = status(&home, &[("SPEC_KITTY_DISABLE_SESSION_HOT_PATH", "1")]);
    slow.assert_failure();
    slow.json()
        .assert_eq("/error_code", "session_store_unreadable");
    // A summary older than 30 seconds is a cache miss.
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&hot).unwrap()).unwrap();
    doc["generated_at"] = json!(doc["generated_at"].as_f64().unwrap() - 31.0);
    std::fs::write(&hot, doc.to_string()).unwrap();
    status(&home, &[]).assert_failure();
}

#[test]
fn a_summary_for_another_session_file_is_ignored() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    let auth = home.runtime_root().auth_dir();
    let before = std::fs::read(auth.join("session.hot-path.json")).unwrap();
    home.seed(&SessionSeed::shared_only());
    // Put back the first session's summary: its fingerprint no longer matches session.json.
    std::fs::write(auth.join("session.hot-path.json"), &before).unwrap();
    status(&home, &[])
        .json()
        .assert_eq("/private_team_id", Value::Null);
}

#[test]
fn logout_removes_every_file_of_the_store() {
    let home = crate::builder().build();
    home.seed(&SessionSeed::with_private_team());
    let auth = home.runtime_root().auth_dir();
    // A temporary file a crashed write would leave behind.
    std::fs::write(auth.join(".session.json.0123456789ab.tmp"), b"ciphertext").unwrap();
    assert!(auth.join("session.hot-path.json").is_file());
    home.command()
        .args(["auth", "logout", "--force", "--json"])
        .run()
        .assert_success();
    let left: Vec<String> = std::fs::read_dir(&auth)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "session.lock")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Windows keys the store with the real host name and uid 0 (no `os.getuid`); the reference,
/// run as if on Windows with the same host name, reads what kitty writes with that identity.
// Unix-only: asks the reference CLI (see `reference_view`).
#[cfg(unix)]
#[test]
fn the_windows_identity_matches_the_reference() {
    use spec_kitty::auth::store::SessionStore;
    use spec_kitty::identity::MachineIdentity;
    let home = crate::builder().build();
    let identity = MachineIdentity::without_uid("DESKTOP-KITTY7");
    assert_eq!(identity.passphrase(), "DESKTOP-KITTY7:0");
    let dir = home.runtime_root().auth_dir();
    let session = home.seed(&SessionSeed::with_private_team());
    std::fs::remove_dir_all(&dir).unwrap();
    SessionStore::new(&dir, identity).write(&session).unwrap();
    let view = ReferenceCli::require().read_session(&dir, Some(("DESKTOP-KITTY7", None)));
    assert_eq!(view["session"]["email"], "ada@example.com", "{view}");
    assert_eq!(
        view["session"]["session_id"],
        session.session_id.unwrap().as_str()
    );
}

//! Finding 1 (credentials in the service URL are never printed) and finding 8's URL half (an
//! unusable URL is a configuration error, not an outage to retry).

use kitty_testkit::{SessionSeed, SyncDiagnosticCode as Code, refusing_url};

const PASS: &str = "hunter2pass";
const TOKEN: &str = "topsecret123";

fn secret_url(base: &str) -> String {
    let hostport = base.trim_start_matches("http://");
    format!("http://kitty:{PASS}@{hostport}/?token={TOKEN}&team=t1")
}

#[test]
fn credentials_in_the_env_url_never_reach_any_output() {
    // The harness registers the URL's password and query values as secrets: every run below
    // fails by itself if one of them is printed, at trace level, on either stream.
    let home = crate::builder()
        .sync(true)
        .server(secret_url(&refusing_url()))
        .build();
    assert!(home.secrets().contains(&PASS.to_string()));
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    let create = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "url-check", "--json"])
        .run();
    create.assert_success();
    let d = create
        .diagnostics()
        .assert_exactly_one(Code::ServerUnavailable)
        .clone();
    assert!(d.message.contains("***@127.0.0.1"), "{create}");
    let now = home.command().args(["sync", "now", "--json"]).run();
    now.assert_code(1);
    assert!(now.json().str("/error").contains("token=***"), "{now}");
    let status = home.command().args(["sync", "status", "--json"]).run();
    let shown = status.json().str("/server_url").to_string();
    assert!(shown.starts_with("http://***@127.0.0.1:"), "{shown}");
    assert!(shown.ends_with("?token=***&team=***"), "{shown}");
    let human = home.command().args(["sync", "status"]).run();
    human.assert_success();
    human.assert_stdout_contains("***@127.0.0.1");
}

#[test]
fn credentials_in_the_config_url_never_reach_any_output() {
    let home = crate::builder().sync(true).build();
    home.treat_as_secret(PASS);
    home.treat_as_secret(TOKEN);
    let config = home.runtime_root().config_file();
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!("[sync]\nserver_url = \"{}\"\n", secret_url(&refusing_url())),
    )
    .unwrap();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "url-check", "--json"])
        .run()
        .diagnostics()
        .assert_exactly_one(Code::ServerUnavailable);
    let now = home.command().args(["sync", "now", "--json"]).run();
    now.assert_code(1);
    now.json()
        .assert_eq("/error_code", "sync.server_unavailable");
    let status = home.command().args(["sync", "status", "--json"]).run();
    assert!(
        status.json().str("/server_url").contains("***@"),
        "{status}"
    );
}

#[test]
fn an_unusable_url_is_a_configuration_error_not_an_outage() {
    for bad in [
        "ftp://kitty.example",
        "kitty.example/api",
        "http://",
        "http://host with space",
    ] {
        let home = crate::builder().sync(true).server(bad).build();
        home.seed(&SessionSeed::with_private_team());
        let started = std::time::Instant::now();
        let now = home.command().args(["sync", "now", "--json"]).run();
        now.assert_code(1);
        now.json()
            .assert_eq("/error_code", "sync.configuration_invalid");
        assert!(
            now.json().str("/error").contains("SPEC_KITTY_SAAS_URL"),
            "{now}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "retried: {now}"
        );
        let repo = home.repo().build();
        let create = home
            .command()
            .current_dir(repo.path())
            .args(["agent", "mission", "create", "bad-url", "--json"])
            .run();
        create.assert_success();
        create
            .diagnostics()
            .assert_exactly_one(Code::ConfigurationInvalid);
        let status = home.command().args(["sync", "status", "--json"]).run();
        status.assert_code(1);
        status.json().assert_eq("/error_code", "config_invalid");
    }
}

//! `sync now`, `sync status`, per-event statuses, and eight concurrent creators.

use kitty_testkit::{BatchAnswer, FakeSaas, IsolatedHome, Repo, SessionSeed};

fn create_offline(home: &IsolatedHome, repo: &Repo, slug: &str) {
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", slug, "--json"])
        .run()
        .assert_success();
}

#[test]
fn per_event_statuses_remove_keep_or_count_a_retry() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    for slug in ["one", "two", "three"] {
        create_offline(&home, &repo, slug);
    }
    let ids: Vec<String> = home
        .queued_events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    saas.push_batch_answers([BatchAnswer::Statuses(vec![
        "rejected".into(),
        "pending".into(),
        "duplicate".into(),
    ])]);
    let run = home
        .command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run();
    run.assert_success();
    run.json()
        .assert_eq("/delivered", 1)
        .assert_eq("/rejected", 1)
        .assert_eq("/kept", 1)
        .assert_eq("/remaining", 2);
    let left = home.queued_retry_counts();
    assert_eq!(left, vec![(ids[0].clone(), 1), (ids[1].clone(), 0)]);
}

#[test]
fn sync_now_refuses_when_sync_is_disabled() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "sync_disabled");
    assert!(saas.requests().is_empty());
}

#[test]
fn sync_now_failure_is_strict_json_with_the_code() {
    let home = crate::builder().sync(true).refusing_server().build();
    let repo = home.repo().build();
    create_offline(&home, &repo, "pending-one");
    let run = home.command().args(["sync", "now", "--json"]).run();
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "sync.server_auth_failure");
}

#[test]
fn sync_status_reports_the_queue_without_network() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    let empty = home.command().args(["sync", "status", "--json"]).run();
    empty
        .json()
        .assert_eq("/queue_depth", 0)
        .assert_eq("/sync_enabled", false);
    create_offline(&home, &repo, "queued-one");
    let run = home.command().args(["sync", "status", "--json"]).run();
    run.assert_success()
        .json()
        .assert_eq("/queue_depth", 1)
        .assert_eq("/auth_state", "authenticated")
        .assert_eq("/private_team_id", "team-private")
        .assert_eq("/server_url", saas.url())
        .assert_eq("/last_attempt", serde_json::Value::Null);
    assert!(run.json().at("/oldest_event_age_seconds").is_number());
    assert!(saas.requests().is_empty());

    home.command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run()
        .assert_success();
    home.command()
        .args(["sync", "status", "--json"])
        .run()
        .json()
        .assert_eq("/queue_depth", 0)
        .assert_eq("/last_attempt/outcome", "success")
        .assert_eq("/last_attempt/delivered", 1);
}

#[test]
fn eight_concurrent_creators_lose_nothing_and_sync_delivers_each_once() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let repo = home.repo().build();
    home.seed(&SessionSeed::with_private_team());
    let running: Vec<_> = (0..8)
        .map(|i| {
            home.command()
                .current_dir(repo.path())
                .args([
                    "agent",
                    "mission",
                    "create",
                    &format!("parallel-{i}"),
                    "--json",
                ])
                .spawn()
        })
        .collect();
    for r in running {
        r.wait()
            .assert_success()
            .json()
            .assert_eq("/result", "success");
    }
    assert_eq!(repo.mission_dirs().len(), 8);
    assert_eq!(repo.commit_count(), 9);
    // Only the eight spec.md scaffolds are left for the agent (untracked), nothing else.
    let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status.lines().count(), 8, "{status}");
    assert!(
        status
            .lines()
            .all(|l| l.starts_with("?? ") && l.ends_with("/spec.md")),
        "{status}"
    );
    let events = home.queued_events();
    assert_eq!(events.len(), 8);
    let mut ids: Vec<_> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "duplicate event ids");
    let mut clocks: Vec<_> = events
        .iter()
        .map(|e| e["lamport_clock"].as_i64().unwrap())
        .collect();
    clocks.sort();
    assert_eq!(clocks, (1..=8).collect::<Vec<_>>());

    home.command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
        .args(["sync", "now", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/delivered", 8);
    let mut received: Vec<_> = saas
        .received_events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    received.sort();
    assert_eq!(received, ids, "each event exactly once");
    assert!(home.queued_events().is_empty());
}

//! `agent tasks move-task` beyond the differential suite: the claim race (exactly one of two
//! agents wins), and the `WPStatusChanged` events it queues with sync on, in the published
//! contract.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage, SessionSeed};
use serde_json::Value;

fn coord_log(m: &kitty_testkit::StagedMission) -> Vec<Value> {
    let path = m.repo.path().join(format!(
        ".worktrees/{0}-coord/kitty-specs/{0}/status.events.jsonl",
        m.slug
    ));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn two_agents_claiming_one_work_package_at_once_exactly_one_wins() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 3 });
    for wp in ["WP01", "WP02", "WP03"] {
        let runs: Vec<_> = ["claude", "codex"]
            .iter()
            .map(|agent| {
                home.command()
                    .current_dir(m.repo.path())
                    .args(["agent", "tasks", "move-task", wp, "--to", "claimed"])
                    .args(["--agent", agent, "--mission", &m.slug, "--json"])
                    .spawn()
            })
            .collect();
        let outs: Vec<_> = runs.into_iter().map(|r| r.wait()).collect();
        let won: Vec<_> = outs.iter().filter(|o| o.code() == Some(0)).collect();
        assert_eq!(won.len(), 1, "{wp}: {outs:?}");
        let lost = outs.iter().find(|o| o.code() != Some(0)).unwrap();
        // The loser finds the package claimed: by the other agent (the ownership guard), or,
        // when it read the lane first, as an illegal claimed -> claimed.
        let code = lost.json().str("/error_code").to_string();
        assert!(
            ["AGENT_MISMATCH", "invalid_transition"].contains(&code.as_str()),
            "{lost}"
        );
        let claims: Vec<Value> = coord_log(&m)
            .into_iter()
            .filter(|e| e["wp_id"] == wp && e["to_lane"] == "claimed")
            .collect();
        assert_eq!(claims.len(), 1, "{wp}: one claim in the log");
    }
    // One commit per claim on the coordination branch.
    let subjects = m
        .repo
        .git(&["log", "--format=%s", &format!("kitty/mission-{}", m.slug)]);
    let transitions = subjects
        .lines()
        .filter(|s| *s == "chore(spec-kitty): status transition WP01")
        .count();
    assert_eq!(transitions, 2, "the seed and the claim:\n{subjects}");
}

#[test]
fn with_sync_on_each_hop_is_one_status_changed_event_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::builder()
        .fake_saas(&saas)
        .sync(true)
        .sync_consent()
        .build();
    home.seed(&SessionSeed::with_private_team());
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let before = saas.received_events().len();
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "move-task", "WP01", "--to", "in_progress"])
        .args(["--agent", "claude", "--mission", &m.slug, "--json"])
        .run()
        .assert_success();
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "move-task", "WP02", "--to", "canceled"])
        .args(["--mission", &m.slug, "--json"])
        .run()
        .assert_success();
    let events = saas.received_events()[before..].to_vec();
    let changed: Vec<(String, String, String)> = events
        .iter()
        .filter(|e| e["event_type"] == "WPStatusChanged")
        .map(|e| {
            let p = &e["payload"];
            (
                p["wp_id"].as_str().unwrap().to_string(),
                p["from_lane"].as_str().unwrap().to_string(),
                p["to_lane"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expect = |w: &str, f: &str, t: &str| (w.to_string(), f.to_string(), t.to_string());
    assert_eq!(
        changed,
        [
            expect("WP01", "planned", "claimed"),
            expect("WP01", "claimed", "in_progress"),
            expect("WP02", "planned", "canceled"),
        ]
    );
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
    assert_eq!(home.queued_events().len(), 0, "nothing left queued");
}

//! `agent tasks move-task` beyond the differential suite: the claim race (exactly one of two
//! agents wins), and the `WPStatusChanged` events it queues with sync on, in the published
//! contract.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage};
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
    let home = IsolatedHome::syncing_to(&saas);
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
    let changed: Vec<(String, String, String)> = saas
        .received_events_of("WPStatusChanged", before)
        .iter()
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

fn run_move(home: &IsolatedHome, m: &kitty_testkit::StagedMission, args: &[&str]) -> Value {
    let out = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "move-task"])
        .args(args)
        .args(["--mission", &m.slug, "--json"])
        .run();
    out.assert_success();
    out.json().value().clone()
}

fn subjects(m: &kitty_testkit::StagedMission) -> Vec<String> {
    m.repo
        .git(&["log", "--format=%s", &format!("kitty/mission-{}", m.slug)])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn only_a_forced_move_out_of_for_review_back_to_work_carries_the_force_override_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let review_ref = |args: &[&str]| {
        run_move(&home, &m, args);
        coord_log(&m)
            .iter()
            .rfind(|e| e.get("to_lane").is_some())
            .unwrap()["review_ref"]
            .clone()
    };
    let forced = |to: &'static str| ["WP01", "--to", to, "--force", "--note", "x"];
    assert_eq!(review_ref(&forced("for_review")), serde_json::Value::Null);
    assert_eq!(review_ref(&forced("blocked")), serde_json::Value::Null);
    assert_eq!(review_ref(&forced("in_progress")), serde_json::Value::Null);
    assert_eq!(review_ref(&forced("for_review")), serde_json::Value::Null);
    assert_eq!(review_ref(&forced("in_progress")), "force-override");
}

#[test]
fn each_hop_its_binding_and_the_runtime_change_are_written_line_by_line_as_the_reference_does() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let before = coord_log(&m).len();
    let doc = run_move(
        &home,
        &m,
        &[
            "WP01",
            "--to",
            "doing",
            "--agent",
            "claude",
            "--note",
            " started ",
        ],
    );
    let log = coord_log(&m);
    let new = &log[before..];
    assert_eq!(new.len(), 4, "{new:#?}");
    let claimed = &new[0];
    let implementer = serde_json::json!({"model": null, "profile": null, "role": "implementer", "tool": "claude"});
    assert_eq!(claimed["actor"], implementer);
    assert_eq!(
        (claimed["from_lane"].as_str(), claimed["to_lane"].as_str()),
        (Some("planned"), Some("claimed"))
    );
    assert_eq!(claimed["reason"], "started");
    assert_eq!(claimed["force"], false);
    assert_eq!(claimed["execution_mode"], "worktree");
    assert_eq!(claimed["mission_id"], m.mission_id.as_str());
    assert_eq!(claimed["mission_slug"], m.slug.as_str());
    for key in ["policy_metadata", "review_ref", "evidence"] {
        assert!(claimed[key].is_null(), "{key}");
    }
    assert!(claimed.get("reason_source").is_none());
    let binding = &new[1];
    assert_eq!(binding["kind"], "annotation");
    assert_eq!(binding["actor"], implementer);
    assert_eq!(
        binding["delta"],
        serde_json::json!({"agent_profile": "__resolved_profile_absent__", "agent_profile_version": "__resolved_profile_version_absent__", "model": "__resolved_model_absent__", "provider": "__resolved_provider_absent__", "role": "implementer"})
    );
    let started = &new[2];
    assert_eq!(started["actor"], "claude");
    assert_eq!(started["from_lane"], "claimed");
    assert_eq!(started["to_lane"], "in_progress");
    let runtime = &new[3];
    assert_eq!(runtime["actor"], "claude");
    assert_eq!(runtime["delta"]["agent"], "claude");
    assert_eq!(runtime["delta"]["note"], "started");
    assert_eq!(runtime["delta"]["role"], "implementer");
    assert_eq!(doc["old_lane"], "planned");
    assert_eq!(doc["new_lane"], "in_progress");
    assert_eq!(doc["to_lane"], "in_progress");
    assert_eq!(doc["event_id"], started["event_id"]);
    assert_eq!(doc["task_id"], "WP01");
    assert_eq!(doc["work_package_id"], "WP01");
    assert_eq!(doc["transition_applied"], true);
    assert!(
        doc["path"]
            .as_str()
            .unwrap()
            .ends_with("/tasks/WP01-part-1.md"),
        "{doc}"
    );
    assert!(
        doc["status_events_path"]
            .as_str()
            .unwrap()
            .ends_with(&format!(
                "-coord/kitty-specs/{}/status.events.jsonl",
                m.slug
            )),
        "{doc}"
    );
    assert_eq!(
        subjects(&m)[..3],
        [
            "chore(spec-kitty): inner-state annotation WP01",
            "chore(spec-kitty): status transition WP01",
            "chore(spec-kitty): status transition WP01",
        ]
    );

    // Backward: forced, one hop, the rewind reason; the claim's binding again.
    let before = coord_log(&m).len();
    run_move(&home, &m, &["WP01", "--to", "claimed"]);
    let new = coord_log(&m)[before..].to_vec();
    assert_eq!(new.len(), 2);
    assert_eq!(new[0]["force"], true);
    assert_eq!(new[0]["reason"], "backward rewind: in_progress -> claimed");
    assert_eq!(new[0]["actor"]["tool"], "user");
    assert_eq!(new[1]["kind"], "annotation");
    let doc = run_move(
        &home,
        &m,
        &["WP01", "--to", "in_progress", "--note", "again"],
    );
    assert_eq!(doc["old_lane"], "claimed");

    // Canceled with a note: the operator's reason; then forced out of the terminal lane.
    let before = coord_log(&m).len();
    run_move(
        &home,
        &m,
        &["WP02", "--to", "canceled", "--note", "dropped"],
    );
    run_move(&home, &m, &["WP02", "--to", "blocked", "--force"]);
    run_move(&home, &m, &["WP02", "--to", "canceled"]);
    let new: Vec<Value> = coord_log(&m)[before..]
        .iter()
        .filter(|e| e.get("kind").is_none())
        .cloned()
        .collect();
    assert_eq!(new[0]["reason"], "dropped");
    assert_eq!(new[0]["reason_source"], "operator");
    assert_eq!(new[0]["actor"], "user");
    assert_eq!(new[1]["reason"], "Force move to blocked");
    assert_eq!(new[1]["force"], true);
    assert!(new[1].get("reason_source").is_none());
    assert_eq!(new[2]["reason"], "move-task: blocked -> canceled");
    assert_eq!(new[2]["reason_source"], "synthetic");
    assert_eq!(new[2]["force"], false);
}

#[test]
fn for_review_needs_every_subtask_done_and_records_the_gate_on_its_hop() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let refused = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "move-task", "WP01", "--to", "for_review"])
        .args(["--mission", &m.slug, "--json"])
        .run();
    refused.assert_code(1);
    refused.json().assert_eq("/error_code", "SUBTASKS_INCOMPLETE").assert_eq(
        "/error",
        "Cannot move WP01 to for_review - unchecked subtasks:\n  - [ ] T001\n\nMark these complete first:\n  spec-kitty agent tasks mark-status T001 --status done\n\nOr use --force to override (not recommended)",
    );
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "mark-status", "T001", "--status", "done"])
        .args(["--mission", &m.slug, "--json"])
        .run()
        .assert_success();
    // A planning file the package owns, left uncommitted, blocks; the status files do not.
    let research = m.dir().join("research.md");
    std::fs::write(&research, "# notes\n").unwrap();
    let blocked = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "move-task", "WP01", "--to", "for_review"])
        .args(["--mission", &m.slug, "--json"])
        .run();
    blocked.assert_code(1);
    let error = blocked.json().str("/error").to_string();
    assert!(
        error.starts_with(&format!(
            "Cannot move WP01 to for_review\n\nBlocking: 1 uncommitted file(s) owned by WP01:\n\nModified files in kitty-specs/:\n  ?? kitty-specs/{}/research.md\n",
            m.slug
        )),
        "{error}"
    );
    assert!(error.ends_with("Then retry: spec-kitty agent tasks move-task WP01 --to for_review\n\nOr use --force to override (not recommended)"), "{error}");
    std::fs::remove_file(&research).unwrap();
    let before = coord_log(&m).len();
    let out = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "move-task", "WP01", "--to", "for_review"])
        .args(["--mission", &m.slug, "--json"])
        .run();
    out.assert_success();
    let new = coord_log(&m)[before..].to_vec();
    let hops: Vec<&str> = new.iter().filter_map(|e| e["to_lane"].as_str()).collect();
    assert_eq!(hops, ["claimed", "in_progress", "for_review"]);
    let gate = serde_json::json!({
        "outcome": "no_coverage",
        "reason": "no changed files detected for this WP \u{2014} skipping the gate cheaply",
        "new_failure_count": 0, "new_failure_nodeids": [], "pre_existing_failure_count": 0,
        "affected_shard_count": 0, "matched_shard_groups": [], "matched_composite_dirs": [],
        "test_targets": [], "block_enabled": false, "blocked": false, "force_bypassed": false,
        "run_state": "completed",
    });
    let last = new.last().unwrap();
    assert_eq!(
        last["policy_metadata"],
        serde_json::json!({"pre_review_gate": gate})
    );
    assert!(new[0]["policy_metadata"].is_null());
    assert_eq!(out.json().value()["pre_review_gate"], gate);
    // The dirty status files of the primary checkout were passed over, and said so on stderr.
    assert!(
        out.stderr()
            .contains("Note: 2 unrelated dirty file(s) ignored (not owned by WP01)"),
        "counted once: {out}"
    );
}

#[test]
fn without_auto_commit_for_review_checks_readiness_before_recording_anything() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "mark-status", "T001", "--status", "done"])
        .args(["--mission", &m.slug, "--json"])
        .run()
        .assert_success();
    let before = coord_log(&m).len();
    let research = m.dir().join("research.md");
    std::fs::write(&research, "# notes\n").unwrap();
    let to_review = || {
        home.command()
            .current_dir(m.repo.path())
            .args(["agent", "tasks", "move-task", "WP01", "--to", "for_review"])
            .args(["--no-auto-commit", "--mission", &m.slug, "--json"])
            .run()
    };
    to_review()
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "NOT_READY_FOR_REVIEW");
    assert_eq!(coord_log(&m).len(), before, "nothing recorded");
    std::fs::remove_file(&research).unwrap();
    let out = to_review();
    out.assert_success();
    assert!(
        out.stderr()
            .contains("Note: 2 unrelated dirty file(s) ignored (not owned by WP01)"),
        "{out}"
    );
}

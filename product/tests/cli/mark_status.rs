//! `agent tasks mark-status` beyond the differential suite: what it leaves alone (tasks.md, the
//! branch), what an agent reads back (the board's subtasks), its human text, and the
//! `HistoryAdded` events it queues with sync on, in the published contract.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage};
use serde_json::Value;

/// Where the mission's status lives: its coordination worktree's copy (create on a feature branch
/// makes a coordinated mission).
fn status_dir(m: &kitty_testkit::StagedMission) -> std::path::PathBuf {
    let coord = m
        .repo
        .path()
        .join(format!(".worktrees/{0}-coord/kitty-specs/{0}", m.slug));
    assert!(coord.is_dir(), "{} is not there", coord.display());
    coord
}

fn status_json(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("status.json")).unwrap()).unwrap()
}

#[test]
fn marking_records_the_subtasks_in_status_json_and_leaves_tasks_md_and_the_branch_alone() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let tasks_md = std::fs::read(m.dir().join("tasks.md")).unwrap();
    let head = m.repo.git(&["rev-parse", "HEAD"]);
    let before = status_json(&status_dir(&m));
    home.command()
        .current_dir(m.repo.path())
        .args([
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "T002",
            "--status",
            "done",
        ])
        .args(["--mission", &m.slug, "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/summary/updated", 2);
    let after = status_json(&status_dir(&m));
    assert_eq!(after["work_packages"]["WP01"]["subtasks"]["T001"], "done");
    assert_eq!(after["work_packages"]["WP02"]["subtasks"]["T002"], "done");
    // Annotations are not transitions: the counters stay.
    assert_eq!(after["event_count"], before["event_count"]);
    assert_eq!(after["last_event_id"], before["last_event_id"]);
    assert_eq!(std::fs::read(m.dir().join("tasks.md")).unwrap(), tasks_md);
    assert_eq!(
        m.repo.git(&["rev-parse", "HEAD"]),
        head,
        "nothing committed"
    );
    let log = std::fs::read_to_string(status_dir(&m).join("status.events.jsonl")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "annotation");
    assert_eq!(last["wp_id"], "WP02");
    assert_eq!(
        last["delta"],
        serde_json::json!({"subtasks": {"T002": "done"}})
    );

    // Pending is recorded as planned.
    home.command()
        .current_dir(m.repo.path())
        .args([
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "--status",
            "pending",
        ])
        .args(["--mission", &m.slug, "--json"])
        .run()
        .assert_success();
    let again = status_json(&status_dir(&m));
    assert_eq!(
        again["work_packages"]["WP01"]["subtasks"]["T001"],
        "planned"
    );
}

#[test]
fn the_human_text_names_what_was_marked_and_what_was_not_found() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = home
        .command()
        .current_dir(m.repo.path())
        .args([
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "T404",
            "--status",
            "done",
        ])
        .args(["--mission", &m.slug])
        .run();
    out.assert_success();
    assert_eq!(
        out.stdout(),
        "Warning: Not found: T404\n✓ Marked T001 as done\n"
    );
    let none = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "tasks", "mark-status", "T404", "--status", "done"])
        .args(["--mission", &m.slug])
        .run();
    none.assert_code(1);
    assert!(
        none.stdout()
            .starts_with("No task IDs found in tasks.md: T404"),
        "{none}"
    );
}

#[test]
fn with_sync_on_each_work_package_s_marks_are_one_history_added_event_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let before = saas.received_events().len();
    home.command()
        .current_dir(m.repo.path())
        .args([
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "T002",
            "--status",
            "done",
        ])
        .args(["--mission", &m.slug, "--json"])
        .run()
        .assert_success();
    let history = saas.received_events_of("HistoryAdded", before);
    assert_eq!(history.len(), 2, "{history:#?}");
    assert_eq!(history[0]["aggregate_type"], "WorkPackage");
    assert_eq!(history[0]["aggregate_id"], "WP01");
    assert_eq!(
        history[0]["payload"],
        serde_json::json!({"wp_id": "WP01", "entry_type": "note", "entry_content": "Subtask(s) T001 marked as done", "author": "user"})
    );
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
    assert_eq!(home.queued_events().len(), 0, "nothing left queued");
}

#[test]
fn concurrent_marks_on_one_mission_all_land_in_the_log_and_the_board() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 3 });
    let runs: Vec<_> = ["T001", "T002", "T003", "T001", "T002", "T003"]
        .iter()
        .map(|id| {
            home.command()
                .current_dir(m.repo.path())
                .args(["agent", "tasks", "mark-status", id, "--status", "done"])
                .args(["--mission", &m.slug, "--json"])
                .spawn()
        })
        .collect();
    for run in runs {
        run.wait().assert_success();
    }
    let dir = status_dir(&m);
    let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let annotations = log
        .lines()
        .filter(|l| l.contains("\"kind\": \"annotation\""))
        .count();
    assert_eq!(annotations, 6, "{log}");
    let board = status_json(&dir);
    for (wp, t) in [("WP01", "T001"), ("WP02", "T002"), ("WP03", "T003")] {
        assert_eq!(
            board["work_packages"][wp]["subtasks"][t], "done",
            "{board:#}"
        );
    }
}

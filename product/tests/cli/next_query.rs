//! `next --json` in query mode beyond the differential suite: every board state kitty answers
//! (the accept and done states through lanes seeded in the status log), that it writes nothing,
//! the unknown mission's document, and what it hands to the reference.

use kitty_testkit::{IsolatedHome, MissionStage, StagedMission};
use serde_json::Value;

fn status_dir(m: &StagedMission) -> std::path::PathBuf {
    m.repo
        .path()
        .join(format!(".worktrees/{0}-coord/kitty-specs/{0}", m.slug))
}

/// Append a forced transition of `wp` to `to` to the coordination log (as a move would record
/// it), keeping status.json as it was: `next` must read the log.
fn seed_lane(m: &StagedMission, n: usize, wp: &str, to: &str) {
    let log = status_dir(m).join("status.events.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut line: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["wp_id"] == wp && e.get("to_lane").is_some())
        .unwrap();
    line["from_lane"] = "planned".into();
    line["to_lane"] = to.into();
    line["force"] = true.into();
    line["reason"] = "seeded".into();
    line["event_id"] = format!("01ZZZZZZZZZZZZZZZZZZZZZZ{n:02}").into();
    std::fs::write(&log, format!("{text}{line}\n")).unwrap();
}

fn next(home: &IsolatedHome, m: &StagedMission) -> kitty_testkit::RunOutput {
    home.command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args(["next", "--agent", "claude", "--mission", &m.slug, "--json"])
        .run()
}

fn tree(m: &StagedMission) -> String {
    let mut out = m
        .repo
        .git(&["status", "--porcelain", "--untracked-files=all"]);
    out.push_str(&std::fs::read_to_string(status_dir(m).join("status.json")).unwrap_or_default());
    out + &m.repo.git(&["rev-list", "--count", "--all"])
}

#[test]
fn a_finalized_mission_s_next_step_is_implementing_its_first_claimable_package_and_nothing_is_written()
 {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let before = tree(&m);
    let out = next(&home, &m);
    out.assert_success()
        .json()
        .assert_eq("/kind", "query")
        .assert_eq("/mission_state", "implement")
        .assert_eq("/preview_step", "implement")
        .assert_eq("/wp_id", "WP01")
        .assert_eq("/agent", "claude")
        .assert_eq("/mission_type", "software-dev")
        .assert_eq("/is_query", true)
        .assert_eq("/progress/total_wps", 2)
        .assert_eq("/progress/planned_wps", 2)
        .assert_eq("/progress/weighted_percentage", 0.0);
    assert!(
        out.stderr()
            .contains("Warning: project charter is not initialized"),
        "{out}"
    );
    assert_eq!(tree(&m), before, "query mode writes nothing");
}

#[test]
fn approved_and_done_packages_make_the_mission_ready_to_accept_then_done() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    seed_lane(&m, 1, "WP01", "approved");
    seed_lane(&m, 2, "WP02", "approved");
    next(&home, &m)
        .assert_success()
        .json()
        .assert_eq("/mission_state", "accept")
        .assert_eq("/progress/approved_wps", 2)
        .assert_eq("/progress/weighted_percentage", 80.0);
    seed_lane(&m, 3, "WP01", "done");
    let out = next(&home, &m);
    out.assert_success()
        .json()
        .assert_eq("/mission_state", "accept")
        .assert_eq("/preview_step", "accept")
        .assert_eq("/reason", Value::Null)
        .assert_eq("/progress/done_wps", 1)
        .assert_eq("/progress/approved_wps", 1)
        .assert_eq("/progress/weighted_percentage", 90.0);
    seed_lane(&m, 4, "WP02", "done");
    next(&home, &m)
        .assert_success()
        .json()
        .assert_eq("/mission_state", "done")
        .assert_eq("/reason", "All work packages are done")
        .assert_eq("/preview_step", Value::Null)
        .assert_eq("/progress/weighted_percentage", 100.0);
}

#[test]
fn a_canceled_package_leaves_nothing_actionable_and_blocks() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    seed_lane(&m, 1, "WP01", "approved");
    seed_lane(&m, 2, "WP02", "canceled");
    next(&home, &m)
        .assert_success()
        .json()
        .assert_eq("/mission_state", "blocked")
        .assert_eq("/reason", "no actionable wp")
        .assert_eq("/wp_id", Value::Null);
}

#[test]
fn the_human_summary_names_the_state_the_next_step_and_the_progress() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    seed_lane(&m, 1, "WP01", "in_progress");
    let out = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args(["next", "--mission", &m.slug])
        .run();
    out.assert_success();
    assert_eq!(
        out.stdout(),
        format!(
            "[QUERY \u{2014} no result provided, state not advanced]\n  Mission: {} @ implement\n  Mission Type: software-dev\n  Next step: implement\n  Reason: dependencies_not_satisfied\n  Progress: 15% (0/2 done)\n",
            m.slug
        )
    );
}

#[test]
fn an_unknown_mission_is_the_mission_not_found_document_with_exit_1() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args(["next", "--mission", "nosuch", "--json"])
        .run();
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "MISSION_NOT_FOUND")
        .assert_eq("/handle", "nosuch");
    // In JSON mode the document says it all; in words it is on stderr.
    assert!(!out.stderr().contains("Mission not found"), "{out}");
    let words = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args(["next", "--mission", "nosuch"])
        .run();
    words.assert_code(1).assert_stdout_empty();
    assert!(
        words
            .stderr()
            .contains("Error: Mission not found: 'nosuch'\nNo mission matching 'nosuch' exists in this repository."),
        "{words}"
    );
    assert!(
        out.json()
            .str("/next_step")
            .contains("spec-kitty mission list"),
        "{out}"
    );
}

#[test]
fn advancing_mode_and_an_unfinalized_mission_are_handed_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args(["next", "--agent", "claude", "--mission", &m.slug])
        .args(["--result", "success", "--json"])
        .run();
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
    std::fs::remove_file(m.dir().join("tasks.md")).unwrap();
    next(&home, &m)
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
}

#[test]
fn a_package_still_in_progress_keeps_the_mission_implementing() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    seed_lane(&m, 1, "WP02", "approved");
    seed_lane(&m, 2, "WP01", "in_progress");
    next(&home, &m)
        .assert_success()
        .json()
        .assert_eq("/mission_state", "implement")
        .assert_eq("/reason", "all_wps_in_progress")
        .assert_eq("/progress/in_progress_wps", 1)
        .assert_eq("/progress/approved_wps", 1);
}

#[test]
fn a_charter_a_preflight_config_a_runtime_run_or_another_mission_type_go_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let handed = || {
        next(&home, &m)
            .assert_code(1)
            .json()
            .assert_eq("/error_code", "reference_not_found");
    };
    let root = m.repo.path();
    let charter = root.join(".kittify/charter");
    std::fs::create_dir_all(&charter).unwrap();
    handed();
    std::fs::remove_dir_all(&charter).unwrap();
    let config = root.join(".kittify/config.yaml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{original}preflight:\n  enabled: false\n")).unwrap();
    handed();
    std::fs::write(&config, format!("{original}activated_agent_profiles: []\n")).unwrap();
    handed();
    std::fs::write(&config, &original).unwrap();
    next(&home, &m).assert_success();
    let runs = root.join(".kittify/runtime/feature-runs.json");
    std::fs::create_dir_all(runs.parent().unwrap()).unwrap();
    std::fs::write(&runs, format!("{{\"{}\": {{\"run_id\": \"r\"}}}}", m.slug)).unwrap();
    handed();
    std::fs::remove_file(&runs).unwrap();
    let meta_path = m.dir().join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let mut doc: Value = serde_json::from_str(&meta).unwrap();
    doc["mission_number"] = 7.into();
    std::fs::write(&meta_path, doc.to_string()).unwrap();
    handed();
    doc["mission_number"] = Value::Null;
    doc["mission_type"] = "research".into();
    std::fs::write(&meta_path, doc.to_string()).unwrap();
    handed();
}

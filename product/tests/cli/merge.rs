//! `merge --dry-run` beyond the differential suite: it writes nothing, its human form, the
//! refusals kitty gives as a JSON document where the reference prints text or a traceback, and
//! the forms kitty hands to the reference.

use kitty_testkit::{IsolatedHome, MissionStage, RunOutput, StagedMission};

use crate::approve::{coord, handed};

fn merge(home: &IsolatedHome, m: &StagedMission, extra: &[&str]) -> RunOutput {
    home.command()
        .current_dir(m.repo.path())
        .args(["merge", "--mission", &m.slug])
        .args(extra)
        .run()
}

fn git_state(m: &StagedMission) -> String {
    let status = |dir: &std::path::Path| {
        let out = std::process::Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=all"])
            .current_dir(dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    format!(
        "{}\n--\n{}\n--\n{}",
        status(m.repo.path()),
        status(&coord(m)),
        m.repo.git(&["for-each-ref"])
    )
}

#[test]
fn a_dry_run_forecasts_every_lane_and_changes_nothing() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let before = git_state(&m);
    let out = merge(&home, &m, &["--dry-run", "--json"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/mission_slug", m.slug.as_str())
        .assert_eq("/strategy", "squash")
        .assert_eq("/push", false)
        .assert_eq("/would_assign_mission_number", 1)
        .assert_eq(
            "/mission_branch",
            format!("kitty/mission-{}", m.slug).as_str(),
        );
    let wps: Vec<&str> = doc
        .at("/lanes")
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["wp_ids"].as_array().unwrap())
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(wps, ["WP01", "WP02"], "{out}");
    assert_eq!(git_state(&m), before, "a forecast writes nothing");
}

#[test]
fn the_human_forecast_says_the_number_it_would_assign_then_prints_the_document() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = merge(&home, &m, &["--dry-run"]);
    out.assert_success();
    let mut lines = out.stdout().lines();
    assert_eq!(
        lines.next(),
        Some(format!("would assign mission_number=1 to mission {}", m.slug).as_str())
    );
    // The reference's own layout: Python's separators.
    let doc = lines.next().unwrap();
    assert!(doc.starts_with("{\"spec_kitty_version\": "), "{doc}");
    let parsed: serde_json::Value = serde_json::from_str(doc).unwrap();
    assert_eq!(parsed["mission_slug"], m.slug.as_str());
    assert_eq!(lines.next(), None, "{out}");
}

#[test]
fn refusals_the_reference_prints_as_text_or_a_traceback_are_json_documents_here() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let code = |out: &RunOutput, exit: i32, code: &str| {
        out.assert_code(exit)
            .json()
            .assert_eq("/error_code", code)
            .str("/error")
            .to_string()
    };
    // An unsafe handle (exit 2, as the reference's).
    let out = home
        .command()
        .current_dir(m.repo.path())
        .args(["merge", "--mission", "..x", "--dry-run", "--json"])
        .run();
    let e = code(&out, 2, "UNSAFE_MISSION_HANDLE");
    assert!(e.contains("must not contain '..'"), "{e}");
    // From inside a worktree: the primary checkout to change to.
    let out = home
        .command()
        .current_dir(coord(&m))
        .args(["merge", "--mission", &m.slug, "--dry-run", "--json"])
        .run();
    let e = code(&out, 1, "MERGE_FROM_WORKTREE");
    assert!(
        e.contains(&format!("  cd {}\n", m.repo.path().display())),
        "{e}"
    );
    // A merge strategy the config names but no merge knows.
    let config = m.repo.path().join(".kittify/config.yaml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{original}merge:\n  strategy: fast\n")).unwrap();
    let e = code(
        &merge(&home, &m, &["--dry-run", "--json"]),
        1,
        "MERGE_STRATEGY_INVALID",
    );
    assert!(e.starts_with("Invalid merge.strategy 'fast'"), "{e}");
    // The flag wins over the config.
    merge(&home, &m, &["--dry-run", "--json", "--strategy", "merge"])
        .assert_success()
        .json()
        .assert_eq("/strategy", "merge");
    std::fs::write(&config, original).unwrap();
    // A mission number that is no number.
    let meta = m.dir().join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["mission_number"] = "TBD".into();
    std::fs::write(&meta, v.to_string()).unwrap();
    let e = code(
        &merge(&home, &m, &["--dry-run", "--json"]),
        1,
        "MISSION_NUMBER_INVALID",
    );
    assert!(e.contains("'TBD'"), "{e}");
    std::fs::write(&meta, text).unwrap();
    // A status log with a broken line.
    let log = coord(&m).join(format!("kitty-specs/{}/status.events.jsonl", m.slug));
    let mut lines = std::fs::read_to_string(&log).unwrap();
    lines.push_str("{broken\n");
    std::fs::write(&log, lines).unwrap();
    let e = code(
        &merge(&home, &m, &["--dry-run", "--json"]),
        1,
        "STATUS_LOG_CORRUPT",
    );
    assert!(e.contains("status.events.jsonl"), "{e}");
}

#[test]
fn a_merge_a_resume_an_abort_and_a_skipped_gate_are_the_reference_s_to_run() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let before = git_state(&m);
    for extra in [
        &["--json"][..],
        &["--dry-run", "--json", "--resume"],
        &["--dry-run", "--json", "--abort"],
        &[
            "--dry-run",
            "--json",
            "--skip-review-artifact-check",
            "--note",
            "x",
        ],
    ] {
        handed(merge(&home, &m, extra));
    }
    assert_eq!(git_state(&m), before);
}

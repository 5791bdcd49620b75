//! `spec-kitty retrospect create`: a finished mission's record and its status line, the
//! refusals' codes, the status surface a coordinated mission is checked on, the auto-commit, and
//! what is left to the reference.

use kitty_testkit::{IsolatedHome, Repo, RunOutput};
use serde_json::{Value, json};

const SLUG: &str = "demo-01M91EKY";
const MID: &str = "01M91EKYBAA4XY7TBB9N2XES50";

/// A transition line of the status log.
fn moved(n: u32, wp: &str, from: &str, to: &str) -> String {
    json!({
        "actor": "claude", "at": format!("2026-12-05T10:00:{n:02}+00:00"),
        "event_id": format!("01KXCLI0000000000000000{n:03}"), "evidence": null,
        "execution_mode": "worktree", "force": false, "from_lane": from,
        "mission_slug": SLUG, "policy_metadata": null, "reason": null,
        "review_ref": null, "to_lane": to, "wp_id": wp,
    })
    .to_string()
        + "\n"
}

/// A repository on `feat/x` holding one mission with `meta` (merged over the basics) and the
/// status `log`, committed.
fn seeded(home: &IsolatedHome, meta: Value, log: &str) -> Repo {
    let repo = home.repo().branch("feat/x").build();
    let dir = repo.specs_dir().join(SLUG);
    std::fs::create_dir_all(dir.join("tasks")).unwrap();
    let mut m = json!({"mission_id": MID, "mission_slug": SLUG, "friendly_name": "demo", "mission_number": "7", "mission_type": " software-dev ", "target_branch": "feat/x"});
    if let (Value::Object(a), Value::Object(b)) = (&mut m, meta) {
        a.extend(b);
    }
    std::fs::write(dir.join("meta.json"), m.to_string()).unwrap();
    std::fs::write(dir.join("spec.md"), "# Spec\nFR-001\n").unwrap();
    std::fs::write(dir.join("tasks/WP01.md"), "FR-001\n").unwrap();
    std::fs::write(dir.join("status.events.jsonl"), log).unwrap();
    repo.git(&["add", "--all"]);
    repo.git(&["commit", "-q", "-m", "mission"]);
    repo
}

fn done_log() -> String {
    [
        moved(1, "WP01", "planned", "in_progress"),
        moved(2, "WP01", "in_progress", "planned"),
        moved(3, "WP01", "planned", "done"),
    ]
    .concat()
}

fn create(home: &IsolatedHome, repo: &Repo, extra: &[&str]) -> RunOutput {
    home.command()
        .current_dir(repo.path())
        .args(["retrospect", "create", "--mission", SLUG])
        .args(extra)
        .run()
}

fn log_lines(repo: &Repo) -> Vec<Value> {
    std::fs::read_to_string(repo.specs_dir().join(SLUG).join("status.events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_finished_mission_gets_its_record_its_captured_line_and_one_commit() {
    let home = IsolatedHome::new();
    let repo = seeded(&home, json!({}), &done_log());
    let out = create(&home, &repo, &["--json"]);
    out.assert_success();
    let record = repo.specs_dir().join(SLUG).join("retrospective.yaml");
    out.json()
        .assert_eq("/result", "success")
        .assert_eq("/mission_id", MID)
        .assert_eq("/findings_status", "has_findings")
        .assert_eq(
            "/counts",
            json!({"helped": 0, "not_helpful": 1, "gaps": 1, "proposals": 0, "evidence_refs": 5}),
        )
        .assert_eq("/record_path", record.display().to_string())
        .assert_eq("/policy_source/enabled", "<default>");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.starts_with("schema_version: 1\nmission_id: 01M91EKYBAA4XY7TBB9N2XES50\nmission_slug: demo-01M91EKY\nmission_number: 7\nfriendly_name: demo\nmission_type: software-dev\ntarget_branch: feat/x\ncreated_at: '"), "{text}");
    assert!(
        text.contains(
            "  summary: WP01 had 1 lane bounce(s) before approval\n  evidence_refs:\n  - e-005\n"
        ),
        "{text}"
    );
    assert!(text.contains("  kind: event_range\n  path: kitty-specs/demo-01M91EKY/status.events.jsonl\n  range: 01KXCLI0000000000000000002\n"), "{text}");
    assert!(
        text.ends_with("generator_version: '1.0'\nprovenance_history: []\n"),
        "{text}"
    );
    let last = log_lines(&repo).pop().unwrap();
    assert_eq!(last["type"], "RetrospectiveCaptured");
    assert_eq!(last["lamport"], 1);
    assert_eq!(last["evidence_ref_count"], 5);
    assert_eq!(
        last["actor"],
        json!({"display": "spec-kitty retrospect", "id": "cli", "kind": "human"})
    );
    assert_eq!(last["record_path"], record.display().to_string());
    assert_eq!(last["policy_source"].as_object().unwrap().len(), 15);
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]).trim(),
        "chore(retrospective): author retrospective for demo-01M91EKY"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]).trim(), "");
    // A second record is refused, naming the first; --overwrite replaces it and counts on.
    let again = create(&home, &repo, &["--json"]);
    again.assert_code(1);
    again
        .json()
        .assert_eq("/code", "RETROSPECTIVE_RECORD_EXISTS")
        .assert_eq("/record_path", record.display().to_string())
        .assert_eq("/exit_code", 1);
    create(&home, &repo, &["--overwrite"])
        .assert_success()
        .assert_stdout_contains("Retrospective authored");
    let lines = log_lines(&repo);
    assert_eq!(lines.last().unwrap()["lamport"], 2);
    assert_eq!(
        repo.git(&["log", "--format=%s"])
            .matches("chore(retrospective)")
            .count(),
        2
    );
}

#[test]
fn open_work_packages_are_refused_with_each_package_s_lane() {
    let home = IsolatedHome::new();
    let log = [
        moved(1, "WP02", "planned", "claimed"),
        moved(2, "WP01", "planned", "done"),
    ]
    .concat();
    let repo = seeded(&home, json!({}), &log);
    let out = create(&home, &repo, &["--json"]);
    out.assert_code(1);
    out.json()
        .assert_eq("/code", "MISSION_NOT_COMPLETED")
        .assert_eq("/open_wps", json!([{"wp_id": "WP02", "lane": "claimed"}]))
        .assert_eq("/blocked_reason", "Mission has WPs in non-terminal lanes: WP02 (claimed). Complete the mission before authoring a retrospective.");
    assert!(
        !repo
            .specs_dir()
            .join(SLUG)
            .join("retrospective.yaml")
            .exists()
    );
    let human = create(&home, &repo, &[]);
    human.assert_code(1);
    assert_eq!(human.stdout(), "");
    assert!(
        human
            .stderr()
            .contains("Error MISSION_NOT_COMPLETED: Mission has WPs"),
        "{human}"
    );
}

#[test]
fn a_coordinated_mission_is_checked_where_its_status_lives_and_is_not_committed() {
    let home = IsolatedHome::new();
    let open = moved(1, "WP01", "planned", "claimed");
    let coord = json!({"coordination_branch": "kitty/mission-demo-01M91EKY", "topology": "coord"});
    let repo = seeded(&home, coord, &open);
    // The branch exists but its worktree does not: the log there is absent, so nothing is open.
    repo.git(&["branch", "kitty/mission-demo-01M91EKY"]);
    create(&home, &repo, &["--json"]).assert_success();
    assert!(
        repo.git(&["status", "--porcelain"])
            .contains("retrospective.yaml")
    );
    // A materialized worktree without the mission's directory: the primary log is read.
    let wt = repo.path().join(".worktrees/demo-01M91EKY-coord");
    std::fs::create_dir_all(&wt).unwrap();
    create(&home, &repo, &["--json", "--overwrite"])
        .assert_code(1)
        .json()
        .assert_eq("/open_wps/0/lane", "claimed");
    // With the mission's directory there, its log is read.
    std::fs::create_dir_all(wt.join("kitty-specs").join(SLUG)).unwrap();
    std::fs::write(
        wt.join("kitty-specs")
            .join(SLUG)
            .join("status.events.jsonl"),
        moved(2, "WP01", "planned", "canceled"),
    )
    .unwrap();
    create(&home, &repo, &["--json", "--overwrite"]).assert_success();
    // The branch gone with its worktree: left to the reference (absent here).
    std::fs::remove_dir_all(&wt).unwrap();
    repo.git(&["branch", "-D", "kitty/mission-demo-01M91EKY"]);
    create(&home, &repo, &["--json", "--overwrite"])
        .assert_failure()
        .json()
        .assert_eq("/error_code", "reference_not_found");
}

#[test]
fn an_unknown_mission_is_blocked_and_a_directory_outside_any_project_is_an_error() {
    let home = IsolatedHome::new();
    let repo = seeded(&home, json!({}), "");
    let out = home
        .command()
        .current_dir(repo.path())
        .args(["retrospect", "create", "--mission", "nope", "--json"])
        .run();
    out.assert_code(1);
    out.json()
        .assert_eq("/code", "MISSION_NOT_FOUND")
        .assert_eq("/blocked_reason", "No mission found for handle 'nope'.");
    // A git repository without .kittify is a project with no missions, as in the reference.
    let plain = home.repo().name("plain").without_config().build();
    create(&home, &plain, &["--json"])
        .assert_code(1)
        .json()
        .assert_eq("/code", "MISSION_NOT_FOUND");
    let nowhere = home.path().join("not-a-repository");
    std::fs::create_dir_all(&nowhere).unwrap();
    let out = home
        .command()
        .current_dir(&nowhere)
        .args(["retrospect", "create", "--mission", SLUG, "--json"])
        .run();
    out.assert_code(1);
    out.json()
        .assert_eq("/error_code", "PROJECT_ROOT_UNRESOLVED");
}

#[test]
fn update_a_configured_policy_and_a_config_without_auto_commit_are_honoured() {
    let home = IsolatedHome::new();
    let repo = seeded(&home, json!({}), &done_log());
    let record = repo.specs_dir().join(SLUG).join("retrospective.yaml");
    for extra in [&["--update"][..], &[]] {
        let out = home
            .command()
            .current_dir(repo.path())
            .env("SPEC_KITTY_RETROSPECTIVE", "0")
            .args(["retrospect", "create", "--mission", SLUG, "--json"])
            .args(extra)
            .run();
        out.json().assert_eq("/error_code", "reference_not_found");
        assert!(!record.exists());
    }
    let config = repo.path().join(".kittify/config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}retrospective:\n  enabled: false\n")).unwrap();
    create(&home, &repo, &["--json"])
        .json()
        .assert_eq("/error_code", "reference_not_found");
    std::fs::create_dir_all(repo.path().join(".kittify/charter")).unwrap();
    std::fs::write(
        &config,
        text.replace("auto_commit: true", "auto_commit: false"),
    )
    .unwrap();
    std::fs::write(
        repo.path().join(".kittify/charter/charter.md"),
        "# Charter\n",
    )
    .unwrap();
    create(&home, &repo, &["--json"]).assert_success();
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]).trim(), "mission");
    std::fs::write(
        repo.path().join(".kittify/charter/charter.yaml"),
        "governance:\n  Retrospective: {}\n",
    )
    .unwrap();
    create(&home, &repo, &["--json", "--overwrite"])
        .json()
        .assert_eq("/error_code", "reference_not_found");
}

#[test]
fn overwrite_and_update_together_are_a_usage_error() {
    let home = IsolatedHome::new();
    let repo = seeded(&home, json!({}), "");
    create(&home, &repo, &["--overwrite", "--update"]).assert_code(2);
}

#[test]
fn a_legacy_record_blocks_and_a_directory_without_identity_is_the_reference_s() {
    let home = IsolatedHome::new();
    let repo = seeded(&home, json!({}), &done_log());
    let legacy = repo
        .path()
        .join(".kittify/missions")
        .join(MID)
        .join("retrospective.yaml");
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    std::fs::write(&legacy, "schema_version: 1\n").unwrap();
    let out = create(&home, &repo, &["--json"]);
    out.assert_code(1);
    out.json()
        .assert_eq("/code", "RETROSPECTIVE_RECORD_EXISTS")
        .assert_eq("/record_path", legacy.display().to_string());
    std::fs::create_dir_all(repo.specs_dir().join("bare")).unwrap();
    let bare = home
        .command()
        .current_dir(repo.path())
        .args(["retrospect", "create", "--mission", "bare", "--json"])
        .run();
    bare.json().assert_eq("/error_code", "reference_not_found");
}

//! `agent mission acceptance-verdict` with kitty alone: the row it records, the matrix's verdict,
//! the commit on the coordination branch (and none for a repeat), its refusals, and what it
//! hands to the reference.

use kitty_testkit::{IsolatedHome, MissionStage, StagedMission};
use serde_json::Value;

fn matrix_path(m: &StagedMission) -> std::path::PathBuf {
    m.repo.path().join(format!(
        ".worktrees/{0}-coord/kitty-specs/{0}/acceptance-matrix.json",
        m.slug
    ))
}

fn matrix(m: &StagedMission) -> Value {
    serde_json::from_str(&std::fs::read_to_string(matrix_path(m)).unwrap()).unwrap()
}

fn verdict(home: &IsolatedHome, m: &StagedMission, args: &[&str]) -> kitty_testkit::RunOutput {
    home.command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args([
            "agent",
            "mission",
            "acceptance-verdict",
            "--mission",
            &m.slug,
        ])
        .args(args)
        .arg("--json")
        .run()
}

fn coord_subjects(m: &StagedMission) -> String {
    m.repo
        .git(&["log", "--format=%s", &format!("kitty/mission-{}", m.slug)])
}

#[test]
fn a_verdict_is_recorded_committed_once_and_passes_the_matrix_when_every_criterion_passes() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let out = verdict(&home, &m, &["--criterion", "FR-001", "--result", "pass"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/success", true)
        .assert_eq("/criterion", "FR-001")
        .assert_eq("/result", "pass")
        .assert_eq("/overall_verdict", "pending")
        .assert_eq("/write_status", "committed")
        .assert_eq("/destination_surface", format!("kitty/mission-{}", m.slug));
    assert_eq!(doc.str("/commit_hash").len(), 40, "{out}");
    let row = &matrix(&m)["criteria"][0];
    assert_eq!(
        (row["criterion_id"].as_str(), row["pass_fail"].as_str()),
        (Some("FR-001"), Some("pass"))
    );
    assert!(
        row["verified_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+00:00")),
        "{row}"
    );
    assert_eq!(matrix(&m)["overall_verdict"], "pending");
    let subject = format!("chore(acceptance): record FR-001=pass for {}", m.slug);
    assert_eq!(coord_subjects(&m).lines().next(), Some(subject.as_str()));
    // The same verdict again: nothing changes, nothing is committed.
    let before = std::fs::read(matrix_path(&m)).unwrap();
    verdict(&home, &m, &["--criterion", "FR-001", "--result", "pass"])
        .assert_success()
        .json()
        .assert_eq("/write_status", "unchanged")
        .assert_eq("/commit_hash", Value::Null);
    assert_eq!(std::fs::read(matrix_path(&m)).unwrap(), before);
    assert_eq!(
        coord_subjects(&m).lines().filter(|s| *s == subject).count(),
        1
    );
    verdict(&home, &m, &["--criterion", "FR-002", "--result", "pass"])
        .assert_success()
        .json()
        .assert_eq("/overall_verdict", "pass");
    assert_eq!(matrix(&m)["overall_verdict"], "pass");
}

#[test]
fn a_failed_criterion_fails_the_matrix_and_the_flags_fill_its_row() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let out = home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(m.repo.path())
        .args([
            "agent",
            "mission",
            "acceptance-verdict",
            "--mission",
            &m.slug,
        ])
        .args([
            "--criterion",
            "FR-002",
            "--result",
            "fail",
            "--actor",
            "claude",
        ])
        .args([
            "--evidence",
            "ci/run/7",
            "--verification-method",
            "manual_qa",
        ])
        .run();
    out.assert_success();
    assert_eq!(
        out.stdout(),
        format!(
            "\u{2713} FR-002=fail recorded for {} (overall_verdict=fail, write=committed)\n",
            m.slug
        )
    );
    let row = &matrix(&m)["criteria"][1];
    for (key, want) in [
        ("pass_fail", "fail"),
        ("verified_by", "claude"),
        ("evidence", "ci/run/7"),
        ("proof_type", "manual_qa"),
    ] {
        assert_eq!(row[key], want, "{key}: {row}");
    }
    assert_eq!(matrix(&m)["overall_verdict"], "fail");
    // The other row is untouched.
    assert_eq!(matrix(&m)["criteria"][0]["verified_at"], Value::Null);
}

#[test]
fn bad_flags_unknown_criteria_and_a_missing_matrix_are_refused_and_nothing_is_written() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    let before = std::fs::read(matrix_path(&m)).unwrap();
    let refused = |args: &[&str], code: i32, error_code: &str, words: &str| {
        let out = verdict(&home, &m, args);
        let doc = out.assert_code(code).json();
        doc.assert_eq("/success", false)
            .assert_eq("/error_code", error_code);
        assert!(doc.str("/error").contains(words), "{out}");
    };
    refused(
        &[],
        2,
        "MISSING_OPTION",
        "one of --criterion or --negative-invariant",
    );
    refused(
        &["--criterion", "FR-001", "--negative-invariant", "NI-1"],
        2,
        "CONFLICTING_OPTIONS",
        "mutually exclusive",
    );
    refused(
        &["--criterion", "FR-001"],
        2,
        "MISSING_OPTION",
        "--result is required",
    );
    refused(
        &["--criterion", "FR-001", "--result", "ok"],
        2,
        "INVALID_RESULT",
        "one of fail, pass, pending; got 'ok'",
    );
    refused(
        &["--negative-invariant", "NI-1"],
        2,
        "MISSING_OPTION",
        "--description is required",
    );
    refused(
        &["--negative-invariant", "NI-1", "--description", "d"],
        2,
        "MISSING_OPTION",
        "--verification-method is required",
    );
    refused(
        &["--criterion", "FR-009", "--result", "pass"],
        1,
        "UNKNOWN_CRITERION",
        "Available criteria: FR-001, FR-002",
    );
    assert_eq!(std::fs::read(matrix_path(&m)).unwrap(), before);
    std::fs::remove_file(matrix_path(&m)).unwrap();
    refused(
        &["--criterion", "FR-001", "--result", "pass"],
        1,
        "ACCEPTANCE_MATRIX_MISSING",
        "finalize-tasks",
    );
}

#[test]
fn a_negative_invariant_and_a_matrix_holding_one_are_handed_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    verdict(
        &home,
        &m,
        &[
            "--negative-invariant",
            "NI-1",
            "--description",
            "d",
            "--verification-method",
            "grep_absence",
        ],
    )
    .assert_code(1)
    .json()
    .assert_eq("/error_code", "reference_not_found");
    let mut doc = matrix(&m);
    doc["negative_invariants"] = serde_json::json!([{"invariant_id": "NI-1"}]);
    std::fs::write(matrix_path(&m), doc.to_string()).unwrap();
    verdict(&home, &m, &["--criterion", "FR-001", "--result", "pass"])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
}

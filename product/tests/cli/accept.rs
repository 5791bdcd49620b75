//! `agent mission accept` and `accept` beyond the differential suite: the recorded acceptance
//! and its commits, a crash between the meta.json write and its commit repaired by the next run,
//! the refusals (their findings, the error logged with sync on, exit codes), the diagnosis that
//! writes nothing, the verdict copy that is not work, and the input kitty hands to the reference.

#[cfg(unix)]
use kitty_testkit::EventContract;
use std::path::Path;

use kitty_testkit::{FakeSaas, IsolatedHome, KittyCommand, MissionStage, RunOutput, StagedMission};
use serde_json::Value;

use crate::approve::{coord, handed, in_review, kitty, mv};

/// A two-package mission (its worktrees ignored, as `init` has it) with both packages claimed by
/// `claude`, reviewed and approved.
fn approved(home: &IsolatedHome) -> StagedMission {
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    ignore_worktrees(&m);
    for (wp, subtask) in [("WP01", "T001"), ("WP02", "T002")] {
        mv(home, &m, wp, "in_progress", &["--agent", "claude"]).assert_success();
        in_review(home, &m, wp, subtask);
        mv(home, &m, wp, "approved", &[]).assert_success();
    }
    m
}

/// And every acceptance criterion passed, the software-dev layout committed.
fn ready(home: &IsolatedHome) -> StagedMission {
    let m = passed(home);
    let contracts = format!("kitty-specs/{}/contracts", m.slug);
    for d in ["src", "tests", "docs", contracts.as_str()] {
        std::fs::create_dir_all(m.repo.path().join(d)).unwrap();
        std::fs::write(m.repo.path().join(d).join(".keep"), "").unwrap();
        m.repo.git(&["add", d]);
    }
    m.repo.git(&["commit", "-q", "-m", "layout"]);
    m
}

/// Approved, and every acceptance criterion passed (the project's own layout: none of the
/// software-dev paths).
fn passed(home: &IsolatedHome) -> StagedMission {
    let m = approved(home);
    let matrix: Value = serde_json::from_str(
        &std::fs::read_to_string(
            coord(&m).join(format!("kitty-specs/{}/acceptance-matrix.json", m.slug)),
        )
        .unwrap(),
    )
    .unwrap();
    for c in matrix["criteria"].as_array().unwrap() {
        kitty(
            home,
            &m,
            &[
                "agent",
                "mission",
                "acceptance-verdict",
                "--criterion",
                c["criterion_id"].as_str().unwrap(),
                "--result",
                "pass",
            ],
        )
        .assert_success();
    }
    m
}

/// The first lane of lanes.json also writes `path` (committed, as finalize-tasks would have
/// computed it from a package owning it).
fn lane_a_writes(m: &StagedMission, path: &str) -> String {
    let file = m.dir().join("lanes.json");
    let mut lanes: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let lane = &mut lanes["lanes"][0];
    lane["write_scope"]
        .as_array_mut()
        .unwrap()
        .push(path.into());
    let id = lane["lane_id"].as_str().unwrap().to_string();
    std::fs::write(&file, serde_json::to_string_pretty(&lanes).unwrap() + "\n").unwrap();
    m.repo
        .git(&["commit", "-q", "-am", "lane a writes under the convention"]);
    id
}

fn ignore_worktrees(m: &StagedMission) {
    let path = m.repo.path().join(".gitignore");
    let before = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, format!("{before}.worktrees/\n")).unwrap();
    m.repo.git(&["add", ".gitignore"]);
    m.repo.git(&["commit", "-q", "-m", "ignore worktrees"]);
}

fn accept(home: &IsolatedHome, m: &StagedMission, extra: &[&str]) -> RunOutput {
    accept_by(home.command(), m.repo.path(), m, AGENT_FORM, extra)
}

/// `agent mission accept`, the form agents run; `accept` is the top-level one.
const AGENT_FORM: &[&str] = &["agent", "mission", "accept"];

/// `form ... extra --mission M --json` run by `cmd` (a home's command with the case's own
/// environment) from `dir`.
fn accept_by(
    cmd: KittyCommand,
    dir: &Path,
    m: &StagedMission,
    form: &[&str],
    extra: &[&str],
) -> RunOutput {
    cmd.current_dir(dir)
        .args(form)
        .args(extra)
        .args(["--mission", &m.slug, "--json"])
        .run()
}

fn subjects(m: &StagedMission, n: usize) -> Vec<String> {
    m.repo
        .git(&["log", "--format=%s", &format!("-{n}")])
        .lines()
        .map(str::to_string)
        .collect()
}

fn meta(m: &StagedMission) -> Value {
    serde_json::from_str(&std::fs::read_to_string(m.dir().join("meta.json")).unwrap()).unwrap()
}

#[test]
fn a_ready_mission_is_accepted_in_three_commits_and_meta_json_records_who_when_and_from_where() {
    let home = IsolatedHome::new();
    let m = ready(&home);
    let parent = m.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let out = accept(&home, &m, &[]);
    let doc = out.assert_success().json();
    doc.assert_eq("/commit_created", true)
        .assert_eq("/mode", "local")
        .assert_eq("/parent_commit", parent.as_str())
        .assert_eq("/summary/ok", true)
        .assert_eq("/approved_wps/1", "WP02")
        .assert_eq("/merge_pending_wps/0", "WP01");
    let slug = &m.slug;
    assert_eq!(
        subjects(&m, 3),
        [
            format!("Finalize acceptance artifacts for {slug}"),
            format!("Record acceptance commit for {slug}"),
            format!("Accept {slug}"),
        ]
    );
    let accept_commit = doc.str("/accept_commit");
    assert_eq!(
        m.repo.git(&["rev-parse", "HEAD~2"]).trim(),
        accept_commit,
        "{out}"
    );
    let meta = meta(&m);
    assert_eq!(meta["accept_commit"], accept_commit);
    assert_eq!(meta["accepted_from_commit"], parent.as_str());
    assert_eq!(meta["acceptance_mode"], "local");
    assert_eq!(meta["status_phase"], "1");
    assert_eq!(meta["acceptance_history"].as_array().unwrap().len(), 1);
    assert_eq!(
        meta["acceptance_history"][0]["accept_commit"],
        accept_commit
    );
    assert!(
        m.repo
            .git(&["status", "--porcelain", "--untracked-files=no"])
            .trim()
            .is_empty(),
        "everything recorded is committed"
    );
    // Again, top-level, with an actor, a validation command and a remote (pr mode): the
    // history grows, two commits (the stamp is already there).
    m.repo
        .git(&["remote", "add", "origin", "https://example.invalid/x.git"]);
    let again = accept_by(
        home.command(),
        m.repo.path(),
        &m,
        &["accept"],
        &["--actor", " bob ", "--test", "make check"],
    );
    let doc = again.assert_success().json();
    doc.assert_eq("/accepted_by", "bob")
        .assert_eq("/mode", "pr");
    assert_eq!(
        doc.at("/notes").as_array().unwrap().last().unwrap(),
        "  - make check"
    );
    assert_eq!(
        doc.at("/instructions/0"),
        &Value::String(
            "Acceptance recorded on integration branch `feat/work`. Push and open a pull request if needed."
                .into()
        )
    );
    assert_eq!(
        subjects(&m, 2),
        [
            format!("Record acceptance commit for {slug}"),
            format!("Accept {slug}"),
        ]
    );
    assert_eq!(
        self::meta(&m)["acceptance_history"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_acceptance_killed_before_its_commit_is_recorded_by_the_next_one() {
    let home = IsolatedHome::new();
    let m = ready(&home);
    // The state a kill -9 between the meta.json write and the commit leaves: meta.json written,
    // not committed. It is not uncommitted work to the next accept, which records it.
    let path = m.dir().join("meta.json");
    let mut v = meta(&m);
    v["accepted_by"] = "interrupted".into();
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    let out = accept(&home, &m, &[]);
    out.assert_success()
        .json()
        .assert_eq("/summary/git_dirty", serde_json::json!([]));
    assert_eq!(meta(&m)["accepted_by"], "system");
    assert!(
        m.repo
            .git(&["status", "--porcelain", "--untracked-files=no"])
            .trim()
            .is_empty(),
        "everything recorded is committed"
    );
}

#[test]
fn no_commit_and_checklist_record_nothing_and_the_diagnosis_writes_nothing_at_all() {
    let home = IsolatedHome::new();
    let m = ready(&home);
    let head = m.repo.git(&["rev-parse", "HEAD"]);
    accept(&home, &m, &["--no-commit"])
        .assert_success()
        .json()
        .assert_eq("/commit_created", false)
        .assert_eq("/accept_commit", Value::Null)
        .assert_eq("/parent_commit", Value::Null)
        .assert_eq("/notes", serde_json::json!([]));
    let checklist = accept(&home, &m, &["--mode", "CHECKLIST"]);
    checklist
        .assert_success()
        .json()
        .assert_eq("/ok", true)
        .assert_eq("/accepted_wps/0", "WP01");
    assert!(
        checklist.json().value().get("error_code").is_none(),
        "{checklist}"
    );
    // Who accepts: --actor, else $USER, else $USERNAME (an empty one skipped), else system.
    for (env, who) in [
        (&[("USER", "ann")][..], "ann"),
        (&[("USER", ""), ("USERNAME", "bo")][..], "bo"),
        (&[("USER", ""), ("USERNAME", "")][..], "system"),
    ] {
        let mut cmd = home.command();
        for (k, v) in env {
            cmd = cmd.env(*k, *v);
        }
        accept_by(cmd, m.repo.path(), &m, AGENT_FORM, &["--no-commit"])
            .assert_success()
            .json()
            .assert_eq("/accepted_by", who);
    }
    // From a subdirectory: the reference reads it as the checkout to remove after the merge.
    let sub = accept_by(
        home.command(),
        &m.repo.path().join("src"),
        &m,
        AGENT_FORM,
        &["--no-commit"],
    );
    sub.assert_success().json().assert_eq(
        "/cleanup_instructions/0",
        format!(
            "After merging, remove the worktree: `git worktree remove {}`",
            std::fs::canonicalize(m.repo.path()).unwrap().display()
        )
        .as_str(),
    );
    let diag = accept(&home, &m, &["--diagnose"]);
    diag.assert_success().json().assert_eq("/diagnose", true);
    assert_eq!(
        m.repo.git(&["rev-parse", "HEAD"]),
        head,
        "nothing committed"
    );
    assert!(meta(&m).get("accepted_at").is_none());
    // Human form.
    let human = home
        .command()
        .current_dir(m.repo.path())
        .args([
            "agent",
            "mission",
            "accept",
            "--mission",
            &m.slug,
            "--no-commit",
        ])
        .run();
    assert!(
        human
            .assert_success()
            .stdout()
            .contains(&format!("Mission {} accepted (local).", m.slug)),
        "{human}"
    );
}

#[test]
fn a_mission_not_ready_is_refused_with_each_finding_and_its_fix_and_the_error_is_logged() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = approved(&home);
    // A lane writes under src/, which no branch holds: the missing layout blocks.
    lane_a_writes(&m, "src/part1/main.rs");
    // The matrix is pending, the layout is missing, and a note sits beside a verdict's copy in
    // its review directory (the copy alone is not work).
    let review_dir = m.dir().join("tasks/WP01-part-1");
    assert!(
        review_dir.join("review-cycle-1.md").is_file(),
        "the verdict's copy"
    );
    // A matrix another tool wrote compactly: a diagnosis leaves it, a check rewrites it in the
    // reference's layout (uncommitted, as the reference leaves it on a refusal).
    let matrix = coord(&m).join(format!("kitty-specs/{}/acceptance-matrix.json", m.slug));
    let compact = serde_json::from_str::<Value>(&std::fs::read_to_string(&matrix).unwrap())
        .unwrap()
        .to_string();
    std::fs::write(&matrix, &compact).unwrap();
    accept(&home, &m, &["--diagnose"]).assert_success();
    assert_eq!(std::fs::read_to_string(&matrix).unwrap(), compact);
    let before = saas.received_events().len();
    let clean = accept(&home, &m, &[]);
    assert!(
        std::fs::read_to_string(&matrix)
            .unwrap()
            .starts_with("{\n  \"mission_slug\""),
        "rewritten"
    );
    let doc = clean.assert_code(1).json();
    accept(&home, &m, &["--mode", "checklist"])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "ACCEPTANCE_CHECKS_FAILED");
    doc.assert_eq("/ok", false)
        .assert_eq("/all_done", true)
        .assert_eq("/error_code", "ACCEPTANCE_CHECKS_FAILED")
        .assert_eq("/git_dirty", serde_json::json!([]));
    let fixes: Vec<&str> = doc
        .at("/recommended_fix_order")
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        fixes,
        [
            "Resolve pending or failing acceptance matrix criteria and negative invariants.",
            "Fix mission path convention violations."
        ]
    );
    assert!(
        doc.str("/path_violations/0")
            .contains("Software Dev Kitty expects workspace path: src/ (not found)"),
        "{clean}"
    );
    // Strict: contracts/ is a missing path, not also a missing optional artifact.
    let optional = |d: &kitty_testkit::JsonDoc| -> Vec<String> {
        d.at("/optional_missing")
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let strict_optional = optional(&doc);
    assert_eq!(
        doc.str("/warnings/0"),
        format!("Optional artifacts missing: {}", strict_optional.join(", "))
    );
    assert!(
        strict_optional.contains(&"data-model.md".to_string()),
        "{clean}"
    );
    assert!(
        !strict_optional.contains(&"contracts".to_string()),
        "{clean}"
    );
    assert!(
        !strict_optional.contains(&"checklists".to_string())
            || !m.dir().join("checklists").exists()
    );
    let logged = saas.received_events_of("ErrorLogged", before);
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert_eq!(
        logged[0]["payload"],
        serde_json::json!({"error_type": "runtime", "error_message": "Outstanding acceptance issues detected"})
    );
    assert_eq!(logged[0]["aggregate_id"], "error");
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
    // Human form: the findings, then the reference's closing sentence.
    let human = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "mission", "accept", "--mission", &m.slug])
        .run();
    let text = human.assert_code(1).stdout().to_string();
    assert!(
        text.starts_with(&format!(
            "Acceptance of {}: not ready\n  approved: WP01, WP02\n",
            m.slug
        )),
        "{text}"
    );
    assert!(
        text.contains("  [path_violations] Path Convention Errors:"),
        "{text}"
    );
    assert!(text.contains("  1. Resolve pending or failing"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("rerun with --allow-fail for a checklist-only report."),
        "{text}"
    );
    std::fs::write(review_dir.join("notes.md"), "mine").unwrap();
    let dirty = accept(&home, &m, &["--lenient"]);
    dirty
        .assert_code(1)
        .json()
        .assert_eq(
            "/git_dirty/0",
            format!("?? kitty-specs/{}/tasks/WP01-part-1/", m.slug).as_str(),
        )
        .assert_eq("/path_violations", serde_json::json!([]))
        .assert_eq("/optional_missing/1", "contracts")
        .assert_eq(
            "/recommended_fix_order/0",
            "Commit, stash, or discard working tree changes before acceptance.",
        );
    // --allow-fail: the same refusal, nothing logged.
    let before = saas.received_events().len();
    accept_by(
        home.command(),
        m.repo.path(),
        &m,
        &["accept"],
        &["--allow-fail"],
    )
    .assert_code(1);
    assert!(saas.received_events_of("ErrorLogged", before).is_empty());
}

/// The software-dev paths (src/, tests/, docs/, contracts/) are the mission type's defaults: a
/// project none of whose lanes writes under them is told (the reference's `--lenient` warning),
/// not refused (the reference refuses until its users pass `--lenient`: W5).
#[test]
fn path_conventions_no_lane_writes_under_are_advice_and_the_mission_is_accepted_without_lenient() {
    let home = IsolatedHome::new();
    let m = passed(&home);
    let out = accept(&home, &m, &["--no-commit"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/summary/ok", true)
        .assert_eq("/summary/path_violations", serde_json::json!([]));
    let warnings = doc.at("/summary/warnings").as_array().unwrap();
    let paths = warnings
        .iter()
        .filter_map(Value::as_str)
        .find(|w| w.starts_with("Path Convention Warnings:"))
        .unwrap_or_else(|| panic!("no path warning: {out}"));
    assert!(
        paths.contains("Software Dev Kitty expects workspace path: src/ (not found)"),
        "{paths}"
    );
    assert!(paths.contains("  - mkdir -p docs/"), "{paths}");
    let lenient = accept(&home, &m, &["--no-commit", "--lenient"])
        .assert_success()
        .json();
    assert_eq!(
        lenient.at("/summary"),
        doc.at("/summary"),
        "the same as --lenient"
    );
}

/// A lane that writes under a convention path makes it required: refused while no branch of the
/// mission (the checkout's, the mission branch, a lane branch) holds it, accepted once the lane's
/// branch does, before any merge.
#[test]
fn a_path_convention_a_lane_writes_under_blocks_until_a_branch_of_the_mission_holds_it() {
    let home = IsolatedHome::new();
    let m = passed(&home);
    let lane = lane_a_writes(&m, "tests/test_part1.sh");
    let refused = accept(&home, &m, &[]);
    let doc = refused.assert_code(1).json();
    doc.assert_eq("/error_code", "ACCEPTANCE_CHECKS_FAILED");
    let violation = doc.str("/path_violations/0");
    assert!(
        violation.starts_with("Path Convention Errors:")
            && violation.contains("expects tests path: tests/ (not found)"),
        "{refused}"
    );
    assert_eq!(meta(&m).get("accepted_by"), None, "nothing recorded");
    // The lane's branch holds tests/ (its work, not yet merged).
    let branch = format!("kitty/mission-{}-{lane}", m.slug);
    m.repo.git(&["checkout", "-q", "-b", &branch]);
    std::fs::create_dir_all(m.repo.path().join("tests")).unwrap();
    std::fs::write(m.repo.path().join("tests/test_part1.sh"), "echo ok\n").unwrap();
    m.repo.git(&["add", "tests"]);
    m.repo.git(&["commit", "-q", "-m", "lane work"]);
    m.repo.git(&["checkout", "-q", "feat/work"]);
    assert!(!m.repo.path().join("tests").exists(), "not in the checkout");
    accept(&home, &m, &[])
        .assert_success()
        .json()
        .assert_eq("/summary/path_violations", serde_json::json!([]));
}

#[test]
fn packages_not_yet_approved_are_named_with_their_lane_and_missing_metadata() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    ignore_worktrees(&m);
    mv(&home, &m, "WP01", "in_progress", &["--agent", "claude"]).assert_success();
    let out = accept(&home, &m, &[]);
    let doc = out.assert_code(1).json();
    doc.assert_eq("/all_done", false)
        .assert_eq("/lanes/in_progress/0", "WP01")
        .assert_eq("/lanes/planned/0", "WP02")
        .assert_eq("/failed_checks/0/check", "not_done")
        .assert_eq("/failed_checks/0/detail", "WP02");
    let metadata: Vec<&str> = doc
        .at("/metadata_issues")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        metadata,
        [
            "WP01: missing assignee in canonical runtime state",
            "WP01: missing shell_pid in canonical runtime state",
            "WP02: missing agent in canonical runtime state",
        ]
    );
    assert!(
        doc.at("/activity_issues")
            .as_array()
            .unwrap()
            .contains(&Value::String(
                "WP01: canonical lane is 'in_progress', expected 'approved' or 'done'".into()
            )),
        "{out}"
    );
    // Lenient: no metadata findings.
    accept(&home, &m, &["--lenient"])
        .assert_code(1)
        .json()
        .assert_eq("/metadata_issues", serde_json::json!([]));
}

#[test]
fn without_a_mission_or_with_an_unknown_one_the_document_says_so_with_exit_2() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "mission", "accept", "--json"])
        .run()
        .assert_code(2)
        .json()
        .assert_eq("/error", "--mission <slug> is required")
        .assert_eq("/error_code", "MISSION_REQUIRED");
    let unknown = home
        .command()
        .current_dir(m.repo.path())
        .args(["agent", "mission", "accept", "--mission", "nosuch"])
        .run();
    assert!(
        unknown
            .assert_code(2)
            .stdout()
            .contains("No mission found for handle \"nosuch\""),
        "{unknown}"
    );
    let outside = home.work_dir().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    home.command()
        .current_dir(&outside)
        .args(["agent", "mission", "accept", "--mission", "x", "--json"])
        .run()
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "PROJECT_ROOT_NOT_FOUND");
    // No tasks directory: the reference's error, logged.
    std::fs::remove_dir_all(m.dir().join("tasks")).unwrap();
    accept(&home, &m, &[])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "TASKS_DIR_MISSING");
}

#[test]
fn input_kitty_does_not_model_goes_to_the_reference() {
    let home = IsolatedHome::new();
    let m = ready(&home);
    // The repair the top-level command offers.
    handed(accept_by(
        home.command(),
        m.repo.path(),
        &m,
        &["accept"],
        &["--normalize-encoding"],
    ));
    // A planning file that is not UTF-8.
    let spec = m.dir().join("spec.md");
    let text = std::fs::read(&spec).unwrap();
    std::fs::write(&spec, [text.as_slice(), b"\x93quoted\x94\n"].concat()).unwrap();
    handed(accept(&home, &m, &[]));
    std::fs::write(&spec, &text).unwrap();
    // Runtime state in a package's frontmatter the reference would seed into the log.
    let wp = m.dir().join("tasks/WP01-part-1.md");
    let original = std::fs::read_to_string(&wp).unwrap();
    std::fs::write(
        &wp,
        original.replacen("---\n", "---\nassignee: \"ann\"\n", 1),
    )
    .unwrap();
    m.repo.git(&["commit", "-qam", "assignee"]);
    handed(accept(&home, &m, &[]));
    // ...which does not matter when nothing is recorded.
    accept(&home, &m, &["--no-commit"]).assert_success();
    std::fs::write(&wp, &original).unwrap();
    m.repo.git(&["commit", "-qam", "no assignee"]);
    // A protected branch (only when the acceptance would be committed there).
    let config = m.repo.path().join(".kittify/config.yaml");
    let before = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{before}protection:\n  protected_branches: [feat/work]\n"),
    )
    .unwrap();
    m.repo.git(&["commit", "-qam", "protect"]);
    handed(accept(&home, &m, &[]));
    accept(&home, &m, &["--diagnose"]).assert_success();
    // Another branch than the mission's target.
    m.repo.git(&["switch", "-q", "-c", "other"]);
    handed(accept(&home, &m, &["--diagnose"]));
}

#[test]
fn the_mission_number_is_read_as_a_number_from_a_number_or_its_text() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let path = m.dir().join("meta.json");
    let original = std::fs::read_to_string(&path).unwrap();
    for (stored, read) in [
        (serde_json::json!(7), serde_json::json!(7)),
        (serde_json::json!("042"), serde_json::json!(42)),
        (serde_json::json!("n/a"), Value::Null),
        (Value::Null, Value::Null),
    ] {
        let mut v: Value = serde_json::from_str(&original).unwrap();
        v["mission_number"] = stored;
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        accept(&home, &m, &["--diagnose"])
            .assert_success()
            .json()
            .assert_eq("/mission_number", read);
    }
}

#[test]
fn missions_and_projects_kitty_does_not_model_go_to_the_reference_even_for_a_diagnosis() {
    let home = IsolatedHome::new();
    let m = approved(&home);
    let diagnose = || accept(&home, &m, &["--diagnose"]);
    diagnose().assert_success();
    let edit = |path: std::path::PathBuf, change: &dyn Fn(String) -> String| {
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, change(before.clone())).unwrap();
        before
    };
    let undo = |path: std::path::PathBuf, before: String| std::fs::write(path, before).unwrap();
    // Another mission type.
    let meta_path = m.dir().join("meta.json");
    let before = edit(meta_path.clone(), &|t| {
        t.replace("\"software-dev\"", "\"research\"")
    });
    handed(diagnose());
    undo(meta_path, before);
    // The project's own path conventions, and its own missions.
    let config = m.repo.path().join(".kittify/config.yaml");
    let before = edit(config.clone(), &|t| {
        format!("{t}project:\n  path_conventions:\n    workspace: lib/\n")
    });
    handed(diagnose());
    undo(config, before);
    let missions = m.repo.path().join(".kittify/missions");
    std::fs::create_dir_all(&missions).unwrap();
    handed(diagnose());
    std::fs::remove_dir_all(&missions).unwrap();
    // A pre-3.0 lane directory.
    let legacy = m.dir().join("tasks/planned/WP09.md");
    edit(legacy.clone(), &|_| "---\n---\n".into());
    handed(diagnose());
    std::fs::remove_dir_all(legacy.parent().unwrap()).unwrap();
    // A review-cycle file carrying a verdict in its frontmatter.
    let cycle = m.dir().join("tasks/WP01-part-1/review-cycle-1.md");
    let before = edit(cycle.clone(), &|t| {
        t.replacen("---\n", "---\nverdict: approved\n", 1)
    });
    handed(diagnose());
    undo(cycle, before);
    // ...but not another file of the review directory carrying one.
    let notes = m.dir().join("tasks/WP01-part-1/notes.md");
    edit(notes.clone(), &|_| "---\nverdict: approved\n---\n".into());
    diagnose().assert_success();
    std::fs::remove_file(&notes).unwrap();
    // A work package file that is not UTF-8.
    let wp = m.dir().join("tasks/WP02-part-2.md");
    let text = std::fs::read(&wp).unwrap();
    std::fs::write(&wp, [text.as_slice(), b"\x93\n"].concat()).unwrap();
    handed(diagnose());
    std::fs::write(&wp, &text).unwrap();
    // A mission directory without an identity.
    std::fs::create_dir_all(m.repo.path().join("kitty-specs/bare")).unwrap();
    let mut a = vec![
        "agent",
        "mission",
        "accept",
        "--diagnose",
        "--json",
        "--mission",
        "bare",
    ];
    handed(home.command().current_dir(m.repo.path()).args(&a).run());
    a.pop();
    a.push("nosuch");
    home.command()
        .current_dir(m.repo.path())
        .args(&a)
        .run()
        .assert_code(2)
        .json()
        .assert_eq("/error", "mission_not_found");
    diagnose().assert_success();
}

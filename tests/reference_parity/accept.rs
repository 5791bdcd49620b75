//! `agent mission accept` and `accept`, through kitty and through the reference on the same
//! coordinated mission with both work packages approved: the refusals (the summary document, its
//! checks and fixes), the diagnosis, the checklist-free `--no-commit` pass and the recorded
//! acceptance (meta.json, the commits), compared document, files, commits and events; each
//! refusal's sentence compared word for word.

use crate::execution::{finalized, kitty_on_both, mark, mv};
use crate::finalize::{SLUG, as_is};
use crate::harness::{Side, assert_parity, run_both};
use kitty_testkit::RunOutput;

/// Both sides finalized with WP01 and WP02 approved (each reviewed in one cycle).
fn approved() -> (Side, Side) {
    let (k, r) = finalized("coord", as_is);
    for (wp, subtasks) in [("WP01", ["T001", "T002"]), ("WP02", ["T003", "T004"])] {
        kitty_on_both(&k, &r, &mv(wp, "in_progress", &["--agent", "claude"]));
        kitty_on_both(&k, &r, &mark(&subtasks, &["--status", "done"]));
        kitty_on_both(&k, &r, &mv(wp, "for_review", &[]));
        kitty_on_both(&k, &r, &mv(wp, "in_review", &[]));
        kitty_on_both(&k, &r, &mv(wp, "approved", &["--note", "Review passed"]));
    }
    (k, r)
}

/// Every criterion of the matrix passed (kitty on both sides).
pub(crate) fn all_criteria_pass(k: &Side, r: &Side) {
    let matrix = k.repo.path().join(format!(
        ".worktrees/{SLUG}-coord/kitty-specs/{SLUG}/acceptance-matrix.json"
    ));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(matrix).unwrap()).unwrap();
    for c in doc["criteria"].as_array().unwrap() {
        let id = c["criterion_id"].as_str().unwrap();
        kitty_on_both(
            k,
            r,
            &[
                "agent",
                "mission",
                "acceptance-verdict",
                "--mission",
                SLUG,
                "--criterion",
                id,
                "--result",
                "pass",
            ],
        );
    }
}

fn accept(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "mission", "accept", "--mission", SLUG];
    v.extend_from_slice(extra);
    v
}

/// The lists of a document's summary (the document itself for a refusal).
fn list(out: &RunOutput, pointer: &str) -> Vec<String> {
    out.json()
        .at(pointer)
        .as_array()
        .unwrap_or_else(|| panic!("{pointer} is not a list: {out}"))
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The sentences (prose the harness masks) of both documents, each side's root read as `<R>`.
#[track_caller]
fn same_sentences(k: &Side, r: &Side, ko: &RunOutput, ro: &RunOutput, pointers: &[&str]) {
    let norm = |side: &Side, s: String| s.replace(&side.repo.path().display().to_string(), "<R>");
    for p in pointers {
        let kl: Vec<String> = list(ko, p).into_iter().map(|s| norm(k, s)).collect();
        let rl: Vec<String> = list(ro, p).into_iter().map(|s| norm(r, s)).collect();
        assert_eq!(kl, rl, "{p}\n--- kitty ---\n{ko}\n--- reference ---\n{ro}");
    }
}

/// The verdicts' copies in the reference's primary checkout (each package's review directory).
const COPIES: [&str; 2] = ["WP01-greeting-tool", "WP02-greeting-tests"];

/// Run `args` on both sides where the approvals left their verdicts' copies in the primary
/// checkout: the reference counts them as uncommitted work (`git_dirty`) and refuses; kitty
/// passes them by (`verdict_copy`). The reference then runs with the copies set aside, put back
/// before the comparison, so both sides go on from the same state.
#[track_caller]
fn past_the_copies(k: &Side, r: &Side, args: &[&str]) -> (RunOutput, RunOutput) {
    let tasks = r.repo.path().join(format!("kitty-specs/{SLUG}/tasks"));
    let aside = r.home.path().join("verdict-copies");
    std::fs::create_dir_all(&aside).unwrap();
    for c in COPIES {
        std::fs::rename(tasks.join(c), aside.join(c)).unwrap();
    }
    let (ko, ro) = run_both(k, r, args, &[("SPEC_KITTY_REFERENCE", "")]);
    for c in COPIES {
        std::fs::rename(aside.join(c), tasks.join(c)).unwrap();
    }
    assert_parity(k, r, &ko, &ro);
    (ko, ro)
}

fn mkdirs(side: &Side, dirs: &[&str]) {
    for d in dirs {
        let p = side.repo.path().join(d);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join(".keep"), "").unwrap();
        side.repo.git(&["add", d]);
    }
    side.repo.git(&["commit", "-q", "-m", "layout"]);
}

#[test]
fn a_mission_not_ready_is_refused_with_the_reference_s_summary_checks_and_fixes() {
    let (k, r) = approved();
    // No mission: exit 2, logged.
    let (ko, ro) = run_both(
        &k,
        &r,
        &["agent", "mission", "accept"],
        &[("SPEC_KITTY_REFERENCE", "")],
    );
    assert_parity(&k, &r, &ko, &ro);
    ko.assert_code(2)
        .json()
        .assert_eq("/error", "--mission <slug> is required");
    // Strict: the matrix is pending, the agent of a package moved without one is missing, the
    // layout lacks the software-dev paths, and a file of work is uncommitted.
    std::fs::write(k.repo.path().join("notes.txt"), "x").unwrap();
    std::fs::write(r.repo.path().join("notes.txt"), "x").unwrap();
    let (ko, ro) = run_both(&k, &r, &accept(&[]), &[("SPEC_KITTY_REFERENCE", "")]);
    let copies: Vec<String> = COPIES
        .iter()
        .map(|c| format!("?? kitty-specs/{SLUG}/tasks/{c}/"))
        .collect();
    assert_eq!(list(&ro, "/git_dirty")[..2], copies[..], "{ro}");
    assert_eq!(list(&ko, "/git_dirty"), vec!["?? notes.txt"], "{ko}");
    let (ko, ro) = past_the_copies(&k, &r, &accept(&[]));
    ko.assert_code(1)
        .json()
        .assert_eq("/ok", false)
        .assert_eq("/all_done", true)
        .assert_eq("/lanes/approved/1", "WP02");
    same_sentences(
        &k,
        &r,
        &ko,
        &ro,
        &[
            "/activity_issues",
            "/metadata_issues",
            "/path_violations",
            "/warnings",
            "/git_dirty",
            "/recommended_fix_order",
            "/optional_missing",
        ],
    );
    assert_eq!(list(&ko, "/git_dirty"), vec!["?? notes.txt"]);
    // The diagnosis: the same findings, exit 0, nothing written.
    std::fs::remove_file(k.repo.path().join("notes.txt")).unwrap();
    std::fs::remove_file(r.repo.path().join("notes.txt")).unwrap();
    let (ko, ro) = past_the_copies(&k, &r, &accept(&["--diagnose", "--lenient"]));
    ko.assert_success()
        .json()
        .assert_eq("/diagnose", true)
        .assert_eq("/accepted_wps/0", "WP01");
    same_sentences(&k, &r, &ko, &ro, &["/warnings", "/activity_issues"]);
    // Checklist mode reports and refuses the same way, exit 1.
    past_the_copies(&k, &r, &accept(&["--mode", "checklist"]))
        .0
        .assert_code(1);
}

#[test]
fn a_ready_mission_is_accepted_recorded_in_meta_and_committed_as_the_reference_does() {
    let (k, r) = approved();
    all_criteria_pass(&k, &r);
    for side in [&k, &r] {
        mkdirs(
            side,
            &[
                "src",
                "tests",
                "docs",
                &format!("kitty-specs/{SLUG}/contracts"),
            ],
        );
    }
    // Not recorded: the success document with no commit.
    let (ko, ro) = past_the_copies(&k, &r, &accept(&["--no-commit", "--lenient"]));
    ko.assert_success()
        .json()
        .assert_eq("/commit_created", false)
        .assert_eq("/accept_commit", serde_json::Value::Null)
        .assert_eq("/mode", "local")
        .assert_eq("/summary/ok", true);
    same_sentences(&k, &r, &ko, &ro, &["/instructions", "/summary/warnings"]);
    // Recorded: meta.json's acceptance fields, the Accept and Record commits, then the sweep.
    let recorded = past_the_copies(&k, &r, &accept(&[])).0;
    recorded
        .assert_success()
        .json()
        .assert_eq("/commit_created", true)
        .assert_eq("/accepted_by", "system");
    let log = |side: &Side| {
        let out = std::process::Command::new("git")
            .args(["log", "--format=%s", "-4"])
            .current_dir(side.repo.path())
            .env_clear()
            .envs(side.home.env_map())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(log(&k), log(&r));
    assert!(log(&k).starts_with(&format!(
        "Finalize acceptance artifacts for {SLUG}\nRecord acceptance commit for {SLUG}\nAccept {SLUG}\n"
    )), "{}", log(&k));
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(k.repo.path().join(format!("kitty-specs/{SLUG}/meta.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(meta["status_phase"], "1");
    assert_eq!(
        meta["acceptance_history"][0]["accept_commit"],
        recorded.json().value()["accept_commit"]
    );
    // Again, from the top-level command with an actor and a validation command: the history
    // grows, two commits.
    let again = past_the_copies(
        &k,
        &r,
        &[
            "accept",
            "--mission",
            SLUG,
            "--actor",
            " bob ",
            "--test",
            "cargo test",
        ],
    )
    .0;
    again
        .assert_success()
        .json()
        .assert_eq("/accepted_by", "bob");
    assert_eq!(log(&k), log(&r));
}

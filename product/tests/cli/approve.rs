//! `agent tasks move-task --to approved` (a review's approval) beyond the differential suite:
//! the verdict artifact and its three commits, the status line's evidence, the copy left in the
//! primary checkout not blocking the next handoff (the reference's refusal there is a
//! workaround), the approvals kitty leaves to the reference, and the event it queues with sync
//! on, in the published contract.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage, RunOutput, StagedMission};
use serde_json::Value;
use std::path::PathBuf;

pub(crate) fn kitty(home: &IsolatedHome, m: &StagedMission, args: &[&str]) -> RunOutput {
    home.command()
        .current_dir(m.repo.path())
        .args(args)
        .args(["--mission", &m.slug, "--json"])
        .run()
}

pub(crate) fn mv(
    home: &IsolatedHome,
    m: &StagedMission,
    wp: &str,
    to: &str,
    extra: &[&str],
) -> RunOutput {
    let mut args = vec!["agent", "tasks", "move-task", wp, "--to", to];
    args.extend_from_slice(extra);
    kitty(home, m, &args)
}

/// `wp` claimed by claude through `agent action implement`, a commit of work (`work.txt`) in
/// its lane; the lane's worktree.
pub(crate) fn implemented(home: &IsolatedHome, m: &StagedMission, wp: &str) -> PathBuf {
    let out = kitty(
        home,
        m,
        &["agent", "action", "implement", wp, "--agent", "claude"],
    );
    let lane = PathBuf::from(out.assert_success().json().str("/workspace"));
    std::fs::write(lane.join("work.txt"), "done\n").unwrap();
    m.repo.git_in(&lane, &["add", "work.txt"]);
    m.repo
        .git_in(&lane, &["commit", "-q", "-m", &format!("feat({wp}): work")]);
    lane
}

/// `wp` (whose one subtask is `subtask`) marked done and moved to for_review.
pub(crate) fn for_review(home: &IsolatedHome, m: &StagedMission, wp: &str, subtask: &str) {
    kitty(
        home,
        m,
        &["agent", "tasks", "mark-status", subtask, "--status", "done"],
    )
    .assert_success();
    mv(home, m, wp, "for_review", &[]).assert_success();
}

/// `wp` (whose one subtask is `subtask`) marked done and moved to in_review.
pub(crate) fn in_review(home: &IsolatedHome, m: &StagedMission, wp: &str, subtask: &str) {
    for_review(home, m, wp, subtask);
    mv(home, m, wp, "in_review", &[]).assert_success();
}

/// A run kitty handed to the reference (none is installed in these homes).
#[track_caller]
pub(crate) fn handed(out: RunOutput) {
    out.assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
}

pub(crate) fn coord(m: &StagedMission) -> PathBuf {
    m.repo.path().join(format!(".worktrees/{}-coord", m.slug))
}

pub(crate) fn last_line(m: &StagedMission, to_lane: &str) -> Value {
    let log = std::fs::read_to_string(
        coord(m).join(format!("kitty-specs/{}/status.events.jsonl", m.slug)),
    )
    .unwrap();
    log.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .rfind(|e| e["to_lane"] == to_lane)
        .unwrap()
}

#[test]
fn an_approval_commits_its_verdict_then_the_move_then_the_note_on_the_coordination_branch() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    in_review(&home, &m, "WP01", "T001");
    // The policy metadata names git's user (the reference's reviewer detection).
    m.repo.git(&["config", "user.name", "Ann Reviewer"]);
    let out = mv(&home, &m, "WP01", "approved", &["--note", "Looks good"]);
    out.assert_success();
    // The primary checkout's dirty status files were passed over, and said so once.
    assert!(
        out.stderr()
            .contains("Note: 2 unrelated dirty file(s) ignored (not owned by WP01)"),
        "{out}"
    );
    let pointer = format!("review-cycle://{}/WP01-part-1/review-cycle-1.md", m.slug);
    let evidence_ref = format!("kitty-specs/{}/tasks/WP01-part-1/review-cycle-1.md", m.slug);
    out.json()
        .assert_eq("/old_lane", "in_review")
        .assert_eq("/new_lane", "approved")
        .assert_eq("/review_feedback", pointer.as_str())
        .assert_eq("/verdict_durably_persisted", true)
        .assert_eq("/durability_classification", "durable")
        .assert_eq("/durability_reason", Value::Null)
        .assert_eq("/evidence_ref", evidence_ref.as_str())
        .assert_eq("/destination_ref", format!("kitty/mission-{}", m.slug));
    // Three commits: the verdict, the move, the note.
    let subjects = m.repo.git(&[
        "log",
        "-3",
        "--format=%s",
        &format!("kitty/mission-{}", m.slug),
    ]);
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            "chore(spec-kitty): inner-state annotation WP01".to_string(),
            "chore(spec-kitty): status transition WP01".to_string(),
            format!(
                "chore: Record review-cycle-1 (approved) for WP01 on {}",
                m.slug
            ),
        ]
    );
    // The artifact: committed on the coordination branch, its copy left untracked in the
    // primary checkout, the same bytes.
    let copy = std::fs::read_to_string(m.repo.path().join(&evidence_ref)).unwrap();
    let committed = m
        .repo
        .git(&["show", &format!("kitty/mission-{}:{evidence_ref}", m.slug)]);
    assert_eq!(copy.trim_end(), committed.trim_end());
    assert!(
        copy.starts_with(&format!(
            "---\naffected_files: []\ncycle_number: 1\nmission_slug: {0}\nreproduction_command: spec-kitty agent tasks move-task WP01 --to approved --mission {0}\nreviewed_at: '",
            m.slug
        )),
        "{copy}"
    );
    assert!(
        copy.ends_with(
            "'\nreviewer_agent: user\nwp_id: WP01\n---\n\nApproved by user: Looks good\n"
        ),
        "{copy}"
    );
    assert!(
        m.repo
            .git(&["status", "--porcelain", "--untracked-files=all"])
            .contains(&format!("?? {evidence_ref}"))
    );
    // The status line: the reviewer's actor, the verdict as evidence and review result, git's
    // user as the policy's tool, the note as the reason.
    let line = last_line(&m, "approved");
    assert_eq!(line["from_lane"], "in_review");
    assert_eq!(line["force"], false);
    assert_eq!(line["reason"], "Looks good");
    assert_eq!(line["review_ref"], pointer.as_str());
    assert_eq!(
        line["actor"],
        serde_json::json!({"model": null, "profile": null, "role": "reviewer", "tool": "user"})
    );
    assert_eq!(
        line["evidence"],
        serde_json::json!({"review": {"reference": pointer, "reviewer": "user", "verdict": "approved"}})
    );
    assert_eq!(
        line["policy_metadata"],
        serde_json::json!({"model": null, "profile": null, "tool": "Ann Reviewer"})
    );
    assert_eq!(line["review_result"]["verdict"], "approved");
    assert_eq!(
        line["review_result"]["feedback_path"],
        m.repo.path().join(&evidence_ref).to_str().unwrap()
    );
}

#[test]
fn the_next_handoff_passes_by_the_verdict_copy_but_not_by_other_files_beside_it() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    in_review(&home, &m, "WP01", "T001");
    mv(&home, &m, "WP01", "approved", &["--agent", "claude"]).assert_success();
    let line = last_line(&m, "approved");
    assert_eq!(line["reason"], "move-task: in_review -> approved");
    // No git user configured: the reference's fallback.
    assert_eq!(line["policy_metadata"]["tool"], "unknown");
    assert_eq!(line["evidence"]["review"]["reviewer"], "claude");
    kitty(
        &home,
        &m,
        &["agent", "tasks", "mark-status", "T002", "--status", "done"],
    )
    .assert_success();
    // Beside the copy, a file the coordination branch does not hold is uncommitted work.
    let cycles = m.dir().join("tasks/WP01-part-1");
    let copy = cycles.join("review-cycle-1.md");
    let original = std::fs::read_to_string(&copy).unwrap();
    std::fs::write(&copy, format!("{original}edited\n")).unwrap();
    let refused = mv(&home, &m, "WP02", "for_review", &[]);
    refused
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "NOT_READY_FOR_REVIEW");
    assert!(
        refused.json().str("/error").contains("tasks/WP01-part-1/"),
        "{refused}"
    );
    // The copy as committed passes (the reference refuses here: its users delete it, commit it,
    // or pass --force).
    std::fs::write(&copy, original).unwrap();
    mv(&home, &m, "WP02", "for_review", &[]).assert_success();
    assert_eq!(last_line(&m, "for_review")["force"], false);
}

#[test]
fn an_approval_waits_for_every_subtask_and_a_clean_planning_tree() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    mv(
        &home,
        &m,
        "WP01",
        "in_review",
        &["--force", "--note", "skip"],
    )
    .assert_success();
    // Out of review and back without a verdict: the empty verdict slot is no earlier verdict.
    mv(
        &home,
        &m,
        "WP01",
        "in_progress",
        &["--force", "--note", "rework"],
    )
    .assert_success();
    mv(
        &home,
        &m,
        "WP01",
        "in_review",
        &["--force", "--note", "again"],
    )
    .assert_success();
    let refused = mv(&home, &m, "WP01", "approved", &[]);
    refused.assert_code(1).json().assert_eq(
        "/error",
        "Cannot move WP01 to approved - unchecked subtasks:\n  - [ ] T001\n\nMark these complete first:\n  spec-kitty agent tasks mark-status T001 --status done\n\nOr use --force to override (not recommended)",
    );
    kitty(
        &home,
        &m,
        &["agent", "tasks", "mark-status", "T001", "--status", "done"],
    )
    .assert_success();
    std::fs::write(m.dir().join("research.md"), "# notes\n").unwrap();
    let blocked = mv(&home, &m, "WP01", "approved", &[]);
    blocked.assert_code(1);
    assert!(
        blocked
            .json()
            .str("/error")
            .starts_with("Cannot move WP01 to approved\n\nBlocking: 1 uncommitted file(s)"),
        "{blocked}"
    );
    // Nothing was recorded by either refusal.
    assert!(!m.dir().join("tasks/WP01-part-1").exists());
    assert_eq!(last_line(&m, "in_review")["to_lane"], "in_review");
    std::fs::remove_file(m.dir().join("research.md")).unwrap();
    mv(&home, &m, "WP01", "approved", &[]).assert_success();
    assert_eq!(
        last_line(&m, "approved")["reason"],
        "move-task: in_review -> approved"
    );
}

#[test]
fn approvals_kitty_does_not_record_itself_go_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 2 });
    in_review(&home, &m, "WP01", "T001");
    // Forced, from another lane, with an option kitty leaves to it, without auto-commit.
    handed(mv(
        &home,
        &m,
        "WP01",
        "approved",
        &["--force", "--note", "x"],
    ));
    handed(mv(&home, &m, "WP02", "approved", &[]));
    handed(mv(&home, &m, "WP01", "approved", &["--reviewer", "ann"]));
    handed(mv(&home, &m, "WP01", "approved", &["--no-auto-commit"]));
    // An issue matrix to check.
    std::fs::write(m.dir().join("issue-matrix.md"), "# issues\n").unwrap();
    handed(mv(&home, &m, "WP01", "approved", &[]));
    std::fs::remove_file(m.dir().join("issue-matrix.md")).unwrap();
    // None of them wrote anything; the same approval then records natively.
    assert_eq!(last_line(&m, "in_review")["wp_id"], "WP01");
    mv(&home, &m, "WP01", "approved", &[]).assert_success();
}

#[test]
fn with_sync_on_an_approval_queues_one_status_changed_event_with_its_evidence_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    in_review(&home, &m, "WP01", "T001");
    let before = saas.received_events().len();
    mv(&home, &m, "WP01", "approved", &["--note", "ok"]).assert_success();
    let changed = saas.received_events_of("WPStatusChanged", before);
    assert_eq!(changed.len(), 1, "{changed:?}");
    let p = &changed[0]["payload"];
    assert_eq!(
        (&p["from_lane"], &p["to_lane"]),
        (&"in_review".into(), &"approved".into())
    );
    assert_eq!(p["evidence"]["review"]["verdict"], "approved");
    // The repository it was recorded in (no origin: `local`), as the contract requires.
    assert_eq!(p["evidence"]["repos"][0]["repo"], "local");
    assert_eq!(p["evidence"]["repos"][0]["branch"], "feat/work");
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
}

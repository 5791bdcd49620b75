//! `agent action review` beyond the differential suite: the claim's status line, annotation and
//! commits, the lane merged up to date, the lock and the prompt, the JSON form, the package found
//! when none is named, the dependents' alert, the refusals before a claim, the event queued with
//! sync on, and what kitty hands to the reference.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage, RunOutput, StagedMission};
use serde_json::Value;

use crate::approve::{coord, for_review, handed, implemented, last_line, mv};

/// The lane lanes.json gives `wp`.
fn lane_of(m: &StagedMission, wp: &str) -> String {
    let lanes: Value =
        serde_json::from_str(&std::fs::read_to_string(m.dir().join("lanes.json")).unwrap())
            .unwrap();
    lanes["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["wp_ids"].as_array().unwrap().iter().any(|w| w == wp))
        .and_then(|l| l["lane_id"].as_str())
        .unwrap()
        .to_string()
}

fn lane_dir(m: &StagedMission, wp: &str) -> std::path::PathBuf {
    m.repo
        .path()
        .join(format!(".worktrees/{}-{}", m.slug, lane_of(m, wp)))
}

/// A two-package mission (WP02 depends on WP01) with WP01 implemented and waiting for review.
fn waiting(home: &IsolatedHome) -> StagedMission {
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    implemented(home, &m, "WP01");
    for_review(home, &m, "WP01", "T001");
    m
}

fn review(home: &IsolatedHome, m: &StagedMission, extra: &[&str]) -> RunOutput {
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "action", "review"])
        .args(extra)
        .args(["--mission", &m.slug])
        .run()
}

#[test]
fn a_claim_records_the_reviewer_commits_twice_and_merges_the_coordination_branch_into_the_lane() {
    let home = IsolatedHome::new();
    let m = waiting(&home);
    // The package's file edited on the target after implement put it on the coordination
    // branch: the claim carries the edit there (otherwise its `Start` commit has nothing to do).
    let wp_file = format!("kitty-specs/{}/tasks/WP01-part-1.md", m.slug);
    let edited =
        std::fs::read_to_string(m.repo.path().join(&wp_file)).unwrap() + "\nCheck part 1 twice.\n";
    std::fs::write(m.repo.path().join(&wp_file), edited).unwrap();
    m.repo
        .git(&["commit", "-q", "-am", "docs: WP01 note for the reviewer"]);
    let out = review(&home, &m, &["WP01", "--agent", "claude", "--json"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/lane", "in_review")
        .assert_eq("/wp_id", "WP01")
        .assert_eq("/agent", "claude")
        .assert_eq("/dependents_not_done/0", "WP02")
        .assert_eq("/commits/0/message", "chore: Start WP01 review [claude]");
    // The status line and its annotation.
    let line = last_line(&m, "in_review");
    assert_eq!(line["from_lane"], "for_review");
    assert_eq!(
        line["actor"],
        serde_json::json!({"model": null, "profile": null, "role": "reviewer", "tool": "claude"})
    );
    assert_eq!(line["reason"], "Started review via action command");
    assert_eq!(line["review_ref"], "action-review-claim");
    assert_eq!(line["policy_metadata"]["agent"], "claude");
    assert_eq!(
        line["policy_metadata"]["shell_pid"],
        doc.at("/shell_pid").clone()
    );
    // The reviewing shell is kitty's parent (here, this test), with its start time.
    assert_eq!(line["policy_metadata"]["shell_pid"], std::process::id());
    #[cfg(target_os = "linux")]
    {
        let started: f64 = line["policy_metadata"]["shell_pid_created_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(started > 1.0e9 && started <= now + 1.0, "{started}");
    }
    let log = std::fs::read_to_string(
        coord(&m).join(format!("kitty-specs/{}/status.events.jsonl", m.slug)),
    )
    .unwrap();
    let annotation: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(annotation["kind"], "annotation");
    assert_eq!(annotation["delta"]["role"], "reviewer");
    assert_eq!(annotation["delta"]["agent"], "claude");
    assert_eq!(annotation["delta"]["model"], "__resolved_model_absent__");
    // The two commits on the coordination branch, the package's file on it.
    let cb = format!("kitty/mission-{}", m.slug);
    let subjects = m.repo.git(&["log", "--format=%s", "-2", &cb]);
    assert_eq!(
        subjects,
        "chore: Start WP01 review [claude]\nchore(spec-kitty): status transition WP01"
    );
    assert_eq!(
        m.repo.git(&["show", &format!("{cb}:{wp_file}")]),
        std::fs::read_to_string(m.repo.path().join(&wp_file))
            .unwrap()
            .trim_end()
    );
    // The lane merged the coordination branch; the lock; the feedback directory; the prompt.
    let lane = lane_dir(&m, "WP01");
    assert_eq!(
        m.repo.git_in(&lane, &["log", "--format=%s", "-1"]).trim(),
        format!("Merge branch '{cb}' into {cb}-{}", lane_of(&m, "WP01"))
    );
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(lane.join(".spec-kitty/review-lock.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(lock["wp_id"], "WP01");
    assert_eq!(lock["agent"], "claude");
    assert!(m.dir().join("tasks/WP01-part-1").is_dir());
    assert!(
        doc.str("/review_feedback_file")
            .ends_with("tasks/WP01-part-1/review-feedback-1.md"),
        "{out}"
    );
    let prompt = std::fs::read_to_string(doc.str("/prompt_file")).unwrap();
    assert!(
        prompt.starts_with("---\nwork_package_id: WP01\n"),
        "{prompt}"
    );
    assert!(prompt.contains(&format!("mission_slug: {}\n", m.slug)));
    assert!(
        prompt.contains("# Work Package Prompt: WP01"),
        "the package's text"
    );
    assert!(prompt.contains("--to approved"), "the verdict's commands");
    // The approval that follows releases the lock.
    mv(&home, &m, "WP01", "approved", &[]).assert_success();
    assert!(!lane.join(".spec-kitty/review-lock.json").exists());
}

#[test]
fn without_a_package_the_first_waiting_for_review_is_claimed_and_the_text_names_the_next_steps() {
    let home = IsolatedHome::new();
    let m = waiting(&home);
    // A lock an earlier review left behind (its process gone) is neither work nor a live review.
    let lock = lane_dir(&m, "WP01").join(".spec-kitty/review-lock.json");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, r#"{"pid": 4000000000, "wp_id": "WP01"}"#).unwrap();
    let out = review(&home, &m, &["--agent", "codex"]);
    let text = out.assert_success().stdout().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Branch: feat/work (target for this mission)");
    assert!(
        lines[1].starts_with("\u{2713} Claimed WP01 for review (agent: codex, PID: "),
        "{text}"
    );
    assert!(
        text.contains("Dependency Alert: WP02 depend on WP01 (not yet done)"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "   Lane workspace: {} (shared by WP01",
            lane_of(&m, "WP01")
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "spec-kitty agent tasks move-task WP01 --to approved --mission {} --note \"Review passed\"",
            m.slug
        )),
        "{text}"
    );
    assert!(text.ends_with(&format!(
        "[review] Commits recorded:\n  - kitty/mission-{}  chore: Start WP01 review [codex]  [ok]\n",
        m.slug
    )));
}

#[test]
fn packages_not_waiting_for_review_and_claims_without_an_agent_are_refused_before_anything_is_written()
 {
    let home = IsolatedHome::new();
    let m = waiting(&home);
    let before = m.repo.git(&["rev-list", "--count", "--all"]);
    let refused = |args: &[&str], code: &str, first: &str| {
        let mut a = args.to_vec();
        a.push("--json");
        let doc = review(&home, &m, &a);
        let d = doc.assert_code(1).json();
        d.assert_eq("/error_code", code);
        assert!(d.str("/error").starts_with(first), "{doc}");
    };
    refused(
        &["WP01"],
        "AGENT_REQUIRED",
        "Error: --agent parameter required when starting review.",
    );
    refused(
        &["WP02", "--agent", "claude"],
        "WP_NOT_READY_FOR_REVIEW",
        "Error: WP02 is in lane 'planned', not 'for_review'.",
    );
    refused(
        &["WP09", "--agent", "claude"],
        "WP_NOT_FOUND",
        &format!(
            "Error: Work package 'WP09' not found under kitty-specs/{}/tasks.",
            m.slug
        ),
    );
    mv(&home, &m, "WP02", "in_progress", &["--agent", "codex"]).assert_success();
    let before_in_progress = m.repo.git(&["rev-list", "--count", "--all"]);
    refused(
        &["WP02", "--agent", "claude"],
        "WP_NOT_READY_FOR_REVIEW",
        "Error: WP02 is still being implemented, not claimed for review.",
    );
    assert_ne!(before, before_in_progress);
    assert_eq!(
        m.repo.git(&["rev-list", "--count", "--all"]),
        before_in_progress,
        "a refusal writes nothing"
    );
}

#[test]
fn with_sync_on_the_claim_is_one_status_change_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = waiting(&home);
    let before = saas.received_events().len();
    review(&home, &m, &["WP01", "--agent", "claude", "--json"]).assert_success();
    let changed = saas.received_events_of("WPStatusChanged", before);
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0]["payload"]["to_lane"], "in_review");
    assert_eq!(changed[0]["payload"]["review_ref"], "action-review-claim");
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
}

#[test]
fn claims_kitty_does_not_make_itself_go_to_the_reference() {
    let home = IsolatedHome::new();
    let m = waiting(&home);
    for extra in [
        &["WP01", "--agent", "claude:opus:reviewer"][..],
        &["WP01", "--agent", "claude", "--model", "opus"][..],
        &["WP01", "--agent", "claude", "--profile", "p"][..],
        &["WP01", "--agent", "claude", "--invocation-id", "i"][..],
    ] {
        let mut a = extra.to_vec();
        a.push("--json");
        handed(review(&home, &m, &a));
    }
    // A dirty lane, then a lane that is gone.
    let lane = lane_dir(&m, "WP01");
    std::fs::write(lane.join("work.txt"), "changed\n").unwrap();
    handed(review(&home, &m, &["WP01", "--agent", "claude", "--json"]));
    m.repo.git_in(&lane, &["checkout", "work.txt"]);
    // A re-review of a package already claimed.
    review(&home, &m, &["WP01", "--agent", "claude", "--json"]).assert_success();
    handed(review(&home, &m, &["WP01", "--agent", "claude", "--json"]));
    m.repo
        .git(&["worktree", "remove", "--force", lane.to_str().unwrap()]);
    mv(&home, &m, "WP01", "for_review", &["--force"]).assert_success();
    handed(review(&home, &m, &["WP01", "--agent", "claude", "--json"]));
    // No package waiting for review.
    mv(&home, &m, "WP01", "in_progress", &["--force"]).assert_success();
    handed(review(&home, &m, &["--agent", "claude", "--json"]));
}

#[test]
fn only_packages_that_depend_on_the_reviewed_one_and_are_not_done_are_named() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 3 });
    implemented(&home, &m, "WP01");
    for_review(&home, &m, "WP01", "T001");
    let out = review(&home, &m, &["WP01", "--agent", "claude", "--json"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/dependents_not_done", serde_json::json!(["WP02"]));
    assert!(
        doc.at("/lane_wp_ids")
            .as_array()
            .unwrap()
            .contains(&Value::String("WP01".into())),
        "{out}"
    );
}

#[test]
fn two_reviewers_claiming_at_once_leave_exactly_one_claim() {
    let home = IsolatedHome::new();
    let m = waiting(&home);
    let spawn = |agent: &str| {
        home.command()
            .current_dir(m.repo.path())
            .args(["agent", "action", "review", "WP01", "--agent", agent])
            .args(["--mission", &m.slug, "--json"])
            .spawn()
    };
    let (a, b) = (spawn("claude"), spawn("codex"));
    let (a, b) = (a.wait(), b.wait());
    let won: Vec<&RunOutput> = [&a, &b]
        .into_iter()
        .filter(|o| o.code() == Some(0))
        .collect();
    assert_eq!(won.len(), 1, "exactly one claim\n{a}\n{b}");
    let log = std::fs::read_to_string(
        coord(&m).join(format!("kitty-specs/{}/status.events.jsonl", m.slug)),
    )
    .unwrap();
    let claims = log
        .lines()
        .filter(|l| l.contains("\"to_lane\": \"in_review\""))
        .count();
    assert_eq!(claims, 1, "{log}");
    // The other was the reference's to refuse (a claim already made).
    let lost = if a.code() == Some(0) { b } else { a };
    handed(lost);
}

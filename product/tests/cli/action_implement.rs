//! `agent action implement` beyond the differential suite: the claim leaves nothing
//! uncommitted (the workaround the reference needs before accept and merge), a resume by the same
//! agent and a refusal for another, the refusals before any write, the dependent package's lane,
//! the events queued with sync on, two agents at once, and what kitty hands to the reference.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage, RunOutput, StagedMission};
use serde_json::Value;

use crate::approve::{coord, handed, implemented, in_review, mv};

fn implement(home: &IsolatedHome, m: &StagedMission, extra: &[&str]) -> RunOutput {
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "action", "implement"])
        .args(extra)
        .args(["--mission", &m.slug, "--json"])
        .run()
}

/// The coordination worktree's status log, line by line.
fn log(m: &StagedMission) -> Vec<Value> {
    std::fs::read_to_string(coord(m).join(format!("kitty-specs/{}/status.events.jsonl", m.slug)))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn subjects(m: &StagedMission, rev: &str, n: usize) -> Vec<String> {
    m.repo
        .git(&["log", "--format=%s", &format!("-{n}"), rev])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_first_claim_makes_the_lane_and_leaves_nothing_uncommitted_in_the_checkout() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    let dirt = || {
        m.repo
            .git(&["status", "--porcelain", "--untracked-files=no"])
    };
    let before = dirt();
    let out = implement(&home, &m, &["WP01", "--agent", "claude"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/lane", "in_progress")
        .assert_eq("/workspace_created", true)
        .assert_eq(
            "/commits/0/message",
            "chore: Start WP01 implementation [claude]",
        );
    // The claim's fields and the VCS lock are committed on the target: no manual commit before
    // accept or merge (the reference leaves both modified).
    assert_eq!(dirt(), before, "{out}");
    assert_eq!(
        subjects(&m, "HEAD", 2),
        [
            "chore: WP01 claimed for implementation",
            "chore: Capture baseline tests for WP01"
        ]
    );
    let wp = std::fs::read_to_string(m.dir().join("tasks/WP01-part-1.md")).unwrap();
    let cb = format!("kitty/mission-{}", m.slug);
    assert!(wp.contains(&format!("base_branch: {cb}\n")), "{wp}");
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(m.dir().join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["vcs"], "git");
    // Two hops in one batch, the claimant as a string, then the shell's annotation.
    let lines = log(&m);
    let tail: Vec<&Value> = lines.iter().rev().take(3).collect();
    assert_eq!(tail[2]["to_lane"], "claimed");
    assert_eq!(tail[1]["to_lane"], "in_progress");
    assert_eq!(tail[1]["actor"], "claude");
    assert_eq!(tail[0]["kind"], "annotation");
    assert_eq!(tail[0]["delta"]["shell_pid"], *doc.at("/shell_pid"));
    assert!(
        tail[2]["at"].as_str() < tail[1]["at"].as_str(),
        "the hops in order: {tail:?}"
    );
    // The lane's packages, as lanes.json lists them.
    let lanes: Value =
        serde_json::from_str(&std::fs::read_to_string(m.dir().join("lanes.json")).unwrap())
            .unwrap();
    let members = lanes["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lane_id"] == doc.str("/lane_id"))
        .unwrap()["wp_ids"]
        .clone();
    doc.assert_eq("/lane_wp_ids", members.clone());
    assert_eq!(
        subjects(&m, &cb, 2),
        [
            "chore: Start WP01 implementation [claude]",
            "chore(spec-kitty): status transition batch WP01"
        ]
    );
    // The lane: its branch up to date with the coordination branch, without the status files.
    let lane = std::path::PathBuf::from(doc.str("/workspace"));
    assert!(
        m.repo
            .git(&["merge-base", "--is-ancestor", &cb, doc.str("/lane_branch")])
            .is_empty()
    );
    assert!(
        lane.join(format!("kitty-specs/{}/spec.md", m.slug))
            .is_file()
    );
    assert!(
        !lane
            .join(format!("kitty-specs/{}/status.events.jsonl", m.slug))
            .exists()
    );
    let context = m.repo.path().join(format!(
        ".kittify/workspaces/{}-{}.json",
        m.slug,
        doc.str("/lane_id")
    ));
    let context: Value = serde_json::from_str(&std::fs::read_to_string(context).unwrap()).unwrap();
    assert_eq!(context["current_wp"], "WP01");
    assert_eq!(context["lane_wp_ids"], members);
    doc.assert_eq(
        "/next_commands/mark_subtasks",
        format!(
            "spec-kitty agent tasks mark-status T001 --status done --mission {}",
            m.slug
        ),
    );
    assert!(std::path::Path::new(doc.str("/prompt_file")).is_file());
}

#[test]
fn the_same_agent_resumes_its_claim_and_another_agent_is_refused_without_a_write() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
    implement(&home, &m, &["WP01", "--agent", "claude"]).assert_success();
    let before = log(&m).len();
    let again = implement(&home, &m, &["WP01", "--agent", "claude"]);
    again
        .assert_success()
        .json()
        .assert_eq("/workspace_created", false);
    let lines = log(&m);
    assert_eq!(lines.len(), before + 1, "one annotation, no transition");
    assert_eq!(lines.last().unwrap()["kind"], "annotation");
    let other = implement(&home, &m, &["WP01", "--agent", "codex"]);
    other
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "WP_ALREADY_CLAIMED");
    assert!(
        other
            .json()
            .str("/error")
            .contains("already claimed for implementation by 'claude'"),
        "{other}"
    );
    assert_eq!(log(&m).len(), before + 1);
}

#[test]
fn refusals_come_before_any_write() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    let head = m.repo.git(&["rev-parse", "HEAD"]);
    let before = log(&m).len();
    for (extra, code) in [
        (&["WP01"][..], "AGENT_REQUIRED"),
        (
            &["WP02", "--agent", "claude"][..],
            "DEPENDENCIES_NOT_SATISFIED",
        ),
        (&["WP07", "--agent", "claude"][..], "WP_NOT_FOUND"),
    ] {
        let out = implement(&home, &m, extra);
        out.assert_code(1).json().assert_eq("/error_code", code);
    }
    assert!(
        !m.repo
            .path()
            .join(".worktrees")
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().contains("lane") })
    );
    assert_eq!(m.repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(log(&m).len(), before);
    // No analysis recorded: the reference's four lines.
    let bare = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = implement(&home, &bare, &["WP01", "--agent", "claude"]);
    let error = out.assert_code(1).json().str("/error").to_string();
    assert!(
        error.starts_with("Error: analysis_report_required:")
            && error.contains("record-analysis --mission"),
        "{out}"
    );
}

#[test]
fn the_dependent_package_is_claimed_once_its_dependency_is_approved() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    implemented(&home, &m, "WP01");
    in_review(&home, &m, "WP01", "T001");
    mv(&home, &m, "WP01", "approved", &[]).assert_success();
    let out = implement(&home, &m, &["WP02", "--agent", "codex"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/lane", "in_progress");
    let lane2 = std::path::PathBuf::from(doc.str("/workspace"));
    // WP01's work is in WP02's workspace (its lane, or the dependency lane merged into it).
    assert!(lane2.join("work.txt").is_file(), "{out}");
    // WP02 has its own lane, with WP01's merged in.
    doc.assert_eq("/workspace_created", true)
        .assert_eq("/lane_id", "lane-b");
    assert!(
        m.repo
            .git_in(&lane2, &["log", "--format=%s"])
            .contains("Merge dependency lane lane-a into lane-b"),
        "{out}"
    );
    // WP01, approved (its review directory holds the verdict), back to work: one forced hop.
    let rework = implement(&home, &m, &["WP01", "--agent", "claude"]);
    rework.assert_success();
    let hop = log(&m)
        .into_iter()
        .rfind(|e| e["wp_id"] == "WP01" && e["to_lane"] == "in_progress")
        .unwrap();
    assert_eq!(hop["from_lane"], "approved");
    assert_eq!(hop["force"], true);
    assert_eq!(hop["reason"], "Re-implementing after review feedback");
}

#[test]
fn the_fix_mode_and_uncommitted_planning_files_go_to_the_reference_and_stale_status_copies_do_not()
{
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
    // The primary checkout's status files, which the coordination worktree's supersede.
    let primary_log = m.dir().join("status.events.jsonl");
    let original = std::fs::read_to_string(&primary_log).unwrap_or_default();
    // A new planning file: the reference's auto-commit.
    let notes = m.dir().join("notes.md");
    std::fs::write(&notes, "# Notes\n").unwrap();
    handed(implement(&home, &m, &["WP01", "--agent", "claude"]));
    std::fs::remove_file(&notes).unwrap();
    // A stale copy of the status log is no planning file.
    std::fs::write(&primary_log, format!("{original}{{\"note\": 1}}\n")).unwrap();
    implement(&home, &m, &["WP01", "--agent", "claude"]).assert_success();
    // A review reference in the primary checkout's log, the package's directory holding only
    // its baseline: no fix mode (the claim resumed).
    std::fs::write(
        &primary_log,
        format!(
            "{original}{{\"review_ref\": \"review-cycle://m/WP01-part-1/review-cycle-1.md\"}}\n"
        ),
    )
    .unwrap();
    implement(&home, &m, &["WP01", "--agent", "claude"]).assert_success();
    // And a review artifact beside it: the fix mode.
    let review = m.dir().join("tasks/WP01-part-1");
    assert!(review.join("baseline-tests.json").is_file());
    std::fs::write(
        review.join("review-cycle-1.md"),
        "---\nverdict: rejected\n---\n",
    )
    .unwrap();
    handed(implement(&home, &m, &["WP01", "--agent", "claude"]));
}

#[test]
fn with_sync_on_a_claim_queues_two_status_changes_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
    let before = saas.received_events().len();
    implement(&home, &m, &["WP01", "--agent", "claude"]).assert_success();
    let changed = saas.received_events_of("WPStatusChanged", before);
    let hops: Vec<(&str, &str)> = changed
        .iter()
        .map(|e| {
            (
                e["payload"]["from_lane"].as_str().unwrap(),
                e["payload"]["to_lane"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(hops, [("planned", "claimed"), ("claimed", "in_progress")]);
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
}

#[test]
fn two_agents_claiming_at_once_leave_exactly_one_claim() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
    let spawn = |agent: &str| {
        home.command()
            .current_dir(m.repo.path())
            .args(["agent", "action", "implement", "WP01", "--agent", agent])
            .args(["--mission", &m.slug, "--json"])
            .spawn()
    };
    let (a, b) = (spawn("claude"), spawn("codex"));
    let (a, b) = (a.wait(), b.wait());
    let won = [&a, &b].iter().filter(|o| o.code() == Some(0)).count();
    assert_eq!(won, 1, "exactly one claim\n{a}\n{b}");
    let lost = if a.code() == Some(0) { &b } else { &a };
    lost.assert_code(1)
        .json()
        .assert_eq("/error_code", "WP_ALREADY_CLAIMED");
    let claims = log(&m)
        .iter()
        .filter(|e| e["to_lane"] == "in_progress")
        .count();
    assert_eq!(claims, 1);
}

#[test]
fn claims_kitty_does_not_make_itself_go_to_the_reference() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
    for extra in [
        &["WP01", "--agent", "claude:opus:implementer"][..],
        &["WP01", "--agent", "claude", "--model", "opus"][..],
        &["WP01", "--agent", "claude", "--profile", "p"][..],
        &["WP01", "--agent", "claude", "--allow-sparse-checkout"][..],
        &["--agent", "claude"][..],
    ] {
        handed(implement(&home, &m, extra));
    }
    // The lane's branch without its worktree: the reference's recovery (the branch kept).
    let branch = format!("kitty/mission-{}-lane-a", m.slug);
    m.repo.git(&["branch", &branch]);
    handed(implement(&home, &m, &["WP01", "--agent", "claude"]));
    assert_eq!(
        m.repo
            .git(&["branch", "--list", &branch])
            .trim_start_matches(['*', ' ']),
        branch
    );
    m.repo.git(&["branch", "-D", &branch]);
    // A stale analysis (the spec changed since), and a Python project (its baseline run).
    let spec = m.dir().join("spec.md");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, format!("{text}\nOne more line.\n")).unwrap();
    handed(implement(&home, &m, &["WP01", "--agent", "claude"]));
    std::fs::write(&spec, text).unwrap();
    std::fs::write(m.repo.path().join("pyproject.toml"), "[project]\n").unwrap();
    handed(implement(&home, &m, &["WP01", "--agent", "claude"]));
    assert_eq!(
        log(&m).iter().filter(|e| e["to_lane"] == "claimed").count(),
        0
    );
}

#[test]
fn a_rejected_package_is_claimed_again_in_its_lane_with_the_binding_in_the_batch() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
    implemented(&home, &m, "WP01");
    in_review(&home, &m, "WP01", "T001");
    let feedback = home.work_dir().join("feedback.md");
    std::fs::write(&feedback, "**Issue**: part 1 prints the wrong number.\n").unwrap();
    mv(
        &home,
        &m,
        "WP01",
        "planned",
        &["--review-feedback-file", feedback.to_str().unwrap()],
    )
    .assert_success();
    // Planned again, its lane there: claimed in it, the claimant as a structured actor, the
    // binding in the batch after the two hops.
    let again = implement(&home, &m, &["WP01", "--agent", "codex"]);
    again
        .assert_success()
        .json()
        .assert_eq("/workspace_created", false);
    let lines = log(&m);
    let tail: Vec<&Value> = lines.iter().rev().take(3).collect();
    assert_eq!(
        (&tail[2]["to_lane"], &tail[1]["to_lane"], &tail[0]["kind"]),
        (
            &"claimed".into(),
            &"in_progress".into(),
            &"annotation".into()
        )
    );
    assert_eq!(tail[1]["actor"]["tool"], "codex");
    assert_eq!(tail[1]["policy_metadata"]["agent"], "codex");
    assert_eq!(tail[0]["delta"]["role"], "implementer");
    let at = |e: &Value| e["at"].as_str().unwrap().to_string();
    assert!(
        at(tail[2]) < at(tail[1]) && at(tail[1]) < at(tail[0]),
        "in order: {tail:?}"
    );
}

/// A second mission in `m`'s repository, `demo2-<mid8>`, a committed copy of `m`'s directory
/// with its own identity: the same work packages, open.
fn second_mission(m: &StagedMission) -> String {
    let id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let slug = format!("demo2-{}", &id[..8]);
    let to = m.repo.specs_dir().join(&slug);
    copy_dir(&m.dir(), &to);
    let meta = to.join("meta.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace(&m.mission_id, id)
        .replace(&m.slug, &slug);
    std::fs::write(&meta, text).unwrap();
    m.repo.git(&["add", "kitty-specs"]);
    m.repo.git(&["commit", "-q", "-m", "a second mission"]);
    slug
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The implement prompt passes only the work package (`implement WP01 --agent claude`), which
/// the reference refuses without `--mission` (W1): kitty claims in the one mission with the
/// package open and refuses, naming the candidates and writing nothing, when several have it.
#[test]
fn without_mission_the_claim_is_for_the_one_mission_with_the_package_open() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    let claim = |dir: &std::path::Path| {
        home.command()
            .current_dir(dir)
            .args([
                "agent",
                "action",
                "implement",
                "WP01",
                "--agent",
                "claude",
                "--json",
            ])
            .run()
    };
    let first = claim(m.repo.path());
    let doc = first.assert_success().json();
    doc.assert_eq("/lane", "in_progress")
        .assert_eq("/mission_slug", m.slug.as_str());
    let other = second_mission(&m);
    let head = m.repo.git(&["rev-parse", "HEAD"]);
    let refused = claim(m.repo.path());
    let err = refused.assert_code(1).json();
    err.assert_eq("/error_code", "MISSING_MISSION");
    let text = err.str("/error");
    assert!(
        text.contains(&m.slug) && text.contains(&other) && text.contains("--mission"),
        "{refused}"
    );
    assert_eq!(m.repo.git(&["rev-parse", "HEAD"]), head, "nothing written");
    assert!(
        !m.repo
            .path()
            .join(format!(".worktrees/{other}-lane-a"))
            .exists(),
        "no lane made"
    );
    // Named, the second mission is resolved past the inference (its coordination worktree was
    // never made, so kitty hands the claim to the reference, absent here).
    home.command()
        .current_dir(m.repo.path())
        .args(["agent", "action", "implement", "WP02", "--agent", "claude"])
        .args(["--mission", &other, "--json"])
        .run()
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "reference_not_found");
}

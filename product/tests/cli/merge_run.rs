//! `spec-kitty merge` itself beyond the differential suite: an approved mission lands on its
//! target with the reference's commits, board, metadata and clean-up; what kitty refuses before
//! anything is written where the reference fails half-way; what it hands over; the events it
//! queues with sync on, in the published contract.

#[cfg(unix)]
use kitty_testkit::EventContract;
use kitty_testkit::{FakeSaas, IsolatedHome, MissionStage, RunOutput, StagedMission};
use serde_json::Value;

use crate::approve::{coord, in_review, kitty, mv};

/// `wp` claimed through `agent action implement`, with a commit of its own file in its lane.
fn implemented(home: &IsolatedHome, m: &StagedMission, wp: &str) {
    let out = kitty(
        home,
        m,
        &["agent", "action", "implement", wp, "--agent", "claude"],
    );
    let lane = std::path::PathBuf::from(out.assert_success().json().str("/workspace"));
    let file = format!("{wp}.txt");
    std::fs::write(lane.join(&file), "done\n").unwrap();
    m.repo.git_in(&lane, &["add", &file]);
    m.repo
        .git_in(&lane, &["commit", "-q", "-m", &format!("feat({wp}): work")]);
}

/// Both packages implemented in their lane, reviewed and approved; every acceptance criterion
/// passed and the mission accepted.
fn approved(home: &IsolatedHome) -> StagedMission {
    let m = unaccepted(home);
    accepted(home, &m);
    m
}

/// Both packages implemented in their lane, reviewed and approved.
fn unaccepted(home: &IsolatedHome) -> StagedMission {
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    for (wp, subtask) in [("WP01", "T001"), ("WP02", "T002")] {
        implemented(home, &m, wp);
        in_review(home, &m, wp, subtask);
        mv(home, &m, wp, "approved", &[]).assert_success();
    }
    m
}

/// Every criterion of the acceptance matrix passed, then the mission accepted (no lane writes
/// under the software-dev paths, which are then advice, not a refusal).
fn accepted(home: &IsolatedHome, m: &StagedMission) {
    let matrix = coord(m).join(format!("kitty-specs/{}/acceptance-matrix.json", m.slug));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(matrix).unwrap()).unwrap();
    for c in doc["criteria"].as_array().unwrap() {
        let id = c["criterion_id"].as_str().unwrap();
        kitty(
            home,
            m,
            &[
                "agent",
                "mission",
                "acceptance-verdict",
                "--criterion",
                id,
                "--result",
                "pass",
            ],
        )
        .assert_success();
    }
    kitty(home, m, &["agent", "mission", "accept"]).assert_success();
}

fn merge(home: &IsolatedHome, m: &StagedMission, extra: &[&str]) -> RunOutput {
    home.command()
        .current_dir(m.repo.path())
        .args(["merge", "--mission", &m.slug])
        .args(extra)
        .run()
}

fn meta(m: &StagedMission) -> Value {
    serde_json::from_str(&std::fs::read_to_string(m.dir().join("meta.json")).unwrap()).unwrap()
}

fn state(m: &StagedMission) -> String {
    format!(
        "{}\n{}",
        m.repo.git(&["for-each-ref"]),
        m.repo
            .git(&["status", "--porcelain", "--untracked-files=all"])
    )
}

#[test]
fn an_approved_mission_lands_on_its_target_with_the_reference_s_commits_board_and_clean_up() {
    let home = IsolatedHome::new();
    let m = approved(&home);
    let target = m.repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let target = target.trim().to_string();
    let before = m.repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let mission = format!("kitty/mission-{}", m.slug);
    let out = merge(&home, &m, &[]);
    out.assert_success();
    let text = out.stdout();
    for line in [
        format!("Lane-based merge for {}", m.slug),
        "  \u{2713} Gate evidence: All 2 WPs have review approval".to_string(),
        format!("Assigned mission_number=1 to mission {}", m.slug),
        format!("\u{2713} {mission} \u{2192} {target}"),
        "  Cleaned up mission/coordination branch + worktree".to_string(),
        "  No likely-stale assertions detected.".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing\n{out}");
    }
    let subjects = m.repo.git(&["log", "--format=%s", "-4", &target]);
    let slug = &m.slug;
    assert_eq!(
        subjects.lines().collect::<Vec<_>>(),
        [
            format!("chore({slug}): capture mission retrospective"),
            format!("chore({slug}): flatten coordination metadata after branch deletion (#3086)"),
            format!("chore({slug}): record done transitions for merged WPs"),
            format!("feat({mission}): squash merge of mission"),
        ],
        "{out}"
    );
    // The board on the target: every package done, by the merge.
    let log = m.repo.git(&[
        "show",
        &format!("{target}:kitty-specs/{slug}/status.events.jsonl"),
    ]);
    for wp in ["WP01", "WP02"] {
        let last = log
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .rfind(|e| e["wp_id"] == wp && e.get("to_lane").is_some())
            .unwrap();
        assert_eq!(
            (&last["to_lane"], &last["actor"]),
            (&"done".into(), &"merge".into())
        );
    }
    let meta = meta(&m);
    assert_eq!(meta["flattened"], true);
    assert_eq!(meta["status_phase"], "1");
    assert_eq!(meta["baseline_merge_commit"], before.as_str());
    assert!(meta.get("coordination_branch").is_none(), "{meta}");
    assert!(m.dir().join("retrospective.yaml").is_file());
    // Lanes gone; the mission branch and its worktree kept, as the reference leaves them.
    let branches = m.repo.git(&["branch", "--format=%(refname:short)"]);
    assert!(!branches.contains("-lane-"), "{branches}");
    assert!(branches.lines().any(|b| b == mission), "{branches}");
    assert!(coord(&m).is_dir());
    assert_eq!(
        m.repo
            .git(&["status", "--porcelain", "--untracked-files=no"]),
        "",
        "the checkout is clean"
    );
    let runtime = m.repo.path().join(".kittify/runtime/merge");
    let left: Vec<_> = walk(&runtime);
    assert!(left.is_empty(), "no state or lock is left: {left:?}");
    let attributes = m.repo.path().join(".git/info/attributes");
    assert!(
        !std::fs::read_to_string(attributes)
            .unwrap_or_default()
            .contains("spec-kitty"),
        "the drivers' patterns are removed after the merge"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            files.extend(walk(&e.path()));
        } else {
            files.push(e.path());
        }
    }
    files
}

#[test]
fn a_package_not_approved_is_refused_before_anything_is_written() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Analysed { work_packages: 2 });
    implemented(&home, &m, "WP01");
    in_review(&home, &m, "WP01", "T001");
    mv(&home, &m, "WP01", "approved", &[]).assert_success();
    let before = state(&m);
    let out = merge(&home, &m, &[]);
    out.assert_code(1);
    assert!(
        out.stdout().contains("WPs missing review approval: WP02")
            && out.stdout().contains("--to approved"),
        "{out}"
    );
    assert_eq!(state(&m), before, "nothing is written");
}

#[test]
fn a_mission_never_accepted_is_refused_unless_told_and_then_merges() {
    let home = IsolatedHome::new();
    let m = unaccepted(&home);
    let before = state(&m);
    let out = merge(&home, &m, &[]);
    out.assert_code(1);
    assert!(
        out.stdout().contains("has not been accepted")
            && out.stdout().contains("agent mission accept --mission"),
        "{out}"
    );
    assert_eq!(state(&m), before, "nothing is written");
    merge(&home, &m, &["--allow-unaccepted"]).assert_success();
    assert_eq!(meta(&m)["flattened"], true);
}

#[test]
fn a_dirty_target_checkout_and_a_held_lock_are_refused_before_anything_is_written() {
    let home = IsolatedHome::new();
    let m = approved(&home);
    std::fs::write(m.dir().join("spec.md"), "# changed\n").unwrap();
    let before = state(&m);
    let out = merge(&home, &m, &[]);
    out.assert_code(1);
    assert!(
        out.stdout().contains("holds uncommitted local changes")
            && out.stdout().contains("spec.md"),
        "{out}"
    );
    assert_eq!(state(&m), before);
    m.repo.git(&["checkout", "--", "."]);
    // The coordination worktree's own changes, named with its branch's tip.
    let matrix = coord(&m).join(format!("kitty-specs/{}/acceptance-matrix.json", m.slug));
    let kept = std::fs::read_to_string(&matrix).unwrap();
    std::fs::write(&matrix, "{}\n").unwrap();
    let out = merge(&home, &m, &[]);
    let mission = format!("kitty/mission-{}", m.slug);
    let tip = m.repo.git(&["rev-parse", &mission]);
    let advance = format!(
        "Refusing to advance branch '{mission}' ({} -> (merge))",
        &tip[..12]
    );
    assert!(out.assert_code(1).stdout().contains(&advance), "{out}");
    std::fs::write(&matrix, kept).unwrap();
    let lock = m
        .repo
        .path()
        .join(".kittify/runtime/merge/__global_merge__/lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "then").unwrap();
    let before = state(&m);
    let out = merge(&home, &m, &[]);
    out.assert_code(1);
    assert!(out.stdout().contains("Merge lock already held"), "{out}");
    assert_eq!(state(&m), before);
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        "then",
        "another's lock is left alone"
    );
}

#[test]
fn another_strategy_and_a_push_are_the_reference_s() {
    let home = IsolatedHome::new();
    let m = unaccepted(&home);
    let before = state(&m);
    for extra in [&["--strategy", "merge"][..], &["--push"]] {
        let out = merge(&home, &m, extra);
        out.assert_code(1);
        assert!(out.stderr().contains("reference"), "{out}");
    }
    assert_eq!(state(&m), before);
}

#[test]
fn with_sync_on_the_merge_queues_each_done_move_the_diff_and_the_closing_in_the_contract() {
    let saas = FakeSaas::start();
    let home = IsolatedHome::syncing_to(&saas);
    let m = approved(&home);
    let before = saas.received_events().len();
    merge(&home, &m, &[]).assert_success();
    let changed = saas.received_events_of("WPStatusChanged", before);
    let moves: Vec<(String, String)> = changed
        .iter()
        .map(|e| {
            (
                e["payload"]["wp_id"].as_str().unwrap().to_string(),
                e["payload"]["to_lane"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("WP01".into(), "done".into()),
            ("WP02".into(), "done".into())
        ]
    );
    assert_eq!(
        saas.received_events_of("DiffSummaryRecorded", before).len(),
        1
    );
    let closed = saas.received_events_of("MissionClosed", before);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["payload"]["mission_slug"], m.slug.as_str());
    #[cfg(unix)]
    saas.assert_received_events_conform(&EventContract::require());
}

//! Finding 2: a mission create killed at any point leaves either all of the mission (scaffold,
//! commit, event) or nothing of it, and never an event for a commit that does not exist.

use std::time::Duration;

use kitty_testkit::{FakeSaas, SessionSeed};
#[cfg(unix)]
use kitty_testkit::{IsolatedHome, KittyCommand, Repo};

/// Where a create is killed. The stalls are `/bin/sh` scripts (a `git` shim first on PATH, or a
/// hook) and the kill is a signal: the kill points are Unix-only.
#[cfg(unix)]
struct KillPoint {
    name: &'static str,
    /// Matched against `" <git arguments> "` by the shim; `None`: a stalling post-commit hook.
    git: Option<&'static str>,
    /// Whether the commit exists when the process dies there.
    committed: bool,
}

#[cfg(unix)]
const KILL_POINTS: [KillPoint; 4] = [
    KillPoint {
        name: "making the coordination branch",
        git: Some(" branch --no-track kitty/mission-"),
        committed: false,
    },
    KillPoint {
        name: "staging the scaffold",
        git: Some(" add -- kitty-specs/"),
        committed: false,
    },
    KillPoint {
        name: "inside git commit (hooks running)",
        git: Some(" commit --quiet "),
        committed: false,
    },
    KillPoint {
        name: "after the commit is recorded (post-commit hook), before the event is released",
        git: None,
        committed: true,
    },
];

#[cfg(unix)]
fn branches(repo: &Repo) -> Vec<String> {
    repo.git(&["branch", "--format=%(refname:short)"])
        .lines()
        .map(str::to_string)
        .collect()
}

#[cfg(unix)]
fn kill_create_at(point: &KillPoint) -> (IsolatedHome, Repo, FakeSaas) {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).sync(true).build();
    home.seed(&SessionSeed::with_private_team());
    let repo = home.repo().build();
    let commits = repo.commit_count();
    let stall = match point.git {
        Some(pattern) => home.stall_git_on(pattern),
        None => home.stall_in_hook(&repo, "post-commit"),
    };
    let running = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "crash-me", "--json"])
        .spawn();
    assert!(
        stall.wait_until_stalled(Duration::from_secs(20)),
        "{}: git never reached {:?} (None: the post-commit hook)",
        point.name,
        point.git
    );
    let killed = running.kill();
    assert_eq!(
        killed.code(),
        None,
        "{}: killed by a signal\n{killed}",
        point.name
    );
    drop(stall);
    // The git commands the killed create had started finish on their own (a `git add` beside
    // the stalled `git branch`): let them, as a machine would before the next command.
    assert!(
        repo.wait_until_idle(Duration::from_secs(20)),
        "{}: git still running in the repository",
        point.name
    );
    // Whatever the kill left, nothing was sent for it.
    assert!(saas.received_events().is_empty(), "{}", point.name);
    assert_eq!(
        repo.commit_count(),
        commits + usize::from(point.committed),
        "{}: the kill point is where the test says",
        point.name
    );
    (home, repo, saas)
}

// Unix-only: the kill points (see `KillPoint`).
#[cfg(unix)]
#[test]
fn a_create_killed_at_any_step_leaves_all_of_the_mission_or_none() {
    for point in &KILL_POINTS {
        let (home, repo, saas) = kill_create_at(point);
        // The next sync resolves what the dead create left, and says so.
        home.command()
            .args(["sync", "now", "--json"])
            .run()
            .assert_success()
            .assert_stderr_contains("staged events resolved");
        let dirs = repo.mission_dirs();
        let status = repo.git(&["status", "--porcelain", "--untracked-files=all"]);
        if point.committed {
            assert_eq!(dirs.len(), 1, "{}", point.name);
            let sent = saas.received_events();
            assert_eq!(
                sent.len(),
                1,
                "{}: the committed mission's event is sent once",
                point.name
            );
            let dir = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(sent[0]["payload"]["mission_slug"], dir.as_str());
            assert!(
                repo.git(&["log", "-1", "--format=%s"]).contains(&dir),
                "{}: the event's commit exists",
                point.name
            );
        } else {
            assert!(
                dirs.is_empty(),
                "{}: scaffold left behind: {dirs:?}",
                point.name
            );
            assert!(
                status.trim().is_empty(),
                "{}: the index or work tree was left dirty:\n{status}",
                point.name
            );
            assert!(
                !branches(&repo)
                    .iter()
                    .any(|b| b.starts_with("kitty/mission-")),
                "{}: coordination branch left: {:?}",
                point.name,
                branches(&repo)
            );
            assert!(saas.received_events().is_empty(), "{}", point.name);
        }
        assert!(home.queued_events().is_empty(), "{}", point.name);
        // Nothing blocks the same slug afterwards.
        let again = home
            .command()
            .current_dir(repo.path())
            .args(["agent", "mission", "create", "crash-me", "--json"])
            .run();
        again.assert_success();
    }
}

/// Recovery also runs at the next create in the same repository, with sync off too (which then
/// queues nothing), before anything new is made.
// Unix-only: the kill points (see `KillPoint`).
#[cfg(unix)]
#[test]
fn the_next_create_cleans_up_a_killed_one() {
    let point = &KILL_POINTS[2];
    let (home, repo, _saas) = kill_create_at(point);
    let run = home
        .command()
        .env("SPEC_KITTY_ENABLE_SAAS_SYNC", "0")
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "next-one", "--json"])
        .run();
    run.assert_success();
    let dirs = repo.mission_dirs();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs[0].to_string_lossy().contains("next-one"));
    assert!(
        home.queued_events().is_empty(),
        "the killed create's staged event is gone and sync off queues nothing"
    );
}

/// A refresh killed while its request is in flight leaves the old session readable, no
/// temporary file, and no lock held: the next refresh works.
#[test]
fn a_refresh_killed_in_flight_leaves_a_usable_session() {
    let saas = FakeSaas::start();
    let home = crate::builder().fake_saas(&saas).build();
    let seeded = home.seed(&SessionSeed::with_private_team().access_expired());
    saas.set_refresh(kitty_testkit::RefreshAnswer::Grant, Duration::from_secs(5));
    let running = home.command().args(["auth", "refresh", "--json"]).spawn();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while saas.count("/oauth/token") == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = running.kill();
    // Killed by a signal: no exit code (Windows has no signals: its kill sets code 1).
    #[cfg(unix)]
    assert_eq!(killed.code(), None, "{killed}");
    #[cfg(not(unix))]
    assert_ne!(killed.code(), Some(0), "{killed}");
    let session = home.read_session().expect("the old session is intact");
    assert_eq!(session.refresh_token, seeded.refresh_token);
    let auth = home.runtime_root().auth_dir();
    let temps: Vec<_> = std::fs::read_dir(&auth)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    saas.set_refresh(kitty_testkit::RefreshAnswer::Grant, Duration::ZERO);
    let run = home.command().args(["auth", "refresh", "--json"]).run();
    run.assert_success();
    assert!(
        saas.issued_tokens()
            .contains(&home.read_session().unwrap().access_token)
    );
}

/// An approval killed while it commits its verdict (the review-cycle file written, not yet
/// committed, no move recorded) is completed by the next approval: the same verdict adopted and
/// committed once, then the move; nothing recorded twice.
// Unix-only: the kill points (see `KillPoint`).
#[cfg(unix)]
#[test]
fn an_approval_killed_while_committing_its_verdict_is_completed_by_the_next_one() {
    use kitty_testkit::MissionStage;
    let home = crate::builder().build();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let coord = m.repo.path().join(format!(".worktrees/{}-coord", m.slug));
    let kitty = |args: &[&str]| {
        home.command()
            .current_dir(m.repo.path())
            .args(args)
            .args(["--mission", &m.slug, "--json"])
            .run()
            .assert_success();
    };
    kitty(&["agent", "tasks", "mark-status", "T001", "--status", "done"]);
    kitty(&["agent", "tasks", "move-task", "WP01", "--to", "for_review"]);
    kitty(&["agent", "tasks", "move-task", "WP01", "--to", "in_review"]);
    let approve = ["agent", "tasks", "move-task", "WP01", "--to", "approved"];
    killed_at(
        &home,
        &m.repo,
        " chore: Record review-cycle-1 ",
        home.command()
            .current_dir(m.repo.path())
            .args(approve)
            .args(["--mission", &m.slug, "--json"]),
    );
    let branch = format!("kitty/mission-{}", m.slug);
    let subjects = || m.repo.git(&["log", "--format=%s", &branch]);
    assert!(!subjects().contains("Record review-cycle"), "not committed");
    kitty(&approve);
    let log = subjects();
    assert_eq!(
        log.matches("Record review-cycle-1 (approved)").count(),
        1,
        "{log}"
    );
    assert!(!m.dir().join("tasks/WP01-part-1/review-cycle-2.md").exists());
    let events =
        std::fs::read_to_string(coord.join(format!("kitty-specs/{}/status.events.jsonl", m.slug)))
            .unwrap();
    assert_eq!(
        events.matches("\"to_lane\": \"approved\"").count(),
        1,
        "{events}"
    );
    let dirty = m
        .repo
        .git(&["-C", coord.to_str().unwrap(), "status", "--porcelain"]);
    assert!(dirty.trim().is_empty(), "left uncommitted:\n{dirty}");
}

/// A move-task killed while it records a hop (staging it, or inside its commit) leaves the hop in
/// the status log or not at all, never half a line; the next move reads the lane the log says,
/// and its commit takes in what the killed one left, so the coordination worktree ends clean
/// with each hop recorded once.
// Unix-only: the kill points (see `KillPoint`).
#[cfg(unix)]
#[test]
fn a_move_killed_while_recording_a_hop_is_completed_by_the_next_move() {
    use kitty_testkit::MissionStage;
    for pattern in [" add -- kitty-specs/", " commit --quiet "] {
        let home = crate::builder().build();
        let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
        let coord = m.repo.path().join(format!(".worktrees/{}-coord", m.slug));
        let log_path = coord.join(format!("kitty-specs/{}/status.events.jsonl", m.slug));
        killed_at(
            &home,
            &m.repo,
            pattern,
            home.command()
                .current_dir(m.repo.path())
                .args(["agent", "tasks", "move-task", "WP01", "--to", "claimed"])
                .args(["--mission", &m.slug, "--json"]),
        );
        let hops = |to: &str| hops(&log_path, to);
        assert!(hops("claimed") <= 1, "{pattern}");
        home.command()
            .current_dir(m.repo.path())
            .args(["agent", "tasks", "move-task", "WP01", "--to", "in_progress"])
            .args(["--mission", &m.slug, "--json"])
            .run()
            .assert_success();
        assert_eq!((hops("claimed"), hops("in_progress")), (1, 1), "{pattern}");
        let dirty = m
            .repo
            .git(&["-C", coord.to_str().unwrap(), "status", "--porcelain"]);
        assert!(
            dirty.trim().is_empty(),
            "{pattern}: left uncommitted:\n{dirty}"
        );
    }
}

/// An implement killed at any step of its claim (the lane being made, the claim's commits on the
/// coordination branch, the claim's fields on the target) leaves no half-made lane at its path,
/// each hop once or not at all, and the next implement by the same agent finishes the claim:
/// the lane in place, the package in progress once, the checkout's claim fields committed.
// Unix-only: the kill points (see `KillPoint`).
#[cfg(unix)]
#[test]
fn an_implement_killed_at_any_step_is_finished_by_the_next_one() {
    use kitty_testkit::MissionStage;
    for pattern in [
        " worktree add ",
        " read-tree ",
        " worktree move ",
        " status transition batch ",
        " Start WP01 implementation ",
        " claimed for implementation ",
    ] {
        let home = crate::builder().build();
        let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
        let coord = m.repo.path().join(format!(".worktrees/{}-coord", m.slug));
        let lane = m.repo.path().join(format!(".worktrees/{}-lane-a", m.slug));
        let log_path = coord.join(format!("kitty-specs/{}/status.events.jsonl", m.slug));
        let dirt = || {
            m.repo
                .git(&["status", "--porcelain", "--untracked-files=no"])
        };
        let before = dirt();
        let implement = || {
            home.command()
                .current_dir(m.repo.path())
                .args(["agent", "action", "implement", "WP01", "--agent", "claude"])
                .args(["--mission", &m.slug, "--json"])
        };
        killed_at(&home, &m.repo, pattern, implement());
        let hops = |to: &str| hops(&log_path, to);
        assert!(hops("in_progress") <= 1, "{pattern}");
        // A lane at its path is a whole one: on its branch, sparse, its inputs merged.
        if lane.exists() {
            assert!(lane.join(".git").exists(), "{pattern}");
            assert!(
                !lane
                    .join(format!("kitty-specs/{}/status.events.jsonl", m.slug))
                    .exists(),
                "{pattern}: a lane not yet sparse is in place"
            );
        }
        let again = implement().run();
        again.assert_success();
        assert_eq!((hops("claimed"), hops("in_progress")), (1, 1), "{pattern}");
        assert!(lane.join(".git").exists(), "{pattern}");
        assert!(
            !m.repo.path().join(".worktrees/.partial").exists(),
            "{pattern}: the half-made lane is gone"
        );
        assert_eq!(
            dirt(),
            before,
            "{pattern}: the claim's fields left uncommitted"
        );
        let coord_dirt = m
            .repo
            .git(&["-C", coord.to_str().unwrap(), "status", "--porcelain"]);
        assert!(coord_dirt.is_empty(), "{pattern}: {coord_dirt}");
    }
}

/// `command` run until a git it starts stalls on `pattern`, then killed by a signal and its git
/// children waited for: what a kill -9 at that step leaves.
#[cfg(unix)]
#[track_caller]
fn killed_at(home: &IsolatedHome, repo: &Repo, pattern: &str, command: KittyCommand) {
    let stall = home.stall_git_on(pattern);
    let running = command.spawn();
    assert!(
        stall.wait_until_stalled(Duration::from_secs(20)),
        "{pattern}: git never got there"
    );
    let killed = running.kill();
    assert_eq!(
        killed.code(),
        None,
        "{pattern}: killed by a signal\n{killed}"
    );
    drop(stall);
    assert!(repo.wait_until_idle(Duration::from_secs(20)), "{pattern}");
}

/// WP01's lines into `to` in the status log at `log` (each read whole, or the test fails).
#[cfg(unix)]
fn hops(log: &std::path::Path, to: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("whole lines"))
        .filter(|e| e["wp_id"] == "WP01" && e["to_lane"] == to)
        .count()
}

/// A merge killed at any step (the lane into the mission branch, the number, the done move, the
/// squash, the bookkeeping, the flattening, the clean-up) is finished by the next one, as if it
/// had not been killed: each commit once, the package done once, no state or lock left.
#[cfg(unix)]
#[test]
fn a_merge_killed_at_any_step_is_finished_by_the_next_one() {
    use kitty_testkit::MissionStage;
    for pattern in [
        " reset --hard --quiet ",
        " assign mission_number=",
        " status transition WP01",
        " merge --squash ",
        " record done transitions ",
        " flatten coordination ",
        " capture mission retrospective ",
    ] {
        let home = crate::builder().build();
        let m = home.mission_at(MissionStage::Analysed { work_packages: 1 });
        let kitty = |args: &[&str]| {
            home.command()
                .current_dir(m.repo.path())
                .args(args)
                .args(["--mission", &m.slug, "--json"])
                .run()
        };
        let out = kitty(&["agent", "action", "implement", "WP01", "--agent", "claude"]);
        let lane = std::path::PathBuf::from(out.assert_success().json().str("/workspace"));
        std::fs::write(lane.join("work.txt"), "done\n").unwrap();
        m.repo.git_in(&lane, &["add", "work.txt"]);
        m.repo
            .git_in(&lane, &["commit", "-q", "-m", "feat(WP01): work"]);
        kitty(&["agent", "tasks", "mark-status", "T001", "--status", "done"]).assert_success();
        for to in ["for_review", "in_review", "approved"] {
            kitty(&["agent", "tasks", "move-task", "WP01", "--to", to]).assert_success();
        }
        let target = m.repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]);
        let target = target.trim().to_string();
        let merge = || {
            home.command().current_dir(m.repo.path()).args([
                "merge",
                "--mission",
                &m.slug,
                "--allow-unaccepted",
            ])
        };
        killed_at(&home, &m.repo, pattern, merge());
        let again = merge().run();
        again.assert_success();
        let subjects = m.repo.git(&["log", "--format=%s", "-5", &target]);
        let subjects: Vec<&str> = subjects.lines().collect();
        let slug = &m.slug;
        assert_eq!(
            subjects[..4],
            [
                format!("chore({slug}): capture mission retrospective"),
                format!(
                    "chore({slug}): flatten coordination metadata after branch deletion (#3086)"
                ),
                format!("chore({slug}): record done transitions for merged WPs"),
                format!("feat(kitty/mission-{slug}): squash merge of mission"),
            ],
            "{pattern}\n{again}"
        );
        assert!(
            !subjects[4].contains("squash merge"),
            "{pattern}: one squash"
        );
        let coord_log = m.repo.path().join(format!(
            ".worktrees/{slug}-coord/kitty-specs/{slug}/status.events.jsonl"
        ));
        assert_eq!(hops(&coord_log, "done"), 1, "{pattern}");
        let mission_log = m
            .repo
            .git(&["log", "--format=%s", &format!("kitty/mission-{slug}")]);
        assert_eq!(
            mission_log.matches("assign mission_number=").count(),
            1,
            "{pattern}: the number once"
        );
        // No state file or lock at any depth (their directories may stay, empty).
        let left = files_under(&m.repo.path().join(".kittify/runtime/merge"));
        assert!(left.is_empty(), "{pattern}: {left:?}");
        assert_eq!(
            m.repo
                .git(&["status", "--porcelain", "--untracked-files=no"]),
            "",
            "{pattern}"
        );
    }
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(files_under(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

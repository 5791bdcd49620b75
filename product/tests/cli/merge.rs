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

/// An interrupted merge of `m`, recorded under its mission id.
fn recorded(m: &StagedMission) -> std::path::PathBuf {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(m.dir().join("meta.json")).unwrap()).unwrap();
    let id = meta["mission_id"].as_str().unwrap();
    let dir = m.repo.path().join(".kittify/runtime/merge").join(id);
    std::fs::create_dir_all(dir.join("workspace")).unwrap();
    let state = serde_json::json!({"mission_id": id, "mission_slug": m.slug, "target_branch": "main", "wp_order": ["WP01"]});
    std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
    dir
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
fn a_merge_a_recorded_resume_and_a_skipped_gate_are_the_reference_s_to_run() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    recorded(&m);
    let before = git_state(&m);
    // A merge in JSON is refused here; in text it is the reference's.
    let out = merge(&home, &m, &["--json"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "JSON_NEEDS_DRY_RUN");
    let text = merge(&home, &m, &[]);
    text.assert_code(1);
    assert!(text.stderr().contains("reference"), "{text}");
    for extra in [
        &["--dry-run", "--json", "--resume"][..],
        &["--json", "--abort", "--note", "x"],
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

#[test]
fn the_flags_win_over_the_mission_s_retention_policy_and_the_config_s_strategy_over_squash() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let config = m.repo.path().join(".kittify/config.yaml");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{original}merge:\n  strategy: rebase\n")).unwrap();
    let meta = m.dir().join("meta.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    v["retain_branches"] = true.into();
    v["retain_worktrees"] = "yes".into();
    std::fs::write(&meta, v.to_string()).unwrap();
    let forecast = |extra: &[&str]| {
        let mut args = vec!["--dry-run", "--json"];
        args.extend_from_slice(extra);
        let out = merge(&home, &m, &args);
        out.assert_success();
        out.json().value().clone()
    };
    let doc = forecast(&[]);
    assert_eq!(doc["strategy"], "rebase");
    assert_eq!(
        (&doc["delete_branch"], &doc["remove_worktree"]),
        (&false.into(), &false.into())
    );
    assert_eq!(
        doc["retention"],
        serde_json::json!({
            "branch_source": "meta",
            "worktree_source": "meta",
            "warnings": [
                "retention honored for branches (source: meta.json)",
                "malformed retain_worktrees value in meta.json ('yes'); treated as retaining (fail-closed)",
            ],
        })
    );
    let pick = |extra: &[&str]| {
        let doc = forecast(extra);
        (
            doc["delete_branch"].as_bool().unwrap(),
            doc["remove_worktree"].as_bool().unwrap(),
            doc["retention"]["branch_source"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    assert_eq!(
        pick(&["--delete-branch", "--keep-worktree"]),
        (true, false, "cli".into())
    );
    assert_eq!(
        pick(&["--keep-branch", "--remove-worktree"]),
        (false, true, "cli".into())
    );
    // The last of the two forms wins.
    assert!(
        pick(&["--keep-branch", "--delete-branch"]).0,
        "the later --delete-branch wins"
    );
    assert_eq!(forecast(&["--strategy", "squash"])["strategy"], "squash");
}

#[test]
fn a_target_must_exist_here_or_on_the_origin_and_the_refusal_says_where_it_came_from() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let refusal = |extra: &[&str], mission: &str| {
        let out = home
            .command()
            .current_dir(m.repo.path())
            .args(["merge", "--mission", mission, "--dry-run", "--json"])
            .args(extra)
            .run();
        out.assert_code(1)
            .json()
            .assert_eq("/error_code", "TARGET_BRANCH_NOT_FOUND")
            .str("/error")
            .to_string()
    };
    assert_eq!(
        refusal(&["--target", "nosuch"], &m.slug),
        "Target branch 'nosuch' does not exist locally or on origin."
    );
    // Only on the origin: enough.
    let head = m.repo.git(&["rev-parse", "HEAD"]);
    m.repo
        .git(&["update-ref", "refs/remotes/origin/release", head.trim()]);
    merge(&home, &m, &["--dry-run", "--json", "--target", "release"])
        .assert_success()
        .json()
        .assert_eq("/target_branch", "release");
    // The mission's own target, gone.
    let meta = m.dir().join("meta.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    v["target_branch"] = "gone".into();
    std::fs::write(&meta, v.to_string()).unwrap();
    assert_eq!(
        refusal(&[], &m.slug),
        format!(
            "Target branch 'gone' (from meta.json) does not exist locally or on origin. Check kitty-specs/{}/meta.json.",
            m.slug
        )
    );
    // No target recorded: the origin's default branch (its last path component), here missing.
    m.repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/team/trunk",
    ]);
    assert_eq!(
        refusal(&[], "nosuch"),
        "Target branch 'trunk' (resolved as primary branch) does not exist locally or on origin. Check kitty-specs/nosuch/meta.json."
    );
}

#[test]
fn a_missing_or_malformed_lanes_manifest_is_refused_in_the_reference_s_words() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let lanes = m.dir().join("lanes.json");
    let refusal = |code: &str| {
        merge(&home, &m, &["--dry-run", "--json"])
            .assert_code(1)
            .json()
            .assert_eq("/error_code", code)
            .str("/error")
            .to_string()
    };
    std::fs::write(&lanes, "[]").unwrap();
    assert_eq!(
        refusal("LANES_CORRUPT"),
        format!(
            "lanes.json at {} is corrupt or malformed: list indices must be integers or slices, not str",
            lanes.display()
        )
    );
    std::fs::remove_file(&lanes).unwrap();
    // Unreadable (a directory) is malformed, not missing.
    std::fs::create_dir(&lanes).unwrap();
    refusal("LANES_CORRUPT");
    std::fs::remove_dir(&lanes).unwrap();
    assert_eq!(
        refusal("LANES_MISSING"),
        format!(
            "lanes.json is required for {}. Run the task-finalization step to compute execution lanes.",
            m.dir().display()
        )
    );
}

#[test]
fn the_mission_is_found_by_its_slug_without_the_id_and_an_unreadable_meta_is_refused() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let short = m.slug.rsplit_once('-').unwrap().0.to_string();
    home.command()
        .current_dir(m.repo.path())
        .args(["merge", "--mission", &short, "--dry-run", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/mission_slug", m.slug.as_str());
    let meta = m.dir().join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::remove_file(&meta).unwrap();
    std::fs::create_dir(&meta).unwrap();
    let out = merge(&home, &m, &["--dry-run", "--json"]);
    let e = out
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "META_UNREADABLE")
        .str("/error")
        .to_string();
    assert!(
        e.starts_with("Cannot resolve the merge target branch: Cannot read "),
        "{e}"
    );
    std::fs::remove_dir(&meta).unwrap();
    std::fs::write(&meta, text).unwrap();
}

#[test]
fn an_abort_clears_the_recorded_merge_then_captures_and_commits_the_retrospective() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let dir = recorded(&m);
    std::fs::write(dir.join("lock"), "held").unwrap();
    let lock = m
        .repo
        .path()
        .join(".kittify/runtime/merge/__global_merge__/lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "t").unwrap();
    let out = merge(&home, &m, &["--abort", "--json"]);
    let doc = out.assert_success().json();
    doc.assert_eq("/state_cleared", true).assert_eq(
        "/messages",
        serde_json::json!([
            format!(
                "Aborted merge for {}. State and workspace cleaned up.",
                m.slug
            ),
            "Removed merge lock."
        ]),
    );
    // The state and workspace go; the lock inside the mission's directory stays, as the reference's.
    assert!(
        !dir.join("state.json").exists()
            && !dir.join("workspace").exists()
            && dir.join("lock").exists()
    );
    assert!(!lock.exists());
    let record = m.dir().join("retrospective.yaml");
    assert!(std::fs::read_to_string(&record).unwrap().contains(
        "  kind: runtime\n  id: spec-kitty-generator\n  display: Spec Kitty Generator\n"
    ));
    let head = m.repo.git(&["log", "-1", "--format=%s"]);
    assert_eq!(
        head.trim(),
        format!("chore({}): capture mission retrospective", m.slug)
    );
    let log = std::fs::read_to_string(m.dir().join("status.events.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["provenance_kind"], "runtime_post_completion");
    assert_eq!(
        last["actor"],
        serde_json::json!({"display": null, "id": "spec-kitty-generator", "kind": "runtime"})
    );
    // A second abort: nothing recorded, nothing to capture, nothing to commit.
    let again = merge(&home, &m, &["--abort"]);
    again
        .assert_success()
        .assert_stdout_contains("No active merge state found for");
    assert_eq!(m.repo.git(&["log", "-1", "--format=%s"]), head);
}

#[test]
fn an_abort_off_the_target_branch_leaves_the_capture_uncommitted_with_a_warning() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    m.repo.git(&["checkout", "-q", "-b", "elsewhere"]);
    let out = merge(&home, &m, &["--abort"]);
    out.assert_success();
    assert!(
        out.stderr()
            .contains("was captured but could NOT be committed"),
        "{out}"
    );
    assert!(
        m.repo
            .git(&["status", "--porcelain"])
            .contains("retrospective.yaml")
    );
}

#[test]
fn a_resume_with_nothing_recorded_is_refused_and_odd_input_is_the_reference_s() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = merge(&home, &m, &["--resume", "--json"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "NO_MERGE_TO_RESUME");
    merge(&home, &m, &["--resume"])
        .assert_code(1)
        .assert_stdout_contains("Error: No interrupted merge to resume.");
    let unsafe_handle = home
        .command()
        .current_dir(m.repo.path())
        .args(["merge", "--abort", "--mission", "../x", "--json"])
        .run();
    unsafe_handle.assert_code(2);
    unsafe_handle
        .json()
        .assert_eq("/error_code", "UNSAFE_MISSION_HANDLE");
    // A state file the reference would crash on, and a configured policy: handed over.
    let dir = recorded(&m);
    std::fs::write(dir.join("state.json"), "[1]").unwrap();
    handed(merge(&home, &m, &["--abort", "--json"]));
    std::fs::remove_file(dir.join("state.json")).unwrap();
    let policy = home
        .command()
        .current_dir(m.repo.path())
        .env("SPEC_KITTY_MODE", "x")
        .args(["merge", "--abort", "--json", "--mission", &m.slug])
        .run();
    handed(policy);
    assert!(!m.dir().join("retrospective.yaml").exists());
}

#[test]
fn an_abort_clears_a_state_recorded_under_another_key_and_removes_a_dirty_merge_worktree() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let runtime = m.repo.path().join(".kittify/runtime/merge");
    let state = |slug: &str| {
        serde_json::json!({"mission_id": "other-key", "mission_slug": slug, "target_branch": "main", "wp_order": []})
            .to_string()
    };
    for (key, slug) in [("other-key", m.slug.as_str()), ("zzz", "another-mission")] {
        std::fs::create_dir_all(runtime.join(key)).unwrap();
        std::fs::write(runtime.join(key).join("state.json"), state(slug)).unwrap();
    }
    // A stray state file directly under the runtime directory belongs to no mission.
    std::fs::write(runtime.join("state.json"), "{}").unwrap();
    // The workspace is a real merge worktree with untracked work: a plain removal fails.
    let ws = runtime.join("other-key/workspace");
    m.repo.git(&[
        "worktree",
        "add",
        "--quiet",
        "--detach",
        ws.to_str().unwrap(),
    ]);
    std::fs::write(ws.join("untracked.txt"), "x").unwrap();
    let out = merge(&home, &m, &["--abort", "--json"]);
    out.assert_success()
        .json()
        .assert_eq("/state_cleared", true);
    assert!(!runtime.join("other-key").exists());
    assert!(runtime.join("zzz/state.json").exists() && runtime.join("state.json").exists());
    let listed = m.repo.git(&["worktree", "list", "--porcelain"]);
    assert!(!listed.contains("other-key"), "{listed}");
}

#[test]
fn an_abort_hands_over_odd_state_names_and_a_recorded_mid8() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let dir = recorded(&m);
    let odd = serde_json::json!({"mission_id": "../escape", "mission_slug": m.slug, "target_branch": "main", "wp_order": []});
    std::fs::write(dir.join("state.json"), odd.to_string()).unwrap();
    handed(merge(&home, &m, &["--abort", "--json"]));
    let odd = serde_json::json!({"mission_id": "fine", "mission_slug": "a/b", "target_branch": "main", "wp_order": []});
    std::fs::write(dir.join("state.json"), odd.to_string()).unwrap();
    handed(merge(&home, &m, &["--abort", "--json"]));
    std::fs::remove_file(dir.join("state.json")).unwrap();
    let meta = m.dir().join("meta.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    v["mid8"] = "01ABCDEF".into();
    std::fs::write(&meta, v.to_string()).unwrap();
    handed(merge(&home, &m, &["--abort", "--json"]));
    assert!(!m.dir().join("retrospective.yaml").exists());
}

#[test]
fn an_abort_clears_the_states_kept_under_the_mission_s_id_and_slug_whatever_they_record() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let id_dir = recorded(&m);
    let renamed = serde_json::json!({"mission_id": "x", "mission_slug": "old-name", "target_branch": "main", "wp_order": []});
    let slug_dir = m.repo.path().join(".kittify/runtime/merge").join(&m.slug);
    std::fs::create_dir_all(&slug_dir).unwrap();
    for dir in [&id_dir, &slug_dir] {
        std::fs::write(dir.join("state.json"), renamed.to_string()).unwrap();
    }
    merge(&home, &m, &["--abort", "--json"])
        .assert_success()
        .json()
        .assert_eq("/state_cleared", true);
    assert!(!id_dir.join("state.json").exists() && !slug_dir.join("state.json").exists());
}

#[test]
fn an_abort_of_an_unknown_mission_captures_nothing() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    let out = home
        .command()
        .current_dir(m.repo.path())
        .args(["merge", "--abort", "--mission", "no-such-mission", "--json"])
        .run();
    out.assert_success().json().assert_eq(
        "/messages",
        serde_json::json!([
            "No active merge state found for no-such-mission. Workspace cleaned up."
        ]),
    );
    assert!(!m.repo.specs_dir().join("no-such-mission").exists());
}

#[test]
fn an_abort_commits_only_files_that_exist_so_a_deleted_log_stays_deleted() {
    let home = IsolatedHome::new();
    let m = home.mission_at(MissionStage::Finalized { work_packages: 1 });
    merge(&home, &m, &["--abort"]).assert_success();
    let head = m.repo.git(&["log", "-1", "--format=%H"]);
    std::fs::remove_file(m.dir().join("status.events.jsonl")).unwrap();
    merge(&home, &m, &["--abort"]).assert_success();
    assert_eq!(m.repo.git(&["log", "-1", "--format=%H"]), head);
    let status = m.repo.git(&["status", "--porcelain"]);
    assert!(
        status.contains("D kitty-specs/") && status.contains("status.events.jsonl"),
        "{status}"
    );
}

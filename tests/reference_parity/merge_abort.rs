//! `merge --abort` and `merge --resume` with nothing to resume, through kitty and through the
//! reference, on a finalized coordinated mission: the recorded merge state, its workspace, the
//! global lock and the legacy state file cleared; the retrospective captured and committed on
//! the target; retention honoured; compared exit code, stdout lines and repository state.

use crate::action_review::text_both;
use crate::execution::finalized;
use crate::finalize::{SLUG, as_is};
use crate::harness::{Side, assert_state_parity};

const MID: &str = "01M91EKYBAA4XY7TBB9N2XES50";

fn abort() -> Vec<&'static str> {
    vec!["merge", "--abort", "--mission", SLUG]
}

/// An interrupted merge's leftovers, the same on both sides.
fn interrupted(side: &Side) {
    let runtime = side.repo.path().join(".kittify/runtime/merge");
    let state = serde_json::json!({
        "mission_id": MID, "mission_slug": SLUG, "target_branch": "feat/x",
        "wp_order": ["WP01", "WP02"], "completed_wps": ["WP01"],
    });
    std::fs::create_dir_all(runtime.join(MID).join("workspace")).unwrap();
    std::fs::write(runtime.join(MID).join("state.json"), state.to_string()).unwrap();
    std::fs::write(runtime.join(MID).join("workspace/scratch"), "x").unwrap();
    std::fs::write(runtime.join(MID).join("notes.txt"), "x").unwrap();
    std::fs::create_dir_all(runtime.join("__global_merge__")).unwrap();
    std::fs::write(
        runtime.join("__global_merge__/lock"),
        "2026-12-06T00:00:00+00:00",
    )
    .unwrap();
    std::fs::write(side.repo.path().join(".kittify/merge-state.json"), "{}").unwrap();
}

/// What is left under `.kittify/runtime/merge` and of the legacy state file.
fn leftovers(side: &Side) -> Vec<String> {
    let base = side.repo.path().join(".kittify");
    let mut out = Vec::new();
    let mut stack = vec![base.join("runtime/merge")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(&base).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.push(base.join("merge-state.json").exists().to_string());
    out.sort();
    out
}

#[track_caller]
fn same(k: &Side, r: &Side, args: &[&str]) -> kitty_testkit::RunOutput {
    let (ko, ro) = text_both(k, r, args);
    assert_state_parity(k, r, &ko, &ro);
    // The reference's console folds lines at 80 columns: compared as words.
    let last =
        |o: &kitty_testkit::RunOutput| o.stdout().split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(last(&ko), last(&ro), "\n{ko}\n{ro}");
    assert_eq!(leftovers(k), leftovers(r));
    ko
}

#[test]
fn an_abort_clears_the_recorded_merge_and_commits_the_mission_s_retrospective() {
    let (k, r) = finalized("coord", as_is);
    // Nothing to resume, nothing recorded: the reference's refusal, then an abort with no state.
    let none = same(&k, &r, &["merge", "--resume", "--mission", SLUG]);
    none.assert_code(1);
    for side in [&k, &r] {
        interrupted(side);
    }
    let out = same(&k, &r, &abort());
    out.assert_success()
        .assert_stdout_contains(
            "Aborted merge for greeting-cli-01M91EKY. State and workspace cleaned up.",
        )
        .assert_stdout_contains("Removed merge lock.");
    let log = k.repo.git(&["log", "-1", "--format=%s"]);
    assert_eq!(
        log.trim(),
        format!("chore({SLUG}): capture mission retrospective")
    );
    assert_eq!(leftovers(&k), ["false", "runtime/merge/__global_merge__"]);
    // Again: nothing recorded, the record exists and is committed, so nothing changes.
    same(&k, &r, &abort())
        .assert_success()
        .assert_stdout_contains("No active merge state found for");
}

#[test]
fn an_abort_of_a_mission_that_retains_its_worktrees_captures_nothing() {
    let (k, r) = finalized("coord", |fd| {
        let meta = fd.join("meta.json");
        let mut m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
        m["retain_worktrees"] = true.into();
        m["retain_branches"] = "yes".into();
        std::fs::write(&meta, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    });
    for side in [&k, &r] {
        side.repo.git(&["add", "--all"]);
        side.repo.git(&["commit", "--quiet", "-m", "retain"]);
    }
    same(&k, &r, &abort())
        .assert_success()
        .assert_stdout_contains("coordination worktree kept during abort");
    assert!(
        !k.repo
            .specs_dir()
            .join(SLUG)
            .join("retrospective.yaml")
            .exists()
    );
}

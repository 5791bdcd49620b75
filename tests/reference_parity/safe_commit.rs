//! `safe-commit` through both CLIs on copies of one mission repository (initialised by the
//! reference, the mission created by kitty, on `feat/plan`): where each file is routed, what is
//! refused, every document, file, commit and branch after every step.

use crate::harness::{Side, assert_parity, pair_copied, run_both};

#[track_caller]
fn step(k: &Side, r: &Side, args: &[&str]) {
    let (ko, ro) = run_both(k, r, args, &[]);
    assert_parity(k, r, &ko, &ro);
}

fn write(sides: [&Side; 2], rel: &str, text: &str) {
    for side in sides {
        let path = side.repo.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn safe_commit_routes_refuses_and_commits_as_the_reference_does() {
    let (k, r) = pair_copied(crate::planning::setup(&[]));
    let m = k.repo.mission_dirs()[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let dir = format!("kitty-specs/{m}");
    let spec = format!("{dir}/spec.md");
    let status = format!("{dir}/status.events.jsonl");
    // A planning file goes to the mission's target branch, the one checked out.
    write([&k, &r], &spec, "# Spec\n\nGreeting.\n");
    step(&k, &r, &["safe-commit", &spec, "-m", "Add spec"]);
    // Unchanged: nothing to commit, not an error.
    step(&k, &r, &["safe-commit", &spec, "-m", "Again"]);
    // A status file belongs on the coordination branch: refused from the target's checkout.
    write([&k, &r], &status, "");
    step(&k, &r, &["safe-commit", &status, "-m", "Status"]);
    // Named explicitly, the branch HEAD is on takes it.
    step(
        &k,
        &r,
        &[
            "safe-commit",
            &status,
            "-m",
            "Status",
            "--to-branch",
            "feat/plan",
        ],
    );
    // A directory stands for its changed files (the expansion reported); other staged work stays.
    write([&k, &r], &format!("{dir}/research.md"), "r\n");
    write([&k, &r], &format!("{dir}/checklists/a.md"), "a\n");
    write([&k, &r], "other.txt", "o\n");
    for side in [&k, &r] {
        side.repo.git(&["add", "other.txt"]);
    }
    step(
        &k,
        &r,
        &[
            "safe-commit",
            &dir,
            "-m",
            "Research",
            "--to-branch",
            "refs/heads/feat/plan",
        ],
    );
    // (The reference stashes other staged work around its commit and, when git refuses the
    // commit, fails to restore it: `staged_work_survives_a_refused_commit` holds kitty to
    // keeping it; here it is committed first.)
    for side in [&k, &r] {
        side.repo.git(&["commit", "-q", "-m", "other"]);
    }
    // Refusals: another branch named, a fully qualified name, a path outside, a file under
    // .worktrees/, protected main, an empty message.
    write([&k, &r], "free.txt", "f\n");
    for args in [
        vec!["safe-commit", "free.txt", "-m", "x", "--to-branch", "other"],
        vec![
            "safe-commit",
            "free.txt",
            "-m",
            "x",
            "--to-branch",
            "refs/heads/refs/heads/x",
        ],
        vec![
            "safe-commit",
            "../outside.txt",
            "-m",
            "x",
            "--to-branch",
            "feat/plan",
        ],
        vec![
            "safe-commit",
            "free.txt",
            "-m",
            "",
            "--to-branch",
            "feat/plan",
        ],
    ] {
        step(&k, &r, &args);
    }
    // Neither the flag nor a mission names the branch: the current one (with the reference's
    // warning on stderr).
    let (ko, ro) = run_both(&k, &r, &["safe-commit", "free.txt", "-m", "Free"], &[]);
    assert_parity(&k, &r, &ko, &ro);
    assert!(ko.stderr().contains(crate_deprecation()), "{ko}");
    for side in [&k, &r] {
        side.repo.git(&["checkout", "-q", "-b", "main"]);
    }
    write([&k, &r], "p.txt", "p\n");
    step(
        &k,
        &r,
        &["safe-commit", "p.txt", "-m", "p", "--to-branch", "main"],
    );
}

fn crate_deprecation() -> &'static str {
    "warning: --to-branch will be required in v3.3; pass it explicitly"
}

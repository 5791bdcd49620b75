//! `spec-kitty safe-commit`: exactly the named files committed on the branch HEAD must be on;
//! other staged work left staged, refusals leaving the repository as it was.

use kitty_testkit::{IsolatedHome, Repo, RunOutput};

fn repo(home: &IsolatedHome) -> Repo {
    let repo = home.repo().branch("feat/x").build();
    std::fs::write(repo.path().join("base.txt"), "base\n").unwrap();
    repo.git(&["add", "base.txt"]);
    repo.git(&["commit", "-q", "-m", "base"]);
    repo
}

/// A repository on `feat/x` with a mission made by kitty's create, and the mission's slug.
fn mission(home: &IsolatedHome, name: &str) -> (Repo, String) {
    let repo = home.repo().branch("feat/x").build();
    let doc = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", name, "--json"])
        .run()
        .assert_success()
        .json();
    let slug = doc.str("/mission_slug").to_string();
    (repo, slug)
}

fn safe_commit(home: &IsolatedHome, repo: &Repo, args: &[&str]) -> RunOutput {
    home.command()
        .current_dir(repo.path())
        .arg("safe-commit")
        .args(args)
        .args(["--json"])
        .run()
}

#[test]
fn the_named_files_alone_are_committed_and_a_directory_stands_for_its_changed_files() {
    let home = IsolatedHome::new();
    let repo = repo(&home);
    let dir = repo.path().join("kitty-specs/m-01/notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.md"), "a\n").unwrap();
    std::fs::write(dir.join("caf\u{e9}.md"), "c\n").unwrap();
    std::fs::write(repo.path().join("other.txt"), "o\n").unwrap();
    repo.git(&["add", "other.txt"]);
    let out = safe_commit(&home, &repo, &["kitty-specs/m-01/notes", "-m", "Notes"]);
    out.assert_success();
    // No branch named and no mission file with a place: the current branch, with the warning.
    assert!(
        out.stderr().contains("--to-branch will be required"),
        "{out}"
    );
    out.json()
        .assert_eq("/committed", true)
        .assert_eq(
            "/files",
            serde_json::json!(["kitty-specs/m-01/notes/a.md", "kitty-specs/m-01/notes/caf\u{e9}.md"]),
        )
        .assert_eq(
            "/expansion/0",
            "Expanding kitty-specs/m-01/notes/ \u{2192} 2 files: kitty-specs/m-01/notes/a.md, kitty-specs/m-01/notes/caf\u{e9}.md",
        );
    let shown = repo.git(&["show", "--name-only", "--format=%s", "-z", "HEAD"]);
    assert!(shown.starts_with("Notes"), "{shown}");
    assert!(!shown.contains("other.txt"), "{shown}");
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "other.txt");
    // The reference's LocalCommit note for a commit of mission files.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join(".kittify/sync-state.json")).unwrap(),
    )
    .unwrap();
    let note = &state["pending_local_commits"][0];
    assert_eq!(note["type"], "LocalCommit");
    assert_eq!(note["mission_id"], "m-01");
    assert_eq!(note["git_hash"], repo.git(&["rev-parse", "HEAD"]));
    // The same files again: nothing to commit, not an error.
    let again = safe_commit(&home, &repo, &["kitty-specs/m-01/notes", "-m", "Again"]);
    again.assert_success().json().assert_eq("/committed", false);
    // A renamed file stands as its new name (git names both).
    repo.git(&[
        "mv",
        "kitty-specs/m-01/notes/a.md",
        "kitty-specs/m-01/notes/b.md",
    ]);
    let moved = safe_commit(&home, &repo, &["kitty-specs/m-01/notes", "-m", "Moved"]);
    moved
        .assert_success()
        .json()
        .assert_eq("/files", serde_json::json!(["kitty-specs/m-01/notes/b.md"]));
}

#[test]
fn staged_work_survives_a_refused_commit_and_refusals_change_nothing() {
    let home = IsolatedHome::new();
    let repo = repo(&home);
    std::fs::write(repo.path().join("other.txt"), "o\n").unwrap();
    repo.git(&["add", "other.txt"]);
    std::fs::write(repo.path().join("new.txt"), "n\n").unwrap();
    let head = repo.git(&["rev-parse", "HEAD"]);
    for (args, code) in [
        (
            vec!["new.txt", "-m", "", "--to-branch", "feat/x"],
            "COMMIT_FAILED",
        ),
        (
            vec!["new.txt", "-m", "x", "--to-branch", "other"],
            "HEAD_MISMATCH",
        ),
        (
            vec![
                "new.txt",
                "-m",
                "x",
                "--to-branch",
                "refs/heads/refs/heads/feat/x",
            ],
            "DESTINATION_REF_SHAPE",
        ),
        (
            vec!["new.txt", "gone.txt", "-m", "x", "--to-branch", "feat/x"],
            "STAGE_FAILED",
        ),
        (
            vec!["../out.txt", "-m", "x", "--to-branch", "feat/x"],
            "PATH_OUTSIDE_WORKTREE",
        ),
    ] {
        let out = safe_commit(&home, &repo, &args);
        out.assert_code(1);
        out.json()
            .assert_eq("/error_code", code)
            .assert_eq("/committed", false)
            .assert_eq("/success", false);
        assert_eq!(repo.git(&["rev-parse", "HEAD"]), head, "{args:?}");
        assert_eq!(
            repo.git(&["diff", "--cached", "--name-only"]),
            "other.txt",
            "{args:?}"
        );
        assert_eq!(repo.git(&["stash", "list"]), "", "{args:?}");
    }
    repo.git(&["checkout", "-q", "-b", "main"]);
    let out = safe_commit(&home, &repo, &["new.txt", "-m", "x", "--to-branch", "main"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "PROTECTED_BRANCH");
    repo.git(&["checkout", "-q", "--detach"]);
    let out = safe_commit(&home, &repo, &["new.txt", "-m", "x"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "HEAD_DETACHED");
}

#[test]
fn a_mission_s_files_go_to_its_branches_without_a_flag() {
    let home = IsolatedHome::new();
    let (repo, m) = mission(&home, "routing");
    let dir = format!("kitty-specs/{m}");
    // A planning file: the mission's target branch, the one checked out; no warning.
    std::fs::write(repo.path().join(&dir).join("spec.md"), "# Spec\n").unwrap();
    let out = safe_commit(&home, &repo, &[&format!("{dir}/spec.md"), "-m", "Spec"]);
    out.assert_success().json().assert_eq("/committed", true);
    assert!(!out.stderr().contains("--to-branch"), "{out}");
    // A status file: the coordination branch, which the checkout is not on.
    std::fs::write(repo.path().join(&dir).join("status.json"), "{}\n").unwrap();
    let status = format!("{dir}/status.json");
    let out = safe_commit(&home, &repo, &[&status, "-m", "Status"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "HEAD_MISMATCH");
    assert!(
        out.json()
            .str("/error")
            .contains(&format!("expected 'kitty/mission-{m}'")),
        "{out}"
    );
    // A file of the mission with no place of its own: the current branch, with the warning.
    std::fs::write(repo.path().join(&dir).join("notes.txt"), "n\n").unwrap();
    let out = safe_commit(&home, &repo, &[&format!("{dir}/notes.txt"), "-m", "Notes"]);
    out.assert_success();
    assert!(
        out.stderr().contains("--to-branch will be required"),
        "{out}"
    );
    // A mission that keeps its status on its target branch: the status file goes there.
    let meta_path = repo.path().join(&dir).join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&meta).unwrap();
    v["topology"] = serde_json::json!("single_branch");
    std::fs::write(&meta_path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let out = safe_commit(&home, &repo, &[&status, "-m", "Status"]);
    out.assert_success().json().assert_eq("/committed", true);
    // A mission directory without meta.json: the primary branch (here the current one).
    std::fs::create_dir_all(repo.path().join("kitty-specs/orphan")).unwrap();
    std::fs::write(repo.path().join("kitty-specs/orphan/spec.md"), "# O\n").unwrap();
    let out = safe_commit(
        &home,
        &repo,
        &["kitty-specs/orphan/spec.md", "-m", "Orphan"],
    );
    out.assert_success().json().assert_eq("/committed", true);
    assert!(!out.stderr().contains("--to-branch"), "{out}");
    // A corrupt meta.json is refused when it decides the branch.
    std::fs::write(repo.path().join(&dir).join("meta.json"), "{").unwrap();
    let out = safe_commit(&home, &repo, &[&format!("{dir}/spec.md"), "-m", "Spec"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "META_UNREADABLE");
}

#[test]
fn a_planning_file_may_land_on_the_primary_branch_after_the_merge_and_a_status_file_may_not() {
    let home = IsolatedHome::new();
    let (repo, slug) = mission(&home, "late");
    let dir = format!("kitty-specs/{slug}");
    repo.git(&["checkout", "-q", "-b", "main"]);
    std::fs::write(repo.path().join(&dir).join("plan.md"), "# Plan\n").unwrap();
    std::fs::write(repo.path().join(&dir).join("status.json"), "{}\n").unwrap();
    // The mission targets feat/x: main (protected, the primary branch) takes its planning file
    // as the reference's post-merge write, not its status file, nor a file of no mission.
    let out = safe_commit(
        &home,
        &repo,
        &[
            &format!("{dir}/status.json"),
            "-m",
            "s",
            "--to-branch",
            "main",
        ],
    );
    out.assert_code(1);
    out.json().assert_eq("/error_code", "PROTECTED_BRANCH");
    std::fs::write(repo.path().join("free.txt"), "f\n").unwrap();
    let out = safe_commit(
        &home,
        &repo,
        &["free.txt", "-m", "f", "--to-branch", "main"],
    );
    out.assert_code(1);
    let plan = format!("{dir}/plan.md");
    let out = safe_commit(
        &home,
        &repo,
        &[&plan, &plan, "-m", "Plan", "--to-branch", "main"],
    );
    out.assert_success()
        .json()
        .assert_eq("/committed", true)
        .assert_eq("/files", serde_json::json!([plan]));
    // A mission that targets main itself gets no such pass.
    let meta_path = repo.path().join(&dir).join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["target_branch"] = serde_json::json!("main");
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    std::fs::write(repo.path().join(&dir).join("plan.md"), "# Plan, again\n").unwrap();
    let out = safe_commit(&home, &repo, &[&plan, "-m", "Plan", "--to-branch", "main"]);
    out.assert_code(1);
    out.json().assert_eq("/error_code", "PROTECTED_BRANCH");
    std::fs::write(repo.path().join(&dir).join("plan.md"), "# Plan\n").unwrap();
    // The work tree's top as a directory: `./`, and its changed files.
    std::fs::remove_file(repo.path().join(&dir).join("status.json")).unwrap();
    repo.git(&["checkout", "-q", "feat/x"]);
    let out = safe_commit(&home, &repo, &[".", "-m", "All", "--to-branch", "feat/x"]);
    let doc = out.assert_success().json();
    assert!(
        doc.str("/expansion/0")
            .starts_with("Expanding ./ \u{2192} "),
        "{out}"
    );
    assert!(
        doc.value()["files"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("free.txt")),
        "{out}"
    );
}

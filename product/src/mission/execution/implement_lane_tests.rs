//! Tests of `implement_lane`: lanes.json, the dependency lanes, the merges into a lane.
#![cfg(test)]

use super::*;

fn lanes(dir: &Path) -> LanesFile {
    std::fs::write(
        dir.join("lanes.json"),
        r#"{"mission_branch": "m", "planning_commit_sha": "abc", "lanes": [
            {"lane_id": "lane-a", "wp_ids": ["WP01", "WP03"], "depends_on_lanes": [], "parallel_group": 0},
            {"lane_id": "lane-c", "wp_ids": ["WP04"], "depends_on_lanes": [], "parallel_group": 0},
            {"lane_id": "lane-b", "wp_ids": ["WP02"], "depends_on_lanes": ["lane-c", "lane-a", "lane-d"], "parallel_group": 1},
            {"lane_id": "lane-d", "wp_ids": ["WP05"], "depends_on_lanes": [], "parallel_group": -1}
        ]}"#,
    )
    .unwrap();
    LanesFile::read(dir).unwrap()
}

#[test]
fn a_lane_s_packages_and_its_dependency_lanes_by_group_then_id_are_read_from_lanes_json() {
    let dir = tempfile::tempdir().unwrap();
    let l = lanes(dir.path());
    assert_eq!(l.members("lane-a"), ["WP01", "WP03"]);
    assert!(l.members("lane-z").is_empty());
    assert_eq!(l.planning_commit.as_deref(), Some("abc"));
    assert_eq!(
        l.dependencies("lane-b"),
        [
            ("m-lane-d".to_string(), "lane-d".to_string()),
            ("m-lane-a".to_string(), "lane-a".to_string()),
            ("m-lane-c".to_string(), "lane-c".to_string()),
        ]
    );
}

#[test]
fn a_dependency_lane_whose_branch_is_gone_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@x"])
            .args(args)
            .current_dir(dir.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "x"]);
    git(&["branch", "m-lane-a"]);
    git(&["branch", "m-lane-c"]);
    let l = lanes(dir.path());
    let repo = Repo::at(
        &Env::from_pairs([("PATH", std::env::var("PATH").unwrap_or_default())]),
        dir.path(),
    );
    assert_eq!(l.missing_dependency(&repo, "lane-a").unwrap(), None);
    assert_eq!(
        l.missing_dependency(&repo, "lane-b").unwrap().as_deref(),
        Some("lane-d")
    );
}

/// A repository in `dir` with one empty commit, and git run in it as `git(args)`.
fn scratch(dir: &Path) -> (Repo, impl Fn(&[&str]) -> String + '_) {
    let pairs = [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("GIT_CONFIG_GLOBAL", "/dev/null".into()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("GIT_AUTHOR_NAME", "t".into()),
        ("GIT_AUTHOR_EMAIL", "t@x".into()),
        ("GIT_COMMITTER_NAME", "t".into()),
        ("GIT_COMMITTER_EMAIL", "t@x".into()),
    ];
    let env = Env::from_pairs(pairs.clone());
    let git = move |args: &[&str]| {
        let pairs = pairs.clone();
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .envs(pairs)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["init", "-q", "-b", "lane"]);
    git(&["commit", "-q", "--allow-empty", "-m", "base"]);
    (Repo::at(&env, dir), git)
}

/// On the current branch, `path` added with `text` and committed.
fn add(dir: &Path, git: &impl Fn(&[&str]) -> String, path: &str, text: &str) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
    git(&["add", path]);
    git(&["commit", "-q", "-m", &format!("add {path}")]);
}

#[test]
fn a_merge_into_a_lane_conflicting_only_on_planning_artifacts_takes_the_coordination_side() {
    let t = tempfile::tempdir().unwrap();
    let (repo, git) = scratch(t.path());
    let wp = "kitty-specs/m/tasks/WP01-x.md";
    git(&["checkout", "-q", "-b", "coord"]);
    add(t.path(), &git, wp, "claimed\n");
    git(&["checkout", "-q", "lane"]);
    add(t.path(), &git, wp, "mapped\n");
    let merge = ["merge", "--no-edit", "--no-ff", "coord"];
    // A run killed half-way through the resolution left the merge in progress.
    let left = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@x",
            "merge",
            "coord",
        ])
        .current_dir(t.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(!left.status.success());
    git(&["checkout", "--theirs", "--", wp]);
    git(&["add", "--", wp]);
    merge_into_lane(&repo, &merge, Some(Keep::Theirs)).unwrap();
    assert_eq!(
        std::fs::read_to_string(t.path().join(wp)).unwrap(),
        "claimed\n"
    );
    assert_eq!(git(&["rev-parse", "HEAD^2"]), git(&["rev-parse", "coord"]));
    let message = git(&["log", "-1", "--format=%B"]);
    assert_eq!(message.trim(), "Merge branch 'coord' into lane");
    assert_eq!(git(&["status", "--porcelain"]), "");

    // Keeping the lane's side (the planning commit merged into a lane).
    git(&["checkout", "-q", "-b", "planning", "HEAD~1"]);
    add(t.path(), &git, "kitty-specs/m/tasks/WP02-y.md", "planned\n");
    git(&["checkout", "-q", "lane"]);
    add(t.path(), &git, "kitty-specs/m/tasks/WP02-y.md", "claimed\n");
    let merge = ["merge", "--no-edit", "-m", "Merge planning", "planning"];
    merge_into_lane(&repo, &merge, Some(Keep::Ours)).unwrap();
    let kept = std::fs::read_to_string(t.path().join("kitty-specs/m/tasks/WP02-y.md"));
    assert_eq!(kept.unwrap(), "claimed\n");
    assert_eq!(git(&["log", "-1", "--format=%s"]).trim(), "Merge planning");
}

#[test]
fn a_merge_into_a_lane_conflicting_on_code_or_told_to_keep_nothing_is_aborted_and_reported() {
    let t = tempfile::tempdir().unwrap();
    let (repo, git) = scratch(t.path());
    git(&["checkout", "-q", "-b", "coord"]);
    add(t.path(), &git, "src/a.rs", "theirs\n");
    add(t.path(), &git, "kitty-specs/m/tasks/WP01-x.md", "claimed\n");
    git(&["checkout", "-q", "lane"]);
    add(t.path(), &git, "src/a.rs", "ours\n");
    add(t.path(), &git, "kitty-specs/m/tasks/WP01-x.md", "mapped\n");
    let head = git(&["rev-parse", "HEAD"]);
    let merge = ["merge", "--no-edit", "--no-ff", "coord"];
    for keep in [Some(Keep::Theirs), None] {
        let err = merge_into_lane(&repo, &merge, keep)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CONFLICT") && err.contains("src/a.rs"),
            "{err}"
        );
        assert_eq!(git(&["rev-parse", "HEAD"]), head);
        assert_eq!(git(&["status", "--porcelain"]), "", "the merge is aborted");
    }
    // Planning artifacts alone, with no side to keep: refused too.
    git(&["reset", "-q", "--hard", "HEAD~2"]);
    add(t.path(), &git, "kitty-specs/m/tasks/WP01-x.md", "mapped\n");
    let err = merge_into_lane(&repo, &merge, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("WP01-x.md"), "{err}");
    assert_eq!(git(&["status", "--porcelain"]), "");
}

#[test]
fn a_lane_s_test_database_is_named_from_the_slug_and_lane_with_runs_of_non_word_characters_as_one_underscore()
 {
    assert_eq!(
        test_db_name("greeting-cli-01M91EKY", "lane-a"),
        "test_greeting_cli_01M91EKY_lane_a"
    );
    assert_eq!(test_db_name("a--b", "lane.x"), "test_a_b_lane_x");
}

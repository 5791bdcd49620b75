//! `init`, `agent mission create` and `agent mission list`: the scaffold, the commit, the queued
//! event, and every validation error leaving the repository and the runtime root untouched.

use kitty_testkit::{DirSnapshot, IsolatedHome, Repo, RunOutput};

fn create(home: &IsolatedHome, repo: &Repo, args: &[&str]) -> RunOutput {
    home.command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create"])
        .args(args)
        .arg("--json")
        .run()
}

#[test]
fn create_scaffolds_commits_and_queues_one_event() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let run = create(
        &home,
        &repo,
        &["add-login-page", "--friendly-name", "Login page"],
    );
    run.assert_success();
    run.diagnostics().assert_none();
    let doc = run.json();
    doc.assert_eq("/result", "success")
        .assert_eq("/mission_slug", "add-login-page")
        .assert_eq("/mission_type", "software-dev")
        .assert_eq("/friendly_name", "Login page")
        .assert_eq("/branch", "feature/kitty");
    let mission_id = doc.str("/mission_id").to_string();
    assert_eq!(mission_id.len(), 26, "mission_id must be a ULID");
    let dir = repo
        .specs_dir()
        .join(format!("add-login-page-{}", &mission_id[..8]));
    doc.assert_eq("/feature_dir", dir.to_str().unwrap())
        .assert_eq("/spec_file", dir.join("spec.md").to_str().unwrap())
        .assert_eq("/meta_file", dir.join("meta.json").to_str().unwrap());
    for f in [
        "meta.json",
        "spec.md",
        "status.events.jsonl",
        "tasks/README.md",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    for key in ["created_at", "created_files", "spec_kitty_version"] {
        doc.at(&format!("/{key}"));
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["mission_id"], mission_id.as_str());

    // The scaffold is committed on the current branch, and only it.
    assert_eq!(repo.commit_count(), 2);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(
        repo.git(&["log", "-1", "--format=%s"])
            .contains("add-login-page")
    );

    // One MissionCreated event, queued where the product's resolver says.
    let events = home.queued_events();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["event_type"], "MissionCreated");
    assert_eq!(e["aggregate_id"], mission_id.as_str());
    assert_eq!(e["aggregate_type"], "Mission");
    assert_eq!(e["project_slug"], "project");
    assert_eq!(e["lamport_clock"], 1);
    assert_eq!(e["payload"]["mission_slug"], "add-login-page");
    for key in [
        "event_id",
        "schema_version",
        "node_id",
        "correlation_id",
        "timestamp",
        "project_uuid",
    ] {
        assert!(!e[key].is_null(), "envelope lacks {key}");
    }
    let line = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let logged: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(logged["event_id"], e["event_id"]);
}

#[test]
fn human_output_goes_to_stdout_without_json() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "create", "plain-text"])
        .run();
    run.assert_success()
        .assert_stdout_contains("Created mission plain-text");
}

#[test]
fn list_reads_every_mission() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    create(&home, &repo, &["first-one"]).assert_success();
    create(&home, &repo, &["second-one", "--mission-type", "research"]).assert_success();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "list", "--json"])
        .run();
    let doc = run.json();
    doc.assert_eq("/count", 2);
    let slugs: Vec<_> = doc
        .at("/missions")
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mission_slug"].as_str().unwrap().to_string())
        .collect();
    assert!(slugs.contains(&"first-one".to_string()) && slugs.contains(&"second-one".to_string()));
}

#[test]
fn init_writes_the_config_once() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--json"])
        .run();
    run.assert_success()
        .json()
        .assert_eq("/project_slug", "project");
    assert!(repo.path().join(".kittify/config.yaml").is_file());
    let again = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--json"])
        .run();
    again
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "already_initialized");
    // A mission can be created right after init (config need not be committed).
    create(&home, &repo, &["after-init"]).assert_success();
}

/// Run `create` expecting `code`, and prove the repository and the runtime root are untouched.
#[track_caller]
fn assert_refused(home: &IsolatedHome, repo: &Repo, args: &[&str], code: &str, hint: &str) {
    let repo_before = DirSnapshot::of(repo.path());
    let root_before = DirSnapshot::of(home.runtime_root().base());
    let run = create(home, repo, args);
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/result", "error")
        .assert_eq("/error_code", code);
    let msg = doc.str("/error");
    assert!(
        msg.contains(hint),
        "message {msg:?} lacks the fix {hint:?}\n{run}"
    );
    doc.at("/spec_kitty_version");
    repo_before.assert_unchanged(&DirSnapshot::of(repo.path()));
    root_before.assert_unchanged(&DirSnapshot::of(home.runtime_root().base()));
    assert!(home.queued_events().is_empty() || code == "mission_exists");
}

#[test]
fn outside_a_git_repository_is_refused() {
    let home = crate::builder().build();
    let dir = home.work_dir().join("plain");
    std::fs::create_dir_all(&dir).unwrap();
    let before = DirSnapshot::of(home.path());
    let run = home
        .command()
        .current_dir(&dir)
        .args(["agent", "mission", "create", "x", "--json"])
        .run();
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "not_a_git_repo");
    assert!(run.stdout().contains("git init"));
    before.assert_unchanged(&DirSnapshot::of(home.path()));
}

#[test]
fn a_repository_without_a_commit_is_refused() {
    let home = crate::builder().build();
    let repo = home.repo().without_commit().build();
    assert_refused(&home, &repo, &["x"], "no_commit", "first commit");
}

#[test]
fn a_repository_without_config_is_refused() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    assert_refused(&home, &repo, &["x"], "not_initialized", "spec-kitty init");
}

#[test]
fn no_activated_mission_types_is_refused() {
    let home = crate::builder().build();
    let repo = home.repo().mission_types(&[]).build();
    assert_refused(&home, &repo, &["x"], "no_mission_types", "activated");
}

#[test]
fn bad_slugs_are_refused() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let long = "a".repeat(65);
    for slug in [
        "Bad_Slug",
        "../escape",
        "a/b",
        "-lead",
        "trail-",
        "dou--ble",
        "émoji",
        long.as_str(),
        "..",
    ] {
        assert_refused(&home, &repo, &[slug], "invalid_slug", "kebab-case");
    }
    assert!(repo.mission_dirs().is_empty());
}

#[test]
fn protected_branches_are_refused_unless_allowed() {
    let home = crate::builder().build();
    for branch in ["main", "master"] {
        let repo = home.repo().name(branch).branch(branch).build();
        assert_refused(
            &home,
            &repo,
            &["x"],
            "protected_branch",
            "SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS",
        );
    }
    let repo = home.repo().name("allowed").branch("main").build();
    home.command()
        .current_dir(repo.path())
        .env("SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS", "yes")
        .args(["agent", "mission", "create", "ok-on-main", "--json"])
        .run()
        .assert_success();
    assert_eq!(repo.commit_count(), 2);
}

#[test]
fn an_existing_slug_is_refused() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    create(&home, &repo, &["taken"]).assert_success();
    assert_refused(&home, &repo, &["taken"], "mission_exists", "another slug");
    assert_eq!(home.queued_events().len(), 1);
    assert_eq!(repo.mission_dirs().len(), 1);
}

#[test]
fn an_unknown_mission_type_is_refused() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    assert_refused(
        &home,
        &repo,
        &["x", "--mission-type", "astrology"],
        "unknown_mission_type",
        "software-dev",
    );
}

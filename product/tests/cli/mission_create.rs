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

/// [`create`] with sync on and the final sync off: the event waits in the outbox.
fn create_queued(home: &IsolatedHome, repo: &Repo, args: &[&str]) -> RunOutput {
    home.command()
        .sync_queue_only()
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
    let run = create_queued(
        &home,
        &repo,
        &["add-login-page", "--friendly-name", "Login page"],
    );
    run.assert_success();
    run.diagnostics().assert_none();
    let doc = run.json();
    doc.assert_eq("/result", "success")
        .assert_mission_dir("/mission_slug", "add-login-page")
        .assert_mission_dir("/slug", "add-login-page")
        .assert_eq("/mission_type", "software-dev")
        .assert_eq("/friendly_name", "Login page")
        .assert_eq("/purpose_tldr", "Login page")
        .assert_eq("/current_branch", "feature/kitty")
        .assert_eq("/target_branch", "feature/kitty")
        .assert_eq("/branch_matches_target", true)
        .assert_eq("/runtime_vars/branch_matches_target", true)
        .assert_eq("/branch_context/matches_target", true)
        .assert_eq("/mission_number", serde_json::Value::Null)
        .assert_eq("/topology", "coord");
    let mission_id = doc.str("/mission_id").to_string();
    assert_eq!(mission_id.len(), 26, "mission_id must be a ULID");
    let dir_name = format!("add-login-page-{}", &mission_id[..8]);
    doc.assert_eq("/mission_slug", dir_name.as_str())
        .assert_eq("/coordination_branch", format!("kitty/mission-{dir_name}"))
        .assert_eq("/coordination_branch_created", true);
    let dir = repo.specs_dir().join(&dir_name);
    // The prompt's path: kitty-specs/<mission_slug>/spec.md exists.
    assert!(
        repo.path()
            .join("kitty-specs")
            .join(doc.str("/mission_slug"))
            .join("spec.md")
            .is_file()
    );
    // A skeleton for the agent that names the mission, its directory and its creation.
    let spec = std::fs::read_to_string(dir.join("spec.md")).unwrap();
    let friendly = doc.str("/friendly_name");
    assert!(
        spec.starts_with(&format!("# Specification: {friendly}\n")),
        "{spec}"
    );
    assert!(spec.contains(&format!("- Mission: `{dir_name}`")), "{spec}");
    assert!(spec.contains("## Requirements"), "{spec}");
    // The work-package guide names the planning branch; the default purpose names the
    // mission and its branch, as the reference's does.
    let branch = doc.str("/target_branch").to_string();
    let tasks = std::fs::read_to_string(dir.join("tasks/README.md")).unwrap();
    assert!(tasks.starts_with("# Work packages\n"), "{tasks}");
    assert!(
        tasks.contains(&format!("merge_target_branch: \"{branch}\"")),
        "{tasks}"
    );
    assert_eq!(
        doc.str("/purpose_context"),
        format!(
            "This mission advances {friendly} on {branch} so stakeholders can track the work from mission creation onward."
        )
    );
    doc.assert_eq(
        "/created_files",
        serde_json::json!([
            dir.join("spec.md"),
            dir.join("meta.json"),
            dir.join("tasks/README.md")
        ]),
    );
    doc.assert_eq("/feature_dir", dir.to_str().unwrap())
        .assert_eq("/spec_file", dir.join("spec.md").to_str().unwrap())
        .assert_eq("/meta_file", dir.join("meta.json").to_str().unwrap());
    for f in [
        "meta.json",
        "spec.md",
        "status.events.jsonl",
        "tasks/README.md",
        "tasks/.gitkeep",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    for key in ["created_at", "created_files", "spec_kitty_version"] {
        doc.at(&format!("/{key}"));
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["mission_id"], mission_id.as_str());

    // The scaffold is committed on the current branch, spec.md left untracked for the agent.
    assert_eq!(repo.commit_count(), 2);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        format!("?? kitty-specs/{dir_name}/spec.md")
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%s"]),
        format!("Add scaffold for feature {dir_name}")
    );
    let committed = repo.git(&["show", "--name-only", "--format=", "HEAD"]);
    let mut committed: Vec<_> = committed.lines().collect();
    committed.sort();
    let expected: Vec<String> = [
        "meta.json",
        "status.events.jsonl",
        "tasks/.gitkeep",
        "tasks/README.md",
    ]
    .iter()
    .map(|f| format!("kitty-specs/{dir_name}/{f}"))
    .collect();
    assert_eq!(committed, expected);
    // The coordination branch points at the commit the mission was planned from.
    assert_eq!(
        repo.git(&["rev-parse", &format!("kitty/mission-{dir_name}")]),
        repo.git(&["rev-parse", "HEAD~1"])
    );

    // One MissionCreated event, queued where the product's resolver says.
    let events = home.queued_events();
    assert_eq!(events.len(), kitty_testkit::EVENTS_PER_CREATE);
    let e = &events[0];
    assert_eq!(e["event_type"], "MissionCreated");
    assert_eq!(e["aggregate_id"], mission_id.as_str());
    assert_eq!(e["aggregate_type"], "Mission");
    assert_eq!(e["project_slug"], "project");
    assert_eq!(e["lamport_clock"], 1);
    assert_eq!(e["payload"]["mission_slug"], dir_name.as_str());
    assert_eq!(e["payload"]["target_branch"], "feature/kitty");
    assert_eq!(e["payload"]["wp_count"], 0);
    assert!(e["payload"].get("feature_dir").is_none());
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
    let log = std::fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0]["event_id"], e["event_id"]);
    assert_eq!(lines[0]["event_type"], "MissionCreated");
    assert_eq!(lines[0]["payload"], e["payload"]);
    assert_eq!(lines[1]["event_type"], "SpecifyStarted");
    assert_eq!(lines[1]["aggregate_id"], dir_name.as_str());
    // Strictly later, so that the event-log merge driver (which orders a log by time, then id)
    // keeps the two in this order.
    let time = |l: &serde_json::Value| l["timestamp"].as_str().unwrap().to_string();
    assert!(time(&lines[0]) < time(&lines[1]), "{log}");
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
        .assert_stdout_contains("Created mission plain-text-");
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
    assert_eq!(slugs.len(), 2);
    assert!(
        slugs[0].starts_with("first-one-") && slugs[1].starts_with("second-one-"),
        "{slugs:?}"
    );
}

#[test]
fn init_writes_the_config_then_only_repairs_it() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    let init = |args: &[&str]| {
        home.command()
            .current_dir(repo.path())
            .arg("init")
            .args(args)
            .arg("--json")
            .run()
    };
    let run = init(&["--ai", "claude", "--non-interactive"]);
    run.assert_success();
    let first = run.json();
    first
        .assert_eq("/project_slug", "project")
        .assert_eq("/already_initialized", false)
        .assert_eq(
            "/mission_types",
            serde_json::json!(["software-dev", "documentation", "research", "plan"]),
        )
        .assert_eq("/agents", serde_json::json!(["claude"]));
    let uuid = first.str("/project_uuid").to_string();
    let node = first.str("/node_id").to_string();
    let build = first.str("/build_id").to_string();
    assert_eq!(node.len(), 12);
    assert_eq!(build, spec_kitty::internals::ids::build_id(&uuid, &node));
    let path = repo.path().join(".kittify/config.yaml");
    let written = std::fs::read_to_string(&path).unwrap();
    // Running it again changes nothing, with or without --force.
    for args in [&[][..], &["--force"][..]] {
        let again = init(args);
        again.assert_success();
        again
            .json()
            .assert_eq("/already_initialized", true)
            .assert_eq("/project_uuid", uuid.as_str())
            .assert_eq("/added_keys", serde_json::json!([]));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
    }
    // A conflicting explicit value needs --force, and even then the identity stays.
    init(&["--project-slug", "other"])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "already_initialized");
    // So do other mission types; the ones already active are no conflict.
    init(&["--mission-type", "research"])
        .assert_code(1)
        .json()
        .assert_eq("/error_code", "already_initialized");
    let active = ["software-dev", "documentation", "research", "plan"];
    let same: Vec<&str> = active.iter().flat_map(|t| ["--mission-type", t]).collect();
    init(&same)
        .assert_success()
        .json()
        .assert_eq("/already_initialized", true);
    init(&["--project-slug", "other", "--force"])
        .assert_success()
        .json()
        .assert_eq("/project_slug", "other")
        .assert_eq("/project_uuid", uuid.as_str())
        .assert_eq("/node_id", node.as_str())
        .assert_eq("/build_id", build.as_str());
    // A mission can be created right after init (config need not be committed).
    create(&home, &repo, &["after-init"]).assert_success();
}

#[test]
fn init_without_a_reference_writes_the_repository_files_and_names_the_skipped_agent_step() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--ai", "claude", "--json"])
        .run();
    run.assert_success();
    let doc = run.json();
    doc.assert_eq("/agent_files/agents", serde_json::json!(["claude"]))
        .assert_eq("/agent_files/written_by", serde_json::Value::Null)
        .assert_eq("/repository_files/.gitignore", "created");
    let skipped = doc.str("/agent_files/skipped");
    for needle in [
        "pip install spec-kitty-cli==3.2.7",
        "spec-kitty agent config add claude",
    ] {
        assert!(skipped.contains(needle), "{needle} in {skipped}");
    }
    let ignore = std::fs::read_to_string(repo.path().join(".gitignore")).unwrap();
    assert!(ignore.starts_with("# Added by Spec Kitty CLI (auto-managed)\n.claude/\n"));
    assert!(ignore.contains("\n.worktrees/\n"));
    let attributes = std::fs::read_to_string(repo.path().join(".gitattributes")).unwrap();
    assert_eq!(attributes.matches(" merge=spec-kitty-").count(), 7);
    let drivers = repo.git(&["config", "--local", "--get-regexp", "^merge\\..*\\.driver$"]);
    assert_eq!(drivers.lines().count(), 6, "{drivers}");
    assert!(
        drivers.contains("merge.spec-kitty-meta.driver spec-kitty merge-driver-meta %O %A %B"),
        "{drivers}"
    );
    assert!(repo.path().join(".kittify/metadata.yaml").is_file());
    // Without --ai there is no agent step at all.
    let plain = home.repo().name("plain").without_config().build();
    home.command()
        .current_dir(plain.path())
        .args(["init", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/agent_files", serde_json::Value::Null);
}

#[test]
fn init_keeps_a_user_s_gitignore_and_attributes_and_adds_only_what_is_missing() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    std::fs::write(repo.path().join(".gitignore"), "target/\r\n.claude/\r\n").unwrap();
    std::fs::write(repo.path().join(".gitattributes"), "*.png binary\n").unwrap();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--json"])
        .run();
    run.assert_success()
        .json()
        .assert_eq("/repository_files/.gitignore", "updated")
        .assert_eq("/repository_files/.gitattributes", "updated");
    let ignore = std::fs::read_to_string(repo.path().join(".gitignore")).unwrap();
    assert!(
        ignore.starts_with(
            "target/\r\n.claude/\r\n\r\n# Added by Spec Kitty CLI (auto-managed)\r\n.codex/\r\n"
        ),
        "{ignore:?}"
    );
    assert_eq!(ignore.matches(".claude/").count(), 1);
    let attributes = std::fs::read_to_string(repo.path().join(".gitattributes")).unwrap();
    assert!(attributes.starts_with(
        "*.png binary\nkitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n"
    ));
    // A symlinked .gitignore is refused, not written through.
    #[cfg(unix)]
    {
        let other = home.repo().name("linked").without_config().build();
        std::os::unix::fs::symlink("/dev/null", other.path().join(".gitignore")).unwrap();
        let run = home
            .command()
            .current_dir(other.path())
            .args(["init", "--json"])
            .run();
        run.assert_code(1);
        assert!(run.json().str("/error").contains("symbolic link"), "{run}");
    }
}

#[test]
fn init_says_in_words_what_it_did() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    let init = || {
        home.command()
            .current_dir(repo.path())
            .args(["init", "--ai", "claude", "--non-interactive"])
            .run()
    };
    let top = repo.path().display().to_string();
    init()
        .assert_success()
        .assert_stdout_contains(&format!("Initialized spec-kitty project project in {top}."));
    init().assert_success().assert_stdout_contains(&format!(
        "{top} is already initialized; nothing was missing."
    ));
}

#[test]
fn init_repairs_a_partial_config_and_keeps_unknown_keys_and_identity() {
    let home = crate::builder().build();
    let text = "project:\n  uuid: e0eda9e8-b04e-473b-8ecd-dba0de886465\n  slug: kept\n  node_id: aaaaaaaaaaaa\n  repo_slug: org/kept\ncustom_tool:\n  setting: [1, 2]\n";
    let repo = home.repo().config_yaml(text).build();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--force", "--json"])
        .run();
    run.assert_success();
    run.json()
        .assert_eq("/project_uuid", "e0eda9e8-b04e-473b-8ecd-dba0de886465")
        .assert_eq("/project_slug", "kept")
        .assert_eq("/node_id", "aaaaaaaaaaaa")
        .assert_eq(
            "/build_id",
            spec_kitty::internals::ids::build_id(
                "e0eda9e8-b04e-473b-8ecd-dba0de886465",
                "aaaaaaaaaaaa",
            ),
        );
    let yaml = std::fs::read_to_string(repo.path().join(".kittify/config.yaml")).unwrap();
    for kept in [
        "repo_slug: org/kept",
        "custom_tool:",
        "setting:",
        "mission_type_activations:",
        "vcs:",
        "agents:",
    ] {
        assert!(yaml.contains(kept), "{kept} missing from\n{yaml}");
    }
}

#[test]
fn a_kitty_0_1_config_loads_and_init_migrates_it() {
    let home = crate::builder().build();
    let repo = home
        .repo()
        .legacy_config()
        .mission_types(&["research"])
        .build();
    // It loads as it is...
    let run = create(&home, &repo, &["old-config", "--mission-type", "research"]);
    run.assert_success();
    // ...and init migrates it to the reference's key.
    home.command()
        .current_dir(repo.path())
        .args(["init", "--json"])
        .run()
        .assert_success()
        .json()
        .assert_eq("/mission_types", serde_json::json!(["research"]));
    let yaml = std::fs::read_to_string(repo.path().join(".kittify/config.yaml")).unwrap();
    assert!(
        yaml.contains("mission_type_activations:") && !yaml.contains("activated:"),
        "{yaml}"
    );
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
    assert!(home.queued_events().is_empty());
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

/// A repository as a refusal test needs it.
#[derive(Debug, Clone, Copy)]
enum Setup {
    Initialized,
    WithoutCommit,
    WithoutConfig,
    NoMissionTypes,
}

/// Each refusal: its code, a fix its message names, and nothing changed anywhere.
#[rstest::rstest]
#[case::a_repository_without_a_commit(Setup::WithoutCommit, &["x"], "no_commit", "first commit")]
#[case::a_repository_without_config(Setup::WithoutConfig, &["x"], "not_initialized", "spec-kitty init")]
#[case::no_activated_mission_types(
    Setup::NoMissionTypes,
    &["x"],
    "CHARTER_PACK_CONFIG_INVALID",
    "activated"
)]
#[case::an_unknown_mission_type(
    Setup::Initialized,
    &["x", "--mission-type", "astrology"],
    "unknown_mission_type",
    "software-dev"
)]
fn a_create_is_refused(
    #[case] setup: Setup,
    #[case] args: &[&str],
    #[case] code: &str,
    #[case] hint: &str,
) {
    let home = crate::builder().build();
    let repo = match setup {
        Setup::Initialized => home.repo(),
        Setup::WithoutCommit => home.repo().without_commit(),
        Setup::WithoutConfig => home.repo().without_config(),
        Setup::NoMissionTypes => home.repo().mission_types(&[]),
    }
    .build();
    assert_refused(&home, &repo, args, code, hint);
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
fn protected_branches_follow_the_config_list_exactly() {
    let home = crate::builder().build();
    let list = |name: &str, branches: &str, on: &str| {
        home.repo()
            .name(name)
            .branch(on)
            .config_yaml(&format!(
                "project:\n  uuid: 5f0c8c1e-0000-4000-8000-00000000c0de\n  slug: p\nmission_type_activations: [software-dev]\nprotection:\n  protected_branches: {branches}\n"
            ))
            .build()
    };
    // An explicit list protects exactly its branches.
    let repo = list("dev-protected", "[dev]", "dev");
    assert_refused(&home, &repo, &["x"], "protected_branch", "--start-branch");
    // The origin's default branch is protected when the config has no list.
    let repo = home.repo().name("origin-default").branch("trunk").build();
    repo.git(&["update-ref", "refs/remotes/origin/trunk", "HEAD"]);
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk",
    ]);
    assert_refused(
        &home,
        &repo,
        &["x"],
        "protected_branch",
        "SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS",
    );
    let repo = list("main-free", "[dev]", "main");
    create(&home, &repo, &["on-main"]).assert_success();
    // An empty list protects nothing.
    let repo = list("nothing", "[]", "master");
    create(&home, &repo, &["on-master"]).assert_success();
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
    // The reference does not accept `on`, so neither does kitty.
    let repo = home.repo().name("not-allowed").branch("main").build();
    let run = home
        .command()
        .current_dir(repo.path())
        .env("SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS", "on")
        .args(["agent", "mission", "create", "no", "--json"])
        .run();
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "protected_branch");
}

#[test]
fn the_reference_prompt_on_a_primary_branch_starts_a_feature_branch() {
    let home = crate::builder().build();
    let repo = home.repo().branch("main").build();
    let run = create(
        &home,
        &repo,
        &[
            "demo-one",
            "--mission-type",
            "software-dev",
            "--friendly-name",
            "Demo One",
            "--purpose-tldr",
            "Ship the demo",
            "--purpose-context",
            "Why it matters.",
            "--pr-bound",
            "--branch-strategy",
            "already-confirmed",
            "--start-branch",
            "feat/demo-one",
        ],
    );
    run.assert_success();
    let doc = run.json();
    doc.assert_mission_dir("/mission_slug", "demo-one")
        .assert_eq("/current_branch", "feat/demo-one")
        .assert_eq("/target_branch", "feat/demo-one")
        .assert_eq("/purpose_tldr", "Ship the demo")
        .assert_eq("/purpose_context", "Why it matters.")
        .assert_eq("/topology", "coord");
    assert_eq!(
        repo.git(&["symbolic-ref", "--short", "HEAD"]),
        "feat/demo-one"
    );
    assert_eq!(
        repo.git(&["rev-list", "--count", "main"]),
        "1",
        "main is untouched"
    );
    let meta = read_meta(&doc);
    assert_eq!(meta["pr_bound"], true);
}

#[test]
fn a_pr_bound_mission_on_its_merge_target_needs_confirmation_and_changes_nothing() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let repo_before = DirSnapshot::of(repo.path());
    let run = create(&home, &repo, &["x", "--pr-bound"]);
    run.assert_code(1);
    run.json()
        .assert_eq("/error_code", "BRANCH_STRATEGY_CONFIRMATION_REQUIRED")
        .assert_eq("/branch_strategy_gate", "confirmation_required")
        .assert_eq("/merge_target_branch", "feature/kitty");
    repo_before.assert_unchanged(&DirSnapshot::of(repo.path()));
    assert!(home.queued_events().is_empty());
}

#[test]
fn a_failed_create_after_start_branch_puts_the_checkout_back() {
    let home = crate::builder().build();
    let repo = home
        .repo()
        .branch("main")
        .mission_types(&["research"])
        .build();
    // software-dev is not activated: refused after validation, before the switch.
    let run = create(&home, &repo, &["x", "--start-branch", "feat/x"]);
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "unknown_mission_type");
    // A hook that fails after the switch: the branch is removed, main checked out again.
    repo.install_hook("pre-commit", "echo 'hook says no' >&2\nexit 1");
    let run = create(
        &home,
        &repo,
        &[
            "x",
            "--mission-type",
            "research",
            "--start-branch",
            "feat/x",
        ],
    );
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "commit_refused");
    assert!(run.json().str("/error").contains("hook says no"), "{run}");
    assert_eq!(repo.git(&["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(repo.git(&["branch", "--list", "feat/x"]), "");
    assert_eq!(repo.git(&["branch", "--list", "kitty/*"]), "");
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert!(home.queued_events().is_empty());
}

#[test]
fn hooks_run_and_a_failing_hook_leaves_everything_as_it_was() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let marker = repo.path().join(".git/hook-ran");
    repo.install_hook("pre-commit", &format!("touch '{}'", marker.display()));
    create_queued(&home, &repo, &["hooked"]).assert_success();
    assert!(marker.exists(), "the pre-commit hook did not run");

    repo.install_hook(
        "pre-commit",
        "echo 'lint failed' >&2\necho 'see lint.log'\nexit 1",
    );
    // Everything but unreachable loose objects (garbage `git gc` prunes) stays byte for byte.
    let not_objects = |p: &std::path::Path| p.starts_with(".git/objects");
    let repo_before = DirSnapshot::of_filtered(repo.path(), not_objects);
    let refs_before = repo.git(&["for-each-ref"]);
    let queued_before = home.queued_events();
    assert_eq!(queued_before.len(), kitty_testkit::EVENTS_PER_CREATE);
    let run = create_queued(&home, &repo, &["rejected"]);
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "commit_refused");
    // Both of the hook's streams are in the message.
    assert!(
        doc.str("/error").contains("lint failed\nsee lint.log"),
        "{run}"
    );
    repo_before.assert_unchanged(&DirSnapshot::of_filtered(repo.path(), not_objects));
    assert_eq!(repo.git(&["for-each-ref"]), refs_before);
    assert_eq!(home.queued_events(), queued_before);
    assert_eq!(
        repo.git(&["branch", "--list", "kitty/mission-rejected-*"]),
        ""
    );
}

#[test]
fn a_failed_create_removes_the_specs_directory_it_made_and_keeps_one_it_found() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    // No kitty-specs/ at all (removed and committed): the create makes it, and a refused
    // commit must take it away again.
    repo.git(&["rm", "-q", "-r", "kitty-specs"]);
    repo.git(&["commit", "-q", "-m", "no specs"]);
    assert!(!repo.specs_dir().exists());
    repo.install_hook("pre-commit", "exit 1");
    // The work tree (the mission lock and loose objects in .git are not the point here).
    let work_tree = |p: &std::path::Path| p.starts_with(".git");
    for case in ["absent", "empty"] {
        if case == "empty" {
            // An empty kitty-specs/ (git does not track it) is the user's: it stays.
            std::fs::create_dir(repo.specs_dir()).unwrap();
        }
        let before = DirSnapshot::of_filtered(repo.path(), work_tree);
        let run = create(&home, &repo, &["refused"]);
        run.assert_code(1)
            .json()
            .assert_eq("/error_code", "commit_refused");
        before.assert_unchanged(&DirSnapshot::of_filtered(repo.path(), work_tree));
        assert_eq!(repo.specs_dir().exists(), case == "empty", "{case}: {run}");
    }
}

#[test]
fn a_coordination_branch_git_cannot_make_fails_the_create_and_leaves_nothing() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    // A branch named `kitty` leaves no room for `kitty/mission-…` (git cannot make a ref
    // under a ref), which only the background `git branch` finds out.
    repo.git(&["branch", "kitty"]);
    let refs_before = repo.git(&["for-each-ref"]);
    let head_before = repo.git(&["rev-parse", "HEAD"]);
    let run = create(&home, &repo, &["blocked"]);
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "git_failed");
    let msg = doc.str("/error");
    assert!(
        msg.contains("git branch --no-track kitty/mission-blocked-"),
        "the message names the command: {run}"
    );
    assert!(msg.contains("refs/heads/kitty"), "and git's words: {run}");
    assert_eq!(
        repo.git(&["rev-parse", "HEAD"]),
        head_before,
        "nothing committed"
    );
    assert_eq!(repo.git(&["for-each-ref"]), refs_before);
    assert!(repo.mission_dirs().is_empty(), "{:?}", repo.mission_dirs());
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );
    assert!(home.queued_events().is_empty());
}

#[test]
fn options_outside_this_slice_are_refused_by_name() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    assert_refused(
        &home,
        &repo,
        &["x", "--owned-checkout", "."],
        "unsupported_option",
        "--owned-checkout",
    );
}

#[test]
fn a_numeric_prefix_is_dropped_and_a_slug_may_repeat() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let a = create_queued(&home, &repo, &["123-demo"]);
    a.assert_success();
    a.json()
        .assert_mission_dir("/mission_slug", "demo")
        .assert_eq("/friendly_name", "123 demo");
    let b = create_queued(&home, &repo, &["123-demo"]);
    b.assert_success();
    assert_ne!(a.json().str("/mission_slug"), b.json().str("/mission_slug"));
    assert_eq!(repo.mission_dirs().len(), 2);
    assert_eq!(
        home.queued_events().len(),
        2 * kitty_testkit::EVENTS_PER_CREATE
    );
}

/// The time of a ULID, in Unix milliseconds (its first 10 Crockford base-32 digits).
fn ulid_ms(id: &str) -> u64 {
    const DIGITS: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    id[..10]
        .chars()
        .fold(0, |acc, c| acc * 32 + DIGITS.find(c).unwrap() as u64)
}

#[test]
fn same_slug_creates_at_one_instant_step_their_ids_forward_in_order() {
    use spec_kitty::internals::{clock::Clock, mission::create};
    let home = crate::builder().build();
    let repo = home.repo().build();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T12:00:00.100Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let req = create::CreateRequest {
        slug: "twin".into(),
        ..Default::default()
    };
    let made: Vec<String> = (0..3)
        .map(|_| {
            let c = create::create(
                &home.env(),
                &spec_kitty::identity::MachineIdentity::current(),
                &home.runtime_root(),
                repo.path(),
                Clock::fixed(now),
                &req,
            )
            .unwrap();
            c.meta.mission_id
        })
        .collect();
    let start = u64::try_from(now.timestamp_millis()).unwrap();
    let times: Vec<u64> = made.iter().map(|id| ulid_ms(id)).collect();
    // The first takes the instant itself; each next one the next 1024 ms window (the
    // directory name's resolution), one step each.
    assert_eq!(times, vec![start, start + 1024, start + 2048], "{made:?}");
    assert_eq!(repo.mission_dirs().len(), 3);
}

#[test]
fn topology_single_branch_has_no_coordination_branch_and_documentation_gets_its_state() {
    let home = crate::builder().build();
    let repo = home.repo().mission_types(&["documentation"]).build();
    let run = create(
        &home,
        &repo,
        &[
            "docs",
            "--mission-type",
            "documentation",
            "--topology",
            "single_branch",
            "--retain-branches",
        ],
    );
    run.assert_success();
    let doc = run.json();
    doc.assert_eq("/topology", "single_branch")
        .assert_eq("/coordination_branch", serde_json::Value::Null)
        .assert_eq("/coordination_branch_created", false);
    assert_eq!(repo.git(&["branch", "--list", "kitty/*"]), "");
    let meta = read_meta(&doc);
    assert_eq!(meta["documentation_state"]["iteration_mode"], "initial");
    assert_eq!(meta["retain_branches"], true);
    assert!(meta.get("retain_worktrees").is_none());
}

/// The `meta.json` a create document points at.
fn read_meta(doc: &kitty_testkit::JsonDoc) -> serde_json::Value {
    let text = std::fs::read_to_string(doc.str("/meta_file")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn mission_and_mission_type_must_agree_when_both_are_given() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    assert_refused(
        &home,
        &repo,
        &["x", "--mission-type", "research", "--mission", "plan"],
        "unknown_mission_type",
        "research (--mission-type) and plan (--mission)",
    );
    let both = create(
        &home,
        &repo,
        &["y", "--mission-type", "research", "--mission", "research"],
    );
    both.assert_success()
        .assert_stderr_lacks("deprecated")
        .json()
        .assert_eq("/mission_type", "research");
    // --mission alone still works, with a warning on stderr; no option at all warns nothing.
    let alias = create(&home, &repo, &["z", "--mission", "research"]);
    alias
        .assert_success()
        .assert_stderr_contains("--mission is deprecated; use --mission-type")
        .json()
        .assert_eq("/mission_type", "research");
    create(&home, &repo, &["w"])
        .assert_success()
        .assert_stderr_lacks("deprecated");
}

#[test]
fn an_invalid_start_branch_is_refused_before_anything_changes() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    for bad in ["bad..name", "with space", "ends.lock"] {
        assert_refused(
            &home,
            &repo,
            &["x", "--start-branch", bad],
            "START_BRANCH_FAILED",
            "not a valid branch name",
        );
    }
}

#[test]
fn an_invalid_start_branch_is_refused_before_the_checks_that_follow_it() {
    // git itself judges the name (check-ref-format) in the plan, before the purpose is looked
    // at: the refusal names the branch, not the purpose.
    let home = crate::builder().build();
    let repo = home.repo().build();
    assert_refused(
        &home,
        &repo,
        &[
            "x",
            "--start-branch",
            "bad..name",
            "--purpose-tldr",
            "two\nlines",
        ],
        "START_BRANCH_FAILED",
        "not a valid branch name",
    );
}

#[test]
fn an_existing_start_branch_is_switched_to_not_made_again() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    repo.git(&["branch", "topic"]);
    let tip = repo.git(&["rev-parse", "topic"]);
    let run = create(&home, &repo, &["x", "--start-branch", "topic"]);
    run.assert_success();
    run.json().assert_eq("/current_branch", "topic");
    assert_eq!(repo.git(&["symbolic-ref", "--short", "HEAD"]), "topic");
    assert_eq!(
        repo.git(&["rev-parse", "topic~1"]),
        tip,
        "the scaffold commit sits on the old tip"
    );
}

#[test]
fn start_and_target_branches_must_agree_when_both_are_given() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    assert_refused(
        &home,
        &repo,
        &["x", "--start-branch", "feat/a", "--target-branch", "feat/b"],
        "START_BRANCH_TARGET_MISMATCH",
        "feat/a",
    );
    // The error document names both branches, as the reference's does.
    create(
        &home,
        &repo,
        &["x", "--start-branch", "feat/a", "--target-branch", "feat/b"],
    )
    .json()
    .assert_eq("/start_branch", "feat/a")
    .assert_eq("/target_branch", "feat/b");
    create(
        &home,
        &repo,
        &[
            "y",
            "--start-branch",
            "feat/c",
            "--target-branch",
            " feat/c ",
        ],
    )
    .assert_success()
    .json()
    .assert_eq("/current_branch", "feat/c");
}

#[test]
fn off_the_primary_branch_the_default_topology_is_single_branch_unless_pr_bound() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    // origin's default branch is `trunk`; the checkout is `feature/kitty`.
    repo.git(&["update-ref", "refs/remotes/origin/trunk", "HEAD"]);
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk",
    ]);
    create(&home, &repo, &["plain"])
        .assert_success()
        .json()
        .assert_eq("/topology", "single_branch")
        .assert_eq("/coordination_branch", serde_json::Value::Null);
    create(
        &home,
        &repo,
        &[
            "bound",
            "--pr-bound",
            "--branch-strategy",
            "already-confirmed",
        ],
    )
    .assert_success()
    .json()
    .assert_eq("/topology", "coord");
}

#[test]
fn a_blank_target_branch_is_no_target_branch() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let current = repo.git(&["symbolic-ref", "--short", "HEAD"]);
    create(&home, &repo, &["blank", "--target-branch", "  "])
        .assert_success()
        .json()
        .assert_eq("/target_branch", current.as_str());
}

#[test]
fn refusals_carry_the_reference_keys_that_say_what_to_do() {
    let home = crate::builder().build();
    // No mission types activated: the remediation names the config key.
    let repo = home
        .repo()
        .name("no-types")
        .config_yaml(
            "project:\n  uuid: 5f0c8c1e-0000-4000-8000-00000000c0de\n  slug: p\nmission_type_activations: []\n",
        )
        .build();
    let run = create(&home, &repo, &["x"]);
    run.assert_code(1);
    assert!(
        run.json()
            .str("/remediation")
            .contains("mission_type_activations"),
        "{run}"
    );
    // A --start-branch git cannot make (a branch is in the way of its name).
    let repo = home.repo().name("start-fails").build();
    repo.git(&["branch", "feat"]);
    let run = create(&home, &repo, &["x", "--start-branch", "feat/x"]);
    run.assert_code(1)
        .json()
        .assert_eq("/error_code", "START_BRANCH_FAILED")
        .assert_eq("/start_branch", "feat/x");
    // A coordination branch that has moved past the planning head: made ahead of time under
    // every name the next seconds' create of `x` can take (the name holds the id's time).
    let repo = home.repo().name("diverged").build();
    repo.git(&["commit", "-q", "--allow-empty", "-m", "ahead"]);
    let ahead = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    branches_under_the_next_names(&repo, "x", &ahead);
    let target = repo.git(&["symbolic-ref", "--short", "HEAD"]);
    let run = create(&home, &repo, &["x"]);
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "COORDINATION_BRANCH_DIVERGED")
        .assert_eq("/target_branch", target.as_str());
    assert!(
        doc.str("/coordination_branch")
            .starts_with("kitty/mission-x-"),
        "{run}"
    );
    assert!(
        doc.str("/next_step")
            .contains("--force-recreate-coordination-branch"),
        "{run}"
    );
    assert!(repo.mission_dirs().is_empty(), "{run}");
}

#[test]
fn an_unreadable_config_is_an_error_not_a_fresh_project() {
    let home = crate::builder().build();
    let repo = home.repo().without_config().build();
    // `.kittify/config.yaml` is a directory: it exists, and cannot be read.
    std::fs::create_dir_all(repo.path().join(".kittify/config.yaml")).unwrap();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["init", "--json"])
        .run();
    run.assert_code(1);
    let doc = run.json();
    doc.assert_eq("/error_code", "io_error");
    assert!(doc.str("/error").starts_with("cannot read "), "{run}");
}

/// Make a branch at `at` under every coordination-branch name a create of `slug` can take in
/// the next 20 seconds (the name holds the mission id's time, to 1024 ms).
fn branches_under_the_next_names(repo: &Repo, slug: &str, at: &str) {
    let now = chrono::Utc::now();
    for ms in (-1_000..20_000).step_by(250) {
        let id = spec_kitty::internals::ids::ulid(now + chrono::Duration::milliseconds(ms));
        let name = format!("kitty/mission-{slug}-{}", &id[..8]);
        repo.git(&["branch", "-f", &name, at]);
    }
}

#[test]
fn an_existing_coordination_branch_at_the_planning_head_is_reused() {
    let home = crate::builder().build();
    let repo = home.repo().build();
    let head = repo.git(&["rev-parse", "HEAD"]);
    branches_under_the_next_names(&repo, "again", &head);
    let run = create(&home, &repo, &["again"]);
    run.assert_success();
    let doc = run.json();
    doc.assert_eq("/coordination_branch_created", false);
    let branch = doc.str("/coordination_branch").to_string();
    assert_eq!(
        repo.git(&["rev-parse", &branch]),
        head,
        "left where it was, behind the scaffold commit"
    );
}

#[test]
fn the_origin_is_found_also_where_only_git_can_read_the_config() {
    let home = crate::builder().build();
    for (name, include) in [("plain", false), ("included", true)] {
        let repo = home.repo().name(name).build();
        repo.git(&["remote", "add", "origin", "git@github.com:acme/kitty.git"]);
        if include {
            // An include the in-process reader leaves to git.
            repo.git(&["config", "include.path", "extra.config"]);
        }
        create_queued(&home, &repo, &["with-origin"]).assert_success();
        let events = home.queued_events();
        assert_eq!(events.last().unwrap()["repo_slug"], "acme/kitty", "{name}");
    }
}

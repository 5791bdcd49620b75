//! Differential suite: every scenario runs through kitty and through the reference CLI
//! (spec-kitty-cli 3.2.7, installed by `scripts/install-reference`) in identical isolated homes,
//! and the two must agree on exit code, document, files, commits and branches, up to the named
//! differences in `harness::ALLOWED`.

mod accept;
mod action_implement;
mod action_review;
mod delegation;
mod execution;
mod finalize;
mod harness;
mod init_files;
mod map_requirements;
mod merge;
mod merge_abort;
mod merge_drivers;
mod merge_run;
mod planning;
mod retrospect;
mod review;
mod safe_commit;
mod seeded_homes;
#[cfg(unix)]
mod zygote;

use harness::{
    ALLOWED, Side, assert_document_parity, assert_parity, pair, pair_copied, reference, run_both,
};
use kitty_testkit::{IsolatedHome, Repo};

fn feature_repo(home: &IsolatedHome) -> Repo {
    home.repo()
        .branch("feat/work")
        .mission_types(&["software-dev", "documentation", "research", "plan"])
        .build()
}

fn on(branch: &'static str) -> impl Fn(&IsolatedHome) -> Repo {
    move |home: &IsolatedHome| home.repo().branch(branch).build()
}

fn create<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["agent", "mission", "create"];
    v.extend_from_slice(args);
    v
}

fn check(sides: (Side, Side), args: &[&str]) {
    check_env(sides, args, &[]);
}

fn check_env(sides: (Side, Side), args: &[&str], env: &[(&str, &str)]) {
    let (k, r) = sides;
    let (kr, rr) = run_both(&k, &r, &create(args), env);
    assert_parity(&k, &r, &kr, &rr);
}

#[test]
fn the_allowed_differences_are_named_and_the_reference_is_the_pinned_version() {
    assert!(ALLOWED.len() <= 12, "the allowed list must stay short");
    let home = IsolatedHome::new();
    let run = home.reference_command(&reference()).arg("--version").run();
    run.assert_success()
        .assert_stdout_contains(kitty_testkit::REFERENCE_VERSION);
}

// ---- repositories ----

#[test]
fn fresh_repository_default_create() {
    check(pair(feature_repo), &["demo-one"]);
}

#[test]
fn repository_initialised_by_the_reference() {
    let sides = pair_copied(|home| {
        home.repo()
            .branch("main")
            .build_with_reference(&reference(), "feat/ref")
    });
    check(
        sides,
        &["from-ref-init", "--friendly-name", "From Ref Init"],
    );
}

#[test]
fn repository_initialised_by_kitty_then_created_by_both() {
    let sides = pair_copied(|home| {
        let repo = home.repo().branch("main").without_config().build();
        home.command()
            .current_dir(repo.path())
            .args(["init", "--ai", "claude", "--non-interactive", "--json"])
            .run()
            .assert_success();
        repo.git(&["add", "--all"]);
        repo.git(&["commit", "--quiet", "-m", "kitty init"]);
        repo.git(&["switch", "--quiet", "-c", "feat/kitty-init"]);
        repo
    });
    check(sides, &["after-kitty-init"]);
}

// ---- the reference prompt's exact commands and each option ----

#[test]
fn the_agent_prompt_on_a_primary_branch() {
    check(
        pair(on("main")),
        &[
            "demo-one",
            "--mission-type",
            "software-dev",
            "--friendly-name",
            "Demo One",
            "--purpose-tldr",
            "Ship the demo",
            "--purpose-context",
            "Why the demo matters.",
            "--pr-bound",
            "--branch-strategy",
            "already-confirmed",
            "--start-branch",
            "feat/demo-one",
        ],
    );
}

#[test]
fn the_agent_prompt_on_a_feature_branch() {
    check(
        pair(feature_repo),
        &[
            "demo-two",
            "--mission-type",
            "research",
            "--friendly-name",
            "Demo Two",
            "--purpose-tldr",
            "Look into it",
            "--purpose-context",
            "Context.",
        ],
    );
}

#[test]
fn numeric_prefix_and_topology_and_retention() {
    check(
        pair(feature_repo),
        &[
            "123-demo",
            "--topology",
            "single_branch",
            "--retain-branches",
            "--retain-worktrees",
        ],
    );
}

#[test]
fn documentation_through_the_hidden_alias() {
    check(
        pair(feature_repo),
        &[
            "docs-pass",
            "--mission",
            "documentation",
            "--topology",
            "lanes_with_coord",
        ],
    );
}

#[test]
fn target_branch_equal_to_the_current_one() {
    check(
        pair(feature_repo),
        &["targeted", "--target-branch", "feat/work", "--no-pr-bound"],
    );
}

#[test]
fn start_branch_that_already_exists() {
    check(
        pair(|home| {
            let repo = feature_repo(home);
            repo.git(&["branch", "feat/existing"]);
            repo
        }),
        &["existing-start", "--start-branch", "feat/existing"],
    );
}

// ---- validation errors ----

#[test]
fn error_bad_slug() {
    check(pair(feature_repo), &["Bad_Slug"]);
}

#[test]
fn error_unknown_mission_type() {
    check(pair(feature_repo), &["x", "--mission-type", "astrology"]);
}

#[test]
fn error_blank_friendly_name() {
    check(pair(feature_repo), &["x", "--friendly-name", "   "]);
}

#[test]
fn error_pr_bound_without_confirmation() {
    check(pair(feature_repo), &["x", "--pr-bound"]);
}

#[test]
fn error_start_and_target_disagree() {
    check(
        pair(feature_repo),
        &["x", "--start-branch", "feat/a", "--target-branch", "feat/b"],
    );
}

#[test]
fn error_target_branch_not_checked_out() {
    check(pair(feature_repo), &["x", "--target-branch", "main"]);
}

// ---- protected branches and hooks ----

#[test]
fn protected_main_is_refused() {
    check(pair(on("main")), &["x"]);
}

#[test]
fn protected_main_with_the_override() {
    check_env(
        pair(on("main")),
        &["on-main"],
        &[("SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS", "TRUE")],
    );
}

#[test]
fn protected_list_from_the_config() {
    let with_list = |list: &'static str, branch: &'static str| {
        move |home: &IsolatedHome| {
            home.repo()
                .branch(branch)
                .config_yaml(&format!(
                    "project:\n  uuid: 5f0c8c1e-0000-4000-8000-00000000c0de\n  slug: p\n  node_id: 0123456789ab\n  build_id: 3d7c3f4e-0000-5000-8000-000000000000\nmission_type_activations: [software-dev]\nprotection:\n  protected_branches: {list}\n"
                ))
                .build()
        }
    };
    check(pair(with_list("[dev]", "dev")), &["x"]);
    check(pair(with_list("[]", "main")), &["free-main"]);
}

#[test]
fn a_failing_pre_commit_hook() {
    let hooked = |home: &IsolatedHome| {
        let repo = feature_repo(home);
        repo.install_hook("pre-commit", "echo 'hook says no' >&2\nexit 1");
        repo
    };
    let (k, r) = pair(hooked);
    // Unreachable objects are garbage `git gc` prunes; the mission lock file is kitty's own
    // (an empty flock target that stays once made).
    let skip = |p: &std::path::Path| {
        p.starts_with(".git/objects") || p == std::path::Path::new(".git/spec-kitty-mission.lock")
    };
    let before = kitty_testkit::DirSnapshot::of_filtered(k.repo.path(), skip);
    let (kr, rr) = run_both(&k, &r, &create(&["hooked"]), &[]);
    assert_document_parity(&k, &r, &kr, &rr);
    // kitty leaves everything as it was (the reference keeps an untracked scaffold).
    before.assert_unchanged(&kitty_testkit::DirSnapshot::of_filtered(
        k.repo.path(),
        skip,
    ));
    assert!(k.home.queued_events().is_empty());
}

#[test]
fn error_no_activated_mission_types() {
    check(
        pair(|home| home.repo().branch("feat/x").mission_types(&[]).build()),
        &["x"],
    );
}

// ---- the seed note's scenario on a repository the reference initialised ----

#[path = "../strict_json_auth_regression/contract.rs"]
#[allow(dead_code)]
mod contract;

#[test]
fn the_seed_scenario_holds_on_a_reference_initialised_repository() {
    let home = contract::scenario_home().build();
    let seed = kitty_testkit::SessionSeed::shared_only();
    home.seed(&seed);
    let repo = home
        .repo()
        .branch("main")
        .build_with_reference(&reference(), "feat/seed");
    home.grant_sync_consent(&repo);
    let run = contract::mission_create_contract(&home, &repo, "strict-json")
        .unwrap_or_else(|e| panic!("{e}"));
    run.json()
        .assert_mission_dir("/mission_slug", "strict-json");
    run.assert_no_secrets(&[seed.access_token(), seed.refresh_token()]);
    assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
}

#[test]
fn kitty_lists_missions_the_reference_made() {
    let home = IsolatedHome::builder().refusing_server().build();
    let repo = feature_repo(&home);
    let made = home
        .reference_command(&reference())
        .current_dir(repo.path())
        .args([
            "agent",
            "mission",
            "create",
            "made-by-ref",
            "--mission-type",
            "research",
            "--json",
        ])
        .run();
    made.assert_success();
    let dir: serde_json::Value = serde_json::from_str(made.stdout().trim()).unwrap();
    let run = home
        .command()
        .current_dir(repo.path())
        .args(["agent", "mission", "list", "--json"])
        .run();
    let doc = run.json();
    doc.assert_eq("/count", 1)
        .assert_eq("/missions/0/mission_slug", dir["mission_slug"].clone())
        .assert_eq("/missions/0/mission_id", dir["mission_id"].clone())
        .assert_eq("/missions/0/mission_type", "research")
        .assert_eq("/missions/0/target_branch", "feat/work");
}

/// The `MissionCreated` payload kitty queues is the one the reference's own builder
/// (`specify_cli.core.mission_payload.build_mission_created_payload`) makes from the same
/// mission facts, and the envelope's identity is the project config's, which the reference wrote.
#[test]
fn the_queued_mission_created_event_is_the_reference_builders() {
    let home = IsolatedHome::new();
    let repo = home.repo().build_with_reference(&reference(), "feat/work");
    home.grant_sync_consent(&repo);
    let run = home
        .command()
        .sync_queue_only()
        .current_dir(repo.path())
        .args([
            "agent",
            "mission",
            "create",
            "007-payload-parity",
            "--friendly-name",
            "Payload parity",
            "--json",
        ])
        .run();
    run.assert_success();
    let events = home.queued_events();
    assert_eq!(events.len(), kitty_testkit::EVENTS_PER_CREATE);
    let event = &events[0];
    let p = &event["payload"];
    let facts = serde_json::json!({
        "mission_slug": p["mission_slug"], "target_branch": p["target_branch"],
        "mission_type": p["mission_type"], "wp_count": 0, "mission_id": p["mission_id"],
        "mission_number": null, "friendly_name": "Payload parity", "purpose_tldr": null,
        "purpose_context": null, "created_at": p["created_at"],
    });
    let python = reference().path().parent().unwrap().join("python");
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(
            "import json, sys\n\
             from specify_cli.core.mission_payload import build_mission_created_payload\n\
             print(json.dumps(build_mission_created_payload(**json.loads(sys.argv[1]))))",
        )
        .arg(facts.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p, &expected, "kitty's payload vs the reference builder's");
    let config = std::fs::read_to_string(repo.path().join(".kittify/config.yaml")).unwrap();
    for key in ["node_id", "build_id", "uuid"] {
        let line = config
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap_or_else(|| panic!("the reference wrote no project.{key}"));
        let value = line
            .split_once(':')
            .unwrap()
            .1
            .trim()
            .trim_matches(['\'', '"']);
        let field = if key == "uuid" { "project_uuid" } else { key };
        assert_eq!(event[field], value, "{field}");
    }
}

//! `agent mission finalize-tasks` and `agent tasks status` through kitty and through the
//! reference, on the same single-branch mission (two work packages, WP02 depending on WP01):
//! both modes' happy paths and the refusals, compared document, files and commits.

use std::path::Path;

use kitty_testkit::{IsolatedHome, Repo};

use crate::harness::{assert_parity, pair, run_both};

pub(crate) const SLUG: &str = "greeting-cli-01M91EKY";
const CONTENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/lifecycle_parity/content"
);

fn content(name: &str) -> String {
    std::fs::read_to_string(Path::new(CONTENT).join(name)).unwrap()
}

/// A repository on `feat/x` with a committed single-branch mission (spec and plan), its
/// tasks.md and WP files written but not committed, as an agent leaves them before finalize;
/// `tweak` edits the mission directory first. Built the same way on both sides, so directory
/// order (which the reference's lists follow) is the same too.
pub(crate) fn mission(tweak: impl Fn(&Path) + Copy) -> impl Fn(&IsolatedHome) -> Repo {
    shaped("single_branch", tweak)
}

/// [`mission`] of `topology`; a coordinated one has its coordination branch where create makes
/// it (at the target branch before the mission's first commit) and no work tree yet.
pub(crate) fn shaped(
    topology: &'static str,
    tweak: impl Fn(&Path) + Copy,
) -> impl Fn(&IsolatedHome) -> Repo {
    move |home: &IsolatedHome| {
        let repo = home.repo().branch("feat/x").build();
        crate::harness::with_origin_head(&repo);
        let coordinated = topology != "single_branch";
        if coordinated {
            repo.git(&["branch", &format!("kitty/mission-{SLUG}")]);
            // The work trees' directory is ignored, as init's .gitignore has it.
            std::fs::write(repo.path().join(".gitignore"), ".worktrees/\n").unwrap();
            repo.git(&["add", ".gitignore"]);
            repo.git(&["commit", "--quiet", "-m", "ignore work trees"]);
        }
        let fd = repo.specs_dir().join(SLUG);
        std::fs::create_dir_all(fd.join("tasks")).unwrap();
        let mut meta = serde_json::json!({
            "created_at": "2026-12-04T21:15:59.722912+00:00",
            "flattened": false,
            "friendly_name": "greeting cli",
            "mission_id": "01M91EKYBAA4XY7TBB9N2XES50",
            "mission_number": null,
            "mission_slug": SLUG,
            "mission_type": "software-dev",
            "purpose_context": "Exercise finalize-tasks.",
            "purpose_tldr": "greeting cli",
            "slug": SLUG,
            "target_branch": "feat/x",
            "topology": topology,
        });
        if coordinated {
            meta["coordination_branch"] = format!("kitty/mission-{SLUG}").into();
        }
        std::fs::write(
            fd.join("meta.json"),
            serde_json::to_string_pretty(&meta).unwrap() + "\n",
        )
        .unwrap();
        std::fs::write(fd.join("spec.md"), content("spec.md")).unwrap();
        std::fs::write(fd.join("plan.md"), content("plan.md")).unwrap();
        std::fs::write(fd.join("tasks/.gitkeep"), "").unwrap();
        std::fs::write(fd.join("tasks/README.md"), "# Tasks\n").unwrap();
        repo.git(&["add", "--all"]);
        repo.git(&["commit", "--quiet", "-m", "spec and plan"]);
        std::fs::write(fd.join("tasks.md"), content("tasks.md")).unwrap();
        for wp in ["WP01-greeting-tool.md", "WP02-greeting-tests.md"] {
            std::fs::write(fd.join("tasks").join(wp), content(wp)).unwrap();
        }
        tweak(&fd);
        repo
    }
}

pub(crate) fn as_is(_: &Path) {}

pub(crate) fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn finalize(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "mission", "finalize-tasks", "--mission", SLUG];
    v.extend_from_slice(extra);
    v
}

#[track_caller]
fn check(tweak: fn(&Path), args: &[&str]) -> (kitty_testkit::RunOutput, kitty_testkit::RunOutput) {
    let (k, r) = pair(mission(tweak));
    let (kr, rr) = run_both(&k, &r, args, &[]);
    assert_parity(&k, &r, &kr, &rr);
    (kr, rr)
}

#[test]
fn validate_only_reports_the_same_changes_and_previews_and_writes_nothing() {
    let (k, _) = check(as_is, &finalize(&["--validate-only"]));
    k.assert_success()
        .json()
        .assert_eq("/result", "validation_passed")
        .assert_eq("/validation/lanes_preview/count", 2);
}

#[test]
fn finalize_rewrites_the_work_packages_seeds_status_and_commits_as_the_reference_does() {
    let (k, _) = check(as_is, &finalize(&[]));
    k.assert_success()
        .json()
        .assert_eq("/commit_created", true)
        .assert_eq("/bootstrap/newly_seeded", 2)
        .assert_eq("/dependencies_parsed/WP02/0", "WP01");
}

#[test]
fn finalize_run_twice_commits_only_the_new_lanes_the_second_time() {
    let (k, r) = pair(mission(as_is));
    let (kr, rr) = run_both(&k, &r, &finalize(&[]), &[]);
    kr.assert_success();
    rr.assert_success();
    let (kr, rr) = run_both(&k, &r, &finalize(&[]), &[]);
    assert_parity(&k, &r, &kr, &rr);
    kr.json().assert_eq("/bootstrap/already_initialized", 2);
}

#[test]
fn an_unknown_mission_is_the_detection_error_listing_the_missions() {
    let (k, _) = check(
        as_is,
        &["agent", "mission", "finalize-tasks", "--mission", "nope"],
    );
    k.assert_code(1)
        .json()
        .assert_eq("/error_code", "FEATURE_CONTEXT_UNRESOLVED")
        .assert_eq("/available_missions/0", SLUG);
}

#[test]
fn a_functional_requirement_no_work_package_covers_is_refused() {
    let (k, _) = check(
        |fd| {
            edit(
                &fd.join("spec.md"),
                "| FR-002 |",
                "| FR-003 | Farewell | As a developer, I want a farewell. | Low | Open |\n| FR-002 |",
            )
        },
        &finalize(&[]),
    );
    k.json()
        .assert_eq("/unmapped_functional_requirements/0", "FR-003")
        .assert_eq("/requirement_refs_parsed/WP01/0", "FR-001");
}

#[test]
fn a_dependency_cycle_is_refused_in_both_modes() {
    let tweak: fn(&Path) = |fd| {
        edit(
            &fd.join("tasks.md"),
            "- None (starting package).",
            "- Depends on WP02.",
        )
    };
    for args in [finalize(&[]), finalize(&["--validate-only"])] {
        let (k, _) = check(tweak, &args);
        k.json()
            .assert_eq("/cycles/0", serde_json::json!(["WP01", "WP02", "WP01"]));
    }
}

#[test]
fn a_tasks_md_without_a_work_package_s_section_is_refused() {
    let (k, _) = check(
        |fd| {
            edit(
                &fd.join("tasks.md"),
                "## Work Package WP02: Greeting tests",
                "## Greeting tests",
            )
        },
        &finalize(&[]),
    );
    k.json().assert_eq("/missing_wp_sections/0", "WP02");
}

#[test]
fn owning_a_file_under_kitty_specs_is_refused() {
    let (k, _) = check(
        |fd| {
            edit(
                &fd.join("tasks/WP02-greeting-tests.md"),
                "owned_files: [\"tests/test_greet.sh\"]",
                "owned_files: [\"tests/test_greet.sh\", \"kitty-specs/notes.md\"]",
            )
        },
        &finalize(&[]),
    );
    k.json()
        .assert_eq("/error_code", "INVALID_WP_OWNED_FILES_KITTY_SPECS")
        .assert_eq("/invalid_owned_files/0/path", "kitty-specs/notes.md");
}

#[test]
fn the_board_matches_before_and_after_finalize() {
    let (k, r) = pair(mission(as_is));
    let status = ["agent", "tasks", "status", "--mission", SLUG];
    let (kr, rr) = run_both(&k, &r, &status, &[]);
    assert_parity(&k, &r, &kr, &rr);
    kr.json().assert_eq("/by_lane/genesis", 2);
    let (kr, rr) = run_both(&k, &r, &finalize(&[]), &[]);
    kr.assert_success();
    rr.assert_success();
    let (kr, rr) = run_both(&k, &r, &status, &[]);
    assert_parity(&k, &r, &kr, &rr);
    kr.json().assert_eq("/by_lane/planned", 2);
}

#[test]
fn a_coordinated_mission_validates_as_the_reference_does_and_writes_nothing() {
    for topology in ["coord", "lanes_with_coord"] {
        let (k, r) = pair(shaped(topology, as_is));
        let (kr, rr) = run_both(&k, &r, &finalize(&["--validate-only"]), &[]);
        assert_parity(&k, &r, &kr, &rr);
        kr.assert_success()
            .json()
            .assert_eq("/validation/bootstrap_preview/newly_seeded", 2);
        assert!(!k.repo.path().join(".worktrees").exists());
    }
}

#[test]
fn a_coordinated_mission_is_finalized_on_its_branches_and_work_tree_as_by_the_reference() {
    for topology in ["coord", "lanes_with_coord"] {
        let (k, r) = pair(shaped(topology, as_is));
        let (kr, rr) = run_both(&k, &r, &finalize(&[]), &[]);
        assert_parity(&k, &r, &kr, &rr);
        kr.assert_success()
            .json()
            .assert_eq("/commit_created", true)
            .assert_eq("/bootstrap/newly_seeded", 2);
        let coord = k.repo.path().join(format!(".worktrees/{SLUG}-coord"));
        assert!(
            coord
                .join(format!("kitty-specs/{SLUG}/status.json"))
                .is_file(),
            "{topology}"
        );
        // Again: the work tree is reused, only the lanes change.
        let (kr, rr) = run_both(&k, &r, &finalize(&[]), &[]);
        assert_parity(&k, &r, &kr, &rr);
        kr.json().assert_eq("/bootstrap/already_initialized", 2);
    }
}

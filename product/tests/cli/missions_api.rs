//! The plugin API's read-only view of missions (`spec_kitty::missions`), on states the real
//! commands made: a created mission, a finalized one (flat and coordinated), and the errors.

use spec_kitty::missions::{self, MissionsError};

use crate::finalize_tasks::{SLUG, mission, run};

/// Each work package as (id, lane, dependencies).
fn packages(m: &missions::Mission) -> Vec<(&str, Option<&str>, Vec<&str>)> {
    m.work_packages
        .iter()
        .map(|w| {
            (
                w.id.as_str(),
                w.lane.as_deref(),
                w.dependencies.iter().map(String::as_str).collect(),
            )
        })
        .collect()
}

#[test]
fn a_finalized_mission_lists_its_work_packages_with_their_lanes_and_dependencies() {
    for topology in ["single_branch", "coord"] {
        let home = crate::builder().build();
        let (repo, dir) = mission(&home, topology);
        let before = missions::list(repo.path()).unwrap();
        assert_eq!(before.len(), 1, "{topology}");
        assert!(
            before[0].work_packages.len() == 2
                && before[0].work_packages.iter().all(|w| w.lane.is_none()),
            "{topology}: the status log knows no package before finalize: {before:?}"
        );
        run(
            &home,
            &repo,
            &["agent", "mission", "finalize-tasks", "--mission", SLUG],
        )
        .assert_success();
        // Only `tasks/WP*.md` are work packages: not a draft with another extension, nor the
        // README, whatever frontmatter they carry.
        let wp01 = std::fs::read_to_string(dir.join("tasks/WP01-greeting-tool.md")).unwrap();
        std::fs::write(
            dir.join("tasks/WP09-draft.txt"),
            wp01.replace("WP01", "WP09"),
        )
        .unwrap();
        std::fs::write(dir.join("tasks/README.md"), wp01.replace("WP01", "WP10")).unwrap();
        // From a subdirectory too: the project is found above it.
        let all = missions::list(&dir).unwrap();
        assert_eq!(all.len(), 1, "{topology}");
        let m = &all[0];
        assert_eq!(m.slug, SLUG);
        assert_eq!(m.mission_id, "01M91EKYBAA4XY7TBB9N2XES50");
        assert_eq!(m.mission_type.as_deref(), Some("software-dev"));
        assert_eq!(m.dir, dir);
        let wps = packages(m);
        assert_eq!(
            wps,
            [
                ("WP01", Some("planned"), vec![]),
                ("WP02", Some("planned"), vec!["WP01"])
            ],
            "{topology}"
        );
        assert!(m.work_packages.iter().all(|w| !w.title.is_empty()));
        // `find` takes what --mission takes.
        for handle in [SLUG, "01M91EKYBAA4XY7TBB9N2XES50", "01M91EKY"] {
            assert_eq!(
                missions::find(repo.path(), handle).unwrap().as_ref(),
                Some(m),
                "{handle}"
            );
        }
        assert_eq!(missions::find(repo.path(), "nosuch").unwrap(), None);
    }
}

#[test]
fn outside_a_project_and_with_a_corrupt_log_the_error_says_what_to_do() {
    let home = crate::builder().build();
    let err = missions::list(home.work_dir()).unwrap_err();
    assert!(matches!(err, MissionsError::NoProject(_)), "{err}");
    assert!(err.to_string().contains("spec-kitty init"), "{err}");
    let (repo, dir) = mission(&home, "single_branch");
    std::fs::write(dir.join("status.events.jsonl"), "{not json\n").unwrap();
    let err = missions::list(repo.path()).unwrap_err();
    assert!(
        matches!(&err, MissionsError::Status { slug, .. } if slug == SLUG),
        "{err}"
    );
    assert!(
        err.to_string().contains("agent tasks status --mission"),
        "{err}"
    );
}

#[test]
fn each_lifecycle_fixture_stage_is_what_the_real_commands_leave() {
    use kitty_testkit::MissionStage;
    let home = crate::builder().build();
    let log = |m: &kitty_testkit::StagedMission| m.repo.git(&["log", "--format=%s"]);

    let created = home.mission_at(MissionStage::Created);
    assert_eq!(created.mission_id.len(), 26);
    let listed = missions::find(created.repo.path(), &created.slug)
        .unwrap()
        .unwrap();
    assert!(listed.work_packages.is_empty());

    let specified = home.mission_at(MissionStage::Specified);
    assert!(
        log(&specified).starts_with("Add the spec\n"),
        "{}",
        log(&specified)
    );
    assert!(
        specified
            .repo
            .git(&["status", "--porcelain"])
            .trim()
            .is_empty()
    );

    let planned = home.mission_at(MissionStage::Planned);
    let text = std::fs::read_to_string(planned.dir().join("plan.md")).unwrap();
    assert!(text.contains("**Language/Version**: POSIX sh"));
    assert!(
        planned
            .repo
            .git(&[
                "log",
                "-1",
                "--format=%H",
                "--",
                &format!("kitty-specs/{}/plan.md", planned.slug)
            ])
            .trim()
            .len()
            == 40,
        "the plan is committed: {}",
        log(&planned)
    );

    let finalized = home.mission_at(MissionStage::Finalized { work_packages: 3 });
    let m = missions::find(finalized.repo.path(), &finalized.slug)
        .unwrap()
        .unwrap();
    let wps = packages(&m);
    assert_eq!(
        wps,
        [
            ("WP01", Some("planned"), vec![]),
            ("WP02", Some("planned"), vec!["WP01"]),
            ("WP03", Some("planned"), vec!["WP02"]),
        ]
    );
    let board = home
        .command()
        .current_dir(finalized.repo.path())
        .args([
            "agent",
            "tasks",
            "status",
            "--mission",
            &finalized.slug,
            "--json",
        ])
        .run();
    board.assert_success();
}

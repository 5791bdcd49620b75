//! The plugin API's read-only view of missions (`spec_kitty::missions`), on states the real
//! commands made: a created mission, a finalized one (flat and coordinated), and the errors.

use spec_kitty::missions::{self, MissionsError};

use crate::finalize_tasks::{SLUG, mission, run};

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
        // From a subdirectory too: the project is found above it.
        let all = missions::list(&dir).unwrap();
        assert_eq!(all.len(), 1, "{topology}");
        let m = &all[0];
        assert_eq!(m.slug, SLUG);
        assert_eq!(m.mission_id, "01M91EKYBAA4XY7TBB9N2XES50");
        assert_eq!(m.mission_type.as_deref(), Some("software-dev"));
        assert_eq!(m.dir, dir);
        let wps: Vec<(&str, Option<&str>, Vec<&str>)> = m
            .work_packages
            .iter()
            .map(|w| {
                (
                    w.id.as_str(),
                    w.lane.as_deref(),
                    w.dependencies.iter().map(String::as_str).collect(),
                )
            })
            .collect();
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

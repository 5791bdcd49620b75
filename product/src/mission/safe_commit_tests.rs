//! `safe_commit`'s unit tests: placement, paths, sentences, the LocalCommit note.

use super::*;

#[test]
fn a_mission_file_has_a_place_by_its_name_and_folder() {
    assert_eq!(coordinated(&["spec.md"]), Some(false));
    assert_eq!(coordinated(&["status.json"]), Some(true));
    assert_eq!(
        coordinated(&["tasks", "WP01", "review-cycle-1.md"]),
        Some(true)
    );
    assert_eq!(coordinated(&["tasks", "WP01.md"]), Some(false));
    assert_eq!(
        coordinated(&["tasks", "WP01", "review-cycle-1.txt"]),
        Some(false)
    );
    assert_eq!(
        coordinated(&["tasks", "WP01", "x-review-cycle-1.md"]),
        Some(false)
    );
    assert_eq!(coordinated(&["checklists", "a.md"]), Some(false));
    assert_eq!(coordinated(&["traces", "t.md"]), Some(true));
    assert_eq!(coordinated(&["meta.json"]), None);
    assert_eq!(coordinated(&["checklists"]), None);
    assert_eq!(coordinated(&["contracts", "api.md"]), None);
}

#[test]
fn the_first_mission_named_decides_and_its_first_placed_file() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(mission_file(&v(&["a.txt"])), None);
    assert_eq!(mission_file(&v(&["docs/m/spec.md"])), None);
    assert_eq!(
        mission_file(&v(&["docs/x/y.md", "kitty-specs/m/spec.md"])),
        Some(("m".into(), false, false))
    );
    assert_eq!(
        mission_file(&v(&[
            "kitty-specs/m/notes.txt",
            "kitty-specs/m/status.json"
        ])),
        Some(("m".into(), true, true))
    );
    assert_eq!(
        mission_file(&v(&["kitty-specs/m/plan.md", "kitty-specs/m/status.json"])),
        Some(("m".into(), false, false))
    );
    // Another mission's file does not place the first mission's.
    assert_eq!(
        mission_file(&v(&["kitty-specs/m/x", "kitty-specs/n/spec.md"])),
        None
    );
    assert_eq!(
        mission_file(&v(&["kitty-specs/m/traces/t.md"])),
        Some(("m".into(), true, false))
    );
    assert_eq!(mission_file(&v(&["kitty-specs/m"])), None);
}

#[test]
fn a_path_is_resolved_through_links_and_must_be_inside_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let top = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(top.join("sub")).unwrap();
    assert_eq!(
        resolve(&top.join("sub/new/x.txt")),
        top.join("sub/new/x.txt")
    );
    assert_eq!(relative(&top.join("sub/x.txt"), &top).unwrap(), "sub/x.txt");
    assert_eq!(relative(&top, &top).unwrap(), "");
    let out = relative(&top.join("../x.txt"), &top).unwrap_err();
    assert_eq!(out.code(), "PATH_OUTSIDE_WORKTREE");
    assert!(relative(Path::new("/elsewhere/x"), &top).is_err());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(top.join("sub"), top.join("link")).unwrap();
        assert_eq!(resolve(&top.join("link/y.txt")), top.join("sub/y.txt"));
    }
}

#[test]
fn every_refusal_ends_with_what_to_do_or_names_what_was_wrong() {
    let r = Refusal::HeadMismatch {
        root: "/r".into(),
        head: "a".into(),
        expected: "b".into(),
    };
    assert_eq!(
        r.message(),
        "safe_commit: worktree /r HEAD is 'a', expected 'b'. Run `git -C /r checkout b` first."
    );
    assert_eq!(
        Refusal::Stage {
            root: "/r".into(),
            paths: vec!["a".into(), "b's".into()]
        }
        .message(),
        "safe_commit: failed to stage requested files in /r: ['a', \"b's\"]"
    );
    assert!(
        Refusal::Empty("x".into())
            .message()
            .contains("(empty changeset)")
    );
}

#[test]
fn a_commit_of_mission_files_is_noted_once_per_build_and_other_notes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".kittify")).unwrap();
    std::fs::write(
        root.join(".kittify/config.yaml"),
        "project:\n  uuid: u-1\n  build_id: b-1\n",
    )
    .unwrap();
    let frame = |build: &str, uuid: &str| {
        format!(
            r#"{{"type": "LocalCommit", "build_id": "{build}", "project_uuid": "{uuid}", "git_hash": "old"}}"#
        )
    };
    std::fs::write(
        root.join(".kittify/sync-state.json"),
        format!(
            r#"{{"last_saas_confirmed_hash": "abc", "pending_local_commits": [{}, {}, {}]}}"#,
            frame("b-1", "u-1"),
            frame("b-2", "u-1"),
            frame("b-1", "u-2")
        ),
    )
    .unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T01:02:03.000004Z")
        .unwrap()
        .to_utc();
    let rels = ["a.txt".to_string(), "kitty-specs/m/spec.md".to_string()];
    note_local_commit(root, "sha1", &rels, now);
    let text = std::fs::read_to_string(root.join(".kittify/sync-state.json")).unwrap();
    assert!(
        text.starts_with("{\n  \"last_saas_confirmed_hash\": \"abc\",\n"),
        "{text}"
    );
    assert!(!text.ends_with('\n'), "json.dumps writes no newline");
    let v: Value = serde_json::from_str(&text).unwrap();
    let pending = v["pending_local_commits"].as_array().unwrap();
    let builds: Vec<(&str, &str)> = pending
        .iter()
        .map(|f| {
            (
                f["build_id"].as_str().unwrap(),
                f["project_uuid"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(builds, [("b-2", "u-1"), ("b-1", "u-2"), ("b-1", "u-1")]);
    let note = &pending[2];
    assert_eq!(note["git_hash"], "sha1");
    assert_eq!(note["mission_id"], "m");
    assert_eq!(note["changed_files"], json!(["kitty-specs/m/spec.md"]));
    assert_eq!(note["committed_at"], "2026-12-06T01:02:03.000004+00:00");
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("      \""))
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        &keys[keys.len() - 7..],
        [
            "type",
            "git_hash",
            "mission_id",
            "build_id",
            "project_uuid",
            "changed_files",
            "committed_at"
        ]
    );
    // No mission file: no note.
    std::fs::remove_file(root.join(".kittify/sync-state.json")).unwrap();
    note_local_commit(root, "sha2", &["a.txt".to_string()], now);
    assert!(!root.join(".kittify/sync-state.json").exists());
    // A project without a uuid: null, and a build of its own each time.
    std::fs::write(root.join(".kittify/config.yaml"), "project: {}\n").unwrap();
    note_local_commit(root, "sha3", &rels, now);
    note_local_commit(root, "sha4", &rels, now);
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join(".kittify/sync-state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["last_saas_confirmed_hash"], Value::Null);
    let pending = v["pending_local_commits"].as_array().unwrap();
    assert_eq!(pending.len(), 2, "{v}");
    assert_eq!(pending[0]["project_uuid"], Value::Null);
    assert_ne!(pending[0]["build_id"], pending[1]["build_id"]);
}

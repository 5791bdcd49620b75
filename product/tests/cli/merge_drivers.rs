//! The merge drivers as git runs them: three files in one directory, the merge written to the
//! second, nothing on stdout unless a review cycle collided; a refusal on stderr with exit 1.

use kitty_testkit::{IsolatedHome, RunOutput};

fn driver(home: &IsolatedHome, name: &str, sides: [&str; 3]) -> (RunOutput, String) {
    let dir = home.work_dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (n, text) in ["O", "A", "B"].iter().zip(sides) {
        std::fs::write(dir.join(n), text).unwrap();
    }
    let out = home
        .command()
        .current_dir(&dir)
        .args([name, "O", "A", "B"])
        .run();
    (out, std::fs::read_to_string(dir.join("A")).unwrap())
}

#[test]
fn each_driver_writes_its_merge_to_ours_and_says_nothing() {
    let home = IsolatedHome::new();
    let (out, merged) = driver(&home, "merge-driver-traces", ["", "a\nb\n", "b\nc\n"]);
    out.assert_success().assert_stdout_empty();
    assert_eq!(merged, "a\nb\nc\n");
    let (out, merged) = driver(
        &home,
        "merge-driver-event-log",
        [
            "",
            "{\"event_id\": \"2\", \"at\": \"b\"}\n",
            "{\"event_id\": \"1\", \"at\": \"a\"}\n",
        ],
    );
    out.assert_success().assert_stdout_empty();
    assert_eq!(
        merged,
        "{\"at\": \"a\", \"event_id\": \"1\"}\n{\"at\": \"b\", \"event_id\": \"2\"}\n"
    );
    let (out, merged) = driver(
        &home,
        "merge-driver-meta",
        [
            "",
            "{\"accepted_by\": \"t\", \"slug\": \"x\"}",
            "{\"slug\": \"y\"}",
        ],
    );
    out.assert_success().assert_stdout_empty();
    assert_eq!(
        merged,
        "{\n  \"accepted_by\": \"t\",\n  \"slug\": \"y\"\n}\n"
    );
}

#[test]
fn a_review_cycle_collision_is_kept_and_said_and_a_refusal_leaves_ours() {
    let home = IsolatedHome::new();
    let (out, merged) = driver(&home, "merge-driver-review-cycle", ["", "a\n", "b\n"]);
    assert!(
        out.assert_success()
            .stdout()
            .starts_with("review-cycle verdict collision at A: "),
        "{out}"
    );
    assert!(merged.starts_with("<<<<<<< ours\na\n"), "{merged}");
    let clash = [
        "",
        "{\"event_id\": \"1\", \"a\": 1}\n",
        "{\"event_id\": \"1\", \"a\": 2}\n",
    ];
    let (out, merged) = driver(&home, "merge-driver-event-log", clash);
    out.assert_code(1);
    assert!(
        out.stderr()
            .contains("Conflicting payloads found for event_id '1'"),
        "{out}"
    );
    assert_eq!(merged, clash[1], "ours untouched");
}

#[test]
fn the_matrix_drivers_merge_rows_by_identity_and_field_by_field() {
    let home = IsolatedHome::new();
    let row = |id: &str, verdict: &str| {
        format!(
            r#"{{"criterion_id": "{id}", "description": "d", "proof_type": "automated_test", "pass_fail": "{verdict}"}}"#
        )
    };
    let doc = |rows: &[String]| {
        format!(
            r#"{{"mission_slug": "m", "criteria": [{}]}}"#,
            rows.join(", ")
        )
    };
    // FR-1 passed on ours, FR-2 added on theirs, FR-3 deleted on ours and untouched on theirs.
    let base = doc(&[row("FR-1", "pending"), row("FR-3", "pending")]);
    let ours = doc(&[row("FR-1", "pass")]);
    let theirs = doc(&[
        row("FR-2", "pass"),
        row("FR-1", "pending"),
        row("FR-3", "pending"),
    ]);
    let (out, merged) = driver(
        &home,
        "merge-driver-acceptance-matrix",
        [&base, &ours, &theirs],
    );
    out.assert_success().assert_stdout_empty();
    let v: serde_json::Value = serde_json::from_str(&merged).unwrap();
    let ids: Vec<&str> = v["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["criterion_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["FR-1", "FR-2"], "{merged}");
    assert_eq!(v["criteria"][0]["pass_fail"], "pass");
    assert_eq!(v["overall_verdict"], "pass", "computed from the rows");
    assert!(
        merged.starts_with("{\n  \"mission_slug\": \"m\",\n  \"mission_number\": \"\""),
        "{merged}"
    );

    // Both sides changed one issue's status: a conflict marker, the file still JSON.
    let (out, merged) = driver(
        &home,
        "merge-driver-issue-matrix",
        [
            r##"{"rows": {"#7": {"status": "open"}}}"##,
            r#"{"rows": {"GH-7": {"status": "fixed"}}}"#,
            r#"{"rows": {"7": {"status": "wontfix"}}}"#,
        ],
    );
    out.assert_success().assert_stdout_empty();
    let v: serde_json::Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(
        v["rows"]["#7"]["status"],
        "<<<<<<< ours\n\"fixed\"\n=======\n\"wontfix\"\n>>>>>>> theirs"
    );
    assert_eq!(v["schema_version"], 1);

    // Two different rows under one issue on one side: refused, ours left as it was.
    let ours = r##"{"rows": {"#1": {"a": 1}, "GH-1": {"a": 2}}}"##;
    let (out, merged) = driver(&home, "merge-driver-issue-matrix", ["", ours, "{}"]);
    out.assert_code(1);
    assert!(out.stderr().contains("duplicate row key '#1'"), "{out}");
    assert_eq!(merged, ours, "ours untouched");
}

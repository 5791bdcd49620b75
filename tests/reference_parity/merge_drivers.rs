//! The six git merge drivers (event log, traces, meta.json, review cycles, the acceptance and issue
//! matrices), through kitty and through the reference on the same three files: the exit code and the merged file's bytes.

use kitty_testkit::{IsolatedHome, RunOutput};

use crate::harness::reference;

/// Write `sides` as O, A and B in a directory of `home`, run `driver` on them with `kitty`
/// or the reference, and return the run and the merged A.
fn run(home: &IsolatedHome, kitty: bool, driver: &str, sides: [&str; 3]) -> (RunOutput, String) {
    let dir = home
        .work_dir()
        .join(format!("{driver}-{}", if kitty { "k" } else { "r" }));
    std::fs::create_dir_all(&dir).unwrap();
    let names = ["O", "A", "B"];
    for (n, text) in names.iter().zip(sides) {
        std::fs::write(dir.join(n), text).unwrap();
    }
    let cmd = if kitty {
        home.command().env("SPEC_KITTY_REFERENCE", "")
    } else {
        home.reference_command(&reference())
    };
    let out = cmd.current_dir(&dir).args([driver, "O", "A", "B"]).run();
    let merged = std::fs::read_to_string(dir.join("A")).unwrap();
    (out, merged)
}

#[track_caller]
fn same(home: &IsolatedHome, driver: &str, sides: [&str; 3]) -> String {
    let (k, km) = run(home, true, driver, sides);
    let (r, rm) = run(home, false, driver, sides);
    assert_eq!(k.code(), r.code(), "\n{k}\n{r}");
    assert_eq!(km, rm, "{driver} on {sides:?}\n{k}\n{r}");
    km
}

#[test]
fn the_event_log_traces_and_meta_drivers_merge_as_the_reference_s() {
    let home = IsolatedHome::new();
    let e = |id: &str, at: &str, extra: &str| {
        format!(r#"{{"event_id": "{id}", "at": "{at}", "wp_id": "WP01"{extra}}}"#)
    };
    let base = e("01B", "2026-01-01T00:00:02+00:00", "");
    let ours = format!(
        "{base}\n{}\n",
        e(
            "01C",
            "2026-01-01T00:00:03+00:00",
            r#", "note": "caf\u00e9""#
        )
    );
    let theirs = format!(
        "{}\n{base}\n{}\n",
        e("01A", "2026-01-01T00:00:03+00:00", ""),
        r#"{"event_id": "01T", "timestamp": "2026-01-01T00:00:01+00:00"}"#
    );
    let merged = same(&home, "merge-driver-event-log", [&base, &ours, &theirs]);
    assert_eq!(merged.lines().count(), 4, "{merged}");
    // Two payloads under one id: refused, ours left as it was.
    let clash = e("01B", "2026-01-01T00:00:09+00:00", "");
    same(&home, "merge-driver-event-log", [&base, &base, &clash]);
    same(
        &home,
        "merge-driver-traces",
        [
            "",
            "# Trace\n\n<!-- section:a -->\nx\n",
            "# Trace\n\n<!-- section:b -->\nx\ny\n",
        ],
    );
    let meta_ours = r#"{"slug": "m", "mission_number": 4, "accepted_at": "2026-01-02", "accepted_by": "t", "vcs": "git", "acceptance_history": [{"accepted_at": "2026-01-02", "accepted_by": "t"}]}"#;
    let meta_theirs = r#"{"slug": "m", "friendly_name": "Caf\u00e9 tool", "purpose_tldr": "new", "acceptance_history": [{"accepted_at": "2026-01-01", "accepted_by": "m"}]}"#;
    let merged = same(&home, "merge-driver-meta", ["{}", meta_ours, meta_theirs]);
    assert!(merged.contains("\"mission_number\": 4"), "{merged}");
    same(&home, "merge-driver-meta", ["", "[1]", "{}"]);
    // Two renders of one review cycle: kept whole; the same render: no conflict.
    let render = "---\ncycle_number: 1\n---\n\nApproved.\n";
    same(&home, "merge-driver-review-cycle", ["", render, render]);
    let merged = same(
        &home,
        "merge-driver-review-cycle",
        [
            "",
            render,
            "---\ncycle_number: 1\n---\n\nChanges requested.\n",
        ],
    );
    assert!(merged.starts_with("<<<<<<< ours\n"), "{merged}");
}

#[test]
fn the_acceptance_and_issue_matrix_drivers_merge_rows_as_the_reference_s() {
    let home = IsolatedHome::new();
    let c = |id: &str, extra: &str| {
        format!(
            r#"{{"criterion_id": "{id}", "description": "d {id}", "proof_type": "automated_test"{extra}}}"#
        )
    };
    let m = |head: &str, rows: &[String], tail: &str| {
        format!(r#"{{{head}"criteria": [{}]{tail}}}"#, rows.join(", "))
    };
    // Added, deleted against a stale side, changed on one side, changed on both (a marker),
    // extra fields kept in order, the scaffold row, an invariant with default fields.
    let base = m(
        r#""mission_slug": "m", "#,
        &[c("FR-1", ""), c("FR-2", ""), c("FR-3", "")],
        "",
    );
    let ours = m(
        r#""mission_slug": "", "mission_number": 4, "#,
        &[
            c("FR-1", r#", "pass_fail": "pass""#),
            c("FR-3", r#", "notes": "caf\u00e9""#),
        ],
        "",
    );
    let theirs = m(
        r#""mission_slug": "m", "mission_type": "software-dev", "#,
        &[
            c("FR-1", r#", "pass_fail": "fail", "zeta": {"b": 1, "a": 2}"#),
            c("FR-2", ""),
            c("FR-3", ""),
            c(
                "AC-001",
                r#", "description": "TODO: replace with a real acceptance criterion""#,
            ),
        ],
        r#", "negative_invariants": [{"invariant_id": "NI-1", "description": "x", "verification_method": "grep_absence", "scope": null, "provenance_origin": "legacy_unrecorded", "result": "deferred_to_consolidation"}]"#,
    );
    let merged = same(
        &home,
        "merge-driver-acceptance-matrix",
        [&base, &ours, &theirs],
    );
    assert!(merged.contains("<<<<<<< ours"), "{merged}");
    // A missing base and a blank ours; rows as an object; numbers and booleans as Python compares them.
    same(
        &home,
        "merge-driver-acceptance-matrix",
        ["", " ", &m(r#""mission_slug": "042-m", "#, &[], "")],
    );
    same(
        &home,
        "merge-driver-acceptance-matrix",
        [
            &m(
                r#""mission_slug": "m", "#,
                &[c("A", r#", "pass_fail": 1"#)],
                "",
            ),
            &m(
                r#""mission_slug": "m", "mission_number": 1.0, "#,
                &[c("A", r#", "pass_fail": 1.0, "verified_by": "x""#)],
                "",
            ),
            &m(
                r#""mission_slug": "m", "#,
                &[
                    c("A", r#", "pass_fail": true, "verified_by": "y""#),
                    c("B", r#", "pass_fail": "pass""#),
                ],
                "",
            ),
        ],
    );
    // Refusals: two rows under one id, a row missing a required field, not an object, not JSON.
    same(
        &home,
        "merge-driver-acceptance-matrix",
        [
            "{}",
            &m(
                r#""mission_slug": "m", "#,
                &[c("A", ""), c("A", r#", "notes": "x""#)],
                "",
            ),
            "{}",
        ],
    );
    same(
        &home,
        "merge-driver-acceptance-matrix",
        [
            "{}",
            r#"{"mission_slug": "m", "criteria": [{"criterion_id": "A"}]}"#,
            "{}",
        ],
    );
    same(&home, "merge-driver-acceptance-matrix", ["{}", "[1]", "{}"]);
    same(&home, "merge-driver-issue-matrix", ["{}", "{bad", "{}"]);
    // Issues: #12, GH-12 and 12 are one row; rows in a list keyed by position; two rows under
    // one issue refused.
    let merged = same(
        &home,
        "merge-driver-issue-matrix",
        [
            r##"{"schema_version": 1, "rows": {"#12": {"status": "open", "title": "t"}}}"##,
            r#"{"rows": {"GH-12": {"status": "fixed", "title": "t"}, "other": {"x": 1}}}"#,
            r##"{"rows": {"12": {"status": "open", "title": "T2", "n": [1, {"q": "\u00fc"}]}, "#7 ": {"z": 1}}}"##,
        ],
    );
    assert!(merged.contains("\"#12\""), "{merged}");
    same(
        &home,
        "merge-driver-issue-matrix",
        [
            "",
            r#"{"rows": [{"a": 1}, "x", {"b": 2}]}"#,
            r#"{"rows": "abc"}"#,
        ],
    );
    same(
        &home,
        "merge-driver-issue-matrix",
        [
            "",
            r##"{"rows": {"#1": {"a": 1}, "GH-1": {"a": 2}}}"##,
            "{}",
        ],
    );
}

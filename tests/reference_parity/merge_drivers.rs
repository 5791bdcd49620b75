//! The git merge drivers kitty runs itself (event log, traces, meta.json, review cycles), through kitty and
//! through the reference on the same three files: the exit code and the merged file's bytes.

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

//! `retrospect create` through kitty and through the reference, on a finalized mission whose
//! status log and reports are seeded byte for byte the same on both sides: the refusal while
//! work packages are open, the record (every finding rule, ruamel's quoting and folding), its
//! `RetrospectiveCaptured` line, the auto-commit, the refusal of a second record, `--overwrite`
//! and an unknown mission; compared document, files and commits.

use std::path::Path;

use serde_json::{Value, json};

use crate::execution::{both, finalized};
use crate::finalize::SLUG;
use crate::harness::Side;

fn create(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["retrospect", "create", "--mission", SLUG];
    v.extend_from_slice(extra);
    v
}

/// The reports and tracers every finding rule reads, with text that takes each YAML style.
fn reports(fd: &Path) {
    let long = "and a long tail of words that runs past the one hundred and twenty column width of the dumper";
    std::fs::write(
        fd.join("workflow-failures-log.md"),
        format!(
            "# Failures\n   ### FAIL: it's broken: \"quoted\" {long}\n- [ ] FAIL: short # not a comment\nnot a failure\n"
        ),
    )
    .unwrap();
    std::fs::write(fd.join("analysis-report.md"), "").unwrap();
    std::fs::write(fd.join("mission-review-report.md"), "reviewed\n").unwrap();
    std::fs::create_dir_all(fd.join("traces")).unwrap();
    std::fs::write(
        fd.join("traces/a.md"),
        format!(
            "# Trace\n1. **[implement] the tool crashed**\n   It was open (still) and it's a candidate gap {long}.\n   Second line  with double  spaces and a tab\there.\n2. **worked fine**\n   Expected: worked as designed.\n- **plain friction: with colon**\n  Nothing else; {long} ok.\n* **   **\n  empty lead, skipped\n"
        ),
    )
    .unwrap();
    std::fs::write(
        fd.join("traces/b.md"),
        "- **fixed \u{2014} done**\n body \u{e9} \u{201c}quotes\u{201d} and a\u{2028}separator\n",
    )
    .unwrap();
    let spec = std::fs::read_to_string(fd.join("spec.md")).unwrap();
    std::fs::write(
        fd.join("spec.md"),
        format!("{spec}\nFR-099 is uncovered. [NEEDS CLARIFICATION: which?]\n\n## Key Entities\n- **Greeting**: a line\n"),
    )
    .unwrap();
}

/// One transition line as the status log holds it.
fn line(n: u32, wp: &str, from: &str, to: &str, extra: Value) -> String {
    let mut v = json!({
        "actor": "claude", "at": "2099-01-01T10:00:00+00:00",
        "event_id": format!("01KXRETR0SPECT{n:012}"), "evidence": null,
        "execution_mode": "worktree", "force": false, "from_lane": from,
        "mission_slug": SLUG, "policy_metadata": null, "reason": null,
        "review_ref": null, "to_lane": to, "wp_id": wp,
    });
    if let (Value::Object(m), Value::Object(x)) = (&mut v, extra) {
        m.extend(x);
    }
    v.to_string() + "\n"
}

/// Both packages to done through a rejection, a bounce, a force and an arbiter's word, the
/// same lines on both sides, committed.
fn finish(k: &Side, r: &Side, coordinated: bool) {
    let lines = [
        line(1, "WP01", "planned", "claimed", json!({})),
        line(2, "WP01", "claimed", "in_progress", json!({})),
        line(3, "WP01", "in_progress", "for_review", json!({})),
        line(4, "WP01", "for_review", "in_review", json!({})),
        line(
            5,
            "WP01",
            "in_review",
            "planned",
            json!({"review_ref": "review-cycle://WP01/1"}),
        ),
        line(6, "WP01", "planned", "in_progress", json!({})),
        line(7, "WP01", "in_progress", "for_review", json!({})),
        line(8, "WP01", "for_review", "approved", json!({})),
        line(9, "WP01", "approved", "done", json!({})),
        line(
            10,
            "WP02",
            "planned",
            "in_progress",
            json!({"force": true, "reason": "arbiter override: reviewer away"}),
        ),
        line(11, "WP02", "in_progress", "planned", json!({})),
        line(12, "WP02", "planned", "done", json!({"force": true})),
    ]
    .concat();
    for side in [k, r] {
        let top = if coordinated {
            side.repo
                .path()
                .join(".worktrees")
                .join(format!("{SLUG}-coord"))
        } else {
            side.repo.path().to_path_buf()
        };
        let log = top
            .join("kitty-specs")
            .join(SLUG)
            .join("status.events.jsonl");
        let mut text = std::fs::read_to_string(&log).unwrap();
        text.push_str(&lines);
        std::fs::write(&log, text).unwrap();
        // Through the repository's git (its isolated identity), in the work tree that holds it.
        let top = top.to_str().unwrap();
        side.repo.git(&["-C", top, "add", "--all"]);
        side.repo
            .git(&["-C", top, "commit", "--quiet", "-m", "work done"]);
    }
}

#[test]
fn retrospect_create_writes_the_reference_s_record_event_and_commit_and_refuses_as_it_does() {
    let (k, r) = finalized("single_branch", reports);
    for side in [&k, &r] {
        side.repo.git(&["add", "--all"]);
        side.repo.git(&["commit", "--quiet", "-m", "reports"]);
    }
    let open = both(&k, &r, &create(&[]));
    assert_eq!(open.code(), Some(1));
    assert_eq!(open.json().value()["code"], "MISSION_NOT_COMPLETED");
    finish(&k, &r, false);
    let made = both(&k, &r, &create(&[]));
    let doc = made.json().value().clone();
    assert_eq!(doc["counts"]["evidence_refs"], 17, "{doc}");
    let record =
        std::fs::read_to_string(k.repo.specs_dir().join(SLUG).join("retrospective.yaml")).unwrap();
    for style in [
        "summary: 'Tracer: plain friction: with colon'",
        "\\\n",
        "  - e-0",
    ] {
        assert!(record.contains(style), "{style:?} not in\n{record}");
    }
    let again = both(&k, &r, &create(&[]));
    assert_eq!(again.json().value()["code"], "RETROSPECTIVE_RECORD_EXISTS");
    both(&k, &r, &create(&["--overwrite"])).assert_success();
    let log = k.repo.git(&["log", "--format=%s"]);
    assert_eq!(
        log.matches("chore(retrospective): author retrospective for")
            .count(),
        2,
        "{log}"
    );
    let unknown = both(
        &k,
        &r,
        &["retrospect", "create", "--mission", "no-such-mission"],
    );
    assert_eq!(unknown.json().value()["code"], "MISSION_NOT_FOUND");
}

#[test]
fn a_coordinated_mission_is_checked_on_its_coordination_worktree_and_its_record_left_uncommitted() {
    let (k, r) = finalized("coord", reports);
    assert!(
        k.repo
            .path()
            .join(".worktrees")
            .join(format!("{SLUG}-coord"))
            .is_dir()
    );
    let open = both(&k, &r, &create(&[]));
    assert_eq!(open.json().value()["code"], "MISSION_NOT_COMPLETED");
    finish(&k, &r, true);
    let made = both(&k, &r, &create(&[]));
    assert_eq!(made.json().value()["findings_status"], "has_findings");
    let status = k.repo.git(&["status", "--porcelain"]);
    assert!(status.contains("retrospective.yaml"), "{status}");
}

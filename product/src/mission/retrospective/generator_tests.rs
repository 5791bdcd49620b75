//! The generator's rules, one test per family: the ids, the evidence, the ranges, the sorting.

use serde_json::json;

use super::*;
use crate::mission::retrospective::inputs::{Unsupported, parse_events};

fn ev(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn mv(id: &str, wp: &str, from: &str, to: &str) -> Map<String, Value> {
    ev(
        json!({"event_id": id, "wp_id": wp, "from_lane": from, "to_lane": to, "actor": "claude", "force": false}),
    )
}

fn with(mut e: Map<String, Value>, key: &str, value: Value) -> Map<String, Value> {
    e.insert(key.into(), value);
    e
}

fn inputs() -> Inputs {
    Inputs {
        dir_name: "m".into(),
        ..Inputs::default()
    }
}

fn summaries(list: &[Finding]) -> Vec<(String, String)> {
    list.iter()
        .map(|f| (f.id.clone(), f.summary.clone()))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect()
}

#[test]
fn a_mission_with_nothing_in_it_ran_with_no_findings() {
    let f = findings(&inputs());
    assert_eq!(f.status(), "ran_no_findings");
    assert!(f.evidence.is_empty() && f.helped.is_empty() && f.gaps.is_empty());
}

#[test]
fn evidence_is_registered_meta_spec_plan_tasks_packages_then_the_log() {
    let mut i = inputs();
    i.has_meta = true;
    i.spec = "s".into();
    i.tasks = "t".into();
    i.research = Some(String::new());
    i.wp_files = vec![
        ("WP01.md".into(), String::new()),
        ("WP02-x.md".into(), String::new()),
    ];
    i.events = vec![mv("E1", "WP01", "planned", "claimed")];
    let f = findings(&i);
    let paths: Vec<&str> = f.evidence.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "kitty-specs/m/meta.json",
            "kitty-specs/m/spec.md",
            "kitty-specs/m/tasks.md",
            "kitty-specs/m/tasks/WP01.md",
            "kitty-specs/m/tasks/WP02-x.md",
            "kitty-specs/m/status.events.jsonl"
        ]
    );
    assert_eq!(f.evidence[5].id, "e-006");
    assert!(
        f.evidence
            .iter()
            .all(|e| e.kind == "file" && e.range.is_none())
    );
}

#[test]
fn clean_packages_are_named_only_when_something_else_went_wrong() {
    let mut i = inputs();
    i.wp_files = vec![("WP01.md".into(), String::new())];
    i.events = vec![
        mv("E1", "WP01", "for_review", "approved"),
        mv("E2", "WP02", "approved", "done"),
    ];
    assert!(findings(&i).helped.is_empty());
    i.failures = Some("nothing failed".into());
    let f = findings(&i);
    assert_eq!(
        summaries(&f.helped),
        pairs(&[
            ("h-001", "WP01 completed without rejection cycles"),
            ("h-002", "WP02 completed without rejection cycles"),
            (
                "h-003",
                "workflow-failures-log.md present with no recorded failures"
            )
        ])
    );
    // WP01 has a file of exactly its name; WP02's evidence is the log.
    assert_eq!(f.helped[0].evidence_refs, ["e-001"]);
    assert_eq!(f.helped[1].evidence_refs, ["e-002"]);
    assert_eq!(f.evidence[1].path, "kitty-specs/m/status.events.jsonl");
    // An empty failure log is present but not content: no clean packages.
    i.failures = Some(String::new());
    assert_eq!(
        summaries(&findings(&i).helped),
        pairs(&[(
            "h-001",
            "workflow-failures-log.md present with no recorded failures"
        )])
    );
}

#[test]
fn rejections_bounces_forces_self_reviews_arbiters_and_cycles_are_counted_per_package() {
    let mut i = inputs();
    i.events = vec![
        mv("E0", "WP01", "planned", "planned"),
        with(
            with(mv("E1", "WP01", "planned", "claimed"), "force", json!(true)),
            "actor",
            json!("Finalize-Tasks"),
        ),
        mv("E2", "WP01", "claimed", "in_progress"),
        mv("E3", "WP01", "for_review", "planned"),
        with(
            mv("E4", "WP01", "in_review", "planned"),
            "review_ref",
            json!("r"),
        ),
        mv("E5", "WP01", "planned", "in_progress"),
        with(
            mv("E6", "WP01", "in_review", "in_progress"),
            "evidence",
            json!({"review": {"reference": "x", "verdict": "changes_requested"}}),
        ),
        with(
            mv("E7", "WP02", "in_progress", "done"),
            "force",
            json!(true),
        ),
        with(mv("E8", "WP02", "done", "done"), "force", json!(true)),
        with(
            mv("E9", "WP02", "planned", "planned"),
            "reason",
            json!("The ARBITER decided"),
        ),
        ev(
            json!({"event_type": "ReviewerSelfApproval", "event_id": "S1", "payload": {"wp_id": "WP03", "implementing_actor": "a", "failure_reason": ""}}),
        ),
        with(
            mv("E10", "WP03", "in_review", "claimed"),
            "evidence",
            json!("  "),
        ),
    ];
    let f = findings(&i);
    assert_eq!(
        summaries(&f.not_helpful),
        pairs(&[
            ("n-006", "WP01 needed 2 implementation cycles"),
            ("n-002", "WP01 had 1 lane bounce(s) before approval"),
            (
                "n-004",
                "WP02 required 1 --force override(s) during workflow"
            ),
            // A blank evidence string is no feedback: WP03's move out of review is a bounce.
            ("n-003", "WP03 had 1 lane bounce(s) before approval"),
            (
                "n-005",
                "WP03 used self-review fallback instead of independent review"
            ),
            (
                "n-001",
                "WP01 required 2 rejection cycle(s) before approval"
            ),
        ])
    );
    assert_eq!(
        summaries(&f.gaps),
        pairs(&[("g-001", "Arbiter override needed for WP02 (1x)")])
    );
    let range = |id: &str| {
        let f_id = &f
            .not_helpful
            .iter()
            .chain(&f.gaps)
            .find(|x| x.id == id)
            .unwrap()
            .evidence_refs[0];
        f.evidence
            .iter()
            .find(|e| &e.id == f_id)
            .unwrap()
            .range
            .clone()
            .unwrap()
    };
    // The rejection range spans every move back out of review, the count only documented ones.
    assert_eq!(range("n-001"), "E3..E6");
    assert_eq!(range("n-002"), "E3");
    assert_eq!(range("n-003"), "E10");
    assert_eq!(range("n-004"), "E7");
    assert_eq!(range("n-006"), "implementation_cycles");
    assert_eq!(range("n-005"), "S1");
    assert_eq!(range("g-001"), "E9");
    let self_review = f.not_helpful.iter().find(|x| x.id == "n-005").unwrap();
    assert_eq!(
        self_review.details.as_deref(),
        Some(
            "WP WP03 recorded 1 ReviewerSelfApproval event(s): a self-reviewed after intended reviewer unknown failed (reviewer_failed). Treat this as a review-independence gap."
        )
    );
}

#[test]
fn the_spec_s_markers_uncovered_requirements_and_missing_documents_are_gaps() {
    let mut i = inputs();
    i.spec = "# S\nFR-001 FR-003 FR-0002 FR-12\n[needs clarification: a]\n\n## Key Entities\n- **[Entity 1]**\n\n## Other\n- **Real**\n".into();
    i.wp_files = vec![("WP01.md".into(), "FR-001 and FR-0002".into())];
    let f = findings(&i);
    assert_eq!(
        summaries(&f.gaps),
        pairs(&[
            ("g-003", "research.md absent"),
            ("g-002", "FR-003 defined in spec.md has no WP coverage"),
            (
                "g-001",
                "Unresolved clarification marker in spec.md (line 3)"
            ),
        ])
    );
    assert!(f.gaps.iter().all(|g| g.evidence_refs == ["e-001"]));
    i.spec = i.spec.replace("## Other\n", "");
    i.research = Some("r".into());
    let f = findings(&i);
    assert_eq!(
        summaries(&f.gaps)[0],
        ("g-003".into(), "data-model.md absent".into())
    );
    i.data_model = Some(String::new());
    assert_eq!(findings(&i).gaps.len(), 2);
}

#[test]
fn failure_lines_reports_and_tracer_entries_become_findings_in_their_channels() {
    let mut i = inputs();
    i.failures = Some(format!(
        "intro\n   ### FAIL: {}\n- [ ] FAIL: short\n",
        "x".repeat(250)
    ));
    i.analysis = Some(String::new());
    i.review = Some("r".into());
    i.traces = vec![(
        "kitty-specs/m/traces/a.md".into(),
        "1. **gap one**\n it is a candidate gap\n- **fine**\n worked as designed\n* **plain**\n nothing\n- ** **\n skipped\n".into(),
    )];
    let f = findings(&i);
    let long = &f
        .not_helpful
        .iter()
        .find(|x| x.summary.starts_with("### FAIL"))
        .unwrap();
    assert_eq!(long.summary.chars().count(), 200);
    assert!(long.details.as_deref().unwrap().ends_with(&"x".repeat(250)));
    assert_eq!(summaries(&f.helped), pairs(&[("h-001", "Tracer: fine")]));
    assert_eq!(summaries(&f.gaps), pairs(&[("g-001", "Tracer: gap one")]));
    let cats: Vec<(&str, &str)> = f
        .not_helpful
        .iter()
        .map(|x| (x.category, x.id.as_str()))
        .collect();
    assert_eq!(
        cats,
        [
            ("doc", "n-003"),
            ("process", "n-001"),
            ("process", "n-002"),
            ("review_loop", "n-004"),
            ("tooling", "n-005")
        ]
    );
    let plain = f.not_helpful.iter().find(|x| x.id == "n-005").unwrap();
    assert_eq!(plain.details.as_deref(), Some("* **plain**\n nothing"));
    let paths: Vec<&str> = f.evidence.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "kitty-specs/m/workflow-failures-log.md",
            "kitty-specs/m/analysis-report.md",
            "kitty-specs/m/mission-review-report.md",
            "kitty-specs/m/traces/a.md"
        ]
    );
}

#[test]
fn the_log_is_read_as_the_reference_reads_it() {
    let events =
        parse_events("{\"wp_id\": \"WP01\"}\r\n\nnot json\n  {\"a\": 1}  \u{2028}{\"b\": 2}")
            .unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        parse_events("[1]"),
        Err(Unsupported("a status log line is not an object".into()))
    );
    assert!(parse_events("{\"wp_id\": 3}").is_err());
    assert_eq!(parse_events("{\"wp_id\": 0}").unwrap().len(), 1);
    assert_eq!(py_strip("\u{1c} a \u{85}"), "a");
}

#[test]
fn any_one_list_with_a_finding_makes_the_status_has_findings() {
    let one = Finding {
        id: "x".into(),
        category: "doc",
        summary: "s".into(),
        evidence_refs: Vec::new(),
        details: None,
    };
    for pick in 0..3 {
        let mut f = Findings::default();
        [&mut f.helped, &mut f.not_helpful, &mut f.gaps][pick].push(one.clone());
        assert_eq!(f.status(), "has_findings", "list {pick}");
    }
}

#[test]
fn only_documented_feedback_makes_a_move_out_of_review_a_rejection() {
    let review = |reference: &str, verdict: &str| json!({"review": {"reference": reference, "verdict": verdict}});
    let cases = [
        (json!("see the review file"), true),
        (json!("   "), false),
        (review("r1", "changes_requested"), true),
        (review("r1", "approved"), false),
        (review("", "changes_requested"), false),
        (json!({"note": "x"}), false),
        (json!(3), false),
    ];
    for (evidence, rejected) in cases {
        let mut i = inputs();
        i.events = vec![with(
            mv("E1", "WP01", "in_review", "claimed"),
            "evidence",
            evidence.clone(),
        )];
        let f = findings(&i);
        let summary = if rejected {
            "WP01 required 1 rejection cycle(s) before approval"
        } else {
            "WP01 had 1 lane bounce(s) before approval"
        };
        assert_eq!(f.not_helpful.len(), 1, "{evidence}");
        assert_eq!(f.not_helpful[0].summary, summary, "{evidence}");
    }
}

#[test]
fn a_move_back_from_in_progress_is_a_bounce_but_forward_moves_are_not() {
    let mut i = inputs();
    i.events = vec![
        mv("E1", "WP01", "in_progress", "claimed"),
        mv("E2", "WP01", "in_progress", "planned"),
        mv("E3", "WP01", "in_progress", "for_review"),
        mv("E4", "WP01", "claimed", "planned"),
        mv("E5", "WP01", "approved", "planned"),
    ];
    let f = findings(&i);
    assert_eq!(
        summaries(&f.not_helpful),
        pairs(&[("n-001", "WP01 had 2 lane bounce(s) before approval")])
    );
}

#[test]
fn an_arbiter_is_read_from_the_reason_and_the_evidence_s_note_and_reason() {
    let arbiters = |e: Map<String, Value>| {
        let mut i = inputs();
        i.events = vec![e];
        findings(&i).gaps.len()
    };
    let base = || mv("E1", "WP01", "planned", "planned");
    assert_eq!(
        arbiters(with(base(), "evidence", json!({"note": "Arbiter said so"}))),
        1
    );
    assert_eq!(
        arbiters(with(
            base(),
            "evidence",
            json!({"reason": "per the arbiter"})
        )),
        1
    );
    assert_eq!(
        arbiters(with(
            base(),
            "evidence",
            json!({"note": "  ", "reason": "fine"})
        )),
        0
    );
    assert_eq!(arbiters(with(base(), "reason", json!("ARBITER"))), 1);
    assert_eq!(arbiters(with(base(), "reason", json!(["arbiter"]))), 0);
    assert_eq!(arbiters(base()), 0);
}

#[test]
fn a_rejection_or_a_bounce_alone_makes_the_clean_packages_notable_and_excludes_its_own() {
    let mut i = inputs();
    i.events = vec![
        with(
            mv("E1", "WP01", "in_review", "planned"),
            "review_ref",
            json!("r"),
        ),
        mv("E2", "WP01", "planned", "done"),
        mv("E3", "WP02", "for_review", "done"),
        ev(json!({"event_id": "E4", "to_lane": "done"})),
    ];
    let helped = |i: &Inputs| summaries(&findings(i).helped);
    assert_eq!(
        helped(&i),
        pairs(&[("h-001", "WP02 completed without rejection cycles")])
    );
    i.events[0] = mv("E1", "WP01", "in_progress", "planned");
    assert_eq!(
        helped(&i),
        pairs(&[("h-001", "WP02 completed without rejection cycles")])
    );
}

#[test]
fn one_implementation_cycle_is_normal_and_a_self_review_names_its_own_event_s_actors() {
    let mut i = inputs();
    i.events = vec![
        mv("E1", "WP03", "planned", "in_progress"),
        ev(
            json!({"event_type": "ReviewerSelfApproval", "event_id": "S1", "payload": {"wp_id": "WP03", "implementing_actor": "a", "intended_reviewer": 7}}),
        ),
    ];
    let f = findings(&i);
    assert_eq!(f.not_helpful.len(), 1);
    assert_eq!(
        f.not_helpful[0].details.as_deref(),
        Some(
            "WP WP03 recorded 1 ReviewerSelfApproval event(s): a self-reviewed after intended reviewer 7 failed (reviewer_failed). Treat this as a review-independence gap."
        )
    );
}

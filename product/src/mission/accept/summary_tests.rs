//! Unit tests of the acceptance summary.
use super::*;
use crate::mission::status::Lane;

fn wp(id: &str) -> WpFile {
    WpFile {
        id: id.into(),
        title: format!("{id} title"),
        rel: format!("kitty-specs/m/tasks/{id}.md"),
        keys: Vec::new(),
    }
}

fn state(lane: &str, extra: Value) -> WpState {
    let mut fields = match extra {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    fields.insert("lane".into(), json!(lane));
    WpState {
        lane: Lane::parse(lane).unwrap(),
        fields,
    }
}

fn snapshot(states: Vec<(&str, WpState)>) -> Snapshot {
    Snapshot {
        work_packages: states
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ..Snapshot::default()
    }
}

#[test]
fn the_board_files_packages_by_lane_and_names_what_is_missing() {
    let files = [wp("WP01"), wp("WP02"), wp("WP03"), wp("WP04")];
    let snap = snapshot(vec![
        (
            "WP01",
            state("approved", json!({"agent": "claude", "shell_pid": 42})),
        ),
        ("WP02", state("for_review", json!({"agent": "claude"}))),
        (
            "WP03",
            state(
                "canceled",
                json!({"agent": "a", "reason_source": "operator", "cancellation_reason": "descoped", "actor": "pm", "last_transition_at": "t"}),
            ),
        ),
    ]);
    let b = board("m", &files, &snap, true, true);
    assert_eq!(b.lanes["approved"], json!(["WP01"]));
    assert_eq!(b.lanes["for_review"], json!(["WP02"]));
    assert_eq!(b.lanes["canceled"], json!(["WP03"]));
    assert_eq!(b.lanes["planned"], json!(["WP04"]), "no state: planned");
    assert_eq!(
        b.metadata_issues,
        [
            "WP02: missing assignee in canonical runtime state",
            "WP02: missing shell_pid in canonical runtime state",
            "WP04: missing agent in canonical runtime state",
        ]
    );
    assert_eq!(
        b.activity_issues,
        [
            "WP02: canonical lane is 'for_review', expected 'approved' or 'done'",
            "WP04: no canonical state found in status.events.jsonl",
        ]
    );
    assert_eq!(b.work_packages[0].metadata.shell_pid.as_deref(), Some("42"));
    assert!(!b.work_packages[3].has_lane_entry);
    assert_eq!(b.work_packages[3].latest_lane, None);
    assert_eq!(b.canceled_wps.len(), 1);
    assert_eq!(b.canceled_wps[0].reason, "descoped");
    assert_eq!(b.canceled_wps[0].actor, "pm");
    assert!(!b.all_done && !b.all_acceptable);
    // Lenient: no metadata findings.
    assert!(
        board("m", &files, &snap, true, false)
            .metadata_issues
            .is_empty()
    );
    // Approved, done and operator-canceled packages are all done (one delivered).
    let snap = snapshot(vec![
        ("WP01", state("approved", json!({"agent": "a"}))),
        ("WP02", state("done", json!({"agent": "a"}))),
    ]);
    let b = board("m", &files[..2], &snap, true, true);
    assert!(b.all_done && b.all_acceptable);
    assert!(b.activity_issues.is_empty() && b.metadata_issues.is_empty());
    // No log: one finding, no readiness lines; no packages: done.
    let b = board("m", &files[..1], &Snapshot::default(), true, true);
    assert_eq!(
        b.activity_issues.len(),
        1,
        "a log with no package is no state"
    );
    assert!(b.activity_issues[0].starts_with("No canonical state found"));
    let b = board("m", &files[..1], &Snapshot::default(), false, true);
    assert_eq!(b.activity_issues.len(), 1);
    assert!(b.activity_issues[0].starts_with("No canonical state found for feature 'm'."));
    assert!(board("m", &[], &Snapshot::default(), true, true).all_done);
    // Everything canceled by an operator delivered nothing.
    let snap = snapshot(vec![(
        "WP01",
        state(
            "canceled",
            json!({"agent": "a", "reason_source": "operator"}),
        ),
    )]);
    let b = board("m", &files[..1], &snap, true, true);
    assert!(!b.all_done && b.all_acceptable);
}

fn summary_of(b: Board) -> Summary {
    Summary {
        mission_slug: "m".into(),
        mission_number: None,
        mission_type: String::new(),
        branch: None,
        repo_root: String::new(),
        feature_dir: String::new(),
        tasks_dir: String::new(),
        worktree_root: String::new(),
        primary_repo_root: String::new(),
        lanes: b.lanes,
        work_packages: b.work_packages,
        metadata_issues: b.metadata_issues,
        activity_issues: b.activity_issues,
        unchecked_tasks: Vec::new(),
        needs_clarification: Vec::new(),
        missing_artifacts: Vec::new(),
        optional_missing: Vec::new(),
        git_dirty: Vec::new(),
        path_violations: Vec::new(),
        warnings: Vec::new(),
        failed_checks: Vec::new(),
        skipped_checks: Vec::new(),
        blocked_checks: Vec::new(),
        recommended_fix_order: Vec::new(),
        canceled_wps: b.canceled_wps,
        all_done: b.all_done,
        ok: false,
    }
}

#[test]
fn the_failed_checks_and_fixes_come_in_the_reference_s_order() {
    let files = [wp("WP01"), wp("WP02"), wp("WP03"), wp("WP04")];
    let snap = snapshot(vec![
        ("WP01", state("in_review", json!({"agent": "a"}))),
        ("WP02", state("blocked", json!({"agent": "a"}))),
        ("WP03", state("canceled", json!({"agent": "a"}))),
    ]);
    let mut s = summary_of(board("m", &files, &snap, true, true));
    s.git_dirty = vec!["?? x".into()];
    s.missing_artifacts = vec!["plan.md".into()];
    s.unchecked_tasks = vec!["- [ ] T001".into()];
    s.needs_clarification = vec!["/spec.md".into()];
    s.path_violations = vec!["paths".into()];
    s.activity_issues.push("Evidence: FR-1: x".into());
    s.activity_issues
        .push("Acceptance matrix verdict is 'fail' \u{2014} y".into());
    s.blocked_checks = vec![
        Check::new("mission_branch", "b"),
        Check::new("acceptance_matrix", "m"),
        Check::new("lanes_manifest", "l"),
    ];
    let checks: Vec<(String, String)> = failed_checks(&s)
        .into_iter()
        .map(|c| (c.check, c.detail))
        .collect();
    assert_eq!(checks[0], ("not_done".into(), "WP04".into()));
    assert_eq!(
        checks[1],
        (
            "lane_blockers".into(),
            "WP01: canonical lane is 'in_review'; review is still in progress; complete the review and move the work package to approved or done.".into()
        )
    );
    assert!(
        checks[2]
            .1
            .starts_with("WP02: canonical lane is 'blocked'; work package is blocked")
    );
    assert!(checks[3].1.starts_with(
        "WP03: canonical lane is 'canceled'; work package is canceled; operator-authored"
    ));
    let order: Vec<&str> = checks.iter().map(|(c, _)| c.as_str()).skip(4).collect();
    assert_eq!(
        order,
        [
            "metadata",
            "activity",
            "activity",
            "activity",
            "activity",
            "activity",
            "activity",
            "unchecked_tasks",
            "needs_clarification",
            "missing_artifacts",
            "git_dirty",
            "path_violations"
        ]
    );
    assert_eq!(
        fix_order(&s),
        [
            "Commit, stash, or discard working tree changes before acceptance.",
            "Switch to the mission branch or configured target branch named in the branch failure.",
            "Restore required mission artifacts before acceptance.",
            "Fix work-package metadata issues.",
            "Move all work packages to approved or done.",
            "Complete unchecked items in tasks.md.",
            "Resolve open NEEDS CLARIFICATION markers.",
            "Create or restore kitty-specs/<mission>/acceptance-matrix.json.",
            "Restore or regenerate kitty-specs/<mission>/lanes.json.",
            "Fill missing acceptance matrix evidence fields.",
            "Resolve pending or failing acceptance matrix criteria and negative invariants.",
            "Fix mission path convention violations.",
        ]
    );
    assert!(!is_ok(&s));
    // Only the blocked checks named trigger their fixes.
    s.blocked_checks = vec![Check::new("acceptance_matrix", "m")];
    let fixes = fix_order(&s);
    assert!(
        fixes.contains(
            &"Create or restore kitty-specs/<mission>/acceptance-matrix.json.".to_string()
        )
    );
    assert!(
        !fixes
            .iter()
            .any(|f| f.starts_with("Switch to the mission branch"))
    );
    assert!(!fixes.iter().any(|f| f.starts_with("Restore or regenerate")));
    // An operator's cancellation is no blocker, and a mission of them delivered nothing.
    let snap = snapshot(vec![(
        "WP01",
        state(
            "canceled",
            json!({"agent": "a", "reason_source": "operator"}),
        ),
    )]);
    let s = summary_of(board("m", &files[..1], &snap, true, true));
    let checks = failed_checks(&s);
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].check, "delivered_nothing");
    let mut ready = summary_of(board(
        "m",
        &files[..1],
        &snapshot(vec![("WP01", state("done", json!({"agent": "a"})))]),
        true,
        true,
    ));
    assert!(is_ok(&ready));
    for (i, list) in [
        "metadata",
        "activity",
        "unchecked",
        "clarify",
        "missing",
        "dirty",
        "paths",
    ]
    .iter()
    .enumerate()
    {
        let mut s = summary_of(board(
            "m",
            &files[..1],
            &snapshot(vec![("WP01", state("done", json!({"agent": "a"})))]),
            true,
            true,
        ));
        let v = vec![(*list).to_string()];
        match i {
            0 => s.metadata_issues = v,
            1 => s.activity_issues = v,
            2 => s.unchecked_tasks = v,
            3 => s.needs_clarification = v,
            4 => s.missing_artifacts = v,
            5 => s.git_dirty = v,
            _ => s.path_violations = v,
        }
        assert!(!is_ok(&s), "{list} blocks");
    }
    ready.all_done = false;
    assert!(!is_ok(&ready));
}

#[test]
fn a_marker_blocks_while_its_decision_is_missing_open_or_deferred() {
    let t = tempfile::tempdir().unwrap();
    let text = "x [NEEDS CLARIFICATION: a] <!-- decision_id: D1 -->\n";
    assert!(blocking_clarification(t.path(), text), "no ledger");
    std::fs::create_dir_all(t.path().join("decisions")).unwrap();
    let ledger = |status: &str| {
        std::fs::write(
            t.path().join("decisions/index.json"),
            json!({"entries": [{"decision_id": "D1", "status": status}]}).to_string(),
        )
        .unwrap();
    };
    for (status, blocks) in [("open", true), ("deferred", true), ("resolved", false)] {
        ledger(status);
        assert_eq!(blocking_clarification(t.path(), text), blocks, "{status}");
    }
    assert!(!blocking_clarification(
        t.path(),
        "[NEEDS CLARIFICATION: a]\n"
    ));
}

#[test]
fn unchecked_rows_skip_fences_checked_rows_and_rows_without_an_id() {
    let md = "- [ ] T099 Extra thing\n  - [ ]   T100: indented\n- [x] T101 done\n- [ ] no id\n```\n- [ ] T102 fenced\n```\n~~~\n- [ ] T103\n~~~\n- [ ] T10 short\n";
    assert_eq!(
        unchecked(md),
        vec!["- [ ] T099 Extra thing", "- [ ]   T100: indented"]
    );
}

#[test]
fn a_marker_counts_only_with_a_decision_id_comment_after_it() {
    let t = "a [NEEDS CLARIFICATION: x] <!-- decision_id: D1 more -->\nb [NEEDS CLARIFICATION: y]\nc <!-- decision_id: D3 --> [NEEDS CLARIFICATION: z]\nd [NEEDS CLARIFICATION: w] <!-- other -->\n";
    assert_eq!(clarification_ids(t), vec!["D1"]);
    // The comment's end is looked for after its start.
    assert_eq!(
        clarification_ids("e [NEEDS CLARIFICATION: v] --><!-- decision_id: D9 -->\n"),
        vec!["D9"]
    );
}

#[test]
fn frontmatter_keys_are_top_level_and_unquoted() {
    let k = frontmatter(
        "---\nwork_package_id: \"WP01\"\ntitle: 'Greeting'\ndependencies:\n- WP00\n  nested: 1\n---\nbody: x\n",
    );
    assert_eq!(
        k,
        vec![
            ("work_package_id".to_string(), "WP01".to_string()),
            ("title".into(), "Greeting".into()),
            ("dependencies".into(), String::new()),
        ]
    );
    assert!(frontmatter("no frontmatter\n").is_empty());
    // A quote on one side only is part of the value.
    let k = frontmatter("---\na: \"open\nb: shut'\nc: '\n---\n");
    assert_eq!(k[0].1, "\"open");
    assert_eq!(k[1].1, "shut'");
    assert_eq!(k[2].1, "'");
}

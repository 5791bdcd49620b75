//! The lane gates of `accept`: `lanes.json`, then the acceptance matrix's presence, evidence and
//! verdict (**interop**: the reference's checks, their sentences and the skipped-check records).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::summary::Check;
use crate::mission::execution::acceptance_verdict::{
    Criterion, MatrixIn, SCAFFOLD, VERDICTS, overall, render,
};
use crate::mission::tasks::finalize::acceptance::FILE;

/// What the gates found.
#[derive(Debug, Default)]
pub struct Gate {
    /// Activity issues, in order.
    pub activity: Vec<String>,
    /// Checks not run, and why.
    pub skipped: Vec<Check>,
    /// Checks that could not pass.
    pub blocked: Vec<Check>,
    /// The matrix file and the bytes accept writes there (only when they differ).
    pub rewrite: Option<(PathBuf, String)>,
}

/// The gates' answer, or input kitty leaves to the reference.
#[derive(Debug)]
pub enum Gated {
    /// Checked.
    Gate(Gate),
    /// Why the reference runs this accept.
    NeedsReference(String),
}

/// The four checks after presence, with the sentence each skip starts with.
const SKIPS: [(&str, &str); 4] = [
    (
        "acceptance_matrix_presence",
        "Acceptance matrix presence check skipped",
    ),
    (
        "acceptance_matrix_evidence",
        "Acceptance matrix evidence validation skipped",
    ),
    (
        "negative_invariants",
        "Negative invariant execution skipped",
    ),
    (
        "acceptance_matrix_verdict",
        "Acceptance matrix verdict evaluation skipped",
    ),
];

fn skipped(from: usize, reason: &str) -> Vec<Check> {
    SKIPS[from..]
        .iter()
        .map(|(check, words)| Check::new(check, format!("{words}: {reason}")))
        .collect()
}

/// Run the gates: `primary` is the mission directory of the primary checkout (lanes.json),
/// `matrix_dir` where the matrix lives, `meta` the mission's meta.json, `mutate` false for a
/// read-only diagnosis.
pub fn check(slug: &str, primary: &Path, matrix_dir: &Path, meta: &Value, mutate: bool) -> Gated {
    let Ok(text) = std::fs::read_to_string(primary.join("lanes.json")) else {
        return Gated::Gate(Gate::default());
    };
    let lanes = serde_json::from_str::<Value>(&text).ok();
    let field = |k: &str| lanes.as_ref().and_then(|l| l.get(k));
    let (Some(Value::String(target)), Some(Value::String(_)), Some(Value::Array(list))) = (
        field("target_branch"),
        field("mission_branch"),
        field("lanes"),
    ) else {
        return Gated::NeedsReference("a lanes.json its model rejects".into());
    };
    if field("mission_slug").and_then(Value::as_str).is_none() {
        return Gated::NeedsReference("a lanes.json its model rejects".into());
    }
    if meta.get("target_branch").and_then(Value::as_str) != Some(target.as_str()) {
        return Gated::NeedsReference(
            "meta.json and lanes.json name different target branches".into(),
        );
    }
    let planning_only = !list.is_empty()
        && list
            .iter()
            .all(|l| l.get("lane_id").and_then(Value::as_str) == Some("lane-planning"));
    let mut gate = Gate::default();
    if planning_only {
        gate.skipped = skipped(
            0,
            "planning_artifact-only missions do not produce acceptance-matrix.json",
        );
        return Gated::Gate(gate);
    }
    let path = matrix_dir.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        let message = format!(
            "Acceptance matrix (acceptance-matrix.json) is required for lane-based features but was not found. This file is normally scaffolded automatically. If it is missing, regenerate it: spec-kitty agent mission finalize-tasks --mission {slug}"
        );
        gate.activity.push(message.clone());
        gate.blocked.push(Check::new("acceptance_matrix", message));
        gate.skipped = skipped(1, "acceptance-matrix.json is missing");
        return Gated::Gate(gate);
    };
    let Ok(matrix) = serde_json::from_str::<MatrixIn>(&text) else {
        return Gated::NeedsReference(
            "an acceptance matrix with keys or rows kitty does not model".into(),
        );
    };
    if !matrix.negative_invariants.is_empty() || matrix.mission_slug != slug {
        return Gated::NeedsReference("an acceptance matrix with negative invariants".into());
    }
    if mutate
        && matrix.criteria.iter().any(|c| {
            c.proof_type == "code_review" && c.pass_fail == "pending" && c.description != SCAFFOLD
        })
    {
        return Gated::NeedsReference(
            "a pending code_review criterion (the reference derives it from the reviews)".into(),
        );
    }
    if mutate {
        let bytes = render(
            slug,
            meta.get("mission_number"),
            meta.get("mission_type").and_then(Value::as_str),
            &matrix.criteria,
        );
        if bytes != text {
            gate.rewrite = Some((path, bytes));
        }
    }
    gate.activity.extend(
        evidence_errors(&matrix.criteria)
            .into_iter()
            .map(|e| format!("Evidence: {e}")),
    );
    match overall(&matrix.criteria) {
        "fail" => gate.activity.push(
            "Acceptance matrix verdict is 'fail' \u{2014} negative invariants or criteria not satisfied"
                .into(),
        ),
        "pending" => gate.activity.push(
            "Acceptance matrix verdict is 'pending' \u{2014} criteria or invariants have not been verified"
                .into(),
        ),
        _ => {}
    }
    Gated::Gate(gate)
}

/// The evidence the criteria lack, in the reference's words.
fn evidence_errors(criteria: &[Criterion]) -> Vec<String> {
    let mut out = Vec::new();
    let blank = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
    for c in criteria {
        let id = &c.criterion_id;
        if !VERDICTS.contains(&c.pass_fail.as_str()) {
            out.push(format!(
                "{id}: pass_fail must be one of {}; got {}",
                VERDICTS.join(", "),
                crate::pyfmt::python_repr(&Value::String(c.pass_fail.clone()))
            ));
        }
        if c.proof_type == "manual_qa" {
            if blank(&c.evidence) {
                out.push(format!(
                    "{id}: manual QA requires evidence (URL/screenshot)"
                ));
            }
            if blank(&c.verified_at) {
                out.push(format!("{id}: manual QA requires verified_at timestamp"));
            }
            if blank(&c.verified_by) {
                out.push(format!("{id}: manual QA requires verified_by identity"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Criterion {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn manual_qa_rows_need_evidence_a_time_and_a_name_and_verdicts_must_be_known() {
        let rows = [
            row(json!({"criterion_id": "FR-1", "description": "d", "proof_type": "manual_qa"})),
            row(
                json!({"criterion_id": "FR-2", "description": "d", "proof_type": "automated_test", "pass_fail": "ok"}),
            ),
            row(
                json!({"criterion_id": "FR-3", "description": "d", "proof_type": "manual_qa", "evidence": "u", "verified_at": "t", "verified_by": "b", "pass_fail": "pass"}),
            ),
        ];
        assert_eq!(
            evidence_errors(&rows),
            vec![
                "FR-1: manual QA requires evidence (URL/screenshot)",
                "FR-1: manual QA requires verified_at timestamp",
                "FR-1: manual QA requires verified_by identity",
                "FR-2: pass_fail must be one of fail, pass, pending; got 'ok'",
            ]
        );
    }

    fn setup(lanes: Option<Value>, matrix: Option<&str>) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        if let Some(l) = lanes {
            std::fs::write(t.path().join("lanes.json"), l.to_string()).unwrap();
        }
        if let Some(m) = matrix {
            std::fs::write(t.path().join(FILE), m).unwrap();
        }
        t
    }

    fn lanes(ids: &[&str]) -> Value {
        json!({
            "mission_slug": "m", "target_branch": "main", "mission_branch": "kitty/mission-m",
            "lanes": ids.iter().map(|i| json!({"lane_id": i})).collect::<Vec<_>>()
        })
    }

    fn run(t: &tempfile::TempDir, meta: Value, mutate: bool) -> Gated {
        check("m", t.path(), t.path(), &meta, mutate)
    }

    fn gate(g: Gated) -> Gate {
        match g {
            Gated::Gate(g) => g,
            Gated::NeedsReference(why) => panic!("handed over: {why}"),
        }
    }

    fn handed(g: Gated) -> String {
        match g {
            Gated::NeedsReference(why) => why,
            Gated::Gate(g) => panic!("not handed over: {g:?}"),
        }
    }

    const META: &str = r#"{"target_branch": "main", "mission_type": "software-dev"}"#;

    fn meta() -> Value {
        serde_json::from_str(META).unwrap()
    }

    fn matrix(rows: Value) -> String {
        json!({"mission_slug": "m", "criteria": rows}).to_string()
    }

    #[test]
    fn without_lanes_json_there_is_no_gate_and_planning_only_lanes_skip_the_matrix() {
        let g = gate(run(&setup(None, None), meta(), true));
        assert!(g.activity.is_empty() && g.skipped.is_empty() && g.rewrite.is_none());
        let g = gate(run(
            &setup(Some(lanes(&["lane-planning"])), None),
            meta(),
            true,
        ));
        assert_eq!(g.skipped.len(), 4);
        assert!(g.activity.is_empty() && g.blocked.is_empty());
        assert!(
            g.skipped[3].detail.ends_with(
                ": planning_artifact-only missions do not produce acceptance-matrix.json"
            )
        );
    }

    #[test]
    fn a_missing_matrix_blocks_and_skips_the_three_checks_after_presence() {
        let g = gate(run(&setup(Some(lanes(&["lane-a"])), None), meta(), true));
        assert_eq!(g.activity.len(), 1);
        assert!(
            g.activity[0].ends_with("finalize-tasks --mission m"),
            "{g:?}"
        );
        assert_eq!(g.blocked[0].check, "acceptance_matrix");
        assert_eq!(g.skipped.len(), 3);
        assert_eq!(g.skipped[0].check, "acceptance_matrix_evidence");
    }

    #[test]
    fn what_kitty_does_not_model_is_handed_over() {
        let t = setup(Some(lanes(&["lane-a"])), Some("{}"));
        assert!(handed(run(&t, meta(), true)).contains("does not model"));
        let t = setup(Some(json!({"target_branch": "main"})), None);
        assert!(handed(run(&t, meta(), true)).contains("lanes.json"));
        let t = setup(Some(lanes(&["lane-a"])), None);
        assert!(handed(run(&t, json!({"target_branch": "dev"}), true)).contains("target"));
        let t = setup(
            Some(lanes(&["lane-a"])),
            Some(
                &json!({"mission_slug": "m", "criteria": [], "negative_invariants": [{}]})
                    .to_string(),
            ),
        );
        assert!(handed(run(&t, meta(), true)).contains("negative invariants"));
        let review = matrix(
            json!([{"criterion_id": "FR-1", "description": "d", "proof_type": "code_review"}]),
        );
        let t = setup(Some(lanes(&["lane-a"])), Some(&review));
        assert!(handed(run(&t, meta(), true)).contains("code_review"));
        // A diagnosis derives nothing: it reports the pending verdict.
        let g = gate(run(&t, meta(), false));
        assert!(g.activity[0].starts_with("Acceptance matrix verdict is 'pending'"));
    }

    #[test]
    fn the_matrix_is_rewritten_in_the_reference_s_layout_and_judged_by_its_verdict() {
        let rows = json!([
            {"criterion_id": "FR-1", "description": "d", "proof_type": "automated_test", "pass_fail": "pass"},
            {"criterion_id": "FR-2", "description": "d", "proof_type": "automated_test", "pass_fail": "fail"}
        ]);
        let t = setup(Some(lanes(&["lane-a"])), Some(&matrix(rows.clone())));
        let g = gate(run(&t, meta(), true));
        let (path, bytes) = g.rewrite.expect("a compact matrix is rewritten");
        assert_eq!(path, t.path().join(FILE));
        assert!(bytes.contains("\"overall_verdict\": \"fail\""), "{bytes}");
        assert_eq!(
            g.activity,
            [
                "Acceptance matrix verdict is 'fail' \u{2014} negative invariants or criteria not satisfied"
            ]
        );
        // Written as accept writes it: nothing to rewrite; read-only: never.
        std::fs::write(t.path().join(FILE), &bytes).unwrap();
        assert!(gate(run(&t, meta(), true)).rewrite.is_none());
        std::fs::write(t.path().join(FILE), matrix(rows)).unwrap();
        assert!(gate(run(&t, meta(), false)).rewrite.is_none());
        // Passed: no finding.
        let pass = matrix(
            json!([{"criterion_id": "FR-1", "description": "d", "proof_type": "automated_test", "pass_fail": "pass"}]),
        );
        std::fs::write(t.path().join(FILE), pass).unwrap();
        assert!(gate(run(&t, meta(), true)).activity.is_empty());
        // Evidence findings come before the verdict.
        let qa = matrix(
            json!([{"criterion_id": "FR-1", "description": "d", "proof_type": "manual_qa", "pass_fail": "pass"}]),
        );
        std::fs::write(t.path().join(FILE), qa).unwrap();
        let g = gate(run(&t, meta(), true));
        assert_eq!(g.activity.len(), 3);
        assert!(g.activity[0].starts_with("Evidence: FR-1: manual QA requires evidence"));
    }

    #[test]
    fn the_skips_name_each_check_and_the_reason() {
        let s = skipped(1, "why");
        assert_eq!(s.len(), 3);
        assert_eq!(
            s[0],
            Check::new(
                "acceptance_matrix_evidence",
                "Acceptance matrix evidence validation skipped: why"
            )
        );
        assert_eq!(skipped(0, "x")[0].check, "acceptance_matrix_presence");
    }
}

//! The acceptance matrix scaffold finalize-tasks writes when a mission has none (**interop**:
//! the reference's keys, order and pending verdicts; kitty's words for the placeholders).

use serde::Serialize;

/// The file's name inside a mission directory.
pub const FILE: &str = "acceptance-matrix.json";

#[derive(Serialize)]
struct Criterion {
    criterion_id: String,
    description: String,
    proof_type: &'static str,
    evidence: Option<()>,
    pass_fail: &'static str,
    verified_by: Option<()>,
    verified_at: Option<()>,
    notes: &'static str,
}

#[derive(Serialize)]
struct Matrix<'a> {
    mission_slug: &'a str,
    mission_number: &'static str,
    mission_type: &'static str,
    overall_verdict: &'static str,
    criteria: Vec<Criterion>,
    negative_invariants: Vec<()>,
}

const TODO: &str = "Placeholder: write the real acceptance criterion and how it is proved.";

/// The scaffold's bytes: one pending criterion per functional requirement.
pub fn scaffold(slug: &str, functional: &[String]) -> String {
    let criterion = |id: String, description: String| Criterion {
        criterion_id: id,
        description,
        proof_type: "automated_test",
        evidence: None,
        pass_fail: "pending",
        verified_by: None,
        verified_at: None,
        notes: TODO,
    };
    let criteria = if functional.is_empty() {
        vec![criterion("AC-001".into(), TODO.into())]
    } else {
        functional
            .iter()
            .map(|f| criterion(f.clone(), format!("Show that {f} holds")))
            .collect()
    };
    let m = Matrix {
        mission_slug: slug,
        mission_number: "",
        mission_type: "software-dev",
        overall_verdict: "pending",
        criteria,
        negative_invariants: Vec::new(),
    };
    crate::pyfmt::to_python_json_pretty(&m).unwrap_or_default() + "\n"
}

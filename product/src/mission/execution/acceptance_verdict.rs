//! `agent mission acceptance-verdict --criterion ID --result pass|fail|pending`: one criterion's
//! verdict recorded in the mission's acceptance matrix, the matrix committed where the mission's
//! status lives (**interop**: the reference's `acceptance-matrix.json` — its keys, order and
//! computed `overall_verdict` — its commit message, and its document).
//!
//! The negative-invariant mode (registering and running a check) is the reference's, as is a
//! matrix holding invariants or keys this model does not know (so nothing is dropped on rewrite).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::transition::Surface;
use super::{ExecError, Found, status_lock};
use crate::env::Env;
use crate::mission::planning::commit::{Committed, commit_on, protected};
use crate::mission::tasks::finalize::acceptance::FILE;

/// The verdicts a criterion takes.
pub const VERDICTS: [&str; 3] = ["fail", "pass", "pending"];

/// The description of the reference's empty scaffold row.
pub(crate) const SCAFFOLD: &str = "TODO: replace with a real acceptance criterion";

/// What was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--mission`.
    pub mission: Option<String>,
    /// `--criterion`.
    pub criterion: Option<String>,
    /// `--result`.
    pub result: Option<String>,
    /// `--verification-method` (the criterion's `proof_type`).
    pub verification_method: Option<String>,
    /// `--actor` (`verified_by`).
    pub actor: Option<String>,
    /// `--evidence`.
    pub evidence: Option<String>,
    /// `--negative-invariant`.
    pub negative_invariant: Option<String>,
    /// `--description` (negative-invariant mode).
    pub description: Option<String>,
}

/// The answer.
#[derive(Debug)]
pub enum Outcome {
    /// The document (the reference's shape), its human line, and the exit status.
    Done {
        /// `{"success": ..., ...}`.
        doc: Value,
        /// The human line.
        human: String,
        /// 0, or the reference's status for the refusal.
        code: u8,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

/// One criterion row, in the reference's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Criterion {
    pub(crate) criterion_id: String,
    pub(crate) description: String,
    pub(crate) proof_type: String,
    #[serde(default)]
    pub(crate) evidence: Option<String>,
    #[serde(default = "pending")]
    pub(crate) pass_fail: String,
    #[serde(default)]
    pub(crate) verified_by: Option<String>,
    #[serde(default)]
    pub(crate) verified_at: Option<String>,
    #[serde(default)]
    pub(crate) notes: Option<String>,
}

fn pending() -> String {
    "pending".into()
}

/// The matrix file (no negative invariants, no extra keys: those are the reference's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatrixIn {
    pub(crate) mission_slug: String,
    #[serde(default)]
    pub(crate) mission_number: Option<Value>,
    #[serde(default)]
    pub(crate) mission_type: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    overall_verdict: Option<Value>,
    #[serde(default)]
    pub(crate) criteria: Vec<Criterion>,
    #[serde(default)]
    pub(crate) negative_invariants: Vec<Value>,
}

#[derive(Serialize)]
struct MatrixOut<'a> {
    mission_slug: &'a str,
    mission_number: String,
    mission_type: String,
    overall_verdict: &'static str,
    criteria: &'a [Criterion],
    negative_invariants: [(); 0],
}

/// The matrix's verdict from its criteria (no invariants): `fail` on a failed or unknown
/// verdict, `pending` while a real criterion (or, with none, any) is pending, else `pass`.
pub(crate) fn overall(criteria: &[Criterion]) -> &'static str {
    let judged: Vec<(Option<&str>, bool)> = criteria
        .iter()
        .map(|c| (Some(c.pass_fail.as_str()), c.description == SCAFFOLD))
        .collect();
    crate::mission::merge_drivers::overall_verdict(&judged, &[])
}

/// The reference's refusal document, with kitty's `result` and `error_code` added.
fn refusal(message: &str, code: u8, error_code: &str) -> Outcome {
    Outcome::Done {
        doc: json!({"success": false, "error": message, "result": "error", "error_code": error_code}),
        human: format!("Error: {message}"),
        code,
    }
}

/// Check the flags' shape, as the reference does before any I/O: the refusal, if any.
fn shape(req: &Request) -> Option<Outcome> {
    let mut error_code = "MISSING_OPTION";
    let message = match (&req.criterion, &req.negative_invariant) {
        (Some(_), Some(_)) => {
            error_code = "CONFLICTING_OPTIONS";
            "--criterion and --negative-invariant are mutually exclusive".into()
        }
        (None, None) => "one of --criterion or --negative-invariant is required".into(),
        (Some(_), None) => match req.result.as_deref() {
            None => "--result is required with --criterion".into(),
            Some(r) if !VERDICTS.contains(&r) => {
                error_code = "INVALID_RESULT";
                format!("--result must be one of {}; got '{r}'", VERDICTS.join(", "))
            }
            Some(_) => return None,
        },
        (None, Some(_)) => {
            if req.description.is_none() {
                "--description is required with --negative-invariant".into()
            } else if req.verification_method.is_none() {
                "--verification-method is required with --negative-invariant".into()
            } else {
                return None;
            }
        }
    };
    Some(refusal(&message, 2, error_code))
}

/// Record the verdict.
pub fn acceptance_verdict(
    env: &Env,
    cwd: &Path,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Outcome, ExecError> {
    if let Some(refused) = shape(req) {
        return Ok(refused);
    }
    if req.negative_invariant.is_some() {
        return Ok(Outcome::NeedsReference(
            "--negative-invariant (registering and running the check)".into(),
        ));
    }
    let (Some(id), Some(result)) = (req.criterion.as_deref(), req.result.as_deref()) else {
        return Ok(refusal(
            "--result is required with --criterion",
            2,
            "MISSING_OPTION",
        ));
    };
    let t = match super::target(env, cwd, req.mission.as_deref())? {
        Found::Target(t) => t,
        Found::NeedsReference(why) => return Ok(Outcome::NeedsReference(why)),
    };
    let slug = t.entry.slug.clone();
    let surface = Surface::of(env, &t)?;
    if protected(env, &surface.repo, &surface.branch)? {
        return Ok(Outcome::NeedsReference(format!(
            "a verdict committed on the protected branch '{}'",
            surface.branch
        )));
    }
    let _lock = status_lock::hold(&t.repo.git_dir()?, &slug)?;
    let path = surface.dir.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(refusal(
            &format!(
                "No acceptance-matrix.json found for mission '{slug}'. Run `spec-kitty agent mission finalize-tasks` to scaffold it first."
            ),
            1,
            "ACCEPTANCE_MATRIX_MISSING",
        ));
    };
    let Ok(mut matrix) = serde_json::from_str::<MatrixIn>(&text) else {
        return Ok(Outcome::NeedsReference(
            "an acceptance matrix with keys or rows kitty does not model".into(),
        ));
    };
    if !matrix.negative_invariants.is_empty() || matrix.mission_slug != slug {
        return Ok(Outcome::NeedsReference(
            "an acceptance matrix with negative invariants".into(),
        ));
    }
    let Some(row) = matrix.criteria.iter_mut().find(|c| c.criterion_id == id) else {
        let mut ids: Vec<&str> = matrix
            .criteria
            .iter()
            .map(|c| c.criterion_id.as_str())
            .collect();
        ids.sort_unstable();
        let available = if ids.is_empty() {
            "(none)".to_string()
        } else {
            ids.join(", ")
        };
        return Ok(refusal(
            &format!(
                "Unknown criterion '{id}' for mission '{slug}'. Available criteria: {available}"
            ),
            1,
            "UNKNOWN_CRITERION",
        ));
    };
    let mut candidate = row.clone();
    candidate.pass_fail = result.to_string();
    if let Some(v) = &req.verification_method {
        candidate.proof_type.clone_from(v);
    }
    if let Some(a) = &req.actor {
        candidate.verified_by = Some(a.clone());
    }
    if let Some(e) = &req.evidence {
        candidate.evidence = Some(e.clone());
    }
    if candidate != *row {
        candidate.verified_at = Some(crate::pyfmt::isoformat(now));
        *row = candidate;
    }
    let verdict = overall(&matrix.criteria);
    let meta_here = surface.dir.join("meta.json").is_file();
    let (number, mission_type) = if meta_here {
        (
            t.entry.meta.get("mission_number").cloned(),
            t.entry
                .meta
                .get("mission_type")
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    } else {
        (matrix.mission_number.clone(), matrix.mission_type.clone())
    };
    let bytes = render(
        &slug,
        number.as_ref(),
        mission_type.as_deref(),
        &matrix.criteria,
    );
    if bytes != text {
        write_atomically(&path, &bytes)?;
    }
    let rel = super::transition::rel(surface.repo.top(), &path);
    let message = format!("chore(acceptance): record {id}={result} for {slug}");
    let (status, hash) = match commit_on(env, &surface.repo, &surface.branch, &[rel], &message)? {
        Committed::Commit(sha) => ("committed", Value::String(sha)),
        Committed::Unchanged => ("unchanged", Value::Null),
    };
    let mut doc = Map::new();
    doc.insert("success".into(), json!(true));
    doc.insert("mission".into(), json!(slug));
    doc.insert("criterion".into(), json!(id));
    doc.insert("result".into(), json!(result));
    doc.insert("overall_verdict".into(), json!(verdict));
    doc.insert("write_status".into(), json!(status));
    doc.insert("destination_surface".into(), json!(surface.branch));
    doc.insert("commit_hash".into(), hash);
    Ok(Outcome::Done {
        doc: Value::Object(doc),
        human: format!(
            "\u{2713} {id}={result} recorded for {slug} (overall_verdict={verdict}, write={status})"
        ),
        code: 0,
    })
}

/// The matrix file's bytes (the reference's layout): the mission's identity, the verdict its
/// criteria give, the criteria, no invariants.
pub(crate) fn render(
    slug: &str,
    number: Option<&Value>,
    mission_type: Option<&str>,
    criteria: &[Criterion],
) -> String {
    let out = MatrixOut {
        mission_slug: slug,
        mission_number: number_text(number, slug),
        mission_type: mission_type.unwrap_or_default().trim().to_string(),
        overall_verdict: overall(criteria),
        criteria,
        negative_invariants: [],
    };
    crate::pyfmt::to_python_json_pretty(&out).unwrap_or_default() + "\n"
}

/// `mission_number` as the matrix writes it: the stored number as text, else the slug's
/// numeric prefix, else empty.
fn number_text(n: Option<&Value>, slug: &str) -> String {
    let stored = match n {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    if stored.is_empty() {
        super::next::number_from_slug(slug)
    } else {
        stored
    }
}

pub(crate) fn write_atomically(path: &Path, bytes: &str) -> Result<(), ExecError> {
    let tmp = path.with_extension("json.tmp");
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        crate::mission::status::StatusError::io("write", path, e).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, description: &str, verdict: &str) -> Criterion {
        Criterion {
            criterion_id: id.into(),
            description: description.into(),
            proof_type: "automated_test".into(),
            evidence: None,
            pass_fail: verdict.into(),
            verified_by: None,
            verified_at: None,
            notes: None,
        }
    }

    #[test]
    fn the_verdict_fails_on_any_failure_waits_on_real_pending_rows_and_passes_otherwise() {
        assert_eq!(overall(&[]), "pending");
        assert_eq!(
            overall(&[row("FR-1", "a", "pass"), row("FR-2", "b", "fail")]),
            "fail"
        );
        assert_eq!(overall(&[row("FR-1", "a", "maybe")]), "fail");
        assert_eq!(
            overall(&[row("FR-1", "a", "pass"), row("FR-2", "b", "pending")]),
            "pending"
        );
        // A leftover scaffold row does not hold back a real, passed one...
        assert_eq!(
            overall(&[row("FR-1", "a", "pass"), row("AC-001", SCAFFOLD, "pending")]),
            "pass"
        );
        // ...but a matrix of scaffolds alone stays pending.
        assert_eq!(overall(&[row("AC-001", SCAFFOLD, "pending")]), "pending");
        assert_eq!(overall(&[row("FR-1", "a", "pass")]), "pass");
    }

    #[test]
    fn the_flags_are_checked_in_the_reference_s_order_with_its_status() {
        let refused = |req: Request| match shape(&req) {
            Some(Outcome::Done { doc, code, .. }) => (doc["error"].to_string(), code),
            _ => (String::new(), 0),
        };
        let c = |result: Option<&str>| Request {
            criterion: Some("FR-001".into()),
            result: result.map(str::to_string),
            ..Request::default()
        };
        assert_eq!(
            refused(Request {
                negative_invariant: Some("NI-1".into()),
                ..c(Some("pass"))
            }),
            (
                "\"--criterion and --negative-invariant are mutually exclusive\"".into(),
                2
            )
        );
        assert_eq!(
            refused(Request::default()).0,
            "\"one of --criterion or --negative-invariant is required\""
        );
        assert_eq!(
            refused(c(None)).0,
            "\"--result is required with --criterion\""
        );
        assert_eq!(
            refused(c(Some("ok"))).0,
            "\"--result must be one of fail, pass, pending; got 'ok'\""
        );
        assert!(shape(&c(Some("pass"))).is_none());
        let ni = Request {
            negative_invariant: Some("NI-1".into()),
            ..Request::default()
        };
        assert_eq!(
            refused(ni.clone()).0,
            "\"--description is required with --negative-invariant\""
        );
        assert_eq!(
            refused(Request {
                description: Some("d".into()),
                ..ni
            })
            .0,
            "\"--verification-method is required with --negative-invariant\""
        );
    }

    #[test]
    fn a_row_without_a_verdict_is_pending() {
        let c: Criterion = serde_json::from_value(json!({
            "criterion_id": "FR-001", "description": "d", "proof_type": "automated_test"
        }))
        .unwrap();
        assert_eq!((c.pass_fail.as_str(), c.evidence), ("pending", None));
    }

    #[test]
    fn the_matrix_number_is_the_stored_one_else_the_slug_s_prefix() {
        assert_eq!(number_text(Some(&json!(7)), "x"), "7");
        assert_eq!(number_text(Some(&json!(" 12 ")), "x"), "12");
        assert_eq!(number_text(Some(&json!("")), "034-demo"), "34");
        assert_eq!(number_text(None, "demo-01ABCDEF"), "");
    }
}

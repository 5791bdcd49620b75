//! The merge's policies as the forecast reports them (**interop**: the reference's review gate,
//! mission-number assignment and clean-up retention).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::mission::status::{Lane, reduce};
use crate::pyfmt::python_repr;

/// The gate's finding for a package that ended approved or done while its last verdict asks
/// for changes (and no complete override is recorded).
pub(super) fn rejected_but_terminal(wp: &str, state: &reduce::WpState) -> Option<Value> {
    if !matches!(state.lane, Lane::Approved | Lane::Done) {
        return None;
    }
    let overridden = state.slot("review").is_some_and(|r| {
        ["actor", "at", "reason", "wp_id"].iter().all(|k| {
            r.get(*k)
                .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
        })
    });
    if overridden {
        return None;
    }
    let verdict = state.slot("review_result").filter(|r| {
        ["reviewer", "verdict", "reference"]
            .iter()
            .all(|k| r.get(*k).is_some())
    })?;
    if verdict["verdict"] != "changes_requested" {
        return None;
    }
    Some(json!({
        "diagnostic_code": "REJECTED_REVIEW_ARTIFACT_CONFLICT",
        "branch_or_work_package": wp,
        "violated_invariant": "terminal_wp_latest_review_artifact_must_not_be_rejected",
        "remediation": [
            "Run another review cycle that writes an approved review-cycle artifact.",
            "Or move the WP out of approved/done before merge.",
        ],
        "lane": state.lane.as_str(),
        "latest_review_cycle_path": null,
        "latest_review_cycle_verdict": "changes_requested",
        "review_cycle_number": 0,
    }))
}

/// A `mission_number` as the reference coerces it: `Ok(None)` unset, `Err` malformed.
pub(super) fn mission_number(value: Option<&Value>) -> Result<Option<i64>, ()> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            let digits = s.trim().trim_start_matches('0');
            (if digits.is_empty() { "0" } else { digits })
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ())
        }
        Some(_) => Err(()),
    }
}

/// The number the merge would give a mission that has none: one above the highest number of
/// the primary checkout's missions (1 when none has one); `None` when it has one already.
pub(super) fn would_assign(
    specs: &Path,
    meta: Option<&Map<String, Value>>,
) -> Result<Option<i64>, String> {
    let Some(meta) = meta else {
        return Ok(None);
    };
    match mission_number(meta.get("mission_number")) {
        Ok(Some(_)) => return Ok(None),
        Ok(None) => {}
        Err(()) => {
            return Err(format!(
                "meta.json's mission_number {} is neither a number nor unset: set it to an integer or null, then run this again",
                python_repr(&meta["mission_number"])
            ));
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(specs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let highest = dirs
        .iter()
        .filter_map(|d| std::fs::read_to_string(d.join("meta.json")).ok())
        .filter_map(|t| match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(m)) => mission_number(m.get("mission_number")).ok().flatten(),
            _ => None,
        })
        .max();
    Ok(Some(highest.map_or(1, |n| n + 1)))
}

/// One clean-up decision: the flag, else the mission's `retain_*` policy (a malformed value
/// retains), else delete. `(decision, source, warning)`.
pub(super) fn retention(
    flag: Option<bool>,
    policy: Option<&Value>,
    what: &str,
    key: &str,
) -> (bool, &'static str, Option<String>) {
    if let Some(delete) = flag {
        return (delete, "cli", None);
    }
    match policy {
        Some(Value::Bool(true)) => (
            false,
            "meta",
            Some(format!("retention honored for {what} (source: meta.json)")),
        ),
        None | Some(Value::Null | Value::Bool(false)) => (true, "default", None),
        Some(other) => (
            false,
            "meta",
            Some(format!(
                "malformed {key} value in meta.json ({}); treated as retaining (fail-closed)",
                python_repr(other)
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(lane: Lane, fields: Value) -> reduce::WpState {
        reduce::WpState {
            lane,
            fields: fields.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn only_a_terminal_package_whose_last_verdict_asks_for_changes_blocks_unless_overridden() {
        let asked = json!({"reviewer": "r", "verdict": "changes_requested", "reference": "x"});
        let found = rejected_but_terminal(
            "WP01",
            &state(Lane::Approved, json!({"review_result": asked})),
        )
        .unwrap();
        assert_eq!(found["branch_or_work_package"], "WP01");
        assert_eq!(found["lane"], "approved");
        assert!(
            rejected_but_terminal("WP01", &state(Lane::Done, json!({"review_result": asked})))
                .is_some()
        );
        // Not terminal, approved, incomplete, or overridden: no finding.
        for (lane, fields) in [
            (Lane::InReview, json!({"review_result": asked})),
            (
                Lane::Approved,
                json!({"review_result": {"reviewer": "r", "verdict": "approved", "reference": "x"}}),
            ),
            (
                Lane::Approved,
                json!({"review_result": {"reviewer": "r", "verdict": "changes_requested"}}),
            ),
            (Lane::Approved, json!({"review_result": null})),
            (
                Lane::Approved,
                json!({"review_result": asked,
                    "review": {"actor": "a", "at": "t", "reason": "why", "wp_id": "WP01"}}),
            ),
        ] {
            assert_eq!(
                rejected_but_terminal("WP01", &state(lane, fields.clone())),
                None,
                "{fields}"
            );
        }
        // An override with a part missing or empty overrides nothing.
        for review in [
            json!({"actor": "a", "at": "t", "reason": "", "wp_id": "WP01"}),
            json!({"actor": "a", "at": "t", "wp_id": "WP01"}),
            json!({"actor": null, "at": "t", "reason": "why", "wp_id": "WP01"}),
        ] {
            assert!(
                rejected_but_terminal(
                    "WP01",
                    &state(
                        Lane::Approved,
                        json!({"review_result": asked, "review": review})
                    )
                )
                .is_some(),
                "{review}"
            );
        }
    }

    #[test]
    fn mission_numbers_are_coerced_as_the_reference_does() {
        assert_eq!(mission_number(None), Ok(None));
        assert_eq!(mission_number(Some(&json!(null))), Ok(None));
        assert_eq!(mission_number(Some(&json!("  "))), Ok(None));
        assert_eq!(mission_number(Some(&json!(7))), Ok(Some(7)));
        assert_eq!(mission_number(Some(&json!("042"))), Ok(Some(42)));
        assert_eq!(mission_number(Some(&json!("000"))), Ok(Some(0)));
        assert_eq!(mission_number(Some(&json!("pending"))), Err(()));
        assert_eq!(mission_number(Some(&json!(1.5))), Err(()));
        assert_eq!(mission_number(Some(&json!(true))), Err(()));
    }

    #[test]
    fn the_next_number_is_one_above_the_highest_and_malformed_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path();
        let put = |name: &str, meta: &str| {
            std::fs::create_dir_all(specs.join(name)).unwrap();
            std::fs::write(specs.join(name).join("meta.json"), meta).unwrap();
        };
        let own: Map<String, Value> = serde_json::from_str(r#"{"mission_number": null}"#).unwrap();
        assert_eq!(would_assign(specs, Some(&own)), Ok(Some(1)));
        put("a", r#"{"mission_number": 5}"#);
        put("b", r#"{"mission_number": "010"}"#);
        put("c", r#"{"mission_number": "pending"}"#);
        put("d", "{corrupt");
        put("e", r#"{"mission_number": true}"#);
        assert_eq!(would_assign(specs, Some(&own)), Ok(Some(11)));
        let numbered: Map<String, Value> =
            serde_json::from_str(r#"{"mission_number": 3}"#).unwrap();
        assert_eq!(would_assign(specs, Some(&numbered)), Ok(None));
        assert_eq!(would_assign(specs, None), Ok(None));
        let bad: Map<String, Value> = serde_json::from_str(r#"{"mission_number": "TBD"}"#).unwrap();
        assert!(
            would_assign(specs, Some(&bad))
                .unwrap_err()
                .contains("'TBD'")
        );
    }

    #[test]
    fn retention_is_the_flag_else_the_policy_else_delete() {
        assert_eq!(
            retention(
                Some(false),
                Some(&json!(false)),
                "branches",
                "retain_branches"
            ),
            (false, "cli", None)
        );
        assert_eq!(
            retention(None, None, "branches", "retain_branches"),
            (true, "default", None)
        );
        assert_eq!(
            retention(None, Some(&json!(false)), "branches", "retain_branches"),
            (true, "default", None)
        );
        assert_eq!(
            retention(None, Some(&json!(true)), "worktrees", "retain_worktrees"),
            (
                false,
                "meta",
                Some("retention honored for worktrees (source: meta.json)".into())
            )
        );
        assert_eq!(
            retention(None, Some(&json!("yes")), "branches", "retain_branches"),
            (
                false,
                "meta",
                Some(
                    "malformed retain_branches value in meta.json ('yes'); treated as retaining (fail-closed)"
                        .into()
                )
            )
        );
    }
}

//! The branch contract of the planning documents (current, target, base and merge target in both
//! cases, `runtime_vars`, `branch_context`) and the primary branch (**interop**: the reference's
//! keys and its primary-branch cascade).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::mission::MissionError;
use crate::mission::git::Repo;

const USUAL_PRIMARIES: [&str; 3] = ["main", "master", "develop"];

/// The branch a repository treats as primary. `strict`: only the origin's default or one of
/// main/master/develop counts before the general cascade (branch-context's recommendation);
/// otherwise the current branch comes right after the origin's default.
pub fn primary_branch(repo: &Repo, strict: bool) -> Result<String, MissionError> {
    if let Some(origin) = repo.origin_default_branch()? {
        return Ok(origin);
    }
    let current = repo.branch()?.filter(|b| !b.is_empty());
    if strict {
        if let Some(c) = current.as_deref().filter(|c| USUAL_PRIMARIES.contains(c)) {
            return Ok(c.to_string());
        }
        for name in USUAL_PRIMARIES {
            if repo.ref_exists(&format!("refs/heads/{name}"))?
                || repo.ref_exists(&format!("refs/remotes/origin/{name}"))?
            {
                return Ok(name.to_string());
            }
        }
    }
    if let Some(c) = current {
        return Ok(c);
    }
    for name in USUAL_PRIMARIES {
        if repo.ref_exists(&format!("refs/heads/{name}"))? {
            return Ok(name.to_string());
        }
    }
    Ok("main".into())
}

/// The branches a planning document reports.
#[derive(Debug, Clone)]
pub struct Contract<'a> {
    /// The branch checked out.
    pub current: &'a str,
    /// The mission's planning and merge-target branch.
    pub target: &'a str,
    /// Whether the checkout is where it should be.
    pub matches: bool,
    /// The time of the run.
    pub now: DateTime<Utc>,
    /// The primary branch, when the document advises on it (branch-context).
    pub primary: Option<&'a str>,
}

/// The one-sentence summary of a contract (kitty's words).
pub fn summary(current: &str, target: &str) -> String {
    format!(
        "Started on {current}; this mission is planned on {target} and its work merges into {target}."
    )
}

impl Contract<'_> {
    /// The recommendation on the primary branch: `(strategy, reason)`.
    fn advice(&self, primary: &str) -> (&'static str, String) {
        if self.current == primary {
            (
                "feature-branch",
                format!(
                    "'{primary}' is the primary branch: start a PR-bound mission on a feature branch so its planning commits stay off '{primary}'."
                ),
            )
        } else {
            (
                "stay",
                format!(
                    "'{}' is not the primary branch '{primary}': planning on it is fine.",
                    self.current
                ),
            )
        }
    }

    /// The contract's keys, in the reference's order, to append to a document.
    pub fn keys(&self) -> Map<String, Value> {
        let (cur, target, matches) = (self.current, self.target, self.matches);
        let summary = summary(cur, target);
        let now = crate::pyfmt::seconds_z(self.now);
        let mut runtime = json!({
            "now_utc_iso": now,
            "current_branch": cur,
            "target_branch": target,
            "base_branch": target,
            "planning_base_branch": target,
            "merge_target_branch": target,
            "branch_matches_target": matches,
            "branch_strategy_summary": summary,
        });
        let mut context = json!({
            "current_branch": cur,
            "target_branch": target,
            "base_branch": target,
            "planning_base_branch": target,
            "merge_target_branch": target,
            "expected_checkout_branch": target,
            "matches_target": matches,
            "branch_strategy_summary": summary,
        });
        let mut doc = json!({
            "current_branch": cur,
            "CURRENT_BRANCH": cur,
            "target_branch": target,
            "base_branch": target,
            "TARGET_BRANCH": target,
            "BASE_BRANCH": target,
            "planning_base_branch": target,
            "PLANNING_BASE_BRANCH": target,
            "merge_target_branch": target,
            "MERGE_TARGET_BRANCH": target,
            "EXPECTED_TARGET_BRANCH": target,
            "EXPECTED_BASE_BRANCH": target,
            "branch_matches_target": matches,
            "BRANCH_MATCHES_TARGET": matches,
            "branch_strategy_summary": summary,
            "NOW_UTC_ISO": now,
        });
        if let Some(primary) = self.primary {
            let is_primary = cur == primary;
            let (strategy, reason) = self.advice(primary);
            runtime["primary_branch"] = primary.into();
            runtime["current_is_primary"] = is_primary.into();
            runtime["recommended_strategy"] = strategy.into();
            context["primary_branch"] = primary.into();
            context["current_is_primary"] = is_primary.into();
            context["recommended_strategy"] = strategy.into();
            context["reason"] = reason.clone().into();
            doc["primary_branch"] = primary.into();
            doc["PRIMARY_BRANCH"] = primary.into();
            doc["current_is_primary"] = is_primary.into();
            doc["CURRENT_IS_PRIMARY"] = is_primary.into();
            doc["recommended_strategy"] = strategy.into();
            doc["RECOMMENDED_STRATEGY"] = strategy.into();
            doc["branch_recommendation_reason"] = reason.into();
        }
        doc["runtime_vars"] = runtime;
        doc["branch_context"] = context;
        match doc {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_keys_appear_only_with_a_primary_and_advise_by_the_current_branch() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let plain = Contract {
            current: "f",
            target: "main",
            matches: false,
            now,
            primary: None,
        }
        .keys();
        assert_eq!(plain["NOW_UTC_ISO"], "2026-12-04T10:00:00Z");
        assert_eq!(plain["TARGET_BRANCH"], "main");
        assert_eq!(plain["CURRENT_BRANCH"], "f");
        assert_eq!(plain["branch_context"]["expected_checkout_branch"], "main");
        assert!(!plain.contains_key("primary_branch"));
        assert!(plain["branch_context"].get("reason").is_none());
        let on = Contract {
            current: "main",
            target: "main",
            matches: true,
            now,
            primary: Some("main"),
        }
        .keys();
        assert_eq!(on["RECOMMENDED_STRATEGY"], "feature-branch");
        assert_eq!(on["runtime_vars"]["current_is_primary"], true);
        let off = Contract {
            current: "f",
            target: "f",
            matches: true,
            now,
            primary: Some("main"),
        }
        .keys();
        assert_eq!(off["recommended_strategy"], "stay");
        assert_eq!(off["CURRENT_IS_PRIMARY"], false);
        assert_eq!(
            off["branch_context"]["reason"],
            off["branch_recommendation_reason"]
        );
    }
}

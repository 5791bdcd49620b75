//! finalize-tasks' documents (**interop**: the reference's keys and values; kitty's sentences).

use serde_json::{Map, Value, json};

use super::apply::Applied;
use super::plan::Plan;

fn obj(pairs: &[(String, Vec<String>)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

fn lists(plan: &Plan) -> (Vec<String>, Vec<String>, Vec<String>, usize) {
    let changed = |w: &&super::plan::WpPlan| !w.changes.is_empty();
    let modified = plan
        .wps
        .iter()
        .filter(|w| changed(w) && !w.preserved)
        .map(|w| w.id.clone())
        .collect();
    let unchanged = plan
        .wps
        .iter()
        .filter(|w| !changed(w) && !w.preserved)
        .map(|w| w.id.clone())
        .collect();
    let preserved = plan
        .wps
        .iter()
        .filter(|w| w.preserved)
        .map(|w| w.id.clone())
        .collect();
    (
        modified,
        unchanged,
        preserved,
        plan.wps.iter().filter(changed).count(),
    )
}

fn bootstrap(plan: &Plan) -> Value {
    json!({
        "total_wps": plan.total_wps,
        "newly_seeded": plan.seed.len(),
        "already_initialized": plan.total_wps - plan.seed.len(),
    })
}

fn lanes(plan: &Plan) -> Value {
    plan.lanes
        .as_ref()
        .map_or_else(|| json!({"computed": false}), |l| l.preview())
}

/// `--validate-only`'s document.
pub fn validate_only(plan: &Plan) -> Map<String, Value> {
    let (_, unchanged, preserved, updated) = lists(plan);
    let would_modify: Vec<Value> = plan
        .wps
        .iter()
        .filter(|w| !w.changes.is_empty() && !w.preserved)
        .map(|w| {
            let changes: Map<String, Value> = w.changes.iter().cloned().collect();
            json!({"wp_id": w.id, "changes": changes})
        })
        .collect();
    let doc = json!({
        "result": "validation_passed",
        "mission_slug": plan.slug,
        "wp_count": plan.wps.len(),
        "validate_only": true,
        "would_modify": would_modify,
        "would_preserve": preserved,
        "unchanged": unchanged,
        "updated_wp_count": updated,
        "ownership_warnings": plan.ownership_warnings,
        "requirement_extraction_warnings": plan.requirement_warnings,
        "post_integration_acceptance_warnings": plan.post_integration_warnings,
        "validation": {"bootstrap_preview": bootstrap(plan), "lanes_preview": lanes(plan)},
        "message": "Every check passed; run again without --validate-only to write and commit.",
    });
    match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The success document.
pub fn success(plan: &Plan, applied: &Applied) -> Map<String, Value> {
    let (modified, unchanged, preserved, updated) = lists(plan);
    let hashes: Vec<Value> = applied
        .commit
        .iter()
        .map(|h| json!({"branch": plan.planning_branch, "hash": h}))
        .collect();
    let doc = json!({
        "result": "success",
        "wp_count": plan.wps.len(),
        "updated_wp_count": updated,
        "modified_wps": modified,
        "unchanged_wps": unchanged,
        "preserved_wps": preserved,
        "tasks_dir": plan.tasks_dir,
        "commit_created": applied.commit.is_some(),
        "commit_hash": applied.commit,
        "commit_hashes": hashes,
        "files_committed": if applied.commit.is_some() { applied.files_committed.clone() } else { Vec::new() },
        "dependencies_parsed": obj(&plan.deps_parsed),
        "requirement_refs_parsed": obj(&plan.refs_parsed),
        "bootstrap": bootstrap(plan),
        "lanes": lanes(plan),
        "ownership_warnings": plan.ownership_warnings,
        "requirement_extraction_warnings": plan.requirement_warnings,
        "post_integration_acceptance_warnings": plan.post_integration_warnings,
        "target_branch_override": {"requested": null, "persisted": false, "committed": false, "previous_value": null, "persist_error": null},
        "planning_commit": applied.planning_commit,
    });
    match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The human lines of a success.
pub fn human(plan: &Plan, applied: &Applied) -> String {
    let mut lines = vec![format!(
        "Branch: {} (target for this mission)",
        plan.planning_branch
    )];
    lines.extend(
        plan.ownership_warnings
            .iter()
            .map(|w| format!("Ownership warning: {w}")),
    );
    lines.push(format!(
        "Bootstrapped canonical status: {} WPs seeded",
        plan.seed.len()
    ));
    if let Some(l) = &plan.lanes {
        lines.push(format!("Computed {} execution lane(s)", l.lanes.len()));
    }
    match &applied.commit {
        Some(sha) => {
            lines.push(format!("Tasks committed to {}", plan.planning_branch));
            lines.push(format!("Commit: {}", &sha[..sha.len().min(7)]));
        }
        None => lines.push("Nothing to commit: the tasks were already committed.".into()),
    }
    lines.push(format!(
        "Updated {} WP files with dependencies",
        lists(plan).3
    ));
    lines.join("\n")
}

/// The human lines of a validate-only run.
pub fn human_validate(plan: &Plan) -> String {
    let (modified, unchanged, preserved, _) = lists(plan);
    format!(
        "All validations passed (--validate-only: nothing written)\n  Mission: {}\n  WPs validated: {}\n  Would modify: {} WP(s), preserve: {}, unchanged: {}\n  Bootstrap: {} WPs would be seeded, {} already initialized\n  Lanes: {} lane(s) would be computed",
        plan.slug,
        plan.wps.len(),
        modified.len(),
        preserved.len(),
        unchanged.len(),
        plan.seed.len(),
        plan.total_wps - plan.seed.len(),
        plan.lanes.as_ref().map_or(0, |l| l.lanes.len()),
    )
}

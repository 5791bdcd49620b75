//! The failures of the work-package commands, each with the reference's extra keys and an
//! `error_code` (the reference's where it has one), and a message that ends with the fix.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::mission::planning::PlanningError;
use crate::mission::status::StatusError;

/// What the requirement gate found missing.
#[derive(Debug, Clone)]
pub struct RequirementGaps {
    /// Work packages without refs.
    pub missing: Vec<String>,
    /// Refs spec.md does not declare, per work package.
    pub unknown: Map<String, Value>,
    /// Functional requirements no work package covers.
    pub unmapped: Vec<String>,
    /// Requirement ids only mentioned in prose.
    pub bare_prose: Vec<String>,
    /// The resolved dependencies.
    pub dependencies: Value,
    /// The resolved refs.
    pub refs: Value,
}

/// Why finalize-tasks or the board failed.
#[derive(Debug, thiserror::Error)]
pub enum TasksError {
    /// No mission could be chosen.
    #[error("{}", if available.is_empty() { "no missions in kitty-specs/: create one with `spec-kitty agent mission create <slug> --json`".to_string() } else { format!("{} missions found: pass --mission <slug> to pick one, e.g. `{example}`", available.len()) })]
    Unresolved {
        /// `--mission` as given.
        mission_flag: Option<String>,
        /// The mission directories there are.
        available: Vec<String>,
        /// The command to run with one of them.
        example: String,
    },
    /// The board needs `--mission`.
    #[error(
        "--mission <slug> is required: pass the mission's directory name, its mission_id or its first 8 characters"
    )]
    MissionRequired,
    /// No `--mission`, and several finalized missions have the work package open.
    #[error(
        "--mission <slug> is required: {wp} is open in {} missions ({}); pass --mission with one of them",
        slugs.len(),
        slugs.join(", ")
    )]
    MissionNotInferred {
        /// The work package named (or "a work package").
        wp: String,
        /// The missions it is open in.
        slugs: Vec<String>,
    },
    /// A handle with characters outside a path segment's grammar.
    #[error(
        "'{handle}' is not a mission handle: use ASCII letters, digits, '-', '_' and interior dots only, starting with a letter or digit (the mission's directory name, mission_id or its first 8 characters)"
    )]
    UnsafeHandle {
        /// The handle.
        handle: String,
    },
    /// `kitty-specs/<m>/tasks/` is missing.
    #[error("the mission has no tasks directory ({}): write the work packages under it (tasks/WP01-<name>.md), then run finalize-tasks again", dir.display())]
    TasksDirMissing {
        /// The directory.
        dir: PathBuf,
    },
    /// spec.md is missing.
    #[error("the mission has no spec ({}): restore spec.md, then run finalize-tasks again", path.display())]
    SpecMissing {
        /// The file.
        path: PathBuf,
    },
    /// tasks.md sections and WP files disagree.
    #[error(
        "tasks.md's work-package sections do not match the WP files (missing sections: {}; sections without a file: {}): give every tasks/WPnn-*.md a '## WPnn' (or '## Work Package WPnn') section and remove sections without a file",
        list(missing),
        list(extra)
    )]
    Coverage {
        /// WP files without a section.
        missing: Vec<String>,
        /// Sections without a WP file.
        extra: Vec<String>,
    },
    /// A WP file's frontmatter is unreadable or invalid.
    #[error("{message}")]
    Frontmatter {
        /// What is wrong, with the file.
        message: String,
    },
    /// A dependency names no work package, or is malformed.
    #[error("{wp_id} has invalid dependencies ({}): depend only on existing work packages, written WPnn", errors.join("; "))]
    DependencyRefs {
        /// The first work package with bad dependencies.
        wp_id: String,
        /// What is wrong with them.
        errors: Vec<String>,
    },
    /// The requirement mapping is incomplete.
    #[error(
        "requirement mapping is incomplete: give every work package requirement_refs that spec.md declares, and cover every functional requirement (see the lists in this document)"
    )]
    Requirements(Box<RequirementGaps>),
    /// Active work packages depend on canceled ones.
    #[error("active work packages depend on canceled ones ({}): remove or repoint those dependencies, then run finalize-tasks again", stale.iter().map(|(a, b)| format!("{a} -> {b}")).collect::<Vec<_>>().join(", "))]
    CanceledDependency {
        /// (dependent, canceled prerequisite).
        stale: Vec<(String, String)>,
    },
    /// The dependencies form a cycle.
    #[error("the dependencies form a cycle ({}): remove one dependency of each cycle", cycles.iter().map(|c| c.join(" -> ")).collect::<Vec<_>>().join("; "))]
    Cycle {
        /// Each cycle, its first id repeated at the end.
        cycles: Vec<Vec<String>>,
    },
    /// `code_change` with an explicit empty `owned_files`.
    #[error("{} declare execution_mode: code_change with an explicit `owned_files: []`, which cannot be: list the files each one changes (or make it a planning_artifact)", wp_ids.join(", "))]
    Contradiction {
        /// The work packages.
        wp_ids: Vec<String>,
    },
    /// Owned files under kitty-specs/.
    #[error("work packages may not own paths under kitty-specs/ ({}): remove them from owned_files (only a planning_artifact WP owning only kitty-specs/ or docs/ paths may)", invalid.iter().map(|(w, p)| format!("{w}: {p}")).collect::<Vec<_>>().join(", "))]
    KittySpecsOwned {
        /// (wp, path), sorted.
        invalid: Vec<(String, String)>,
    },
    /// Overlapping ownership or a bad authoritative surface.
    #[error("ownership is inconsistent: {}; fix the work packages' owned_files / authoritative_surface", errors.join("; "))]
    Ownership {
        /// Each problem.
        errors: Vec<String>,
    },
    /// A literal owned path matches nothing and is not declared as created.
    #[error("owned_files name files that do not exist: {}; fix the paths, or list new files under create_intent", errors.join("; "))]
    LiteralPaths {
        /// Each problem.
        errors: Vec<String>,
    },
    /// Lanes could not be computed.
    #[error(
        "lanes cannot be computed ({reason}); lanes.json was not written: give each work package an execution_mode and owned_files"
    )]
    LanesAborted {
        /// Why.
        reason: String,
    },
    /// The lane graph has a cycle.
    #[error("the lanes depend on each other in a circle ({}): break the dependency between their work packages", lanes.join(" -> "))]
    LaneCycle {
        /// The circle.
        lanes: Vec<String>,
    },
    /// Execution began but there is no lanes.json to take the planning commit from.
    #[error(
        "mission '{slug}' has started executing (a work package is past planned) but has no lanes.json: restore lanes.json from git history rather than finalize again"
    )]
    RefuseRefinalize {
        /// The mission.
        slug: String,
    },
    /// `--refresh-planning-commit` cannot refresh.
    #[error("{message}")]
    Refresh {
        /// What is wrong.
        message: String,
    },
    /// A commit failed (everything finalize wrote was put back).
    #[error(
        "the commit failed and nothing was changed: {detail}; every file was put back; fix the cause (a hook's output is above), then run the command again"
    )]
    Commit {
        /// git's words.
        detail: String,
    },
    /// The outbox refused the run's events (everything finalize wrote was put back).
    #[error(
        "the events could not be queued and nothing was changed: {0}; check the outbox (`spec-kitty sync status`), then run finalize-tasks again"
    )]
    Queue(String),
    /// The status log is unreadable.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// map-requirements was given no mode, or two.
    #[error("{message}")]
    MapMode {
        /// What was wrong and what to pass.
        message: String,
    },
    /// `--batch` is not a JSON object of lists of refs.
    #[error("{message}")]
    BatchInvalid {
        /// What was wrong and what to pass.
        message: String,
    },
    /// Work packages that have no file in tasks/.
    #[error("no work package file for {}: map only work packages that have a tasks/WPnn-*.md file", unknown.join(", "))]
    UnknownWps {
        /// The ids, sorted.
        unknown: Vec<String>,
        /// The ids there are, sorted.
        available: Vec<String>,
    },
    /// Refs that are not FR-NNN, NFR-NNN or C-NNN.
    #[error("these refs are not requirement ids: {}: write them FR-NNN, NFR-NNN or C-NNN", refs.join(", "))]
    MalformedRefs {
        /// The refs, upper-cased, in input order.
        refs: Vec<String>,
    },
    /// Refs spec.md does not declare.
    #[error("spec.md declares no {}: map only the requirements spec.md declares, or declare them there first", refs.join(", "))]
    UnknownRefs {
        /// The refs, sorted.
        refs: Vec<String>,
        /// What spec.md declares, sorted.
        available: Vec<String>,
    },
    /// Work packages would keep refs that are malformed or undeclared.
    #[error("work package frontmatter holds requirement refs that are malformed or not declared in spec.md ({}): nothing was written; correct them with --replace", stale.iter().map(|(w, v)| format!("{w}: {}", v.as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", "))).collect::<Vec<_>>().join("; "))]
    StaleRefs {
        /// Per work package, the bad raw tokens, sorted.
        stale: Map<String, Value>,
        /// Per work package, `malformed` and `unknown_spec_id`.
        reasons: Map<String, Value>,
        /// Every id spec.md declares, sorted.
        parsed: Vec<String>,
    },
    /// Auto-commit would commit on a protected branch.
    #[error(
        "'{branch}' is protected, so map-requirements will not commit on it: run it from the mission's own branch, or pass --no-auto-commit and commit the mapping yourself"
    )]
    ProtectedTarget {
        /// The branch.
        branch: String,
    },
    /// Resolution, branch or git failures.
    #[error(transparent)]
    Planning(#[from] PlanningError),
    /// A file or git failed underneath.
    #[error(transparent)]
    Mission(#[from] crate::mission::MissionError),
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

impl TasksError {
    /// The `error_code` (the reference's where it has one).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unresolved { .. } => "FEATURE_CONTEXT_UNRESOLVED",
            Self::MissionRequired | Self::MissionNotInferred { .. } => "MISSING_MISSION",
            Self::UnsafeHandle { .. } => "UNSAFE_MISSION_HANDLE",
            Self::TasksDirMissing { .. } => "TASKS_DIR_MISSING",
            Self::SpecMissing { .. } => "SPEC_FILE_MISSING",
            Self::Coverage { .. } => "TASKS_COVERAGE_INCOMPLETE",
            Self::Frontmatter { .. } => "WP_FRONTMATTER_INVALID",
            Self::DependencyRefs { .. } => "INVALID_DEPENDENCIES",
            Self::Requirements(_) => "REQUIREMENT_MAPPING_INCOMPLETE",
            Self::CanceledDependency { .. } => "CANCELED_WP_DEPENDENCY",
            Self::Cycle { .. } => "DEPENDENCY_CYCLE",
            Self::Contradiction { .. } => "OWNERSHIP_CONTRADICTION_CODE_CHANGE_EMPTY_OWNED_FILES",
            Self::KittySpecsOwned { .. } => "INVALID_WP_OWNED_FILES_KITTY_SPECS",
            Self::Ownership { .. } => "OWNERSHIP_INVALID",
            Self::LiteralPaths { .. } => "OWNERSHIP_LITERAL_PATH_MISSING",
            Self::LanesAborted { .. } => "LANE_COMPUTATION_ABORTED_EMPTY_INPUTS",
            Self::LaneCycle { .. } => "LANE_DEPENDENCY_CYCLE",
            Self::RefuseRefinalize { .. } => "REFINALIZE_REFUSED",
            Self::Refresh { .. } => "PLANNING_COMMIT_REFRESH_REFUSED",
            Self::Commit { .. } => "COMMIT_FAILED",
            Self::Queue(_) => "EVENT_QUEUE_FAILED",
            Self::MapMode { .. } => "INVALID_FLAGS",
            Self::BatchInvalid { .. } => "INVALID_BATCH",
            Self::UnknownWps { .. } => "UNKNOWN_WP_IDS",
            Self::MalformedRefs { .. } => "INVALID_REQUIREMENT_REF_FORMAT",
            Self::UnknownRefs { .. } => "UNKNOWN_REQUIREMENT_REFS",
            Self::StaleRefs { .. } => "STALE_REQUIREMENT_REFS",
            Self::ProtectedTarget { .. } => "PROTECTED_BRANCH",
            Self::Status(e) => e.code(),
            Self::Planning(e) => e.code(),
            Self::Mission(e) => e.code(),
        }
    }

    /// The exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Planning(e) => e.exit_code(),
            _ => 1,
        }
    }

    /// The reference's extra keys.
    pub fn details(&self) -> Map<String, Value> {
        let v = match self {
            Self::Unresolved {
                mission_flag,
                available,
                example,
            } => {
                if available.is_empty() {
                    json!({"mission_flag": mission_flag, "remediation": "Run /spec-kitty.specify or: spec-kitty agent mission create <name> --json"})
                } else {
                    json!({"mission_flag": mission_flag, "available_missions": available, "example_command": example, "remediation": "Re-run with --mission <slug>"})
                }
            }
            Self::Coverage { missing, extra } => json!({
                "missing_wp_sections": missing,
                "extra_wp_sections": extra,
                "hint": "Head each work package's section '## WP01', '## Work Package WP01' or '## Work Package 1 — Title'.",
            }),
            Self::DependencyRefs { wp_id, errors } => json!({"wp_id": wp_id, "errors": errors}),
            Self::Requirements(g) => json!({
                "missing_requirement_refs_wps": g.missing,
                "unknown_requirement_refs": g.unknown,
                "unmapped_functional_requirements": g.unmapped,
                "bare_prose_requirement_ids": g.bare_prose,
                "dependencies_parsed": g.dependencies,
                "requirement_refs_parsed": g.refs,
            }),
            Self::CanceledDependency { stale } => json!({
                "stale_dependencies": stale.iter().map(|(a, b)| json!({
                    "dependent_wp_id": a,
                    "canceled_dependency_wp_id": b,
                    "recovery": format!("Remove the dependency, or point {a} at a prerequisite that is not canceled."),
                })).collect::<Vec<_>>(),
            }),
            Self::Cycle { cycles } => json!({"cycles": cycles}),
            Self::Contradiction { wp_ids } => json!({
                "ownership_contradiction_wp_ids": wp_ids,
                "ownership_contradictions": wp_ids.iter().map(|w| format!("{w}: a code_change work package with an explicit empty owned_files list owns nothing")).collect::<Vec<_>>(),
            }),
            Self::KittySpecsOwned { invalid } => json!({
                "invalid_owned_files": invalid.iter().map(|(w, p)| json!({"wp_id": w, "path": p})).collect::<Vec<_>>(),
            }),
            Self::Ownership { errors } => json!({"ownership_errors": errors}),
            Self::LiteralPaths { errors } => json!({"ownership_literal_path_errors": errors}),
            Self::LaneCycle { lanes } => json!({"cycle_path": lanes}),
            Self::UnknownWps { unknown, available } => json!({
                "unknown_wps": unknown,
                "hint": if available.is_empty() { "There are no WP files in tasks/ yet.".to_string() } else { format!("The work packages are {}.", available.join(", ")) },
            }),
            Self::MalformedRefs { refs } => json!({
                "malformed_refs": refs,
                "hint": "A requirement ref is FR-NNN, NFR-NNN or C-NNN.",
            }),
            Self::UnknownRefs { refs, available } => json!({
                "unknown_refs": refs,
                "hint": if available.is_empty() { "spec.md declares no requirement ids yet.".to_string() } else { format!("spec.md declares {}.", available.join(", ")) },
            }),
            Self::StaleRefs {
                stale,
                reasons,
                parsed,
            } => json!({
                "stale_refs": stale,
                "stale_ref_reasons": reasons,
                "parsed_spec_ids": parsed,
                "hint": "Map only ids spec.md declares, written FR-NNN, NFR-NNN or C-NNN; replace a work package's refs with map-requirements --wp WP01 --refs FR-001 --replace.",
            }),
            Self::Planning(e) => Value::Object(e.details()),
            Self::Mission(e) => Value::Object(e.details()),
            _ => json!({}),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

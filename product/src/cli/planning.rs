//! The planning commands' handlers: run the command, shape its document and human text.

use serde_json::Value;

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::planning::{
    branch_context, charter, context_resolve, decision, mission_types, prerequisites,
    record_analysis, setup_plan, spec_commit,
};
use crate::output::Report;

fn needs_reference(why: impl Into<String>) -> CommandError {
    CommandError::NeedsReference {
        why: why.into(),
        missing: String::new(),
    }
}

fn human_branches(doc: &serde_json::Map<String, Value>) -> String {
    let s = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    format!(
        "Current branch: {}\nTarget branch: {}\nMatches target: {}",
        s("current_branch"),
        s("target_branch"),
        doc.get("branch_matches_target")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    )
}

/// `spec-kitty mission list`.
pub fn mission_list(ctx: &Ctx) -> Result<Report, CommandError> {
    match mission_types::list(&ctx.cwd)? {
        mission_types::Listing::Rows(rows) => {
            let human = rows
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    format!(
                        "{:<14} {:<22} {}",
                        r["id"].as_str().unwrap_or_default(),
                        r["display_name"].as_str().unwrap_or_default(),
                        if r["activated"] == true {
                            "activated"
                        } else {
                            "not activated"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Report::exact(rows, human))
        }
        mission_types::Listing::ProjectTypes => Err(needs_reference(
            "this project defines its own mission types (.kittify/missions/mission_types/)",
        )),
    }
}

/// `spec-kitty agent mission branch-context`.
pub fn branch_context(ctx: &Ctx, target: Option<&str>) -> Result<Report, CommandError> {
    let doc = branch_context::branch_context(&ctx.env, &ctx.cwd, target, ctx.clock.now())?;
    let human = format!(
        "{}\nPrimary branch: {}\nRecommended: {}",
        human_branches(&doc),
        doc.get("primary_branch")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        doc.get("recommended_strategy")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    Ok(Report::success(Value::Object(doc), human))
}

/// `spec-kitty agent context resolve`.
pub fn context_resolve(
    ctx: &Ctx,
    action: &str,
    mission: Option<&str>,
) -> Result<Report, CommandError> {
    match context_resolve::resolve(&ctx.env, &ctx.cwd, action, mission)? {
        context_resolve::Resolution::Document(doc) => {
            let human = format!(
                "Mission {} ({action}) in {}",
                doc["mission_slug"].as_str().unwrap_or_default(),
                doc["feature_dir"].as_str().unwrap_or_default()
            );
            Ok(Report::exact(doc, human))
        }
        context_resolve::Resolution::WorkPackage => Err(needs_reference(format!(
            "the {action} context of a work package"
        ))),
    }
}

/// `spec-kitty agent mission check-prerequisites`.
pub fn check_prerequisites(
    ctx: &Ctx,
    req: &prerequisites::Request,
) -> Result<Report, CommandError> {
    let doc = prerequisites::check(&ctx.env, &ctx.cwd, req, ctx.clock.now())?;
    let human = match doc.get("valid").and_then(Value::as_bool) {
        Some(true) | None => format!(
            "Mission files in {}",
            doc.get("FEATURE_DIR")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
        Some(false) => format!(
            "Missing: {}",
            doc.get("errors").map(Value::to_string).unwrap_or_default()
        ),
    };
    Ok(Report::success(Value::Object(doc), human))
}

/// `spec-kitty spec-commit`.
pub fn spec_commit(ctx: &Ctx, req: &spec_commit::Request) -> Result<Report, CommandError> {
    match spec_commit::spec_commit(&ctx.env, &ctx.cwd, req)? {
        spec_commit::Outcome::Document(doc) => {
            let human = match doc["commit_hash"].as_str() {
                Some(sha) => format!(
                    "Committed on {} ({})",
                    doc["placement_ref"].as_str().unwrap_or_default(),
                    &sha[..sha.len().min(12)]
                ),
                None => "Nothing to commit: the files are as committed.".into(),
            };
            Ok(Report::success(doc, human))
        }
        spec_commit::Outcome::CoordinationFiles => Err(needs_reference(
            "committing a coordination mission's status files (they live on its coordination branch)",
        )),
    }
}

/// `spec-kitty agent mission setup-plan`.
pub fn setup_plan(ctx: &Ctx, mission: Option<&str>) -> Result<Report, CommandError> {
    match setup_plan::setup_plan(&ctx.env, &ctx.cwd, mission, ctx.clock.now_micros())? {
        setup_plan::Outcome::Document(doc) => {
            // Past the spec gate, the reference captures the mission's dossier on every run.
            if !doc.contains_key("spec_committed")
                && let Some(dir) = doc
                    .get("spec_file")
                    .and_then(Value::as_str)
                    .and_then(|p| std::path::Path::new(p).parent())
            {
                queue_mission_events(ctx, dir, Vec::new());
            }
            let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default();
            let human = match (s("result"), doc.get("scaffold_only")) {
                ("blocked", _) => format!("Blocked: {}", s("blocked_reason")),
                (_, Some(_)) => format!(
                    "Plan scaffolded at {}: fill it in, then run setup-plan again.",
                    s("plan_file")
                ),
                _ => format!(
                    "Plan committed to {} ({})",
                    s("target_branch"),
                    s("commit_status")
                ),
            };
            Ok(Report::success(Value::Object(doc), human))
        }
        setup_plan::Outcome::OtherMissionType(t) => {
            Err(needs_reference(format!("the plan gate of a {t} mission")))
        }
    }
}

/// A decision document: always JSON (as the reference prints it, with or without `--json`).
fn decision_report(doc: Value) -> Report {
    let text = crate::pyfmt::to_python_json(&doc).unwrap_or_default();
    Report::exact(doc, text)
}

/// `spec-kitty agent decision open`.
pub fn decision_open(ctx: &Ctx, req: &decision::Open) -> Result<Report, CommandError> {
    let _lock = decision_lock(ctx)?;
    Ok(decision_report(decision::open(
        &ctx.cwd,
        req,
        ctx.clock.now_micros(),
    )?))
}

/// `spec-kitty agent decision resolve|defer|cancel`.
pub fn decision_close(ctx: &Ctx, req: &decision::Closing) -> Result<Report, CommandError> {
    let _lock = decision_lock(ctx)?;
    Ok(decision_report(decision::close(
        &ctx.cwd,
        req,
        ctx.clock.now_micros(),
    )?))
}

/// `spec-kitty agent decision verify`: exit 1 on drift when `fail_on_stale`.
pub fn decision_verify(
    ctx: &Ctx,
    mission: &str,
    fail_on_stale: bool,
) -> Result<Report, CommandError> {
    let (mut doc, drift) = decision::verify(&ctx.cwd, mission)?;
    let fails = drift && fail_on_stale;
    if fails {
        // A failing document says so the way every kitty failure does.
        doc["result"] = "error".into();
        doc["error_code"] = "DECISION_DRIFT".into();
    }
    Ok(decision_report(doc).with_exit(u8::from(fails)))
}

/// One ledger writer at a time per repository (the mission lock), when there is a repository.
fn decision_lock(ctx: &Ctx) -> Result<Option<std::fs::File>, CommandError> {
    match crate::mission::git::Repo::discover(&ctx.env, &ctx.cwd) {
        Ok(repo) => Ok(Some(crate::mission::planning::commit::lock(&repo)?)),
        Err(_) => Ok(None),
    }
}

/// `spec-kitty charter context --action A`.
pub fn charter_context(ctx: &Ctx, action: &str) -> Result<Report, CommandError> {
    match charter::context(&ctx.cwd, action)? {
        charter::Context::Document(doc) => {
            let human = doc["text"].as_str().unwrap_or_default().to_string();
            Ok(Report::success(doc, human))
        }
        charter::Context::Reference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent mission check-prerequisites --resume-probe`.
pub fn resume_probe(
    ctx: &Ctx,
    mission: Option<&str>,
    with_validation: bool,
) -> Result<Report, CommandError> {
    use crate::mission::planning::{PlanningError, resume_probe};
    crate::mission::planning::project::locate(&ctx.cwd).ok_or_else(|| {
        PlanningError::ProjectRootUnresolved {
            dir: ctx.cwd.clone(),
        }
    })?;
    let Some(handle) = mission.map(str::trim).filter(|m| !m.is_empty()) else {
        return Err(PlanningError::BadFlags {
            message: "--resume-probe needs --mission <provisional-slug>".into(),
        }
        .into());
    };
    if with_validation {
        return Err(PlanningError::BadFlags {
            message: "--resume-probe cannot be combined with --paths-only or --include-tasks: run them separately".into(),
        }
        .into());
    }
    let doc = resume_probe::probe(&ctx.env, &ctx.cwd, handle)?;
    let human = format!(
        "Resume probe: {}",
        doc.get("resume_state")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    Ok(Report::success(Value::Object(doc), human))
}

/// `spec-kitty agent mission record-analysis`.
pub fn record_analysis(
    ctx: &Ctx,
    mission: Option<&str>,
    input_file: &str,
    agent: Option<&str>,
    json: bool,
) -> Result<Report, CommandError> {
    use crate::mission::planning::PlanningError;
    let text = if input_file == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            PlanningError::Analysis {
                message: format!(
                    "cannot read the report from standard input ({e}): pass --input-file <path>"
                ),
            }
        })?;
        text
    } else {
        let path = ctx.cwd.join(input_file);
        std::fs::read_to_string(&path).map_err(|e| PlanningError::Analysis {
            message: format!(
                "cannot read the report {} ({e}): check --input-file",
                path.display()
            ),
        })?
    };
    let req = record_analysis::Request {
        mission: mission.map(str::to_string),
        text: text.replace("\r\n", "\n").replace('\r', "\n"),
        agent: agent.map(str::to_string),
        json,
    };
    let doc = record_analysis::record(&ctx.env, &ctx.cwd, &req, ctx.clock.now_micros())?;
    if let Some(dir) = doc["path"]
        .as_str()
        .and_then(|p| std::path::Path::new(p).parent())
    {
        queue_mission_events(ctx, dir, Vec::new());
    }
    let human = format!(
        "Analysis report recorded: {} (verdict {})",
        doc["path"].as_str().unwrap_or_default(),
        doc["verdict"].as_str().unwrap_or_default()
    );
    Ok(Report::success(doc, human))
}

/// Queue a mission's lifecycle events and dossier after a command did its work (sync on and
/// consent given; otherwise nothing). A failure to queue does not undo the work: it is logged.
pub fn queue_mission_events(
    ctx: &Ctx,
    mission_dir: &std::path::Path,
    lifecycle: Vec<crate::mission::planning::sync_events::Lifecycle>,
) {
    with_queue(ctx, "the mission's events", |queue, project| {
        queue.mission_events(project, mission_dir, lifecycle, ctx.clock.now_micros())
    });
}

/// Run `queue_them` with the project's top and a queue under the runtime root (no project or no
/// root: nothing), counting what it queued; a failure to queue `what` is logged, not reported.
fn with_queue<E: std::fmt::Display>(
    ctx: &Ctx,
    what: &str,
    queue_them: impl FnOnce(
        &crate::mission::planning::sync_events::Queue<'_>,
        &std::path::Path,
    ) -> Result<u32, E>,
) {
    let Some(project) = crate::mission::planning::project::locate(&ctx.cwd) else {
        return;
    };
    let Ok(root) = ctx.root() else { return };
    let queue = crate::mission::planning::sync_events::Queue {
        env: &ctx.env,
        identity: &ctx.identity,
        root: &root,
    };
    match queue_them(&queue, &project.root) {
        Ok(n) => ctx.queued.set(ctx.queued.get() + n),
        Err(e) => tracing::warn!("{what} were not queued: {e}"),
    }
}

/// Queue the reference's `ErrorLogged` for a failed command (sync on and consent given;
/// otherwise nothing). A failure to queue is logged, not reported.
pub fn queue_error_logged(ctx: &Ctx, message: &str) {
    let event = (
        "ErrorLogged",
        ("Mission", "error".to_string()),
        serde_json::json!({"error_type": "runtime", "error_message": message}),
    );
    with_queue(ctx, "the error's events", |queue, project| {
        queue.events(project, vec![event], ctx.clock.now_micros())
    });
}

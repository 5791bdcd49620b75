//! `init`, `agent mission create`, `agent mission list`.

use serde_json::json;

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::create::{self, CreateRequest};
use crate::output::Report;

/// `spec-kitty init`.
pub fn init(
    ctx: &Ctx,
    project_slug: Option<String>,
    mission_types: Vec<String>,
    force: bool,
) -> Result<Report, CommandError> {
    let (top, config) = create::init(&ctx.env, &ctx.cwd, project_slug, mission_types, force)?;
    Ok(Report::success(
        json!({
            "repository": top,
            "config_file": crate::mission::config::config_path(&top),
            "specs_dir": crate::mission::config::specs_dir(&top),
            "project_uuid": config.project.uuid,
            "project_slug": config.project.slug,
            "mission_types": config.missions.activated,
        }),
        format!(
            "Initialized spec-kitty project {} in {} (mission types: {}).",
            config.project.slug,
            top.display(),
            config.missions.activated.join(", ")
        ),
    ))
}

/// `spec-kitty agent mission create`.
pub fn create(ctx: &Ctx, req: &CreateRequest) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    let created = create::create(&ctx.env, &root, &ctx.cwd, ctx.clock, req)?;
    ctx.queued.set(ctx.queued.get() + 1);
    let dir = &created.feature_dir;
    Ok(Report::success(
        json!({
            "mission_slug": created.meta.mission_slug,
            "mission_id": created.meta.mission_id,
            "mission_type": created.meta.mission_type,
            "friendly_name": created.meta.friendly_name,
            "feature_dir": dir,
            "spec_file": dir.join("spec.md"),
            "meta_file": dir.join("meta.json"),
            "created_at": created.meta.created_at,
            "created_files": created.created_files,
            "branch": created.branch,
            "commit": created.commit,
            "event_id": created.event.event_id,
        }),
        format!(
            "Created mission {} ({}) in {}\nCommitted {} on {}.",
            created.meta.mission_slug,
            created.meta.mission_type,
            dir.display(),
            &created.commit[..created.commit.len().min(12)],
            created.branch
        ),
    ))
}

/// `spec-kitty agent mission list`.
pub fn list(ctx: &Ctx) -> Result<Report, CommandError> {
    let (top, missions) = create::list(&ctx.env, &ctx.cwd)?;
    let mut human = String::new();
    let items: Vec<_> = missions
        .iter()
        .map(|(dir, m)| {
            human.push_str(&format!(
                "{}  {}  {}\n",
                m.mission_slug, m.mission_type, m.friendly_name
            ));
            json!({
                "mission_slug": m.mission_slug, "mission_id": m.mission_id,
                "mission_type": m.mission_type, "friendly_name": m.friendly_name,
                "created_at": m.created_at, "feature_dir": dir,
            })
        })
        .collect();
    if items.is_empty() {
        human
            .push_str("No missions yet. Create one with `spec-kitty agent mission create <slug>`.");
    }
    Ok(Report::success(
        json!({"repository": top, "count": items.len(), "missions": items}),
        human.trim_end().to_string(),
    ))
}

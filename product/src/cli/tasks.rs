//! The work-package commands' handlers: run the command, shape its document and human text.

use super::context::Ctx;
use super::error::CommandError;
use crate::mission::tasks::board::{self, Board};
use crate::mission::tasks::finalize::{self, Outcome, Request};
use crate::output::Report;

fn needs_reference(why: String) -> CommandError {
    CommandError::NeedsReference {
        why,
        missing: String::new(),
    }
}

/// `spec-kitty agent mission finalize-tasks`.
pub fn finalize(ctx: &Ctx, req: &Request) -> Result<Report, CommandError> {
    let now = || ctx.clock.now_micros();
    match finalize::finalize(&ctx.env, &ctx.cwd, req, &now)? {
        Outcome::Done(doc, human) => Ok(Report::success(serde_json::Value::Object(doc), human)),
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent tasks map-requirements`.
pub fn map_requirements(
    ctx: &Ctx,
    req: &crate::mission::tasks::mapping::Request,
) -> Result<Report, CommandError> {
    use crate::mission::tasks::mapping::{Outcome, map_requirements};
    match map_requirements(&ctx.env, &ctx.cwd, req)? {
        Outcome::Done(doc, human) => Ok(Report::success(serde_json::Value::Object(doc), human)),
        Outcome::NeedsReference(why) => Err(needs_reference(why)),
    }
}

/// `spec-kitty agent tasks status`.
pub fn status(ctx: &Ctx, mission: Option<&str>) -> Result<Report, CommandError> {
    match board::board(&ctx.cwd, mission)? {
        Board::Document(doc) => {
            let human = doc["work_packages"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    format!(
                        "{:<6} {:<12} {}",
                        r["id"].as_str().unwrap_or_default(),
                        r["lane"].as_str().unwrap_or_default(),
                        r["title"].as_str().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Report::exact(doc, human))
        }
        Board::Empty(line) => Ok(Report::exact(serde_json::json!({}), line)),
        Board::NeedsReference(why) => Err(needs_reference(why)),
    }
}

//! `sync now` and `sync status`, and the final sync every event-queuing command ends with.

use serde_json::json;

use super::context::Ctx;
use super::error::CommandError;
use crate::output::{Diagnostic, Report};
use crate::sync::final_sync::{SyncInputs, final_sync};
use crate::sync::outbox::Outbox;
use crate::sync::settings::SyncSettings;

impl Ctx {
    fn sync_inputs<'a>(&'a self, root: &'a crate::paths::RuntimeRoot) -> SyncInputs<'a> {
        SyncInputs {
            env: &self.env,
            root,
            identity: &self.identity,
            clock: self.clock,
        }
    }
}

/// The final sync, when this command queued events. Returns the one diagnostic, if any.
pub fn after_command(ctx: &Ctx) -> Option<Diagnostic> {
    if ctx.queued.get() == 0 {
        return None;
    }
    let root = ctx.root().ok()?;
    let err = final_sync(&ctx.sync_inputs(&root))?;
    Some(Diagnostic {
        code: err.code().to_string(),
        severity: "warning",
        fatal: false,
        phase: "final_sync",
        message: err.to_string(),
    })
}

/// `spec-kitty sync now`: drain the whole outbox in batches.
pub fn now(ctx: &Ctx) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    let settings = SyncSettings::from_env(&ctx.env);
    if !settings.active {
        return Err(CommandError::Coded {
            code: "sync_disabled",
            message: "sync is disabled; set SPEC_KITTY_ENABLE_SAAS_SYNC=1 (and unset SPEC_KITTY_SYNC_DISABLE) to send queued events".into(),
        });
    }
    let out = ctx.out;
    let result = ctx
        .sync_inputs(&root)
        .drain_with(&settings, None, 3, &mut |done, total| {
            out.progress(&format!("syncing {done}/{total} events"));
        });
    out.progress("");
    if let Some(e) = result.error {
        return Err(CommandError::Sync(e));
    }
    let report = result.report;
    Ok(Report::success(
        json!({
            "delivered": report.delivered,
            "rejected": report.rejected,
            "kept": report.kept,
            "batches": report.batches,
            "remaining": report.remaining,
            "sync_enabled": settings.active,
        }),
        format!(
            "Delivered {} event(s); {} rejected, {} pending on the server; {} still queued.",
            report.delivered, report.rejected, report.kept, report.remaining
        ),
    ))
}

/// `spec-kitty sync status`: no network, only local state.
pub fn status(ctx: &Ctx) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    let settings = SyncSettings::from_env(&ctx.env);
    let server = crate::config::server_url(&ctx.env, &root)?;
    let (depth, oldest, last) = match Outbox::open_existing(&root.outbox_db())? {
        Some(outbox) => (outbox.depth()?, outbox.oldest()?, outbox.last_attempt()?),
        None => (0, None, None),
    };
    let now = ctx.clock.now();
    let oldest_age = oldest
        .as_deref()
        .and_then(|t| crate::auth::session::Timestamp::parse(t).ok())
        .map(|t| (now - t.0).num_seconds().max(0));
    let mut tokens = ctx.token_manager()?;
    let (auth_state, private) = match tokens.session() {
        Ok(None) => ("not_authenticated", None),
        Ok(Some(s)) if s.refresh_expired(now) => ("expired", None),
        Ok(Some(s)) => ("authenticated", s.private_team().map(|t| t.id.clone())),
        Err(_) => ("unreadable", None),
    };
    let human = format!(
        "Sync: {}\nServer: {}\nQueue: {} event(s){}\nAuth: {}{}\nLast attempt: {}",
        if settings.active {
            "enabled"
        } else {
            "disabled"
        },
        server.as_deref().unwrap_or("(not configured)"),
        depth,
        oldest_age
            .map(|a| format!(", oldest {a}s old"))
            .unwrap_or_default(),
        auth_state,
        private
            .as_ref()
            .map(|p| format!(" (private team {p})"))
            .unwrap_or_default(),
        last.as_ref()
            .map(|l| format!("{} at {} ({} delivered)", l.outcome, l.at, l.delivered))
            .unwrap_or_else(|| "never".into()),
    );
    Ok(Report::success(
        json!({
            "sync_enabled": settings.active,
            "server_url": server,
            "queue_depth": depth,
            "oldest_event_at": oldest,
            "oldest_event_age_seconds": oldest_age,
            "auth_state": auth_state,
            "private_team_id": private,
            "last_attempt": last,
            "outbox_path": root.outbox_db(),
        }),
        human,
    ))
}

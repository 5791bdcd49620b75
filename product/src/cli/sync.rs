//! `sync now` and `sync status`, and the final sync every event-queuing command ends with.

use serde_json::{Value, json};

use super::context::Ctx;
use super::error::CommandError;
use crate::output::{Diagnostic, Report};
use crate::services::Services;
use crate::sync::final_sync::{SyncInputs, final_sync};
use crate::sync::outbox::{Outbox, OutboxError};
use crate::sync::reference_store::{self, ReferenceQueue};

/// Mission recovery, as every drain runs it first: staged events of dead creates in any
/// repository whose mission lock is free.
fn recover_staged(env: &crate::env::Env) -> impl Fn(&mut Outbox) -> Result<(), OutboxError> + '_ {
    move |outbox| {
        let r = crate::mission::recover::recover(env, outbox, None)?;
        if r != Default::default() {
            tracing::info!(?r, "staged events resolved");
        }
        Ok(())
    }
}

/// Sync with the command's services, mission recovery first.
fn sync_inputs<'a>(
    services: &'a Services,
    recover: &'a dyn Fn(&mut Outbox) -> Result<(), OutboxError>,
) -> SyncInputs<'a> {
    SyncInputs { services, recover }
}

/// The final sync, when this command queued events. Returns the one diagnostic, if any.
pub fn after_command(ctx: &Ctx) -> Option<Diagnostic> {
    if ctx.queued.get() == 0 {
        return None;
    }
    let services = ctx.services().ok()?;
    let recover = recover_staged(&ctx.env);
    let err = final_sync(&sync_inputs(services, &recover))?;
    Some(Diagnostic {
        code: err.code().to_string(),
        severity: "warning",
        fatal: false,
        phase: "final_sync",
        message: err.to_string(),
    })
}

/// `spec-kitty sync now`: drain the whole outbox in batches.
pub fn now(
    ctx: &Ctx,
    retry_rejected: bool,
    discard_quarantined: bool,
) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    let settings = ctx.settings;
    if !settings.sync_active {
        return Err(CommandError::Coded {
            code: "sync_disabled",
            message: "sync is disabled; set SPEC_KITTY_ENABLE_SAAS_SYNC=1 (and unset SPEC_KITTY_SYNC_DISABLE) to send queued events".into(),
        });
    }
    let (mut requeued, mut discarded) = (0, 0);
    if retry_rejected || discard_quarantined {
        let mut outbox = Outbox::open(&root.outbox_db())?;
        if retry_rejected {
            requeued = outbox.retry_rejected()?;
        }
        if discard_quarantined {
            discarded = outbox.discard_quarantined()?;
        }
    }
    let out = ctx.out;
    let recover = recover_staged(&ctx.env);
    let result = sync_inputs(ctx.services()?, &recover).drain_with(
        Some(std::time::Instant::now() + settings.now_deadline),
        crate::sync::final_sync::SYNC_NOW_ATTEMPTS,
        crate::sync::final_sync::Maintenance::Reclaim,
        &mut |done, total| {
            out.progress(&format!("syncing {done}/{total} events"));
        },
    );
    out.progress("");
    if let Some(e) = result.error {
        return Err(CommandError::Sync(e));
    }
    let report = result.report;
    let reference_queue = drain_reference_queue(ctx, &root)?;
    Ok(Report::success(
        json!({
            "withheld": report.withheld,
            "reference_queue": reference_queue,
            "delivered": report.delivered,
            "rejected": report.rejected,
            "parked": report.parked,
            "quarantined": report.quarantined,
            "requeued": requeued,
            "discarded": discarded,
            "kept": report.kept,
            "batches": report.batches,
            "remaining": report.remaining,
            "sync_enabled": settings.sync_active,
        }),
        format!(
            "Delivered {} event(s); {} rejected, {} pending on the server; {} still queued.",
            report.delivered, report.rejected, report.kept, report.remaining
        ),
    ))
}

/// The project of the working directory: its uuid, when it is in an initialised repository.
fn cwd_project(ctx: &Ctx) -> Option<String> {
    let repo = crate::mission::git::repo::Repo::discover(&ctx.env, &ctx.cwd).ok()?;
    let path = crate::mission::project_config::config_path(repo.top());
    let text = std::fs::read_to_string(&path).ok()?;
    let config = crate::mission::project_config::ProjectConfig::parse(&path, &text).ok()?;
    config.uuid().map(str::to_string)
}

/// The working directory's project in the reference's store: its consent and queue.
fn project_view(
    ctx: &Ctx,
    root: &crate::paths::RuntimeRoot,
) -> Result<(Value, Option<ReferenceQueue>), CommandError> {
    let Some(uuid) = cwd_project(ctx) else {
        return Ok((Value::Null, None));
    };
    let store = root.reference_project_store(&uuid);
    let census = reference_store::census(&store, &uuid).map_err(reference_unreadable)?;
    let consent = census
        .as_ref()
        .map_or(reference_store::Consent::Absent, |c| c.consent);
    Ok((
        json!({
            "uuid": uuid,
            "consent": consent,
            "reference_queue": census,
        }),
        census,
    ))
}

fn reference_unreadable(e: reference_store::ReadError) -> CommandError {
    CommandError::Coded {
        code: "reference_store_unreadable",
        message: e.to_string(),
    }
}

/// After kitty's own outbox: the reference's queue for this project, drained through the
/// reference when it holds events to send (its `sync now`; its output goes to stderr).
fn drain_reference_queue(
    ctx: &Ctx,
    root: &crate::paths::RuntimeRoot,
) -> Result<Value, CommandError> {
    let (_, Some(before)) = project_view(ctx, root)? else {
        return Ok(Value::Null);
    };
    if before.sendable == 0 {
        return Ok(json!({ "before": 0, "after": 0, "ran": null }));
    }
    let me = std::env::current_exe().ok();
    let reference = super::delegate::find(&ctx.env, me.as_deref()).map_err(|why| {
        CommandError::Coded {
            code: "reference_not_found",
            message: format!(
                "the reference CLI's queue for this project holds {} event(s) to send, and only the reference can send them, but none can run ({why}); install it after kitty on PATH with `{}`, then run `spec-kitty sync now` again",
                before.sendable,
                super::delegate::INSTALL_LINE
            ),
        }
    })?;
    let status = std::process::Command::new(&reference.path)
        .args(["sync", "now"])
        .current_dir(&ctx.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(std::io::stderr())
        .status();
    let shown = format!("{} sync now", reference.path.display());
    let after = project_view(ctx, root)?.1.map_or(0, |q| q.sendable);
    match status {
        Ok(s) if s.success() => {
            Ok(json!({ "before": before.sendable, "after": after, "ran": shown }))
        }
        Ok(s) => Err(CommandError::Coded {
            code: "reference_sync_failed",
            message: format!(
                "kitty's own events were sent, but the reference's `sync now` for this project failed ({s}; its output is above) with {after} of its {} event(s) still to send: fix what it says and run `spec-kitty sync now` again",
                before.sendable
            ),
        }),
        Err(e) => Err(CommandError::Coded {
            code: "reference_sync_failed",
            message: format!(
                "kitty's own events were sent, but the reference CLI {} could not run ({e}); reinstall it (`{}`) and run `spec-kitty sync now` again",
                reference.path.display(),
                super::delegate::INSTALL_LINE
            ),
        }),
    }
}

/// `spec-kitty sync status`: no network, only local state.
pub fn status(ctx: &Ctx) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    let settings = ctx.settings;
    // Shown, never raw: a URL may carry credentials.
    let server = crate::runtime_config::server_url(&ctx.env, &root)?.map(|u| u.redacted());
    let (depth, oldest, last, rejected, quarantined) =
        match Outbox::open_existing(&root.outbox_db())? {
            Some(outbox) => (
                outbox.depth()?,
                outbox.oldest()?,
                outbox.last_attempt()?,
                outbox.rejected()?,
                outbox.quarantined()?,
            ),
            None => (0, None, None, Vec::new(), Vec::new()),
        };
    let (project, census) = project_view(ctx, &root)?;
    let now = ctx.clock.now();
    let oldest_age = oldest
        .as_deref()
        .and_then(|t| crate::auth::session::Timestamp::parse(t).ok())
        .map(|t| (now - t.0).num_seconds().max(0));
    // No token needed: the hot-path summary answers without deriving the key when it is valid.
    let (auth_state, private) = match ctx.store()?.summary() {
        Ok(None) => ("not_authenticated", None),
        Ok(Some(s)) if s.refresh_expired(now) => ("expired", None),
        Ok(Some(s)) => ("authenticated", s.private_team().map(|t| t.id.clone())),
        Err(_) => ("unreadable", None),
    };
    let human = format!(
        "Sync: {}\nServer: {}\nQueue: {} event(s){}\nRejected (parked): {}\nQuarantined: {}\nAuth: {}{}\nLast attempt: {}",
        if settings.sync_active {
            "enabled"
        } else {
            "disabled"
        },
        server
            .as_deref()
            .map_or_else(|| "(not configured)".to_string(), crate::saas::url::shorten),
        depth,
        oldest_age
            .map(|a| format!(", oldest {a}s old"))
            .unwrap_or_default(),
        listed(rejected.iter().map(|r| format!(
            "{} {} ({})",
            r.event_id,
            r.event_type,
            r.reason.as_deref().unwrap_or("no reason given")
        ))),
        listed(
            quarantined
                .iter()
                .map(|q| format!("{} {} ({})", q.event_id, q.event_type, q.reason))
        ),
        auth_state,
        private
            .as_ref()
            .map(|p| format!(" (private team {p})"))
            .unwrap_or_default(),
        last.as_ref()
            .map(|l| format!("{} at {} ({} delivered)", l.outcome, l.at, l.delivered))
            .unwrap_or_else(|| "never".into()),
    ) + &census
        .map(|q| {
            format!(
                "\nThis project (consent {}): the reference's queue holds {} event(s), {} to send, {} captured before consent",
                serde_json::to_value(q.consent).unwrap_or_default().as_str().unwrap_or_default(),
                q.retained,
                q.sendable,
                q.withheld
            )
        })
        .unwrap_or_default();
    Ok(Report::success(
        json!({
            "sync_enabled": settings.sync_active,
            "server_url": server,
            "queue_depth": depth,
            "oldest_event_at": oldest,
            "oldest_event_age_seconds": oldest_age,
            "auth_state": auth_state,
            "private_team_id": private,
            "last_attempt": last,
            "rejected_count": rejected.len(),
            "rejected_events": rejected,
            "quarantined_count": quarantined.len(),
            "quarantined_rows": quarantined,
            "outbox_path": root.outbox_db(),
            "project": project,
        }),
        human,
    ))
}

/// `0`, or the count followed by one indented line per item.
fn listed(items: impl ExactSizeIterator<Item = String>) -> String {
    let n = items.len();
    if n == 0 {
        return "0".into();
    }
    let lines: Vec<String> = items.map(|i| format!("\n  {i}")).collect();
    format!("{n}{}", lines.concat())
}

//! `spec-kitty auth login | logout | status | whoami`.

use serde_json::{Value, json};

use super::context::Ctx;
use super::error::CommandError;
use crate::auth::hot_path::Summary;
use crate::auth::login::{PollTiming, device_login};
use crate::output::Report;

fn teams_json(session: &Summary) -> Value {
    let private = session.private_team().map(|t| t.id.clone());
    Value::Array(
        session
            .teams
            .iter()
            .map(|t| {
                json!({
                    "id": t.id, "name": t.name, "role": t.role, "slug": t.slug,
                    "is_private_teamspace": t.is_private_teamspace,
                    "private": private.as_deref() == Some(t.id.as_str()),
                })
            })
            .collect(),
    )
}

fn user_json(session: &Summary) -> Value {
    json!({"user_id": session.user_id, "email": session.email, "name": session.name})
}

fn teams_human(session: &Summary) -> String {
    let private = session.private_team().map(|t| t.id.as_str());
    session
        .teams
        .iter()
        .map(|t| {
            let mark = if Some(t.id.as_str()) == private {
                " (private)"
            } else {
                ""
            };
            format!("  - {} [{}]{mark}", t.name, t.id)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `auth login [--force]`: the device authorization flow.
pub fn login(ctx: &Ctx, force: bool) -> Result<Report, CommandError> {
    let store = ctx.store()?;
    if !force && let Some(existing) = store.read()? {
        return Ok(Report::success(
            json!({"authenticated": true, "already_authenticated": true, "user": user_json(&(&existing).into())}),
            format!(
                "Already logged in as {}. Use `spec-kitty auth login --force` to log in again.",
                existing.email
            ),
        ));
    }
    let client = ctx.require_client()?;
    let timing = PollTiming {
        second: ctx.settings.poll_second,
    };
    let out = ctx.out;
    let session = device_login(client, ctx.clock, timing, &mut |auth| {
        let url = auth
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&auth.verification_uri);
        out.notice(&format!(
            "To log in, open {url} and enter the code {}\nWaiting for approval...",
            auth.user_code
        ));
    })?;
    store.write(&session)?;
    let summary = Summary::from(&session);
    Ok(Report::success(
        json!({
            "authenticated": true,
            "already_authenticated": false,
            "user": user_json(&summary),
            "teams": teams_json(&summary),
            "default_team_id": session.default_team_id,
            "storage_path": store.files().session,
        }),
        format!(
            "Logged in as {}.\nTeams:\n{}",
            session.email,
            teams_human(&summary)
        ),
    ))
}

/// `auth logout [--force]`: revoke (unless `--force`), then always delete the local files.
pub fn logout(ctx: &Ctx, force: bool) -> Result<Report, CommandError> {
    let store = ctx.store()?;
    let existing = store.read();
    let had_session = !matches!(existing, Ok(None));
    let mut revoked = Value::Null;
    if !force && let Ok(Some(session)) = &existing {
        match ctx.client() {
            Ok(Some(client)) => match client.revoke(&session.refresh_token) {
                Ok(()) => revoked = Value::Bool(true),
                Err(e) => {
                    revoked = Value::Bool(false);
                    ctx.out.notice(&format!(
                        "warning: could not revoke the session on the server ({e}); the local session is removed anyway"
                    ));
                }
            },
            Ok(None) => {}
            Err(e) => ctx.out.notice(&format!("warning: {e}")),
        }
    }
    store.delete()?;
    let human = if had_session {
        "Logged out.".to_string()
    } else {
        "Not logged in; nothing to remove.".to_string()
    };
    Ok(Report::success(
        json!({"logged_out": true, "had_session": had_session, "revoked": revoked}),
        human,
    ))
}

/// `auth status`: exit 0 whether or not logged in; a broken store is an error with its fix.
pub fn status(ctx: &Ctx) -> Result<Report, CommandError> {
    let store = ctx.store()?;
    let storage_path = store.files().session;
    // No token is needed: a valid hot-path summary answers without deriving the key.
    let Some(session) = store.summary()? else {
        return Ok(Report::success(
            json!({"authenticated": false, "storage_path": storage_path, "storage_backend": "file"}),
            "Not logged in. Run `spec-kitty auth login`.",
        ));
    };
    let now = ctx.clock.now();
    let access_valid = !session.access_expired(now);
    let refresh_valid = !session.refresh_expired(now);
    let private = session.private_team().map(|t| t.id.clone());
    let human = format!(
        "{}Logged in as {} ({})\nTeams:\n{}\nAccess token: {} (expires {})\nRefresh token: {}\nStorage: {}",
        if refresh_valid {
            ""
        } else {
            "Session expired: run `spec-kitty auth login`.\n"
        },
        session.email,
        session.user_id,
        teams_human(&session),
        if access_valid { "valid" } else { "expired" },
        session.access_token_expires_at.to_iso(),
        if refresh_valid { "valid" } else { "expired" },
        storage_path.display(),
    );
    Ok(Report::success(
        json!({
            "authenticated": refresh_valid,
            "user": user_json(&session),
            "teams": teams_json(&session),
            "private_team_id": private,
            "default_team_id": session.default_team_id,
            "access_token_valid": access_valid,
            "access_token_expires_at": session.access_token_expires_at.to_iso(),
            "refresh_token_valid": refresh_valid,
            "refresh_token_expires_at": session.refresh_token_expires_at.map(|t| t.to_iso()),
            "storage_path": storage_path,
            "storage_backend": "file",
        }),
        human,
    ))
}

/// `auth whoami`: the logged-in user.
pub fn whoami(ctx: &Ctx) -> Result<Report, CommandError> {
    let session = ctx
        .store()?
        .summary()?
        .ok_or(CommandError::NotAuthenticated)?;
    let private = session.private_team().map(|t| t.id.clone());
    Ok(Report::success(
        json!({"user": user_json(&session), "private_team_id": private}),
        session.email.clone(),
    ))
}

/// `auth refresh [--force]`: a fresh access token and, without a private team, one membership
/// rehydrate. Prints validity, never the tokens.
pub fn refresh(ctx: &Ctx, force: bool) -> Result<Report, CommandError> {
    let mut tokens = ctx.token_manager()?;
    let token = tokens.access_token()?;
    if force {
        tokens.refresh_after_rejection(&token)?;
    }
    let private = tokens.private_team()?;
    let session = tokens
        .session()?
        .cloned()
        .ok_or(CommandError::NotAuthenticated)?;
    Ok(Report::success(
        json!({
            "authenticated": true,
            "access_token_expires_at": session.access_token_expires_at.to_iso(),
            "private_team_id": private.as_ref().map(|t| t.id.clone()),
            "default_team_id": session.default_team_id,
            "membership_rehydrated": tokens.me_calls() > 0,
        }),
        format!(
            "Session refreshed; access token valid until {}.{}",
            session.access_token_expires_at.to_iso(),
            match &private {
                Some(t) => format!(" Private team: {}.", t.id),
                None => " No private team.".to_string(),
            }
        ),
    ))
}

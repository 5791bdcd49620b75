//! Login by OAuth device authorization (RFC 8628).

use std::time::{Duration, Instant};

use super::session::{AuthMethod, Session, Team, Timestamp};
use crate::clock::Clock;
use crate::saas::wire::DeviceAuthorization;
use crate::saas::{SaasClient, SaasError};

/// Why login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The user declined in the browser.
    #[error(
        "the login was denied in the browser; run `spec-kitty auth login` again and approve it"
    )]
    AccessDenied,
    /// The device code expired before approval.
    #[error(
        "the login code expired before it was approved; run `spec-kitty auth login` again and approve it sooner"
    )]
    Expired,
    /// `/api/v1/me` lacks what a session needs.
    #[error(
        "the spec-kitty service returned an unusable account ({0}); contact your administrator"
    )]
    UnusableAccount(&'static str),
    /// The hosted service failed.
    #[error(transparent)]
    Saas(#[from] SaasError),
}

/// Device flow timing: how long one "second" of the server's interval lasts.
#[derive(Debug, Clone, Copy)]
pub struct PollTiming {
    /// The length of one interval second (1 s in production).
    pub second: Duration,
}

/// Run the device flow: authorize, show the code through `prompt`, poll, then fetch `/me`.
pub fn device_login(
    client: &SaasClient,
    clock: Clock,
    timing: PollTiming,
    prompt: &mut dyn FnMut(&DeviceAuthorization),
) -> Result<Session, LoginError> {
    let auth = client.device_authorize()?;
    prompt(&auth);
    let deadline =
        Instant::now() + timing.second * u32::try_from(auth.expires_in).unwrap_or(u32::MAX);
    let mut interval = auth.interval;
    let grant = loop {
        std::thread::sleep(timing.second * u32::try_from(interval).unwrap_or(u32::MAX));
        match client.poll_device_token(&auth.device_code) {
            Ok(grant) => break grant,
            Err(SaasError::Status {
                oauth: Some(ref e), ..
            }) if e.error == "authorization_pending" => {}
            Err(SaasError::Status {
                oauth: Some(ref e), ..
            }) if e.error == "slow_down" => interval += 5,
            Err(SaasError::Status {
                oauth: Some(ref e), ..
            }) if e.error == "expired_token" => return Err(LoginError::Expired),
            Err(SaasError::Status {
                oauth: Some(ref e), ..
            }) if e.error == "access_denied" => return Err(LoginError::AccessDenied),
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            return Err(LoginError::Expired);
        }
    };
    let me = client.me(&grant.access_token)?;
    if me.user_id.is_empty() {
        return Err(LoginError::UnusableAccount("no user id"));
    }
    if me.email.is_empty() {
        return Err(LoginError::UnusableAccount("no email"));
    }
    if me.teams.is_empty() {
        return Err(LoginError::UnusableAccount("no team memberships"));
    }
    // The reference requires a server session id and keys refresh races on it.
    let Some(session_id) = grant.session_id.filter(|s| !s.is_empty()) else {
        return Err(LoginError::UnusableAccount(
            "no session_id in the token response",
        ));
    };
    let now = clock.now();
    let refresh_token_expires_at = super::session::refresh_expiry(
        grant
            .refresh_token_expires_at
            .as_deref()
            .or(me.refresh_token_expires_at.as_deref()),
        grant.refresh_token_expires_in,
        now,
        None,
    )
    .map_err(|_| LoginError::UnusableAccount("a refresh_token_expires_at that is not ISO 8601"))?;
    let mut session = Session {
        user_id: me.user_id,
        name: me.name.unwrap_or_else(|| me.email.clone()),
        email: me.email,
        teams: Vec::new(),
        default_team_id: None,
        access_token: grant.access_token,
        refresh_token: grant.refresh_token.unwrap_or_default(),
        session_id: Some(session_id),
        issued_at: Timestamp(now),
        access_token_expires_at: Timestamp(now + chrono::Duration::seconds(grant.expires_in)),
        refresh_token_expires_at,
        scope: grant.scope.unwrap_or_else(|| "offline_access".into()),
        storage_backend: "file".into(),
        last_used_at: Timestamp(now),
        auth_method: AuthMethod::DeviceCode,
        // The reference starts every login session without a generation; refreshes set it.
        generation: None,
    };
    session.set_teams(Team::from_wire(me.teams));
    Ok(session)
}

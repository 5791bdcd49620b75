//! The token manager: who is logged in, fresh access tokens, and the private-team rule.

use std::path::PathBuf;
use std::time::Duration;

use super::session::{Session, Team};
use super::store::{SessionStore, StoreError};
use crate::clock::Clock;
use crate::saas::{SaasClient, SaasError};

/// Refresh when the access token expires within this margin.
pub const REFRESH_MARGIN_SECS: i64 = 5;

/// The message of an unusable session (**interop**: agents and the reference's classifier look for
/// `no valid access token` and `spec-kitty auth login`).
pub const NOT_AUTHENTICATED: &str =
    "Not authenticated: no valid access token. Run `spec-kitty auth login`.";

/// Why no access token could be produced.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No session is stored.
    #[error("{NOT_AUTHENTICATED}")]
    NotAuthenticated,
    /// The refresh token has expired.
    #[error(
        "Not authenticated: no valid access token (the session's refresh token expired). Run `spec-kitty auth login`."
    )]
    RefreshExpired,
    /// The server refused the refresh token.
    #[error(
        "Not authenticated: no valid access token (the server refused the refresh token). Run `spec-kitty auth login`."
    )]
    RefreshRejected,
    /// Another process held the refresh lock for the whole budget.
    #[error(
        "another spec-kitty process is refreshing the access token (waited {waited_ms} ms for {lock}); try again in a moment"
    )]
    RefreshInProgress {
        /// How long we waited.
        waited_ms: u128,
        /// The lock file.
        lock: PathBuf,
    },
    /// A token refresh is needed but no server is configured.
    #[error(
        "the access token has expired and no spec-kitty service is configured to refresh it; set SPEC_KITTY_SAAS_URL"
    )]
    NoServer,
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hosted service failed.
    #[error(transparent)]
    Saas(#[from] SaasError),
    /// The refresh lock could not be taken.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rehydrate {
    NotTried,
    /// Tried in this process; found nothing usable (the negative cache).
    Failed,
    Done,
}

/// Loads the session once and hands out fresh access tokens. One per process.
#[derive(Debug)]
pub struct TokenManager {
    store: SessionStore,
    refresh_lock: PathBuf,
    client: Option<SaasClient>,
    lock_budget: Duration,
    clock: Clock,
    session: Option<Session>,
    loaded: bool,
    rehydrate: Rehydrate,
    me_calls: usize,
}

impl TokenManager {
    /// A manager over `store`, serializing refreshes with `refresh_lock`.
    pub fn new(
        store: SessionStore,
        refresh_lock: PathBuf,
        client: Option<SaasClient>,
        lock_budget: Duration,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            refresh_lock,
            client,
            lock_budget,
            clock,
            session: None,
            loaded: false,
            rehydrate: Rehydrate::NotTried,
            me_calls: 0,
        }
    }

    /// Cut the lock wait and every request's timeout to at most `limit` (a caller inside a
    /// deadline: the final sync, `sync now`).
    pub fn cap(&mut self, limit: Duration) {
        self.lock_budget = self.lock_budget.min(limit);
        self.client = self.client.as_ref().map(|c| c.capped(limit));
    }

    /// The stored session (read once per process).
    pub fn session(&mut self) -> Result<Option<&Session>, StoreError> {
        if !self.loaded {
            self.session = self.store.read_and_publish()?;
            self.loaded = true;
        }
        Ok(self.session.as_ref())
    }

    /// How many `/api/v1/me` calls this manager made (at most one).
    pub fn me_calls(&self) -> usize {
        self.me_calls
    }

    fn current(&mut self) -> Result<&Session, AuthError> {
        let now = self.clock.now();
        match self.session()? {
            None => Err(AuthError::NotAuthenticated),
            Some(s) if s.refresh_expired(now) => Err(AuthError::RefreshExpired),
            Some(s) => Ok(s),
        }
    }

    /// A usable access token, refreshed first when it expires within 5 s.
    pub fn access_token(&mut self) -> Result<String, AuthError> {
        let now = self.clock.now();
        let margin = chrono::Duration::seconds(REFRESH_MARGIN_SECS);
        let session = self.current()?;
        if !session.access_expires_within(now, margin) {
            return Ok(session.access_token.clone());
        }
        let stale = session.access_token.clone();
        self.refresh_replacing(&stale)
    }

    /// The server rejected `rejected` (a 401): refresh once, unless another process already did.
    pub fn refresh_after_rejection(&mut self, rejected: &str) -> Result<String, AuthError> {
        self.current()?;
        self.refresh_replacing(rejected)
    }

    fn refresh_replacing(&mut self, stale: &str) -> Result<String, AuthError> {
        let client = self.client.clone().ok_or(AuthError::NoServer)?;
        let started = std::time::Instant::now();
        let _guard = crate::lock::exclusive_within(&self.refresh_lock, self.lock_budget)
            .map_err(|source| AuthError::Lock {
                path: self.refresh_lock.clone(),
                source,
            })?
            .ok_or_else(|| AuthError::RefreshInProgress {
                waited_ms: started.elapsed().as_millis(),
                lock: self.refresh_lock.clone(),
            })?;
        let now = self.clock.now();
        let margin = chrono::Duration::seconds(REFRESH_MARGIN_SECS);
        // Another process may have refreshed while we waited: adopt its token.
        let on_disk = self.store.read()?.ok_or(AuthError::NotAuthenticated)?;
        if on_disk.access_token != stale && !on_disk.access_expires_within(now, margin) {
            tracing::debug!("adopting the access token another process refreshed");
            let token = on_disk.access_token.clone();
            self.session = Some(on_disk);
            return Ok(token);
        }
        if on_disk.refresh_expired(now) {
            return Err(AuthError::RefreshExpired);
        }
        tracing::debug!("refreshing the access token");
        let grant = client
            .refresh(&on_disk.refresh_token)
            .map_err(|e| match e.status() {
                Some(400 | 401) => AuthError::RefreshRejected,
                _ => AuthError::Saas(e),
            })?;
        let mut session = on_disk;
        // As the reference rebuilds the session from a refresh answer: the refresh token rotates
        // when given; the expiry prefers the absolute form, then the relative one, then the old
        // value; the generation is the answer's (absent: none); the session id never changes.
        // Nothing may fail between the grant and its write: the server has already rotated the
        // refresh token, so losing this answer would lose the session. An expiry that does not
        // parse keeps the previous one.
        session.refresh_token_expires_at = super::session::refresh_expiry(
            grant.refresh_token_expires_at.as_deref(),
            grant.refresh_token_expires_in,
            now,
            session.refresh_token_expires_at,
        )
        .unwrap_or_else(|detail| {
            tracing::warn!("{detail}; keeping the previous refresh-token expiry");
            session.refresh_token_expires_at
        });
        session.access_token = grant.access_token.clone();
        if let Some(rt) = grant.refresh_token {
            session.refresh_token = rt;
        }
        session.access_token_expires_at =
            super::session::Timestamp(now + chrono::Duration::seconds(grant.expires_in));
        session.generation = grant.generation;
        if let Some(scope) = grant.scope {
            session.scope = scope;
        }
        session.issued_at = super::session::Timestamp(now);
        session.last_used_at = super::session::Timestamp(now);
        self.store.write(&session)?;
        self.session = Some(session);
        Ok(grant.access_token)
    }

    /// The private team, rehydrating membership with at most one `GET /api/v1/me` per manager
    /// when the session has none. `Ok(None)`: no private team (rehydrate failed or found none).
    /// Never falls back to a shared team.
    pub fn private_team(&mut self) -> Result<Option<Team>, AuthError> {
        if let Some(team) = self.current()?.private_team() {
            return Ok(Some(team.clone()));
        }
        if self.rehydrate != Rehydrate::NotTried {
            return Ok(None);
        }
        self.rehydrate = Rehydrate::Failed;
        let Some(client) = self.client.clone() else {
            return Ok(None);
        };
        let token = self.access_token()?;
        self.me_calls += 1;
        let me = match client.me(&token) {
            Ok(me) => me,
            Err(e) => {
                tracing::info!(error = %e, "membership rehydrate failed");
                return Ok(None);
            }
        };
        let teams = Team::from_wire(me.teams);
        if super::session::private_team(&teams).is_none() {
            tracing::info!("membership rehydrate found no private team");
            return Ok(None);
        }
        let mut session = self.current()?.clone();
        session.set_teams(teams);
        self.store.write(&session)?;
        let team = session.private_team().cloned();
        self.session = Some(session);
        self.rehydrate = Rehydrate::Done;
        Ok(team)
    }
}

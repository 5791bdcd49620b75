//! The final sync at the end of a command that queued events: bounded attempts inside a small
//! total budget. It never writes stdout and never changes the exit code; it returns at most one
//! failure, which the caller renders as the one diagnostic line.

use std::time::Instant;

use super::drain::{DrainLimits, DrainReport, drain};
use super::error::SyncError;
use super::outbox::{LastAttempt, Outbox};
use super::settings::SyncSettings;
use crate::auth::store::SessionStore;
use crate::auth::tokens::TokenManager;
use crate::clock::Clock;
use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::paths::RuntimeRoot;
use crate::saas::SaasClient;

/// Events per request.
pub const BATCH_SIZE: usize = 500;

/// Everything a sync needs, as values.
#[derive(Debug, Clone)]
pub struct SyncInputs<'a> {
    /// The environment snapshot.
    pub env: &'a Env,
    /// The runtime root.
    pub root: &'a RuntimeRoot,
    /// The key-derivation identity.
    pub identity: &'a MachineIdentity,
    /// The clock.
    pub clock: Clock,
}

impl SyncInputs<'_> {
    /// Open the outbox, take the drain lock, build the client and token manager, and drain.
    pub fn drain_with(
        &self,
        settings: &SyncSettings,
        deadline: Option<Instant>,
        attempts: u32,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<DrainReport, (SyncError, DrainReport)> {
        let none = DrainReport::default();
        let lock_path = self.root.drain_lock();
        let lock_wait = deadline.map_or(settings.lock_budget, |d| {
            settings
                .lock_budget
                .min(d.saturating_duration_since(Instant::now()))
        });
        let _drain_lock = crate::lock::exclusive_within(&lock_path, lock_wait)
            .map_err(|source| {
                (
                    SyncError::Lock {
                        path: lock_path.clone(),
                        source,
                    },
                    none,
                )
            })?
            .ok_or((SyncError::DrainLockUnavailable, none))?;
        let mut outbox = Outbox::open(&self.root.outbox_db()).map_err(|e| (e.into(), none))?;
        let result = self.drain_locked(&mut outbox, settings, deadline, attempts, progress);
        let at = crate::auth::session::Timestamp(self.clock.now()).to_iso();
        let attempt = match &result {
            Ok(r) => LastAttempt {
                at,
                outcome: "success".into(),
                delivered: r.delivered,
            },
            Err((e, r)) => LastAttempt {
                at,
                outcome: e.code().to_string(),
                delivered: r.delivered,
            },
        };
        if let Err(e) = outbox.record_attempt(&attempt) {
            tracing::warn!(error = %e, "could not record the sync attempt");
        }
        result
    }

    fn drain_locked(
        &self,
        outbox: &mut Outbox,
        settings: &SyncSettings,
        deadline: Option<Instant>,
        attempts: u32,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<DrainReport, (SyncError, DrainReport)> {
        let none = DrainReport::default();
        let url = crate::config::server_url(self.env, self.root)
            .map_err(|e| {
                (
                    SyncError::ServerUnavailable(crate::saas::SaasError::Decode {
                        url: self.root.config_file().display().to_string(),
                        detail: e.to_string(),
                    }),
                    none,
                )
            })?
            .ok_or((SyncError::NoServer, none))?;
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let timeout = remaining.map_or(settings.http_timeout, |r| settings.http_timeout.min(r));
        let client = SaasClient::new(&url, timeout);
        let mut tokens = TokenManager::new(
            SessionStore::new(self.root.auth_dir(), self.identity.clone()),
            self.root.refresh_lock(),
            Some(client.clone()),
            remaining.map_or(settings.lock_budget, |r| settings.lock_budget.min(r)),
            self.clock,
        );
        drain(
            outbox,
            &mut tokens,
            &client,
            DrainLimits {
                deadline,
                attempts,
                batch_size: BATCH_SIZE,
            },
            progress,
        )
    }
}

/// Run the final sync if sync is active. `None`: nothing to report (inactive, or delivered).
pub fn final_sync(inputs: &SyncInputs<'_>) -> Option<SyncError> {
    let settings = SyncSettings::from_env(inputs.env);
    if !settings.active {
        return None;
    }
    let deadline = Instant::now() + settings.final_budget;
    match inputs.drain_with(&settings, Some(deadline), 2, &mut |_, _| {}) {
        Ok(report) => {
            tracing::debug!(?report, "final sync done");
            None
        }
        Err((e, _)) => Some(e),
    }
}

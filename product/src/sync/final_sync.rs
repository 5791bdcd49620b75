//! The final sync at the end of a command that queued events: bounded attempts inside a small
//! total budget. It never writes stdout and never changes the exit code; it returns at most one
//! failure, which the caller renders as the one diagnostic line.

use std::time::Instant;

use super::drain::{DrainLimits, DrainOutcome, DrainReport, drain};
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

/// Events per request. A kill re-sends at most the one batch in flight (each batch is settled
/// as soon as its answer arrives), so this also bounds duplicates after a crash.
pub const BATCH_SIZE: usize = 500;

/// Free space inside the outbox worth a `VACUUM` after a drain.
pub const RECLAIM_THRESHOLD: u64 = 1024 * 1024;

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
    ) -> DrainOutcome {
        let fail = |error| DrainOutcome {
            report: DrainReport::default(),
            error: Some(error),
        };
        let lock_path = self.root.drain_lock();
        let lock_wait = deadline.map_or(settings.lock_budget, |d| {
            settings
                .lock_budget
                .min(d.saturating_duration_since(Instant::now()))
        });
        let _drain_lock = match crate::lock::exclusive_within(&lock_path, lock_wait) {
            Ok(Some(lock)) => lock,
            Ok(None) => return fail(SyncError::DrainLockUnavailable),
            Err(source) => {
                return fail(SyncError::Lock {
                    path: lock_path,
                    source,
                });
            }
        };
        let mut outbox = match Outbox::open(&self.root.outbox_db()) {
            Ok(o) => o,
            Err(e) => return fail(e.into()),
        };
        // Events of creates that died before committing are resolved first (sent only if their
        // commit exists).
        match crate::mission::recover::recover(self.env, &mut outbox, None) {
            Ok(r) if r != Default::default() => tracing::info!(?r, "staged events resolved"),
            Ok(_) => {}
            Err(e) => return fail(e.into()),
        }
        let mut result = match self.client(settings, deadline) {
            Ok((client, mut tokens)) => drain(
                &mut outbox,
                &mut tokens,
                &client,
                DrainLimits {
                    deadline,
                    attempts,
                    batch_size: BATCH_SIZE,
                },
                progress,
            ),
            Err(e) => fail(e),
        };
        if result.error.is_none() {
            result.error = standing_problem(&outbox);
        }
        // Whatever freed the space (delivered events, discarded rows), give it back once there
        // is enough of it; below the threshold this costs one PRAGMA.
        let reclaimed = outbox.reclaim(RECLAIM_THRESHOLD);
        if reclaimed > 0 {
            tracing::debug!(reclaimed, "outbox space reclaimed");
        }
        let attempt = LastAttempt {
            at: crate::auth::session::Timestamp(self.clock.now()).to_iso(),
            outcome: result
                .error
                .as_ref()
                .map_or_else(|| "success".to_string(), |e| e.code().to_string()),
            delivered: result.report.delivered,
        };
        if let Err(e) = outbox.record_attempt(&attempt) {
            tracing::warn!(error = %e, "could not record the sync attempt");
        }
        result
    }

    fn client(
        &self,
        settings: &SyncSettings,
        deadline: Option<Instant>,
    ) -> Result<(SaasClient, TokenManager), SyncError> {
        let url =
            crate::runtime_config::server_url(self.env, self.root)?.ok_or(SyncError::NoServer)?;
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let timeout = remaining.map_or(settings.http_timeout, |r| settings.http_timeout.min(r));
        let client = SaasClient::new(&url, timeout);
        let tokens = TokenManager::new(
            SessionStore::new(self.root.auth_dir(), self.identity.clone())
                .with_hot_path(crate::auth::store::hot_path_enabled(self.env)),
            self.root.refresh_lock(),
            Some(client.clone()),
            remaining.map_or(settings.lock_budget, |r| settings.lock_budget.min(r)),
            self.clock,
        );
        Ok((client, tokens))
    }
}

/// Parked or quarantined events left in the outbox, as the failure to report (parked first).
fn standing_problem(outbox: &Outbox) -> Option<SyncError> {
    let parked = match outbox.rejected() {
        Ok(p) => p,
        Err(e) => return Some(e.into()),
    };
    if !parked.is_empty() {
        return Some(SyncError::EventsRejected(parked));
    }
    match outbox.quarantined() {
        Ok(rows) if rows.is_empty() => None,
        Ok(rows) => Some(SyncError::EventsQuarantined(rows)),
        Err(e) => Some(e.into()),
    }
}

/// Run the final sync if sync is active. `None`: nothing to report (inactive, or delivered).
pub fn final_sync(inputs: &SyncInputs<'_>) -> Option<SyncError> {
    let settings = SyncSettings::from_env(inputs.env);
    if !settings.active {
        return None;
    }
    let deadline = Instant::now() + settings.final_budget;
    let outcome = inputs.drain_with(&settings, Some(deadline), 2, &mut |_, _| {});
    tracing::debug!(report = ?outcome.report, "final sync done");
    outcome.error
}

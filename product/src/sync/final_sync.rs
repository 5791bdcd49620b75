//! The final sync at the end of a command that queued events: bounded attempts inside a small
//! total budget. It never writes stdout and never changes the exit code; it returns at most one
//! failure, which the caller renders as the one diagnostic line.

use std::time::Instant;

use super::drain::{DrainLimits, DrainOutcome, DrainReport, drain};
use super::error::SyncError;
use super::outbox::{LastAttempt, Outbox, OutboxError};
use crate::services::Services;

/// Events per request. A kill re-sends at most the one batch in flight (each batch is settled
/// as soon as its answer arrives), so this also bounds duplicates after a crash.
pub const BATCH_SIZE: usize = 500;

/// Requests per batch in the final sync at the end of a command: a batch that meets a transport
/// error or a 5xx is sent again once (inside the budget). An event the server rejects is not
/// retried within the final sync's budget unless its back-off has passed (see `drain`).
pub const FINAL_SYNC_ATTEMPTS: u32 = 2;

/// Requests per batch in `sync now`, on transport errors and 5xx.
pub const SYNC_NOW_ATTEMPTS: u32 = 3;

/// Free space inside the outbox worth a `VACUUM` after a drain.
pub const RECLAIM_THRESHOLD: u64 = 1024 * 1024;

/// Resolves the staged events of creates that died before committing, with the drain lock held
/// (supplied by the caller: sync knows nothing of missions).
pub type Recover<'a> = &'a dyn Fn(&mut Outbox) -> Result<(), OutboxError>;

/// Everything a sync needs: the command's services and how to resolve staged events.
#[derive(Clone, Copy)]
pub struct SyncInputs<'a> {
    /// The command's store, client, token manager, settings and clock.
    pub services: &'a Services,
    /// Run first, under the drain lock, so that no staged event is sent before its commit exists.
    pub recover: Recover<'a>,
}

impl std::fmt::Debug for SyncInputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncInputs")
            .field("services", self.services)
            .finish_non_exhaustive()
    }
}

/// Whether a drain may end with maintenance (a `VACUUM` once enough space is free).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maintenance {
    /// `sync now`: give freed space back after the drain.
    Reclaim,
    /// A budgeted final sync: nothing but the drain runs inside the budget.
    Skip,
}

impl SyncInputs<'_> {
    /// Take the drain lock, open the outbox, resolve staged events, and drain with the command's
    /// client and token manager (their timeouts and lock wait cut to the deadline).
    pub fn drain_with(
        &self,
        deadline: Option<Instant>,
        attempts: u32,
        maintenance: Maintenance,
        progress: &mut dyn FnMut(u64, u64),
    ) -> DrainOutcome {
        let fail = |error| DrainOutcome {
            report: DrainReport::default(),
            error: Some(error),
        };
        let services = self.services;
        let settings = services.settings();
        let lock_path = services.root().drain_lock();
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
        let mut outbox = match Outbox::open(&services.root().outbox_db()) {
            Ok(o) => o,
            Err(e) => return fail(e.into()),
        };
        // Events of creates that died before committing are resolved first (sent only if their
        // commit exists).
        if let Err(e) = (self.recover)(&mut outbox) {
            return fail(e.into());
        }
        let mut result = match self.connect(deadline) {
            Ok(client) => match services.tokens() {
                Ok(mut tokens) => {
                    if let Some(d) = deadline {
                        tokens.cap(d.saturating_duration_since(Instant::now()));
                    }
                    let may_send = may_send(services.root());
                    drain(
                        &mut outbox,
                        &mut tokens,
                        &client,
                        services.clock(),
                        DrainLimits {
                            deadline,
                            attempts,
                            batch_size: BATCH_SIZE,
                        },
                        &may_send,
                        progress,
                    )
                }
                Err(e) => fail(e.into()),
            },
            Err(e) => fail(e),
        };
        if result.error.is_none() {
            result.error = standing_problem(&outbox);
        }
        // Whatever freed the space (delivered events, discarded rows), give it back once there
        // is enough of it; below the threshold this costs one PRAGMA. Never inside a budget.
        if maintenance == Maintenance::Reclaim {
            let reclaimed = outbox.reclaim(RECLAIM_THRESHOLD);
            if reclaimed > 0 {
                tracing::debug!(reclaimed, "outbox space reclaimed");
            }
        }
        let attempt = LastAttempt {
            at: crate::pyfmt::isoformat(services.clock().now()),
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

    /// The command's client, its request timeouts cut to what remains before `deadline`.
    fn connect(&self, deadline: Option<Instant>) -> Result<crate::saas::SaasClient, SyncError> {
        let client = self.services.client()?.ok_or(SyncError::NoServer)?;
        Ok(match deadline {
            Some(d) => client.capped(d.saturating_duration_since(Instant::now())),
            None => client.clone(),
        })
    }
}

/// A project's events may be sent unless it refused sync in the reference's store (`spec-kitty
/// sync opt-out`); each project's decision is read once per drain. (Nothing is queued without a
/// grant, so an event here was queued under one.)
fn may_send(root: &crate::paths::RuntimeRoot) -> impl Fn(&str) -> bool + '_ {
    let seen = std::cell::RefCell::new(std::collections::HashMap::<String, bool>::new());
    move |project: &str| {
        if let Some(ok) = seen.borrow().get(project) {
            return *ok;
        }
        let store = root.reference_project_store(project);
        let ok = !matches!(
            super::reference_store::consent(&store, project),
            Ok(super::reference_store::Consent::Refused)
        );
        seen.borrow_mut().insert(project.to_string(), ok);
        ok
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

/// Run the final sync if sync is active and its budget is not zero (a zero budget leaves the
/// events queued for `sync now`). `None`: nothing to report (off, or delivered).
pub fn final_sync(inputs: &SyncInputs<'_>) -> Option<SyncError> {
    let settings = inputs.services.settings();
    if !settings.sync_active || settings.final_budget.is_zero() {
        return None;
    }
    let deadline = Instant::now() + settings.final_budget;
    let outcome = inputs.drain_with(
        Some(deadline),
        FINAL_SYNC_ATTEMPTS,
        Maintenance::Skip,
        &mut |_, _| {},
    );
    tracing::debug!(report = ?outcome.report, "final sync done");
    outcome.error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::identity::MachineIdentity;
    use crate::paths::RuntimeRoot;
    use crate::settings::Settings;

    #[test]
    fn sync_inputs_show_their_services() {
        let env = Env::from_pairs([("SPEC_KITTY_HOME", "/kitty")]);
        let services = Services::new(
            &env,
            RuntimeRoot::resolve(&env).unwrap(),
            &MachineIdentity::new("host", 1000),
            Settings::from_env(&env),
            crate::clock::Clock::system(),
        );
        let recover = |_: &mut Outbox| Ok(());
        let inputs = SyncInputs {
            services: &services,
            recover: &recover,
        };
        let shown = format!("{inputs:?}");
        assert!(
            shown.starts_with("SyncInputs { services: Services {"),
            "{shown}"
        );
        assert!(shown.ends_with(".. }"), "{shown}");
    }
}

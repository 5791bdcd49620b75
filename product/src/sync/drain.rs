//! Draining the outbox: one pass over the queue in batches, under the cross-process drain lock,
//! within a deadline and a bounded number of attempts.

use std::time::{Duration, Instant};

use super::error::SyncError;
use super::ingress::send_batch;
use super::outbox::Outbox;
use crate::auth::tokens::TokenManager;
use crate::saas::SaasClient;

/// How far a drain may go.
#[derive(Debug, Clone, Copy)]
pub struct DrainLimits {
    /// Stop starting new requests after this instant.
    pub deadline: Option<Instant>,
    /// Attempts per batch on transport errors and 5xx.
    pub attempts: u32,
    /// Events per request.
    pub batch_size: usize,
}

/// What a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DrainReport {
    /// Events the server accepted (removed from the outbox).
    pub delivered: u64,
    /// Events the server rejected (kept, retry counted).
    pub rejected: u64,
    /// Events kept without penalty (pending/queued).
    pub kept: u64,
    /// Requests sent.
    pub batches: u64,
    /// Events still queued afterwards.
    pub remaining: u64,
}

/// The result of a drain: what happened, and the failure that stopped it, if any.
#[derive(Debug)]
pub struct DrainOutcome {
    /// What was done.
    pub report: DrainReport,
    /// Why it stopped early.
    pub error: Option<SyncError>,
}

/// Drain `outbox`: private-team gate first (at most one rehydrate), then batches oldest first.
/// `progress(done, total)` is called after each batch.
pub fn drain(
    outbox: &mut Outbox,
    tokens: &mut TokenManager,
    client: &SaasClient,
    limits: DrainLimits,
    progress: &mut dyn FnMut(u64, u64),
) -> DrainOutcome {
    let mut report = DrainReport::default();
    let error = drain_into(outbox, tokens, client, limits, progress, &mut report).err();
    if let Ok(depth) = outbox.depth() {
        report.remaining = depth;
    }
    DrainOutcome { report, error }
}

fn drain_into(
    outbox: &mut Outbox,
    tokens: &mut TokenManager,
    client: &SaasClient,
    limits: DrainLimits,
    progress: &mut dyn FnMut(u64, u64),
    report: &mut DrainReport,
) -> Result<(), SyncError> {
    let total = outbox.depth()?;
    if total == 0 {
        return Ok(());
    }
    if tokens.private_team()?.is_none() {
        return Err(SyncError::NoPrivateTeam { queued: total });
    }
    let mut cursor = 0;
    loop {
        let batch = outbox.pending_after(cursor, limits.batch_size)?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        cursor = last.seq;
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            match send_batch(client, tokens, &batch) {
                Ok(o) => break o,
                Err(SyncError::ServerUnavailable(e)) => {
                    let out_of_time = limits
                        .deadline
                        .is_some_and(|d| Instant::now() + backoff(attempt) >= d);
                    if attempt >= limits.attempts || out_of_time {
                        return Err(SyncError::ServerUnavailable(e));
                    }
                    tracing::info!(attempt, error = %e, "batch failed; retrying");
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => return Err(e),
            }
        };
        outbox.settle(&outcome.delivered, &outcome.rejected)?;
        report.batches += 1;
        report.delivered += outcome.delivered.len() as u64;
        report.rejected += outcome.rejected.len() as u64;
        report.kept += outcome.kept.len() as u64;
        progress(report.delivered + report.rejected + report.kept, total);
        if limits.deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100 * u64::from(attempt))
}

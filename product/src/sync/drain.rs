//! Draining the outbox: one pass over the queue in batches, under the cross-process drain lock,
//! within a deadline and a bounded number of attempts.

use std::time::{Duration, Instant};

use super::error::SyncError;
use super::ingress::{BatchOutcome, send_batch};
use super::outbox::{MAX_REJECTIONS, Outbox, QueuedEvent};
use crate::auth::tokens::TokenManager;
use crate::clock::Clock;
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
    /// Rejections counted in this drain (an event rejected twice counts twice).
    pub rejected: u64,
    /// Events parked in this drain after their last allowed rejection.
    pub parked: u64,
    /// Rows moved to the quarantine in this drain (they did not decode).
    pub quarantined: u64,
    /// Events kept without penalty (pending/queued).
    pub kept: u64,
    /// Requests sent.
    pub batches: u64,
    /// Events still queued afterwards.
    pub remaining: u64,
    /// Events not sent because their project refused sync (`spec-kitty sync opt-out`); they
    /// stay queued.
    pub withheld: u64,
}

/// Whether a project's events may be sent now (its consent, read by the caller).
pub type MaySend<'a> = &'a dyn Fn(&str) -> bool;

/// The result of a drain: what happened, and the failure that stopped it, if any.
#[derive(Debug)]
pub struct DrainOutcome {
    /// What was done.
    pub report: DrainReport,
    /// Why it stopped early.
    pub error: Option<SyncError>,
}

/// Drain `outbox`: private-team gate first (at most one rehydrate), then batches oldest first,
/// then the rejected events again once their back-off has passed (at most
/// [`MAX_REJECTIONS`] rounds, never past the deadline). `progress(done, total)` is called after
/// each batch. `clock` dates the batch reads and is the back-off clock. Events of a project
/// `may_send` refuses are withheld: kept, never sent.
pub fn drain(
    outbox: &mut Outbox,
    tokens: &mut TokenManager,
    client: &SaasClient,
    clock: Clock,
    limits: DrainLimits,
    may_send: MaySend<'_>,
    progress: &mut dyn FnMut(u64, u64),
) -> DrainOutcome {
    let mut report = DrainReport::default();
    let mut error = drain_into(
        outbox,
        tokens,
        client,
        (clock, limits, may_send),
        progress,
        &mut report,
    )
    .err();
    if let Ok(depth) = outbox.depth() {
        report.remaining = depth;
    }
    // Out of time with events left (and not yet due for a rejection retry) is a failure to say.
    let out_of_time = limits
        .deadline
        .is_some_and(|d| Instant::now() + MIN_REQUEST_TIME >= d);
    // A request cut off by the deadline (its timeout was what was left) after the service had
    // answered a batch is the deadline too: the service works, the backlog outlasted the time.
    // A service that answered nothing keeps its own words (it did not answer within ...).
    let cut_off = report.batches > 0
        && matches!(
            &error,
            Some(SyncError::ServerUnavailable(
                crate::saas::SaasError::Timeout { .. }
            ))
        );
    if (error.is_none() || cut_off) && out_of_time && report.remaining > report.withheld {
        error = Some(SyncError::DeadlineReached {
            remaining: report.remaining,
        });
    }
    DrainOutcome { report, error }
}

fn drain_into(
    outbox: &mut Outbox,
    tokens: &mut TokenManager,
    client: &SaasClient,
    (clock, limits, may_send): (Clock, DrainLimits, MaySend<'_>),
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
    let mut pass = Pass {
        outbox,
        tokens,
        client,
        clock,
        limits,
        may_send,
        progress,
        report,
        total,
    };
    pass.run(false)?;
    for _ in 0..MAX_REJECTIONS {
        let Some(due) = pass.outbox.next_retry_ms()? else {
            break;
        };
        let wait = Duration::from_millis(u64::try_from(due - clock.epoch_millis()).unwrap_or(0));
        if limits.deadline.is_some_and(|d| Instant::now() + wait >= d) {
            break;
        }
        std::thread::sleep(wait);
        pass.run(true)?;
    }
    Ok(())
}

/// One pass over the queue.
struct Pass<'a> {
    outbox: &'a mut Outbox,
    tokens: &'a mut TokenManager,
    client: &'a SaasClient,
    clock: Clock,
    limits: DrainLimits,
    may_send: MaySend<'a>,
    progress: &'a mut dyn FnMut(u64, u64),
    report: &'a mut DrainReport,
    total: u64,
}

impl Pass<'_> {
    fn run(&mut self, only_retries: bool) -> Result<(), SyncError> {
        let mut cursor = 0;
        loop {
            let at = crate::pyfmt::isoformat(self.clock.now_micros());
            let batch = self.outbox.next_batch(
                cursor,
                self.limits.batch_size,
                self.clock.epoch_millis(),
                only_retries,
                &at,
            )?;
            self.report.quarantined += batch.quarantined;
            let Some(last) = batch.last_seq else {
                return Ok(());
            };
            cursor = last;
            let mut events = batch.events;
            let before = events.len();
            events.retain(|e| (self.may_send)(&e.envelope.project_uuid));
            if !only_retries {
                self.report.withheld += (before - events.len()) as u64;
            }
            if events.is_empty() {
                continue;
            }
            if self.client_for_now().is_none() {
                // Too little time left for a request to finish inside the deadline: none starts.
                return Ok(());
            }
            let outcome = self.send(&events)?;
            let parked = self.outbox.settle(
                &outcome.delivered,
                &outcome.rejected,
                self.clock.epoch_millis(),
            )?;
            let r = &mut *self.report;
            r.batches += 1;
            r.delivered += outcome.delivered.len() as u64;
            r.rejected += outcome.rejected.len() as u64;
            r.parked += parked.len() as u64;
            r.kept += outcome.kept.len() as u64;
            (self.progress)(r.delivered + r.parked + r.kept, self.total);
            if self.limits.deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
        }
    }

    /// The client with its whole-request timeout cut to what is left before the deadline;
    /// `None` when less than [`MIN_REQUEST_TIME`] is left.
    fn client_for_now(&self) -> Option<SaasClient> {
        match self.limits.deadline {
            None => Some(self.client.clone()),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                (left >= MIN_REQUEST_TIME).then(|| self.client.capped(left))
            }
        }
    }

    /// Send one batch, retrying transport errors and 5xx within the attempts and deadline.
    fn send(&mut self, events: &[QueuedEvent]) -> Result<BatchOutcome, SyncError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Each attempt (a retry after its back-off too) gets what is left, not what was.
            let client = self
                .client_for_now()
                .unwrap_or_else(|| self.client.capped(Duration::ZERO));
            match send_batch(&client, self.tokens, events) {
                Ok(o) => return Ok(o),
                Err(SyncError::ServerUnavailable(e)) => {
                    let out_of_time = self
                        .limits
                        .deadline
                        .is_some_and(|d| Instant::now() + backoff(attempt) >= d);
                    if attempt >= self.limits.attempts || out_of_time {
                        return Err(SyncError::ServerUnavailable(e));
                    }
                    tracing::info!(attempt, error = %e, "batch failed; retrying");
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A request is not started with less time than this left before the deadline: it could not
/// finish (a loopback round trip of one batch takes a few milliseconds; a real service more).
pub const MIN_REQUEST_TIME: Duration = Duration::from_millis(10);

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100 * u64::from(attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_batch_backs_off_100_ms_more_per_attempt() {
        let ms = |a| backoff(a).as_millis();
        assert_eq!((ms(1), ms(2), ms(3), ms(10)), (100, 200, 300, 1000));
    }
}

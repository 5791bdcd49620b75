//! Direct ingress: one batch to `POST /api/v1/events/batch/`, with the 401 → refresh → retry rule.

use std::collections::HashMap;

use super::error::SyncError;
use super::outbox::{QueuedEvent, Rejection};
use crate::auth::tokens::TokenManager;
use crate::saas::{SaasClient, SaasError};

/// What the server said about each event of a batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// `success` or `duplicate`: remove.
    pub delivered: Vec<String>,
    /// `rejected` (or an unknown status): keep and count a retry, with the server's reason.
    pub rejected: Vec<Rejection>,
    /// `pending`, `queued`, or absent from the answer: keep without penalty.
    pub kept: Vec<String>,
}

/// Send one batch. A 401 refreshes the token once and retries once.
pub fn send_batch(
    client: &SaasClient,
    tokens: &mut TokenManager,
    events: &[QueuedEvent],
) -> Result<BatchOutcome, SyncError> {
    let bodies: Vec<&super::envelope::Envelope> = events.iter().map(|e| &e.envelope).collect();
    let token = tokens.access_token()?;
    let response = match client.post_batch(&token, &bodies) {
        Err(SaasError::Status { status: 401, .. }) => {
            tracing::info!("batch answered 401; refreshing the access token once");
            let fresh = tokens.refresh_after_rejection(&token)?;
            match client.post_batch(&fresh, &bodies) {
                Err(SaasError::Status { status: 401, .. }) => return Err(SyncError::Unauthorized),
                other => other,
            }
        }
        other => other,
    };
    let response = response.map_err(|e| match e.status() {
        Some(403) => SyncError::Forbidden,
        // No 401 gets here: the first was retried above, and a second returned Unauthorized.
        _ => SyncError::ServerUnavailable(e),
    })?;
    let statuses: HashMap<&str, &crate::saas::wire::EventResult> = response
        .results
        .iter()
        .map(|r| (r.event_id.as_str(), r))
        .collect();
    if !events
        .iter()
        .any(|e| statuses.contains_key(e.event_id.as_str()))
    {
        return Err(SyncError::UnsettledBatch { sent: events.len() });
    }
    let mut outcome = BatchOutcome::default();
    for e in events {
        let id = e.event_id.clone();
        match statuses.get(e.event_id.as_str()).copied() {
            Some(r) => match r.status.as_deref() {
                Some("success" | "duplicate") => outcome.delivered.push(id),
                Some("pending" | "queued") | None => outcome.kept.push(id),
                Some(status) => outcome.rejected.push(Rejection {
                    event_id: id,
                    reason: Some(match &r.error {
                        Some(why) if status == "rejected" => why.clone(),
                        Some(why) => format!("{status}: {why}"),
                        None => status.to_string(),
                    }),
                }),
            },
            None => outcome.kept.push(id),
        }
    }
    Ok(outcome)
}

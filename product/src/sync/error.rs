//! Every way a sync can fail, and the one exhaustive mapping to diagnostic codes.

use super::diagnostics::SyncDiagnosticCode;
use super::outbox::{OutboxError, QuarantinedRow, RejectedEvent};
use crate::auth::store::StoreError;
use crate::auth::tokens::{AuthError, NOT_AUTHENTICATED};
use crate::saas::SaasError;

/// A typed sync failure. [`SyncError::code`] maps each variant to its diagnostic code with an
/// exhaustive `match`: no string classification, no default arm.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No usable session (none, refresh token expired or refused).
    #[error("{NOT_AUTHENTICATED}{}", detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    NotAuthenticated {
        /// Why, when more is known.
        detail: Option<String>,
    },
    /// The session store exists but cannot be read.
    #[error(
        "Not authenticated: no valid access token, because the session store is unreadable: {0} Run `spec-kitty auth login --force`."
    )]
    UnreadableSession(StoreError),
    /// The server answered 401 after one refresh.
    #[error(
        "the spec-kitty service rejected the session (401) even after a token refresh; run `spec-kitty auth login`"
    )]
    Unauthorized,
    /// The server answered 403.
    #[error(
        "the spec-kitty service refused access to this team (403); check your team membership with `spec-kitty auth status`"
    )]
    Forbidden,
    /// The session has no private team (after at most one rehydrate): direct ingress skipped.
    #[error(
        "direct ingress skipped: the session has no Private Teamspace (membership rehydrate failed or found none), so {queued} event(s) stay queued; they are sent once your account has a private teamspace"
    )]
    NoPrivateTeam {
        /// Events left queued.
        queued: u64,
    },
    /// Another process held the refresh lock past the budget.
    #[error(
        "another spec-kitty process is refreshing the access token; events stay queued and will be sent by `spec-kitty sync now`"
    )]
    RefreshInProgress,
    /// Another process held the outbox drain lock past the budget.
    #[error(
        "another spec-kitty process is draining the outbox; events stay queued and will be sent by that process or `spec-kitty sync now`"
    )]
    DrainLockUnavailable,
    /// The server is unreachable, timed out, or answered 5xx.
    #[error(
        "the spec-kitty service is unavailable ({0}); events stay queued, run `spec-kitty sync now` later"
    )]
    ServerUnavailable(SaasError),
    /// The time allowed ran out with events still queued.
    #[error(
        "the spec-kitty service did not take every event in the time allowed ({remaining} event(s) stay queued); run `spec-kitty sync now` again later"
    )]
    DeadlineReached {
        /// Events still queued.
        remaining: u64,
    },
    /// Sync is enabled but no server is configured.
    #[error(
        "sync is enabled but no spec-kitty service is configured; set SPEC_KITTY_SAAS_URL (or [sync].server_url in config.toml)"
    )]
    NoServer,
    /// The server rejected events too often; they are parked, not sent again.
    #[error(
        "{} event(s) rejected by the spec-kitty service and parked: {}; fix the cause, then run `spec-kitty sync now --retry-rejected`",
        .0.len(),
        name_rejected(.0)
    )]
    EventsRejected(Vec<RejectedEvent>),
    /// Queued rows did not decode; they were moved to the quarantine and never sent.
    #[error(
        "{} queued row(s) did not decode as events and were quarantined, never sent: {}; see `spec-kitty sync status --json`, then `spec-kitty sync now --discard-quarantined` to drop them",
        .0.len(),
        name_quarantined(.0)
    )]
    EventsQuarantined(Vec<QuarantinedRow>),
    /// The outbox database failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// `config.toml` could not be read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A lock file could not be used.
    #[error("cannot use the lock file {path}: {source}")]
    Lock {
        /// The lock file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl SyncError {
    /// The diagnostic code of this failure.
    pub fn code(&self) -> SyncDiagnosticCode {
        match self {
            Self::NotAuthenticated { .. } | Self::UnreadableSession(_) | Self::Unauthorized => {
                SyncDiagnosticCode::ServerAuthFailure
            }
            Self::Forbidden => SyncDiagnosticCode::ServerAuthFailure,
            Self::NoPrivateTeam { .. } => SyncDiagnosticCode::DirectIngressMissingPrivateTeam,
            Self::RefreshInProgress => SyncDiagnosticCode::AuthRefreshInProgress,
            Self::DrainLockUnavailable => SyncDiagnosticCode::FinalSyncLockUnavailable,
            Self::ServerUnavailable(_) | Self::NoServer | Self::DeadlineReached { .. } => {
                SyncDiagnosticCode::ServerUnavailable
            }
            Self::EventsRejected(_) => SyncDiagnosticCode::EventsRejected,
            Self::EventsQuarantined(_) => SyncDiagnosticCode::EventsQuarantined,
            Self::Outbox(_) | Self::Lock { .. } => SyncDiagnosticCode::LocalStateUnavailable,
            Self::Config(_) => SyncDiagnosticCode::ConfigurationInvalid,
        }
    }
}

impl From<AuthError> for SyncError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::NotAuthenticated => Self::NotAuthenticated { detail: None },
            AuthError::RefreshExpired => Self::NotAuthenticated {
                detail: Some("the refresh token expired".into()),
            },
            AuthError::RefreshRejected => Self::NotAuthenticated {
                detail: Some("the server refused the refresh token".into()),
            },
            AuthError::RefreshInProgress { .. } => Self::RefreshInProgress,
            AuthError::NoServer => Self::NoServer,
            AuthError::Store(e) => Self::UnreadableSession(e),
            AuthError::Saas(e) => Self::ServerUnavailable(e),
            AuthError::Lock { path, source } => Self::Lock { path, source },
        }
    }
}

/// At most this many events are named in one message; the rest are counted.
const NAMED: usize = 5;

fn name_rejected(events: &[RejectedEvent]) -> String {
    name_some(events.iter().map(|e| {
        format!(
            "{} ({}: {})",
            e.event_id,
            e.event_type,
            e.reason.as_deref().unwrap_or("no reason given")
        )
    }))
}

fn name_quarantined(rows: &[QuarantinedRow]) -> String {
    name_some(
        rows.iter()
            .map(|r| format!("{} ({}: {})", r.event_id, r.event_type, r.reason)),
    )
}

fn name_some(items: impl ExactSizeIterator<Item = String>) -> String {
    let total = items.len();
    let mut named: Vec<String> = items.take(NAMED).collect();
    if total > NAMED {
        named.push(format!("and {} more", total - NAMED));
    }
    named.join(", ")
}

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
    /// The service answered a batch without a status for any event sent (`{}` or other ids): a
    /// protocol failure, never a silent success.
    #[error(
        "the spec-kitty service answered a batch of {sent} event(s) without a status for any of them; they stay queued. Check that SPEC_KITTY_SAAS_URL names the spec-kitty service, then run `spec-kitty sync now` again"
    )]
    UnsettledBatch {
        /// Events in the batch.
        sent: usize,
    },
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
    Config(#[from] crate::runtime_config::ConfigError),
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
            Self::ServerUnavailable(_)
            | Self::UnsettledBatch { .. }
            | Self::NoServer
            | Self::DeadlineReached { .. } => SyncDiagnosticCode::ServerUnavailable,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(n: usize) -> Vec<RejectedEvent> {
        (0..n)
            .map(|i| RejectedEvent {
                event_id: format!("e{i}"),
                event_type: "MissionCreated".into(),
                retry_count: 3,
                reason: (i % 2 == 0).then(|| "too long".to_string()),
            })
            .collect()
    }

    #[test]
    fn parked_events_are_named_up_to_five_then_counted() {
        let five = SyncError::EventsRejected(rejected(5)).to_string();
        assert!(
            five.starts_with(
                "5 event(s) rejected by the spec-kitty service and parked: e0 (MissionCreated: too long), e1 (MissionCreated: no reason given), "
            ),
            "{five}"
        );
        assert!(
            five.contains("e4 (MissionCreated: too long); fix the cause"),
            "{five}"
        );
        assert!(!five.contains("more"), "{five}");
        let seven = SyncError::EventsRejected(rejected(7)).to_string();
        assert!(
            seven.contains("e4 (MissionCreated: too long), and 2 more; fix"),
            "{seven}"
        );
        assert!(!seven.contains("e5"), "{seven}");
    }

    #[test]
    fn quarantined_rows_are_named_with_their_reason() {
        let rows: Vec<QuarantinedRow> = (0..6)
            .map(|i| QuarantinedRow {
                event_id: format!("q{i}"),
                event_type: "T".into(),
                reason: "not JSON".into(),
                quarantined_at: "now".into(),
            })
            .collect();
        let msg = SyncError::EventsQuarantined(rows).to_string();
        assert!(
            msg.starts_with("6 queued row(s) did not decode as events and were quarantined, never sent: q0 (T: not JSON), "),
            "{msg}"
        );
        assert!(msg.contains("q4 (T: not JSON), and 1 more; see"), "{msg}");
    }

    #[test]
    fn every_failure_has_its_diagnostic_code() {
        let saas = || SaasError::Connect {
            url: "http://127.0.0.1:9".into(),
            detail: "refused".into(),
        };
        let io = || std::io::Error::other("denied");
        let cases: Vec<(SyncError, &str)> = vec![
            (
                SyncError::NotAuthenticated { detail: None },
                "sync.server_auth_failure",
            ),
            (
                SyncError::UnreadableSession(StoreError::Decrypt { path: "s".into() }),
                "sync.server_auth_failure",
            ),
            (SyncError::Unauthorized, "sync.server_auth_failure"),
            (SyncError::Forbidden, "sync.server_auth_failure"),
            (
                SyncError::NoPrivateTeam { queued: 1 },
                "sync.direct_ingress_missing_private_team",
            ),
            (
                SyncError::RefreshInProgress,
                "sync.auth_refresh_in_progress",
            ),
            (
                SyncError::DrainLockUnavailable,
                "sync.final_sync_lock_unavailable",
            ),
            (
                SyncError::ServerUnavailable(saas()),
                "sync.server_unavailable",
            ),
            (SyncError::NoServer, "sync.server_unavailable"),
            (
                SyncError::DeadlineReached { remaining: 2 },
                "sync.server_unavailable",
            ),
            (
                SyncError::EventsRejected(rejected(1)),
                "sync.events_rejected",
            ),
            (
                SyncError::EventsQuarantined(Vec::new()),
                "sync.events_quarantined",
            ),
            (
                SyncError::Outbox(OutboxError::Busy { path: "o".into() }),
                "sync.local_state_unavailable",
            ),
            (
                SyncError::Lock {
                    path: "l".into(),
                    source: io(),
                },
                "sync.local_state_unavailable",
            ),
            (
                SyncError::Config(crate::runtime_config::ConfigError::Read {
                    path: "c".into(),
                    source: io(),
                }),
                "sync.configuration_invalid",
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.code().as_str(), code, "{e}");
        }
    }

    #[test]
    fn auth_failures_become_sync_failures_that_say_why() {
        let cases: Vec<(AuthError, &str)> = vec![
            (AuthError::NotAuthenticated, NOT_AUTHENTICATED),
            (
                AuthError::RefreshExpired,
                "Run `spec-kitty auth login`. (the refresh token expired)",
            ),
            (
                AuthError::RefreshRejected,
                "(the server refused the refresh token)",
            ),
            (
                AuthError::RefreshInProgress {
                    waited_ms: 1,
                    lock: "l".into(),
                },
                "is refreshing the access token; events stay queued",
            ),
            (AuthError::NoServer, "no spec-kitty service is configured"),
            (
                AuthError::Store(StoreError::Decrypt { path: "s".into() }),
                "the session store is unreadable",
            ),
            (
                AuthError::Saas(SaasError::Connect {
                    url: "u".into(),
                    detail: "x".into(),
                }),
                "the spec-kitty service is unavailable",
            ),
            (
                AuthError::Lock {
                    path: "the-lock".into(),
                    source: std::io::Error::other("x"),
                },
                "cannot use the lock file the-lock",
            ),
        ];
        for (auth, words) in cases {
            let sync = SyncError::from(auth).to_string();
            assert!(sync.contains(words), "{sync:?} lacks {words:?}");
        }
        assert_eq!(
            SyncError::from(AuthError::NotAuthenticated).to_string(),
            NOT_AUTHENTICATED
        );
    }
}

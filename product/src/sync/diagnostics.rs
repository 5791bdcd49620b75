//! Sync diagnostic codes (**interop**: the reference's exact strings) and the line format.

use std::fmt;
use std::str::FromStr;

/// A sync diagnostic code.
///
/// ```
/// use spec_kitty::sync::diagnostics::SyncDiagnosticCode;
/// let code: SyncDiagnosticCode = "sync.server_auth_failure".parse().unwrap();
/// assert_eq!(code, SyncDiagnosticCode::ServerAuthFailure);
/// assert_eq!(code.as_str(), "sync.server_auth_failure");
/// let new: SyncDiagnosticCode = "sync.some_future_code".parse().unwrap();
/// assert_eq!(new, SyncDiagnosticCode::Unrecognized("sync.some_future_code".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SyncDiagnosticCode {
    /// Another process held the outbox drain lock past the budget.
    FinalSyncLockUnavailable,
    /// Another process held the refresh lock past the budget.
    AuthRefreshInProgress,
    /// The reference's websocket was offline (never emitted by this implementation).
    WebsocketOffline,
    /// The reference's event loop was unavailable (never emitted by this implementation).
    EventLoopUnavailable,
    /// No usable session, or a 401 after one refresh.
    ServerAuthFailure,
    /// The session has no private team, so direct ingress was skipped.
    DirectIngressMissingPrivateTeam,
    /// Transport failure, timeout or 5xx: the server is unreachable, not an auth failure.
    ServerUnavailable,
    /// Local sync state (the outbox database or a lock file) could not be used.
    LocalStateUnavailable,
    /// The sync configuration (service URL, config.toml) is unusable: fix it, retrying cannot help.
    ConfigurationInvalid,
    /// The server rejected events too often; they are parked.
    EventsRejected,
    /// Queued rows did not decode and were quarantined.
    EventsQuarantined,
    /// A code this build does not know (from a newer implementation); kept verbatim.
    Unrecognized(String),
}

impl SyncDiagnosticCode {
    /// Every code this build emits or knows, in a stable order.
    pub const KNOWN: [SyncDiagnosticCode; 11] = [
        Self::FinalSyncLockUnavailable,
        Self::AuthRefreshInProgress,
        Self::WebsocketOffline,
        Self::EventLoopUnavailable,
        Self::ServerAuthFailure,
        Self::DirectIngressMissingPrivateTeam,
        Self::ServerUnavailable,
        Self::LocalStateUnavailable,
        Self::ConfigurationInvalid,
        Self::EventsRejected,
        Self::EventsQuarantined,
    ];

    /// The exact wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unrecognized(s) => s,
            known => known.known_str().unwrap_or_default(),
        }
    }

    /// The wire string of a code this build knows (`None` for [`Self::Unrecognized`]).
    pub fn known_str(&self) -> Option<&'static str> {
        Some(match self {
            Self::FinalSyncLockUnavailable => "sync.final_sync_lock_unavailable",
            Self::AuthRefreshInProgress => "sync.auth_refresh_in_progress",
            Self::WebsocketOffline => "sync.websocket_offline",
            Self::EventLoopUnavailable => "sync.event_loop_unavailable",
            Self::ServerAuthFailure => "sync.server_auth_failure",
            Self::DirectIngressMissingPrivateTeam => "sync.direct_ingress_missing_private_team",
            Self::ServerUnavailable => "sync.server_unavailable",
            Self::LocalStateUnavailable => "sync.local_state_unavailable",
            Self::ConfigurationInvalid => "sync.configuration_invalid",
            Self::EventsRejected => "sync.events_rejected",
            Self::EventsQuarantined => "sync.events_quarantined",
            Self::Unrecognized(_) => return None,
        })
    }
}

impl fmt::Display for SyncDiagnosticCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not a diagnostic code at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a sync diagnostic code (expected `sync.<name>`)")]
pub struct NotACode(pub String);

impl FromStr for SyncDiagnosticCode {
    type Err = NotACode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(known) = Self::KNOWN.iter().find(|c| c.as_str() == s) {
            return Ok(known.clone());
        }
        let valid = s.strip_prefix("sync.").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
        if valid {
            Ok(Self::Unrecognized(s.to_string()))
        } else {
            Err(NotACode(s.to_string()))
        }
    }
}

/// One parsed `sync_diagnostic` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticLine {
    /// `warning` or `error`.
    pub severity: String,
    /// The code.
    pub code: SyncDiagnosticCode,
    /// Whether it was fatal.
    pub fatal: bool,
    /// The phase (`final_sync`).
    pub phase: String,
    /// The message (rest of the line).
    pub message: String,
}

/// The line prefix.
pub const LINE_PREFIX: &str = "sync_diagnostic ";

impl DiagnosticLine {
    /// Parse one line of the reference format; `None` when it is not a diagnostic line.
    ///
    /// ```
    /// use spec_kitty::sync::diagnostics::{DiagnosticLine, SyncDiagnosticCode};
    /// let line = "sync_diagnostic severity=warning diagnostic_code=sync.server_unavailable fatal=false sync_phase=final_sync message=down: 503";
    /// let d = DiagnosticLine::parse(line).unwrap();
    /// assert_eq!(d.code, SyncDiagnosticCode::ServerUnavailable);
    /// assert_eq!(d.message, "down: 503");
    /// ```
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.trim_end().strip_prefix(LINE_PREFIX)?;
        let (head, message) = match rest.find(" message=") {
            Some(i) => (&rest[..i], rest[i + " message=".len()..].to_string()),
            None => (rest, String::new()),
        };
        let mut severity = None;
        let mut code = None;
        let mut fatal = None;
        let mut phase = None;
        for pair in head.split(' ') {
            let (k, v) = pair.split_once('=')?;
            match k {
                "severity" => severity = Some(v.to_string()),
                "diagnostic_code" => code = v.parse().ok(),
                "fatal" => fatal = v.parse().ok(),
                "sync_phase" => phase = Some(v.to_string()),
                _ => {}
            }
        }
        Some(Self {
            severity: severity?,
            code: code?,
            fatal: fatal?,
            phase: phase?,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_codes_parse_and_unknown_ones_are_kept() {
        for ok in ["sync.some_future_code", "sync.a", "sync.v2_thing_9"] {
            assert_eq!(
                ok.parse::<SyncDiagnosticCode>(),
                Ok(SyncDiagnosticCode::Unrecognized(ok.into())),
                "{ok}"
            );
        }
        for bad in [
            "sync.",
            "sync",
            "other.code",
            "sync.Upper",
            "sync.with-dash",
            "sync.with space",
            "",
            "xsync.code",
        ] {
            assert_eq!(
                bad.parse::<SyncDiagnosticCode>(),
                Err(NotACode(bad.into())),
                "{bad:?} must not parse"
            );
        }
        for known in SyncDiagnosticCode::KNOWN {
            assert_eq!(
                known.as_str().parse::<SyncDiagnosticCode>(),
                Ok(known.clone())
            );
        }
    }

    #[test]
    fn the_message_is_everything_after_its_key() {
        let line = "sync_diagnostic severity=warning diagnostic_code=sync.server_auth_failure fatal=false sync_phase=final_sync message=Not authenticated: no valid access token. Run `spec-kitty auth login`. a=b";
        let d = DiagnosticLine::parse(line).unwrap();
        assert_eq!(
            d.message,
            "Not authenticated: no valid access token. Run `spec-kitty auth login`. a=b"
        );
        assert_eq!(d.severity, "warning");
        assert_eq!(d.phase, "final_sync");
        assert!(!d.fatal);
        assert_eq!(d.code, SyncDiagnosticCode::ServerAuthFailure);
        assert!(DiagnosticLine::parse("sync_diagnostic severity=warning").is_none());
        assert!(DiagnosticLine::parse("not a diagnostic").is_none());
    }
}

//! The typed error of a command, its `error_code` and exit code.

use crate::auth::login::LoginError;
use crate::auth::store::StoreError;
use crate::auth::tokens::AuthError;
use crate::paths::PathError;
use crate::runtime_config::ConfigError;
use crate::saas::SaasError;

/// Why a command failed. Each variant's message says what was wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The runtime root could not be resolved.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The session store is unreadable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Login failed.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// The hosted service failed.
    #[error(transparent)]
    Saas(#[from] SaasError),
    /// Token handling failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The runtime config is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No hosted service is configured.
    #[error(
        "no spec-kitty service is configured; set SPEC_KITTY_SAAS_URL (or [sync].server_url in {config})"
    )]
    NoServer {
        /// The config file that could hold it.
        config: String,
    },
    /// The command needs a session.
    #[error("{}", crate::auth::tokens::NOT_AUTHENTICATED)]
    NotAuthenticated,
    /// A mission command failed.
    #[error(transparent)]
    Mission(#[from] crate::mission::MissionError),
    /// A sync command failed.
    #[error(transparent)]
    Sync(#[from] crate::sync::error::SyncError),
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] crate::sync::outbox::OutboxError),
    /// An operator env file exists but cannot be read.
    #[error(transparent)]
    EnvFile(#[from] crate::env_file::EnvFileError),
    /// No built-in command and no plugin of that name.
    #[error("{0}")]
    PluginNotFound(String),
    /// A planning command failed.
    #[error(transparent)]
    Planning(#[from] crate::mission::planning::PlanningError),
    /// A work-package command failed.
    #[error(transparent)]
    Tasks(Box<crate::mission::tasks::TasksError>),
    /// An execution command failed.
    #[error(transparent)]
    Exec(Box<crate::mission::execution::ExecError>),
    /// The input is one only the reference handles (and it is run instead, when there is one).
    #[error(
        "{why}, which only the reference CLI handles, and none was found ({missing}): install it (`{}`)",
        super::delegate::INSTALL_LINE
    )]
    NeedsReference {
        /// What kitty leaves to the reference.
        why: String,
        /// Why no reference was found (filled in when the delegation fails).
        missing: String,
    },
    /// A command failed with its own code.
    #[error("{message}")]
    Coded {
        /// The stable error code.
        code: &'static str,
        /// What was wrong and what to do.
        message: String,
    },
}

impl From<crate::mission::tasks::TasksError> for CommandError {
    fn from(e: crate::mission::tasks::TasksError) -> Self {
        Self::Tasks(Box::new(e))
    }
}

impl From<crate::mission::execution::ExecError> for CommandError {
    fn from(e: crate::mission::execution::ExecError) -> Self {
        Self::Exec(Box::new(e))
    }
}

impl From<CommandError> for crate::output::Failure {
    fn from(err: CommandError) -> Self {
        Self {
            error_code: err.error_code(),
            message: err.to_string(),
            details: err.details(),
            exit_code: err.exit_code(),
        }
    }
}

impl CommandError {
    /// The stable `error_code` of the JSON error document.
    pub fn error_code(&self) -> &'static str {
        match self {
            Self::Path(_) => "runtime_root_unresolved",
            Self::Store(_) => "session_store_unreadable",
            Self::Login(LoginError::AccessDenied) => "login_denied",
            Self::Login(LoginError::Expired) => "login_expired",
            Self::Login(LoginError::UnusableAccount(_)) => "login_unusable_account",
            Self::Login(LoginError::Saas(e)) | Self::Saas(e) => saas_code(e),
            Self::Auth(AuthError::Store(_)) => "session_store_unreadable",
            Self::Auth(AuthError::Saas(e)) => saas_code(e),
            Self::Auth(AuthError::RefreshInProgress { .. }) => "auth_refresh_in_progress",
            Self::Auth(AuthError::NoServer) | Self::NoServer { .. } => "no_server_configured",
            Self::Auth(AuthError::Lock { .. }) => "lock_failed",
            Self::Auth(
                AuthError::NotAuthenticated
                | AuthError::RefreshExpired
                | AuthError::RefreshRejected,
            )
            | Self::NotAuthenticated => "not_authenticated",
            Self::Config(_) => "config_invalid",
            Self::Mission(e) => e.code(),
            Self::Sync(e) => sync_code(e),
            Self::Outbox(_) => "outbox_unavailable",
            Self::EnvFile(_) => "env_file_unreadable",
            Self::PluginNotFound(_) => "plugin_not_found",
            Self::Planning(e) => e.code(),
            Self::Tasks(e) => e.code(),
            Self::Exec(e) => e.code(),
            Self::NeedsReference { .. } => "reference_not_found",
            Self::Coded { code, .. } => code,
        }
    }

    /// Extra keys of the JSON error document (remediation and the like).
    pub fn details(&self) -> serde_json::Map<String, serde_json::Value> {
        match self {
            Self::Mission(e) => e.details(),
            Self::Planning(e) => e.details(),
            Self::Tasks(e) => e.details(),
            Self::Exec(e) => e.details(),
            Self::Sync(crate::sync::error::SyncError::EventsRejected(events)) => {
                let mut m = serde_json::Map::new();
                m.insert("rejected_events".into(), serde_json::json!(events));
                m
            }
            Self::Sync(crate::sync::error::SyncError::EventsQuarantined(rows)) => {
                let mut m = serde_json::Map::new();
                m.insert("quarantined_rows".into(), serde_json::json!(rows));
                m
            }
            _ => serde_json::Map::new(),
        }
    }

    /// The process exit code: 127 (as a shell's "command not found") when no such plugin
    /// exists, so it differs from a plugin's own failures; 1 for every other failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::PluginNotFound(_) => 127,
            Self::Planning(e) => e.exit_code(),
            Self::Tasks(e) => e.exit_code(),
            Self::Exec(e) => e.exit_code(),
            _ => 1,
        }
    }
}

fn saas_code(e: &SaasError) -> &'static str {
    match e {
        SaasError::Connect { .. } => "server_unreachable",
        SaasError::Timeout { .. } => "server_timeout",
        SaasError::Status { .. } => "server_error",
        SaasError::Protocol { .. } | SaasError::TooLarge { .. } => "server_protocol",
        SaasError::Decode { .. } => "server_protocol",
    }
}

/// `sync now` reports its failure under the diagnostic code's name. `SyncError::code` only
/// produces codes this build knows.
fn sync_code(e: &crate::sync::error::SyncError) -> &'static str {
    e.code().known_str().unwrap_or("sync.unrecognized")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::error::SyncError;

    fn url() -> String {
        "http://127.0.0.1:9/x".into()
    }

    #[test]
    fn every_command_failure_has_its_code_and_exit_status() {
        let io = || std::io::Error::other("denied");
        let cases: Vec<(CommandError, &str)> = vec![
            (
                PathError::NoHome { home: "HOME" }.into(),
                "runtime_root_unresolved",
            ),
            (
                StoreError::Decrypt { path: "s".into() }.into(),
                "session_store_unreadable",
            ),
            (LoginError::AccessDenied.into(), "login_denied"),
            (LoginError::Expired.into(), "login_expired"),
            (
                LoginError::UnusableAccount("no email").into(),
                "login_unusable_account",
            ),
            (
                LoginError::Saas(SaasError::Timeout {
                    url: url(),
                    timeout_ms: 1,
                })
                .into(),
                "server_timeout",
            ),
            (
                AuthError::Store(StoreError::Decrypt { path: "s".into() }).into(),
                "session_store_unreadable",
            ),
            (
                AuthError::Saas(SaasError::Connect {
                    url: url(),
                    detail: "refused".into(),
                })
                .into(),
                "server_unreachable",
            ),
            (
                AuthError::RefreshInProgress {
                    waited_ms: 1,
                    lock: "l".into(),
                }
                .into(),
                "auth_refresh_in_progress",
            ),
            (AuthError::NoServer.into(), "no_server_configured"),
            (
                CommandError::NoServer { config: "c".into() },
                "no_server_configured",
            ),
            (
                AuthError::Lock {
                    path: "l".into(),
                    source: io(),
                }
                .into(),
                "lock_failed",
            ),
            (AuthError::NotAuthenticated.into(), "not_authenticated"),
            (AuthError::RefreshExpired.into(), "not_authenticated"),
            (AuthError::RefreshRejected.into(), "not_authenticated"),
            (CommandError::NotAuthenticated, "not_authenticated"),
            (
                ConfigError::Read {
                    path: "c".into(),
                    source: io(),
                }
                .into(),
                "config_invalid",
            ),
            (
                crate::mission::MissionError::NotAGitRepo { dir: "d".into() }.into(),
                "not_a_git_repo",
            ),
            (SyncError::NoServer.into(), "sync.server_unavailable"),
            (
                crate::sync::outbox::OutboxError::Busy { path: "o".into() }.into(),
                "outbox_unavailable",
            ),
            (
                crate::env_file::EnvFileError {
                    path: "e".into(),
                    reason: "r".into(),
                    env: Box::default(),
                }
                .into(),
                "env_file_unreadable",
            ),
            (
                CommandError::PluginNotFound("no".into()),
                "plugin_not_found",
            ),
            (
                CommandError::Coded {
                    code: "sync_disabled",
                    message: "m".into(),
                },
                "sync_disabled",
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.error_code(), code, "{e}");
            let exit = if code == "plugin_not_found" { 127 } else { 1 };
            assert_eq!(e.exit_code(), exit, "{e}");
        }
    }

    #[test]
    fn every_service_failure_has_its_code() {
        let cases = [
            (
                SaasError::Connect {
                    url: url(),
                    detail: "d".into(),
                },
                "server_unreachable",
            ),
            (
                SaasError::Timeout {
                    url: url(),
                    timeout_ms: 5,
                },
                "server_timeout",
            ),
            (
                SaasError::Status {
                    method: "GET",
                    url: url(),
                    status: 500,
                    oauth: None,
                },
                "server_error",
            ),
            (
                SaasError::Protocol {
                    url: url(),
                    detail: "d".into(),
                },
                "server_protocol",
            ),
            (
                SaasError::TooLarge {
                    url: url(),
                    limit: 1,
                },
                "server_protocol",
            ),
            (
                SaasError::Decode {
                    url: url(),
                    detail: "d".into(),
                },
                "server_protocol",
            ),
        ];
        for (e, code) in cases {
            assert_eq!(CommandError::Saas(e).error_code(), code);
        }
    }

    #[test]
    fn parked_and_quarantined_events_are_listed_in_the_details() {
        let parked = CommandError::Sync(SyncError::EventsRejected(vec![
            crate::sync::outbox::RejectedEvent {
                event_id: "e1".into(),
                event_type: "T".into(),
                retry_count: 3,
                reason: None,
            },
        ]));
        let details = parked.details();
        assert_eq!(details.len(), 1);
        assert_eq!(details["rejected_events"][0]["event_id"], "e1");
        let quarantined = CommandError::Sync(SyncError::EventsQuarantined(vec![
            crate::sync::outbox::QuarantinedRow {
                event_id: "q1".into(),
                event_type: "T".into(),
                reason: "r".into(),
                quarantined_at: "t".into(),
            },
        ]));
        assert_eq!(
            quarantined.details()["quarantined_rows"][0]["event_id"],
            "q1"
        );
        assert!(CommandError::NotAuthenticated.details().is_empty());
        assert!(CommandError::Sync(SyncError::NoServer).details().is_empty());
    }
}

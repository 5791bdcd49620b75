//! Request and response bodies of the hosted service (SPEC §3, §5).

use serde::{Deserialize, Serialize};

/// The OAuth client id of the CLI.
pub const CLIENT_ID: &str = "cli_native";
/// The device-code grant type (RFC 8628).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The sync protocol version sent with every batch.
pub const SYNC_PROTOCOL: &str = "2.0";

/// `POST /oauth/device` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    /// Opaque code the CLI polls with. Never printed.
    pub device_code: String,
    /// Code the user types.
    pub user_code: String,
    /// Where the user goes.
    pub verification_uri: String,
    /// The same with the code filled in, if offered.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until the device code expires.
    #[serde(default = "default_expires_in")]
    pub expires_in: u64,
    /// Seconds between polls.
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_expires_in() -> u64 {
    900
}
fn default_interval() -> u64 {
    5
}

/// `POST /oauth/token` success.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenGrant {
    /// New access token.
    pub access_token: String,
    /// New refresh token (the old one is kept when absent).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Access token lifetime in seconds.
    #[serde(default = "default_token_lifetime")]
    pub expires_in: i64,
    /// Refresh token lifetime in seconds, if the server says.
    #[serde(default)]
    pub refresh_token_expires_in: Option<i64>,
    /// Refresh token expiry as an absolute ISO 8601 time (preferred over the relative form).
    #[serde(default)]
    pub refresh_token_expires_at: Option<String>,
    /// Granted scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Server session id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Server generation counter.
    #[serde(default)]
    pub generation: Option<i64>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

fn default_token_lifetime() -> i64 {
    3600
}

/// An OAuth error body (`{"error": "...", "error_description": "..."}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthError {
    /// The error code (`authorization_pending`, `slow_down`, `expired_token`, `access_denied`, ...).
    pub error: String,
    /// Optional human text.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// One membership in a `GET /api/v1/me` response (auth turns it into its session's team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Team id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The user's role in the team.
    pub role: String,
    /// Whether this is the user's private teamspace (absent: no).
    #[serde(default)]
    pub is_private_teamspace: bool,
    /// URL slug (absent: empty, which the session fills with the id).
    #[serde(default)]
    pub slug: String,
}

/// `GET /api/v1/me` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Me {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Display name (the reference uses the email when absent).
    #[serde(default)]
    pub name: Option<String>,
    /// Memberships.
    #[serde(default)]
    pub teams: Vec<Team>,
    /// Refresh token expiry, when the service reports it here rather than with the tokens.
    #[serde(default)]
    pub refresh_token_expires_at: Option<String>,
}

/// One per-event result of a batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventResult {
    /// The event.
    pub event_id: String,
    /// `success`, `duplicate`, `pending`, `queued` or `rejected`; absent or `null` counts as
    /// not yet processed (kept without penalty).
    #[serde(default)]
    pub status: Option<String>,
    /// Why, for a rejected event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /api/v1/events/batch/` response.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BatchResponse {
    /// Per-event results.
    #[serde(default)]
    pub results: Vec<EventResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_authorization_without_timing_gets_the_rfc_defaults() {
        let auth: DeviceAuthorization = serde_json::from_str(
            r#"{"device_code": "d", "user_code": "U", "verification_uri": "http://x/d"}"#,
        )
        .unwrap();
        // RFC 8628: a device code lives 15 minutes unless said otherwise; poll every 5 s.
        assert_eq!((auth.expires_in, auth.interval), (900, 5));
        assert_eq!(auth.verification_uri_complete, None);
    }

    #[test]
    fn a_token_grant_defaults_its_lifetime_and_never_shows_its_tokens() {
        let grant: TokenGrant = serde_json::from_str(
            r#"{"access_token": "acc-SECRET", "refresh_token": "ref-SECRET"}"#,
        )
        .unwrap();
        assert_eq!(grant.expires_in, 3600);
        assert_eq!(
            (grant.refresh_token_expires_in, grant.generation),
            (None, None)
        );
        assert_eq!(format!("{grant:?}"), "TokenGrant { expires_in: 3600, .. }");
        let grant: TokenGrant =
            serde_json::from_str(r#"{"access_token": "a", "expires_in": 60}"#).unwrap();
        assert_eq!(grant.expires_in, 60);
    }
}

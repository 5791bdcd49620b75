//! One blocking HTTP agent for the hosted service, with timeouts and typed errors.

use std::io::Write;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::wire::{
    BatchResponse, CLIENT_ID, DEVICE_GRANT, DeviceAuthorization, Me, OAuthError, SYNC_PROTOCOL,
    TokenGrant,
};

/// Every way a call to the hosted service can fail. None is swallowed.
#[derive(Debug, thiserror::Error)]
pub enum SaasError {
    /// The connection was refused or could not be made.
    #[error(
        "cannot connect to the spec-kitty service at {url}: {detail}; check SPEC_KITTY_SAAS_URL and your network"
    )]
    Connect {
        /// The URL called.
        url: String,
        /// The transport's words.
        detail: String,
    },
    /// The server did not answer in time.
    #[error(
        "the spec-kitty service at {url} did not answer within {timeout_ms} ms; try again later"
    )]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout.
        timeout_ms: u128,
    },
    /// The server answered with an unexpected status.
    #[error("the spec-kitty service answered {status} to {method} {url}{}", oauth.as_ref().map(|o| format!(" ({})", o.error)).unwrap_or_default())]
    Status {
        /// Method.
        method: &'static str,
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// The OAuth error body, when there was one.
        oauth: Option<OAuthError>,
    },
    /// The body was not what the protocol says.
    #[error("the spec-kitty service sent an unexpected answer to {url}: {detail}")]
    Decode {
        /// The URL called.
        url: String,
        /// What was wrong.
        detail: String,
    },
}

impl SaasError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The client of the hosted service.
///
/// ```
/// use std::time::Duration;
/// let client = spec_kitty::saas::SaasClient::new("http://127.0.0.1:9/", Duration::from_millis(50));
/// assert_eq!(client.base_url(), "http://127.0.0.1:9");
/// ```
#[derive(Debug, Clone)]
pub struct SaasClient {
    base: String,
    agent: ureq::Agent,
    timeout: Duration,
}

impl SaasClient {
    /// A client for `base_url` with one connect and read `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Proxies would be read from the process environment behind our back: none.
            .proxy(None)
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            .timeout_send_body(Some(timeout))
            .user_agent(concat!("spec-kitty/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            base: base_url.trim_end_matches('/').to_string(),
            agent: config.into(),
            timeout,
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn transport(&self, url: &str, e: ureq::Error) -> SaasError {
        match e {
            ureq::Error::Timeout(_) => SaasError::Timeout {
                url: url.to_string(),
                timeout_ms: self.timeout.as_millis(),
            },
            other => SaasError::Connect {
                url: url.to_string(),
                detail: other.to_string(),
            },
        }
    }

    fn finish<T: DeserializeOwned>(
        &self,
        method: &'static str,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, SaasError> {
        let mut resp = result.map_err(|e| self.transport(url, e))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_vec()
            .map_err(|e| self.transport(url, e))?;
        if !(200..300).contains(&status) {
            return Err(SaasError::Status {
                method,
                url: url.to_string(),
                status,
                oauth: serde_json::from_slice(&body).ok(),
            });
        }
        serde_json::from_slice(&body).map_err(|e| SaasError::Decode {
            url: url.to_string(),
            detail: e.to_string(),
        })
    }

    fn post_form<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, SaasError> {
        let url = self.url(path);
        tracing::debug!(%url, "POST (form)");
        let result = self.agent.post(&url).send_form(form.iter().copied());
        self.finish("POST", &url, result)
    }

    /// `POST /oauth/device`: start a device authorization.
    pub fn device_authorize(&self) -> Result<DeviceAuthorization, SaasError> {
        self.post_form(
            "/oauth/device",
            &[("client_id", CLIENT_ID), ("scope", "offline_access")],
        )
    }

    /// `POST /oauth/token` with the device code.
    pub fn poll_device_token(&self, device_code: &str) -> Result<TokenGrant, SaasError> {
        self.post_form(
            "/oauth/token",
            &[
                ("grant_type", DEVICE_GRANT),
                ("device_code", device_code),
                ("client_id", CLIENT_ID),
            ],
        )
    }

    /// `POST /oauth/token` with a refresh token.
    pub fn refresh(&self, refresh_token: &str) -> Result<TokenGrant, SaasError> {
        self.post_form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", CLIENT_ID),
            ],
        )
    }

    /// `POST /oauth/revoke`: revoke a refresh token.
    pub fn revoke(&self, refresh_token: &str) -> Result<(), SaasError> {
        let _: serde_json::Value = self.post_form(
            "/oauth/revoke",
            &[
                ("token", refresh_token),
                ("token_type_hint", "refresh_token"),
                ("client_id", CLIENT_ID),
            ],
        )?;
        Ok(())
    }

    /// `GET /api/v1/me` with a bearer token.
    pub fn me(&self, access_token: &str) -> Result<Me, SaasError> {
        let url = self.url("/api/v1/me");
        tracing::debug!(%url, "GET");
        let result = self
            .agent
            .get(&url)
            .header("Authorization", format!("Bearer {access_token}"))
            .call();
        self.finish("GET", &url, result)
    }

    /// `POST /api/v1/events/batch/`: gzip of `{"events": [...]}`.
    pub fn post_batch<T: serde::Serialize>(
        &self,
        access_token: &str,
        events: &[T],
    ) -> Result<BatchResponse, SaasError> {
        let url = self.url("/api/v1/events/batch/");
        let body = serde_json::to_vec(&serde_json::json!({ "events": events })).map_err(|e| {
            SaasError::Decode {
                url: url.clone(),
                detail: e.to_string(),
            }
        })?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let gz = gz
            .write_all(&body)
            .and_then(|()| gz.finish())
            .map_err(|e| SaasError::Decode {
                url: url.clone(),
                detail: e.to_string(),
            })?;
        tracing::debug!(%url, events = events.len(), "POST batch");
        let result = self
            .agent
            .post(&url)
            .header("Authorization", format!("Bearer {access_token}"))
            .header("Content-Encoding", "gzip")
            .header("Content-Type", "application/json")
            .header("X-Spec-Kitty-Sync-Protocol", SYNC_PROTOCOL)
            .send(&gz[..]);
        self.finish("POST", &url, result)
    }
}

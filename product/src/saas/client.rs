//! One blocking HTTP agent for the hosted service, with timeouts and typed errors.

use std::io::Write;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::url::ServiceUrl;
use super::wire::{
    BatchResponse, CLIENT_ID, DEVICE_GRANT, DeviceAuthorization, Me, OAuthError, SYNC_PROTOCOL,
    TokenGrant,
};

/// The largest answer body read from the service (its answers are small JSON documents).
pub const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

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
    /// The answer was not HTTP as expected (garbage, a redirect loop, headers too large).
    #[error(
        "the spec-kitty service at {url} did not answer with valid HTTP ({detail}); check that SPEC_KITTY_SAAS_URL names the spec-kitty service"
    )]
    Protocol {
        /// The URL called.
        url: String,
        /// The transport's words (secrets of the URL scrubbed).
        detail: String,
    },
    /// The answer's body was larger than any answer of the protocol can be.
    #[error(
        "the spec-kitty service at {url} sent an answer larger than {limit} bytes; check that SPEC_KITTY_SAAS_URL names the spec-kitty service"
    )]
    TooLarge {
        /// The URL called.
        url: String,
        /// The limit.
        limit: u64,
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
/// use spec_kitty::internals::saas::url::ServiceUrl;
/// let url = ServiceUrl::parse("http://u:p@127.0.0.1:9/").unwrap();
/// let client = spec_kitty::internals::saas::SaasClient::new(&url, Duration::from_millis(50));
/// // Nothing listens there: the error names the URL with its credentials redacted.
/// let e = client.me("token").unwrap_err().to_string();
/// assert!(e.contains("http://***@127.0.0.1:9/api/v1/me"), "{e}");
/// ```
#[derive(Debug, Clone)]
pub struct SaasClient {
    base: ServiceUrl,
    agent: ureq::Agent,
    timeout: Duration,
}

impl SaasClient {
    /// A client for `base_url` with one connect and read `timeout`.
    pub fn new(base_url: &ServiceUrl, timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is reported as the status it is (never followed, so never looped).
            .max_redirects(0)
            // Proxies would be read from the process environment behind our back: none.
            .proxy(None)
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_recv_body(Some(timeout))
            .timeout_send_body(Some(timeout))
            .user_agent(concat!("spec-kitty/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            base: base_url.clone(),
            agent: config.into(),
            timeout,
        }
    }

    /// The same client (the same agent) with each request's timeouts cut to at most `limit`: a
    /// call made inside a deadline never outlives it.
    #[must_use]
    pub fn capped(&self, limit: Duration) -> Self {
        Self {
            timeout: self.timeout.min(limit),
            ..self.clone()
        }
    }

    /// `request` with this client's connect and read timeouts (the agent's, or a
    /// [`capped`](Self::capped) lower one).
    fn timed<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let t = Some(self.timeout);
        request
            .config()
            // The whole request, not only each of its phases, ends within the timeout.
            .timeout_global(t)
            .timeout_connect(t)
            .timeout_recv_response(t)
            .timeout_recv_body(t)
            .timeout_send_body(t)
            .build()
    }

    /// The request URL of `path`, and the same URL as it may be shown.
    fn url(&self, path: &str) -> (String, String) {
        (
            self.base.request(path),
            super::url::shorten(&self.base.redacted_request(path)),
        )
    }

    /// Classify a transport failure; `url` is the shown (redacted) URL, and the library's own
    /// words are scrubbed of the URL's secrets.
    fn transport(&self, url: &str, e: ureq::Error) -> SaasError {
        let url = url.to_string();
        let detail = self.base.scrub(&e.to_string());
        match e {
            ureq::Error::Timeout(_) | ureq::Error::BodyStalled => SaasError::Timeout {
                url,
                timeout_ms: self.timeout.as_millis(),
            },
            ureq::Error::BodyExceedsLimit(limit) => SaasError::TooLarge { url, limit },
            // Redirects are never followed (max_redirects 0), so the first two cannot happen.
            ureq::Error::TooManyRedirects
            | ureq::Error::RedirectFailed
            | ureq::Error::Protocol(_)
            | ureq::Error::LargeResponseHeader(..) => SaasError::Protocol { url, detail },
            _ => SaasError::Connect { url, detail },
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
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
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
        let (request, url) = self.url(path);
        tracing::debug!(%url, "POST (form)");
        let result = self
            .timed(self.agent.post(&request))
            .send_form(form.iter().copied());
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
        let (request, url) = self.url("/api/v1/me");
        tracing::debug!(%url, "GET");
        let result = self
            .timed(self.agent.get(&request))
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
        let (request, url) = self.url("/api/v1/events/batch/");
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
            .timed(self.agent.post(&request))
            .header("Authorization", format!("Bearer {access_token}"))
            .header("Content-Encoding", "gzip")
            .header("Content-Type", "application/json")
            .header("X-Spec-Kitty-Sync-Protocol", SYNC_PROTOCOL)
            .send(&gz[..]);
        self.finish("POST", &url, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A one-shot server answering any request with `body` as JSON.
    fn serve_once(body: Vec<u8>) -> ServiceUrl {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        });
        ServiceUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap()
    }

    #[test]
    fn a_redirect_is_never_followed_but_reported_as_its_status() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(
                    b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        let url = ServiceUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let e = SaasClient::new(&url, Duration::from_secs(10))
            .me("t")
            .unwrap_err();
        assert!(matches!(e, SaasError::Status { status: 302, .. }), "{e}");
    }

    fn me_of_size(size: usize) -> Vec<u8> {
        let frame = r#"{"user_id": "u", "email": "e@example.com", "teams": [], "name": ""}"#;
        let name = "n".repeat(size - frame.len());
        let body = frame.replace(r#""name": """#, &format!(r#""name": "{name}""#));
        assert_eq!(body.len(), size);
        body.into_bytes()
    }

    #[test]
    fn answers_up_to_four_mebibytes_are_read_and_larger_ones_refused() {
        let limit = 4 * 1024 * 1024;
        let client = SaasClient::new(
            &serve_once(me_of_size(3 * 1024 * 1024)),
            Duration::from_secs(10),
        );
        let me = client.me("t").unwrap();
        assert!(me.name.unwrap().len() > 3 * 1024 * 1024 - 100);
        let client = SaasClient::new(&serve_once(me_of_size(limit + 1)), Duration::from_secs(10));
        let e = client.me("t").unwrap_err();
        assert!(
            matches!(
                e,
                SaasError::TooLarge {
                    limit: 4_194_304,
                    ..
                }
            ),
            "{e}"
        );
    }
}

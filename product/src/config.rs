//! The runtime configuration file `<root>/config.toml` and the server URL it may hold.

use serde::Deserialize;

use crate::env::{Env, vars};
use crate::paths::RuntimeRoot;
use crate::saas::url::ServiceUrl;

/// The config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The service URL is unusable (a configuration error, never retried as an outage).
    #[error("{error}; it comes from {origin}: fix it there")]
    InvalidUrl {
        /// `SPEC_KITTY_SAAS_URL` or the config file.
        origin: String,
        /// What is wrong, the URL redacted.
        error: crate::saas::url::UrlError,
    },
    /// The TOML is invalid.
    #[error("{path} is not valid TOML ({detail}); fix or remove it")]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// The parser's words.
        detail: String,
    },
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    sync: SyncSection,
}

#[derive(Debug, Default, Deserialize)]
struct SyncSection {
    server_url: Option<String>,
}

/// The hosted service URL: `SPEC_KITTY_SAAS_URL`, else `[sync].server_url` in `config.toml`.
pub fn server_url(env: &Env, root: &RuntimeRoot) -> Result<Option<ServiceUrl>, ConfigError> {
    if let Some(url) = env.non_empty(vars::SPEC_KITTY_SAAS_URL) {
        return ServiceUrl::parse(url)
            .map(Some)
            .map_err(|error| ConfigError::InvalidUrl {
                origin: vars::SPEC_KITTY_SAAS_URL.to_string(),
                error,
            });
    }
    let path = root.config_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    match file.sync.server_url.filter(|u| !u.trim().is_empty()) {
        None => Ok(None),
        Some(raw) => ServiceUrl::parse(&raw)
            .map(Some)
            .map_err(|error| ConfigError::InvalidUrl {
                origin: format!("[sync].server_url in {}", path.display()),
                error,
            }),
    }
}

//! The runtime configuration file `<root>/config.toml` and the server URL it may hold.

use serde::Deserialize;

use crate::env::{Env, vars};
use crate::paths::RuntimeRoot;

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
pub fn server_url(env: &Env, root: &RuntimeRoot) -> Result<Option<String>, ConfigError> {
    if let Some(url) = env.non_empty(vars::SPEC_KITTY_SAAS_URL) {
        return Ok(Some(url.to_string()));
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
    Ok(file.sync.server_url.filter(|u| !u.is_empty()))
}

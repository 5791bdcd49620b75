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

#[cfg(test)]
mod tests {
    use super::*;

    fn root_in(dir: &std::path::Path) -> RuntimeRoot {
        RuntimeRoot::resolve(&Env::from_pairs([(
            "SPEC_KITTY_HOME",
            dir.to_str().unwrap(),
        )]))
        .unwrap()
    }

    #[test]
    fn the_environment_wins_then_the_config_file_then_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_in(dir.path());
        let none = Env::default();
        assert!(server_url(&none, &root).unwrap().is_none(), "no file");
        std::fs::write(
            root.config_file(),
            "[sync]\nserver_url = \"https://u:p@file.example/\"\n",
        )
        .unwrap();
        let from_file = server_url(&none, &root).unwrap().unwrap();
        assert_eq!(from_file.redacted(), "https://***@file.example");
        let env = Env::from_pairs([("SPEC_KITTY_SAAS_URL", "http://127.0.0.1:9")]);
        assert_eq!(
            server_url(&env, &root).unwrap().unwrap().redacted(),
            "http://127.0.0.1:9"
        );
        std::fs::write(root.config_file(), "[sync]\nserver_url = \"  \"\n").unwrap();
        assert!(
            server_url(&none, &root).unwrap().is_none(),
            "a blank URL is no URL"
        );
        std::fs::write(root.config_file(), "[other]\nx = 1\n").unwrap();
        assert!(server_url(&none, &root).unwrap().is_none());
    }

    #[test]
    fn an_unusable_config_says_where_the_problem_is() {
        let dir = tempfile::tempdir().unwrap();
        let root = root_in(dir.path());
        let none = Env::default();
        std::fs::write(root.config_file(), "[sync\n").unwrap();
        let e = server_url(&none, &root).unwrap_err();
        assert!(
            matches!(e, ConfigError::Parse { .. }) && e.to_string().contains("is not valid TOML"),
            "{e}"
        );
        std::fs::write(
            root.config_file(),
            "[sync]\nserver_url = \"ftp://u:secret@h\"\n",
        )
        .unwrap();
        let e = server_url(&none, &root).unwrap_err().to_string();
        assert!(
            e.contains("[sync].server_url in ")
                && e.contains("fix it there")
                && !e.contains("secret"),
            "{e}"
        );
        let env = Env::from_pairs([("SPEC_KITTY_SAAS_URL", "nonsense")]);
        let e = server_url(&env, &root).unwrap_err().to_string();
        assert!(e.contains("it comes from SPEC_KITTY_SAAS_URL"), "{e}");
        std::fs::remove_file(root.config_file()).unwrap();
        std::fs::create_dir(root.config_file()).unwrap();
        let e = server_url(&none, &root).unwrap_err();
        assert!(
            matches!(e, ConfigError::Read { .. }) && e.to_string().starts_with("cannot read "),
            "{e}"
        );
    }
}

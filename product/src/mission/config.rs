//! `.kittify/config.yaml`: the project's uuid, slug and activated mission types.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::MissionError;

/// The default activated mission types of `spec-kitty init`.
pub const DEFAULT_MISSION_TYPES: &[&str] = &["software-dev", "research", "documentation"];

/// The project config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectConfig {
    /// The project.
    pub project: Project,
    /// Mission settings.
    pub missions: Missions,
}

/// The project section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Stable uuid.
    pub uuid: String,
    /// Slug.
    pub slug: String,
}

/// The missions section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missions {
    /// Activated mission types; the first is the default.
    #[serde(default)]
    pub activated: Vec<String>,
}

/// `<repo>/.kittify/config.yaml`.
pub fn config_path(repo: &Path) -> PathBuf {
    repo.join(".kittify").join("config.yaml")
}

/// `<repo>/kitty-specs`.
pub fn specs_dir(repo: &Path) -> PathBuf {
    repo.join("kitty-specs")
}

impl ProjectConfig {
    /// Load the config of the repository at `repo`.
    pub fn load(repo: &Path) -> Result<Self, MissionError> {
        let path = config_path(repo);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MissionError::NotInitialized { path });
            }
            Err(e) => return Err(MissionError::io(&path, e)),
        };
        serde_yaml_ng::from_str(&text).map_err(|e| MissionError::ConfigInvalid {
            path,
            detail: e.to_string(),
        })
    }

    /// The YAML text.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).unwrap_or_default()
    }
}

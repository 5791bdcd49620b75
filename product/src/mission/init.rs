//! `spec-kitty init`: write or repair `.kittify/config.yaml` and add the repository files the
//! reference's lifecycle needs (`repo_files`); `kitty-specs/` is made by the first create, as
//! the reference makes it.
//!
//! On an initialised repository `init` only adds what is missing (and migrates kitty 0.1's
//! `missions.activated`); it never changes the project's uuid, node_id or build_id, and keeps
//! every key it does not know. `--force` additionally applies an explicit `--project-slug` or
//! `--mission-type` over the existing values.

use std::path::{Path, PathBuf};

use super::MissionError;
use super::git::repo::Repo;
use super::project_config::{DEFAULT_MISSION_TYPES, InitDefaults, ProjectConfig, config_path};
use super::repo_files::RepoFiles;
use super::slug;
use crate::clock::Clock;
use crate::env::Env;
use crate::identity::MachineIdentity;

/// What `init` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct InitRequest {
    /// `--project-slug`.
    pub project_slug: Option<String>,
    /// `--mission-type` (repeatable).
    pub mission_types: Vec<String>,
    /// `--ai` (repeatable, or comma-separated).
    pub agents: Vec<String>,
    /// `--force`.
    pub force: bool,
}

impl InitRequest {
    /// The `--ai` agents, split at commas, trimmed, without empty names.
    pub fn agent_names(&self) -> Vec<String> {
        self.agents
            .iter()
            .flat_map(|a| a.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// What `init` did.
#[derive(Debug, Clone)]
pub struct Initialized {
    /// The repository top.
    pub top: PathBuf,
    /// The config as written.
    pub config: ProjectConfig,
    /// Whether a config existed before.
    pub existed: bool,
    /// The keys added (empty when nothing was missing).
    pub added: Vec<String>,
    /// What happened to `.gitignore`, `.gitattributes`, the merge drivers and `metadata.yaml`.
    pub files: RepoFiles,
}

/// Run `init` in the repository containing `cwd`.
pub fn init(
    env: &Env,
    identity: &MachineIdentity,
    cwd: &Path,
    clock: Clock,
    req: &InitRequest,
) -> Result<Initialized, MissionError> {
    let repo = Repo::discover(env, cwd)?;
    let path = config_path(repo.top());
    if let Some(s) = &req.project_slug {
        slug::validate(s)?;
    }
    let agents = req.agent_names();
    let defaults = InitDefaults {
        slug: req
            .project_slug
            .clone()
            .unwrap_or_else(|| project_slug(repo.origin_url().as_deref(), repo.top())),
        node_id: crate::identity::node_id(
            identity.hostname(),
            &crate::identity::user_name(env, identity.uid()),
        ),
        mission_types: if req.mission_types.is_empty() {
            DEFAULT_MISSION_TYPES
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            req.mission_types.clone()
        },
        agents: agents.clone(),
    };
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(ProjectConfig::parse(&path, &text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(MissionError::read(&path, e)),
    };
    let existed = existing.is_some();
    let (config, added) = match existing {
        None => (
            ProjectConfig::fresh(&crate::ids::uuid4(), &defaults),
            vec!["everything".to_string()],
        ),
        Some(mut config) => {
            let slug_conflict = req
                .project_slug
                .as_deref()
                .is_some_and(|s| config.slug().is_some_and(|c| c != s));
            let types_conflict =
                !req.mission_types.is_empty() && config.mission_types() != req.mission_types;
            if (slug_conflict || types_conflict) && !req.force {
                return Err(MissionError::AlreadyInitialized { path });
            }
            let mut added = config.repair(&defaults);
            if req.force {
                if let Some(s) = &req.project_slug {
                    config.set_slug(s);
                }
                if !req.mission_types.is_empty() {
                    config.set_mission_types(&req.mission_types);
                }
            }
            let before = config.agents();
            config.add_agents(&agents);
            if config.agents() != before {
                added.push("agents.available (added --ai)".into());
            }
            (config, added)
        }
    };
    let kittify = repo.top().join(".kittify");
    std::fs::create_dir_all(&kittify).map_err(|e| MissionError::io(&kittify, e))?;
    let text = config.to_yaml();
    let unchanged = std::fs::read_to_string(&path).is_ok_and(|t| t == text);
    if !unchanged {
        // Atomic: a reader sees the old or the new config, never half of one.
        let tmp = kittify.join(format!(".config.yaml.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &text).map_err(|e| MissionError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            MissionError::io(&path, e)
        })?;
    }
    let files = super::repo_files::ensure(&repo, clock.now_micros())?;
    Ok(Initialized {
        top: repo.top().to_path_buf(),
        config,
        existed,
        added: if existed { added } else { Vec::new() },
        files,
    })
}

/// The reference's project slug: the last segment of the origin URL (without `.git`), else the
/// directory name; lower case, `_` and ` ` as `-`.
fn project_slug(origin: Option<&str>, top: &Path) -> String {
    let from_origin = origin.map(|url| {
        let url = url.strip_suffix(".git").unwrap_or(url);
        let url = if url.contains(':') && url.contains('@') {
            url.rsplit(':').next().unwrap_or(url)
        } else {
            url
        };
        url.rsplit('/').next().unwrap_or(url).to_string()
    });
    let name = from_origin.unwrap_or_else(|| {
        top.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let slug = name.to_lowercase().replace(['_', ' '], "-");
    if slug.is_empty() {
        "project".into()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::project_slug;
    use std::path::Path;

    /// Answers of the reference's own derivation (spec-kitty-cli 3.2.7) for these remotes,
    /// including its reading of a user-less scp URL (`host:repo`), which keeps the host.
    #[test]
    fn the_project_slug_is_derived_as_the_reference_derives_it() {
        let top = Path::new("/work/My_Repo");
        for (origin, want) in [
            (Some("git@github.com:Acme/Kitty_Tool.git"), "kitty-tool"),
            (Some("https://github.com/acme/Kitty.git"), "kitty"),
            (Some("host:Repo_X.git"), "host:repo-x"),
            (Some("ssh://git@host:22/acme/kitty"), "kitty"),
            (Some("/srv/git/Local Repo.git"), "local-repo"),
            (None, "my-repo"),
        ] {
            assert_eq!(project_slug(origin, top), want, "{origin:?}");
        }
        assert_eq!(
            project_slug(None, Path::new("/")),
            "project",
            "no name at all"
        );
    }
}

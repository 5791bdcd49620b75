//! `.kittify/config.yaml` (**interop**: the reference CLI's project config).
//!
//! The file is kept as a YAML mapping, so every key kitty does not understand survives a rewrite
//! in its place. kitty reads `project.{uuid, slug, node_id, build_id}`,
//! `mission_type_activations`, `vcs`, `agents` and `protection.protected_branches`; configs
//! written by kitty 0.1 (`missions.activated`) still load, and `init` migrates them.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::MissionError;

/// The mission types `spec-kitty init` activates, in the reference's order.
pub const DEFAULT_MISSION_TYPES: &[&str] = &["software-dev", "documentation", "research", "plan"];

/// The mission type used when `--mission-type` is not given (the reference's default).
pub const DEFAULT_MISSION_TYPE: &str = "software-dev";

/// The branches protected when the config has no `protection.protected_branches`.
pub const DEFAULT_PROTECTED_BRANCHES: &[&str] = &["main", "master"];

/// `<repo>/.kittify/config.yaml`.
pub fn config_path(repo: &Path) -> PathBuf {
    repo.join(".kittify").join("config.yaml")
}

/// `<repo>/kitty-specs`.
pub fn specs_dir(repo: &Path) -> PathBuf {
    repo.join("kitty-specs")
}

/// The project config: a YAML mapping with typed accessors.
///
/// ```
/// use spec_kitty::internals::mission::project_config::ProjectConfig;
/// let text = "project:\n  uuid: u\n  slug: demo\nmission_type_activations: [research]\nextra: 1\n";
/// let config = ProjectConfig::parse(std::path::Path::new("c.yaml"), text).unwrap();
/// assert_eq!(config.uuid(), Some("u"));
/// assert_eq!(config.mission_types(), vec!["research".to_string()]);
/// assert!(config.to_yaml().contains("extra: 1"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    doc: Mapping,
}

/// What `init` fills in where the config lacks it.
#[derive(Debug, Clone)]
pub struct InitDefaults {
    /// Project slug.
    pub slug: String,
    /// This machine's node id.
    pub node_id: String,
    /// Mission types to activate.
    pub mission_types: Vec<String>,
    /// Agents (`--ai`).
    pub agents: Vec<String>,
}

fn key(k: &str) -> Value {
    Value::String(k.to_string())
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_sequence()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
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
            Err(e) => return Err(MissionError::read(&path, e)),
        };
        Self::parse(&path, &text)
    }

    /// Parse config text read from `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, MissionError> {
        let invalid = |detail: String| MissionError::ConfigInvalid {
            path: path.to_path_buf(),
            detail,
        };
        let value: Value = if text.trim().is_empty() {
            Value::Mapping(Mapping::new())
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| invalid(e.to_string()))?
        };
        let doc = match value {
            Value::Mapping(m) => m,
            Value::Null => Mapping::new(),
            other => {
                return Err(invalid(format!(
                    "the top level must be a mapping, found {}",
                    kind(&other)
                )));
            }
        };
        let config = Self { doc };
        if let Some(p) = config.doc.get("project")
            && !p.is_mapping()
            && !p.is_null()
        {
            return Err(invalid(format!(
                "`project` must be a mapping, found {}",
                kind(p)
            )));
        }
        for field in ["uuid", "slug", "node_id", "build_id"] {
            if let Some(v) = config.project().and_then(|p| p.get(field))
                && !v.is_string()
                && !v.is_null()
            {
                return Err(invalid(format!(
                    "`project.{field}` must be a string, found {}",
                    kind(v)
                )));
            }
        }
        if let Some(v) = config.doc.get("mission_type_activations")
            && strings(v).is_none()
            && !v.is_null()
        {
            return Err(invalid(
                "`mission_type_activations` must be a list of mission type names".into(),
            ));
        }
        config.protected_branches().map_err(invalid)?;
        Ok(config)
    }

    fn project(&self) -> Option<&Mapping> {
        self.doc.get("project")?.as_mapping()
    }

    fn project_str(&self, field: &str) -> Option<&str> {
        self.project()?
            .get(field)?
            .as_str()
            .filter(|s| !s.is_empty())
    }

    /// `project.uuid`.
    pub fn uuid(&self) -> Option<&str> {
        self.project_str("uuid")
    }

    /// `project.slug`.
    pub fn slug(&self) -> Option<&str> {
        self.project_str("slug")
    }

    /// `project.node_id`.
    pub fn node_id(&self) -> Option<&str> {
        self.project_str("node_id")
    }

    /// `project.build_id`.
    pub fn build_id(&self) -> Option<&str> {
        self.project_str("build_id")
    }

    /// True when the config still uses kitty 0.1's `missions.activated`.
    pub fn is_legacy(&self) -> bool {
        !self.doc.contains_key("mission_type_activations")
            && self
                .doc
                .get("missions")
                .and_then(|m| m.get("activated"))
                .is_some()
    }

    /// The activated mission types: `mission_type_activations`, else kitty 0.1's
    /// `missions.activated`.
    pub fn mission_types(&self) -> Vec<String> {
        let current = self.doc.get("mission_type_activations").and_then(strings);
        let legacy = || {
            self.doc
                .get("missions")
                .and_then(|m| m.get("activated"))
                .and_then(strings)
        };
        current.or_else(legacy).unwrap_or_default()
    }

    /// Whether commands commit their own changes: `agents.auto_commit`, else a top-level
    /// `auto_commit`; absent or not a boolean is true (the reference's reading).
    pub fn auto_commit(&self) -> bool {
        let value = match self.doc.get("agents").and_then(|a| a.get("auto_commit")) {
            Some(v) => Some(v),
            None => self.doc.get("auto_commit"),
        };
        value.and_then(Value::as_bool).unwrap_or(true)
    }

    /// Whether the config has the top-level key `name`.
    pub fn has(&self, name: &str) -> bool {
        self.doc.contains_key(key(name))
    }

    /// `agents.available`.
    pub fn agents(&self) -> Vec<String> {
        self.doc
            .get("agents")
            .and_then(|a| a.get("available"))
            .and_then(strings)
            .unwrap_or_default()
    }

    /// `protection.protected_branches`: `Ok(None)` when absent (the default set applies),
    /// `Ok(Some(list))` exactly as written (empty included), `Err` when it is not a list.
    pub fn protected_branches(&self) -> Result<Option<Vec<String>>, String> {
        let Some(block) = self.doc.get("protection").and_then(Value::as_mapping) else {
            return Ok(None);
        };
        match block.get("protected_branches") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Sequence(items)) => Ok(Some(
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => serde_yaml_ng::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    })
                    .collect(),
            )),
            Some(other) => Err(format!(
                "`protection.protected_branches` must be a list, found {}",
                kind(other)
            )),
        }
    }

    /// A new config with every key `init` owns set from `defaults`, in the reference's order.
    pub fn fresh(uuid: &str, defaults: &InitDefaults) -> Self {
        let mut config = Self {
            doc: Mapping::new(),
        };
        config
            .doc
            .insert(key("project"), Value::Mapping(Mapping::new()));
        config.set_project("uuid", uuid);
        config.repair(defaults);
        config
    }

    fn set_project(&mut self, field: &str, value: &str) {
        if !self.doc.get("project").is_some_and(Value::is_mapping) {
            self.doc
                .insert(key("project"), Value::Mapping(Mapping::new()));
        }
        if let Some(Value::Mapping(p)) = self.doc.get_mut("project") {
            p.insert(key(field), Value::String(value.to_string()));
        }
    }

    fn section(&mut self, name: &str) -> &mut Mapping {
        if !self.doc.get(name).is_some_and(Value::is_mapping) {
            self.doc.insert(key(name), Value::Mapping(Mapping::new()));
        }
        match self.doc.get_mut(name) {
            Some(Value::Mapping(m)) => m,
            _ => unreachable!("inserted above"),
        }
    }

    /// Fill every missing key `init` owns, migrate kitty 0.1's `missions.activated`, and never
    /// touch a value already present (the uuid, node_id and build_id above all). Returns the
    /// dotted names of the keys it added.
    pub fn repair(&mut self, defaults: &InitDefaults) -> Vec<String> {
        let mut added = Vec::new();
        if self.uuid().is_none() {
            self.set_project("uuid", &crate::ids::uuid4());
            added.push("project.uuid".to_string());
        }
        if self.slug().is_none() {
            self.set_project("slug", &defaults.slug);
            added.push("project.slug".to_string());
        }
        if self.node_id().is_none() {
            self.set_project("node_id", &defaults.node_id);
            added.push("project.node_id".to_string());
        }
        if self.build_id().is_none() {
            let uuid = self.uuid().unwrap_or_default().to_string();
            let node = self.node_id().unwrap_or_default().to_string();
            self.set_project("build_id", &crate::ids::build_id(&uuid, &node));
            added.push("project.build_id".to_string());
        }
        if self.is_legacy() {
            let types = self.mission_types();
            self.doc.insert(
                key("mission_type_activations"),
                Value::Sequence(types.into_iter().map(Value::String).collect()),
            );
            if let Some(Value::Mapping(m)) = self.doc.get_mut("missions") {
                m.remove("activated");
                if m.is_empty() {
                    self.doc.remove("missions");
                }
            }
            added.push("mission_type_activations (migrated from missions.activated)".into());
        } else if !self.doc.contains_key("mission_type_activations") {
            self.set_mission_types(&defaults.mission_types);
            added.push("mission_type_activations".to_string());
        }
        let vcs = self.section("vcs");
        if !vcs.contains_key("type") {
            vcs.insert(key("type"), key("git"));
            added.push("vcs.type".to_string());
        }
        let agents = self.section("agents");
        let mut agent_keys = Vec::new();
        if !agents.contains_key("available") {
            agents.insert(
                key("available"),
                Value::Sequence(defaults.agents.iter().map(|a| key(a)).collect()),
            );
            agent_keys.push("agents.available");
        }
        if !agents.contains_key("auto_commit") {
            agents.insert(key("auto_commit"), Value::Bool(true));
            agent_keys.push("agents.auto_commit");
        }
        if !agents.contains_key("lint_on_edit") {
            agents.insert(key("lint_on_edit"), Value::Bool(false));
            agent_keys.push("agents.lint_on_edit");
        }
        added.extend(agent_keys.into_iter().map(str::to_string));
        added
    }

    /// Replace `mission_type_activations`.
    pub fn set_mission_types(&mut self, types: &[String]) {
        self.doc.insert(
            key("mission_type_activations"),
            Value::Sequence(types.iter().map(|t| key(t)).collect()),
        );
    }

    /// Replace `project.slug`.
    pub fn set_slug(&mut self, slug: &str) {
        self.set_project("slug", slug);
    }

    /// Add agents to `agents.available` (keeping those listed).
    pub fn add_agents(&mut self, names: &[String]) {
        let agents = self.section("agents");
        let mut list = agents
            .get("available")
            .and_then(strings)
            .unwrap_or_default();
        for n in names {
            if !list.contains(n) {
                list.push(n.clone());
            }
        }
        agents.insert(
            key("available"),
            Value::Sequence(list.into_iter().map(Value::String).collect()),
        );
    }

    /// The YAML text.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(&self.doc).unwrap_or_default()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> InitDefaults {
        InitDefaults {
            slug: "demo".into(),
            node_id: "b805cd5cee74".into(),
            mission_types: vec!["software-dev".into()],
            agents: vec!["claude".into()],
        }
    }

    fn parse(text: &str) -> Result<ProjectConfig, MissionError> {
        ProjectConfig::parse(Path::new("config.yaml"), text)
    }

    #[test]
    fn repair_keeps_identity_and_unknown_keys_and_fills_the_rest() {
        let mut c = parse(
            "project:\n  uuid: e0eda9e8-b04e-473b-8ecd-dba0de886465\n  slug: mine\n  node_id: aaaaaaaaaaaa\n  repo_slug: org/repo\ncustom:\n  deep: [1, 2]\n",
        )
        .unwrap();
        let added = c.repair(&defaults());
        assert_eq!(c.uuid(), Some("e0eda9e8-b04e-473b-8ecd-dba0de886465"));
        assert_eq!(c.slug(), Some("mine"));
        assert_eq!(c.node_id(), Some("aaaaaaaaaaaa"));
        assert_eq!(
            c.build_id().unwrap(),
            crate::ids::build_id("e0eda9e8-b04e-473b-8ecd-dba0de886465", "aaaaaaaaaaaa")
        );
        assert!(added.contains(&"project.build_id".to_string()));
        assert!(
            !added
                .iter()
                .any(|a| a == "project.uuid" || a == "project.node_id")
        );
        let yaml = c.to_yaml();
        assert!(yaml.contains("repo_slug: org/repo"), "{yaml}");
        assert!(yaml.contains("deep:"), "{yaml}");
        // A second repair changes nothing.
        let before = c.clone();
        assert!(c.repair(&defaults()).is_empty());
        assert_eq!(c, before);
    }

    #[test]
    fn repair_fills_each_missing_agents_key_and_keeps_the_present_ones() {
        let mut c = parse("agents:\n  lint_on_edit: true\n").unwrap();
        let added = c.repair(&defaults());
        assert!(added.contains(&"agents.available".to_string()), "{added:?}");
        assert!(
            added.contains(&"agents.auto_commit".to_string()),
            "{added:?}"
        );
        assert!(
            !added.contains(&"agents.lint_on_edit".to_string()),
            "{added:?}"
        );
        assert!(
            c.to_yaml().contains("lint_on_edit: true"),
            "{}",
            c.to_yaml()
        );
        let mut c = parse("agents:\n  available: [codex]\n  auto_commit: false\n").unwrap();
        let added = c.repair(&defaults());
        assert!(
            added.contains(&"agents.lint_on_edit".to_string()),
            "{added:?}"
        );
        assert!(
            !added.contains(&"agents.auto_commit".to_string()),
            "{added:?}"
        );
        let yaml = c.to_yaml();
        assert!(
            yaml.contains("lint_on_edit: false") && yaml.contains("auto_commit: false"),
            "{yaml}"
        );
        assert_eq!(c.agents(), vec!["codex"]);
        // Adding agents keeps those listed, in order, once each.
        c.add_agents(&["claude".to_string(), "codex".to_string()]);
        assert_eq!(c.agents(), vec!["codex", "claude"]);
    }

    #[test]
    fn repair_adds_the_vcs_type_only_when_missing() {
        let mut c = parse("vcs:\n  type: jj\n").unwrap();
        let added = c.repair(&defaults());
        assert!(!added.contains(&"vcs.type".to_string()), "{added:?}");
        assert!(c.to_yaml().contains("type: jj"), "{}", c.to_yaml());
        let mut c = parse("vcs: {}\n").unwrap();
        assert!(c.repair(&defaults()).contains(&"vcs.type".to_string()));
        assert!(c.to_yaml().contains("type: git"), "{}", c.to_yaml());
    }

    #[test]
    fn a_refused_shape_is_named_in_the_message() {
        for (bad, words) in [
            ("- a\n", "the top level must be a mapping, found a list"),
            (
                "project: 3\n",
                "`project` must be a mapping, found a number",
            ),
            (
                "project: true\n",
                "`project` must be a mapping, found a boolean",
            ),
            (
                "project: x\n",
                "`project` must be a mapping, found a string",
            ),
            (
                "project:\n  uuid: {a: 1}\n",
                "`project.uuid` must be a string, found a mapping",
            ),
            (
                "project: !t [1]\n",
                "`project` must be a mapping, found a tagged value",
            ),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(words), "{bad:?}: {e}");
        }
    }

    #[test]
    fn legacy_missions_activated_loads_and_migrates() {
        let mut c =
            parse("project:\n  uuid: u\n  slug: s\nmissions:\n  activated: [research, plan]\n")
                .unwrap();
        assert!(c.is_legacy());
        assert_eq!(c.mission_types(), vec!["research", "plan"]);
        c.repair(&defaults());
        assert!(!c.is_legacy());
        assert_eq!(c.mission_types(), vec!["research", "plan"]);
        assert!(!c.to_yaml().contains("missions:"));
    }

    #[test]
    fn protected_branches_absent_empty_listed_and_malformed() {
        assert_eq!(
            parse("project: {}\n").unwrap().protected_branches(),
            Ok(None)
        );
        assert_eq!(
            parse("protection:\n  protected_branches: []\n")
                .unwrap()
                .protected_branches(),
            Ok(Some(vec![]))
        );
        assert_eq!(
            parse("protection:\n  protected_branches: [dev, release]\n")
                .unwrap()
                .protected_branches(),
            Ok(Some(vec!["dev".to_string(), "release".to_string()]))
        );
        let err = parse("protection:\n  protected_branches: main\n").unwrap_err();
        assert!(err.to_string().contains("must be a list"), "{err}");
    }

    #[test]
    fn shapes_that_are_not_a_config_are_refused() {
        for bad in [
            "- a\n- b\n",
            "project: 3\n",
            "project:\n  uuid: [1]\n",
            "mission_type_activations: 7\n",
            ": : :\n",
        ] {
            assert!(
                matches!(parse(bad), Err(MissionError::ConfigInvalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn fresh_has_the_reference_keys_in_order() {
        let c = ProjectConfig::fresh("e0eda9e8-b04e-473b-8ecd-dba0de886465", &defaults());
        let yaml = c.to_yaml();
        let order = [
            "project:",
            "uuid:",
            "slug:",
            "node_id:",
            "build_id:",
            "mission_type_activations:",
            "vcs:",
            "agents:",
        ];
        let mut at = 0;
        for k in order {
            let i = yaml[at..]
                .find(k)
                .unwrap_or_else(|| panic!("{k} missing or out of order in\n{yaml}"));
            at += i;
        }
        assert_eq!(c.build_id(), Some("64c7568d-2d4e-541d-9d17-1f470fb213b0"));
        assert_eq!(c.agents(), vec!["claude"]);
    }
}

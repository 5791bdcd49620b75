//! The checked plan of a create: every validation and every default, in the reference's order,
//! from the request and what the checkout answers; it writes nothing.

use std::path::PathBuf;

use super::{ALREADY_CONFIRMED, CreateRequest};
use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::mission::MissionError;
use crate::mission::meta::{DocumentationState, MissionMeta, Topology};
use crate::mission::project_config::{DEFAULT_MISSION_TYPE, ProjectConfig, config_path};
use crate::mission::protection::ProtectionPolicy;
use crate::mission::{scaffold, slug};
use crate::sync::envelope::{Producer, repo_slug};

/// The read-only questions a plan asks of the checkout it runs in: answered by git in a run
/// ([`crate::mission::git::Repo`]), by a table in unit tests.
pub trait Checkout {
    /// The work tree's top directory.
    fn top(&self) -> PathBuf;
    /// HEAD's commit id; `None` before the first commit.
    fn head_commit(&self) -> Result<Option<String>, MissionError>;
    /// HEAD's branch; `None` when detached.
    fn branch(&self) -> Result<Option<String>, MissionError>;
    /// The branch `origin/HEAD` names, if any.
    fn origin_default_branch(&self) -> Result<Option<String>, MissionError>;
    /// The `origin` remote's URL, if any.
    fn origin_url(&self) -> Option<String>;
    /// `Err(git's words)` when `name` is not a valid branch name.
    fn check_branch_name(&self, name: &str) -> Result<(), String>;
    /// Whether `refname` (`refs/heads/x`) names a commit.
    fn ref_exists(&self, refname: &str) -> Result<bool, MissionError>;
    /// `.kittify/config.yaml` of this work tree.
    fn project_config(&self) -> Result<ProjectConfig, MissionError>;
}

/// The `--start-branch` switch the apply step makes first (and undoes on failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartSwitch {
    /// The branch to switch to.
    pub branch: String,
    /// It does not exist yet: the switch creates it at HEAD.
    pub create: bool,
    /// The branch to switch back to when the create fails.
    pub back_to: String,
}

/// Everything a create will do, decided: the apply step only writes, commits and undoes.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePlan {
    /// The work tree's top directory.
    pub top: PathBuf,
    /// The `--start-branch` switch, when it moves HEAD.
    pub switch: Option<StartSwitch>,
    /// The branch the mission starts on (after the switch).
    pub current_branch: String,
    /// The planning branch (the branch the scaffold is committed on).
    pub target_branch: String,
    /// The requested slug (validated kebab-case).
    pub slug: String,
    /// One of the project's activated mission types.
    pub mission_type: String,
    /// Whitespace-normalized display name.
    pub friendly_name: String,
    /// One line, never blank.
    pub purpose_tldr: String,
    /// Never blank.
    pub purpose_context: String,
    /// The mission's shape; decides whether there is a coordination branch.
    pub topology: Topology,
    /// `--force-recreate-coordination-branch`.
    pub force_recreate_coordination_branch: bool,
    /// `--pr-bound`, `--retain-branches`, `--retain-worktrees`.
    pub flags: MissionFlags,
    /// Who produces the event; `head_commit_sha` is HEAD before the switch (the apply step
    /// reads it again after one).
    pub producer: Producer,
    /// Sync is on (and, once the caller has read it, the project consents): the
    /// `MissionCreated` event is queued for the service. Otherwise nothing is queued (as the
    /// reference: nothing leaves the machine that the user did not ask for); the event still goes
    /// into the mission's own `status.events.jsonl`.
    pub queue_event: bool,
}

/// The create options recorded in `meta.json` only when set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MissionFlags {
    /// `--pr-bound`.
    pub pr_bound: bool,
    /// `--retain-branches`.
    pub retain_branches: bool,
    /// `--retain-worktrees`.
    pub retain_worktrees: bool,
}

impl CreatePlan {
    /// The coordination branch of mission directory `dir_name`, when the topology has one.
    pub fn coordination_branch(&self, dir_name: &str) -> Option<String> {
        self.topology
            .has_coordination_branch()
            .then(|| format!("kitty/mission-{dir_name}"))
    }

    /// The `meta.json` of this mission under its id, directory name and creation time.
    pub fn meta(&self, mission_id: &str, dir_name: &str, created_at: &str) -> MissionMeta {
        let set = |on: bool| on.then_some(true);
        MissionMeta {
            mission_id: mission_id.into(),
            mission_slug: dir_name.into(),
            mission_type: self.mission_type.clone(),
            mission_number: Some(serde_json::Value::Null),
            slug: Some(dir_name.into()),
            friendly_name: Some(self.friendly_name.clone()),
            purpose_tldr: Some(self.purpose_tldr.clone()),
            purpose_context: Some(self.purpose_context.clone()),
            target_branch: Some(self.target_branch.clone()),
            created_at: Some(created_at.into()),
            pr_bound: set(self.flags.pr_bound),
            retain_branches: set(self.flags.retain_branches),
            retain_worktrees: set(self.flags.retain_worktrees),
            coordination_branch: self.coordination_branch(dir_name),
            topology: Some(self.topology.as_str().into()),
            flattened: Some(false),
            documentation_state: (self.mission_type == "documentation")
                .then(DocumentationState::initial),
            extra: serde_json::Map::new(),
        }
    }
}

/// A request whose own checks passed (they come first, before the checkout is asked anything).
#[derive(Debug)]
pub struct CheckedRequest<'r> {
    req: &'r CreateRequest,
    friendly_name: String,
    /// `--mission-type` (or its alias); `None`: the default.
    mission_type: Option<String>,
}

/// The producer of a project's events: its uuid and slug, its `node_id` and `build_id` (derived
/// from this machine when the config has none, as the reference derives them), the branch and
/// HEAD they were produced on, and the origin's `owner/repo`.
pub fn producer(
    config: &ProjectConfig,
    env: &Env,
    identity: &MachineIdentity,
    (project_uuid, project_slug): (&str, &str),
    (git_branch, head_commit_sha): (Option<String>, Option<String>),
    origin_url: Option<&str>,
) -> Producer {
    let node_id = config.node_id().map_or_else(
        || {
            crate::identity::node_id(
                identity.hostname(),
                &crate::identity::user_name(env, identity.uid()),
            )
        },
        str::to_string,
    );
    Producer {
        project_uuid: project_uuid.to_string(),
        project_slug: Some(project_slug.to_string()),
        build_id: config.build_id().map_or_else(
            || crate::ids::build_id(project_uuid, &node_id),
            str::to_string,
        ),
        node_id,
        git_branch,
        head_commit_sha,
        repo_slug: origin_url.and_then(repo_slug),
    }
}

/// Check the request against the checkout and decide every default, in the reference's order
/// of refusals. Nothing is written.
pub fn plan(
    checked: CheckedRequest<'_>,
    checkout: &dyn Checkout,
    env: &Env,
    identity: &MachineIdentity,
) -> Result<CreatePlan, MissionError> {
    let CheckedRequest {
        req,
        friendly_name,
        mission_type,
    } = checked;
    let top = checkout.top();
    let Some(head) = checkout.head_commit()? else {
        return Err(MissionError::NoCommit { repo: top });
    };
    let config = checkout.project_config()?;
    let mission_type = check_mission_type(&config, mission_type, &top)?;
    let (Some(project_uuid), Some(project_slug)) = (config.uuid(), config.slug()) else {
        return Err(MissionError::ConfigInvalid {
            path: config_path(&top),
            detail: "`project.uuid` and `project.slug` are required".into(),
        });
    };
    let policy = ProtectionPolicy::resolve(
        &config,
        || checkout.origin_default_branch().ok().flatten(),
        env,
    )
    .map_err(|detail| MissionError::ConfigInvalid {
        path: config_path(&top),
        detail,
    })?;
    let original = checkout.branch()?.ok_or(MissionError::DetachedHead)?;
    let switch = check_start_branch(req, checkout, &policy, &original)?;
    let current_branch = switch.as_ref().map_or(original, |s| s.branch.clone());
    let target_branch = check_branch_gates(req, &policy, &current_branch)?;
    let (purpose_tldr, purpose_context) = check_purpose(req, &friendly_name, &target_branch)?;
    let topology = match req.topology {
        Some(t) => t,
        None if req.pr_bound => Topology::Coord,
        // The primary branch: origin's default, else the branch we stand on.
        None => match checkout.origin_default_branch()? {
            Some(primary) if primary != current_branch => Topology::SingleBranch,
            _ => Topology::Coord,
        },
    };
    let producer = producer(
        &config,
        env,
        identity,
        (project_uuid, project_slug),
        (Some(current_branch.clone()), Some(head)),
        checkout.origin_url().as_deref(),
    );
    Ok(CreatePlan {
        top,
        switch,
        current_branch,
        target_branch,
        slug: req.slug.clone(),
        mission_type,
        friendly_name,
        purpose_tldr,
        purpose_context,
        topology,
        force_recreate_coordination_branch: req.force_recreate_coordination_branch,
        flags: MissionFlags {
            pr_bound: req.pr_bound,
            retain_branches: req.retain_branches,
            retain_worktrees: req.retain_worktrees,
        },
        producer,
        queue_event: crate::settings::Settings::from_env(env).sync_active,
    })
}

/// The checks that need nothing but the request.
pub fn check_request(req: &CreateRequest) -> Result<CheckedRequest<'_>, MissionError> {
    if req.owned_checkout.is_some() {
        return Err(MissionError::UnsupportedOption {
            option: "--owned-checkout",
            why: "spec-kitty creates missions in the checkout it runs in (worktree ownership is not implemented); run it from the primary checkout without --owned-checkout",
        });
    }
    slug::validate(&req.slug)?;
    let friendly_name = match &req.friendly_name {
        Some(given) => match scaffold::normalize_space(given) {
            n if n.is_empty() => return Err(MissionError::FriendlyNameEmpty),
            n => n,
        },
        None => scaffold::default_friendly_name(&req.slug),
    };
    let mission_type = match (&req.mission_type, &req.mission_alias) {
        (Some(a), Some(b)) if a != b => {
            return Err(MissionError::UnknownMissionType {
                requested: format!("{a} (--mission-type) and {b} (--mission)"),
                activated: "one of them; --mission is a deprecated alias of --mission-type".into(),
            });
        }
        (Some(t), _) | (None, Some(t)) => Some(t.clone()),
        (None, None) => None,
    };
    if let (Some(start), Some(target)) = (&req.start_branch, &req.target_branch)
        && start.trim() != target.trim()
    {
        return Err(MissionError::StartBranchTargetMismatch {
            start: start.clone(),
            target: target.clone(),
        });
    }
    Ok(CheckedRequest {
        req,
        friendly_name,
        mission_type,
    })
}

/// The requested (or default) type, when the project has it activated.
fn check_mission_type(
    config: &ProjectConfig,
    requested: Option<String>,
    top: &std::path::Path,
) -> Result<String, MissionError> {
    let activated = config.mission_types();
    if activated.is_empty() {
        return Err(MissionError::NoMissionTypes {
            path: config_path(top),
        });
    }
    let mission_type = requested.unwrap_or_else(|| DEFAULT_MISSION_TYPE.to_string());
    if !activated.contains(&mission_type) {
        return Err(MissionError::UnknownMissionType {
            requested: mission_type,
            activated: activated.join(", "),
        });
    }
    Ok(mission_type)
}

/// `--start-branch`: a valid, unprotected name; the switch when it is not the current branch.
fn check_start_branch(
    req: &CreateRequest,
    checkout: &dyn Checkout,
    policy: &ProtectionPolicy,
    original: &str,
) -> Result<Option<StartSwitch>, MissionError> {
    let Some(start) = req.start_branch.as_deref().map(str::trim) else {
        return Ok(None);
    };
    checkout
        .check_branch_name(start)
        .map_err(|detail| MissionError::StartBranchFailed {
            branch: start.to_string(),
            detail,
        })?;
    if policy.is_protected(start) {
        return Err(MissionError::ProtectedBranch {
            branch: start.to_string(),
        });
    }
    if start == original {
        return Ok(None);
    }
    Ok(Some(StartSwitch {
        branch: start.to_string(),
        create: !checkout.ref_exists(&format!("refs/heads/{start}"))?,
        back_to: original.to_string(),
    }))
}

/// The planning branch, when the mission may be planned there from `current`.
fn check_branch_gates(
    req: &CreateRequest,
    policy: &ProtectionPolicy,
    current: &str,
) -> Result<String, MissionError> {
    let target = req
        .target_branch
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(current)
        .to_string();
    let confirmed = req.branch_strategy.as_deref() == Some(ALREADY_CONFIRMED)
        || (req.branch_strategy.is_none() && req.start_branch.is_some());
    if req.pr_bound && current == target && !confirmed {
        return Err(MissionError::BranchStrategyConfirmationRequired {
            current: current.to_string(),
        });
    }
    if target != current {
        return Err(MissionError::TargetNotCheckedOut {
            target,
            current: current.to_string(),
        });
    }
    if policy.is_protected(&target) {
        return Err(MissionError::ProtectedBranch { branch: target });
    }
    Ok(target)
}

/// `(purpose_tldr, purpose_context)`, defaulted and normalized; both must say something.
fn check_purpose(
    req: &CreateRequest,
    friendly_name: &str,
    target: &str,
) -> Result<(String, String), MissionError> {
    let tldr = match &req.purpose_tldr {
        Some(t) if t.trim().contains('\n') => {
            return Err(MissionError::PurposeInvalid(
                "purpose_tldr must be a single line".into(),
            ));
        }
        Some(t) => scaffold::normalize_space(t),
        None => friendly_name.to_string(),
    };
    let context = match &req.purpose_context {
        Some(c) => scaffold::normalize_space(c),
        None => scaffold::default_purpose_context(friendly_name, target),
    };
    let blank: Vec<&str> = [
        (tldr.is_empty(), "purpose_tldr must not be blank"),
        (context.is_empty(), "purpose_context must not be blank"),
    ]
    .into_iter()
    .filter_map(|(is_blank, why)| is_blank.then_some(why))
    .collect();
    if blank.is_empty() {
        Ok((tldr, context))
    } else {
        Err(MissionError::PurposeInvalid(blank.join("; ")))
    }
}

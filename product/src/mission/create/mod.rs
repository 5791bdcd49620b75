//! `agent mission create`: a checked plan ([`plan`]: every validation and default, no writes),
//! then its application ([`apply`]: writes, queues and commits, undoing every change on any
//! failure so the repository, the outbox and the checkout are left as they were).
//!
//! **Interop**: the reference CLI's create contract: the `<slug>-<mid8>` directory, the committed
//! set (`meta.json`, `status.events.jsonl`, `tasks/README.md`, `tasks/.gitkeep`; `spec.md` left
//! untracked), the commit message, the hooks, the coordination branch and the protected-branch
//! policy.

pub mod apply;
pub mod plan;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use super::MissionError;
use super::git::Repo;
use super::meta::{MissionMeta, Topology};
use super::project_config::ProjectConfig;
use crate::clock::Clock;
use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::paths::RuntimeRoot;

/// `--branch-strategy` value that confirms a PR-bound mission on its merge target.
pub const ALREADY_CONFIRMED: &str = "already-confirmed";

/// What to create: every option of the reference's `agent mission create`.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// Kebab-case slug.
    pub slug: String,
    /// `--mission-type`.
    pub mission_type: Option<String>,
    /// `--mission` (deprecated alias of `--mission-type`).
    pub mission_alias: Option<String>,
    /// `--target-branch`.
    pub target_branch: Option<String>,
    /// `--friendly-name`.
    pub friendly_name: Option<String>,
    /// `--purpose-tldr`.
    pub purpose_tldr: Option<String>,
    /// `--purpose-context`.
    pub purpose_context: Option<String>,
    /// `--pr-bound`.
    pub pr_bound: bool,
    /// `--topology`.
    pub topology: Option<Topology>,
    /// `--branch-strategy`.
    pub branch_strategy: Option<String>,
    /// `--start-branch`.
    pub start_branch: Option<String>,
    /// `--force-recreate-coordination-branch`.
    pub force_recreate_coordination_branch: bool,
    /// `--owned-checkout` (not supported: worktrees are outside this implementation).
    pub owned_checkout: Option<PathBuf>,
    /// `--retain-branches`.
    pub retain_branches: bool,
    /// `--retain-worktrees`.
    pub retain_worktrees: bool,
}

/// A created mission.
#[derive(Debug, Clone)]
pub struct Created {
    /// The `meta.json` as written; its `mission_slug` is the directory name (`<slug>-<mid8>`).
    pub meta: MissionMeta,
    /// `kitty-specs/<dir>` (absolute).
    pub feature_dir: PathBuf,
    /// The branch the command started on, after `--start-branch`.
    pub current_branch: String,
    /// The planning (target) branch.
    pub target_branch: String,
    /// The coordination branch, for the topologies that have one.
    pub coordination_branch: Option<CoordinationBranch>,
    /// The scaffold commit's id.
    pub commit: String,
    /// The `MissionCreated` event's id (in `status.events.jsonl`, and in the outbox when queued).
    pub event_id: String,
    /// The event was queued for the service (sync is on).
    pub queued: bool,
    /// The command's time (microseconds), for `runtime_vars`.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// A mission's coordination branch after its create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinationBranch {
    /// `kitty/mission-<dir>`.
    pub name: String,
    /// This create made (or, forced, reset) it; `false`: an existing one was reused.
    pub created: bool,
}

/// Create a mission in the repository containing `cwd`: the request's own checks, the plan
/// against the checkout, then the apply step.
pub fn create(
    env: &Env,
    identity: &MachineIdentity,
    root: &RuntimeRoot,
    cwd: &Path,
    clock: Clock,
    req: &CreateRequest,
) -> Result<Created, MissionError> {
    let checked = plan::check_request(req)?;
    let repo = Repo::discover(env, cwd)?;
    let mut plan = plan::plan(checked, &repo, env, identity)?;
    plan.queue_event &= project_consents(root, &plan.producer.project_uuid);
    apply::apply(&plan, &repo, env, root, clock)
}

/// The project's sync consent, as the reference records it (`spec-kitty sync opt-in`): without a
/// grant nothing is queued, since nothing may be sent. A store that cannot be read grants nothing.
pub fn project_consents(root: &RuntimeRoot, project_uuid: &str) -> bool {
    let store = root.reference_project_store(project_uuid);
    match crate::sync::reference_store::consent(&store, project_uuid) {
        Ok(c) => c == crate::sync::reference_store::Consent::Granted,
        Err(e) => {
            tracing::warn!(error = %e, "no consent can be read: nothing is queued");
            false
        }
    }
}

/// The plan asks git (and the work tree's config file).
impl plan::Checkout for Repo {
    fn top(&self) -> PathBuf {
        Repo::top(self).to_path_buf()
    }
    fn head_commit(&self) -> Result<Option<String>, MissionError> {
        Repo::head_commit(self)
    }
    fn branch(&self) -> Result<Option<String>, MissionError> {
        Repo::branch(self)
    }
    fn origin_default_branch(&self) -> Result<Option<String>, MissionError> {
        Repo::origin_default_branch(self)
    }
    fn origin_url(&self) -> Option<String> {
        Repo::origin_url(self)
    }
    fn check_branch_name(&self, name: &str) -> Result<(), String> {
        Repo::check_branch_name(self, name)
    }
    fn ref_exists(&self, refname: &str) -> Result<bool, MissionError> {
        Repo::ref_exists(self, refname)
    }
    fn project_config(&self) -> Result<ProjectConfig, MissionError> {
        ProjectConfig::load(Repo::top(self))
    }
}

//! Missions (**interop**: the reference CLI's project and mission formats), one room per job.
//!
//! Here now: `project_config` (`.kittify/config.yaml`), `init`, `repo_files` (what `init` adds
//! to the repository for the reference's lifecycle), `create` (plan, then apply), `list`, `meta`
//! (`meta.json`), `scaffold` (a new mission's files), `recover` (creates that died),
//! `protection`, `slug`, `git` (the repository), `error`. The lifecycle grows beside `create`,
//! one room per subsystem (ARCHITECTURE.md lists them): `status` (the event log and its
//! reducer), `retrospective` (a finished mission's record), `tasks` (work packages and their frontmatter), `lanes` (lane computation and
//! worktrees, with `git`), `merge`.

pub mod accept;
pub mod create;
pub mod dossier;
pub mod error;
pub mod execution;
pub mod git;
pub mod init;
pub mod lanes;
pub mod list;
pub mod merge;
pub mod merge_drivers;
pub mod meta;
pub mod planning;
pub mod project_config;
pub mod protection;
pub mod recover;
pub mod repo_files;
pub mod retrospective;
pub mod safe_commit;
pub mod scaffold;
pub mod slug;
pub mod status;
pub mod tasks;

pub use error::MissionError;

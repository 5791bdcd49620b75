//! git for mission commands: the `git` binary with the environment snapshot, and the refs and
//! config read in-process where that is exact (lane worktrees and merges go here too).

pub mod program;
pub mod refs;
pub mod repo;
mod status;

pub use repo::{PendingGit, Repo};

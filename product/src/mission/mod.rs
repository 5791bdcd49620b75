//! Missions: project config, git, and the create/list/init operations.

pub mod config;
pub mod create;
pub mod error;
pub mod init;
pub mod meta;
pub mod protection;
pub mod recover;
pub mod refs;
pub mod repo;
pub mod scaffold;
pub mod slug;

pub use error::MissionError;

//! Missions: project config, git, and the create/list/init operations.

pub mod config;
pub mod create;
pub mod error;
pub mod repo;
pub mod slug;

pub use error::MissionError;

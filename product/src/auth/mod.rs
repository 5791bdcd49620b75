//! Authentication: the session model, its encrypted store, tokens and login.

pub mod hot_path;
pub mod session;
pub mod store;

/// Device-flow login.
pub(crate) mod login;
/// Token refresh and membership rehydrate.
pub(crate) mod tokens;

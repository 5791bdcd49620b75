//! Authentication: the session model, its encrypted store, tokens and login.

pub mod hot_path;
pub mod session;
pub mod store;

crate::internal!(
    /// Device-flow login.
    login
);
crate::internal!(
    /// Token refresh and membership rehydrate.
    tokens
);

mod pyjson;
pub use pyjson::to_python_json;

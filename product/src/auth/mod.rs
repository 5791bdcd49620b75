//! Authentication: the session model, its encrypted store, tokens and login.

pub mod hot_path;
pub mod session;
pub mod store;

/// Device-flow login.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod login;
/// Device-flow login.
#[cfg(not(feature = "internals"))]
pub(crate) mod login;
/// Token refresh and membership rehydrate.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod tokens;
/// Token refresh and membership rehydrate.
#[cfg(not(feature = "internals"))]
pub(crate) mod tokens;

mod pyjson;
pub use pyjson::to_python_json;

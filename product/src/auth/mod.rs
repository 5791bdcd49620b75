//! Authentication: the session model, its encrypted store, tokens and login.

pub mod login;
pub mod session;
pub mod store;
pub mod tokens;

mod pyjson;
pub use pyjson::to_python_json;

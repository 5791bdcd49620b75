//! `spec-kitty`: a fast native CLI for spec-driven development.
//!
//! The library holds everything the binary does. The items below are the surface that tests and
//! plugins may use; they read the environment, the runtime root and the session exactly as the
//! binary does, so they cannot drift from it:
//!
//! - [`env::Env`] and [`env::REGISTRY`]: the environment snapshot and every variable read;
//! - [`paths::RuntimeRoot`]: the one resolver of every runtime location;
//! - [`auth::store::SessionStore`] and [`auth::session::Session`]: the encrypted session store
//!   (interoperable with the reference implementation) and its model;
//! - [`identity::MachineIdentity`]: the key-derivation identity.
//!
//! ```
//! use spec_kitty::{env::Env, paths::RuntimeRoot};
//! let env = Env::from_pairs([("HOME", "/home/ada")]);
//! let root = RuntimeRoot::resolve(&env).unwrap();
//! assert_eq!(root.base(), std::path::Path::new("/home/ada/.spec-kitty"));
//! ```
#![warn(missing_docs)]

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod env;
pub mod identity;
pub mod ids;
pub mod lock;
pub mod mission;
pub mod output;
pub mod paths;
pub mod saas;
pub mod sync;

/// The version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

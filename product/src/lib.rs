//! `spec-kitty`: a fast native CLI for spec-driven development.
//!
//! # The plugin API (public and stable)
//!
//! A plugin (`spec-kitty-<name>` on PATH, run by `spec-kitty <name>`) must read the environment,
//! the runtime root and the session exactly as the binary does, so it cannot drift from it. These
//! items are the stable surface for that, and the only one:
//!
//! - [`env::Env`], [`env::REGISTRY`] and [`env::vars`]: the environment snapshot and every variable
//!   the product reads, and [`env_file::fold`], which adds the operator env files (`.kitty.env`)
//!   to a snapshot exactly as the binary does at start;
//! - [`paths::RuntimeRoot`]: the one resolver of every runtime location;
//! - [`auth::store::SessionStore`] (its read path, [`auth::store::SessionStore::read`]) and
//!   [`auth::session::Session`] / [`auth::session::Team`]: the encrypted session store,
//!   interoperable with the reference implementation, and its model;
//! - [`identity::MachineIdentity`]: the key-derivation identity;
//! - [`paths::RuntimeRoot::for_plugin`]: the root a plugin should use (the host's, when it ran
//!   the plugin), and [`sync::summary`]: a read-only view of the outbox;
//! - [`chrono`], re-exported: its types appear in the session model;
//! - [`sync::diagnostics`]: the diagnostic codes and the stderr line format, and
//!   [`sync::attempts`]: how often sync tries;
//! - [`missions`]: the project's missions and their work packages with their lanes, read-only;
//! - [`VERSION`].
//!
//! ```
//! use spec_kitty::{auth::store::SessionStore, env::Env, identity::MachineIdentity, paths::RuntimeRoot};
//! let env = Env::from_pairs([("HOME", "/home/ada")]);
//! let root = RuntimeRoot::resolve(&env).unwrap();
//! assert_eq!(root.base(), std::path::Path::new("/home/ada/.spec-kitty"));
//! let store = SessionStore::new(root.auth_dir(), MachineIdentity::current());
//! assert_eq!(store.dir(), std::path::Path::new("/home/ada/.spec-kitty/auth"));
//! ```
//!
//! Everything else (the CLI, sync, missions, the HTTP client) is private. The `internals` feature
//! exposes it, hidden from these docs and without any stability promise, for kitty-testkit, the
//! benchmarks and this package's own tests.
#![warn(missing_docs)]
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]

// Internal modules are declared once, crate-private; the `internals` feature re-exports them
// under [`internals`] (one declaration per file, so tools that follow `mod` items, such as
// cargo-mutants, see each file once).

/// Re-exported: the session model's timestamps are chrono types.
pub use chrono;

pub mod auth;
pub mod env;
pub mod env_file;
pub mod identity;
pub mod missions;
pub mod paths;
pub mod sync;

/// Command-line parsing and handlers.
pub(crate) mod cli;
/// The clock.
pub(crate) mod clock;
/// Identifiers.
pub(crate) mod ids;
/// Advisory file locks.
pub(crate) mod lock;
/// Missions.
pub(crate) mod mission;
/// The only writer of stdout and stderr.
pub(crate) mod output;
/// Python's JSON layout and `isoformat()` shapes (the reference's bytes).
pub(crate) mod pyfmt;
/// `<root>/config.toml` (not a project's `.kittify/config.yaml`, which is `mission::config`).
pub(crate) mod runtime_config;
/// The hosted service client.
pub(crate) mod saas;
/// One command's session store, client and token manager, each built once.
pub(crate) mod services;
/// Every default and budget read from the environment, spelled once.
pub(crate) mod settings;

/// Everything that is not the plugin API, for this workspace's own tests and benchmarks (the
/// `internals` feature; hidden, no stability promise). Paths mirror the crate's:
/// `spec_kitty::internals::mission::slug` is the crate's `mission::slug`.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    #![allow(missing_docs)]
    pub mod cli {
        pub use crate::cli::*;
    }
    pub mod clock {
        pub use crate::clock::*;
    }
    pub mod ids {
        pub use crate::ids::*;
    }
    pub mod lock {
        pub use crate::lock::*;
    }
    pub mod mission {
        pub use crate::mission::*;
    }
    pub mod output {
        pub use crate::output::*;
    }
    pub mod pyfmt {
        pub use crate::pyfmt::*;
    }
    pub mod runtime_config {
        pub use crate::runtime_config::*;
    }
    pub mod saas {
        pub use crate::saas::*;
    }
    pub mod services {
        pub use crate::services::*;
    }
    pub mod settings {
        pub use crate::settings::*;
    }
    pub mod auth {
        pub mod login {
            pub use crate::auth::login::*;
        }
        pub mod tokens {
            pub use crate::auth::tokens::*;
        }
    }
    pub mod sync {
        pub mod drain {
            pub use crate::sync::drain::*;
        }
        pub mod envelope {
            pub use crate::sync::envelope::*;
        }
        pub mod error {
            pub use crate::sync::error::*;
        }
        pub mod final_sync {
            pub use crate::sync::final_sync::*;
        }
        pub mod ingress {
            pub use crate::sync::ingress::*;
        }
        pub mod outbox {
            pub use crate::sync::outbox::*;
        }
    }
}

/// What kitty-testkit needs beyond the plugin API: hidden, no stability promise, and only in a
/// build with the `testkit` feature, which kitty-testkit turns on. A plugin cannot lean on it: its
/// release build (no dev-dependencies, so no testkit) does not have this module at all, and
/// `scripts/check-plugin-boundary` proves a plugin library that uses it fails to compile. It
/// exists so that the testkit does not turn on `internals`: beyond these hooks, a plugin's test
/// build sees exactly the API its release build sees.
#[cfg(feature = "testkit")]
#[doc(hidden)]
pub mod __testkit {
    pub use crate::ids::ulid;
    pub use crate::lock::exclusive_within;
    pub use crate::mission::git::program::git_on;
    pub use crate::mission::project_config::{InitDefaults, ProjectConfig, config_path, specs_dir};
    pub use crate::mission::repo_files::MERGE_DRIVERS;
    pub use crate::saas::url::ServiceUrl;
    pub use crate::sync::envelope::{MissionCreated, Producer, json_kind};
    pub use crate::sync::outbox::Outbox;
    pub use crate::sync::reference_store::record_consent;
}

/// The version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `spec-kitty --version` and `spec-kitty --json --version` (in either order, `-V` too), answered
/// without building the command line or reading the environment: the same output as the full
/// path. `None` for any other arguments.
#[doc(hidden)]
pub fn quick_version(args: &[std::ffi::OsString]) -> Option<std::process::ExitCode> {
    let json = version_only(args)?;
    Some(output::Output::usage_error(
        json,
        &format!("spec-kitty {VERSION}\n"),
        output::ClapOutput::Version,
        VERSION,
    ))
}

/// `Some(json)` when the arguments after the program name ask for the version and nothing else.
fn version_only(args: &[std::ffi::OsString]) -> Option<bool> {
    let rest: Vec<&str> = args
        .iter()
        .skip(1)
        .map(|a| a.to_str())
        .collect::<Option<_>>()?;
    match rest.as_slice() {
        ["--version" | "-V"] => Some(false),
        ["--json", "--version" | "-V"] | ["--version" | "-V", "--json"] => Some(true),
        _ => None,
    }
}

/// The binary's entry point: run the CLI with explicit inputs (not part of the plugin API).
#[doc(hidden)]
pub fn run_cli(
    args: Vec<std::ffi::OsString>,
    env: Result<env::Env, env_file::EnvFileError>,
    identity: identity::MachineIdentity,
) -> std::process::ExitCode {
    cli::run(args, env, identity, clock::Clock::system(), VERSION)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_bare_version_request_takes_the_quick_path() {
        let ask = |args: &[&str]| {
            let args: Vec<std::ffi::OsString> = std::iter::once("spec-kitty")
                .chain(args.iter().copied())
                .map(Into::into)
                .collect();
            super::version_only(&args)
        };
        assert_eq!(ask(&["--version"]), Some(false));
        assert_eq!(ask(&["-V"]), Some(false));
        for json in [
            &["--json", "--version"][..],
            &["--json", "-V"],
            &["--version", "--json"],
            &["-V", "--json"],
        ] {
            assert_eq!(ask(json), Some(true), "{json:?}");
        }
        for other in [
            &[][..],
            &["--json"],
            &["--version", "--quiet"],
            &["paths", "--version"],
            &["--json", "--json", "--version"],
        ] {
            assert_eq!(ask(other), None, "{other:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let odd = vec![
                "spec-kitty".into(),
                std::ffi::OsString::from_vec(vec![0xff]),
            ];
            assert_eq!(
                super::version_only(&odd),
                None,
                "non-UTF-8 goes the full way"
            );
        }
    }
}

//! # kitty-testkit
//!
//! Run the `spec-kitty` CLI as a subprocess in a fully isolated home, seed real state exactly where
//! the product will read it, and assert strict-JSON stdout and structured stderr diagnostics.
//!
//! The rules it enforces by construction:
//!
//! - **One environment, built from nothing.** An [`IsolatedHome`] owns the exact environment map of
//!   every run: `PATH` is passed through, HOME, the XDG dirs, TMPDIR and `SPEC_KITTY_HOME` point
//!   into a per-test temporary directory, git can never walk above it, and every variable in the
//!   product's registry ([`spec_kitty::env::REGISTRY`]) is absent unless the test sets it.
//! - **One resolver.** [`IsolatedHome::runtime_root`] is the product's own
//!   [`RuntimeRoot::resolve`](spec_kitty::paths::RuntimeRoot::resolve) applied to that same map.
//!   Seeding methods never take a path, and [`IsolatedHome::check_drift`] asks the binary where it
//!   reads.
//! - **One way to spawn.** [`IsolatedHome::command`] is the only builder; a command built and never
//!   run panics; run results are `#[must_use]`; every assertion failure prints the command, the
//!   exit status, stdout and stderr in full.
//!
//! ## Finding the binary
//!
//! Integration tests of the package that builds `spec-kitty` find it automatically (cargo sets
//! `CARGO_BIN_EXE_spec-kitty`). Downstream plugins set `SPEC_KITTY_BIN=/path/to/spec-kitty`, or pass
//! [`IsolatedHomeBuilder::binary`].
//!
//! ## A whole test
//!
//! ```
//! use kitty_testkit::{FakeSaas, IsolatedHome, SessionSeed};
//! # let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
//! let saas = FakeSaas::start();
//! let home = IsolatedHome::builder().binary(bin).fake_saas(&saas).build();
//! home.seed(&SessionSeed::with_private_team());
//! home.assert_no_drift();
//!
//! let run = home.command().args(["auth", "status", "--json"]).run();
//! run.assert_success()
//!     .json()
//!     .assert_eq("/result", "success")
//!     .assert_eq("/authenticated", true)
//!     .assert_eq("/private_team_id", "team-private");
//! run.diagnostics().assert_none();
//! ```
#![deny(missing_docs)]

mod binary;
mod command;
mod diagnostics;
mod drift;
mod fake_saas;
pub mod fixtures;
mod home;
mod json;
mod outbox;
mod repo;
mod seed;
mod snapshot;

pub use binary::{BIN_OVERRIDE_VAR, SpecKittyBin};
pub use command::{KittyCommand, RunOutput, RunningKitty};
pub use diagnostics::{DiagnosticLine, Diagnostics, SyncDiagnosticCode, parse_diagnostics};
pub use drift::DriftError;
pub use fake_saas::{
    BatchAnswer, DevicePoll, FakeSaas, MeAnswer, RecordedRequest, RefreshAnswer, refusing_url,
};
pub use home::{IsolatedHome, IsolatedHomeBuilder, KEEP_VAR};
pub use json::{JsonDoc, StrictJsonError, parse_strict_json};
pub use outbox::HeldLock;
pub use repo::{Repo, RepoBuilder};
pub use seed::{BrokenSeed, SessionSeed, team};
pub use snapshot::DirSnapshot;

/// The product library, re-exported so plugin tests use the same types.
pub use spec_kitty;

/// The binary cargo built for the calling integration test (`env!("CARGO_BIN_EXE_spec-kitty")`
/// at the call site), unless `SPEC_KITTY_BIN` overrides it at run time.
///
/// Outside such a test (no `CARGO_BIN_EXE_spec-kitty` at compile time) it falls back to
/// [`SpecKittyBin::require`].
///
/// ```
/// # if kitty_testkit::SpecKittyBin::discover().is_none() { return }
/// let bin = kitty_testkit::spec_kitty_bin!();
/// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
/// home.command().arg("--version").run().assert_success();
/// ```
#[macro_export]
macro_rules! spec_kitty_bin {
    () => {
        match (
            ::std::env::var_os($crate::BIN_OVERRIDE_VAR).filter(|v| !v.is_empty()),
            ::std::option_env!("CARGO_BIN_EXE_spec-kitty"),
        ) {
            (Some(path), _) => $crate::SpecKittyBin::at(::std::path::PathBuf::from(path)),
            (None, Some(path)) => $crate::SpecKittyBin::at(path),
            (None, None) => $crate::SpecKittyBin::require(),
        }
    };
}

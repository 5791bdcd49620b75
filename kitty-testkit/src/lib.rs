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
//! In the examples below, `# let Some(bin) = SpecKittyBin::discover() else { return };` skips the
//! example when no binary is known (this crate's doctests run with `SPEC_KITTY_BIN` set in CI).
//!
//! ## 1. An isolated home with an exact environment
//!
//! ```
//! use kitty_testkit::IsolatedHome;
//! let home = IsolatedHome::builder()
//!     .sync(true)                              // SPEC_KITTY_ENABLE_SAAS_SYNC=1
//!     .refusing_server()                       // SPEC_KITTY_SAAS_URL -> nothing listens
//!     .env("SPEC_KITTY_LOG", "trace")
//!     .build();
//! // Nothing from the test process leaks in but PATH; every base directory is in the sandbox.
//! assert!(home.var("HOME").unwrap().starts_with(home.path().to_str().unwrap()));
//! assert!(home.var("XDG_CONFIG_HOME").unwrap().starts_with(home.path().to_str().unwrap()));
//! assert_eq!(home.var("SPEC_KITTY_QUIET"), None);
//! // The runtime root is the product's resolver applied to that same map.
//! assert!(home.runtime_root().base().starts_with(home.path()));
//! ```
//!
//! ## 2. Seeding through the product's store (never a path)
//!
//! ```
//! use kitty_testkit::{BrokenSeed, IsolatedHome, SessionSeed};
//! let home = IsolatedHome::new();
//! let session = home.seed(&SessionSeed::shared_only().access_expired());
//! assert!(session.private_team().is_none());
//! assert_eq!(home.read_session().unwrap().email, session.email);
//!
//! let broken = IsolatedHome::new();
//! broken.seed_broken(BrokenSeed::TamperedCiphertext);
//! assert!(broken.session_store().read().is_err());
//! ```
//!
//! ## 3. Running the binary, strict JSON, and the drift canary
//!
//! ```
//! use kitty_testkit::{IsolatedHome, SessionSeed, SpecKittyBin};
//! # let Some(bin) = SpecKittyBin::discover() else { return };
//! let home = IsolatedHome::builder().binary(bin).build();
//! home.seed(&SessionSeed::with_private_team());
//! home.assert_no_drift(); // `spec-kitty paths --json` reads where we seeded
//! let run = home.command().args(["auth", "status", "--json"]).run();
//! run.assert_success()
//!     .json()                                  // exactly one JSON object, or a full-stream panic
//!     .assert_eq("/authenticated", true)
//!     .assert_eq("/private_team_id", "team-private");
//! ```
//!
//! ## 4. Diagnostics on stderr, typed
//!
//! ```
//! use kitty_testkit::{IsolatedHome, SessionSeed, SpecKittyBin, SyncDiagnosticCode};
//! # let Some(bin) = SpecKittyBin::discover() else { return };
//! let home = IsolatedHome::builder().binary(bin).sync(true).refusing_server().build();
//! home.seed(&SessionSeed::shared_only());
//! let repo = home.repo().build();
//! let run = home.command().current_dir(repo.path())
//!     .args(["agent", "mission", "create", "demo", "--json"]).run();
//! run.assert_success();
//! run.diagnostics()
//!     .assert_exactly_one(SyncDiagnosticCode::DirectIngressMissingPrivateTeam);
//! run.assert_nowhere("no valid access token");
//! assert_eq!(home.queued_events().len(), 1);
//! ```
//!
//! ## 5. A fake hosted service on loopback
//!
//! ```
//! use kitty_testkit::{BatchAnswer, FakeSaas, IsolatedHome, SessionSeed, SpecKittyBin};
//! # let Some(bin) = SpecKittyBin::discover() else { return };
//! let saas = FakeSaas::start();
//! saas.push_batch_answers([BatchAnswer::Status(401)]); // then success after one refresh
//! let home = IsolatedHome::builder().binary(bin).sync(true).fake_saas(&saas).build();
//! home.seed(&SessionSeed::with_private_team());
//! let repo = home.repo().build();
//! home.command().current_dir(repo.path())
//!     .args(["agent", "mission", "create", "shipped", "--json"]).run()
//!     .assert_success();
//! assert_eq!(saas.count("/oauth/token"), 1);
//! assert_eq!(saas.received_events().len(), 2); // the 401'd batch and its retry, gunzipped
//! assert!(home.queued_events().is_empty());
//! ```
//!
//! ## 6. Proving that nothing changed
//!
//! ```
//! use kitty_testkit::{DirSnapshot, IsolatedHome, SpecKittyBin};
//! # let Some(bin) = SpecKittyBin::discover() else { return };
//! let home = IsolatedHome::builder().binary(bin).build();
//! let repo = home.repo().branch("main").build();
//! let before = DirSnapshot::of(repo.path());
//! let run = home.command().current_dir(repo.path())
//!     .args(["agent", "mission", "create", "x", "--json"]).run();
//! run.assert_code(1).json().assert_eq("/error_code", "protected_branch");
//! before.assert_unchanged(&DirSnapshot::of(repo.path()));
//! ```
//!
//! ## 7. Plugins
//!
//! Put `spec-kitty-<name>` in [`IsolatedHome::bin_dir`] (or
//! [`IsolatedHomeBuilder::prepend_path`]) and run `spec-kitty <name>`; run the plugin itself under
//! the same environment with [`IsolatedHome::program`]. The example plugin in this repository
//! (`examples/kitty-plugin-whoami`) is tested exactly this way.
//!
//! ## 8. rstest fixtures
//!
//! [`fixtures`] holds per-test `home`, `fake_saas` and `refusing_url` fixtures.
#![deny(missing_docs)]

mod binary;
mod command;
mod contract;
mod diagnostics;
mod drift;
mod fake_saas;
pub mod fixtures;
mod git_shim;
mod home;
mod http;
mod json;
mod outbox;
mod plugin;
mod real_home;
mod reference;
mod repo;
mod rogue;
mod secrets;
mod seed;
mod snapshot;
mod stray;

pub use binary::{BIN_OVERRIDE_VAR, SpecKittyBin};
pub use command::{KittyCommand, RunOutput, RunningKitty};
pub use contract::{
    CONTRACT_LOG_VAR, CONTRACT_PYTHON_VAR, CONTRACT_VERSION, EventContract, VALIDATOR_SOURCE,
    Verdict,
};
pub use diagnostics::{DiagnosticLine, Diagnostics, SyncDiagnosticCode, parse_diagnostics};
pub use drift::DriftError;
pub use fake_saas::{
    BatchAnswer, DevicePoll, FakeSaas, MeAnswer, RecordedRequest, RefreshAnswer, refusing_url,
};
pub use git_shim::GitStall;
pub use home::{IsolatedHome, IsolatedHomeBuilder, KEEP_VAR};
pub use json::{JsonDoc, StrictJsonError, parse_strict_json};
pub use outbox::HeldLock;
pub use plugin::find_binary;
pub use real_home::RealHomeGuard;
pub use reference::{
    REFERENCE_OVERRIDE_VAR, REFERENCE_VENV, REFERENCE_VERSION, ReferenceCanary, ReferenceCli,
    ReferenceMissing,
};
pub use repo::{Repo, RepoBuilder};
pub use rogue::{Misbehaviour, RogueServer};
pub use seed::{BrokenSeed, SessionSeed, team};
pub use snapshot::DirSnapshot;

/// The product library, re-exported so plugin tests use the same types.
pub use spec_kitty;
/// Re-exported: chrono types appear in this API (session seeds' times).
pub use spec_kitty::chrono;

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

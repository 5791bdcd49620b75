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
//!   product's registry ([`spec_kitty::env::REGISTRY`]) is absent unless the test sets it, except
//!   those the harness sets itself: the base directories, `SPEC_KITTY_HOME`, and
//!   `SPEC_KITTY_POLL_SECOND_MS=10` (device-flow polls in milliseconds, not seconds).
//!   No `spec-kitty` or `spec-kitty-*` from outside the sandbox can answer on its `PATH`.
//! - **No stray state.** After every run of every kind ([`IsolatedHome::command`],
//!   [`IsolatedHome::program`], [`IsolatedHome::plugin_command`],
//!   [`IsolatedHome::reference_command`], spawned or not) and when the home is dropped, any file
//!   the product keeps under its root (the resolver's own list,
//!   [`RuntimeRoot::state_files`](spec_kitty::paths::RuntimeRoot::state_files): session store,
//!   outbox, locks, config, `.kitty.env`) found anywhere in the sandbox but where the binary reads
//!   it fails the test with both paths and the fix.
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
//! In the examples below, `let Some(bin) = SpecKittyBin::discover() else { return };` skips the
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
//! let Some(bin) = SpecKittyBin::discover() else { return }; // SPEC_KITTY_BIN, or skip
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
//! let Some(bin) = SpecKittyBin::discover() else { return }; // SPEC_KITTY_BIN, or skip
//! // Sync on, and the project opted in (as `spec-kitty sync opt-in` records it): without the
//! // grant a create queues nothing.
//! let home = IsolatedHome::builder().binary(bin).sync(true).sync_consent().refusing_server().build();
//! home.seed(&SessionSeed::shared_only());
//! let repo = home.repo().build();
//! let run = home.command().current_dir(repo.path())
//!     .args(["agent", "mission", "create", "demo", "--json"]).run();
//! run.assert_success();
//! run.diagnostics()
//!     .assert_exactly_one(SyncDiagnosticCode::DirectIngressMissingPrivateTeam);
//! run.assert_nowhere("no valid access token");
//! // The create's events (MissionCreated, SpecifyStarted, the mission's first dossier) wait.
//! assert_eq!(home.queued_events().len(), kitty_testkit::EVENTS_PER_CREATE);
//! ```
//!
//! ## 5. A fake hosted service on loopback
//!
//! ```
//! use kitty_testkit::{BatchAnswer, FakeSaas, IsolatedHome, SessionSeed, SpecKittyBin};
//! let Some(bin) = SpecKittyBin::discover() else { return }; // SPEC_KITTY_BIN, or skip
//! let saas = FakeSaas::start();
//! saas.push_batch_answers([BatchAnswer::Status(401)]); // then success after one refresh
//! let home = IsolatedHome::builder().binary(bin).sync(true).sync_consent().fake_saas(&saas).build();
//! home.seed(&SessionSeed::with_private_team());
//! let repo = home.repo().build();
//! home.command().current_dir(repo.path())
//!     .args(["agent", "mission", "create", "shipped", "--json"]).run()
//!     .assert_success();
//! assert_eq!(saas.count("/oauth/token"), 1);
//! // The 401'd batch and its retry, gunzipped: each holds the create's events.
//! assert_eq!(saas.received_events().len(), 2 * kitty_testkit::EVENTS_PER_CREATE);
//! assert!(home.queued_events().is_empty());
//! ```
//!
//! ## 6. Proving that nothing changed
//!
//! ```
//! use kitty_testkit::{DirSnapshot, IsolatedHome, SpecKittyBin};
//! let Some(bin) = SpecKittyBin::discover() else { return }; // SPEC_KITTY_BIN, or skip
//! let home = IsolatedHome::builder().binary(bin).build();
//! let repo = home.repo().branch("main").build();
//! let before = DirSnapshot::of(repo.path());
//! let run = home.command().current_dir(repo.path())
//!     .args(["agent", "mission", "create", "x", "--json"]).run();
//! run.assert_code(1).json().assert_eq("/error_code", "protected_branch");
//! before.assert_unchanged(&DirSnapshot::of(repo.path()));
//! ```
//!
//! ## 7. Testing a plugin: a walk-through
//!
//! A plugin is an executable `spec-kitty-<name>` that `spec-kitty <name>` runs. This recipe is a
//! whole crate, outside any workspace (CI builds it from this text and runs its tests:
//! `scripts/outside-crate-check`). Its `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "spec-kitty-report"
//! version = "0.1.0"
//! edition = "2024"
//!
//! # spec-kitty and kitty-testkit are not on crates.io yet. Take both from a checkout of the
//! # repository (as here), or from git at a commit:
//! #   spec-kitty = { git = "https://github.com/spec-kitty/kitty", rev = "<commit>" }
//! #   kitty-testkit = { git = "https://github.com/spec-kitty/kitty", rev = "<commit>" }
//! # and, once published, `spec-kitty = "0.1"` and `kitty-testkit = "0.1"`.
//! [dependencies]
//! spec-kitty = { path = "../kitty/product" }   # the stable plugin API only (no features)
//! serde_json = "1"
//!
//! [dev-dependencies]
//! # No features: tests see exactly the API release builds see.
//! kitty-testkit = { path = "../kitty/kitty-testkit" }
//!
//! # Debug test runs derive the session key (scrypt) many times: optimise the crypto crates, or
//! # a debug suite is ~16x slower than release.
//! [profile.dev.package.scrypt]
//! opt-level = 3
//! [profile.dev.package.salsa20]
//! opt-level = 3
//! [profile.dev.package.pbkdf2]
//! opt-level = 3
//! [profile.dev.package.sha2]
//! opt-level = 3
//! [profile.dev.package.aes-gcm]
//! opt-level = 3
//! ```
//!
//! The host the tests run: `SPEC_KITTY_BIN=/path/to/spec-kitty`, else a `spec-kitty` on `PATH`
//! whose version is this testkit's (an installed kitty: `cargo install --path kitty/product`, or
//! its wheel), else a workspace build beside the test executable; a test that finds none fails
//! saying so ([`SpecKittyBin::require`]).
//!
//! The plugin (`src/main.rs`): the logged-in user's email, read as the host reads it:
//!
//! ```no_run
//! use spec_kitty::{auth::store::SessionStore, env::Env, identity::MachineIdentity, paths::RuntimeRoot};
//!
//! fn main() -> std::process::ExitCode {
//!     let env = Env::from_process();
//!     let session = RuntimeRoot::for_plugin(&env)
//!         .ok()
//!         .and_then(|root| SessionStore::new(root.auth_dir(), MachineIdentity::current()).read().ok())
//!         .flatten();
//!     let (doc, code) = match session {
//!         Some(s) => (serde_json::json!({"result": "success", "email": s.email}), 0),
//!         None => (serde_json::json!({"result": "error", "error_code": "not_authenticated"}), 1),
//!     };
//!     println!("{doc}");
//!     std::process::ExitCode::from(code)
//! }
//! ```
//!
//! In the plugin, read the environment and the root as the host does:
//! [`Env::from_process`](spec_kitty::env::Env::from_process), then
//! [`RuntimeRoot::for_plugin`](spec_kitty::paths::RuntimeRoot::for_plugin) (the host passes its
//! root in `SPEC_KITTY_RUNTIME_ROOT`), the session through
//! [`SessionStore::read`](spec_kitty::auth::store::SessionStore::read), the queue through
//! [`spec_kitty::sync::summary`], the project's missions and their work packages through
//! [`spec_kitty::missions`] (read-only). A missing plugin is the host's `plugin_not_found` (exit
//! 127), never your exit code.
//!
//! A plugin gets the host's environment as the host read it (the operator env files, `.kitty.env`,
//! folded in), plus these variables:
//!
//! | variable | value |
//! |---|---|
//! | `SPEC_KITTY_BIN` | the host's own executable: run it for anything the plugin needs the CLI to do |
//! | `SPEC_KITTY_RUNTIME_ROOT` | the host's runtime root ([`RuntimeRoot::for_plugin`](spec_kitty::paths::RuntimeRoot::for_plugin) reads it); removed when the host has none |
//! | `SPEC_KITTY_JSON` | `1` when `--json` came before the plugin's name |
//! | `SPEC_KITTY_QUIET` | `1` when `--quiet` came before the plugin's name |
//!
//! [`IsolatedHome::plugin_command`] sets `SPEC_KITTY_BIN` and `SPEC_KITTY_RUNTIME_ROOT` the same
//! way for a plugin run directly.
//!
//! The tests (`tests/report.rs`):
//!
//! ```no_run
//! use kitty_testkit::{IsolatedHome, SessionSeed};
//!
//! /// A home with this build of the plugin installed first on its PATH (a copy: rebuilding the
//! /// original cannot change what runs), checked to be what `spec-kitty report` runs.
//! fn home() -> IsolatedHome {
//!     let home = IsolatedHome::new();
//!     // Found at run time: nextest (also from an archive unpacked elsewhere), then cargo.
//!     let installed = home.install_plugin(&kitty_testkit::plugin_bin!("spec-kitty-report"));
//!     home.assert_plugin_resolves("report", &installed);
//!     home.assert_host_matches_testkit();
//!     home
//! }
//!
//! #[test]
//! fn reports_the_logged_in_user() {
//!     let home = home();
//!     home.seed(&SessionSeed::with_private_team()); // never a hand-built path
//!     let run = home.command().args(["report", "--json"]).run(); // dispatched by the host
//!     run.assert_success().json().assert_eq("/email", "ada@example.com");
//!     // The same run directly, with exactly what the host adds to the environment:
//!     let direct = home.plugin_command(&kitty_testkit::plugin_bin!("spec-kitty-report")).run();
//!     assert_eq!(direct.json().value(), run.json().value());
//! }
//! ```
//!
//! What fails on its own, with a message that says what to do:
//!
//! - a session written by hand anywhere but where the binary reads (the seed note's bug):
//!   `STRAY STATE: a session store at ...`, at the very next run of any kind, when the home is
//!   dropped, and in [`IsolatedHome::check_drift`];
//! - a stale copy of the plugin first on `PATH`: [`IsolatedHome::assert_plugin_resolves`];
//! - a host of another version: [`IsolatedHome::assert_host_matches_testkit`];
//! - using an internal module of `spec-kitty` (say `spec_kitty::internals::ids`): a compile error in the test
//!   build as in the release build (`module ids is private`).
//!
//! **Which host.** `SPEC_KITTY_BIN=/path/to/spec-kitty cargo nextest run` tests against an installed
//! release; every failure prints the `program:` that ran.
//!
//! **CI from an archive.** Build once, run anywhere, split N ways:
//!
//! ```sh
//! cargo nextest archive --archive-file plugin-tests.tar.zst
//! # on each runner (a checkout, no build folder), the host shipped beside the archive
//! # (nextest extracts only into a directory that exists):
//! mkdir -p "$RUNNER_TEMP/x"
//! SPEC_KITTY_BIN="$PWD/spec-kitty" cargo nextest run --archive-file plugin-tests.tar.zst \
//!     --workspace-remap . --extract-to "$RUNNER_TEMP/x" --partition count:1/3
//! ```
//!
//! `examples/kitty-plugin-whoami` in this repository is a complete plugin tested this way.
//!
//! **Nothing reaches the real HOME.** [`RealHomeGuard`] compares the top level of the real HOME
//! before and after (names and modification times only; nothing is read or walked).
//!
//! ## 8. The reference CLI, fast: the zygote and seeded homes
//!
//! [`IsolatedHome::reference_command`] runs the reference CLI (`spec-kitty-cli`, for differential
//! tests) under the home's exact environment. A fresh interpreter spends about a second importing
//! the reference before doing anything, so on Unix the run goes to the *reference zygote*
//! ([`zygote`]): a Python process under `target/reference-zygote/` that imported it once, shared by
//! every test process, which forks a child per run with the run's exact arguments, environment,
//! directory and stdio, redoes in the child what the import derived from HOME or the directory,
//! and refuses any run whose environment differs on another variable the import read. The API is
//! the same; [`RunOutput::launch`] says how a run was started. A run the zygote cannot take goes
//! to a direct subprocess with a note on stderr ([`Launch::DirectAfterZygote`]); set
//! `KITTY_REFERENCE_DIRECT=1` (or use [`ReferenceCli::direct`]) to run every reference directly,
//! when chasing a difference. A program that runs the reference itself (kitty delegating a
//! command) gets [`ReferenceCli::for_programs`], a stand-in that does the same. The suite
//! `tests/reference_parity/zygote.rs` compares zygote runs with direct runs.
//!
//! The reference's first run in a new home also writes some 600 files there (its runtime, every
//! agent's commands and skills), about 0.6 CPU-seconds of its start-up. Before a home's first
//! reference run they are copied in from a template the reference wrote once in a new home
//! ([`reference_home`]), so the home is as on a machine where the reference has run before;
//! `KITTY_REFERENCE_NEW_HOMES=1` (or [`ReferenceCli::unseeded`]) leaves every home new. CI runs
//! the differential suite once more with both variables set: every run cold, in new homes.
//!
//! ```no_run
//! let home = kitty_testkit::IsolatedHome::new();
//! let reference = kitty_testkit::ReferenceCli::require();
//! let run = home.reference_command(&reference).arg("--version").run();
//! assert_eq!(run.launch(), &kitty_testkit::Launch::Zygote);
//! let direct = home.reference_command(&reference.direct()).arg("--version").run();
//! assert_eq!(direct.stdout(), run.stdout());
//! ```
//!
//! ## 9. rstest fixtures
//!
//! [`fixtures`] holds per-test `home`, `fake_saas` and `refusing_url` fixtures. Every broken seed
//! as rstest values (a `const` array cannot feed `#[values]`; list the variants):
//!
//! ```
//! use kitty_testkit::{BrokenSeed, IsolatedHome};
//! #[rstest::rstest]
//! fn a_broken_store_is_refused(
//!     #[values(BrokenSeed::WorldReadable, BrokenSeed::WrongVersion, BrokenSeed::TamperedCiphertext,
//!              BrokenSeed::Truncated, BrokenSeed::NotJson, BrokenSeed::MissingSalt,
//!              BrokenSeed::ShortSalt)]
//!     broken: BrokenSeed,
//! ) {
//!     let home = IsolatedHome::new();
//!     home.seed_broken(broken);
//!     assert!(home.session_store().read().is_err());
//! }
//! # fn main() {}
//! ```
#![deny(missing_docs)]

mod binary;
mod command;
mod consent;
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
mod panics;
mod plugin;
mod poll;
mod process_env;
mod real_home;
mod redact;
mod reference;
pub mod reference_home;
mod repo;
mod rogue;
mod sandbox_root;
mod secrets;
mod seed;
mod snapshot;
mod stage_cache;
mod stages;
mod stray;
#[cfg(unix)]
pub mod zygote;
#[cfg(unix)]
mod zygote_shim;

pub use binary::{BIN_OVERRIDE_VAR, SpecKittyBin};
pub use command::{KittyCommand, Launch, RunOutput, RunningKitty};
pub use consent::PROJECT_UUID;

/// How many events one `agent mission create` queues with sync on and consent given, on a
/// fresh repository: `MissionCreated`, `SpecifyStarted`, then the mission's dossier (spec.md,
/// meta.json, status.events.jsonl, tasks/README.md) and its snapshot. `MissionCreated` is
/// always the first.
pub const EVENTS_PER_CREATE: usize = 7;
pub use contract::{
    CONTRACT_LOG_VAR, CONTRACT_PYTHON_VAR, CONTRACT_VERSION, EventContract, VALIDATOR_SOURCE,
    Verdict,
};
pub use diagnostics::{DiagnosticLine, Diagnostics, SyncDiagnosticCode, parse_diagnostics};
pub use drift::DriftError;
pub use fake_saas::{
    Availability, BatchAnswer, DevicePoll, FakeSaas, MeAnswer, RecordedRequest, RefreshAnswer,
    refusing_url,
};
pub use git_shim::GitStall;
pub use home::{IsolatedHome, IsolatedHomeBuilder, KEEP_VAR};
pub use json::{JsonDoc, StrictJsonError, parse_strict_json};
pub use outbox::HeldLock;
pub use panics::expect_panic;
pub use plugin::find_binary;
pub use real_home::RealHomeGuard;
pub use reference::{
    REFERENCE_OVERRIDE_VAR, REFERENCE_VENV, REFERENCE_VERSION, ReferenceCanary, ReferenceCli,
    ReferenceMissing,
};
pub use repo::{Repo, RepoBuilder};
pub use rogue::{Misbehaviour, RogueServer};
pub use sandbox_root::TMPDIR_VAR;
pub use seed::{BrokenSeed, SessionSeed, team};
pub use snapshot::DirSnapshot;

/// insta, for [`assert_json_snapshot!`] (feature `snapshots`).
#[cfg(feature = "snapshots")]
pub use insta;
pub use redact::Redactions;
/// The product library, re-exported so plugin tests use the same types.
pub use spec_kitty;
/// Re-exported: chrono types appear in this API (session seeds' times).
pub use spec_kitty::chrono;
pub use stages::{MissionStage, StagedMission};

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

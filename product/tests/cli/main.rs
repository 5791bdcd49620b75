//! Subprocess tests of the `spec-kitty` binary, all through kitty-testkit.

mod accept;
mod acceptance_verdict;
mod action_implement;
mod action_review;
mod approve;
mod auth_login;
mod auth_session;
mod delegation;
mod done;
mod dossier_events;
mod env_files;
mod event_contract;
mod final_sync;
mod finalize_tasks;
mod map_requirements;
mod mark_status;
mod merge;
mod merge_drivers;
mod merge_run;
mod mission_create;
mod missions_api;
mod move_task;
mod next_query;
mod paths;
mod plugins;
mod reject;
mod retrospect;
mod safe_commit;
mod session_interop;
mod sync_commands;
mod sync_consent;
mod terminal;
mod testkit_guards;
mod token_refresh;
mod upgrade;

/// Every home in these suites logs at trace level, so the harness's automatic leak check (no
/// seeded or issued token on stdout or stderr, on every run) sees everything a user could.
/// Its repositories' project has sync consent (the consent gate has its own tests, on homes
/// without it).
pub fn builder() -> kitty_testkit::IsolatedHomeBuilder {
    kitty_testkit::IsolatedHome::builder()
        .env("SPEC_KITTY_LOG", "trace")
        .sync_consent()
}

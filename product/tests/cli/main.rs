//! Subprocess tests of the `spec-kitty` binary, all through kitty-testkit.

mod auth_login;
mod auth_session;
mod final_sync;
mod mission_create;
mod paths;
mod plugins;
mod sync_commands;
mod testkit_guards;
mod token_refresh;

/// Every run in these suites logs at trace level, so leak checks see everything a user could.
pub fn traced(builder: kitty_testkit::IsolatedHomeBuilder) -> kitty_testkit::IsolatedHome {
    builder.env("SPEC_KITTY_LOG", "trace").build()
}

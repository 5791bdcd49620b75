//! The fault suite: hostile inputs, misbehaving servers and kills, each one a finding of the
//! reliability review, each kept here so it stays fixed. Every CLI run goes through kitty-testkit.

mod at_rest;
mod budget;
mod crash;
mod delivery;
mod messages;
mod output;
mod props;
mod server;
mod state;
mod urls;

/// Every home here logs at trace level, so the automatic leak check sees everything.
/// Its repositories' project has sync consent (the consent gate has its own tests, on homes
/// without it).
pub fn builder() -> kitty_testkit::IsolatedHomeBuilder {
    kitty_testkit::IsolatedHome::builder()
        .env("SPEC_KITTY_LOG", "trace")
        .sync_consent()
}

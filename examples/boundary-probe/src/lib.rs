//! Nothing, unless `lean-on-testkit-hooks`: then a library that uses the testkit's hidden hooks,
//! which must fail to compile (a plugin's release build does not have them).

#[cfg(feature = "lean-on-testkit-hooks")]
pub use spec_kitty::__testkit::Outbox;

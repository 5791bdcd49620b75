//! The strict-JSON auth regression suite (the seed note's test, made impossible to pass vacuously),
//! the same stdout contract for every `--json` command while sync is active, and tests of the tests.
//!
//! Everything goes through kitty-testkit: no hand-built paths, no `std::process::Command`.

mod contract;
mod guards_fail;
mod json_commands;
mod seed_scenario;

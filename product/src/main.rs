//! The `spec-kitty` binary: arguments → environment snapshot → handler → output → exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let env = spec_kitty::env::Env::from_process();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    spec_kitty::run_cli(args, env, spec_kitty::identity::MachineIdentity::current())
}

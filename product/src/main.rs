//! The `spec-kitty` binary: arguments → environment snapshot → handler → output → exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `--version` (alone, or with `--json`) needs nothing else: answer before any set-up.
    if let Some(code) = spec_kitty::quick_version(&args) {
        return code;
    }
    // The one read of the process environment, with the operator env files (`.kitty.env`)
    // folded in once, here, before anything reads a variable.
    let env = spec_kitty::env::Env::from_process();
    let env = match std::env::current_dir() {
        Ok(cwd) => spec_kitty::env_file::fold(env, &cwd),
        Err(_) => Ok(env),
    };
    spec_kitty::run_cli(args, env, spec_kitty::identity::MachineIdentity::current())
}

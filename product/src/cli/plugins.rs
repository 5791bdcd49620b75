//! External subcommands: `spec-kitty <name> ...` runs `spec-kitty-<name>` from PATH, like git and
//! cargo, and `spec-kitty plugins` lists them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use super::context::Ctx;
use super::error::CommandError;
use crate::env::vars;
use crate::mission::git::program::is_executable;
use crate::output::Report;

/// The executable-name prefix of a plugin.
pub const PLUGIN_PREFIX: &str = "spec-kitty-";

/// One plugin found on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    /// The subcommand name (`whoami` for `spec-kitty-whoami`).
    pub name: String,
    /// The executable.
    pub path: PathBuf,
}

/// Every plugin on `PATH` (first one wins for a name), sorted by name.
pub fn discover(ctx: &Ctx) -> Vec<Plugin> {
    let mut found: Vec<Plugin> = Vec::new();
    let Some(path) = ctx.env.get(vars::PATH) else {
        return found;
    };
    for dir in std::env::split_paths(path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut here: Vec<Plugin> = entries
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                let stem = file
                    .strip_suffix(std::env::consts::EXE_SUFFIX)
                    .unwrap_or(&file);
                let name = stem.strip_prefix(PLUGIN_PREFIX)?.to_string();
                (!name.is_empty() && is_executable(&e.path())).then(|| Plugin {
                    name,
                    path: e.path(),
                })
            })
            .collect();
        here.sort_by(|a, b| a.name.cmp(&b.name));
        for p in here {
            if !found.iter().any(|f| f.name == p.name) {
                found.push(p);
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// `spec-kitty plugins`.
pub fn list(ctx: &Ctx) -> Result<Report, CommandError> {
    let plugins = discover(ctx);
    let human = if plugins.is_empty() {
        "No plugins found on PATH (executables named spec-kitty-<name>).".to_string()
    } else {
        plugins
            .iter()
            .map(|p| format!("{:<16} {}", p.name, p.path.display()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Report::success(
        json!({
            "plugins": plugins.iter().map(|p| json!({"name": p.name, "path": p.path})).collect::<Vec<_>>()
        }),
        human,
    ))
}

/// Run plugin `name` with `args`, inheriting stdio; the exit code is the plugin's (a signal n
/// becomes 128+n). `Err` carries the usage message when no such plugin exists.
pub fn dispatch(
    ctx: &Ctx,
    name: &str,
    args: &[OsString],
    builtins: &[String],
) -> Result<ExitCode, String> {
    let plugins = discover(ctx);
    let Some(plugin) = plugins.iter().find(|p| p.name == name) else {
        let mut candidates: Vec<&str> = builtins.iter().map(String::as_str).collect();
        candidates.extend(plugins.iter().map(|p| p.name.as_str()));
        let mut close: Vec<&str> = candidates
            .into_iter()
            .filter(|c| is_close(name, c))
            .collect();
        close.sort_unstable();
        close.dedup();
        let hint = if close.is_empty() {
            String::new()
        } else {
            format!("\n\n  tip: a similar command exists: {}", close.join(", "))
        };
        return Err(format!(
            "'{name}' is neither a spec-kitty command nor a plugin: no `{PLUGIN_PREFIX}{name}` executable on PATH; run `spec-kitty plugins` to list the plugins found, or `spec-kitty --help` for the commands{hint}"
        ));
    };
    let mut cmd = std::process::Command::new(&plugin.path);
    cmd.args(args).env_clear().envs(ctx.env.iter_os());
    // Global flags given before the plugin's name reach it as variables (the documented
    // convention): `spec-kitty --json <plugin>` sets SPEC_KITTY_JSON=1.
    if ctx.out.is_json() {
        cmd.env(vars::SPEC_KITTY_JSON, "1");
    }
    if ctx.out.is_quiet() {
        cmd.env(vars::SPEC_KITTY_QUIET, "1");
    }
    if let Ok(me) = std::env::current_exe() {
        cmd.env(vars::SPEC_KITTY_BIN, me);
    }
    match ctx.root() {
        Ok(root) => {
            cmd.env(vars::SPEC_KITTY_RUNTIME_ROOT, root.base());
        }
        Err(_) => {
            cmd.env_remove(vars::SPEC_KITTY_RUNTIME_ROOT);
        }
    }
    let status = cmd
        .status()
        .map_err(|e| format!("error: cannot run plugin {}: {e}\n", plugin.path.display()))?;
    Ok(ExitCode::from(exit_byte(&status)))
}

pub(crate) fn exit_byte(status: &std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return u8::try_from((128 + sig) & 0xff).unwrap_or(1);
        }
    }
    1
}

/// Close enough to suggest: edit distance at most 2, or one a prefix of the other.
fn is_close(a: &str, b: &str) -> bool {
    (a.len() >= 2 && b.starts_with(a)) || levenshtein(a, b) <= 2.min(a.len().max(b.len()) / 2)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_matches() {
        assert!(is_close("auht", "auth"));
        assert!(is_close("sy", "sync"));
        assert!(!is_close("zzz", "auth"));
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        // Two-letter names: one edit is close, two are not.
        assert!(is_close("ab", "ax"));
        assert!(!is_close("ab", "xy"));
        // A prefix of two letters or more is close however far apart; one letter is not.
        assert!(is_close("who", "whoami"));
        assert!(!is_close("w", "whoami"));
    }

    #[test]
    fn only_executable_files_are_plugins() {
        let dir = tempfile::tempdir().unwrap();
        // The executable bit is Unix-only: elsewhere every file on PATH counts.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = |name: &str, mode: u32| {
                let path = dir.path().join(name);
                std::fs::write(&path, b"#!/bin/sh\n").unwrap();
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
                path
            };
            assert!(is_executable(&file("a", 0o755)));
            assert!(
                is_executable(&file("b", 0o100)),
                "owner-executable is enough"
            );
            assert!(!is_executable(&file("c", 0o644)));
            assert!(!is_executable(&file("d", 0o000)));
        }
        let sub = dir.path().join("dir");
        std::fs::create_dir(&sub).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert!(!is_executable(&sub), "a directory is not a plugin");
        assert!(!is_executable(&dir.path().join("missing")));
    }
}

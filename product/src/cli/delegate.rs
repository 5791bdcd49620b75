//! Delegation: a command kitty does not implement natively runs the reference CLI
//! (`spec-kitty-cli`) with exactly the same arguments, stdio, directory and environment.
//!
//! The reference is the executable `SPEC_KITTY_REFERENCE` names (empty: none), else the next
//! `spec-kitty` on PATH that is not kitty: never this binary (through a symlink or a copy) and
//! never another kitty build (each carries [`KITTY_MARKER`]), so delegation cannot loop.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::reference_commands::{COMMANDS, Kind};
use crate::env::{Env, vars};
use crate::mission::git::program::is_executable;

/// Bytes every kitty binary carries (and a reference never does): how a `spec-kitty` on PATH is
/// told to be another kitty build rather than the reference.
pub static KITTY_MARKER: &[u8] = b"\x00kitty:native-spec-kitty-binary:4b495459\x00";

/// The executable name looked for on PATH.
const EXE: &str = if cfg!(windows) {
    "spec-kitty.exe"
} else {
    "spec-kitty"
};

/// The one line that installs the reference.
pub const INSTALL_LINE: &str = "pip install spec-kitty-cli==3.2.7";

/// The reference CLI found for this command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Its executable.
    pub path: PathBuf,
    /// Where it was found: `SPEC_KITTY_REFERENCE` or `PATH`.
    pub found_by: &'static str,
}

impl Reference {
    /// Its version, read from the Python package's metadata next to the interpreter its script
    /// names (no process is started); `None` when it cannot be told that way.
    pub fn version(&self) -> Option<String> {
        let mut head = String::new();
        std::fs::File::open(&self.path)
            .ok()?
            .take(512)
            .read_to_string(&mut head)
            .ok()?;
        let python = PathBuf::from(head.lines().next()?.strip_prefix("#!")?.trim());
        let venv = python.parent()?.parent()?;
        for lib in std::fs::read_dir(venv.join("lib")).ok()?.flatten() {
            let site = lib.path().join("site-packages");
            for entry in std::fs::read_dir(site).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(version) = name
                    .strip_prefix("spec_kitty_cli-")
                    .and_then(|rest| rest.strip_suffix(".dist-info"))
                {
                    return Some(version.to_string());
                }
            }
        }
        None
    }
}

/// Why no reference can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReference {
    /// `SPEC_KITTY_REFERENCE` is set to the empty string: delegation is off.
    Off,
    /// No `spec-kitty` on PATH but kitty itself.
    NotFound,
    /// `SPEC_KITTY_REFERENCE` names something unusable (missing, or kitty itself).
    Unusable {
        /// The value.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },
}

impl std::fmt::Display for NoReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Off => write!(
                f,
                "{} is empty (delegation is off)",
                vars::SPEC_KITTY_REFERENCE
            ),
            Self::NotFound => write!(f, "no spec-kitty on PATH but kitty itself"),
            Self::Unusable { path, why } => {
                write!(f, "{}={} {why}", vars::SPEC_KITTY_REFERENCE, path.display())
            }
        }
    }
}

/// The reference for a command run with `env` by the binary at `me`.
pub fn find(env: &Env, me: Option<&Path>) -> Result<Reference, NoReference> {
    let me = me.and_then(|m| std::fs::canonicalize(m).ok());
    if let Some(named) = env.get(vars::SPEC_KITTY_REFERENCE) {
        if named.is_empty() {
            return Err(NoReference::Off);
        }
        let path = PathBuf::from(named);
        return match judge(&path, me.as_deref()) {
            Candidate::Reference => Ok(Reference {
                path,
                found_by: vars::SPEC_KITTY_REFERENCE,
            }),
            Candidate::Kitty => Err(NoReference::Unusable {
                path,
                why: "is kitty itself, not the reference: point it at spec-kitty-cli's executable",
            }),
            Candidate::Missing => Err(NoReference::Unusable {
                path,
                why: "is not an executable file: point it at spec-kitty-cli's executable",
            }),
        };
    }
    let path_var = env.get(vars::PATH).unwrap_or_default();
    std::env::split_paths(path_var)
        .map(|dir| dir.join(EXE))
        .find(|candidate| judge(candidate, me.as_deref()) == Candidate::Reference)
        .map(|path| Reference {
            path,
            found_by: vars::PATH,
        })
        .ok_or(NoReference::NotFound)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Reference,
    Kitty,
    Missing,
}

/// What the executable at `path` is: this binary or another kitty build, the reference (a
/// script, or a binary without kitty's marker), or nothing runnable.
fn judge(path: &Path, me: Option<&Path>) -> Candidate {
    let Ok(real) = std::fs::canonicalize(path) else {
        return Candidate::Missing;
    };
    if !is_executable(&real) {
        return Candidate::Missing;
    }
    if me == Some(real.as_path()) {
        return Candidate::Kitty;
    }
    let Ok(mut file) = std::fs::File::open(&real) else {
        return Candidate::Missing;
    };
    let mut magic = [0u8; 2];
    if file.read_exact(&mut magic).is_ok() && &magic == b"#!" {
        // A script (pip's and uv's console scripts): never a kitty binary.
        return Candidate::Reference;
    }
    // A binary: kitty when it carries the marker (a copy of this one, or another version).
    match std::fs::read(&real) {
        Ok(bytes) if contains(&bytes, KITTY_MARKER) => Candidate::Kitty,
        Ok(_) => Candidate::Reference,
        Err(_) => Candidate::Missing,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The command path `args` (after the program name) names: the longest run of leading words,
/// global flags skipped, that is a path of the reference's tree; `None` when the first word is
/// not one of its commands.
pub fn reference_command(args: &[OsString]) -> Option<String> {
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .filter(|a| !is_global_flag(a))
        .take_while(|a| !a.starts_with('-'))
        .collect();
    (1..=words.len())
        .rev()
        .map(|n| words[..n].join(" "))
        .find(|path| COMMANDS.iter().any(|(p, _)| p == path))
}

/// Whether `path` is a command (not a group) of the reference's tree.
pub fn is_reference_leaf(path: &str) -> bool {
    COMMANDS
        .iter()
        .any(|(p, kind)| *p == path && *kind == Kind::Command)
}

fn is_global_flag(arg: &str) -> bool {
    matches!(arg, "--json" | "--quiet" | "-q") || arg.starts_with("--json=")
}

/// Replace this process with the reference run with `args` (after the program name); on Unix it
/// returns only when the exec failed. Elsewhere the reference runs as a child and its exit status
/// is returned.
pub fn run(reference: &Reference, args: &[OsString]) -> Result<std::process::ExitCode, String> {
    let mut cmd = std::process::Command::new(&reference.path);
    cmd.args(args.iter().skip(1));
    let failed = |e: std::io::Error| {
        format!(
            "cannot run the reference CLI {} ({e}); reinstall it (`{INSTALL_LINE}`) or point {} at it",
            reference.path.display(),
            vars::SPEC_KITTY_REFERENCE
        )
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if let Some(arg0) = args.first() {
            cmd.arg0(arg0);
        }
        Err(failed(cmd.exec()))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(failed)?;
        Ok(std::process::ExitCode::from(super::plugins::exit_byte(
            &status,
        )))
    }
}

/// The error for `command`, a command of the reference that kitty does not implement, when no
/// reference can run it.
pub fn missing_message(command: &str, why: &NoReference) -> String {
    format!(
        "`spec-kitty {command}` is a command of the reference CLI (spec-kitty-cli) that kitty does not implement natively, and no reference can run it ({why}). Install it after kitty on PATH with `{INSTALL_LINE}` (or `uv tool install spec-kitty-cli==3.2.7`), or set {}=/path/to/its/spec-kitty",
        vars::SPEC_KITTY_REFERENCE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        std::iter::once("spec-kitty")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_command_path_is_the_longest_known_prefix_after_global_flags() {
        let path = |w: &[&str]| reference_command(&args(w));
        assert_eq!(
            path(&["--json", "agent", "tasks", "move-task", "WP01", "--to", "x"]).as_deref(),
            Some("agent tasks move-task")
        );
        assert_eq!(path(&["agent", "tasks"]).as_deref(), Some("agent tasks"));
        assert_eq!(
            path(&["next", "--agent", "claude"]).as_deref(),
            Some("next")
        );
        assert_eq!(path(&["agent", "nonsense"]).as_deref(), Some("agent"));
        assert_eq!(path(&["frobnicate"]), None);
        assert_eq!(path(&[]), None);
        assert!(is_reference_leaf("merge-driver-event-log"));
        assert!(!is_reference_leaf("agent"));
        assert!(!is_reference_leaf("frobnicate"));
    }

    #[cfg(unix)]
    #[test]
    fn kitty_is_never_its_own_reference_but_a_script_is() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let exec = |p: &Path| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let me = dir.path().join("kitty-bin");
        let mut body = b"\x7fELF....".to_vec();
        body.extend_from_slice(KITTY_MARKER);
        std::fs::write(&me, &body).unwrap();
        exec(&me);
        // PATH: a symlink to this binary, a copy of it, a script without the x bit, then the
        // reference (a script); `e` holds a binary without kitty's marker.
        let (a, b, c, d, e) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
            dir.path().join("d"),
            dir.path().join("e"),
        );
        for x in [&a, &b, &c, &d, &e] {
            std::fs::create_dir(x).unwrap();
        }
        // Longer than the marker, so the search looks at every window of it.
        let mut other = b"\x7fELF.... a compiled reference ".to_vec();
        other.extend(std::iter::repeat_n(b'.', 4 * KITTY_MARKER.len()));
        std::fs::write(e.join(EXE), other).unwrap();
        exec(&e.join(EXE));
        std::os::unix::fs::symlink(&me, a.join(EXE)).unwrap();
        std::fs::write(b.join(EXE), &body).unwrap();
        exec(&b.join(EXE));
        std::fs::write(c.join(EXE), "#!/bin/sh\n").unwrap();
        std::fs::write(d.join(EXE), "#!/usr/bin/python3\n").unwrap();
        exec(&d.join(EXE));
        let path = std::env::join_paths([&a, &b, &c, &d]).unwrap();
        let env = Env::from_pairs([("PATH", path.to_str().unwrap())]);
        let found = find(&env, Some(&me)).unwrap();
        assert_eq!((found.path, found.found_by), (d.join(EXE), "PATH"));
        // A binary without the marker is a reference too.
        let path = std::env::join_paths([&a, &b, &c, &e, &d]).unwrap();
        let env = Env::from_pairs([("PATH", path.to_str().unwrap())]);
        assert_eq!(find(&env, Some(&me)).unwrap().path, e.join(EXE));
        // Without d there is none.
        let path = std::env::join_paths([&a, &b, &c]).unwrap();
        let env = Env::from_pairs([("PATH", path.to_str().unwrap())]);
        assert_eq!(find(&env, Some(&me)), Err(NoReference::NotFound));
        // The variable wins, is checked the same way, and empty turns delegation off.
        let named = |v: &str| {
            find(
                &Env::from_pairs([("SPEC_KITTY_REFERENCE", v), ("PATH", "")]),
                Some(&me),
            )
        };
        assert_eq!(
            named(d.join(EXE).to_str().unwrap()).unwrap().found_by,
            "SPEC_KITTY_REFERENCE"
        );
        assert_eq!(named(""), Err(NoReference::Off));
        assert!(matches!(
            named(a.join(EXE).to_str().unwrap()),
            Err(NoReference::Unusable { .. })
        ));
        assert!(matches!(
            named(c.join(EXE).to_str().unwrap()),
            Err(NoReference::Unusable { .. })
        ));
    }

    #[test]
    fn the_version_comes_from_the_package_next_to_the_script_s_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("venv/bin");
        let site = dir
            .path()
            .join("venv/lib/python3.11/site-packages/spec_kitty_cli-3.2.7.dist-info");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&site).unwrap();
        let script = bin.join(EXE);
        std::fs::write(
            &script,
            format!("#!{}\nimport sys\n", bin.join("python3").display()),
        )
        .unwrap();
        let r = Reference {
            path: script,
            found_by: "PATH",
        };
        assert_eq!(r.version().as_deref(), Some("3.2.7"));
        let binary = Reference {
            path: dir.path().join("venv/lib"),
            found_by: "PATH",
        };
        assert_eq!(binary.version(), None);
    }
}

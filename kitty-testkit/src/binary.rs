//! Which `spec-kitty` binary the harness runs.

use std::path::{Path, PathBuf};

/// The test-process variable that points the harness at an installed `spec-kitty`.
pub const BIN_OVERRIDE_VAR: &str = "SPEC_KITTY_BIN";

/// A `spec-kitty` executable to run.
///
/// Resolution order: an explicit path ([`SpecKittyBin::at`]); `SPEC_KITTY_BIN` in the test
/// process; the `NEXTEST_BIN_EXE_spec-kitty` / `CARGO_BIN_EXE_spec-kitty` variables that nextest and
/// cargo set for integration tests of the package that builds the binary (so the binary is
/// always fresh); last, for other packages of the same workspace (plugins), the `spec-kitty` that
/// the workspace build left next to the test executable (only as fresh as the last workspace
/// build: run the whole workspace, or set `SPEC_KITTY_BIN`); last, for a crate outside the
/// workspace, the first `spec-kitty` on `PATH` that is kitty at this testkit's version.
///
/// ```
/// use kitty_testkit::SpecKittyBin;
/// let bin = SpecKittyBin::at("/opt/kitty/bin/spec-kitty");
/// assert_eq!(bin.path(), std::path::Path::new("/opt/kitty/bin/spec-kitty"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecKittyBin {
    path: PathBuf,
}

impl SpecKittyBin {
    /// An explicit executable.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Find the binary from the test process's environment, or `None`.
    ///
    /// ```
    /// // Inside this crate's own doctests no binary variable is guaranteed:
    /// let _maybe = kitty_testkit::SpecKittyBin::discover();
    /// ```
    pub fn discover() -> Option<Self> {
        Self::from_vars(|name| std::env::var_os(name))
            .or_else(Self::workspace_build)
            .or_else(Self::on_path)
    }

    /// The first `spec-kitty` on `PATH` that is kitty at this testkit's version (its `--version`
    /// says `spec-kitty <version>`; the reference CLI, or another version, is passed over), looked
    /// up once per process: the host of a crate outside the workspace.
    fn on_path() -> Option<Self> {
        static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
        FOUND
            .get_or_init(|| {
                let path = std::env::var_os("PATH")?;
                first_kitty_on(&path, &format!("spec-kitty {}", spec_kitty::VERSION))
            })
            .clone()
            .map(Self::at)
    }

    /// The first non-empty binary variable, looked up with `var`.
    fn from_vars(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<Self> {
        [
            BIN_OVERRIDE_VAR,
            // nextest's variable first: it is remapped when tests run from an archive.
            "NEXTEST_BIN_EXE_spec-kitty",
            "CARGO_BIN_EXE_spec-kitty",
        ]
        .iter()
        .find_map(|name| crate::process_env::non_empty(var(name)))
        .map(|p| Self::at(PathBuf::from(p)))
    }

    /// `target/<profile>/spec-kitty` next to the running test executable
    /// (`target/<profile>/deps/<test>`), if it exists.
    fn workspace_build() -> Option<Self> {
        let exe = std::env::current_exe().ok()?;
        let deps = exe.parent()?;
        if deps.file_name()? != "deps" {
            return None;
        }
        let candidate = deps
            .parent()?
            .join(format!("spec-kitty{}", std::env::consts::EXE_SUFFIX));
        candidate.is_file().then(|| Self::at(candidate))
    }

    /// Like [`discover`](Self::discover), panicking with the fix when nothing is found.
    ///
    /// ```should_panic
    /// # // SAFETY of the example: the variables are absent in a doctest unless set by the runner.
    /// # if kitty_testkit::SpecKittyBin::discover().is_some() { panic!("found") }
    /// kitty_testkit::SpecKittyBin::require();
    /// ```
    #[track_caller]
    pub fn require() -> Self {
        Self::discover().unwrap_or_else(|| {
            panic!(
                "kitty-testkit cannot find the spec-kitty binary (version {}) to run: set \
                 {BIN_OVERRIDE_VAR}=/path/to/spec-kitty, or put kitty's spec-kitty {} first on PATH \
                 (`cargo install --path <kitty checkout>/product`, or `pip install kitty-spec-kitty`), \
                 or pass IsolatedHome::builder().binary(path); inside the kitty workspace, \
                 `cargo build -p spec-kitty` is enough",
                spec_kitty::VERSION,
                spec_kitty::VERSION
            )
        })
    }

    /// The executable's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The first `spec-kitty` in the directories of `path` whose `--version` prints exactly `want`.
fn first_kitty_on(path: &std::ffi::OsStr, want: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(format!("spec-kitty{}", std::env::consts::EXE_SUFFIX)))
        .filter(|candidate| candidate.is_file())
        .find(|candidate| {
            std::process::Command::new(candidate)
                .arg("--version")
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == want)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn on_path_the_first_kitty_of_this_version_is_found_and_the_reference_passed_over() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fake = |sub: &str, says: &str| {
            let d = dir.path().join(sub);
            std::fs::create_dir_all(&d).unwrap();
            let exe = d.join("spec-kitty");
            std::fs::write(&exe, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
            d
        };
        let reference = fake("ref", "spec-kitty-cli version 3.2.7");
        let older = fake("old", "spec-kitty 0.0.9");
        let kitty = fake("kitty", "spec-kitty 0.1.0");
        let path =
            std::env::join_paths([&reference, &older, &dir.path().join("none"), &kitty]).unwrap();
        assert_eq!(
            first_kitty_on(&path, "spec-kitty 0.1.0"),
            Some(kitty.join("spec-kitty"))
        );
        let without = std::env::join_paths([&reference, &older]).unwrap();
        assert_eq!(first_kitty_on(&without, "spec-kitty 0.1.0"), None);
    }

    fn found(vars: &[(&str, &str)]) -> Option<PathBuf> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        };
        SpecKittyBin::from_vars(lookup).map(|b| b.path)
    }

    #[test]
    fn the_override_wins_then_nextest_then_cargo_and_empty_values_do_not_count() {
        let all = [
            ("CARGO_BIN_EXE_spec-kitty", "/cargo"),
            ("NEXTEST_BIN_EXE_spec-kitty", "/nextest"),
            (BIN_OVERRIDE_VAR, "/override"),
        ];
        assert_eq!(found(&all), Some(PathBuf::from("/override")));
        assert_eq!(found(&all[..2]), Some(PathBuf::from("/nextest")));
        assert_eq!(found(&all[..1]), Some(PathBuf::from("/cargo")));
        assert_eq!(
            found(&[(BIN_OVERRIDE_VAR, ""), all[0]]),
            Some(PathBuf::from("/cargo"))
        );
        assert_eq!(found(&[(BIN_OVERRIDE_VAR, "")]), None);
        assert_eq!(found(&[]), None);
    }
}

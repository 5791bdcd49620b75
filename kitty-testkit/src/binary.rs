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
/// the workspace build left next to the test executable. That last one is only as fresh as the
/// last workspace build: run the whole workspace, or set `SPEC_KITTY_BIN`.
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
        Self::from_vars(|name| std::env::var_os(name)).or_else(Self::workspace_build)
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
                "kitty-testkit cannot find the spec-kitty binary: set {BIN_OVERRIDE_VAR}=/path/to/spec-kitty, \
                 or run the test as an integration test of the package that builds `spec-kitty` \
                 (cargo then sets CARGO_BIN_EXE_spec-kitty), or build the workspace first \
                 (`cargo build -p spec-kitty`), or pass IsolatedHome::builder().binary(path)"
            )
        })
    }

    /// The executable's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

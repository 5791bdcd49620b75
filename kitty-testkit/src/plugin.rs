//! Plugin fixtures: install a plugin into the home, find a plugin binary at run time (nextest
//! archive first), run it exactly as the host would, and check which plugin the host runs.

use std::path::{Path, PathBuf};

use crate::{IsolatedHome, KittyCommand};

/// The path of a binary target at run time: `NEXTEST_BIN_EXE_<name>` (nextest sets it, also in a
/// run from an archive on another machine), else the path cargo compiled in (`compiled`, from
/// `env!("CARGO_BIN_EXE_<name>")`) when it exists. Prefer the [`plugin_bin!`](crate::plugin_bin)
/// macro, which supplies `compiled`.
///
/// ```
/// let found = kitty_testkit::find_binary("no-such-binary-anywhere", None);
/// assert!(found.is_err());
/// ```
pub fn find_binary(name: &str, compiled: Option<&str>) -> Result<PathBuf, String> {
    let under = name.replace('-', "_");
    for var in [
        format!("NEXTEST_BIN_EXE_{name}"),
        format!("NEXTEST_BIN_EXE_{under}"),
    ] {
        if let Some(p) = std::env::var_os(&var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
        {
            return Ok(p);
        }
    }
    if let Some(p) = compiled.map(PathBuf::from).filter(|p| p.is_file()) {
        return Ok(p);
    }
    Err(format!(
        "cannot find the binary `{name}`: NEXTEST_BIN_EXE_{name} is not set (run the tests with \
         cargo nextest, from a build or an archive) and the path cargo compiled in ({}) does not \
         exist on this machine",
        compiled.unwrap_or("none")
    ))
}

/// The path of this package's binary target `$name`, found at run time (see [`find_binary`]):
/// works from `cargo test`, `cargo nextest run` and a nextest archive unpacked elsewhere.
///
/// ```no_run
/// let plugin: std::path::PathBuf = kitty_testkit::plugin_bin!("spec-kitty-whoami");
/// ```
#[macro_export]
macro_rules! plugin_bin {
    ($name:literal) => {
        $crate::find_binary($name, option_env!(concat!("CARGO_BIN_EXE_", $name)))
            .unwrap_or_else(|e| panic!("{e}"))
    };
}

impl IsolatedHome {
    /// Copy the plugin executable `path` into this home's `bin/` (first on its `PATH`) and return
    /// where it now is. A copy, not a link: rebuilding the original later cannot change what the
    /// test runs, and nothing outside the sandbox can stand in for it.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let src = home.path().join("spec-kitty-hello");
    /// std::fs::write(&src, "#!/bin/sh\necho hi\n").unwrap();
    /// let installed = home.install_plugin(&src);
    /// assert_eq!(installed, home.bin_dir().join("spec-kitty-hello"));
    /// ```
    #[track_caller]
    pub fn install_plugin(&self, path: &Path) -> PathBuf {
        let name = path.file_name().expect("a plugin path names a file");
        let target = self.bin_dir().join(name);
        std::fs::copy(path, &target)
            .unwrap_or_else(|e| panic!("install plugin {}: {e}", path.display()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755));
        }
        target
    }

    /// Run the plugin executable `plugin` directly, with exactly what the host adds when it
    /// dispatches to it: `SPEC_KITTY_BIN` (this home's spec-kitty) and `SPEC_KITTY_RUNTIME_ROOT`
    /// (this home's runtime root). Direct and dispatched runs then see the same environment.
    ///
    /// ```no_run
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let run = home.plugin_command(&home.bin_dir().join("spec-kitty-whoami")).run();
    /// # let _ = run;
    /// ```
    pub fn plugin_command(&self, plugin: &Path) -> KittyCommand {
        let mut cmd = self
            .program(plugin)
            .env("SPEC_KITTY_BIN", self.host().path().to_string_lossy());
        if let Ok(root) = self.try_runtime_root() {
            cmd = cmd.env("SPEC_KITTY_RUNTIME_ROOT", root.base().to_string_lossy());
        }
        cmd
    }

    /// Assert that `spec-kitty <name>` would run exactly `expected` (asked of the host itself,
    /// through `spec-kitty plugins --json`): a stale copy elsewhere on `PATH` fails this.
    ///
    /// ```no_run
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let installed = home.install_plugin(std::path::Path::new("target/debug/spec-kitty-whoami"));
    /// home.assert_plugin_resolves("whoami", &installed);
    /// ```
    #[track_caller]
    pub fn assert_plugin_resolves(&self, name: &str, expected: &Path) {
        let run = self.command().args(["plugins", "--json"]).run();
        let doc = run.json();
        let found = doc
            .at("/plugins")
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name))
            .and_then(|p| p["path"].as_str())
            .map(PathBuf::from);
        let same = |a: &Path, b: &Path| {
            std::fs::canonicalize(a)
                .ok()
                .zip(std::fs::canonicalize(b).ok())
                .is_some_and(|(a, b)| a == b)
        };
        match found {
            Some(p) if same(&p, expected) => {}
            Some(p) => panic!(
                "`spec-kitty {name}` runs {} but the test expects {}: a stale plugin answers first\n{run}",
                p.display(),
                expected.display()
            ),
            None => panic!("no plugin `{name}` on this home's PATH\n{run}"),
        }
    }
}

impl IsolatedHome {
    /// Check that the host this home runs is the `spec-kitty` version this testkit was built
    /// against (same major and minor), so a test never silently exercises another release.
    ///
    /// ```no_run
    /// kitty_testkit::IsolatedHome::new().assert_host_matches_testkit();
    /// ```
    #[track_caller]
    pub fn assert_host_matches_testkit(&self) {
        let run = self.command().args(["--json", "--version"]).run();
        let host = run.json().str("/version").to_string();
        let minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
        assert_eq!(
            minor(&host),
            minor(spec_kitty::VERSION),
            "version skew: the host {} is spec-kitty {host}, but this kitty-testkit was built \
             against spec-kitty {}; point SPEC_KITTY_BIN at a matching release or update the \
             dev-dependency",
            self.host().path().display(),
            spec_kitty::VERSION
        );
    }
}

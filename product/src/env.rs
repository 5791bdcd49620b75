//! The environment snapshot and the registry of every variable the product reads.
//!
//! `main` builds one [`Env`] from the process; nothing else in the product reads the process
//! environment. Every name the product looks up is declared once in [`REGISTRY`], so a test
//! harness can clear all of them and a user can list them with `spec-kitty env`.

use std::collections::BTreeMap;

/// How a harness treats a registered variable when it builds an isolated environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// The harness removes the variable unless the test sets it explicitly.
    Cleared,
    /// The harness always sets the variable itself (a base directory such as `HOME`).
    SetByHarness,
}

/// One variable the product reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVarSpec {
    /// The variable's name.
    pub name: &'static str,
    /// What it does.
    pub meaning: &'static str,
    /// Its default, in words.
    pub default: &'static str,
    /// How a test harness treats it.
    pub isolation: Isolation,
}

macro_rules! registry {
    ($( $(#[$doc:meta])* $ident:ident = $name:literal, $meaning:literal, $default:literal, $iso:ident; )*) => {
        /// Names of the variables the product reads (each declared once, here).
        pub mod vars {
            $( $(#[$doc])* pub const $ident: &str = $name; )*
        }
        /// Every variable the product reads, in a stable order.
        pub const REGISTRY: &[EnvVarSpec] = &[
            $( EnvVarSpec { name: $name, meaning: $meaning, default: $default, isolation: Isolation::$iso }, )*
        ];
    };
}

registry! {
    /// Runtime root override.
    SPEC_KITTY_HOME = "SPEC_KITTY_HOME", "Runtime root (auth, sync, cache, config.toml), used verbatim when set and non-empty", "$HOME/.spec-kitty (Windows: %LOCALAPPDATA%\\spec-kitty)", Cleared;
    /// The user's home directory.
    HOME = "HOME", "Home directory; the runtime root defaults to $HOME/.spec-kitty", "none: required unless SPEC_KITTY_HOME is set", SetByHarness;
    /// Windows local application data.
    LOCALAPPDATA = "LOCALAPPDATA", "Windows only: the runtime root defaults to %LOCALAPPDATA%\\spec-kitty", "none", SetByHarness;
    /// Hosted service base URL.
    SPEC_KITTY_SAAS_URL = "SPEC_KITTY_SAAS_URL", "Base URL of the hosted service", "[sync].server_url in <root>/config.toml", Cleared;
    /// Sync opt-in.
    SPEC_KITTY_ENABLE_SAAS_SYNC = "SPEC_KITTY_ENABLE_SAAS_SYNC", "Enables sync when truthy (1, true, yes, y, on)", "off", Cleared;
    /// Sync kill switch.
    SPEC_KITTY_SYNC_DISABLE = "SPEC_KITTY_SYNC_DISABLE", "Disables sync when truthy, whatever else is set", "off", Cleared;
    /// Protected-branch override.
    SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS = "SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS", "Allows scaffold commits on protected branches when 1, true or yes (any case)", "off", Cleared;
    /// Quiet mode.
    SPEC_KITTY_QUIET = "SPEC_KITTY_QUIET", "Silences stderr when truthy (like --quiet)", "off", Cleared;
    /// Log filter.
    SPEC_KITTY_LOG = "SPEC_KITTY_LOG", "Log filter for stderr logs (error, warn, info, debug, trace, or target=level list)", "warn", Cleared;
    /// Colour opt-out.
    NO_COLOR = "NO_COLOR", "Disables colour in human output when set", "colour only on a terminal", Cleared;
    /// Final sync budget.
    SPEC_KITTY_FINAL_SYNC_BUDGET_MS = "SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "Total time budget of the final sync, in milliseconds (at most 3000; 0 turns the final sync off: events wait for `sync now`)", "3000", Cleared;
    /// Lock wait budget.
    SPEC_KITTY_LOCK_BUDGET_MS = "SPEC_KITTY_LOCK_BUDGET_MS", "How long to wait for the refresh or outbox lock, in milliseconds", "1000", Cleared;
    /// HTTP timeout.
    SPEC_KITTY_HTTP_TIMEOUT_MS = "SPEC_KITTY_HTTP_TIMEOUT_MS", "Connect and read timeout of each request to the hosted service, in milliseconds", "10000", Cleared;
    /// `sync now` deadline.
    SPEC_KITTY_SYNC_DEADLINE_MS = "SPEC_KITTY_SYNC_DEADLINE_MS", "Overall deadline of `sync now`, in milliseconds: no request starts after it, and each request's timeout is cut to what remains", "20000", Cleared;
    /// Device-flow time unit.
    SPEC_KITTY_POLL_SECOND_MS = "SPEC_KITTY_POLL_SECOND_MS", "Length of one second of the device-flow poll interval, in milliseconds (a test hook)", "1000", Cleared;
    /// Binary path given to plugins.
    SPEC_KITTY_BIN = "SPEC_KITTY_BIN", "Set for plugins: the path of the running spec-kitty binary", "set by spec-kitty", Cleared;
    /// `--json` given to plugins.
    SPEC_KITTY_JSON = "SPEC_KITTY_JSON", "Set for plugins: 1 when --json came before the plugin's name (and SPEC_KITTY_QUIET=1 for --quiet)", "set by spec-kitty", Cleared;
    /// Runtime root given to plugins.
    SPEC_KITTY_RUNTIME_ROOT = "SPEC_KITTY_RUNTIME_ROOT", "Set for plugins: the resolved runtime root", "set by spec-kitty", Cleared;
    /// Login name (reference node id).
    LOGNAME = "LOGNAME", "Login name: the first of LOGNAME, USER, LNAME, USERNAME names the user in the project node_id", "the password database entry of the uid", Cleared;
    /// Login name, second choice.
    USER = "USER", "Login name, if LOGNAME is unset", "the password database entry of the uid", Cleared;
    /// Login name, third choice.
    LNAME = "LNAME", "Login name, if LOGNAME and USER are unset", "the password database entry of the uid", Cleared;
    /// Login name, fourth choice.
    USERNAME = "USERNAME", "Login name, if LOGNAME, USER and LNAME are unset", "the password database entry of the uid", Cleared;
    /// Hot-path summary opt-out.
    SPEC_KITTY_DISABLE_SESSION_HOT_PATH = "SPEC_KITTY_DISABLE_SESSION_HOT_PATH", "When exactly 1, never read or write auth/session.hot-path.json (always decrypt the session)", "the summary is used", Cleared;
    /// Minimal-import switch (the reference's): sync off.
    SPEC_KITTY_SYNC_MINIMAL_IMPORT = "SPEC_KITTY_SYNC_MINIMAL_IMPORT", "Turns sync off when truthy, as in the reference (which then skips its sync machinery)", "off", Cleared;
    /// Temporary files.
    TMPDIR = "TMPDIR", "Where review prompt files are written (under spec-kitty-review-prompts/)", "/tmp", SetByHarness;
    /// Executable search path.
    PATH = "PATH", "Where git, plugins and the reference CLI are found", "inherited", SetByHarness;
    /// Retrospective switch (the reference's test override).
    SPEC_KITTY_RETROSPECTIVE = "SPEC_KITTY_RETROSPECTIVE", "Overrides the retrospective policy's `enabled` (the reference's test and development switch); when set, `retrospect create` runs through the reference", "the policy's value", Cleared;
    /// Retrospective mode (the reference's test override).
    SPEC_KITTY_MODE = "SPEC_KITTY_MODE", "Overrides the retrospective policy's timing and failure policy (the reference's test and development switch); when set, `retrospect create` runs through the reference", "the policy's values", Cleared;
    /// The reference's upgrade-nag switch.
    SPEC_KITTY_NO_NAG = "SPEC_KITTY_NO_NAG", "When set (and not 0, false, no or off), `upgrade --agent-check` answers `nag_disabled`", "unset", Cleared;
    /// The reference CLI commands kitty does not implement run through.
    SPEC_KITTY_REFERENCE = "SPEC_KITTY_REFERENCE", "The reference CLI (spec-kitty-cli) executable that commands kitty does not implement natively run through; empty turns delegation off", "the next spec-kitty on PATH that is not kitty", Cleared;
}

/// Values the product treats as "on" (any case).
const TRUTHY: &[&str] = &["1", "true", "yes", "y", "on"];

/// An immutable snapshot of environment variables: an ordered map of name to value.
///
/// ```
/// use spec_kitty::env::{Env, vars};
/// let env = Env::from_pairs([(vars::SPEC_KITTY_ENABLE_SAAS_SYNC, "Yes")]);
/// assert!(env.is_truthy(vars::SPEC_KITTY_ENABLE_SAAS_SYNC));
/// assert_eq!(env.get(vars::HOME), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// Variables whose value is not UTF-8, kept (passed to child processes) but never read.
    not_utf8: BTreeMap<String, std::ffi::OsString>,
    /// Variables that came from an operator env file, and which file.
    origins: BTreeMap<String, std::path::PathBuf>,
    /// The operator env files looked at (see [`crate::env_file`]).
    env_files: Vec<EnvFileReport>,
}

/// Where the value of a variable comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarSource {
    /// The process environment.
    Process,
    /// An operator env file (`.kitty.env`).
    File(std::path::PathBuf),
    /// Not set: the registry's default applies.
    Default,
}

/// Which operator env file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFileTier {
    /// `$SPEC_KITTY_HOME/.kitty.env` (or the config's `env_file:`).
    Home,
    /// `<repo>/.kittify/.kitty.env`.
    Repository,
}

impl EnvFileTier {
    /// `home` or `repository`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Home => "home",
            Self::Repository => "repository",
        }
    }
}

/// One operator env file the snapshot looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileReport {
    /// Its tier.
    pub tier: EnvFileTier,
    /// Its path.
    pub path: std::path::PathBuf,
    /// It exists.
    pub present: bool,
    /// Variables it supplied (not shadowed by the process or the repository tier).
    pub applied: Vec<String>,
    /// Lines it may not set (`SPEC_KITTY_HOME`), ignored.
    pub ignored: Vec<String>,
}

impl Env {
    /// Snapshot the current process environment. Only `main` calls this. A value that is not
    /// UTF-8 is kept aside: it is passed on to child processes, and if the variable is one the
    /// product reads, [`Env::unusable`] names it so the command can refuse to run (set but unusable
    /// is an error, never a silent fallback to the default).
    pub fn from_process() -> Self {
        Self::from_os_pairs(std::env::vars_os())
    }

    /// Build a snapshot from OS strings, as [`from_process`](Self::from_process) does.
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// use std::os::unix::ffi::OsStringExt;
    /// let bad = std::ffi::OsString::from_vec(b"/home/\xff".to_vec());
    /// let env = spec_kitty::env::Env::from_os_pairs([("SPEC_KITTY_HOME".into(), bad)]);
    /// assert_eq!(env.get("SPEC_KITTY_HOME"), None);
    /// assert_eq!(env.unusable(), vec!["SPEC_KITTY_HOME"]);
    /// # }
    /// ```
    pub fn from_os_pairs(
        pairs: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Self {
        let mut env = Self::default();
        for (k, v) in pairs {
            let Ok(k) = k.into_string() else { continue };
            match v.into_string() {
                Ok(v) => {
                    env.vars.insert(k, v);
                }
                Err(v) => {
                    env.not_utf8.insert(k, v);
                }
            }
        }
        env
    }

    /// Registered variables that are set to a value that is not UTF-8 (unusable, not unset).
    pub fn unusable(&self) -> Vec<&str> {
        REGISTRY
            .iter()
            .map(|s| s.name)
            .filter(|n| self.not_utf8.contains_key(*n))
            .collect()
    }

    /// Every variable for a child process, non-UTF-8 values included.
    pub fn iter_os(&self) -> impl Iterator<Item = (&str, &std::ffi::OsStr)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.as_str(), std::ffi::OsStr::new(v.as_str())))
            .chain(
                self.not_utf8
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_os_str())),
            )
    }

    /// This snapshot with `dir` first on `PATH` (for a child process that must find a program
    /// there first).
    pub fn with_path_first(&self, dir: &std::path::Path) -> Self {
        let mut env = self.clone();
        let rest = std::env::split_paths(self.get("PATH").unwrap_or_default());
        if let Ok(joined) = std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(rest))
            && let Ok(joined) = joined.into_string()
        {
            env.vars.insert("PATH".into(), joined);
        }
        env
    }

    /// Build a snapshot from explicit pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Self::default()
        }
    }

    /// Add a variable read from an operator env file (never over a set one).
    pub(crate) fn set_from_file(&mut self, name: String, value: String, file: std::path::PathBuf) {
        if !self.vars.contains_key(&name) {
            self.origins.insert(name.clone(), file);
            self.vars.insert(name, value);
        }
    }

    pub(crate) fn set_env_files(&mut self, files: Vec<EnvFileReport>) {
        self.env_files = files;
    }

    /// Where the value of `name` comes from.
    ///
    /// ```
    /// use spec_kitty::env::{Env, VarSource};
    /// let env = Env::from_pairs([("HOME", "/home/ada")]);
    /// assert_eq!(env.source("HOME"), VarSource::Process);
    /// assert_eq!(env.source("SPEC_KITTY_LOG"), VarSource::Default);
    /// ```
    pub fn source(&self, name: &str) -> VarSource {
        match (self.vars.contains_key(name), self.origins.get(name)) {
            (false, _) => VarSource::Default,
            (true, Some(file)) => VarSource::File(file.clone()),
            (true, None) => VarSource::Process,
        }
    }

    /// The operator env files this snapshot looked at (empty unless folded by
    /// [`crate::env_file::fold`]).
    pub fn env_files(&self) -> &[EnvFileReport] {
        &self.env_files
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value of `name` if set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// True when `name` holds one of `1, true, yes, y, on` (any case, surrounding blanks ignored).
    pub fn is_truthy(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| {
            let v = v.trim();
            TRUTHY.iter().any(|t| t.eq_ignore_ascii_case(v))
        })
    }

    /// A duration in milliseconds read from `name`, or `default` when unset or not a number.
    pub fn millis(&self, name: &str, default: u64) -> std::time::Duration {
        let ms = self
            .non_empty(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default);
        std::time::Duration::from_millis(ms)
    }

    /// True when `name` holds exactly `1`, `true` or `yes` in any case: the reference's narrower
    /// test for the protected-branch override.
    ///
    /// ```
    /// use spec_kitty::env::Env;
    /// assert!(Env::from_pairs([("X", "YES")]).is_strictly_truthy("X"));
    /// assert!(!Env::from_pairs([("X", "on")]).is_strictly_truthy("X"));
    /// assert!(!Env::from_pairs([("X", " 1")]).is_strictly_truthy("X"));
    /// ```
    pub fn is_strictly_truthy(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| {
            ["1", "true", "yes"]
                .iter()
                .any(|t| t.eq_ignore_ascii_case(v))
        })
    }

    /// Every variable in the snapshot, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Look up the registry entry of `name`.
pub fn spec(name: &str) -> Option<&'static EnvVarSpec> {
    REGISTRY.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_are_unique() {
        let mut names: Vec<_> = REGISTRY.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn spec_finds_exactly_the_registered_variable() {
        for entry in REGISTRY {
            assert_eq!(spec(entry.name), Some(entry), "{}", entry.name);
        }
        assert_eq!(spec("NOT_A_KITTY_VARIABLE"), None);
        assert_eq!(spec(""), None);
    }

    #[test]
    fn iter_gives_every_utf8_variable_in_name_order() {
        let env = Env::from_pairs([("B", "2"), ("A", "1")]);
        assert_eq!(env.iter().collect::<Vec<_>>(), vec![("A", "1"), ("B", "2")]);
        assert_eq!(Env::default().iter().count(), 0);
    }

    #[test]
    fn truthy_values() {
        for v in ["1", "TRUE", "yes", "Y", " on "] {
            assert!(Env::from_pairs([("X", v)]).is_truthy("X"), "{v}");
        }
        for v in ["0", "false", "", "nope"] {
            assert!(!Env::from_pairs([("X", v)]).is_truthy("X"), "{v}");
        }
    }
}

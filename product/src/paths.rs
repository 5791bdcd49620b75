//! The runtime root and every location derived from it. A path under the root is spelled once,
//! here.

use std::path::{Path, PathBuf};

use crate::env::{Env, vars};

/// Why the runtime root could not be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    /// Neither `SPEC_KITTY_HOME` nor `HOME` (nor `LOCALAPPDATA` on Windows) is set.
    #[error(
        "cannot locate the spec-kitty runtime root: neither SPEC_KITTY_HOME nor {home} is set; \
         set SPEC_KITTY_HOME to a directory spec-kitty may use, or set {home}"
    )]
    NoHome {
        /// The base variable this platform needs.
        home: &'static str,
    },
    /// The chosen root is not an absolute path.
    #[error(
        "the spec-kitty runtime root {path:?} (from {source_var}) is not an absolute path; set {source_var} to an absolute directory"
    )]
    NotAbsolute {
        /// The offending value.
        path: PathBuf,
        /// The variable it came from.
        source_var: &'static str,
    },
}

/// The operator env file's name, in the runtime root (the home tier's default) and in a
/// repository's `.kittify/` (the repository tier); `env_file` reads both.
pub const KITTY_ENV_FILE: &str = ".kitty.env";

/// A lane worktree's review lock, relative to the worktree (**interop**: the reference's).
pub const REVIEW_LOCK: &str = ".spec-kitty/review-lock.json";

/// Implement's workspace context of lane `lane` of mission `slug` in the project at `root`
/// (**interop**: the reference's `.kittify/workspaces/<slug>-<lane>.json`).
pub fn workspace_context(root: &Path, slug: &str, lane: &str) -> PathBuf {
    root.join(".kittify/workspaces")
        .join(format!("{slug}-{lane}.json"))
}

/// The review lock of the lane worktree `worktree`.
pub fn review_lock(worktree: &Path) -> PathBuf {
    worktree.join(REVIEW_LOCK)
}

/// The directory under which spec-kitty keeps all of its state.
///
/// ```
/// use spec_kitty::{env::Env, paths::RuntimeRoot};
/// let env = Env::from_pairs([("HOME", "/home/ada"), ("SPEC_KITTY_HOME", "/srv/kitty")]);
/// let root = RuntimeRoot::resolve(&env).unwrap();
/// assert_eq!(root.auth_dir(), std::path::Path::new("/srv/kitty/auth"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeRoot {
    base: PathBuf,
}

/// One named location, as `spec-kitty paths` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The stable key (`root`, `auth_dir`, ...).
    pub name: &'static str,
    /// The resolved path.
    pub path: PathBuf,
}

impl RuntimeRoot {
    /// Resolve the root from an environment snapshot. Pure: no I/O.
    ///
    /// `SPEC_KITTY_HOME` (set and non-empty) is used verbatim; otherwise `%LOCALAPPDATA%\spec-kitty`
    /// on Windows; otherwise `$HOME/.spec-kitty`.
    pub fn resolve(env: &Env) -> Result<Self, PathError> {
        if let Some(home) = env.non_empty(vars::SPEC_KITTY_HOME) {
            return Self::absolute(PathBuf::from(home), vars::SPEC_KITTY_HOME);
        }
        if cfg!(windows) {
            return match env.non_empty(vars::LOCALAPPDATA) {
                Some(dir) => Self::absolute(Path::new(dir).join("spec-kitty"), vars::LOCALAPPDATA),
                None => Err(PathError::NoHome {
                    home: vars::LOCALAPPDATA,
                }),
            };
        }
        match env.non_empty(vars::HOME) {
            Some(home) => Self::absolute(Path::new(home).join(".spec-kitty"), vars::HOME),
            None => Err(PathError::NoHome { home: vars::HOME }),
        }
    }

    fn absolute(base: PathBuf, source_var: &'static str) -> Result<Self, PathError> {
        if base.is_absolute() {
            Ok(Self { base })
        } else {
            Err(PathError::NotAbsolute {
                path: base,
                source_var,
            })
        }
    }

    /// A root at an explicit directory (for tools that already know it).
    pub fn at(base: impl Into<PathBuf>) -> Self {
        Self { base: base.into() }
    }

    /// The root itself.
    pub fn base(&self) -> &Path {
        &self.base
    }
    /// The runtime root as a plugin should find it: `SPEC_KITTY_RUNTIME_ROOT` (which the host
    /// sets to the root it resolved) when set to an absolute path, else
    /// [`resolve`](Self::resolve) on the same environment.
    ///
    /// ```
    /// use spec_kitty::{env::Env, paths::RuntimeRoot};
    /// let env = Env::from_pairs([("HOME", "/home/ada"), ("SPEC_KITTY_RUNTIME_ROOT", "/srv/kitty")]);
    /// assert_eq!(RuntimeRoot::for_plugin(&env).unwrap().base(), std::path::Path::new("/srv/kitty"));
    /// let env = Env::from_pairs([("HOME", "/home/ada")]);
    /// assert_eq!(RuntimeRoot::for_plugin(&env).unwrap().base(), std::path::Path::new("/home/ada/.spec-kitty"));
    /// ```
    pub fn for_plugin(env: &Env) -> Result<Self, PathError> {
        match env.non_empty(crate::env::vars::SPEC_KITTY_RUNTIME_ROOT) {
            Some(given) if Path::new(given).is_absolute() => Ok(Self {
                base: PathBuf::from(given),
            }),
            _ => Self::resolve(env),
        }
    }

    /// `<root>/auth`: the encrypted session store.
    pub fn auth_dir(&self) -> PathBuf {
        self.base.join("auth")
    }
    /// `<root>/sync`: the outbox database and its locks.
    pub fn sync_dir(&self) -> PathBuf {
        self.base.join("sync")
    }
    /// `<root>/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        self.base.join("cache")
    }
    /// `<root>/config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.base.join("config.toml")
    }
    /// `<root>/sync/outbox.sqlite3`.
    pub fn outbox_db(&self) -> PathBuf {
        self.sync_dir().join("outbox.sqlite3")
    }
    /// `<root>/sync/drain.lock`: held while one process drains the outbox.
    pub fn drain_lock(&self) -> PathBuf {
        self.sync_dir().join("drain.lock")
    }
    /// `<root>/projects/<uuid>/sync/sync.db`: the reference CLI's event store for one project
    /// (its queue, and the project's sync consent), which kitty only reads.
    ///
    /// ```
    /// let root = spec_kitty::paths::RuntimeRoot::at("/srv/kitty");
    /// assert_eq!(
    ///     root.reference_project_store("5f0c8c1e"),
    ///     std::path::Path::new("/srv/kitty/projects/5f0c8c1e/sync/sync.db")
    /// );
    /// ```
    pub fn reference_project_store(&self, project_uuid: &str) -> PathBuf {
        self.base
            .join("projects")
            .join(project_uuid)
            .join("sync")
            .join("sync.db")
    }

    /// `<root>/auth/refresh.lock`: serializes token refreshes across processes.
    pub fn refresh_lock(&self) -> PathBuf {
        self.auth_dir().join("refresh.lock")
    }

    /// Every file kitty keeps under this root, where it belongs, and what it is: a file of one of
    /// these names anywhere else is state put in the wrong place (kitty-testkit's stray-state
    /// check reads this list, so a file added here is checked the day it is added).
    ///
    /// ```
    /// let root = spec_kitty::paths::RuntimeRoot::at("/srv/kitty");
    /// let files = root.state_files();
    /// assert!(files.iter().any(|f| f.path == root.outbox_db()));
    /// assert!(files.iter().all(|f| f.path.starts_with("/srv/kitty")));
    /// ```
    pub fn state_files(&self) -> Vec<StateFile> {
        let session = SessionFiles::in_dir(&self.auth_dir());
        let summary = HotPathFiles::in_dir(&self.auth_dir());
        let outbox = self.outbox_db();
        let beside = |suffix: &str| {
            let mut name = outbox.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        };
        let file = |what, path| StateFile { what, path };
        vec![
            file("a session store", session.session),
            file("a session store", session.salt),
            file("a session store", session.lock),
            file("a session store", summary.summary),
            file("a session store", summary.tmp),
            file("a token refresh lock", self.refresh_lock()),
            file("an outbox database", outbox.clone()),
            file("an outbox database", beside("-wal")),
            file("an outbox database", beside("-shm")),
            file("a drain lock", self.drain_lock()),
            file("a config file", self.config_file()),
            file("an operator env file", self.base.join(KITTY_ENV_FILE)),
        ]
    }

    /// Every location, in a stable order, as `spec-kitty paths` reports them.
    pub fn locations(&self) -> Vec<Location> {
        vec![
            Location {
                name: "root",
                path: self.base.clone(),
            },
            Location {
                name: "auth_dir",
                path: self.auth_dir(),
            },
            Location {
                name: "session_file",
                path: SessionFiles::in_dir(&self.auth_dir()).session,
            },
            Location {
                name: "sync_dir",
                path: self.sync_dir(),
            },
            Location {
                name: "outbox_db",
                path: self.outbox_db(),
            },
            Location {
                name: "cache_dir",
                path: self.cache_dir(),
            },
            Location {
                name: "config_file",
                path: self.config_file(),
            },
        ]
    }
}

/// One file kitty keeps under its root ([`RuntimeRoot::state_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFile {
    /// What it is, as a stray-state report names it (`an outbox database`).
    pub what: &'static str,
    /// Where it belongs.
    pub path: PathBuf,
}

/// The files of a session store directory (`<root>/auth`, or the directory a plugin gives
/// `SessionStore::new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFiles {
    /// `session.json`: the encrypted blob.
    pub session: PathBuf,
    /// `session.salt`: the 16-byte scrypt salt.
    pub salt: PathBuf,
    /// `session.lock`: the advisory lock.
    pub lock: PathBuf,
}

impl SessionFiles {
    /// The files inside `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            session: dir.join("session.json"),
            salt: dir.join("session.salt"),
            lock: dir.join("session.lock"),
        }
    }
}

/// The reference's token-free session summary beside a session store's files (**interop**).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotPathFiles {
    /// `session.hot-path.json`.
    pub summary: PathBuf,
    /// `session.hot-path.json.tmp`: the summary while it is written (renamed into place).
    pub tmp: PathBuf,
}

impl HotPathFiles {
    /// The files inside the store directory `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            summary: dir.join("session.hot-path.json"),
            tmp: dir.join("session.hot-path.json.tmp"),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn spec_kitty_home_wins_verbatim() {
        let env = Env::from_pairs([("HOME", "/h"), ("SPEC_KITTY_HOME", "/x/y")]);
        assert_eq!(
            RuntimeRoot::resolve(&env).unwrap().base(),
            Path::new("/x/y")
        );
    }

    #[test]
    fn empty_spec_kitty_home_falls_back_to_home() {
        let env = Env::from_pairs([("HOME", "/h"), ("SPEC_KITTY_HOME", "")]);
        assert_eq!(
            RuntimeRoot::resolve(&env).unwrap().base(),
            Path::new("/h/.spec-kitty")
        );
    }

    #[test]
    fn no_home_is_an_error() {
        let env = Env::from_pairs([("HOME", "")]);
        assert_eq!(
            RuntimeRoot::resolve(&env),
            Err(PathError::NoHome { home: "HOME" })
        );
    }

    /// SPEC §2's derived locations, spelled out once here (the interop contract), so a change to
    /// any of them is a red test rather than a silent move of what the product reads.
    #[test]
    fn every_derived_location_is_where_the_contract_says() {
        let root = RuntimeRoot::resolve(&Env::from_pairs([("SPEC_KITTY_HOME", "/r")])).unwrap();
        let expected = [
            ("auth_dir", "/r/auth"),
            ("sync_dir", "/r/sync"),
            ("cache_dir", "/r/cache"),
            ("config_file", "/r/config.toml"),
            ("outbox_db", "/r/sync/outbox.sqlite3"),
            ("session_file", "/r/auth/session.json"),
            ("root", "/r"),
        ];
        let located: Vec<(&str, PathBuf)> = root
            .locations()
            .into_iter()
            .map(|l| (l.name, l.path))
            .collect();
        for (name, path) in expected {
            let found = located.iter().find(|(n, _)| *n == name);
            assert_eq!(
                found.map(|(_, p)| p.as_path()),
                Some(Path::new(path)),
                "{name}"
            );
        }
        assert_eq!(root.cache_dir(), Path::new("/r/cache"));
        assert_eq!(root.config_file(), Path::new("/r/config.toml"));
        assert_eq!(root.drain_lock(), Path::new("/r/sync/drain.lock"));
    }

    #[test]
    fn the_session_store_files_are_the_references() {
        let auth = RuntimeRoot::at("/r").auth_dir();
        let files = SessionFiles::in_dir(&auth);
        assert_eq!(files.session, Path::new("/r/auth/session.json"));
        assert_eq!(files.salt, Path::new("/r/auth/session.salt"));
        assert_eq!(files.lock, Path::new("/r/auth/session.lock"));
        let hot = HotPathFiles::in_dir(&auth);
        assert_eq!(hot.summary, Path::new("/r/auth/session.hot-path.json"));
        assert_eq!(hot.tmp, Path::new("/r/auth/session.hot-path.json.tmp"));
    }

    #[test]
    fn a_plugin_takes_the_hosts_root_only_when_it_is_absolute() {
        let env = Env::from_pairs([("HOME", "/h"), ("SPEC_KITTY_RUNTIME_ROOT", "/srv/k")]);
        assert_eq!(
            RuntimeRoot::for_plugin(&env).unwrap().base(),
            Path::new("/srv/k")
        );
        let env = Env::from_pairs([("HOME", "/h"), ("SPEC_KITTY_RUNTIME_ROOT", "rel/k")]);
        assert_eq!(
            RuntimeRoot::for_plugin(&env).unwrap().base(),
            Path::new("/h/.spec-kitty")
        );
        let env = Env::from_pairs([("HOME", "/h"), ("SPEC_KITTY_RUNTIME_ROOT", "")]);
        assert_eq!(
            RuntimeRoot::for_plugin(&env).unwrap().base(),
            Path::new("/h/.spec-kitty")
        );
    }

    #[test]
    fn relative_root_is_refused() {
        let env = Env::from_pairs([("SPEC_KITTY_HOME", "rel")]);
        assert!(matches!(
            RuntimeRoot::resolve(&env),
            Err(PathError::NotAbsolute { .. })
        ));
    }
}

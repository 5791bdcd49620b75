//! A second implementation of the CLI, driven in the same isolated home: the reference Python
//! `spec-kitty-cli`, for differential tests.
//!
//! The reference has no `paths` command, so the drift canary cannot ask it where it reads; the
//! [`ReferenceCanary`] says what it could and could not check instead of passing silently.

use std::path::{Path, PathBuf};

use crate::IsolatedHome;

/// Set this to the reference CLI's executable to override where it is looked for.
pub const REFERENCE_OVERRIDE_VAR: &str = "KITTY_REFERENCE_CLI";

/// The reference version the differential suites are written against.
pub const REFERENCE_VERSION: &str = "3.2.7";

/// Where `scripts/install-reference` puts the reference, relative to the workspace root.
pub const REFERENCE_VENV: &str = "target/reference-venv";

/// The reference CLI is not installed where the suites look.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the reference CLI (spec-kitty-cli=={REFERENCE_VERSION}) is not installed: looked for {looked}. \
     Install it with `bash scripts/install-reference` (a venv under {REFERENCE_VENV}), or set \
     {REFERENCE_OVERRIDE_VAR}=/path/to/spec-kitty"
)]
pub struct ReferenceMissing {
    /// What was looked for.
    pub looked: String,
}

/// The reference CLI's executable.
///
/// ```
/// use kitty_testkit::ReferenceCli;
/// let r = ReferenceCli::at("/opt/ref/bin/spec-kitty");
/// assert_eq!(r.path(), std::path::Path::new("/opt/ref/bin/spec-kitty"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceCli {
    path: PathBuf,
    direct: bool,
    new_homes: bool,
}

impl ReferenceCli {
    /// An explicit executable.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            direct: false,
            new_homes: false,
        }
    }

    /// The same reference, finding every home new: its first run in a home does its own start-up
    /// (as `KITTY_REFERENCE_NEW_HOMES=1` does for every run). By default a home is seeded, before
    /// its first reference run, with the files the reference's start-up writes into a new home,
    /// written once by the reference itself (see [`crate::reference_home`]).
    ///
    /// ```
    /// let r = kitty_testkit::ReferenceCli::at("/opt/ref/bin/spec-kitty");
    /// assert!(r.is_seeded());
    /// assert!(!r.unseeded().is_seeded());
    /// ```
    pub fn unseeded(mut self) -> Self {
        self.new_homes = true;
        self
    }

    /// Whether homes are seeded with the reference's start-up files before its first run there.
    pub fn is_seeded(&self) -> bool {
        !self.new_homes
    }

    /// The same reference, always run as a direct subprocess, never through the reference zygote
    /// (as `KITTY_REFERENCE_DIRECT=1` does for every run).
    ///
    /// ```
    /// let r = kitty_testkit::ReferenceCli::at("/opt/ref/bin/spec-kitty");
    /// assert!(!r.is_direct());
    /// assert!(r.direct().is_direct());
    /// ```
    pub fn direct(mut self) -> Self {
        self.direct = true;
        self
    }

    /// Whether runs of this reference skip the zygote.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// The zygote's report for a server with `home`'s environment (starting one if needed):
    /// `{"problems": [...], "compared": {NAME: value}, "handled": [...], "pid": N}` as JSON text:
    /// what would stop it from running requests faithfully, the variables read while importing
    /// that a request must match, and the reads a child redoes. Unix only.
    #[cfg(unix)]
    pub fn zygote_status(&self, home: &IsolatedHome) -> Result<String, String> {
        crate::zygote::status(&self.path, zygote_env(home))
    }

    /// The executable to hand to a program that runs the reference itself, such as kitty's
    /// `SPEC_KITTY_REFERENCE`: on Unix a stand-in (named like the reference, under
    /// `target/reference-zygote/`) that gives each run to the reference zygote with exactly what
    /// the program gave it, or becomes the reference (exec) whenever the zygote does not take the
    /// run; the reference itself when [`direct`](Self::direct), elsewhere, or when no zygote can
    /// start (then with a note on stderr). `home` picks the zygote (its environment).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let echo = kitty_testkit::ReferenceCli::at("/bin/echo");
    /// assert_eq!(echo.for_programs(&home), std::path::PathBuf::from("/bin/echo"));
    /// ```
    pub fn for_programs(&self, home: &IsolatedHome) -> PathBuf {
        crate::reference_home::seed(home, self);
        #[cfg(unix)]
        if !self.direct && crate::process_env::non_empty_var(crate::zygote::DIRECT_VAR).is_none() {
            match crate::zygote_shim::stand_in(&self.path, zygote_env(home)) {
                Ok(path) => return path,
                Err(crate::zygote::NotServed::NotApplicable) => {}
                Err(crate::zygote::NotServed::Failed(why)) => {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!(
                            "kitty-testkit: no reference zygote for programs, they run the \
                             reference directly: {why}"
                        );
                    }
                }
            }
        }
        let _ = home;
        self.path.clone()
    }

    /// Whether the zygote would run `args` in `dir` under `home`'s environment (`Err` with the
    /// reason it would run them directly instead), without running anything. Unix only.
    #[cfg(unix)]
    pub fn zygote_would_run(
        &self,
        home: &IsolatedHome,
        dir: &Path,
        args: &[&str],
    ) -> Result<(), String> {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        crate::zygote::check(&crate::zygote::Request {
            program: &self.path,
            args: &args,
            env: zygote_env(home),
            cwd: dir,
        })
    }

    /// `KITTY_REFERENCE_CLI`, else `target/reference-venv/bin/spec-kitty` in the first ancestor
    /// of the current directory that has one.
    ///
    /// ```
    /// // Without an installed reference this is an error that says how to install it.
    /// if let Err(e) = kitty_testkit::ReferenceCli::locate() {
    ///     assert!(e.to_string().contains("scripts/install-reference"));
    /// }
    /// ```
    pub fn locate() -> Result<Self, ReferenceMissing> {
        if let Some(p) = crate::process_env::non_empty_var(REFERENCE_OVERRIDE_VAR) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(Self::at(p))
            } else {
                Err(ReferenceMissing {
                    looked: format!("{REFERENCE_OVERRIDE_VAR}={}", p.display()),
                })
            };
        }
        let cwd = std::env::current_dir().unwrap_or_default();
        let rel = Path::new(REFERENCE_VENV).join("bin").join("spec-kitty");
        cwd.ancestors()
            .map(|a| a.join(&rel))
            .find(|p| p.is_file())
            .map(Self::at)
            .ok_or(ReferenceMissing {
                looked: format!("{} in {} and its ancestors", rel.display(), cwd.display()),
            })
    }

    /// [`locate`](Self::locate), panicking with the install instructions.
    #[track_caller]
    pub fn require() -> Self {
        Self::locate().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The executable.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn zygote_env(home: &IsolatedHome) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    home.env_map()
        .iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// What the canary could and could not verify about a run of the reference in a home.
///
/// ```
/// let home = kitty_testkit::IsolatedHome::new();
/// let canary = home.reference_canary();
/// assert!(canary.is_clean());
/// assert!(canary.to_string().contains("not checked"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceCanary {
    /// Checks that held.
    pub checked: Vec<String>,
    /// Checks that failed.
    pub failed: Vec<String>,
    /// What cannot be checked against the reference, and why.
    pub not_checked: Vec<String>,
}

impl ReferenceCanary {
    /// No check failed.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty()
    }
}

impl std::fmt::Display for ReferenceCanary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (label, items) in [
            ("checked", &self.checked),
            ("FAILED", &self.failed),
            ("not checked", &self.not_checked),
        ] {
            for i in items.iter() {
                writeln!(f, "{label}: {i}")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn canary(home: &IsolatedHome) -> ReferenceCanary {
    let mut c = ReferenceCanary {
        checked: Vec::new(),
        failed: Vec::new(),
        not_checked: vec![
            "where the reference itself reads: it has no `paths` command, so the runtime root is \
             inferred from SPEC_KITTY_HOME (which both implementations honour verbatim)"
                .into(),
        ],
    };
    match (
        home.try_runtime_root(),
        home.var(spec_kitty::env::vars::SPEC_KITTY_HOME),
    ) {
        (Ok(root), Some(skh)) if !skh.is_empty() => {
            if root.base() == Path::new(skh) {
                c.checked.push(format!(
                    "the product's resolver gives SPEC_KITTY_HOME verbatim ({skh})"
                ));
            } else {
                c.failed.push(format!(
                    "the product's resolver gives {} but SPEC_KITTY_HOME is {skh}",
                    root.base().display()
                ));
            }
            for seeded in home.seeded_dirs() {
                if seeded == root.auth_dir() {
                    c.checked.push(format!("seeded under {}", seeded.display()));
                } else {
                    c.failed.push(format!(
                        "seeded under {} but both implementations read {}",
                        seeded.display(),
                        root.auth_dir().display()
                    ));
                }
            }
        }
        (Ok(root), _) => c.not_checked.push(format!(
            "SPEC_KITTY_HOME is unset or empty: the product reads {}; the reference's own default \
             is not verified",
            root.base().display()
        )),
        (Err(e), _) => c.failed.push(format!("no runtime root: {e}")),
    }
    c
}

/// Reads a session store with the reference's own code (`FileFallbackStorage` and
/// `load_session_hot_path`), so a test can prove the reference reads what kitty wrote.
const READ_SESSION_PY: &str = r#"
import json, os, socket, sys
from pathlib import Path
auth_dir, host, uid = sys.argv[1], sys.argv[2], sys.argv[3]
if host:
    socket.gethostname = lambda: host
if uid == "none" and hasattr(os, "getuid"):
    del os.getuid
elif uid:
    os.getuid = lambda: int(uid)
from specify_cli.auth.secure_storage.file_fallback import FileFallbackStorage
from specify_cli.auth.session_hot_path import load_session_hot_path
session = FileFallbackStorage(base_dir=Path(auth_dir)).read()
doc = session.to_dict() if session is not None else None
if doc is not None:
    doc["access_token"] = "<redacted>"
    doc["refresh_token"] = "<redacted>"
    doc["refresh_token_expired"] = session.is_refresh_token_expired()
hot = load_session_hot_path(Path(auth_dir))
print(json.dumps({
    "session": doc,
    "hot_path": None if hot is None else {
        "authenticated": hot.is_authenticated(),
        "refresh_token_expires_at": hot.refresh_token_expires_at.isoformat() if hot.refresh_token_expires_at else None,
    },
}))
"#;

impl ReferenceCli {
    /// The session in `auth_dir` as the reference reads it, tokens redacted:
    /// `{"session": <StoredSession.to_dict()> | null, "hot_path": {"authenticated",
    /// "refresh_token_expires_at"} | null}`. `identity` overrides the host name and uid the
    /// reference keys the store with (`None` for the uid: a platform without `os.getuid`, as
    /// Windows). Panics with the reference's stderr when it cannot read the store.
    ///
    /// ```no_run
    /// let home = kitty_testkit::IsolatedHome::new();
    /// home.seed(&kitty_testkit::SessionSeed::with_private_team());
    /// let view = kitty_testkit::ReferenceCli::require().read_session(&home.runtime_root().auth_dir(), None);
    /// assert!(view["session"]["session_id"].is_string());
    /// ```
    #[track_caller]
    pub fn read_session(
        &self,
        auth_dir: &Path,
        identity: Option<(&str, Option<u32>)>,
    ) -> serde_json::Value {
        let python = self
            .path()
            .parent()
            .map(|b| b.join("python"))
            .unwrap_or_else(|| PathBuf::from("python3"));
        let (host, uid) = match identity {
            None => (String::new(), String::new()),
            Some((h, None)) => (h.to_string(), "none".to_string()),
            Some((h, Some(u))) => (h.to_string(), u.to_string()),
        };
        let out = std::process::Command::new(&python)
            .arg("-c")
            .arg(READ_SESSION_PY)
            .arg(auth_dir)
            .arg(host)
            .arg(uid)
            .env_remove("SPEC_KITTY_DISABLE_SESSION_HOT_PATH")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "the reference could not read the session store {}:\nstdout:\n{stdout}\nstderr:\n{}",
            auth_dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("the reference's session view is not JSON ({e}):\n{stdout}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::{IsolatedHome, SessionSeed};

    #[test]
    fn a_program_that_is_no_python_entry_script_is_handed_to_programs_as_it_is() {
        let home = IsolatedHome::new();
        let echo = super::ReferenceCli::at("/bin/echo");
        assert_eq!(
            echo.for_programs(&home),
            std::path::PathBuf::from("/bin/echo")
        );
        assert_eq!(
            echo.clone().direct().for_programs(&home),
            std::path::PathBuf::from("/bin/echo")
        );
    }

    #[test]
    fn the_canary_checks_the_root_and_every_seed_against_spec_kitty_home() {
        let home = IsolatedHome::new();
        let clean = home.reference_canary();
        assert!(clean.is_clean(), "{clean}");
        let skh = home.var("SPEC_KITTY_HOME").unwrap().to_string();
        assert_eq!(
            clean.checked,
            [format!(
                "the product's resolver gives SPEC_KITTY_HOME verbatim ({skh})"
            )]
        );
        assert_eq!(clean.not_checked.len(), 1);

        home.seed(&SessionSeed::shared_only());
        let seeded = home.reference_canary();
        assert!(seeded.is_clean());
        assert_eq!(seeded.checked[1], format!("seeded under {skh}/auth"));

        home.mis_seed_under_home(&SessionSeed::shared_only());
        let mis = home.reference_canary();
        assert!(!mis.is_clean());
        let wrong = home.home_dir().join(".spec-kitty/auth");
        assert_eq!(
            mis.failed,
            [format!(
                "seeded under {} but both implementations read {skh}/auth",
                wrong.display()
            )]
        );
        let shown = mis.to_string();
        assert!(
            shown.starts_with("checked: the product's resolver gives"),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("\nFAILED: seeded under {}", wrong.display())),
            "{shown}"
        );
        assert!(
            shown.contains("\nnot checked: where the reference itself reads"),
            "{shown}"
        );
        assert!(shown.ends_with('\n'));
    }

    #[test]
    fn without_spec_kitty_home_the_reference_default_is_not_checked() {
        for home in [
            IsolatedHome::builder().without_spec_kitty_home().build(),
            IsolatedHome::builder().empty_spec_kitty_home().build(),
        ] {
            let c = home.reference_canary();
            assert!(c.is_clean() && c.checked.is_empty(), "{c}");
            assert_eq!(c.not_checked.len(), 2);
            assert!(
                c.not_checked[1].starts_with("SPEC_KITTY_HOME is unset or empty"),
                "{c}"
            );
        }
        let rootless = IsolatedHome::builder()
            .without_spec_kitty_home()
            .without_home()
            .build();
        let c = rootless.reference_canary();
        assert!(!c.is_clean());
        assert!(c.failed[0].starts_with("no runtime root: "), "{c}");
    }
}

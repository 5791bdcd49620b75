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
}

impl ReferenceCli {
    /// An explicit executable.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
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
        if let Some(p) = std::env::var_os(REFERENCE_OVERRIDE_VAR).filter(|v| !v.is_empty()) {
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

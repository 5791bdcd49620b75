//! The per-mission status lock (**interop**: the reference's `spec-kitty-locks/<slug>.status.lock`
//! in the git common directory, an advisory `flock`), held while a command reads and appends.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ExecError;

/// How long a command waits for another one to finish with the mission's status.
pub const WAIT: Duration = Duration::from_secs(30);

/// The lock file of `slug` for the repository whose common git directory is `common`.
pub fn path(common: &Path, slug: &str) -> PathBuf {
    common
        .join("spec-kitty-locks")
        .join(format!("{slug}.status.lock"))
}

/// Hold the lock of `slug` (released when dropped), waiting up to [`WAIT`].
pub fn hold(common: &Path, slug: &str) -> Result<File, ExecError> {
    let path = path(common, slug);
    match crate::lock::exclusive_within(&path, WAIT) {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(ExecError::StatusLocked {
            slug: slug.into(),
            path,
        }),
        Err(e) => Err(crate::mission::MissionError::io(&path, e).into()),
    }
}

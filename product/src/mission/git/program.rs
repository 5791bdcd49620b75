//! Which `git` a spawn runs: the first executable `git` on the PATH the command hands git, found
//! once per PATH and named by its path, so std spawns it with `posix_spawn` (a vfork) instead of
//! forking the caller, which a bare name with a changed PATH would make it do.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// `git`'s path on `path` (a PATH value); the bare name `git` where a spawn could not name the
/// same file (no PATH, an empty or relative entry before the first match, or no match), so such
/// a spawn searches as before.
pub fn git_on(path: Option<&OsStr>) -> PathBuf {
    static FOUND: Mutex<Vec<(OsString, PathBuf)>> = Mutex::new(Vec::new());
    let Some(path) = path else {
        return PathBuf::from("git");
    };
    let mut found = FOUND
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, git)) = found.iter().find(|(p, _)| p == path) {
        return git.clone();
    }
    let git = search(path);
    found.push((path.to_os_string(), git.clone()));
    git
}

fn search(path: &OsStr) -> PathBuf {
    for dir in std::env::split_paths(path) {
        if !dir.is_absolute() {
            // The child's working directory would decide: leave the search to the spawn.
            break;
        }
        let candidate = dir.join("git");
        if is_executable(&candidate) {
            return candidate;
        }
    }
    PathBuf::from("git")
}

/// A regular file this user may run (on Unix: an exec bit is set). Also how kitty judges the
/// reference and plugins it finds on PATH.
pub(crate) fn is_executable(file: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(file) else {
        return false;
    };
    #[cfg(unix)]
    let runnable = {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    };
    #[cfg(not(unix))]
    let runnable = true;
    meta.is_file() && runnable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn exe(dir: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let git = dir.join("git");
        std::fs::write(&git, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&git, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_first_executable_git_on_the_path_is_named_and_anything_unsure_is_left_to_the_spawn() {
        let root = tempfile::tempdir().unwrap();
        let (plain, first, second) = (
            root.path().join("plain"),
            root.path().join("a"),
            root.path().join("b"),
        );
        exe(&plain, 0o644);
        exe(&first, 0o755);
        exe(&second, 0o755);
        let path = |dirs: &[&Path]| std::env::join_paths(dirs).unwrap();
        // A file without an exec bit is passed over, as execvp passes it over.
        assert_eq!(
            git_on(Some(&path(&[&plain, &first, &second]))),
            first.join("git")
        );
        assert_eq!(git_on(Some(&path(&[&second, &first]))), second.join("git"));
        // Nothing found, a relative entry first, no PATH: the bare name.
        assert_eq!(git_on(Some(&path(&[&plain]))), PathBuf::from("git"));
        assert_eq!(
            git_on(Some(&path(&[Path::new("rel"), &first]))),
            PathBuf::from("git")
        );
        assert_eq!(git_on(None), PathBuf::from("git"));
        // Found once per PATH: a git added later is not seen under the same PATH.
        let late = root.path().join("late");
        let late_path = path(&[&late, &first]);
        assert_eq!(git_on(Some(&late_path)), first.join("git"));
        exe(&late, 0o755);
        assert_eq!(git_on(Some(&late_path)), first.join("git"));
    }
}

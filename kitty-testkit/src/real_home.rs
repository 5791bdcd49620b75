//! Proof that nothing reached the real HOME: a cheap look at its top level (names, kinds and
//! modification times, from metadata only; no file is opened or read, nothing is walked).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The top level of a directory (by default the test process's real `HOME`) at one moment.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let guard = kitty_testkit::RealHomeGuard::of(dir.path());
/// guard.assert_unchanged();
/// std::fs::create_dir(dir.path().join(".spec-kitty")).unwrap();
/// assert_eq!(guard.changes(), vec![format!("appeared: {}", dir.path().join(".spec-kitty").display())]);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RealHomeGuard {
    dir: PathBuf,
    entries: BTreeMap<OsString, Option<SystemTime>>,
}

impl RealHomeGuard {
    /// The real `HOME` of the test process (not an isolated home's). `None` when HOME is unset.
    pub fn snapshot() -> Option<Self> {
        crate::process_env::non_empty_var("HOME").map(|h| Self::of(Path::new(&h)))
    }

    /// The top level of `dir` now.
    pub fn of(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            entries: top_level(dir),
        }
    }

    /// What appeared, disappeared or was modified at the top level since the snapshot.
    pub fn changes(&self) -> Vec<String> {
        let now = top_level(&self.dir);
        let mut out = Vec::new();
        for (name, mtime) in &now {
            match self.entries.get(name) {
                None => out.push(format!("appeared: {}", self.dir.join(name).display())),
                Some(before) if before != mtime => {
                    out.push(format!("modified: {}", self.dir.join(name).display()));
                }
                Some(_) => {}
            }
        }
        for name in self.entries.keys().filter(|n| !now.contains_key(*n)) {
            out.push(format!("disappeared: {}", self.dir.join(name).display()));
        }
        out
    }

    /// Panic, listing them, when anything changed at the top level.
    #[track_caller]
    pub fn assert_unchanged(&self) {
        let changes = self.changes();
        assert!(
            changes.is_empty(),
            "something reached {} outside any isolated home:\n  {}",
            self.dir.display(),
            changes.join("\n  ")
        );
    }
}

fn top_level(dir: &Path) -> BTreeMap<OsString, Option<SystemTime>> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let mtime = std::fs::symlink_metadata(e.path())
                        .and_then(|m| m.modified())
                        .ok();
                    (e.file_name(), mtime)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appearing_modified_and_disappearing_entries_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::write(home.join("stays"), "").unwrap();
        std::fs::write(home.join("goes"), "").unwrap();
        std::fs::create_dir(home.join("touched")).unwrap();
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options()
            .write(true)
            .open(home.join("stays"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let guard = RealHomeGuard::of(home);
        guard.assert_unchanged();
        std::fs::remove_file(home.join("goes")).unwrap();
        std::fs::write(home.join("touched/inner"), "").unwrap(); // changes the directory's mtime
        std::fs::write(home.join(".spec-kitty"), "").unwrap();
        // The directory's mtime may not move within the clock's resolution: force it.
        std::fs::File::open(home.join("touched"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let show = |kind: &str, name: &str| format!("{kind}: {}", home.join(name).display());
        let want = [
            show("appeared", ".spec-kitty"),
            show("modified", "touched"),
            show("disappeared", "goes"),
        ];
        assert_eq!(guard.changes(), want);
        let text = crate::expect_panic(|| guard.assert_unchanged());
        assert_eq!(
            text,
            format!(
                "something reached {} outside any isolated home:\n  {}",
                home.display(),
                want.join("\n  ")
            )
        );
        assert!(RealHomeGuard::of(&home.join("absent")).changes().is_empty());
    }

    #[test]
    fn the_default_guard_watches_the_test_process_home() {
        // Every test runner here sets HOME (scripts/test points it at an empty directory).
        let home = crate::process_env::non_empty_var("HOME").expect("HOME is set for the tests");
        let guard = RealHomeGuard::snapshot().expect("a guard of the real HOME");
        assert_eq!(guard.dir, PathBuf::from(home));
    }
}

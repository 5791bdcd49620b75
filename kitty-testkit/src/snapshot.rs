//! Snapshots of a directory tree, to prove that a failing command changed nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One entry of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory, with its permission bits.
    Dir {
        /// Permission bits (0 off Unix).
        mode: u32,
    },
    /// A file, with its permission bits and content.
    File {
        /// Permission bits (0 off Unix).
        mode: u32,
        /// Content.
        bytes: Vec<u8>,
    },
}

/// Every file and directory below a root (paths relative to it), with modes and contents.
///
/// ```
/// use kitty_testkit::DirSnapshot;
/// let dir = tempfile::tempdir().unwrap();
/// let before = DirSnapshot::of(dir.path());
/// std::fs::write(dir.path().join("new"), b"x").unwrap();
/// let after = DirSnapshot::of(dir.path());
/// assert_ne!(before, after);
/// assert_eq!(before.diff(&after), vec!["added: new".to_string()]);
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DirSnapshot {
    root: PathBuf,
    entries: BTreeMap<PathBuf, Entry>,
}

impl DirSnapshot {
    /// Snapshot `root` (an absent root gives an empty snapshot).
    pub fn of(root: &Path) -> Self {
        let mut entries = BTreeMap::new();
        walk(root, root, &mut entries);
        Self {
            root: root.to_path_buf(),
            entries,
        }
    }

    /// Snapshot `root`, leaving out any path for which `skip` returns true (relative path).
    pub fn of_filtered(root: &Path, skip: impl Fn(&Path) -> bool) -> Self {
        let mut snap = Self::of(root);
        snap.entries
            .retain(|p, _| !p.ancestors().any(|a| !a.as_os_str().is_empty() && skip(a)));
        snap
    }

    /// The relative paths in the snapshot.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.entries.keys().map(PathBuf::as_path)
    }

    /// Human-readable differences from `self` to `later`.
    pub fn diff(&self, later: &DirSnapshot) -> Vec<String> {
        let mut out = Vec::new();
        for (p, e) in &self.entries {
            match later.entries.get(p) {
                None => out.push(format!("removed: {}", p.display())),
                Some(l) if l != e => out.push(format!("changed: {}", p.display())),
                Some(_) => {}
            }
        }
        for p in later.entries.keys() {
            if !self.entries.contains_key(p) {
                out.push(format!("added: {}", p.display()));
            }
        }
        out
    }

    /// Panic, listing the differences, unless `later` equals `self`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let snap = kitty_testkit::DirSnapshot::of(dir.path());
    /// snap.assert_unchanged(&kitty_testkit::DirSnapshot::of(dir.path()));
    /// ```
    #[track_caller]
    pub fn assert_unchanged(&self, later: &DirSnapshot) {
        let diff = self.diff(later);
        assert!(
            diff.is_empty(),
            "expected {} to be unchanged, but:\n  {}",
            self.root.display(),
            diff.join("\n  ")
        );
    }
}

impl fmt::Debug for DirSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirSnapshot")
            .field("root", &self.root)
            .field("paths", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn mode_of(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        if meta.is_dir() {
            out.insert(
                rel,
                Entry::Dir {
                    mode: mode_of(&meta),
                },
            );
            walk(root, &path, out);
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            out.insert(
                rel,
                Entry::File {
                    mode: mode_of(&meta),
                    bytes,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_sees_additions_removals_content_and_mode_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("d")).unwrap();
        std::fs::write(root.join("d/keep"), "same").unwrap();
        std::fs::write(root.join("d/edit"), "v1").unwrap();
        std::fs::write(root.join("gone"), "x").unwrap();
        let before = DirSnapshot::of(root);
        assert_eq!(
            before
                .paths()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>(),
            ["d", "d/edit", "d/keep", "gone"]
        );
        before.assert_unchanged(&DirSnapshot::of(root));
        std::fs::write(root.join("d/edit"), "v2").unwrap();
        std::fs::remove_file(root.join("gone")).unwrap();
        std::fs::write(root.join("new"), "").unwrap();
        let after = DirSnapshot::of(root);
        assert_eq!(
            before.diff(&after),
            ["changed: d/edit", "removed: gone", "added: new"]
        );
        let text = crate::expect_panic(|| before.assert_unchanged(&after));
        assert_eq!(
            text,
            format!(
                "expected {} to be unchanged, but:\n  changed: d/edit\n  removed: gone\n  added: new",
                root.display()
            )
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.join("d/keep"), std::fs::Permissions::from_mode(0o600))
                .unwrap();
            std::fs::set_permissions(root.join("d"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
            let modes = DirSnapshot::of(root);
            assert_eq!(after.diff(&modes), ["changed: d", "changed: d/keep"]);
            assert_eq!(
                modes.entries[Path::new("d/keep")],
                Entry::File {
                    mode: 0o600,
                    bytes: b"same".to_vec()
                }
            );
        }
        assert_eq!(
            format!("{after:?}"),
            format!(
                "DirSnapshot {{ root: {:?}, paths: [\"d\", \"d/edit\", \"d/keep\", \"new\"] }}",
                root
            )
        );
        assert_eq!(DirSnapshot::of(&root.join("absent")).paths().count(), 0);
    }

    #[test]
    fn a_filtered_snapshot_leaves_out_whole_subtrees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("skip/deep")).unwrap();
        std::fs::write(root.join("skip/deep/f"), "").unwrap();
        std::fs::write(root.join("kept"), "").unwrap();
        let snap = DirSnapshot::of_filtered(root, |p| p == Path::new("skip"));
        assert_eq!(snap.paths().collect::<Vec<_>>(), [Path::new("kept")]);
    }
}

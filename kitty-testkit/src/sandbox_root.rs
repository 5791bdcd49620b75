//! Where sandboxes live: `KITTY_TESTKIT_TMPDIR`, else a memory file system when the machine has
//! one that can run programs (`/dev/shm` on Linux), else the system's temporary directory.
//!
//! A test home takes hundreds of small files (the reference alone writes ~600 agent files into
//! HOME on its first run) and git repositories, made and removed by every test. On a disk-backed
//! `/tmp` the file system's journal costs the suite tens of CPU-seconds; in memory it costs
//! almost nothing, and nothing a test checks depends on the sandbox's device.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Set this (to a directory) in the test process to put every sandbox there.
pub const TMPDIR_VAR: &str = "KITTY_TESTKIT_TMPDIR";

/// The directory new sandboxes are made in (decided once per process).
pub(crate) fn sandbox_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        if let Some(dir) = crate::process_env::non_empty_var(TMPDIR_VAR) {
            return PathBuf::from(dir);
        }
        memory_fs().unwrap_or_else(std::env::temp_dir)
    })
    .clone()
}

/// `/dev/shm` when it is a directory this process can write and run programs from (sandboxes
/// hold git hooks and plugin executables).
#[cfg(target_os = "linux")]
fn memory_fs() -> Option<PathBuf> {
    use rustix::fs::{StatVfsMountFlags, statvfs};
    let dir = PathBuf::from("/dev/shm");
    let flags = statvfs(&dir).ok()?.f_flag;
    let usable = !flags.intersects(StatVfsMountFlags::NOEXEC | StatVfsMountFlags::RDONLY)
        && rustix::fs::access(&dir, rustix::fs::Access::WRITE_OK).is_ok();
    usable.then_some(dir)
}

#[cfg(not(target_os = "linux"))]
fn memory_fs() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn sandboxes_go_to_one_directory_that_exists() {
        let root = super::sandbox_root();
        assert!(root.is_dir(), "{}", root.display());
        assert_eq!(super::sandbox_root(), root, "decided once");
    }
}

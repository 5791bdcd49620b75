//! Work packages (**interop**: the reference's `tasks.md`, `tasks/WPnn-*.md` files and their
//! frontmatter) and the commands over them.
//!
//! `frontmatter` (a WP file read and rewritten) with `yaml_out` (the writer's layout),
//! `sections` (`tasks.md`), `requirements` (spec ids, refs, the mapping gate), `ownership`
//! (inference and overlap), `finalize/` (`agent mission finalize-tasks`), `board`
//! (`agent tasks status`), `mapping/` (`agent tasks map-requirements`), `error`.

pub mod board;
pub mod error;
pub mod finalize;
pub mod frontmatter;
pub mod mapping;
pub mod ownership;
pub mod requirements;
pub mod sections;
pub mod yaml_out;

pub use error::{RequirementGaps, TasksError};

use std::path::{Path, PathBuf};

/// The work-package files of `tasks_dir` in directory order (the reference lists them
/// unsorted): `WP*.md` whose name is `WP` + two digits then `-`, `_`, `.` or the end.
pub fn wp_files(tasks_dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(tasks_dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with("WP") || !name.ends_with(".md") || !e.path().is_file() {
                return None;
            }
            let b = name.as_bytes();
            let id_ok = b.len() >= 4
                && b[2].is_ascii_digit()
                && b[3].is_ascii_digit()
                && matches!(b.get(4), None | Some(b'-' | b'_' | b'.'));
            id_ok.then(|| (name[..4].to_string(), e.path()))
        })
        .collect()
}

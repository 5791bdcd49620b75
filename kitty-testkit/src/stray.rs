//! Stray state: a session store, an outbox or a `.kitty.env` inside the sandbox that is not where
//! the binary reads. The seed note's bug, made by hand, shows up here: checked automatically after
//! every run, and by the drift canary.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What may legitimately exist in a sandbox besides what the product resolves.
#[derive(Debug, Default)]
pub(crate) struct Allowed {
    /// `.kitty.env` files the home wrote deliberately.
    pub(crate) env_files: Vec<PathBuf>,
    /// Stores the harness seeded itself (`seed`, and `mis_seed_under_home` for tests of the
    /// tests): when one is not where the binary reads (the root moved, or a deliberate mis-seed),
    /// the canary reports it with the seed's history; the per-run check leaves it to the canary.
    pub(crate) mis_seeds: Vec<PathBuf>,
}

/// Everything the per-run check needs, captured when a command is built.
#[derive(Debug, Clone)]
pub(crate) struct StrayCheck {
    pub(crate) sandbox: PathBuf,
    pub(crate) auth_dir: PathBuf,
    pub(crate) outbox_db: PathBuf,
    pub(crate) home_env_file: PathBuf,
    pub(crate) allowed: Arc<Mutex<Allowed>>,
}

/// One stray file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stray {
    pub(crate) path: PathBuf,
    pub(crate) what: &'static str,
    pub(crate) reads: PathBuf,
}

impl std::fmt::Display for Stray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "STRAY STATE: {} at {}, but spec-kitty reads {} in this home; seed through \
             IsolatedHome::seed / seed_queued_events / write_home_kitty_env / write_repo_kitty_env \
             (the product's resolver), never a hand-built path",
            self.what,
            self.path.display(),
            self.reads.display()
        )
    }
}

impl StrayCheck {
    /// Every stray file; `include_mis_seeds` also reports the harness's deliberate mis-seeds.
    pub(crate) fn scan(&self, include_mis_seeds: bool) -> Vec<Stray> {
        let allowed = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
        let mut found = Vec::new();
        walk(&self.sandbox, &mut |path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let parent = path.parent().unwrap_or(Path::new(""));
            let (what, reads, ok) = match name {
                "session.json" | "session.salt" => (
                    "a session store",
                    &self.auth_dir,
                    parent == self.auth_dir
                        || (!include_mis_seeds && allowed.mis_seeds.iter().any(|m| m == parent)),
                ),
                "outbox.sqlite3" => (
                    "an outbox database",
                    &self.outbox_db,
                    path == self.outbox_db,
                ),
                ".kitty.env" => (
                    "an operator env file",
                    &self.home_env_file,
                    allowed.env_files.iter().any(|e| e == path)
                        || path == self.home_env_file
                        || parent.file_name().is_some_and(|n| n == ".kittify"),
                ),
                _ => return,
            };
            if !ok {
                found.push(Stray {
                    path: path.to_path_buf(),
                    what,
                    reads: reads.clone(),
                });
            }
        });
        found
    }
}

/// Visit every file under `dir`, not descending into `.git` directories or symbolic links.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                walk(&path, visit);
            }
        } else if kind.is_file() {
            visit(&path);
        }
    }
}

//! Stray state: a file the product keeps under its root (a session store, an outbox, a lock, a
//! `.kitty.env`: the resolver's own list) inside the sandbox but not where the binary reads. The
//! seed note's bug, made by hand, shows up here: checked after every run of every kind, when the
//! home is dropped, and by the drift canary.

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

/// Everything the check needs, captured when a command is built: the sandbox, and every file the
/// product keeps under its root ([`RuntimeRoot::state_files`](spec_kitty::paths::RuntimeRoot::state_files),
/// the resolver's own list) where it belongs.
#[derive(Debug, Clone)]
pub(crate) struct StrayCheck {
    pub(crate) sandbox: PathBuf,
    pub(crate) files: Vec<spec_kitty::paths::StateFile>,
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
            let Some(name) = path.file_name() else { return };
            let parent = path.parent().unwrap_or(Path::new(""));
            let Some(home) = self.files.iter().find(|f| f.path.file_name() == Some(name)) else {
                return;
            };
            let ok = path == home.path
                || match name.to_str().unwrap_or_default() {
                    // A store the harness seeded elsewhere on purpose (a test of the tests) is
                    // the canary's to report, with its history.
                    n if n.starts_with("session.") => {
                        !include_mis_seeds && allowed.mis_seeds.iter().any(|m| m == parent)
                    }
                    // The repository tier and the files the home wrote deliberately.
                    spec_kitty::paths::KITTY_ENV_FILE => {
                        allowed.env_files.iter().any(|e| e == path)
                            || parent.file_name().is_some_and(|n| n == ".kittify")
                    }
                    _ => false,
                };
            if !ok {
                found.push(Stray {
                    path: path.to_path_buf(),
                    what: home.what,
                    reads: home.path.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
    }

    #[test]
    fn only_state_outside_where_the_binary_reads_is_stray() {
        let dir = tempfile::tempdir().unwrap();
        let sb = dir.path();
        let kh = sb.join("kitty-home");
        let check = StrayCheck {
            sandbox: sb.to_path_buf(),
            files: spec_kitty::paths::RuntimeRoot::at(&kh).state_files(),
            allowed: Arc::default(),
        };
        // Where the binary reads, and what the home wrote deliberately: never stray.
        for ok in [
            "kitty-home/auth/session.json",
            "kitty-home/auth/session.salt",
            "kitty-home/sync/outbox.sqlite3",
            "kitty-home/.kitty.env",
            "repo/.kittify/.kitty.env",
            "ops/deliberate.env/.kitty.env",
            "repo/.git/auth/session.json",
            "notes/session.txt",
        ] {
            touch(&sb.join(ok));
        }
        check
            .allowed
            .lock()
            .unwrap()
            .env_files
            .push(sb.join("ops/deliberate.env/.kitty.env"));
        // Symbolic links are not followed (the linked tree is checked where it really is).
        #[cfg(unix)]
        std::os::unix::fs::symlink(kh.join("auth"), sb.join("link")).unwrap();
        assert_eq!(check.scan(true), []);

        touch(&sb.join("home/.spec-kitty/auth/session.salt"));
        touch(&sb.join("elsewhere/outbox.sqlite3"));
        touch(&sb.join("home/.kitty.env"));
        // Any file on the resolver's list, not only the stores: a drain lock made by hand.
        touch(&sb.join("home/.spec-kitty/sync/drain.lock"));
        let mut found = check.scan(true);
        found.sort_by(|a, b| a.path.cmp(&b.path));
        let short: Vec<(String, &str, PathBuf)> = found
            .iter()
            .map(|s| {
                (
                    s.path.strip_prefix(sb).unwrap().display().to_string(),
                    s.what,
                    s.reads.clone(),
                )
            })
            .collect();
        assert_eq!(
            short,
            [
                (
                    "elsewhere/outbox.sqlite3".to_string(),
                    "an outbox database",
                    kh.join("sync/outbox.sqlite3")
                ),
                (
                    "home/.kitty.env".to_string(),
                    "an operator env file",
                    kh.join(".kitty.env")
                ),
                (
                    "home/.spec-kitty/auth/session.salt".to_string(),
                    "a session store",
                    kh.join("auth/session.salt")
                ),
                (
                    "home/.spec-kitty/sync/drain.lock".to_string(),
                    "a drain lock",
                    kh.join("sync/drain.lock")
                ),
            ]
        );
        // A deliberate mis-seed is left to the canary by the per-run check, and reported by it.
        check
            .allowed
            .lock()
            .unwrap()
            .mis_seeds
            .push(sb.join("home/.spec-kitty/auth"));
        assert_eq!(check.scan(false).len(), 3);
        assert_eq!(check.scan(true).len(), 4);
        let text = found[2].to_string();
        assert!(text.starts_with(&format!("STRAY STATE: a session store at {}, but spec-kitty reads {} in this home; seed through IsolatedHome::seed", found[2].path.display(), kh.join("auth/session.salt").display())), "{text}");
    }
}
